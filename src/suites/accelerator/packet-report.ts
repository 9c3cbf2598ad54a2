// The packet tests' results: cases for the result file (throughput, cost per frame, the DUT's own cost,
// latency, frame loss), the answer sentence, the table and the CSV rows. Ratios against the kernel are
// paired by round (the paths of a round ran within seconds of each other, so the machine's drift divides
// out); Welch's test on the rounds is kept beside them as elsewhere in the suite.
import type {CaseResult} from '../../results/store.js'
import {toCsv} from '../../results/store.js'
import {renderTable as renderRows} from '../../results/table.js'
import {describeImpact, pairedLogRatio, summarize, welch} from '../../results/stats.js'
import {measuredCase} from '../common.js'
import {GENERATOR_PATH, counted, throughputs, type PacketBucket} from './packets.js'

/** The generator alone must reach this multiple of the best path, or the paths are generator-bound. */
export const GENERATOR_HEADROOM = 1.5

const isGenerator = (b: PacketBucket) => b.path.info.mode === GENERATOR_PATH.mode
const caseBase = (b: PacketBucket) => `frames/${b.path.info.mode}/${b.size}B`
const meanOf = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, x) => a + x, 0) / xs.length)

/** Round-paired values of two buckets (rounds both measured). */
function paired(a: PacketBucket, b: PacketBucket, f: (pps: number) => number = (x) => x): [number[], number[]] {
  const byRep = new Map(counted(a).map((r) => [r.rep, r.throughput.pps]))
  const pairs = counted(b).filter((r) => byRep.has(r.rep) && byRep.get(r.rep)! > 0 && r.throughput.pps > 0)
  return [pairs.map((r) => f(byRep.get(r.rep)!)), pairs.map((r) => f(r.throughput.pps))]
}

export interface SizeVerdict {
  size: number
  generatorPps?: number
  bestPps: number
  /** the generator alone did not reach GENERATOR_HEADROOM × the best path */
  generatorBound: boolean
}

export function sizeVerdicts(buckets: PacketBucket[]): SizeVerdict[] {
  const sizes = [...new Set(buckets.map((b) => b.size))]
  return sizes.map((size) => {
    const here = buckets.filter((b) => b.size === size)
    const gen = here.find(isGenerator)
    const generatorPps = gen ? meanOf(throughputs(gen)) : undefined
    const bestPps = Math.max(0, ...here.filter((b) => !isGenerator(b)).map((b) => meanOf(throughputs(b))).filter(Number.isFinite))
    return {size, generatorPps, bestPps, generatorBound: !(generatorPps !== undefined && generatorPps >= GENERATOR_HEADROOM * bestPps)}
  })
}

export function bucketProblem(b: PacketBucket): string | undefined {
  const bad = counted(b).filter((r) => r.proof.problem)
  const parts: string[] = []
  if (bad.length > 0) parts.push(`${bad.length} of ${counted(b).length} rounds: ${bad[0].proof.problem}`)
  if (b.errors.length > 0) parts.push(`${b.errors.length} trial(s) failed: ${b.errors[0]}`)
  return parts.length > 0 ? parts.join('; ') : undefined
}

/** A path's frame rate against kernel forwarding: the ratio paired by round, and Welch's test on the rounds. */
interface KernelRatio {
  ratio: number
  ratioCi95: number[]
  pairs: number
  significant: boolean
  welch: {p: number; relative: number; significant: boolean; text: string}
}

function ratioRecord(kernel: PacketBucket | undefined, b: PacketBucket): KernelRatio | undefined {
  if (!kernel || kernel === b || isGenerator(b)) return undefined
  const [k, x] = paired(kernel, b)
  if (k.length < 2) return undefined
  const r = pairedLogRatio(k, x)
  const w = welch(throughputs(kernel), throughputs(b))
  const welchRecord = {p: w.p, relative: w.relative, significant: w.significant, text: describeImpact(w)}
  return {ratio: 1 + r.relative, ratioCi95: r.relativeCi.map((v) => 1 + v), pairs: k.length, significant: r.significant, welch: welchRecord}
}

