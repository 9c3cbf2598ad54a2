// Layer 3: a global syscall tracepoint (raw_syscalls/sys_enter) taxes every process, also those it
// does not trace. The trigger thread is such a process: it calls getpgid in a loop while a program on the
// tracepoint traces another pid, filtering it in the kernel (trc_scn_kfilter) or sending every syscall of
// every process to a ring buffer that the addon's consumer thread filters in user space (trc_scn_ring); the
// third configuration traces nothing. Impact on the untraced process's syscall rate, Welch's t-test.
import type {Native, RingCounts} from '../../native.js'
import type {EventOptions} from './event.js'
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

const SCENARIOS: readonly ScenarioId[] = ['none', 'kernel-filter', 'user-filter']

/** What one run of the scenarios carries from step to step. */
interface ScenarioRun {
  native: Native
  programs: Programs
  opts: ScenarioOptions
  layer: ScenarioLayer
  rows: Record<ScenarioId, ScenarioRow>
  kfilter: Loaded
  ring: Loaded
  /** getpgid calls per sample. */
  count: number
  /** The consumer thread's CPU ns per event, one per user-filter sample. */
  consumerNs: number[]
}

/** One sample of a scenario: ns per getpgid, and what the program (or the consumer) saw meanwhile. */
interface ScenarioSample {
  ns: number
  events: number
  matched: number
  dropped: number
  cpuNs?: number
}

/**
 * The scenarios, in bootstrap.c's order: open and configure (load both programs, each tracing another pid;
 * start the trigger thread), calibrate the sample, measure interleaved rounds, clean up, judge.
 */
export async function runScenarios(programs: Programs, opts: ScenarioOptions): Promise<ScenarioLayer> {
  const run = openScenarioRun(programs, opts)
  run.count = await calibrateCount(run)
  await measureScenarios(run)
  run.native.triggerStop()
  judgeScenarios(run)
  programs.close(run.kfilter)
  programs.close(run.ring)
  return run.layer
}

function openScenarioRun(programs: Programs, opts: ScenarioOptions): ScenarioRun {
  const native: Native = programs.native
  const tracedPid = opts.tracedPid ?? 1
  if (tracedPid === process.pid) throw new Error('the scenarios trace another process, not this one')
  const body = {name: 'scenario', object: SCENARIO_OBJECT(), builtin: true, program: () => ''}
  const kfilter = programs.load({...body, program: () => 'trc_scn_kfilter'}, 'tracepoint')
  const ring = programs.load({...body, program: () => 'trc_scn_ring'}, 'tracepoint')
  programs.setTarget(kfilter, tracedPid)
  programs.setTarget(ring, tracedPid)
  native.triggerStart(opts.cpu, opts.realtime)
  const rows = {} as Record<ScenarioId, ScenarioRow>
  for (const id of SCENARIOS) rows[id] = {id, title: SCENARIO_TITLES[id], status: 'ok', samples: [], rate: [], verdict: '', triggers: 0, events: 0, matched: 0, dropped: 0, proof: ''}
  const layer: ScenarioLayer = {tracedPid, rows: [], noisy: false, interrupted: false}
  return {native, programs, opts, layer, rows, kfilter, ring, count: 0, consumerNs: []}
}

/** ns per getpgid: the median of the sample's chunks. */
async function fireSyscalls(run: ScenarioRun, count: number): Promise<number> {
  const r = await run.native.triggerRun('syscall', count, run.opts.chunks)
  return percentile(r.chunkNs.map((x) => x / r.perChunk), 0.5)
}

/** getpgid calls per sample: about sampleMs of them, a whole number of chunks. */
async function calibrateCount(run: ScenarioRun): Promise<number> {
  const {opts} = run
  const probe = await fireSyscalls(run, opts.chunks * 200)
  return Math.max(opts.chunks * 100, Math.ceil((opts.sampleMs * 1e6) / probe / opts.chunks) * opts.chunks)
}

async function withProgram<T>(run: ScenarioRun, l: Loaded, fn: () => Promise<T>): Promise<T> {
  run.programs.attach(l, SCENARIO_TRACEPOINT)
  try {
    return await fn()
  } finally {
    run.programs.detach(l)
  }
}

