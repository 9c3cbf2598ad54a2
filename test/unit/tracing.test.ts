// The tracing suite without a kernel: attach-type rules, the statistics and verdicts, iperf3 parsing, the tables.
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {KINDS, BUILTIN_BODIES, builtinProgram, kindsForProgram, programFits, parseKinds, triggerOf} from '../../src/suites/tracing/kinds.js'
import {CHUNK_QUANTILE, chunkFigure, describeNs, eventConfigs, localBaseline, precisionMet} from '../../src/suites/tracing/event.js'
import {workloadSpec} from '../../src/suites/tracing/workload.js'
import {iperf3ClientArgs, parseIperf3} from '../../src/workloads/iperf3.js'
import {syscallFunctionCandidates} from '../../src/suites/tracing/targets.js'
import {renderTracing} from '../../src/suites/tracing/render.js'
import {percentile, summarize, welch} from '../../src/results/stats.js'
import {PROG_TYPES} from '../../src/kernel/uapi.js'
import type {TracingReport} from '../../src/suites/tracing/index.js'
import type {Loaded} from '../../src/suites/tracing/programs.js'

const fx = (f: string) => join(new URL('../..', import.meta.url).pathname, 'test/fixtures/tracing', f)

describe('tracing suite: attach types and bodies', () => {
  it('names one program per body and kind, within the kernel’s 15 characters', () => {
    const names = BUILTIN_BODIES.flatMap((b) => KINDS.map((k) => builtinProgram(b, k)))
    expect(new Set(names).size).to.equal(BUILTIN_BODIES.length * KINDS.length)
    for (const n of names) expect(n.length, n).to.be.at.most(15)
    expect(builtinProgram('map', 'raw_tracepoint')).to.equal('trc_map_rawtp')
  })

  it('every program name the built object must have is in bpf/tracing.bpf.c', () => {
    const src = readFileSync(new URL('../../bpf/tracing.bpf.c', import.meta.url), 'utf8')
    const suffixes = [...src.matchAll(/^TRC_BODIES\("[^"]+", (\w+)\)/gm)].map((m) => m[1])
    for (const k of KINDS) expect(suffixes).to.include(builtinProgram('null', k).replace('trc_null_', ''))
  })

  it('fires uprobes through the addon’s function and every other kind through getpgid', () => {
    expect(triggerOf('uprobe')).to.equal('uprobe')
    expect(triggerOf('uretprobe')).to.equal('uprobe')
    for (const k of KINDS.filter((x) => !x.startsWith('u'))) expect(triggerOf(k)).to.equal('syscall')
  })

  it('decides the kinds a program fits from its type, expected attach type and section', () => {
    expect(kindsForProgram({type: PROG_TYPES.tracepoint, expectedAttachType: 0, section: 'tp/syscalls/sys_enter_openat'})).to.deep.equal(['tracepoint'])
    expect(kindsForProgram({type: PROG_TYPES.raw_tracepoint, expectedAttachType: 0, section: 'raw_tp'})).to.deep.equal(['raw_tracepoint'])
    expect(kindsForProgram({type: PROG_TYPES.kprobe, expectedAttachType: 0, section: 'uretprobe/x'})).to.deep.equal(['uretprobe'])
    expect(kindsForProgram({type: PROG_TYPES.kprobe, expectedAttachType: 0, section: 'kprobe/udp_recvmsg'})).to.deep.equal(['kprobe'])
    expect(kindsForProgram({type: PROG_TYPES.kprobe, expectedAttachType: 42, section: 'kprobe.multi'})).to.deep.equal(['kprobe.multi'])
    expect(kindsForProgram({type: PROG_TYPES.tracing, expectedAttachType: 25, section: 'fexit'})).to.deep.equal(['fexit'])
    expect(kindsForProgram({type: PROG_TYPES.xdp, expectedAttachType: 0, section: 'xdp'})).to.deep.equal([])
  })

  it('refuses a program type that does not match the attach type', () => {
    const tp = {type: PROG_TYPES.tracepoint, expectedAttachType: 0, section: 'tracepoint'}
    expect(programFits(tp, 'tracepoint')).to.equal(true)
    expect(programFits(tp, 'uprobe')).to.equal(false)
    const multi = {type: PROG_TYPES.kprobe, expectedAttachType: 42, section: 'kprobe.multi'}
    expect(programFits(multi, 'kprobe')).to.equal(false)
    expect(programFits(multi, 'kprobe.multi')).to.equal(true)
    expect(programFits({type: PROG_TYPES.tracing, expectedAttachType: 24, section: 'fentry'}, 'fexit')).to.equal(false)
  })

  it('parses --attach lists, with aliases, and rejects unknown names', () => {
    expect(parseKinds(['tracepoint,raw_tp', 'fprobe', 'uprobe'])).to.deep.equal(['tracepoint', 'raw_tracepoint', 'kprobe.multi', 'uprobe'])
    expect(parseKinds(undefined)).to.equal(undefined)
    expect(() => parseKinds(['kprob'])).to.throw(/unknown attach type 'kprob'/)
  })

  it('looks for the arch’s syscall wrapper of getpgid first', () => {
    expect(syscallFunctionCandidates('x64')[0]).to.equal('__x64_sys_getpgid')
    expect(syscallFunctionCandidates('arm64')[0]).to.equal('__arm64_sys_getpgid')
    expect(syscallFunctionCandidates('x64')).to.include('do_getpgid')
  })

  it('makes one configuration per kind, body and stats value (uprobe programs serve one stats value each)', () => {
    const body = {name: 'null', object: 'x.o', builtin: true, program: () => 'p'}
    const loaded = {handle: 1} as unknown as Loaded
    const cfgs = eventConfigs(
      [
        {kind: 'tracepoint', body, loaded, target: 'syscalls/sys_enter_getpgid'},
        {kind: 'uprobe', body, loaded, target: '', onlyStats: true},
      ],
      [false, true],
    )
    expect(cfgs.map((c) => c.id)).to.deep.equal(['tracepoint/null/stats-off', 'tracepoint/null/stats-on', 'uprobe/null/stats-on'])
    expect(cfgs[2].trigger).to.equal('uprobe')
  })
})

describe('tracing suite: per-event statistics', () => {
  it('pairs a sample with the mean of the baselines around it, unless one of them was disturbed', () => {
    expect(localBaseline(200, 202, 300)).to.equal(201)
    // the next baseline was disturbed (another task ran): the round's median decides
    expect(localBaseline(200, 380, 201)).to.equal(201)
    expect(localBaseline(380, 200, 199)).to.equal(200)
  })

  it("a sample's figure is the lower quartile of its chunks: one disturbed chunk does not move it", () => {
    const chunks = [1000, 1010, 990, 1005, 995, 1002, 998, 1001, 999, 1003] // ns per chunk of 10 triggers
    const calm = chunkFigure(chunks, 10)
    expect(calm.ns).to.be.closeTo(percentile(chunks.map((x) => x / 10), CHUNK_QUANTILE), 1e-9)
    const disturbed = chunkFigure([...chunks.slice(0, 9), 9000], 10)
    expect(disturbed.ns).to.equal(calm.ns)
    expect(disturbed.meanNs).to.be.greaterThan(calm.meanNs + 50)
  })

  it('meets the precision target at 5% of the figure or 2 ns, whichever is larger', () => {
    const tight = summarize([100, 101, 99, 100, 100, 101, 99, 100])
    expect(precisionMet(tight)).to.equal(true)
    const wide = summarize([80, 120, 90, 110, 70, 130])
    expect(precisionMet(wide)).to.equal(false)
    // a tiny effect: ±2 ns is enough even when that is far more than 5%
    const small = summarize([1, 2, 1.5, 2.5, 1, 2, 1.5, 2])
    expect(small.halfWidth).to.be.greaterThan(0.05 * small.mean)
    expect(precisionMet(small)).to.equal(true)
    expect(precisionMet(summarize([5]))).to.equal(false)
  })

  it('never prints a signed figure when the CI holds 0, the machine is noisy, or bpf_stats leaked in', () => {
    expect(describeNs(summarize([3, -2, 4, -3, 1, -1]))).to.match(/^no significant difference/)
    expect(describeNs(summarize([50, 51, 49, 50]), 'baseline varies 9% from sample to sample > 5%')).to.match(/^too noisy to tell/)
    expect(describeNs(summarize([50, 51, 49, 50]), undefined, 'bpf_stats was on')).to.match(/^cannot tell: bpf_stats/)
    expect(describeNs(summarize([50, 51, 49, 50]))).to.match(/^\+50\.0 ns ±/)
  })
})

describe('tracing suite: iperf3 results', () => {
  it('runs seed 001\'s load (UDP, 64-byte datagrams, parallel streams) and reads the received side', () => {
    expect(iperf3ClientArgs(workloadSpec(3, 4)).join(' ')).to.include('-u -b 1000000000 -l 64 -t 3 -P 4')
    const r = parseIperf3(readFileSync(fx('iperf3-udp-P2.json'), 'utf8'))
    expect(r.bitsPerSecond).to.be.greaterThan(1e6)
    expect(r.bytesReceived).to.equal(5277568)
    // datagrams received = sent - lost, and 64 bytes each
    expect(r.packetsReceived).to.equal(r.bytesReceived / 64)
  })

  it('turns an iperf3 error or a non-JSON answer into an error', () => {
    expect(() => parseIperf3(readFileSync(fx('iperf3-busy.json'), 'utf8'))).to.throw(/server is busy/)
    expect(() => parseIperf3('iperf3: error - unable to connect')).to.throw(/no JSON/)
  })
})

describe('tracing suite: tables', () => {
  const rows = (base: number[], cfg: number[]) => ({base, cfg, w: welch(base, cfg)})
  const report = (bitrates: {base: number[]; cfg: number[]}, noisy = false): TracingReport => {
    const {base, cfg, w} = rows(bitrates.base, bitrates.cfg)
    const mk = (id: string, xs: number[], loaded: boolean) => ({
      id,
      stats: false,
      status: 'ok' as const,
      bitrate: xs,
      transfer: xs.map((x) => x / 8),
      packets: xs,
      bitrateSummary: summarize(xs),
      transferSummary: summarize(xs.map((x) => x / 8)),
      bitrateImpact: loaded ? w : undefined,
      bitrateVerdict: loaded ? (noisy ? 'too noisy to tell' : w.significant ? `${(w.relative * 100).toFixed(1)}%` : `no significant difference (p=${w.p.toFixed(2)})`) : 'baseline',
      transferVerdict: '',
      events: 0,
      runCnt: 0,
      received: 0,
      proof: 'proof',
    })
    return {
      run: {cases: []} as never,
      quick: true,
      skipped: [{layer: 'all', what: 'kprobe', reason: '# CONFIG_KPROBES is not set'}],
      notes: [],
      complete: true,
      workload: {rows: [mk('baseline', base, false), mk('fentry/map/stats-off', cfg, true)], duration: 5, streams: 8, noisy, interrupted: false},
    }
  }

  it('prints seed 001’s tables, and no signed percentage where p ≥ 0.05', () => {
    // seed 001's own figures: baseline 18.6±1.2 vs fentry-map 19.9±1.1 over 10 runs
    const base = [18.6, 17.1, 19.8, 18.9, 17.5, 20.1, 18.2, 19.5, 17.4, 18.9]
    const cfg = [19.9, 18.0, 20.8, 19.4, 17.9, 21.0, 18.1, 20.6, 18.5, 19.1] // +0.6 Mbps (+3%) inside ±1.2 of noise
    const text = renderTracing(report({base, cfg}))
    expect(text).to.match(/Configuration\s+Target\s+Bitrate \(Mbps\)\s+Transfer \(MB\)\s+Samples/)
    expect(text).to.include('PERFORMANCE IMPACT vs BASELINE')
    const w = welch(base, cfg)
    expect(w.p).to.be.at.least(0.05)
    const line = text.split('\n').find((l) => l.startsWith('fentry/map/stats-off') && /difference/.test(l))!
    expect(line).to.include('no significant difference')
    expect(line).to.not.match(/[+-]\d+(\.\d+)?%/)
    expect(text).to.include('SKIPPED\n  kprobe: # CONFIG_KPROBES is not set')
  })

  it('says "too noisy to tell" when the baseline varies too much', () => {
    const text = renderTracing(report({base: [10, 30, 15, 25], cfg: [20, 21, 19, 20]}, true))
    expect(text).to.include('too noisy to tell')
  })
})