/** Per round: the DUT's own ns per frame, the path's cost less the generator's in the same round. */
function dutNs(gen: PacketBucket | undefined, b: PacketBucket): number[] {
  if (!gen || isGenerator(b)) return []
  const [g, x] = paired(gen, b, (pps) => 1e9 / pps)
  return x.map((v, i) => v - g[i])
}

export function packetCases(buckets: PacketBucket[], opts: {oneCpu: boolean}): CaseResult[] {
  const out: CaseResult[] = []
  const verdicts = sizeVerdicts(buckets)
  for (const b of buckets) {
    const here = buckets.filter((x) => x.size === b.size)
    const kernel = here.find((x) => x.path.info.mode === 'kernel')
    const gen = here.find(isGenerator)
    const v = verdicts.find((x) => x.size === b.size)!
    const params = {mode: b.path.info.mode, frame_size: b.size, load: 'live-frames', ...b.path.info.params}
    const pps = throughputs(b)
    const problem = bucketProblem(b)
    const vsKernel = ratioRecord(kernel, b)
    const dut = opts.oneCpu ? dutNs(gen, b) : []
    const extra: Record<string, unknown> = {
      label: b.path.info.label,
      gbps: pps.map((p) => (p * b.size * 8) / 1e9),
      searches: counted(b).map((r) => ({trials: r.throughput.trials.length, atFullSpeed: r.throughput.atFullSpeed, proof: r.proof})),
      generatorPps: v.generatorPps,
      ...(v.generatorBound && !isGenerator(b) ? {bottleneck: `generator (alone ${fmtMpps(v.generatorPps)} < ${GENERATOR_HEADROOM}× the best path's ${fmtMpps(v.bestPps)})`} : {}),
      ...(vsKernel ? {vsKernel} : {}),
      ...(b.errors.length > 0 ? {errors: b.errors} : {}),
    }
    const add = (key: string, metric: string, unit: string, higher: boolean, samples: number[], more: Record<string, unknown> = {}, moreParams = {}) => {
      const c = measuredCase({id: `${caseBase(b)}/${key}`, params: {...params, ...moreParams}, metric, unit, higherIsBetter: higher, samples, extra: more})
      if (problem && c.status === 'ok') Object.assign(c, {status: 'failed', reason: problem})
      out.push(c)
    }
    add('throughput', 'throughput_frames_per_second', 'frame/s', true, pps, extra)
    add('ns_per_frame', 'path_ns_per_frame', 'ns', false, pps.filter((p) => p > 0).map((p) => 1e9 / p))
    if (dut.length > 0) add('dut_ns_per_frame', 'dut_ns_per_frame', 'ns', false, dut)
    if (b.latency.length > 0) {
      const lat = b.latency.filter((t) => t.latency)
      add('latency_p50', 'one_way_latency_p50', 'ns', false, lat.map((t) => t.latency!.p50))
      const avg = (k: 'p50' | 'p90' | 'p99' | 'p999' | 'max') => meanOf(lat.map((t) => t.latency![k]))
      const latency = {p50: avg('p50'), p90: avg('p90'), p99: avg('p99'), p999: avg('p999'), max: avg('max'), unit: 'ns'}
      add('latency_p99', 'one_way_latency_p99', 'ns', false, lat.map((t) => t.latency!.p99), {latency, runs: lat.map((t) => t.latency), offeredPps: lat.map((t) => t.offeredPps)})
    }
    for (const l of b.loss) add(`loss@${rateLabel(l.rate)}`, 'frame_loss_percent', '%', false, [l.trial.loss * 100], {askedPps: l.pps, offeredPps: l.trial.offeredPps, sent: l.trial.sent, received: l.trial.received}, {loss_rate: rateLabel(l.rate)})
  }
  return out
}

