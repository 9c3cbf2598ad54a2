// The micro suite without a kernel: suite files (good and bad), selection, the judge of test-run reports,
// every-event accounting, percentiles, the CSV columns, the input packet. Suite checks read the built
// BPF objects' programs and maps through the fake addon (test/fakes/native.ts, recorded from libbpf), so
// they need `make -C bpf` (the files must exist) but neither the addon nor root.
import {expect} from 'chai'
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'

import {join} from 'node:path'
import yaml from 'js-yaml'
import {_useNative, type BufferRunReport, type TestRunReport, type TestRunSample} from '../../src/native.js'
import {defaultSuiteFile, loadSuite, onlineCpus, parseCpuList, splitError, type RunTest} from '../../src/suites/micro/spec.js'
import {judge, mergeReports, sampleNsPerRun} from '../../src/suites/micro/runner.js'
import {accounting, histogramPercentiles, mergeBuckets, perfPagesFor, sampleOf} from '../../src/suites/micro/buffers.js'
import {durationsCsv, formatNs, verifierTail} from '../../src/suites/micro/report.js'
import {ipv4UdpPacket} from '../../src/suites/micro/packet.js'
import {measuredCase} from '../../src/suites/common.js'
import {BadInputError} from '../../src/util/errors.js'
import {tempDir} from '../support/tmp.js'
import {FakeNative} from '../fakes/native.js'

const root = new URL('../..', import.meta.url).pathname
const fixtures = join(root, 'test/fixtures/micro')
const ONLINE = [0, 1]

function needObjects(ctx: Mocha.Context) {
  if (!existsSync(join(root, 'bpf/.output/micro_baseline.bpf.o'))) {
    console.log('      skipped: needs the built BPF objects (make -C bpf)')
    ctx.skip()
  }
}

function badInput(file: string): string {
  try {
    loadSuite(join(fixtures, file), {}, ONLINE)
  } catch (error) {
    expect(error).to.be.instanceOf(BadInputError)
    expect((error as BadInputError).exitCode).to.equal(2)
    const msg = (error as Error).message
    expect(msg.split('\n')).to.have.length(1)
    return msg
  }
  throw new Error(`${file} was accepted`)
}

