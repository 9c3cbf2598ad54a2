import {expect} from 'chai'
import {existsSync, writeFileSync, mkdirSync} from 'node:fs'

import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {Kconfig, KconfigError, discoverKconfig, kconfigCandidates, unknownOption} from '../../src/kernel/kconfig.js'
import {tempDir} from '../support/tmp.js'

const fx = (f: string) => new URL(`../fixtures/kconfig/${f}`, import.meta.url).pathname

describe('kconfig parser', () => {
  for (const file of ['config-6.1-sample', 'config-6.1-sample.gz']) {
    describe(file, () => {
      const k = Kconfig.fromFile(fx(file))
      it('reads =y with its line number', () => {
        expect(k.get('BPF_SYSCALL')).to.deep.equal({name: 'BPF_SYSCALL', state: 'y', value: 'y', line: 8})
      })
      it('reads =m', () => expect(k.get('CONFIG_VETH').state).to.equal('m'))
      it('tells "is not set" from absent', () => {
        expect(k.get('BPF_LSM').state).to.equal('not-set')
        expect(k.get('KPROBES_ON_FTRACE').state).to.equal('absent')
      })
      it('keeps string values', () => {
        const lsm = k.get('LSM')
        expect(lsm.state).to.equal('value')
        expect(lsm.value).to.match(/^"landlock,.*tomoyo"$/)
      })
      it('reads the kernel version from the header', () => expect(k.kernelVersion).to.equal('6.1.0'))
    })
  }

  it('the gzip and plain copies agree option for option', () => {
    expect(Kconfig.fromFile(fx('config-6.1-sample.gz')).entriesSorted()).to.deep.equal(Kconfig.fromFile(fx('config-6.1-sample')).entriesSorted())
  })

  it('parses the running kernel\'s /proc/config.gz when present', function () {
    let k: Kconfig
    try {
      k = Kconfig.fromFile('/proc/config.gz')
    } catch (error) {
      console.log(`      skipped: /proc/config.gz unreadable here (${(error as Error).message})`)
      this.skip()
    }
    expect(k!.size).to.be.greaterThan(1000)
    expect(k!.get('BPF').state).to.equal('y')
  })

  const bad: [string, string | Buffer, RegExp][] = [
    ['truncated gzip', 'truncated.config.gz', /corrupt or truncated gzip/],
    ['a text file that is not a config', 'not-a-config.txt', /not a kernel config: line 1/],
    ['an empty file', Buffer.alloc(0), /no CONFIG_ lines/],
    ['binary data', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), /binary data/],
    ['gzip of garbage', gzipSync(Buffer.from('MZ\u0000\u0001 binary')), /binary data|not a kernel config/],
  ]
  for (const [what, input, re] of bad) {
    it(`rejects ${what} with one line naming the file`, () => {
      const path = typeof input === 'string' ? fx(input) : join(tempDir('kc'), 'cfg')
      if (typeof input !== 'string') writeFileSync(path, input)
      expect(() => Kconfig.fromFile(path)).to.throw(KconfigError, re).with.property('message').that.satisfies((m: string) => m.startsWith(path) && !m.includes('\n'))
    })
  }

  it('rejects a directory and a missing path', () => {
    const dir = tempDir('kc')
    expect(() => Kconfig.fromFile(dir)).to.throw(KconfigError, /is a directory/)
    expect(() => Kconfig.fromFile(join(dir, 'nope'))).to.throw(KconfigError, /no such file/)
  })

  it('an unreadable file (as a non-root reader would see it) is a clear error', () => {
    const dir = tempDir('kc')
    mkdirSync(join(dir, 'sub'))
    // reading a path *through* a file is ENOTDIR, the same class of error as EACCES for us
    writeFileSync(join(dir, 'f'), 'x')
    expect(() => Kconfig.fromFile(join(dir, 'f', 'config'))).to.throw(KconfigError, /not a directory/)
  })
})

describe('kconfig discovery', () => {
  it('tries the documented order for the running kernel', () => {
    expect(kconfigCandidates('6.9.0').map((c) => c.path)).to.deep.equal([
      '/proc/config.gz',
      '/boot/config-6.9.0',
      '/lib/modules/6.9.0/config',
      '/usr/lib/modules/6.9.0/config',
      '/boot/config',
    ])
  })
  it('--kconfig wins over EBPFPERF_KCONFIG, which wins over the defaults', () => {
    expect(discoverKconfig('x', '/a', '/b')).to.include({path: '/a', via: '--kconfig'})
    expect(discoverKconfig('x', undefined, '/b')).to.include({path: '/b', via: 'EBPFPERF_KCONFIG'})
  })
  it('records every path it tried and finds nothing for an unknown release without /proc/config.gz', function () {
    const d = discoverKconfig('0.0.0-no-such-release')
    if (d.tried[0].result === 'found') {
      console.log('      skipped: /proc/config.gz exists here, so the search stops at it')
      this.skip()
    }
    expect(d.path).to.equal(undefined)
    expect(d.tried.map((t) => [t.path, t.result])).to.deep.equal(kconfigCandidates('0.0.0-no-such-release').map((c) => [c.path, 'not found']))
  })
  it('stops at /proc/config.gz when the running kernel exposes it', function () {
    if (!existsSync('/proc/config.gz')) this.skip()
    expect(discoverKconfig('0.0.0-no-such-release')).to.deep.include({path: '/proc/config.gz', via: 'running kernel', tried: [{path: '/proc/config.gz', via: 'running kernel', result: 'found'}]})
  })
  it('without a config every option is unknown, never "not set"', () => {
    expect(unknownOption('CONFIG_KPROBES')).to.deep.equal({name: 'KPROBES', state: 'unknown'})
  })
})