export function rateLabel(r: PacketBucket['loss'][number]['rate']): string {
  return 'percent' in r ? `${r.percent}%` : 'pps' in r ? `${fmtMpps(r.pps)}` : `${(r.bps / 1e9).toFixed(2)}Gbit`
}

export const fmtMpps = (pps: number | undefined) => (pps === undefined || !Number.isFinite(pps) ? '—' : `${(pps / 1e6).toFixed(2)} Mpps`)

const x = (v: number) => `${v.toFixed(v >= 10 ? 0 : 1)}×`

/**
 * The answer first, one line per frame size: each fast path's frame rate as a multiple of kernel
 * forwarding with its 95% CI (paired by round), only as strong as the statistics allow, and whether the
 * generator could have gone faster than what it measured.
 */
export function packetAnswer(buckets: PacketBucket[]): string[] {
  const lines: string[] = []
  for (const v of sizeVerdicts(buckets)) {
    const here = buckets.filter((b) => b.size === v.size)
    const kernel = here.find((b) => b.path.info.mode === 'kernel')
    const parts: string[] = []
    for (const b of here.filter((y) => !isGenerator(y) && y !== kernel)) {
      const r = ratioRecord(kernel, b)
      const name = b.path.info.label.split(' (')[0].toUpperCase()
      if (bucketProblem(b)) parts.push(`${name}: no answer (its proof failed)`)
      else if (!r) parts.push(`${name}: too few rounds to compare`)
      else if (!r.significant) parts.push(`${name}: no difference from the kernel could be told from noise (${x(r.ratio)}, 95% CI ${x(r.ratioCi95[0])}–${x(r.ratioCi95[1])})`)
      else parts.push(`${name} forwarded ${x(r.ratio)} (95% CI ${x(r.ratioCi95[0])}–${x(r.ratioCi95[1])}) the frames of kernel forwarding`)
    }
    const gen = v.generatorPps === undefined
      ? 'the generator alone was not measured'
      : v.generatorBound
        ? `GENERATOR-BOUND: the generator alone reached ${fmtMpps(v.generatorPps)}, under ${GENERATOR_HEADROOM}× the best path's ${fmtMpps(v.bestPps)}`
        : `generator not the bottleneck (alone ${fmtMpps(v.generatorPps)}, ${x(v.generatorPps / v.bestPps)} the best path)`
    if (parts.length > 0 || kernel) lines.push(`At ${v.size} B: ${[...parts, gen].join('; ')}.`)
  }
  return lines
}

const mppsSd = (xs: number[]) => {
  if (xs.length === 0) return '—'
  const s = summarize(xs.map((v) => v / 1e6))
  return `${s.mean.toFixed(2)}±${s.sd.toFixed(2)}`
}
const ns = (xs: number[]) => (xs.length === 0 ? '—' : meanOf(xs).toFixed(0))
const us = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : (v / 1000).toFixed(1))

/** oneCpu: false when several generator CPUs ran (1 / rate is then no cost per frame, and no DUT share is derived). */
export function packetTable(buckets: PacketBucket[], opts: {color?: (s: string, kind: 'bad' | 'dim' | 'head') => string; oneCpu?: boolean} = {}): string {
  const c = opts.color ?? ((s: string) => s)
  const head = ['Path', 'n', 'Mpps', 'Gbit/s', 'ns/frame', 'DUT ns/frame', 'Latency P50/P99 µs', 'vs kernel (95% CI)']
  const body: string[][] = []
  const notes = new Map<number, string[]>() // body row → lines printed under it, outside the columns
  for (const size of [...new Set(buckets.map((b) => b.size))]) {
    body.push([c(`${size} B frames`, 'head'), ...head.slice(1).map(() => '')])
    const here = buckets.filter((b) => b.size === size)
    for (const b of here) {
      const problem = bucketProblem(b)
      const row = tableRow(b, here, opts.oneCpu ?? true)
      body.push(problem ? row.map((s) => c(s, 'bad')) : row)
      const lines = b.loss.map((l) => c(`      frame loss at ${rateLabel(l.rate)}: ${(l.trial.loss * 100).toFixed(3)}% (${offeredText(l.pps, l.trial.offeredPps)})`, 'dim'))
      if (problem) lines.unshift(c(`      FAILED: ${problem}`, 'bad'))
      notes.set(body.length - 1, lines)
    }
  }
  const lines = renderRows(head, body, {head: (s) => c(s, 'head')}).split('\n')
  return [...lines.slice(0, 2), ...lines.slice(2).flatMap((l, k) => [l, ...(notes.get(k) ?? [])])].join('\n')
}

