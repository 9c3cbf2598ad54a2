// The report's charts and answer from result cases alone (no browser): modes side by side per point, a line
// over frame size where one mode was swept, human units, and the answer only as strong as the recorded verdicts.
import {expect} from 'chai'
import {chartsFor, flatMetrics} from '../../src/results/report.js'
import {reportAnswer} from '../../src/results/report-answer.js'
import {RESULT_SCHEMA, type CaseResult, type RunResult} from '../../src/results/store.js'
import {summarize} from '../../src/results/stats.js'

const spread = [0.97, 1, 1.02, 0.99, 1.02]
function kase(id: string, params: CaseResult['params'], metric: string, unit: string, mean: number, extra?: CaseResult['extra'], status: CaseResult['status'] = 'ok'): CaseResult {
  const samples = spread.map((f) => f * mean)
  return {id, params, metric, unit, higherIsBetter: true, status, samples, stats: summarize(samples), extra}
}
const run = (suite: string, cases: CaseResult[]): RunResult => ({schema: RESULT_SCHEMA, suite, started: '2026-12-02T00:00:00Z', complete: true, command: `ebpfperf suite ${suite}`, environment: {} as RunResult['environment'], cases})

/** frames/<mode>/<size>B/throughput cases as the accelerator writes them, plus loss (all 0) and ns per frame. */
function frames(modes: Record<string, number>, sizes: number[], vs: Record<string, {ratio: number; ratioCi95: [number, number]; significant: boolean}> = {}, more: Record<string, CaseResult['extra']> = {}): CaseResult[] {
  return sizes.flatMap((size) =>
    Object.entries(modes).flatMap(([mode, pps]) => {
      const params = {mode, frame_size: size, load: 'live-frames', ...(mode === 'xdp' ? {xdpMode: 'native'} : {})}
      const extra = {generatorPps: modes.generator * size, ...(vs[mode] ? {vsKernel: vs[mode]} : {}), ...more[mode]}
      return [
        kase(`frames/${mode}/${size}B/throughput`, params, 'throughput_frames_per_second', 'frame/s', pps * size, extra),
        kase(`frames/${mode}/${size}B/ns_per_frame`, params, 'path_ns_per_frame', 'ns', 1e9 / (pps * size)),
        {...kase(`frames/${mode}/${size}B/loss@90%`, {...params, loss_rate: '90%'}, 'frame_loss_percent', '%', 0)},
      ]
    }),
  )
}

describe('report charts', () => {
  const modes = {generator: 20_000, kernel: 4000, xdp: 10_000, tc: 5000} // pps per byte of frame: sizes 64, 512 → 0.26–10 Mpps
  const acc = run('accelerator', frames(modes, [512, 64]))

  it('several modes: one group of bars per frame size, one bar per mode, in Mpps', () => {
    const c = chartsFor(acc, 0).find((x) => x.title.includes('throughput'))!
    expect(c.type).to.equal('bar')
    expect(c.labels).to.deep.equal(['64 B', '512 B']) // sorted by size
    expect(c.datasets.map((d) => d.label)).to.deep.equal(['generator', 'kernel', 'xdp', 'tc'])
    expect(c.yTitle).to.equal('throughput frames per second (Mpps)')
    const xdp = c.datasets.find((d) => d.label === 'xdp')!
    expect(xdp.data[1]).to.be.closeTo((10_000 * 512 * 1.0) / 1e6, 0.1)
    expect(xdp.errors![1]![0]).to.be.lessThan(xdp.data[1]!).and.greaterThan(4)
    expect(c.datasets[1].color, 'kernel keeps its colour').to.equal(chartsFor(acc, 1).find((x) => x.title.includes('path'))!.datasets[1].color)
  })

  it('ns per frame in the unit its values read best in', () => {
    const c = chartsFor(acc, 0).find((x) => x.title.includes('path time per frame'))!
    expect(c.yTitle).to.match(/\((ns|µs)\)$/)
    expect(Math.max(...c.datasets.flatMap((d) => d.data as number[]))).to.be.lessThan(1000)
  })

  it('one mode swept over frame size: a line per path against the size', () => {
    const one = run('accelerator', frames({generator: 20_000, xdp: 10_000}, [64, 512, 1518]))
    const c = chartsFor(one, 0).find((x) => x.title.includes('throughput'))!
    expect(c.type).to.equal('line')
    expect(c.labels).to.deep.equal([64, 512, 1518])
    expect(c.xTitle).to.equal('frame size (B)')
    expect(c.datasets.map((d) => d.label)).to.deep.equal(['generator', 'xdp'])
  })

  it('a metric that was 0 everywhere is a line of text, not an empty chart', () => {
    expect(chartsFor(acc, 0).some((x) => x.title.includes('loss'))).to.equal(false)
    expect(flatMetrics(acc)).to.deep.equal(['accelerator: frame loss percent was 0 in every sample of all 8 cases (not charted)'])
  })

  it('bit/s axes in Gbit/s, iperf3 points grouped by protocol, rate and size', () => {
    const cases = ['kernel', 'xdp'].flatMap((mode) =>
      [['tcp', 'max', 'default'], ['udp', '500M', 1460]].map(([protocol, rate, size]) => kase(`${mode}/${protocol}/bitrate`, {mode, protocol, rate, size, streams: 1}, 'receiver_bits_per_second', 'bit/s', protocol === 'tcp' ? 6e9 : 5e8)),
    )
    const c = chartsFor(run('accelerator', cases), 0)[0]
    expect(c.yTitle).to.equal('receiver bits per second (Gbit/s)')
    expect(c.labels).to.deep.equal(['tcp max size default', 'udp 500M 1460 B'])
    expect(c.datasets[0].data[0]).to.be.closeTo(6, 0.1)
  })

  it('tracing: attach types side by side with body and bpf_stats, log scale where ns meet µs', () => {
    const cases = ['tracepoint', 'uprobe'].flatMap((kind) => ['off', 'on'].map((stats) => kase(`event/${kind}/null/stats-${stats}`, {layer: 'event', kind, body: 'null', stats}, 'ns_added_per_event', 'ns', kind === 'uprobe' ? 19_000 : 180)))
    const c = chartsFor(run('tracing', cases), 0)[0]
    expect(c.labels).to.deep.equal(['tracepoint', 'uprobe'])
    expect(c.datasets.map((d) => d.label)).to.deep.equal(['bpf_stats off', 'bpf_stats on'])
    expect(c.logY).to.equal(true)
  })

  it('ring-buffer consumers: one group per test, one bar per consumer', () => {
    const rates = {c: 2e6, python: 4e5, go: 1e6}
    const cases = ['ringbuf_output_64b_one', 'ringbuf_output_64b_all'].flatMap((test) => Object.entries(rates).map(([consumer, r]) => kase(`${test}@${consumer}`, {consumer, mechanism: 'ringbuf', producers: test.endsWith('one') ? '0' : 'all'}, 'events_per_second', 'event/s', r)))
    const c = chartsFor(run('micro', cases), 0)[0]
    expect(c.labels).to.deep.equal(['ringbuf_output_64b_one', 'ringbuf_output_64b_all'])
    expect(c.datasets.map((d) => d.label)).to.deep.equal(['consumer=c', 'consumer=python', 'consumer=go'])
    expect(c.datasets[1].data[0]).to.be.closeTo(0.4, 0.01)
  })
})

