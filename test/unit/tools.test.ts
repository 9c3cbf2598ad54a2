// Tool versions from dpkg's database (fixture trees), without starting the tools.
import {expect} from 'chai'
import {mkdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'

import {join} from 'node:path'
import {dpkgVersion, upstreamVersion} from '../../src/kernel/tools.js'
import {tempDir} from '../support/tmp.js'

describe('tools: versions from dpkg', () => {
  const dir = tempDir('dpkg')
  const db = join(dir, 'dpkg')
  const bin = join(dir, 'bin')
  after(() => rmSync(dir, {recursive: true, force: true}))
  before(() => {
    mkdirSync(join(db, 'info'), {recursive: true})
    mkdirSync(join(dir, 'llvm/bin'), {recursive: true})
    mkdirSync(bin)
    writeFileSync(join(dir, 'llvm/bin/clang'), '')
    symlinkSync(join(dir, 'llvm/bin/clang'), join(bin, 'clang'))
    writeFileSync(join(bin, 'iperf3'), '')
    writeFileSync(join(bin, 'gone'), '')
    const stanza = (pkg: string, version: string, status = 'install ok installed') => `Package: ${pkg}\nStatus: ${status}\nArchitecture: amd64\nVersion: ${version}\n`
    writeFileSync(join(db, 'status'), [stanza('clang', '1:14.0-55.7~deb12u1'), stanza('clang-14', '1:14.0.6-12'), stanza('iperf3', '3.12-1+deb12u2'), stanza('gone', '1.0-1', 'deinstall ok config-files')].join('\n'))
    writeFileSync(join(db, 'info/clang.list'), `/.\n${join(bin, 'clang')}\n`)
    writeFileSync(join(db, 'info/clang-14.list'), `/.\n${join(dir, 'llvm/bin/clang')}\n`)
    writeFileSync(join(db, 'info/iperf3:amd64.list'), `${join(bin, 'iperf3')}\n`)
    writeFileSync(join(db, 'info/gone.list'), `${join(bin, 'gone')}\n`)
  })

  it('the package that owns the file itself wins over the one owning the symlink on PATH', () => {
    expect(dpkgVersion('clang', join(bin, 'clang'), db)).to.deep.equal({package: 'clang-14', version: '14.0.6'})
  })

  it('multi-arch list names, epochs and Debian revisions', () => {
    expect(dpkgVersion('iperf3', join(bin, 'iperf3'), db)).to.deep.equal({package: 'iperf3', version: '3.12'})
    expect(upstreamVersion('3:20221126-1+deb12u1')).to.equal('20221126')
    expect(upstreamVersion('1.0')).to.equal('1.0')
  })

  it('nothing for a file no installed package owns, or without a dpkg database', () => {
    expect(dpkgVersion('gone', join(bin, 'gone'), db)).to.equal(undefined) // removed, config files left
    expect(dpkgVersion('iperf3', join(bin, 'clang'), db)).to.equal(undefined)
    expect(dpkgVersion('iperf3', join(bin, 'iperf3'), join(dir, 'no-dpkg'))).to.equal(undefined)
  })
})
