// From run samples to result cases (one per configuration and metric, matched across runs by id and
// params), the impact of each mode against the kernel baseline (Welch's t-test), the final table and
// the CSV of every run.
import type {CaseResult} from '../../results/store.js'
import {renderTable as renderRows} from '../../results/table.js'
import {toCsv} from '../../results/store.js'
import {describeImpact, summarize, welch, type Welch} from '../../results/stats.js'
import {measuredCase} from '../common.js'
import {formatRate} from '../../workloads/iperf3.js'
import {endLabel, pointId, pointLabel, type AccelSpec, type Mode, type Point} from './spec.js'
import type {RunSample} from './measure.js'

export interface ModeInfo {
  mode: Mode
  /** For the table: "xdp (native)", "tc (tcx)", "object fwd.o:xdp_prog (xdp, native)". */
  label: string
  params: Record<string, string | number | boolean>
  skipped?: string
}

export interface Bucket {
  point: Point
  mode: ModeInfo
  runs: RunSample[] // measured and warm-up, in order
  errors: string[] // runs that produced no sample
}

const mean = (xs: number[]) => (xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length)
const defined = <T>(xs: (T | undefined)[]) => xs.filter((x): x is T => x !== undefined && !(typeof x === 'number' && Number.isNaN(x)))

interface MetricDef {
  key: string
  metric: string
  unit: string
  higherIsBetter: boolean
  value: (s: RunSample) => number | undefined
  when?: (b: Bucket) => boolean
  /** Which runs it comes from: the load runs (default), the latency runs (the probe beside the load), or the runs with bpf_stats on. */
  from?: 'latency' | 'stats'
}

export const METRICS: MetricDef[] = [
  {key: 'bitrate', metric: 'receiver_bits_per_second', unit: 'bit/s', higherIsBetter: true, value: (s) => s.bitsPerSecond},
  {key: 'pps', metric: 'receiver_packets_per_second', unit: 'packet/s', higherIsBetter: true, value: (s) => s.packetsPerSecond},
  {key: 'loss', metric: 'loss_percent', unit: '%', higherIsBetter: false, value: (s) => s.lossPercent, when: (b) => b.point.protocol === 'udp'},
  {key: 'rtt_p99', metric: 'rtt_p99_under_load', unit: 'µs', higherIsBetter: false, value: (s) => s.rtt.p99Us, from: 'latency'},
  {key: 'cpu', metric: 'system_cpu_ns_per_packet', unit: 'ns', higherIsBetter: false, value: (s) => s.cpu.busyNsPerPacket},
  {key: 'prog', metric: 'fast_path_ns_per_packet', unit: 'ns', higherIsBetter: false, value: (s) => s.prog?.nsPerPacket, when: (b) => b.mode.mode !== 'kernel', from: 'stats'},
]

/** Counted runs: no warm-up. */
export const measured = (b: Bucket) => b.runs.filter((r) => !r.warmup)
/** Counted runs of the load alone: throughput, loss, CPU come from these. */
export const loadRuns = (b: Bucket) => measured(b).filter((r) => !r.latency)
/** Counted runs with the latency probe beside the load: latency under load comes from these. */
export const latencyRunsOf = (b: Bucket) => measured(b).filter((r) => r.latency)
/** Counted runs with bpf_stats on: the fast path's ns per packet comes from these. */
export const statsRunsOf = (b: Bucket) => measured(b).filter((r) => r.bpfStats)
const runsFor = (m: MetricDef) => (m.from === 'latency' ? latencyRunsOf : m.from === 'stats' ? statsRunsOf : loadRuns)
export const caseBase = (b: Bucket) => `${b.mode.mode}/${pointId(b.point)}`

export function caseParams(b: Bucket, spec: AccelSpec): Record<string, string | number | boolean> {
  return {
    mode: b.mode.mode,
    protocol: b.point.protocol,
    rate: formatRate(b.point.rate),
    size: b.point.size ?? 'default',
    streams: spec.streams,
    end: endLabel(spec.end),
    family: spec.family,
    ...b.mode.params,
  }
}

/** Why the bucket's case fails (its runs were not a measurement of its mode), or undefined. */
export function bucketProblem(b: Bucket): string | undefined {
  const bad = measured(b).filter((r) => r.problem)
  const parts: string[] = []
  if (bad.length > 0) parts.push(`${bad.length} of ${measured(b).length} runs: ${bad[0].problem}`)
  if (b.errors.length > 0) parts.push(`${b.errors.length} run(s) failed: ${b.errors[0]}`)
  return parts.length > 0 ? parts.join('; ') : undefined
}

/** The runs that limited by something other than the DUT, in words (most runs must agree). */
export function bucketBottleneck(b: Bucket): string | undefined {
  const runs = loadRuns(b)
  const flagged = runs.filter((r) => r.bottleneck)
  if (runs.length === 0 || flagged.length * 2 < runs.length) return undefined
  return flagged[0].bottleneck
}