describe('report answer', () => {
  const modes = {generator: 20_000, kernel: 4000, xdp: 10_000, tc: 4100}
  const vs = {xdp: {ratio: 2.5, ratioCi95: [2.1, 3.0] as [number, number], significant: true}, tc: {ratio: 1.02, ratioCi95: [0.8, 1.3] as [number, number], significant: false}}

  it('per frame size: a fast path as a multiple of the kernel with its CI, no multiple where the CI holds 1, the generator\'s headroom', () => {
    const [line] = reportAnswer(run('accelerator', frames(modes, [64], vs)))
    expect(line).to.equal(
      'At 64 B: XDP forwarded 2.5× (95% CI 2.1×–3.0×) the frames of kernel forwarding; TC: no difference from the kernel could be told from noise (1.0×, 95% CI 0.80×–1.3×); generator not the bottleneck (alone 1.28 Mpps, 2.0× the best path).',
    )
  })

  it('a generator-bound size says so; a failed path has no answer', () => {
    const cases = frames(modes, [64], vs, {xdp: {bottleneck: 'generator (alone 1.28 Mpps < 1.5× the best path)'}})
    cases.find((c) => c.id === 'frames/tc/64B/throughput')!.status = 'failed'
    cases.find((c) => c.id === 'frames/tc/64B/throughput')!.reason = 'the sink counted no frames'
    const [line] = reportAnswer(run('accelerator', cases))
    expect(line).to.include('TC: no answer (failed: the sink counted no frames)')
    expect(line).to.match(/GENERATOR-BOUND: generator \(alone 1\.28 Mpps/)
  })

  it('iperf3 goodput carries the recorded verdict and bottleneck', () => {
    const c = kase('xdp/udp/500M/1460/bitrate', {mode: 'xdp'}, 'receiver_bits_per_second', 'bit/s', 5e8, {point: 'UDP 1460 B @ 500M', vsKernel: {text: 'no significant difference (p=0.41)'}, bottleneck: 'iperf3 client CPU'})
    expect(reportAnswer(run('accelerator', [c]))).to.deep.equal(['iperf3 goodput against kernel forwarding — XDP at UDP 1460 B @ 500M: no significant difference (p=0.41); limited by iperf3 client CPU.'])
  })

  it('tracing: a figure only where the verdict is one', () => {
    const ok = kase('event/tracepoint/null/stats-off', {layer: 'event', kind: 'tracepoint', body: 'null', stats: 'off'}, 'ns_added_per_event', 'ns', 203, {verdict: '+203.0 ns ±4.1'})
    const noisy = kase('event/kprobe/null/stats-off', {layer: 'event', kind: 'kprobe', body: 'null', stats: 'off'}, 'ns_added_per_event', 'ns', 150, {verdict: 'too noisy to tell (baseline varies 7%)'})
    const [lo, hi] = ok.stats!.ci95.map(Math.round)
    expect(reportAnswer(run('tracing', [ok, noisy]))).to.deep.equal([`Per event, body null (bpf_stats off) added: tracepoint 203 ns (95% CI ${lo}–${hi} ns); kprobe: too noisy to tell (baseline varies 7%).`])
  })

  it('no sentence for a suite whose result carries no answer', () => expect(reportAnswer(run('micro', []))).to.deep.equal([]))
})