/** A path slower than the asked rate holds a generator on its CPU back (its softirq runs there) instead of losing frames: say so. */
function offeredText(asked: number, offered: number): string {
  if (offered >= asked * 0.95) return `offered ${fmtMpps(offered)}`
  return `asked ${fmtMpps(asked)}, but the path held the generator to ${fmtMpps(offered)}`
}

function tableRow(b: PacketBucket, here: PacketBucket[], oneCpu: boolean): string[] {
  const kernel = here.find((x) => x.path.info.mode === 'kernel')
  const pps = throughputs(b)
  const lat = b.latency.filter((t) => t.latency).map((t) => t.latency!)
  const r = ratioRecord(kernel, b)
  const vs = b === kernel ? 'baseline' : r ? `${x(r.ratio)} (${x(r.ratioCi95[0])}–${x(r.ratioCi95[1])})${r.significant ? '' : ' n.s.'}` : '—'
  const gbps = pps.length ? ((meanOf(pps) * b.size * 8) / 1e9).toFixed(2) : '—'
  const latency = lat.length ? `${us(meanOf(lat.map((l) => l.p50)))}/${us(meanOf(lat.map((l) => l.p99)))}` : '—'
  const cost = oneCpu ? [ns(pps.map((p) => 1e9 / p)), ns(dutNs(here.find(isGenerator), b))] : ['—', '—']
  return [`  ${b.path.info.label}`, String(pps.length), mppsSd(pps), gbps, ...cost, latency, vs]
}

export const PACKET_CSV_HEADER = [
  'case', 'mode', 'configuration', 'frame_size', 'test', 'rep', 'warmup', 'asked_pps', 'offered_pps', 'delivered_pps', 'sent', 'received', 'lost', 'loss_percent',
  'reordered', 'duplicates', 'latency_p50_ns', 'latency_p99_ns', 'latency_max_ns', 'generator_counted', 'dut_forwarded', 'proof_from', 'problem',
]

export function packetCsv(buckets: PacketBucket[]): string {
  const rows: (string | number | undefined)[][] = []
  for (const b of buckets) {
    const row = (test: string, rep: number | string, warm: boolean, t: import('../../workloads/pktgen.js').Trial, proof?: import('./packets.js').Proof) => [
      caseBase(b), b.path.info.mode, b.path.info.label, b.size, test, rep, warm ? 1 : 0, t.pps, t.offeredPps, t.deliveredPps, t.sent, t.received, t.lost, t.loss * 100,
      t.reordered, t.duplicates, t.latency?.p50, t.latency?.p99, t.latency?.max, t.genCounted === t.sent ? 1 : 0, proof?.dutForwarded, proof?.from, proof?.problem,
    ]
    for (const r of b.rounds) for (const t of r.throughput.trials) rows.push(row('throughput', r.rep, r.warmup, t, r.proof))
    for (const [i, t] of b.latency.entries()) rows.push(row('latency', i, false, t))
    for (const l of b.loss) rows.push(row(`loss@${rateLabel(l.rate)}`, 0, false, l.trial))
  }
  return toCsv(PACKET_CSV_HEADER, rows)
}
