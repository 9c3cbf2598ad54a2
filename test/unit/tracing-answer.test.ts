// The tracing suite's answer sentence on fixture rows: figures only where the table's verdict is a figure.
import {expect} from 'chai'
import {describeNs, type EventRow} from '../../src/suites/tracing/event.js'
import {tracingAnswer, eventFigure} from '../../src/suites/tracing/answer.js'
import {summarize, welch, describeImpact} from '../../src/results/stats.js'
import type {TracingReport} from '../../src/suites/tracing/index.js'
import type {TraceKind} from '../../src/native.js'
import type {WorkloadRow} from '../../src/suites/tracing/workload.js'

function row(kind: TraceKind, samples: number[], o: Partial<EventRow> = {}): EventRow {
  const added = summarize(samples)
  const body = o.body ?? 'null'
  const stats = o.stats ?? false
  return {
    id: `${kind}/${body}/stats-${stats ? 'on' : 'off'}`, kind, body, builtin: true, stats, trigger: kind.startsWith('u') ? 'uprobe' : 'syscall', target: '', program: 'p',
    status: 'ok', samples, added, configNs: [], progNs: [], triggers: 1000, runCnt: 0, mapMine: 0, recursionMisses: 0, rounds: samples.map((_, i) => i),
    contaminated: 0, statsLeak: false, retries: 0, involuntary: 0, proof: '', verdict: describeNs(added), noisy: false, precise: true, ...o,
  }
}
const report = (parts: Partial<TracingReport>): TracingReport => ({run: {cases: []} as never, quick: true, skipped: [], notes: [], complete: true, ...parts})
const event = (rows: EventRow[]) => ({tid: 1, cpu: 1, realtime: true, rows, baselines: {}, statsCost: [], counts: {}, interrupted: false})

describe('tracing answer sentence', () => {
  it('gives each attach type its figure and 95% CI, µs where it is thousands of ns, bpf_stats off preferred', () => {
    const rows = [
      row('tracepoint', [210, 205, 200, 199, 202], {stats: true}),
      row('tracepoint', [203, 201, 205, 204, 202]),
      row('uprobe', [20100, 20300, 19900, 20000, 20200]),
      row('raw_tracepoint', [80, 82, 81, 79, 83]),
    ]
    const [line] = tracingAnswer(report({event: event(rows)}))
    expect(line).to.match(/^Per event, an empty program added: tracepoint 203 ns \(95% CI 20\d–20\d ns\); raw_tracepoint 81\.0 ns/)
    expect(line).to.match(/uprobe 20\.1 µs \(95% CI 19\.\d–20\.\d µs\)\.$/)
    expect(line.indexOf('raw_tracepoint')).to.be.lessThan(line.indexOf('uprobe')) // the tables' order
  })

  it('prints no figure for a type whose CI holds 0, or whose baseline was too noisy', () => {
    const zero = row('kprobe', [5, -4, 3, -6, 2])
    const noisy = row('fentry', [40, 41, 39, 40, 42], {noisy: true, verdict: 'too noisy to tell (baseline varies 9.0% from sample to sample > 5%)'})
    const ok = row('tracepoint', [100, 101, 99, 100, 100])
    const [line] = tracingAnswer(report({event: event([ok, zero, noisy])}))
    expect(line).to.include('kprobe: no cost told from noise (95% CI holds 0)')
    expect(line).to.include('fentry: too noisy to tell (baseline varies 9.0% from sample to sample > 5%)')
    expect(line).to.not.match(/kprobe -?\d/)
    expect(line).to.not.match(/fentry \d/)
    expect(eventFigure(zero).figure).to.equal(undefined)
  })

  it('says so when no type could be told from noise, and why', () => {
    const noisy = {noisy: true, verdict: 'too noisy to tell (baseline varies 7%)'}
    const rows = [row('tracepoint', [5, 4, 3, 6, 2], noisy), row('kprobe', [5, -4, 3, -6, 2], noisy), row('fentry', [1, -1, 2, -2, 0])]
    expect(tracingAnswer(report({event: event(rows)}))).to.deep.equal([
      'Per event, an empty program: no cost could be told from noise — tracepoint and kprobe: too noisy to tell (baseline varies 7%); fentry: no cost told from noise (95% CI holds 0).',
    ])
  })

  it('one sentence per body; a failed row is named, not measured', () => {
    const rows = [row('tracepoint', [100, 101, 99, 100, 100]), row('tracepoint', [150, 151, 149, 150, 150], {body: 'map'}), row('kprobe', [1], {body: 'map', status: 'failed', added: undefined, verdict: 'failed: x'})]
    const lines = tracingAnswer(report({event: event(rows)}))
    expect(lines).to.have.length(2)
    expect(lines[1]).to.match(/^Per event, a program updating a map added: tracepoint 150 ns .*; kprobe: not measured \(failed, see the table\)\.$/)
  })

  const wrow = (id: string, base: number[], xs: number[]): WorkloadRow => {
    const w = welch(base, xs)
    return {id, stats: false, status: 'ok', bitrate: xs, transfer: xs, packets: xs, bitrateImpact: w, bitrateVerdict: id === 'baseline' ? 'baseline' : describeImpact(w), transferVerdict: '', events: 0, runCnt: 0, received: 0, proof: ''}
  }
  it('names only the workload configurations whose bitrate changed significantly, with the table\'s verdict', () => {
    const base = [100, 101, 99, 100, 102, 98]
    const rows = [wrow('baseline', base, base), wrow('kprobe/map/stats-off', base, [80, 81, 79, 80, 82, 78]), wrow('fentry/map/stats-off', base, [100, 99, 101, 100, 98, 102])]
    const [line] = tracingAnswer(report({workload: {rows, duration: 1, streams: 1, noisy: false, interrupted: false}}))
    expect(line).to.equal(`iperf3 bitrate against no program: kprobe/map/stats-off ${rows[1].bitrateVerdict}; 1 other configuration: no significant difference.`)
    expect(line).to.match(/-20\.0% \(p=/)
    const [noisy] = tracingAnswer(report({workload: {rows, duration: 1, streams: 1, noisy: true, noisyWhy: 'baseline bitrate cv 9.0% > 5%', interrupted: false}}))
    expect(noisy).to.equal('iperf3 workload: no effect could be told from noise (baseline bitrate cv 9.0% > 5%).')
  })

  it('the syscall tracepoint scenarios carry their verdicts', () => {
    const none = [10e6, 10.1e6, 9.9e6, 10e6]
    const slow = [8e6, 8.1e6, 7.9e6, 8e6]
    const impact = welch(none, slow)
    const mk = (id: 'none' | 'kernel-filter', title: string, rate: number[]) => ({id, title, status: 'ok' as const, samples: [], rate, impact: id === 'none' ? undefined : impact, verdict: id === 'none' ? 'baseline' : describeImpact(impact), triggers: 0, events: 0, matched: 0, dropped: 0, proof: ''})
    const [line] = tracingAnswer(report({scenarios: {tracedPid: 1, rows: [mk('none', 'no tracing', none), mk('kernel-filter', 'pid filtered in the kernel', slow)], noisy: false, interrupted: false}}))
    expect(line).to.equal(`A global syscall tracepoint, on a process it does not trace — pid filtered in the kernel: syscall rate ${describeImpact(impact)}.`)
  })
})
