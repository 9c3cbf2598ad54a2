// Results of the micro suite: result cases (one per test and CPU, matched across runs by suite + id +
// params), the bpf_performance-style CSV (Timestamp, Test, Average Duration (ns), CPU i Duration (ns)),
// a second CSV for the ring/perf buffer figures, and the terminal tables.
import type {CaseResult} from '../../results/store.js'
import {renderTable} from '../../results/table.js'
import {toCsv} from '../../results/store.js'
import {summarize, type Summary, mean} from '../../results/stats.js'
import {measuredCase} from '../common.js'
import type {BufferOutcome} from './buffers.js'
import {caseParams, type RunOutcome} from './runner.js'

const finite = (xs: number[]) => xs.filter((x) => Number.isFinite(x))

/** ns per run of the baseline test on each CPU (for "over baseline"), when it ran and has the same program type. */
export function baselineByCpu(outcomes: RunOutcome[], baseline: string | undefined): {type: string; ns: Map<number, number>} | undefined {
  const b = outcomes.find((o) => o.test.name === baseline && o.status === 'ok')
  if (!b) return undefined
  return {type: b.test.type, ns: new Map(b.cpus.map((c) => [c.cpu, mean(c.nsPerRun)]))}
}

/** (mean ns per run − baseline's on that CPU) / ops per run; undefined when not comparable. */
export function overBaseline(o: RunOutcome, cpu: number, base: ReturnType<typeof baselineByCpu>): number | undefined {
  if (!base || base.type !== o.test.type || o.status !== 'ok') return undefined
  const c = o.cpus.find((x) => x.cpu === cpu)
  const b = base.ns.get(cpu)
  if (!c || b === undefined) return undefined
  return (mean(c.nsPerRun) - b) / o.test.opsPerRun
}

export function runCases(outcomes: RunOutcome[], baseline: string | undefined): CaseResult[] {
  const base = baselineByCpu(outcomes, baseline)
  const cases: CaseResult[] = []
  for (const o of outcomes) {
    const t = o.test
    const cpus = o.cpus.length > 0 ? o.cpus.map((c) => c.cpu) : t.cpus
    for (const cpu of cpus) {
      const c = o.cpus.find((x) => x.cpu === cpu)
      const over = t.name === baseline ? undefined : overBaseline(o, cpu, base)
      cases.push(
        measuredCase({
          id: t.name,
          params: caseParams(t, cpu),
          metric: 'ns_per_op',
          unit: 'ns',
          higherIsBetter: false,
          status: o.status === 'ok' ? undefined : o.status,
          reason: o.reason,
          samples: c ? finite(c.nsPerOp) : [],
          extra: {
            group: t.group,
            mode: o.mode,
            onCpuFlag: o.onCpuFlag,
            repeat: c?.repeat,
            runsPerSample: o.runsPerSample,
            dispatcherHold: o.dispatcherHold,
            runNs: c?.runNs,
            reload: t.reload,
            nsPerRun: c?.nsPerRun,
            wallNsPerRun: c?.wallNsPerRun,
            proof: c?.proof,
            statsOverheadNs: c?.statsOverheadNs,
            statsWereOn: o.statsWereOn,
            overBaselineNsPerOp: over,
            verifierLog: o.verifierLog,
            notes: [...o.notes, ...(t.note ? [t.note] : [])],
          },
        }),
      )
    }
  }
  return cases
}