async function sampleScenario(run: ScenarioRun, id: ScenarioId): Promise<ScenarioSample> {
  const {programs, native, kfilter, ring, count} = run
  if (id === 'none') return {ns: await fireSyscalls(run, count), events: 0, matched: 0, dropped: 0}
  if (id === 'kernel-filter') {
    const c0 = programs.counts(kfilter)
    const ns = await withProgram(run, kfilter, () => fireSyscalls(run, count))
    const d = diffCounts(c0, programs.counts(kfilter))
    return {ns, events: d.events, matched: d.mine, dropped: 0}
  }
  const c0 = programs.counts(ring)
  const h = native.ringStart(ring.ringFd!, run.layer.tracedPid)
  let ns: number
  let got: RingCounts
  try {
    ns = await withProgram(run, ring, () => fireSyscalls(run, count))
  } finally {
    got = native.ringStop(h) // drains what is left, then stops the consumer thread
  }
  const d = diffCounts(c0, programs.counts(ring))
  return {ns, events: got.events, matched: got.matched, dropped: d.dropped, cpuNs: got.consumerCpuNs}
}

/** Interleaved rounds (warm-up first, not counted); a scenario that fails takes no further samples. */
async function measureScenarios(run: ScenarioRun): Promise<void> {
  const {opts, count} = run
  for (const {config: id, rep, warmup} of interleaved([...SCENARIOS], opts.repeat, opts.warmup)) {
    if (opts.signal?.aborted) {
      run.layer.interrupted = true
      break
    }
    const r = run.rows[id]
    if (r.status === 'failed') continue
    opts.progress?.(`${warmup ? 'warm-up' : `round ${rep + 1}/${opts.repeat}`}: ${r.title}`)
    let s
    try {
      s = await sampleScenario(run, id)
    } catch (error) {
      Object.assign(r, {status: 'failed', reason: `attach failed: ${(error as Error).message}`})
      continue
    }
    // proof: the program saw every syscall of the trigger (kernel filter), or the consumer read them (user filter)
    if (id !== 'none' && s.events + s.dropped < count) Object.assign(r, {status: 'failed', reason: `program did not see the trigger's syscalls: ${s.events} events (+${s.dropped} dropped) for ${count} syscalls`})
    if (!warmup) recordScenarioSample(run, r, s)
  }
}

function recordScenarioSample(run: ScenarioRun, r: ScenarioRow, s: ScenarioSample): void {
  r.samples.push(s.ns)
  r.rate.push(1e9 / s.ns)
  r.triggers += run.count
  r.events += s.events
  r.matched += s.matched
  r.dropped += s.dropped
  if (s.cpuNs !== undefined && s.events > 0) run.consumerNs.push(s.cpuNs / s.events)
}

/** Figures and verdicts: each traced scenario's syscall rate against no tracing (Welch), unless no tracing was too noisy. */
function judgeScenarios(run: ScenarioRun): void {
  const {layer, rows} = run
  const none = rows.none
  if (none.samples.length > 0) none.summary = summarize(none.samples)
  layer.noisy = (none.summary?.cv ?? 0) > run.opts.maxCv
  for (const r of Object.values(rows)) {
    if (r.samples.length > 0) {
      r.summary = summarize(r.samples)
      r.rateSummary = summarize(r.rate)
    } else if (r.status === 'ok') Object.assign(r, {status: 'failed', reason: layer.interrupted ? 'interrupted before a sample was taken' : 'no samples'})
    if (r.id === 'user-filter' && run.consumerNs.length > 0) r.consumerCpuNsPerEvent = run.consumerNs.reduce((a, b) => a + b, 0) / run.consumerNs.length
    r.verdict = scenarioVerdict(run, r)
    r.proof = scenarioProof(r, layer.tracedPid)
    layer.rows.push(r)
  }
}

function scenarioVerdict(run: ScenarioRun, r: ScenarioRow): string {
  const none = run.rows.none
  if (r.id !== 'none' && r.samples.length >= 2 && none.samples.length >= 2) {
    r.impact = welch(none.rate, r.rate)
    return run.layer.noisy ? `too noisy to tell (no-tracing cv ${((none.summary?.cv ?? 0) * 100).toFixed(1)}% > ${(run.opts.maxCv * 100).toFixed(0)}%)` : describeImpact(r.impact)
  }
  return r.id === 'none' ? 'baseline' : r.status === 'failed' ? `failed: ${r.reason}` : 'not enough samples'
}

function scenarioProof(r: ScenarioRow, tracedPid: number): string {
  if (r.id === 'none') return `${r.triggers} syscalls`
  if (r.id === 'kernel-filter') return `program saw ${r.events} syscalls (${r.triggers} of them the trigger's), ${r.matched} of pid ${tracedPid}`
  return `consumer read ${r.events} events (${r.matched} of pid ${tracedPid}), ${r.dropped} dropped in the kernel`
}
