// The verifier's reason reaches the user: a program it refuses after a long log (tens of KiB) shows the
// log's real last lines ("infinite loop detected at insn N") in the addon's error, in suite micro's failed
// test, and in the exit-2 refusals of suite tracing and suite accelerator (before anything is measured).
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {BpfObject, nativeAvailable, type NativeError} from '../../src/native.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const source = join(root, 'test/fixtures/verifier/infinite_loop.bpf.c')
const REASON = /infinite loop detected at insn \d+/

function cli(args: string[]) {
  const t0 = Date.now()
  const r = spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}, timeout: 120_000})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0}
}

const tracefsMounted = () => readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[2] === 'tracefs')
const ourNamespaces = () => spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'}).stdout.split('\n').filter((l) => l.startsWith('ebp-'))

describe('the verifier\'s reason, whole (real kernel)', function () {
  this.timeout(120_000)
  let dir: string
  let object: string
  before(function () {
    if (process.getuid?.() !== 0 || !nativeAvailable().ok) {
      console.log('      skipped: needs root and the native addon (npm run build)')
      this.skip()
    }
    dir = tempDir('verifier-log')
    object = join(dir, 'infinite_loop.bpf.o')
    const r = spawnSync('clang', ['-g', '-O2', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', source, '-o', object], {encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`clang: ${r.stderr}`)
  })

  it('the addon: the log is longer than a few KiB and its last lines hold the reason', () => {
    const obj = BpfObject.open(object).only(['infinite_loop_xdp'])
    let err: NativeError | undefined
    try {
      obj.load()
    } catch (error) {
      err = error as NativeError
    } finally {
      obj.close()
    }
    expect(err, 'the verifier accepted an infinite loop').to.not.equal(undefined)
    expect(err!.verifierLog).to.match(REASON)
    const own = err!.verifierLog!.split('\n').filter((l) => l.trim() && !/^(libbpf:|-- )/.test(l))
    expect(own.slice(-6).join('\n'), 'among the lines the suites show').to.match(REASON)
  })

  it('suite micro: the failed test shows the reason', () => {
    writeFileSync(
      join(dir, 'loop.suite.yml'),
      `schema: ebpfperf/micro-suite/v1\nname: loop\ndefaults: {samples: 2, target_ms: 2, input: {packet: ipv4-udp, size: 64}}\ntests:\n  - {name: loop, object: infinite_loop.bpf.o, program: infinite_loop_xdp, type: xdp, expect: 2}\n`,
    )
    const r = cli(['suite', 'micro', '--suite', join(dir, 'loop.suite.yml'), '--out', join(dir, 'micro')])
    expect(r.code, r.stderr).to.equal(1)
    expect(r.stdout + r.stderr).to.match(REASON)
  })

  it('suite tracing: refused at once (exit 2) with the reason; tracefs and bpf_stats as they were', () => {
    const mounted = tracefsMounted()
    const stats = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8')
    const r = cli(['suite', 'tracing', '--quick', '--object', object, '--program', 'infinite_loop_tp', '--body', 'none', '--out', join(dir, 'tracing')])
    expect(r.code, r.stderr).to.equal(2)
    expect(r.stderr).to.match(/^ebpfperf: --object .*infinite_loop\.bpf\.o: the verifier rejected infinite_loop_tp \(\w+\); the log ends with:\n/)
    expect(r.stderr).to.match(REASON)
    expect(r.ms, 'refused before measuring').to.be.lessThan(20_000)
    expect(tracefsMounted()).to.equal(mounted)
    expect(readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8')).to.equal(stats)
    expect(existsSync(join(dir, 'tracing')) ? readdirSync(join(dir, 'tracing')) : []).to.deep.equal([])
  })

  it('suite accelerator: refused at once (exit 2) with the reason, no namespace made', () => {
    const before = ourNamespaces()
    const r = cli(['suite', 'accelerator', '--quick', '--object', object, '--program', 'infinite_loop_xdp', '--out', join(dir, 'acc')])
    expect(r.code, r.stderr).to.equal(2)
    expect(r.stderr).to.match(REASON)
    expect(ourNamespaces()).to.deep.equal(before)
  })
})