export function bufferCases(outcomes: BufferOutcome[]): CaseResult[] {
  const cases: CaseResult[] = []
  for (const o of outcomes) {
    const t = o.test
    const params = {mechanism: t.mechanism, producers: t.producers.join(','), eventSize: t.eventSize, events: t.events, batch: t.batch, rate: t.rate, program: t.program}
    const status = o.status === 'ok' ? undefined : o.status
    cases.push(
      measuredCase({
        id: t.name,
        params,
        metric: 'delivered_events_per_second',
        unit: 'event/s',
        higherIsBetter: true,
        status,
        reason: o.reason,
        samples: o.samples.map((s) => s.eventsPerSec),
        extra: {
          group: t.group,
          perfPagesPerCpu: o.perfPages,
          latencyNs: o.latency,
          samples: o.samples.map((s) => ({
            produced: s.produced,
            consumed: s.consumed,
            lost: s.lost,
            eventsPerSec: s.eventsPerSec,
            mbPerSec: s.mbPerSec,
            offeredPerSec: s.offeredPerSec,
            latencyNs: s.latency,
            producerNsPerEvent: s.producerNs,
            wakeups: s.wakeups,
          })),
          notes: [...o.notes, ...(t.note ? [t.note] : [])],
        },
      }),
    )
    cases.push(
      measuredCase({
        id: `${t.name}/latency_p99`,
        params,
        metric: 'latency_p99',
        unit: 'ns',
        higherIsBetter: false,
        status,
        reason: o.reason,
        samples: finite(o.samples.map((s) => s.latency.p99)),
        extra: {p50: o.samples.map((s) => s.latency.p50), p95: o.samples.map((s) => s.latency.p95), max: o.samples.map((s) => s.latency.max)},
      }),
    )
    for (const cpu of t.producers) {
      cases.push(
        measuredCase({
          id: `${t.name}/producer`,
          params: {...params, cpu},
          metric: 'ns_per_op',
          unit: 'ns',
          higherIsBetter: false,
          status,
          reason: o.reason,
          samples: finite(o.samples.map((s) => s.producerNs[cpu])),
          extra: {lostPerSample: o.samples.map((s) => s.lost)},
        }),
      )
    }
  }
  return cases
}

/** bpf_performance's CSV: one row per test (ns per operation), a column per CPU; failed and skipped tests left out. */
export function durationsCsv(timestamp: string, cases: CaseResult[], cpus: number[]): string {
  const rows = new Map<string, {byCpu: Map<number, number>; ops: number}>()
  for (const c of cases) {
    if (c.metric !== 'ns_per_op' || c.status !== 'ok' || !c.stats) continue
    const row = rows.get(c.id) ?? {byCpu: new Map(), ops: Number(c.params.opsPerRun ?? 1)}
    row.byCpu.set(Number(c.params.cpu), c.stats.mean)
    rows.set(c.id, row)
  }
  const header = ['Timestamp', 'Test', 'Average Duration (ns)', ...cpus.map((c) => `CPU ${c} Duration (ns)`), 'Ops Per Run']
  const body = [...rows.entries()].map(([test, r]) => [timestamp, test, round3(mean([...r.byCpu.values()])), ...cpus.map((c) => (r.byCpu.has(c) ? round3(r.byCpu.get(c)!) : undefined)), r.ops])
  return toCsv(header, body)
}

export function buffersCsv(timestamp: string, outcomes: BufferOutcome[]): string {
  const header = ['Timestamp', 'Test', 'Mechanism', 'Producers', 'Event Size (B)', 'Events Per Producer', 'Rate (events/s per producer)', 'Status', 'Delivered (events/s)', 'Delivered (MB/s)', 'Produced', 'Consumed', 'Lost', 'Latency P50 (ns)', 'Latency P95 (ns)', 'Latency P99 (ns)', 'Producer (ns/event)']
  const rows = outcomes.map((o) => {
    const t = o.test
    const s = o.samples
    const sum = (f: (x: (typeof s)[number]) => number) => s.reduce((a, x) => a + f(x), 0)
    const prodNs = mean(s.flatMap((x) => Object.values(x.producerNs)))
    return [timestamp, t.name, t.mechanism, t.producers.join(' '), t.eventSize, t.events, t.rate || 'max', o.status, round3(mean(s.map((x) => x.eventsPerSec))), round3(mean(s.map((x) => x.mbPerSec))), sum((x) => x.produced), sum((x) => x.consumed), sum((x) => x.lost), o.latency?.p50, o.latency?.p95, o.latency?.p99, round3(prodNs)]
  })
  return toCsv(header, rows)
}

const round3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : undefined)

// ------------------------------------------------------------------ terminal

