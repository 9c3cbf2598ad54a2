// Results of `suite micro --consumers`: one result case per test and consumer (delivered events/s, the
// samples' counts, CPU per event and latency in extra), the -consumers.csv, and the terminal table in the
// seed's shape (language, events/s, CPU/event, P99, lost) with the tier and the Welch verdict against C.
import type {CaseResult} from '../../results/store.js'
import {toCsv} from '../../results/store.js'
import {renderTable, fmtNum} from '../../results/table.js'
import {describeImpact, mean, summarize} from '../../results/stats.js'
import {measuredCase} from '../common.js'
import {formatNs, type Paint} from './report.js'
import type {ConsumerOutcome} from './consumers-suite.js'

const plain: Paint = {bad: (s) => s, dim: (s) => s, head: (s) => s}
const finite = (xs: number[]) => xs.filter((x) => Number.isFinite(x))
const sum = (o: ConsumerOutcome, f: (s: ConsumerOutcome['samples'][number]) => number) => o.samples.reduce((a, s) => a + f(s), 0)

export function describeVsC(o: ConsumerOutcome): string {
  if (o.consumer.id === 'c') return o.status === 'ok' ? 'baseline' : '—'
  return o.vsC ? describeImpact(o.vsC) : '—'
}

export function consumerCases(outcomes: ConsumerOutcome[]): CaseResult[] {
  return outcomes.map((o) => {
    const t = o.test
    return measuredCase({
      id: `${t.name}@${o.consumer.id}`,
      params: {consumer: o.consumer.id, language: o.consumer.language, library: o.consumer.library, mechanism: t.mechanism, producers: t.producers.join(','), eventSize: t.eventSize, events: t.events, batch: t.batch, rate: t.rate, program: t.program},
      metric: 'delivered_events_per_second',
      unit: 'event/s',
      higherIsBetter: true,
      status: o.status === 'ok' ? undefined : o.status,
      reason: o.reason,
      samples: o.samples.map((s) => s.eventsPerSec),
      extra: {
        group: 'consumers',
        test: t.name,
        command: o.consumer.argv,
        consumerSays: o.remark,
        latency: o.latency && {...o.latency, unit: 'ns'},
        cpuNsPerEvent: mean(finite(o.samples.map((s) => s.cpuNsPerEvent))),
        tier: o.tier,
        vsC: o.vsC,
        samples: o.samples.map((s) => {
          const {produced, consumed, lost, eventsPerSec, mbPerSec, offeredPerSec, cpuNsPerEvent} = s
          return {produced, consumed, lost, eventsPerSec, mbPerSec, offeredPerSec, cpuNsPerEvent, latencyNs: s.latency}
        }),
      },
    })
  })
}

const r3 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? Math.round(x * 1000) / 1000 : undefined)

export function consumersCsv(timestamp: string, outcomes: ConsumerOutcome[]): string {
  const header = ['Timestamp', 'Test', 'Consumer', 'Language', 'Library', 'Mechanism', 'Producers', 'Event Size (B)', 'Rate (events/s per producer)', 'Status', 'Samples', 'Delivered (events/s)', 'Delivered CI95 half-width', 'Delivered (MB/s)', 'Consumer CPU (ns/event)', 'Produced', 'Consumed', 'Lost', 'Latency P50 (ns)', 'Latency P95 (ns)', 'Latency P99 (ns)', 'Tier', 'Vs C']
  const rows = outcomes.map((o) => {
    const ev = o.samples.length ? summarize(o.samples.map((s) => s.eventsPerSec)) : undefined
    return [timestamp, o.test.name, o.consumer.id, o.consumer.language, o.consumer.library, o.test.mechanism, o.test.producers.join(' '), o.test.eventSize, o.test.rate || 'max', o.status, o.samples.length, r3(ev?.mean), r3(ev && ev.n > 1 ? ev.halfWidth : undefined), r3(mean(o.samples.map((s) => s.mbPerSec))), r3(mean(finite(o.samples.map((s) => s.cpuNsPerEvent)))), sum(o, (s) => s.produced), sum(o, (s) => s.consumed), sum(o, (s) => s.lost), r3(o.latency?.p50), r3(o.latency?.p95), r3(o.latency?.p99), o.tier, describeVsC(o)]
  })
  return toCsv(header, rows)
}

/** The table: one block of rows per test, the consumers in the order given. */
export function renderConsumerTable(outcomes: ConsumerOutcome[], paint: Paint = plain): string {
  if (outcomes.length === 0) return ''
  const header = ['test', 'language (library)', 'events/s ± CI', 'MB/s', 'CPU/event', 'P50', 'P99', 'lost', 'tier', 'vs C (Welch)', 'accounted']
  const rows: string[][] = []
  let last = ''
  for (const o of outcomes) {
    const ev = o.samples.length ? summarize(o.samples.map((s) => s.eventsPerSec)) : undefined
    const produced = sum(o, (s) => s.produced)
    const lost = sum(o, (s) => s.lost)
    const acc = o.status === 'ok' ? 'every event' : o.status === 'skipped' ? paint.dim('skipped') : paint.bad('FAILED')
    rows.push([
      o.test.name === last ? '' : o.test.name,
      `${o.consumer.language} (${o.consumer.library})`,
      ev ? `${fmtNum(ev.mean)} ± ${ev.n > 1 ? fmtNum(ev.halfWidth) : '?'}` : '—',
      o.samples.length ? fmtNum(mean(o.samples.map((s) => s.mbPerSec))) : '—',
      formatNs(mean(finite(o.samples.map((s) => s.cpuNsPerEvent)))),
      formatNs(o.latency?.p50),
      formatNs(o.latency?.p99),
      produced ? `${fmtNum(lost)} (${((lost / produced) * 100).toFixed(lost && lost / produced < 0.001 ? 3 : 1)}%)` : '—',
      o.tier ? String(o.tier) : '—',
      o.status === 'ok' ? describeVsC(o) : '—',
      acc,
    ])
    last = o.test.name
  }
  return renderTable(header, rows, {head: paint.head})
}

/** Lines under the table: failures and skips (one line each, naming the consumer), what each consumer said it is. */
export function renderConsumerNotes(outcomes: ConsumerOutcome[], notes: string[], paint: Paint = plain): string[] {
  const out: string[] = []
  for (const o of outcomes) {
    if (o.status === 'failed') out.push(paint.bad(`FAILED ${o.test.name} × ${o.consumer.id}: ${o.reason}`))
  }
  const skipped = new Map<string, string>()
  for (const o of outcomes) if (o.status === 'skipped' && o.reason) skipped.set(o.consumer.id, o.reason)
  for (const [id, why] of skipped) out.push(paint.dim(`skipped ${id}: ${why}`))
  const said = new Map<string, string>()
  for (const o of outcomes) if (o.remark && !said.has(o.consumer.id)) said.set(o.consumer.id, o.remark)
  for (const [id, what] of said) out.push(`consumer ${id}: ${what}`)
  out.push(
    'events/s: consumed ÷ (first production → last consumption); CPU/event: the consumer process\'s CPU time (/proc/PID/task/*/schedstat, /proc/PID/stat) from "ready" to "done" ÷ events consumed; latency: consumer CLOCK_MONOTONIC − bpf_ktime_get_ns in the event',
    'tier: consumers whose events/s this run cannot tell apart (Welch p ≥ 0.05 against the tier\'s fastest) share a tier; vs C: Welch on events/s against libbpf C in the same test',
    ...notes.map((n) => `note: ${n}`),
  )
  return out
}