export function buildCases(buckets: Bucket[], spec: AccelSpec): CaseResult[] {
  const out: CaseResult[] = []
  const baseline = (p: Point) => buckets.find((x) => x.point === p && x.mode.mode === 'kernel')
  for (const b of buckets) {
    const params = caseParams(b, spec)
    if (b.mode.skipped) {
      out.push(measuredCase({id: `${caseBase(b)}/bitrate`, params, metric: METRICS[0].metric, unit: METRICS[0].unit, higherIsBetter: true, samples: [], status: 'skipped', reason: b.mode.skipped}))
      continue
    }
    const problem = bucketProblem(b)
    const runs = loadRuns(b)
    const base = baseline(b.point)
    for (const m of METRICS) {
      if (m.when && !m.when(b)) continue
      const samples = defined(runsFor(m)(b).map(m.value))
      if (m.key !== 'bitrate' && samples.length === 0) continue
      const extra: Record<string, unknown> = {}
      if (base && base !== b && !base.mode.skipped) {
        const bs = defined(runsFor(m)(base).map(m.value))
        if (bs.length > 0 && samples.length > 0) extra.vsKernel = impactRecord(welch(bs, samples))
      }
      if (m.key === 'bitrate') {
        extra.label = b.mode.label
        extra.point = pointLabel(b.point)
        extra.runs = b.runs
        if (b.errors.length > 0) extra.errors = b.errors
        const bn = bucketBottleneck(b)
        if (bn) extra.bottleneck = bn
        const shares = defined(runs.map((r) => r.fastPath?.share))
        if (shares.length > 0) extra.fastPathShare = {min: Math.min(...shares), mean: mean(shares), from: runs.find((r) => r.fastPath)?.fastPath?.from}
      }
      const c = measuredCase({id: `${caseBase(b)}/${m.key}`, params, metric: m.metric, unit: m.unit, higherIsBetter: m.higherIsBetter, samples, extra})
      if (problem && c.status === 'ok') {
        c.status = 'failed'
        c.reason = problem
      }
      out.push(c)
    }
  }
  return out
}

function impactRecord(w: Welch): Record<string, unknown> {
  return {diff: w.diff, relative: w.relative, p: w.p, df: w.df, ci95: w.ci95, significant: w.significant, text: describeImpact(w)}
}

// ------------------------------------------------------------------ the table
export interface TableRow {
  point: string
  configuration: string
  n: number
  bitrate: string
  loss: string
  latencyP99: string
  cpu: string
  impact: string
  significant: string
  status: 'ok' | 'failed' | 'skipped'
  note?: string
}

const fmt = (x: number | undefined, digits = 0) => (x === undefined ? '—' : x.toFixed(digits))
const mbps = (xs: number[]) => {
  if (xs.length === 0) return '—'
  const s = summarize(xs.map((x) => x / 1e6))
  return `${s.mean.toFixed(s.mean >= 100 ? 0 : 1)}±${s.sd.toFixed(s.sd >= 10 ? 0 : 1)}`
}

export function tableRows(buckets: Bucket[]): TableRow[] {
  const rows: TableRow[] = []
  for (const b of buckets) {
    const point = pointLabel(b.point)
    if (b.mode.skipped) {
      rows.push({point, configuration: b.mode.label, n: 0, bitrate: '—', loss: '—', latencyP99: '—', cpu: '—', impact: 'skipped', significant: '—', status: 'skipped', note: b.mode.skipped})
      continue
    }
    const runs = loadRuns(b)
    const bits = runs.map((r) => r.bitsPerSecond)
    const base = buckets.find((x) => x.point === b.point && x.mode.mode === 'kernel' && !x.mode.skipped)
    let impact = b.mode.mode === 'kernel' ? 'baseline' : '—'
    let significant = '—'
    if (base && base !== b && bits.length > 0 && loadRuns(base).length > 0) {
      const w = welch(loadRuns(base).map((r) => r.bitsPerSecond), bits)
      impact = describeImpact(w)
      significant = w.significant ? 'yes' : 'no'
    }
    const loss = b.point.protocol === 'udp' ? `${fmt(mean(defined(runs.map((r) => r.lossPercent))), 2)}%` : `${fmt(mean(defined(runs.map((r) => r.retransmits))))} retr`
    const p99 = mean(defined(latencyRunsOf(b).map((r) => r.rtt.p99Us)))
    const cpu = mean(defined(runs.map((r) => r.cpu.busyNsPerPacket)))
    const prog = mean(defined(statsRunsOf(b).map((r) => r.prog?.nsPerPacket)))
    const problem = bucketProblem(b)
    const bn = bucketBottleneck(b)
    rows.push({
      point,
      configuration: b.mode.label,
      n: runs.length,
      bitrate: mbps(bits),
      loss,
      latencyP99: p99 === undefined ? '—' : `${p99.toFixed(0)} µs`,
      cpu: `${fmt(cpu)}${prog === undefined ? '' : ` (prog ${prog.toFixed(0)})`}`,
      impact,
      significant,
      status: problem ? 'failed' : 'ok',
      note: problem ? `FAILED: ${problem}` : bn ? `limited by the ${bn}` : undefined,
    })
  }
  return rows
}