export interface Paint {
  bad: (s: string) => string
  dim: (s: string) => string
  head: (s: string) => string
}
const plain: Paint = {bad: (s) => s, dim: (s) => s, head: (s) => s}

export function formatNs(ns: number | undefined): string {
  if (ns === undefined || !Number.isFinite(ns)) return '—'
  const a = Math.abs(ns)
  if (a < 10) return `${ns.toFixed(2)} ns`
  if (a < 1000) return `${ns.toFixed(1)} ns`
  if (a < 1e6) return `${(ns / 1e3).toFixed(a < 1e4 ? 2 : 1)} µs`
  if (a < 1e9) return `${(ns / 1e6).toFixed(a < 1e7 ? 2 : 1)} ms`
  return `${(ns / 1e9).toFixed(2)} s`
}

function formatCount(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—'
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)}G`
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`
  return x.toFixed(0)
}


const pm = (s: Summary | undefined, fmt: (x: number) => string) => (s ? `${fmt(s.mean)} ± ${s.n > 1 ? fmt(s.halfWidth).replace(/ (ns|µs|ms|s)$/, '') : '?'}` : '—')

export function renderRunTable(outcomes: RunOutcome[], baseline: string | undefined, cpus: number[], paint: Paint = plain): string {
  if (outcomes.length === 0) return ''
  const base = baselineByCpu(outcomes, baseline)
  const header = ['test', 'type', 'ops/run', ...cpus.map((c) => `CPU ${c} ns/op`), 'over baseline', 'CV', 'status']
  const rows: string[][] = [header]
  let group = ''
  for (const o of outcomes) {
    if (o.test.group !== group) {
      group = o.test.group
      rows.push([paint.dim(`— ${group}`), '', '', ...cpus.map(() => ''), '', '', ''])
    }
    const perCpu = cpus.map((cpu) => {
      const c = o.cpus.find((x) => x.cpu === cpu)
      const xs = c ? finite(c.nsPerOp) : []
      return xs.length ? summarize(xs) : undefined
    })
    const overs = cpus.map((cpu) => (o.test.name === baseline ? undefined : overBaseline(o, cpu, base))).filter((x): x is number => x !== undefined)
    const cvs = perCpu.filter((s): s is Summary => Boolean(s)).map((s) => s.cv)
    const status = o.status === 'ok' ? 'ok' : o.status === 'skipped' ? paint.dim('skipped') : paint.bad('FAILED')
    rows.push([
      `  ${o.test.name}`,
      o.test.type,
      String(o.test.opsPerRun),
      ...perCpu.map((s) => pm(s, formatNs)),
      overs.length ? formatNs(mean(overs)) : '—',
      cvs.length ? `${(Math.max(...cvs) * 100).toFixed(1)}%` : '—',
      status,
    ])
  }
  return renderTable(rows[0], rows.slice(1), {head: paint.head})
}

export function renderBufferTable(outcomes: BufferOutcome[], paint: Paint = plain): string {
  if (outcomes.length === 0) return ''
  const header = ['test', 'mechanism', 'producers', 'delivered events/s', 'MB/s', 'lost', 'P50', 'P95', 'P99', 'producer ns/event', 'accounted']
  const rows: string[][] = [header]
  for (const o of outcomes) {
    const s = o.samples
    const ev = s.length ? summarize(s.map((x) => x.eventsPerSec)) : undefined
    const produced = s.reduce((a, x) => a + x.produced, 0)
    const lost = s.reduce((a, x) => a + x.lost, 0)
    const prodNs = mean(s.flatMap((x) => Object.values(x.producerNs)))
    const acc = o.status === 'ok' ? 'every event' : o.status === 'skipped' ? paint.dim('skipped') : paint.bad('FAILED')
    rows.push([
      o.test.name,
      o.test.mechanism + (o.perfPages ? ` (${o.perfPages} pages/CPU)` : ''),
      o.test.producers.join(','),
      ev ? `${formatCount(ev.mean)} ± ${formatCount(ev.halfWidth)}` : '—',
      s.length ? mean(s.map((x) => x.mbPerSec)).toFixed(1) : '—',
      produced ? `${formatCount(lost)} (${((lost / produced) * 100).toFixed(lost && lost / produced < 0.001 ? 3 : 1)}%)` : '—',
      formatNs(o.latency?.p50),
      formatNs(o.latency?.p95),
      formatNs(o.latency?.p99),
      formatNs(prodNs),
      acc,
    ])
  }
  return renderTable(rows[0], rows.slice(1), {head: paint.head})
}