describe('micro: suite files', function () {
  before(() => _useNative(new FakeNative()))
  after(() => _useNative(undefined))
  beforeEach(function () {
    needObjects(this)
  })

  it('the shipped suite loads; --quick keeps the quick tests with 3 samples; trace_printk is off by default', () => {
    const full = loadSuite(defaultSuiteFile(), {}, ONLINE)
    const names = full.tests.map((t) => t.name)
    expect(names).to.include.members(['baseline', 'tail_call_one', 'tail_call_chain8', 'hash_256k_delins', 'lpm_64k_read', 'hash_of_maps_lookup', 'helper_xdp_adjust_head', 'ringbuf_reserve_64b_all', 'perfbuf_output_64b_one'])
    expect(names).to.not.include('helper_trace_printk')
    expect(full.notSelected).to.equal(1)
    const quick = loadSuite(defaultSuiteFile(), {quick: true}, ONLINE)
    expect(quick.tests.length).to.be.lessThan(full.tests.length)
    expect(quick.tests).to.not.be.empty
    expect(quick.tests.every((t) => t.quick && t.samples === 3)).to.equal(true)
    const printk = loadSuite(defaultSuiteFile(), {tests: ['helper_trace_printk']}, ONLINE)
    expect(printk.tests.map((t) => t.name)).to.deep.equal(['helper_trace_printk'])
    // a pattern does not pull in a test that is off by default
    expect(loadSuite(defaultSuiteFile(), {tests: ['helper_*']}, ONLINE).tests.map((t) => t.name)).to.not.include('helper_trace_printk')
  })

  it('reload is on unless the suite (defaults.reload) or the test says otherwise', () => {
    // the shipped suite: every test but the two-instruction baseline
    const shipped = loadSuite(defaultSuiteFile(), {}, ONLINE).tests.filter((t) => t.kind === 'run') as RunTest[]
    expect(shipped.filter((t) => !t.reload).map((t) => t.name)).to.deep.equal(['baseline'])
    const dir = tempDir('micro')
    try {
      const file = join(dir, 'r.suite.yml')
      const base = {schema: 'ebpfperf/micro-suite/v1', name: 'r', defaults: {reload: false, input: {packet: 'ipv4-udp', size: 64}}}
      const t = {object: 'micro_baseline.bpf.o', program: 'micro_baseline', type: 'xdp', expect: 0}
      writeFileSync(file, yaml.dump({...base, tests: [{name: 'a', ...t}, {name: 'b', ...t, reload: true}]}))
      expect(loadSuite(file, {}, ONLINE).tests.map((x) => (x as RunTest).reload)).to.deep.equal([false, true])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('baseline is two instructions` worth of C: return 0 from an XDP program, expected 0', () => {
    const s = loadSuite(defaultSuiteFile(), {tests: ['baseline']}, ONLINE)
    const t = s.tests[0] as RunTest
    expect(t).to.include({program: 'micro_baseline', type: 'xdp', expect: 0, opsPerRun: 1, mode: 'repeat'})
    expect(t.data?.length).to.equal(64)
    expect(s.baseline).to.equal('baseline')
  })

  it('ops_per_run in the shipped suite matches MICRO_OPS / MICRO_CHAIN in bpf/micro.shared.h', () => {
    const header = readFileSync(join(root, 'bpf/micro.shared.h'), 'utf8')
    const ops = Number(/#define MICRO_OPS (\d+)/.exec(header)?.[1])
    const chain = Number(/#define MICRO_CHAIN (\d+)/.exec(header)?.[1])
    const doc = yaml.load(readFileSync(defaultSuiteFile(), 'utf8')) as {tests: {name: string; object: string; ops_per_run?: number; program: string}[]}
    for (const t of doc.tests) {
      if (/micro_map_|micro_hom/.test(t.object) || ['helper_prandom', 'helper_ktime', 'helper_smp_id', 'helper_adjust_head'].includes(t.program)) expect(t.ops_per_run, t.name).to.equal(ops)
      if (t.program === 'tail_chain_0') expect(t.ops_per_run, t.name).to.equal(chain)
    }
  })

  it('--cpus and per-test CPUs replace the defaults; raw_tp runs in call mode', () => {
    const s = loadSuite(defaultSuiteFile(), {cpus: [1], tests: ['baseline', 'rawtp_*', 'ringbuf_output_64b_all']}, ONLINE)
    for (const t of s.tests) expect(t.kind === 'run' ? t.cpus : t.producers).to.deep.equal([1])
    expect((s.tests.find((t) => t.name.startsWith('rawtp')) as RunTest).mode).to.equal('call')
  })

  const bad: [string, RegExp][] = [
    ['missing-object.suite.yml', /test "ghost" \(tests\[1\]\): object: no_such_object\.bpf\.o not found .*make -C bpf/],
    ['missing-program.suite.yml', /test "lost_program" \(tests\[1\]\): program: no program named no_such_program in .*micro_baseline\.bpf\.o \(programs: micro_baseline\)/],
    ['wrong-type.suite.yml', /test "wrong_type" \(tests\[1\]\): type: tc, but program micro_baseline in .* is xdp/],
    ['unknown-map-kind.suite.yml', /test "odd_map" \(tests\[1\]\): maps\[0\]\.kind: expected one of "array".*got "cuckoo_hash"/],
    ['map-kind-mismatch.suite.yml', /test "mismatched_map" \(tests\[1\]\): maps\[0\]\.kind: lru_hash, but map hash_1k in .* is hash/],
    ['bad-cpu.suite.yml', /test "far_cpu" \(tests\[1\]\): cpus: CPU 4095 does not exist or is offline here \(online: 0,1\)/],
    ['repeat-zero.suite.yml', /test "no_repeat" \(tests\[1\]\): repeat: 0 is not "auto" or a count from 1 to 100,000,000/],
    ['repeat-absurd.suite.yml', /test "huge_repeat" \(tests\[1\]\): repeat: 1000000000000 is not "auto" or a count/],
    ['duplicate-name.suite.yml', /test "baseline" \(tests\[1\]\): name: another test is called "baseline"/],
    ['unknown-key.suite.yml', /test "t" \(tests\[0\]\): repet: unknown key/],
    ['malformed.suite.yml', /malformed YAML/],
    ['runs-zero.suite.yml', /defaults\.runs_per_sample: 0 is below the minimum 1$/],
  ]
  for (const [file, re] of bad) {
    it(`bad input, one line naming the test and field: ${file}`, () => {
      expect(badInput(file)).to.match(re)
    })
  }

  it('bad --cpus and --test are bad input too', () => {
    expect(() => parseCpuList('0,9', ONLINE)).to.throw(BadInputError, /--cpus: CPU 9 does not exist/)
    expect(() => parseCpuList('zero', ONLINE)).to.throw(BadInputError, /not a CPU list/)
    expect(parseCpuList('0-1', ONLINE)).to.deep.equal([0, 1])
    expect(() => loadSuite(defaultSuiteFile(), {tests: ['nope*']}, ONLINE)).to.throw(BadInputError, /--test nope\*: no test/)
  })

  it('online CPU lists parse', () => {
    expect(onlineCpus('0-3,6\n')).to.deep.equal([0, 1, 2, 3, 6])
    expect(onlineCpus('0')).to.deep.equal([0])
  })

  it('schema errors split into field and reason', () => {
    expect(splitError('$: missing "object"', 'run')).to.deep.include({field: 'object'})
    expect(splitError('$.maps[0].kind: expected one of "a"', 'run')).to.deep.equal({field: 'maps[0].kind', reason: 'expected one of "a"'})
  })
})

// ---------------------------------------------------------------- judging results

const test = (over: Partial<RunTest> = {}): RunTest =>
  ({kind: 'run', index: 0, name: 't', group: 'g', objectPath: '/x.o', program: 'p', samples: 2, quick: true, default: true, type: 'xdp', progType: 6, mode: 'repeat', load: [], maps: [], repeat: 0, cpus: [0], opsPerRun: 4, expect: 2, concurrent: false, ...over}) as RunTest
const sample = (over: Partial<TestRunSample> = {}): TestRunSample => ({repeat: 1000, wallNs: 90_000, kernelNs: 40, retval: 2, runCnt: 0, runTimeNs: 0, ...over})
const report = (samples: TestRunSample[], proof = sample({runCnt: 1000, kernelNs: 110}), mode: 'repeat' | 'call' = 'repeat'): TestRunReport => ({
  mode,
  onCpuFlag: mode === 'call',
  statsDuringSamples: mode === 'call',
  runsPerSample: 1,
  dispatcherHold: true,
  cpus: [{cpu: 0, repeat: 1000, calibration: [samples[0]], samples, proof: mode === 'repeat' ? proof : undefined}],
})

describe('micro: judging a test run', () => {
  it('ok: ns per op = the kernel ns per run / ops per run; the bpf_stats overhead is proof − samples', () => {
    const o = judge(test(), report([sample({kernelNs: 40}), sample({kernelNs: 42})]))
    expect(o.status).to.equal('ok')
    expect(o.cpus[0].nsPerOp).to.deep.equal([10, 10.5])
    expect(o.cpus[0].statsOverheadNs).to.equal(69)
    expect(o.cpus[0].proof).to.deep.include({runCnt: 1000, expected: 1000})
  })

  it('runs per sample: the sample is the interquartile mean of its runs, so a disturbed run is left out; the raw runs are kept', () => {
    // 8 runs: one disturbed (400 ns), one at the low end; sorted 30 41 | 41 42 42 42 | 43 400
    const runNs = [42, 41, 400, 43, 42, 30, 42, 41]
    const s = sample({repeat: 8000, kernelNs: runNs.reduce((a, b) => a + b) / 8, runNs})
    expect(sampleNsPerRun('repeat', s)).to.equal((41 + 42 + 42 + 42) / 4)
    expect(sampleNsPerRun('repeat', sample({kernelNs: 40, runNs: [40]}))).to.equal(40)
    const o = judge(test(), {...report([s, s], sample({repeat: 8000, runCnt: 8000, kernelNs: 110, runNs: Array(8).fill(110)})), runsPerSample: 8, dispatcherHold: true})
    expect(o.status).to.equal('ok')
    expect(o.cpus[0].nsPerRun).to.deep.equal([41.75, 41.75])
    expect(o.cpus[0].runNs).to.deep.equal([runNs, runNs])
    expect(o.cpus[0].statsOverheadNs).to.equal(110 - 41.75)
    expect(o).to.include({runsPerSample: 8, dispatcherHold: true})
    // the proof counts every run of its sample: fewer fails
    const short = judge(test(), {...report([s], sample({repeat: 8000, runCnt: 1000, runNs: Array(8).fill(110)})), runsPerSample: 8})
    expect(short.reason).to.match(/bpf_stats counted 1000 runs, 8000 were asked for/)
  })

  it('an XDP test that could not be held in the dispatcher says so and why', () => {
    const o = judge(test(), {...report([sample(), sample()]), dispatcherHold: false, dispatcherHoldError: 'unshare(CLONE_NEWNET): Operation not permitted', runsFallback: true})
    expect(o.status).to.equal('ok')
    expect(o.notes.join('\n')).to.match(/not held in the XDP dispatcher \(unshare\(CLONE_NEWNET\): Operation not permitted\).*each sample was one run/)
    // reload: a later load that could not hold says why, not "not asked"
    const held = {...report([sample()]), dispatcherHold: true}
    const lost = {...report([sample()]), dispatcherHold: false, dispatcherHoldError: 'setns: EPERM', runsFallback: true}
    expect(mergeReports([held, lost])).to.include({dispatcherHold: false, dispatcherHoldError: 'setns: EPERM', runsFallback: true})
    expect(judge(test({type: 'tc'}), {...report([sample(), sample()]), dispatcherHold: false}).notes.join('\n')).to.not.match(/dispatcher/)
  })

  it('a wrong return value fails the test, naming CPU and sample', () => {
    const o = judge(test(), report([sample(), sample({retval: 1})]))
    expect(o.status).to.equal('failed')
    expect(o.reason).to.equal('returned 1, expected 2 (CPU 0, sample 2)')
  })

  it('bpf_stats counting fewer runs than asked fails the test', () => {
    const o = judge(test(), report([sample(), sample()], sample({runCnt: 999})))
    expect(o.status).to.equal('failed')
    expect(o.reason).to.match(/bpf_stats counted 999 runs, 1000 were asked for/)
  })

  it('stats seen on during samples is noted (the figures include it)', () => {
    const o = judge(test(), report([sample({runCnt: 1000}), sample()]))
    expect(o.statsWereOn).to.equal(true)
    expect(o.cpus[0].statsOverheadNs).to.equal(undefined)
  })

  it('raw_tp (call mode): ns from run_time_ns / run_cnt, expect: cpu', () => {
    const s = (ns: number) => sample({retval: 0, runCnt: 1000, runTimeNs: ns * 1000})
    const o = judge(test({expect: 'cpu', mode: 'call', opsPerRun: 1}), report([s(50), s(52)], undefined, 'call'))
    expect(o.status).to.equal('ok')
    expect(o.cpus[0].nsPerRun).to.deep.equal([50, 52])
    const bad = judge(test({expect: 'cpu', mode: 'call'}), report([s(50), {...s(50), runCnt: 10}], undefined, 'call'))
    expect(bad.reason).to.match(/bpf_stats counted 1010 runs over the samples, 2000 were asked for/)
  })

  it('reload: the loads\' reports merge into one (samples in order, a failed proof wins) and are judged as one', () => {
    const first = report([sample({kernelNs: 40})])
    const later = (ns: number, retval = 2) => ({...report([sample({kernelNs: ns, retval})]), cpus: [{...report([]).cpus[0], calibration: [], samples: [sample({kernelNs: ns, retval})], proof: undefined}]})
    const m = mergeReports([first, later(96), later(44)])
    expect(m.cpus[0].samples.map((x) => x.kernelNs)).to.deep.equal([40, 96, 44])
    expect(m.cpus[0].proof).to.deep.include({runCnt: 1000})
    expect(judge(test(), m).cpus[0].nsPerOp).to.deep.equal([10, 24, 11])
    expect(judge(test(), mergeReports([first, later(40, 1)])).reason).to.equal('returned 1, expected 2 (CPU 0, sample 2)')
    const badProof = report([sample()], sample({runCnt: 5}))
    expect(mergeReports([first, badProof]).cpus[0].proof?.runCnt).to.equal(5)
  })
})

// ---------------------------------------------------------------- ring / perf buffer accounting

const prod = (over = {}) => ({cpu: 0, fired: 1000, calls: 1, kernelNs: 300_000, wallNs: 400_000, timedOut: false, producedByProgram: 1000, failedByProgram: 0, consumed: 1000, lost: 0, ...over})
const bufReport = (producers: ReturnType<typeof prod>[], over: Partial<BufferRunReport> = {}): BufferRunReport => ({
  producers,
  unexpected: 0,
  shortRecords: 0,
  markers: producers.length,
  bytes: 0,
  polls: 1,
  wakeups: 1,
  startNs: 0,
  producersDoneNs: 500_000,
  lastEventNs: 1_000_000,
  endNs: 1_100_000,
  latency: {count: 1000, sum: 5e6, min: 100, max: 20_000, buckets: [[1000, 500], [5000, 480], [20000, 20]]},
  ...over,
})
const bt = (mechanism: 'ringbuf' | 'perfbuf', producers = [0]) => ({mechanism, events: 1000, producers, expect: 0, eventSize: 64})

describe('micro: every event accounted for', () => {
  it('ringbuf: produced = consumed + the failures the program counted', () => {
    expect(accounting(bt('ringbuf'), bufReport([prod({consumed: 900, failedByProgram: 100})]))).to.deep.equal([])
    expect(accounting(bt('ringbuf'), bufReport([prod({consumed: 899, failedByProgram: 100})]))[0]).to.equal('CPU 0: produced 1000 ≠ consumed 899 + lost 100 (1 unaccounted for)')
  })

  it('perfbuf: the lost callback must agree with the program, and every flush marker must arrive', () => {
    expect(accounting(bt('perfbuf'), bufReport([prod({consumed: 990, lost: 10, failedByProgram: 10})]))).to.deep.equal([])
    expect(accounting(bt('perfbuf'), bufReport([prod({consumed: 990, lost: 9, failedByProgram: 10})])).join('; ')).to.match(/lost callback reported 9, the program saw 10 outputs fail/)
    expect(accounting(bt('perfbuf'), bufReport([prod()], {markers: 0})).join()).to.match(/0 flush markers arrived, 1 were sent/)
  })

  it('fired ≠ asked, the program counting differently, a bad return, strays: all fail', () => {
    expect(accounting(bt('ringbuf'), bufReport([prod({fired: 999, producedByProgram: 999, consumed: 999})])).join()).to.match(/999 events fired, 1000 asked for/)
    expect(accounting(bt('ringbuf'), bufReport([prod({producedByProgram: 1001})])).join()).to.match(/the program counted 1001 runs/)
    expect(accounting(bt('ringbuf'), bufReport([prod({badRetval: 2})])).join()).to.match(/returned 2, expected 0/)
    expect(accounting(bt('ringbuf'), bufReport([prod()], {unexpected: 3})).join()).to.match(/3 events came from CPUs that were not producing/)
  })

  it('figures: delivered events/s and MB/s over first production → last consumption; latency percentiles', () => {
    const s = sampleOf(bt('ringbuf'), bufReport([prod({consumed: 900, failedByProgram: 100})]))
    expect(s.eventsPerSec).to.be.closeTo(900 / 0.001, 1e-6)
    expect(s.mbPerSec).to.be.closeTo((900 * 64) / 0.001 / 1e6, 1e-9)
    expect(s.lost).to.equal(100)
    expect(s.producerNs[0]).to.equal(300)
    expect(s.latency).to.deep.include({p50: 1000, p95: 5000, p99: 20000})
  })

  it('histogram percentiles and merging', () => {
    expect(histogramPercentiles([[10, 1], [20, 1], [30, 2]], [0.25, 0.5, 0.75, 1])).to.deep.equal([10, 20, 30, 30])
    expect(mergeBuckets([[[10, 1]], [[10, 2], [20, 1]]])).to.deep.equal([[10, 3], [20, 1]])
    expect(histogramPercentiles([], [0.5])[0]).to.be.NaN
  })

  it('the perf buffer gets the ring buffer\'s memory split per CPU, in a power of two of pages', () => {
    expect(perfPagesFor(4 << 20, 2)).to.equal(512)
    expect(perfPagesFor(4 << 20, 3)).to.equal(256)
    expect(perfPagesFor(4096, 2)).to.equal(1)
  })
})

describe('micro: output', () => {
  it("the CSV has bpf_performance's columns, a column per CPU, ns per operation; failed tests are left out", () => {
    const ok = (id: string, cpu: number, samples: number[]) => measuredCase({id, params: {cpu, opsPerRun: 32}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, samples})
    const failed = measuredCase({id: 'bad', params: {cpu: 0}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, samples: [1], status: 'failed'})
    const csv = durationsCsv('2026-01-01T00:00:00.000Z', [ok('hash', 0, [10, 12]), ok('hash', 1, [14, 14]), failed], [0, 1])
    const [header, row, ...rest] = csv.trim().split('\n')
    expect(header).to.equal('Timestamp,Test,Average Duration (ns),CPU 0 Duration (ns),CPU 1 Duration (ns),Ops Per Run')
    expect(row).to.equal('2026-01-01T00:00:00.000Z,hash,12.500,11,14,32')
    expect(rest).to.deep.equal([])
  })

  it("a verifier rejection shows the verifier's last lines, not libbpf's closing ones", () => {
    const log = 'func#0 @0\n0: R1=ctx()\ninvalid access to packet, off=100 size=1\nR1 offset is outside of the packet\n-- END PROG LOAD LOG --\nlibbpf: prog \'x\': failed to load: -13\nlibbpf: failed to load object \'o\''
    expect(verifierTail(log, 2)).to.deep.equal(['invalid access to packet, off=100 size=1', 'R1 offset is outside of the packet'])
  })

  it('ns are shown with a sensible unit', () => {
    expect(formatNs(3.456)).to.equal('3.46 ns')
    expect(formatNs(123.45)).to.equal('123.5 ns')
    expect(formatNs(4567)).to.equal('4.57 µs')
    expect(formatNs(2.5e6)).to.equal('2.50 ms')
    expect(formatNs(undefined)).to.equal('—')
  })

  it('the input packet is a valid Ethernet/IPv4/UDP packet of the asked size', () => {
    const p = ipv4UdpPacket(64)
    expect(p.length).to.equal(64)
    expect(p.readUInt16BE(12)).to.equal(0x0800)
    expect(p.readUInt16BE(16)).to.equal(50) // IPv4 total length
    let sum = 0
    for (let i = 14; i < 34; i += 2) sum += p.readUInt16BE(i)
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
    expect(sum).to.equal(0xffff) // header checksum verifies
    expect(p.readUInt16BE(38)).to.equal(30) // UDP length
    expect(() => ipv4UdpPacket(20)).to.throw(RangeError)
  })
})