/** The table in the spirit of the seed's: one block per grid point, a line per configuration. */
export function renderTable(rows: TableRow[], opts: {color?: (s: string, kind: 'bad' | 'dim' | 'head') => string} = {}): string {
  const c = opts.color ?? ((s: string) => s)
  const head = ['Configuration', 'n', 'Bitrate (Mbit/s)', 'Loss', 'Latency P99', 'CPU ns/pkt', 'Impact vs baseline', 'significant?']
  const body: string[][] = []
  const notes = new Map<number, string>() // body row → the note printed under it, outside the columns
  let last = ''
  for (const r of rows) {
    if (r.point !== last) {
      body.push([c(r.point, 'head'), ...head.slice(1).map(() => '')])
      last = r.point
    }
    const paint = (x: string) => (r.status === 'failed' ? c(x, 'bad') : r.status === 'skipped' ? c(x, 'dim') : x)
    body.push([`  ${r.configuration}`, String(r.n), r.bitrate, r.loss, r.latencyP99, r.cpu, r.impact, r.significant].map(paint))
    if (r.note) notes.set(body.length - 1, c(`      ${r.note}`, r.status === 'failed' ? 'bad' : 'dim'))
  }
  const lines = renderRows(head, body, {head: (x) => c(x, 'head')}).split('\n')
  return [...lines.slice(0, 2), ...lines.slice(2).flatMap((l, k) => (notes.has(k) ? [l, notes.get(k)!] : [l]))].join('\n')
}

/** The closing words: which cases the generator limited, what that means here. */
export function conclusions(buckets: Bucket[], cpus: number): string[] {
  const live = buckets.filter((b) => !b.mode.skipped && measured(b).length > 0)
  const limited = live.filter((b) => bucketBottleneck(b))
  const failed = live.filter((b) => bucketProblem(b))
  const lines: string[] = []
  if (limited.length > 0) {
    lines.push(
      `${limited.length} of ${live.length} configurations were limited by the load generator or the machine, not by the DUT ` +
        `(iperf3's sender or receiver at ≥ 90% of a CPU, or every CPU busy; ${cpus} CPUs here). On veth the DUT's forwarding runs ` +
        'in the softirq of the sending CPU, so generator, DUT and receiver share the same cores: differences between modes ' +
        'in those configurations measure where the shared CPU went, not what a separate DUT could forward.',
    )
  }
  if (live.some((b) => measured(b).some((r) => r.cpu.busyFraction >= 0.95))) {
    lines.push('CPU ns/pkt is the whole machine\'s busy time per delivered packet: with every CPU busy, other work on the machine is in it too; compare it only between the modes of one point, measured interleaved.')
  }
  if (failed.length > 0) lines.push(`${failed.length} configuration(s) FAILED: the path under test did not carry the traffic (see above); their figures are not measurements of that mode.`)
  const nsd = live.filter((b) => b.mode.mode !== 'kernel').length
  if (nsd > 0) lines.push('Impact is Welch\'s t-test of each mode against the kernel baseline at the same point; p ≥ 0.05 reads "no significant difference".')
  return lines
}

export const CSV_HEADER = [
  'case', 'mode', 'configuration', 'protocol', 'rate', 'size', 'rep', 'warmup', 'latency_run', 'bits_per_second', 'packets_per_second', 'packets_estimated',
  'loss_percent', 'jitter_ms', 'retransmits', 'rtt_p50_us', 'rtt_p95_us', 'rtt_p99_us', 'probe_loss_percent', 'cpu_ns_per_packet', 'cpu_busy_percent',
  'sender_cpu_percent', 'receiver_cpu_percent', 'harness_cpu_percent', 'bpf_stats', 'prog_ns_per_packet', 'prog_run_cnt', 'fast_path_forwarded', 'fast_path_passed', 'kernel_forwarded',
  'fast_path_share', 'problem', 'bottleneck',
]

export function csvOf(buckets: Bucket[]): string {
  const rows: (string | number | undefined)[][] = []
  for (const b of buckets) {
    for (const r of b.runs) {
      rows.push([
        caseBase(b), b.mode.mode, b.mode.label, b.point.protocol, formatRate(b.point.rate), b.point.size ?? 'default', r.rep, r.warmup ? 1 : 0, r.latency ? 1 : 0,
        r.bitsPerSecond, r.packetsPerSecond, r.packetsEstimated ? 1 : 0, r.lossPercent, r.jitterMs, r.retransmits, r.rtt.p50Us, r.rtt.p95Us, r.rtt.p99Us,
        r.rtt.lossPercent, r.cpu.busyNsPerPacket, r.cpu.busyFraction * 100, r.cpu.senderPercent, r.cpu.receiverPercent, r.cpu.harnessPercent, r.bpfStats ? 1 : 0, r.prog?.nsPerPacket, r.prog?.runCnt,
        r.verdicts?.forwarded, r.verdicts?.passedData, r.kernelForwarded, r.fastPath?.share, r.problem, r.bottleneck,
      ])
    }
  }
  return toCsv(CSV_HEADER, rows)
}
