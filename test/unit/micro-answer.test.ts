// The micro suite's answer sentence on fixture result cases: per group the cheapest and dearest test, the
// buffers' best delivery, failed tests counted and given no figure.
import {expect} from 'chai'
import {microAnswer} from '../../src/suites/micro/answer.js'
import {RESULT_SCHEMA, type CaseResult, type RunResult} from '../../src/results/store.js'
import {summarize} from '../../src/results/stats.js'

const spread = [0.98, 1, 1.01, 0.99, 1.02]
function perCpu(id: string, group: string, nsByCpu: number[], status: CaseResult['status'] = 'ok'): CaseResult[] {
  return nsByCpu.map((ns, cpu) => {
    const samples = status === 'ok' ? spread.map((f) => f * ns) : []
    return {id, params: {cpu}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status, samples, stats: samples.length ? summarize(samples) : undefined, extra: {group}}
  })
}
function buffer(id: string, mechanism: string, eps: number): CaseResult[] {
  const samples = spread.map((f) => f * eps)
  return [
    {id, params: {mechanism}, metric: 'delivered_events_per_second', unit: 'event/s', higherIsBetter: true, status: 'ok', samples, stats: summarize(samples), extra: {group: 'buffers'}},
    // the producer's ns per event has no group: not a test figure of its own
    {id: `${id}/producer`, params: {mechanism, cpu: 0}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status: 'ok', samples: spread, stats: summarize(spread)},
  ]
}
const run = (cases: CaseResult[]): RunResult => ({schema: RESULT_SCHEMA, suite: 'micro', started: '2026-12-02T00:00:00Z', complete: true, command: 'ebpfperf suite micro', environment: {} as RunResult['environment'], cases})

describe('micro answer sentence', () => {
  it('per group the cheapest and the dearest test (mean over CPUs), and each buffer mechanism at its best', () => {
    const lines = microAnswer(
      run([
        ...perCpu('baseline', 'baseline', [4.9, 5.1]),
        ...perCpu('array_1k_read', 'maps', [2.9, 3.1]),
        ...perCpu('hash_1k_read', 'maps', [22, 24]),
        ...perCpu('lpm_1k_delins', 'maps', [900, 1000]),
        ...buffer('ringbuf_output_64b_one', 'ringbuf', 2.1e6),
        ...buffer('ringbuf_reserve_64b_all', 'ringbuf', 3.96e6),
        ...buffer('perfbuf_output_64b_all', 'perfbuf', 105_000),
      ]),
    )
    expect(lines).to.deep.equal([
      "ns per operation (BPF_PROG_TEST_RUN, mean over 2 CPUs; each CPU's 95% CI in the table): baseline 5.00 ns; maps 3.00 ns (array_1k_read) to 950 ns (lpm_1k_delins).",
      'Delivered events per second: ring buffer up to 3.96 Mevent/s (ringbuf_reserve_64b_all); perf buffer up to 105 kevent/s (perfbuf_output_64b_all).',
    ])
  })

  it('on one CPU each figure carries its 95% CI', () => {
    const cases = perCpu('baseline', 'baseline', [5])
    const [lo, hi] = cases[0].stats!.ci95
    expect(microAnswer(run(cases))[0]).to.equal(`ns per operation (BPF_PROG_TEST_RUN): baseline 5.00 ns (95% CI ${lo.toFixed(2)}–${hi.toFixed(2)} ns).`)
  })

  it('a failed test gives no figure and is counted', () => {
    const lines = microAnswer(run([...perCpu('array_1k_read', 'maps', [3, 3]), ...perCpu('hash_1k_read', 'maps', [22, 22], 'failed')]))
    expect(lines[0]).to.equal("ns per operation (BPF_PROG_TEST_RUN, mean over 2 CPUs; each CPU's 95% CI in the table): maps (array_1k_read) 3.00 ns.")
    expect(lines[1]).to.equal('1 test failed (see below): no figure from it.')
    expect(lines.join('\n')).to.not.include('hash_1k_read')
  })
})

describe('micro answer for consumer processes', () => {
  const consumer = (test: string, name: string, eps: number, tier: number, status: CaseResult['status'] = 'ok'): CaseResult => {
    const samples = spread.map((f) => f * eps)
    return {id: `${test}@${name}`, params: {consumer: name, mechanism: 'ringbuf'}, metric: 'delivered_events_per_second', unit: 'event/s', higherIsBetter: true, status, samples, stats: summarize(samples), extra: {group: 'consumers', test, tier}}
  }
  it('per test the consumers fastest first, those the run cannot tell apart sharing a place; a failed one left out', () => {
    const lines = microAnswer(run([consumer('ringbuf_output_64b_one', 'python', 4e5, 3), consumer('ringbuf_output_64b_one', 'node', 1.8e6, 1), consumer('ringbuf_output_64b_one', 'c', 2.1e6, 1), consumer('ringbuf_output_64b_one', 'go', 1e6, 2), consumer('ringbuf_output_64b_one', 'lossy', 3e6, 1, 'failed')]))
    expect(lines[0]).to.match(/^Delivered events per second by consumer, fastest first/)
    expect(lines.slice(1)).to.deep.equal(['ringbuf_output_64b_one: c 2.10 Mevent/s, node 1.80 Mevent/s > go 1.00 Mevent/s > python 400 kevent/s', '1 test failed (see below): no figure from it.'])
  })
})
