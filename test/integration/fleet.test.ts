// fleet doctor against real OpenSSH: three sshd servers in ebp-fleet-N namespaces, the CLI run from a
// client namespace; one server stopped shows as unreachable in its column while the others report.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {nativeAvailable} from '../../src/native.js'
import {startSshFleet, type SshFleet} from '../support/sshd.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')

describe('ebpfperf fleet doctor over OpenSSH (three sshd namespaces)', function () {
  this.timeout(300_000)
  let fleet: SshFleet | undefined
  before(function () {
    if (process.getuid?.() !== 0 || !existsSync('/usr/sbin/sshd') || !nativeAvailable().ok) {
      console.log('      skipped: needs root, openssh-server (scripts/setup.sh) and the native addon')
      this.skip()
    }
    fleet = startSshFleet(tempDir('fleet'))
  })
  after(() => fleet?.stop())

  const run = (args: string[]) => {
    const r = spawnSync('ip', ['netns', 'exec', fleet!.client, process.execPath, bin, 'fleet', 'doctor', '--inventory', fleet!.inventory, ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}, timeout: 280_000})
    return {code: r.status, stdout: r.stdout, stderr: r.stderr}
  }
  const leftovers = () => readdirSync('/tmp').filter((f) => f.startsWith('ebp-fleet.'))

  it('three hosts report; the matrix has a column per host; the bundle is gone after', () => {
    const r = run(['--profile', 'kernel-config', '--json'])
    const out = JSON.parse(r.stdout) as {hosts: {name: string; outcome: string}[]; matrix: {columns: {label: string; kernel?: string}[]; rows: unknown[]}}
    expect(out.hosts.map((h) => `${h.name}:${h.outcome}`), r.stderr).to.deep.equal(['node1:reported', 'node2:reported', 'node3:reported'])
    expect(out.matrix.columns.map((c) => c.label)).to.deep.equal(['node1', 'node2', 'node3'])
    expect(out.matrix.columns.every((c) => c.kernel)).to.equal(true)
    expect(out.matrix.rows.length).to.be.greaterThan(5)
    expect(leftovers()).to.deep.equal([])
  })

  it('a stopped sshd: that column says unreachable, the others still report, exit 1', () => {
    fleet!.stopServer(1)
    const r = run(['--profile', 'kernel-config'])
    expect(r.code).to.equal(1)
    expect(r.stdout).to.match(/node2\s+root@198\.18\.19\.10:22\s+unreachable: .*(refused|timed out|No route)/i)
    expect(r.stdout).to.match(/node1\s+\S+\s+reported/)
    expect(r.stdout).to.match(/node3\s+\S+\s+reported/)
    expect(r.stdout).to.match(/node2: not judged: unreachable/)
  })

  it('bad input: a missing inventory is one line, exit 2', () => {
    const r = spawnSync(process.execPath, [bin, 'fleet', 'doctor', '--inventory', '/no/such/hosts.ini'], {encoding: 'utf8'})
    expect(r.status).to.equal(2)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
  })
})
