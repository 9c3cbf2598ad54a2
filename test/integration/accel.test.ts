// `ebpfperf suite accelerator` on the real kernel, through the built CLI as a user runs it: a quick sweep
// end to end (the fast-path counters prove XDP and TC carried the traffic), generic XDP and clsact, a
// user object (one that forwards, one that does not), bad objects and flags, iperf3 missing, Ctrl-C.
// Every test checks that nothing is left behind: no ebp-acc-* namespace, no iperf3 of ours.
import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {release} from 'node:os'
import {join} from 'node:path'
import type {RunResult, CaseResult} from '../../src/results/store.js'
import type {RunSample} from '../../src/suites/accelerator/measure.js'
import {loadNative} from '../../src/native.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const fixture = (f: string) => join(root, 'test/fixtures/accelerator', f)
const isRoot = process.getuid?.() === 0

function cli(args: string[], opts: {env?: NodeJS.ProcessEnv} = {}) {
  const r = spawnSync(process.execPath, [bin, 'suite', 'accelerator', ...args], {env: {...process.env, NO_COLOR: '1', ...opts.env}, encoding: 'utf8', timeout: 240_000})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

const ourNamespaces = () => {
  const r = spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'})
  return r.stdout.split('\n').filter((l) => l.startsWith('ebp-acc-'))
}
// our iperf3 processes are the ones on the suite's port
const ourIperf3 = () => spawnSync('pgrep', ['-f', 'iperf3 .*-p 5301'], {encoding: 'utf8'}).stdout.trim()
const statsSysctl = () => readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8')

function expectNothingLeft() {
  expect(ourNamespaces(), 'ebp-acc namespaces left').to.deep.equal([])
  expect(ourIperf3(), 'iperf3 processes left').to.equal('')
}

function compile(src: string): string {
  const out = join(tempDir('acc-obj'), src.replace(/\.c$/, '.o'))
  const r = spawnSync('clang', ['-g', '-O2', '-Wall', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', fixture(src), '-o', out], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`clang: ${r.stderr}`)
  return out
}

const bitrateCases = (doc: RunResult, mode: string) => doc.cases.filter((c) => c.params.mode === mode && c.id.endsWith('/bitrate'))
const runsOf = (c: CaseResult) => (c.extra?.runs ?? []) as RunSample[]

describe('suite accelerator (built CLI, real kernel)', function () {
  this.timeout(300_000)
  let out: string

  before(function () {
    if (!isRoot) {
      console.log('      skipped: the accelerator suite needs root')
      this.skip()
    }
    if (spawnSync('iperf3', ['--version']).status !== 0) {
      console.log('      skipped: iperf3 is not installed')
      this.skip()
    }
    if (!existsSync(join(root, 'dist/commands/suite/accelerator.js'))) throw new Error('build the CLI first: npm run build:ts')
    if (ourNamespaces().length > 0) spawnSync(process.execPath, [bin, 'topology', 'down', 'acc'])
    out = tempDir('acc-results')
  })

  it('--quick: topology up, kernel/xdp/tc measured, the fast paths proven to carry the traffic, result file, nothing left', function () {
    const before = statsSysctl()
    const r = cli(['--quick', '--json', '--out', out])
    expect(r.code, r.stderr).to.equal(0)
    const doc = JSON.parse(r.stdout) as RunResult
    expect(doc).to.include({schema: 'ebpfperf/result/v1', suite: 'accelerator', complete: true})
    expect(doc.environment.kernel.release).to.equal(release())
    // the result file is the same document, with a CSV beside it
    const files = readdirSync(out).filter((f) => f.startsWith('accelerator-'))
    const json = files.find((f) => f.endsWith('.json'))!
    expect(files).to.include(json.replace(/\.json$/, '.csv'))
    expect(JSON.parse(readFileSync(join(out, json), 'utf8')).cases).to.have.length(doc.cases.length)
    const csv = readFileSync(join(out, json.replace(/\.json$/, '.csv')), 'utf8').trim().split('\n')
    expect(csv[0]).to.match(/^case,mode,configuration,protocol,rate,size,rep,warmup,latency_run,bits_per_second/)
    expect(csv).to.have.length(1 + 2 * 3 * 5) // 2 points × 3 modes × (1 warm-up + 3 + 1 latency run)

    for (const mode of ['kernel', 'xdp', 'tc']) {
      const cases = bitrateCases(doc, mode)
      expect(cases, mode).to.have.length(2)
      for (const c of cases) {
        expect(c.status, `${c.id}: ${c.reason}`).to.equal('ok')
        expect(c.samples).to.have.length(3)
        expect(c.stats!.mean).to.be.greaterThan(1e6)
        const runs = runsOf(c).filter((x) => !x.warmup)
        expect(runs.filter((r) => r.latency), 'one latency run (--quick)').to.have.length(1)
        expect(doc.cases.find((x) => x.id === c.id.replace(/\/bitrate$/, '/rtt_p99'))?.samples).to.have.length(1)
        for (const run of runs) {
          expect(run.cpu.harnessPercent, "ebpfperf's own CPU during the run").to.be.greaterThan(0).and.lessThan(200)
          // the probe runs beside the load in the latency run only
          if (run.latency) expect(run.rtt.samples, 'latency probe replies').to.be.greaterThan(0)
          else expect(run.rtt.samples, 'no probe beside the throughput runs').to.equal(0)
          if (mode === 'kernel') {
            // the baseline: the DUT's kernel forwarded every packet
            expect(run.kernelForwarded).to.be.greaterThan(run.packetsEstimated ? 0 : run.packetsReceived * 0.99)
          } else {
            // the fast path's own counters: it redirected the data, the kernel forwarded next to nothing
            expect(run.verdicts!.forwarded).to.be.greaterThan(0)
            expect(run.fastPath).to.deep.include({from: 'verdict counters'})
            expect(run.fastPath!.share).to.be.at.least(0.99)
            expect(run.kernelForwarded).to.be.lessThan(run.verdicts!.forwarded * 0.01 + 5)
            if (!run.packetsEstimated) expect(run.verdicts!.forwarded).to.be.at.least(run.packetsReceived)
            if (run.latency) {
              // bpf_stats on only here: the program's own ns per packet
              expect(run.bpfStats, 'bpf_stats in the latency run').to.equal(true)
              expect(run.prog!.runCnt).to.be.at.least(run.verdicts!.forwarded)
              expect(run.prog!.nsPerPacket).to.be.greaterThan(0)
            } else {
              expect(run.bpfStats, 'no bpf_stats in a throughput run').to.equal(undefined)
              expect(run.prog).to.equal(undefined)
            }
          }
        }
        if (mode !== 'kernel') expect((c.extra!.vsKernel as {text: string}).text).to.match(/no significant difference|%/)
      }
    }
    expect(doc.cases.find((c) => c.id === 'xdp/udp/500M/1460B/prog')?.samples).to.have.length(1) // the latency run's
    // the packet tests ran first: 64 B frames through every path, each round proven
    for (const mode of ['generator', 'kernel', 'xdp', 'tc']) {
      const c = doc.cases.find((x) => x.id === `frames/${mode}/64B/throughput`)!
      expect(c.status, `${mode}: ${c.reason}`).to.equal('ok')
      expect(c.samples).to.have.length(5)
      for (const s of (c.extra!.searches as {proof: {generatorCounted: boolean; from: string}}[])) {
        expect(s.proof.generatorCounted).to.equal(true)
        expect(s.proof.from).to.equal(mode === 'generator' ? 'none' : mode === 'kernel' ? 'kernel forwarding' : 'fast path verdicts')
      }
    }
    const xdp = doc.cases.find((x) => x.id === 'frames/xdp/64B/throughput')!
    expect((xdp.extra!.vsKernel as {ratio: number}).ratio, 'XDP forwards more frames than the kernel').to.be.greaterThan(1.2)
    expect(doc.cases.find((x) => x.id === 'frames/kernel/64B/latency_p99')?.samples).to.have.length(1)
    expect(files.some((f) => f.endsWith('-frames.csv'))).to.equal(true)
    expect(r.stderr).to.match(/UDP 1460 B @ 500M/) // the progress, on stderr
    expect(statsSysctl(), 'bpf_stats sysctl untouched').to.equal(before)
    expectNothingLeft()
  })

  it('generic XDP and tc on clsact carry the traffic too; the table names them', function () {
    const r = cli(['--load', 'iperf3', '--xdp-mode', 'generic', '--tc-attach', 'clsact', '--protocols', 'udp', '--rates', '200M', '--repeat', '1', '--time', '1', '--out', out])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/xdp \(generic\)/)
    expect(r.stdout).to.match(/tc \(clsact\)/)
    expect(r.stdout).to.match(/Impact vs baseline/)
    const doc = JSON.parse(readFileSync(/result: (\S+\.json)/.exec(r.stdout)![1], 'utf8')) as RunResult
    for (const mode of ['xdp', 'tc']) {
      const [c] = bitrateCases(doc, mode)
      expect(c.status, c.reason).to.equal('ok')
      expect(runsOf(c)).to.not.be.empty
      expect(runsOf(c).every((x) => x.verdicts!.forwarded > 0 && x.fastPath!.share! >= 0.99)).to.equal(true)
    }
    expectNothingLeft()
  })

  it('--object: the user\'s XDP forwarder (no counters map) is proven by the kernel\'s counters against its runs', function () {
    const obj = compile('user_xdp_fwd.bpf.c')
    const r = cli(['--load', 'iperf3', '--object', obj, '--protocols', 'udp', '--rates', '200M', '--repeat', '2', '--time', '1', '--json', '--out', out])
    expect(r.code, r.stderr).to.equal(0)
    const doc = JSON.parse(r.stdout) as RunResult
    expect(doc.cases.filter((c) => c.id.endsWith('/bitrate')).map((c) => c.params.mode)).to.deep.equal(['kernel', 'object'])
    const [c] = bitrateCases(doc, 'object')
    expect(c.status, c.reason).to.equal('ok')
    expect(c.params).to.include({object: 'user_xdp_fwd.bpf.o:user_fwd', hook: 'xdp', xdpMode: 'native'})
    for (const run of runsOf(c)) {
      expect(run.bpfStats, 'no verdict counters: bpf_stats in every run, run_cnt the proof').to.equal(true)
      expect(run.fastPath).to.deep.include({from: 'kernel forwarding vs program runs'})
      expect(run.prog!.runCnt).to.be.greaterThan(run.packetsReceived * 0.99)
      expect(run.fastPath!.share).to.be.at.least(0.99)
    }
    expectNothingLeft()
  })

  it('--object with a TC program and an accel_stats map: attached on tc, its verdict counters read', function () {
    const r = cli(['--load', 'iperf3', '--object', join(root, 'bpf/.output/accel.bpf.o'), '--program', 'tc_fwd', '--protocols', 'tcp', '--rates', '300M', '--repeat', '1', '--time', '1', '--json', '--out', out])
    expect(r.code, r.stderr).to.equal(0)
    const [c] = bitrateCases(JSON.parse(r.stdout) as RunResult, 'object')
    expect(c.status, c.reason).to.equal('ok')
    expect(c.params).to.include({object: 'accel.bpf.o:tc_fwd', hook: 'tc'})
    for (const run of runsOf(c)) {
      expect(run.fastPath).to.deep.include({from: 'verdict counters'})
      expect(run.verdicts!.forwarded).to.be.greaterThan(0)
    }
    expectNothingLeft()
  })

  it('--object that only passes packets to the stack: its case FAILS (exit 1) instead of measuring the kernel path', function () {
    const r = cli(['--load', 'iperf3', '--object', join(root, 'bpf/.output/baseline.bpf.o'), '--program', 'xdp_baseline', '--protocols', 'udp', '--rates', '100M', '--repeat', '1', '--time', '1', '--json', '--out', out])
    expect(r.code, r.stderr).to.equal(1)
    const doc = JSON.parse(r.stdout) as RunResult
    const [c] = bitrateCases(doc, 'object')
    expect(c.status).to.equal('failed')
    expect(c.reason).to.match(/carried only \d+\.\d% of the data packets/)
    expect(bitrateCases(doc, 'kernel')[0].status).to.equal('ok')
    expectNothingLeft()
  })

  it('bad objects and flags: one line, exit 2, nothing created', function () {
    const cases: [string[], RegExp][] = [
      [['--object', '/etc/passwd'], /^ebpfperf: --object \/etc\/passwd: not a BPF ELF object \(.*\); build one with clang/],
      [['--object', '/nonexistent/x.o'], /^ebpfperf: --object \/nonexistent\/x\.o: no such file/],
      [['--object', join(root, 'bpf/.output/baseline.bpf.o'), '--program', 'nope'], /no program named nope \(programs: xdp_baseline \(xdp\), tc_baseline \(sched_cls\), raw_tp_baseline \(raw_tracepoint\)\)/],
      [['--object', join(root, 'bpf/.output/baseline.bpf.o'), '--program', 'raw_tp_baseline'], /program raw_tp_baseline is BPF_PROG_TYPE_RAW_TRACEPOINT; the accelerator attaches XDP/],
      [['--object', join(root, 'bpf/.output/baseline.bpf.o'), '--program', 'xdp_baseline', '--hook', 'tc'], /program xdp_baseline is BPF_PROG_TYPE_XDP, but --hook tc needs BPF_PROG_TYPE_SCHED_CLS/],
      [['--sizes', '1600'], /^ebpfperf: --sizes: 1600 is out of range for UDP .*MTU is 1500/],
      [['--rates', '100M,lots'], /^ebpfperf: --rates: "lots" is not a rate/],
    ]
    for (const [args, msg] of cases) {
      const r = cli(['--quick', '--out', out, ...args])
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2)
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('ebpfperf:'))
      expect(lines, r.stderr).to.have.length(1)
      expect(lines[0]).to.match(msg)
      expect(r.stdout).to.equal('')
    }
    expectNothingLeft()
  })

  it('an object the verifier rejects: exit 2 with the verifier\'s last lines', function () {
    const obj = compile('verifier_reject.bpf.c')
    const r = cli(['--quick', '--out', out, '--object', obj])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.match(/ebpfperf: --object .*verifier_reject\.bpf\.o: the verifier rejected unchecked \(EACCES\); the log ends with:/)
    expect(r.stderr).to.match(/invalid access to packet/)
    expectNothingLeft()
  })

  it('iperf3 missing: exit 2 with the fix', function () {
    const r = spawnSync(process.execPath, [bin, 'suite', 'accelerator', '--quick'], {env: {...process.env, PATH: '/nonexistent'}, encoding: 'utf8'})
    expect(r.status).to.equal(2)
    expect(r.stderr).to.match(/^ebpfperf: iperf3 is not installed .*apt-get install iperf3/m)
    expectNothingLeft()
  })

  it('Ctrl-C mid-sweep: exit 130, traffic stopped, topology gone, the samples so far kept, marked incomplete', async function () {
    const dir = tempDir('acc-int')
    const child = spawn(process.execPath, [bin, 'suite', 'accelerator', '--quick', '--load', 'iperf3', '--out', dir], {env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
        // a counted kernel run is done once the first measured xdp run starts
        if (/rep 1\/3 · xdp/.test(stderr) && !child.killed) child.kill('SIGINT')
      })
      child.on('exit', (c) => resolve(c))
    })
    expect(code, stderr).to.equal(130)
    expect(stderr).to.match(/ebpfperf: interrupted by SIGINT \(the sweep stopped after \d+ of 30 runs\)/)
    expect(stderr).to.match(/samples taken so far are in .* \(marked incomplete\)/)
    const [json] = readdirSync(dir).filter((f) => f.endsWith('.json'))
    const doc = JSON.parse(readFileSync(join(dir, json), 'utf8')) as RunResult
    expect(doc.complete).to.equal(false)
    const kernel = doc.cases.find((c) => c.id === 'kernel/tcp/max/default/bitrate')!
    expect(kernel.samples.length).to.be.at.least(1)
    expectNothingLeft()
  })

  it('native: attaching in a namespace that does not exist is an error with errno', function () {
    const n = loadNative()
    expect(() => n.netnsIfindex('ebp-acc-nonexistent', 'lo')).to.throw(/opening network namespace \/run\/netns\/ebp-acc-nonexistent/).with.property('code', 'ENOENT')
    expect(() => n.netnsIfindex(null, 'ebp-nope0')).to.throw(/no interface ebp-nope0/).with.property('code', 'ENODEV')
    expect(() => n.netnsIfindex('../etc', 'lo')).to.throw(TypeError)
  })
})
