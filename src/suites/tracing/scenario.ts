import type {EventOptions} from './event.js'
// Layer 3 (seed 003): a global syscall tracepoint (raw_syscalls/sys_enter) taxes every process, also those it
// does not trace. The trigger thread is such a process: it calls getpgid in a loop while a program on the
// tracepoint traces another pid, filtering it in the kernel (trc_scn_kfilter) or sending every syscall of
// every process to a ring buffer that the addon's consumer thread filters in user space (trc_scn_ring); the
// third configuration traces nothing. Impact on the untraced process's syscall rate, Welch's t-test.
import type {Native, RingCounts} from '../../native.js'
import {interleaved} from '../common.js'
import {describeImpact, percentile, summarize, welch, type Summary, type Welch} from '../../results/stats.js'
import {SCENARIO_OBJECT} from './kinds.js'
import {diffCounts, type Loaded, type Programs} from './programs.js'

export type ScenarioId = 'none' | 'kernel-filter' | 'user-filter'

export const SCENARIO_TITLES: Record<ScenarioId, string> = {
  none: 'no tracing',
  'kernel-filter': 'pid filtered in the kernel',
  'user-filter': 'every event to user space (ring buffer), filtered there',
}

export const SCENARIO_TRACEPOINT = 'raw_syscalls/sys_enter'

export interface ScenarioRow {
  id: ScenarioId
  title: string
  status: 'ok' | 'failed'
  reason?: string
  /** ns per getpgid of the untraced process, one per sample. */
  samples: number[]
  summary?: Summary
  /** syscalls per second, one per sample. */
  rate: number[]
  rateSummary?: Summary
  impact?: Welch
  verdict: string
  triggers: number
  /** Events the program saw (kernel filter) or the consumer read (user filter). */
  events: number
  matched: number
  dropped: number
  consumerCpuNsPerEvent?: number
  proof: string
}

export interface ScenarioLayer {
  tracedPid: number
  rows: ScenarioRow[]
  noisy: boolean
  interrupted: boolean
}

export interface ScenarioOptions extends EventOptions {
  /** The pid the programs trace (never this process): init by default. */
  tracedPid?: number
}