/** Lines under the tables: failures (with the verifier's last lines), skips, notes. */
export function renderNotes(runs: RunOutcome[], buffers: BufferOutcome[], baseline?: string, paint: Paint = plain, verifierLines = 6): string[] {
  const out: string[] = []
  for (const o of [...runs, ...buffers]) {
    if (o.status === 'failed') {
      out.push(paint.bad(`FAILED ${o.test.name}: ${o.reason}`))
      if (o.verifierLog) for (const l of verifierTail(o.verifierLog, verifierLines)) out.push(`    ${l}`)
    } else if (o.status === 'skipped') out.push(paint.dim(`skipped ${o.test.name}: ${o.reason}`))
  }
  for (const o of runs) if (!o.test.default && o.test.note && o.status !== 'skipped') out.push(`note: ${o.test.name}: ${o.test.note}`)
  const ran = runs.filter((o) => o.status !== 'skipped' && o.mode)
  if (ran.length) {
    const onCpu = ran.filter((o) => o.onCpuFlag).map((o) => o.test.name)
    out.push(
      `note: every test ran from a thread pinned to its CPU (sched_setaffinity); ${onCpu.length ? `BPF_F_TEST_RUN_ON_CPU was used for ${onCpu.join(', ')} (raw_tp)` : 'BPF_F_TEST_RUN_ON_CPU was not used'}${ran.length > onCpu.length ? ' — XDP and skb programs do not take it' : ''}`,
    )
  }
  const multi = ran.filter((o) => o.mode === 'repeat' && (o.runsPerSample ?? 1) > 1)
  if (multi.length) {
    const k = Math.max(...multi.map((o) => o.runsPerSample ?? 1))
    const held = multi.filter((o) => o.dispatcherHold).length
    const xdp = multi.filter((o) => o.test.type === 'xdp').length
    out.push(
      `note: a sample is ${k} test runs, its figure their interquartile mean (the kernel's timer per run; runs a neighbour slowed fall in the top quarter and are left out; every run is in the result file)${xdp ? `; ${held === xdp ? 'XDP programs were' : `${held} of ${xdp} XDP tests were`} held in the XDP dispatcher (a generic XDP link on the loopback of a private network namespace), so no run paid a dispatcher update` : ''}`,
    )
  }
  const reloaded = ran.filter((o) => o.test.reload).length
  if (reloaded) out.push(`note: ${reloaded === ran.length ? 'every test' : `${reloaded} of ${ran.length} tests`} took each sample from a fresh load of its object (reload): code and map placement change per load, so the spread includes them; the first load calibrated and gave the bpf_stats proof`)
  const stats = runs.filter((o) => o.statsWereOn).map((o) => o.test.name)
  if (stats.length) out.push(`note: bpf_stats was on during the samples of ${stats.length} test(s) (kernel.bpf_stats_enabled, or another process holding BPF_ENABLE_STATS): their figures include its clock reads`)
  const base = runs.find((o) => o.test.name === baseline && o.status === 'ok')
  const overhead = (base?.cpus ?? []).map((c) => c.statsOverheadNs).filter((x): x is number => x !== undefined && Number.isFinite(x))
  if (overhead.length) out.push(`note: bpf_stats adds ${formatNs(mean(overhead))} per program run here (the baseline's proof run with it on vs. its samples with it off)`)
  return out
}

/** The verifier's own last lines (libbpf's closing lines dropped). */
export function verifierTail(log: string, lines: number): string[] {
  const own = log.split('\n').filter((l) => l.trim() && !l.startsWith('libbpf:') && !l.startsWith('-- END PROG LOAD LOG'))
  return own.slice(-lines)
}