export async function runScenarios(programs: Programs, opts: ScenarioOptions): Promise<ScenarioLayer> {
  const native: Native = programs.native
  const tracedPid = opts.tracedPid ?? 1
  if (tracedPid === process.pid) throw new Error('the scenarios trace another process, not this one')
  const body = {name: 'scenario', object: SCENARIO_OBJECT(), builtin: true, program: () => ''}
  const kfilter = programs.load({...body, program: () => 'trc_scn_kfilter'}, 'tracepoint')
  const ring = programs.load({...body, program: () => 'trc_scn_ring'}, 'tracepoint')
  programs.setTarget(kfilter, tracedPid)
  programs.setTarget(ring, tracedPid)
  native.triggerStart(opts.cpu, opts.realtime)
  const layer: ScenarioLayer = {tracedPid, rows: [], noisy: false, interrupted: false}
  const rows: Record<ScenarioId, ScenarioRow> = {} as Record<ScenarioId, ScenarioRow>
  for (const id of ['none', 'kernel-filter', 'user-filter'] as const)
    rows[id] = {id, title: SCENARIO_TITLES[id], status: 'ok', samples: [], rate: [], verdict: '', triggers: 0, events: 0, matched: 0, dropped: 0, proof: ''}
  const consumerNs: number[] = []

  const measure = async (count: number) => {
    const r = await native.triggerRun('syscall', count, opts.chunks)
    return percentile(r.chunkNs.map((x) => x / r.perChunk), 0.5)
  }
  const probe = await measure(opts.chunks * 200)
  const count = Math.max(opts.chunks * 100, Math.ceil((opts.sampleMs * 1e6) / probe / opts.chunks) * opts.chunks)

  const withProgram = async (l: Loaded, fn: () => Promise<number>) => {
    programs.attach(l, SCENARIO_TRACEPOINT)
    try {
      return await fn()
    } finally {
      programs.detach(l)
    }
  }

  const sample = async (id: ScenarioId): Promise<{ns: number; events: number; matched: number; dropped: number; cpuNs?: number}> => {
    if (id === 'none') return {ns: await measure(count), events: 0, matched: 0, dropped: 0}
    if (id === 'kernel-filter') {
      const c0 = programs.counts(kfilter)
      const ns = await withProgram(kfilter, () => measure(count))
      const d = diffCounts(c0, programs.counts(kfilter))
      return {ns, events: d.events, matched: d.mine, dropped: 0}
    }
    const c0 = programs.counts(ring)
    const h = native.ringStart(ring.ringFd!, tracedPid)
    let ns: number
    let got: RingCounts
    try {
      ns = await withProgram(ring, () => measure(count))
    } finally {
      got = native.ringStop(h) // drains what is left, then stops the consumer thread
    }
    const d = diffCounts(c0, programs.counts(ring))
    return {ns, events: got.events, matched: got.matched, dropped: d.dropped, cpuNs: got.consumerCpuNs}
  }

  const order = interleaved<ScenarioId>(['none', 'kernel-filter', 'user-filter'], opts.repeat, opts.warmup)
  for (const {config: id, rep, warmup} of order) {
    if (opts.signal?.aborted) {
      layer.interrupted = true
      break
    }
    const r = rows[id]
    if (r.status === 'failed') continue
    opts.progress?.(`${warmup ? 'warm-up' : `round ${rep + 1}/${opts.repeat}`}: ${r.title}`)
    let s
    try {
      s = await sample(id)
    } catch (error) {
      Object.assign(r, {status: 'failed', reason: `attach failed: ${(error as Error).message}`})
      continue
    }
    // proof: the program saw every syscall of the trigger (kernel filter), or the consumer read them (user filter)
    if (id !== 'none' && s.events + s.dropped < count) Object.assign(r, {status: 'failed', reason: `program did not see the trigger's syscalls: ${s.events} events (+${s.dropped} dropped) for ${count} syscalls`})
    if (warmup) continue
    r.samples.push(s.ns)
    r.rate.push(1e9 / s.ns)
    r.triggers += count
    r.events += s.events
    r.matched += s.matched
    r.dropped += s.dropped
    if (s.cpuNs !== undefined && s.events > 0) consumerNs.push(s.cpuNs / s.events)
  }
  native.triggerStop()

  const none = rows.none
  if (none.samples.length > 0) none.summary = summarize(none.samples)
  layer.noisy = (none.summary?.cv ?? 0) > opts.maxCv
  for (const r of Object.values(rows)) {
    if (r.samples.length > 0) {
      r.summary = summarize(r.samples)
      r.rateSummary = summarize(r.rate)
    } else if (r.status === 'ok') Object.assign(r, {status: 'failed', reason: layer.interrupted ? 'interrupted before a sample was taken' : 'no samples'})
    if (r.id === 'user-filter' && consumerNs.length > 0) r.consumerCpuNsPerEvent = consumerNs.reduce((a, b) => a + b, 0) / consumerNs.length
    if (r.id !== 'none' && r.samples.length >= 2 && none.samples.length >= 2) {
      r.impact = welch(none.rate, r.rate)
      r.verdict = layer.noisy ? `too noisy to tell (no-tracing cv ${((none.summary?.cv ?? 0) * 100).toFixed(1)}% > ${(opts.maxCv * 100).toFixed(0)}%)` : describeImpact(r.impact)
    } else r.verdict = r.id === 'none' ? 'baseline' : r.status === 'failed' ? `failed: ${r.reason}` : 'not enough samples'
    r.proof =
      r.id === 'none'
        ? `${r.triggers} syscalls`
        : r.id === 'kernel-filter'
          ? `program saw ${r.events} syscalls (${r.triggers} of them the trigger's), ${r.matched} of pid ${tracedPid}`
          : `consumer read ${r.events} events (${r.matched} of pid ${tracedPid}), ${r.dropped} dropped in the kernel`
    layer.rows.push(r)
  }
  programs.close(kfilter)
  programs.close(ring)
  return layer
}
