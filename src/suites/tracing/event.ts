// Layer 1 and 2: what one event costs. The addon's trigger thread, pinned to one CPU, fires an attach point a
// known number of times (getpgid, or the addon's own function for uprobes) with and without a program on it.
// Every configuration's sample sits between two baseline samples of the same trigger, so its figure is a
// paired difference: ns(config) - mean(ns(baseline before), ns(baseline after)). Programs' own cost comes from
// bpf_stats (run_time_ns / run_cnt); the cost of bpf_stats itself is stats-on minus stats-off, paired by round.
import {readdirSync, readlinkSync} from 'node:fs'
import {readText} from '../../kernel/runtime.js'
import type {Native} from '../../native.js'
import {interleaved} from '../common.js'
import {mean, percentile, summarize, type Summary} from '../../results/stats.js'
import type {TraceKind} from '../../native.js'
import {triggerOf, type Trigger} from './kinds.js'
import {diffCounts, type Body, type Loaded, type Programs} from './programs.js'

export interface EventConfig {
  id: string
  kind: TraceKind
  body: Body
  stats: boolean
  trigger: Trigger
  target: string
  loaded: Loaded
}

export interface EventOptions {
  repeat: number
  warmup: number
  /** Wall time one sample aims at, ms (the trigger count is calibrated in the warm-up). */
  sampleMs: number
  /** Timed chunks per sample; a sample's figure is the median chunk (robust to a preempted chunk). */
  chunks: number
  cpu: number
  /** Run the trigger thread SCHED_FIFO while it fires (other tasks on its CPU wait). */
  realtime: boolean
  maxCv: number
  signal?: AbortSignal
  progress?: (line: string) => void
}

export interface EventRow {
  id: string
  kind: TraceKind
  body: string
  builtin: boolean
  stats: boolean
  trigger: Trigger
  target: string
  program: string
  status: 'ok' | 'failed' | 'skipped'
  reason?: string
  /** ns added per trigger, one per round (paired differences). */
  samples: number[]
  added?: Summary
  /** ns per trigger with the program attached. */
  configNs: number[]
  /** bpf_stats: run_time_ns / run_cnt per stats-on sample. */
  progNs: number[]
  progCost?: Summary
  /** Triggers fired in counted samples, the program's runs in stats-on samples, map-counted trigger events. */
  triggers: number
  runCnt: number
  mapMine: number
  recursionMisses: number
  /** Round of each sample (stats-on and stats-off samples pair by round). */
  rounds: number[]
  /** Stats-off samples during which run_cnt grew (another process had bpf_stats on), after two retries: left out. */
  contaminated: number
  statsLeak: boolean
  retries: number
  /** Context switches suffered by the trigger thread over the counted samples. */
  involuntary: number
  proof: string
  verdict: string
  noisy: boolean
  /** 95% CI half-width ≤ max(5% of the figure, 2 ns). */
  precise: boolean
}

export interface StatsCostRow {
  kind: TraceKind
  body: string
  samples: number[]
  summary?: Summary
  verdict: string
}

export interface EventLayer {
  tid: number
  cpu: number
  realtime: boolean
  realtimeError?: string
  rows: EventRow[]
  /** localCv: the baseline's sample-to-sample variation within a round (sd of successive differences / √2 / mean). */
  baselines: Partial<Record<Trigger, {samples: number[]; summary: Summary; localCv: number; count: number}>>
  statsCost: StatsCostRow[]
  counts: Record<string, number>
  interrupted: boolean
}

/** Precise enough to report: half-width within 5% of the figure or 2 ns, whichever is larger. */
export function precisionMet(s: Summary | undefined): boolean {
  if (!s || s.n < 2) return false
  return s.halfWidth <= Math.max(0.05 * Math.abs(s.mean), 2)
}

/**
 * In words, for a difference in ns: never a signed figure when the CI holds 0, the machine is too noisy, or the
 * samples are contaminated (bpf_stats turned on by another process during stats-off samples).
 */
export function describeNs(s: Summary | undefined, noisyWhy?: string, contaminated?: string): string {
  if (!s || s.n < 2) return 'not enough samples'
  if (noisyWhy) return `too noisy to tell (${noisyWhy})`
  if (contaminated) return `cannot tell: ${contaminated}`
  if (s.ci95[0] <= 0 && s.ci95[1] >= 0) return 'no significant difference (95% CI holds 0)'
  return `${s.mean >= 0 ? '+' : ''}${s.mean.toFixed(1)} ns ±${s.halfWidth.toFixed(1)}`
}

/**
 * A sample's figure from its timed chunks: ns per trigger at the lower quartile of the chunks. A chunk during
 * which another task ran on the trigger's CPU is slower, never faster, so the lower quartile estimates the
 * undisturbed cost (for the baseline and the configuration alike) and one disturbed chunk cannot move it; the
 * mean is kept beside it.
 */
export function chunkFigure(chunkNs: number[], perChunk: number): {ns: number; meanNs: number} {
  const per = chunkNs.map((x) => x / perChunk)
  return {ns: percentile(per, CHUNK_QUANTILE), meanNs: mean(per)}
}

export const CHUNK_QUANTILE = 0.25

/** The baseline for a sample between baselines `prev` and `next`: their mean, unless they disagree by more than 2%, then the median of the two and the round's median. */
export function localBaseline(prev: number, next: number, roundMedian: number): number {
  if (Math.abs(prev - next) <= 0.02 * Math.min(prev, next)) return (prev + next) / 2
  const xs = [prev, next, roundMedian].sort((a, b) => a - b)
  return xs[1]
}

/** Bookkeeping syscalls of the trigger thread (getrusage, futex) that also fire sys_enter around a loop. */
export const TRIGGER_SLACK = 64

interface Sample {
  ns: number
  meanNs: number
  involuntary: number
  runCnt: number
  runTimeNs: number
  recursionMisses: number
  mine: number
  migrated: boolean
}

/** Both triggers, in the order each round measures them. */
const TRIGGERS = ['syscall', 'uprobe'] as const

/** Triggers per proof sample: enough to see every one counted, few enough for a uprobe's ~µs each. */
const PROOF_TRIGGERS: Record<Trigger, number> = {syscall: 4000, uprobe: 400}

/** What one run of the layer carries from step to step. */
interface EventRun {
  native: Native
  programs: Programs
  configs: EventConfig[]
  opts: EventOptions
  layer: EventLayer
  rows: Map<EventConfig, EventRow>
  /** Triggers per sample, by trigger (its baseline) or by configuration id. */
  counts: Map<string, number>
  /** The addon's trigger function (1..n) each uprobe configuration fires; 0, the unprobed twin, is their baseline. */
  fnOf: Map<EventConfig, number>
  /** Uprobe configurations attached for the whole layer, detached at its end. */
  attached: EventConfig[]
  /** Baseline samples per trigger, and each baseline minus the one before it within a round (its local noise). */
  baseline: Record<Trigger, number[]>
  steps: Record<Trigger, number[]>
}

/** Where a trigger's part of a round sits: its rep (< 0 in the warm-up) and its number among the rounds. */
interface RoundAt {
  rep: number
  roundNo: number
  totalRounds: number
}

/** A configuration's sample waiting for the baselines around it. */
interface Pending {
  c: EventConfig
  ns: number
  prev: number
  next: number
}

/**
 * The per-event layer, in the order bootstrap.c would run it: open (the trigger thread and one row per
 * configuration), configure (triggers per sample; a trigger function per uprobe), attach (the uprobes), prove
 * each program fires, measure in interleaved rounds, clean up (detach, stop the thread), then judge the figures.
 */
export async function runEventLayer(programs: Programs, configs: EventConfig[], opts: EventOptions): Promise<EventLayer> {
  const run = openEventRun(programs, configs, opts)
  await calibrateCounts(run)
  bindTriggerFunctions(run)
  attachUprobes(run)
  try {
    await proveFiring(run)
    await measureRounds(run)
  } finally {
    for (const c of run.attached) programs.detach(c.loaded)
    run.native.triggerStop()
  }
  judgeLayer(run)
  return run.layer
}

/** Starts the trigger thread and points every program's counters at it: one empty row per configuration. */
function openEventRun(programs: Programs, configs: EventConfig[], opts: EventOptions): EventRun {
  const native: Native = programs.native
  const {tid, cpu, realtime, realtimeError} = native.triggerStart(opts.cpu, opts.realtime)
  const layer: EventLayer = {tid, cpu, realtime, realtimeError, rows: [], baselines: {}, statsCost: [], counts: {}, interrupted: false}
  const rows = new Map<EventConfig, EventRow>()
  for (const c of configs) {
    programs.setTarget(c.loaded, tid)
    rows.set(c, emptyRow(c))
  }
  const baseline = {syscall: [], uprobe: []}
  const steps = {syscall: [], uprobe: []}
  return {native, programs, configs, opts, layer, rows, counts: new Map(), fnOf: new Map(), attached: [], baseline, steps}
}

function emptyRow(c: EventConfig): EventRow {
  return {
    id: c.id,
    kind: c.kind,
    body: c.body.name,
    builtin: c.body.builtin,
    stats: c.stats,
    trigger: c.trigger,
    target: c.target,
    program: c.loaded.program,
    status: 'ok',
    samples: [],
    configNs: [],
    progNs: [],
    triggers: 0,
    runCnt: 0,
    mapMine: 0,
    recursionMisses: 0,
    statsLeak: false,
    rounds: [],
    contaminated: 0,
    retries: 0,
    involuntary: 0,
    proof: '',
    verdict: '',
    noisy: false,
    precise: false,
  }
}

/** The first failure of a configuration is its reason; it takes no further samples. */
function failRow(run: EventRun, c: EventConfig, why: string): void {
  const r = run.rows.get(c)!
  if (r.status === 'ok') Object.assign(r, {status: 'failed', reason: why})
}

function isAborted(run: EventRun): boolean {
  return run.opts.signal?.aborted === true
}

/** Triggers per sample for a trigger that costs `ns`: about sampleMs of work, a whole number of chunks, bounded both ways. */
function countFor(opts: EventOptions, ns: number): number {
  const n = Math.round((opts.sampleMs * 1e6) / Math.max(ns, 0.5))
  return Math.max(opts.chunks * 50, Math.min(opts.chunks * 5_000_000, Math.ceil(n / opts.chunks) * opts.chunks))
}

/** Fires `trigger` count times on the trigger thread (uprobes: trigger function fn); ns per trigger, and whether the thread left its CPU. */
async function fire(run: EventRun, trigger: Trigger, count: number, fn = 0): Promise<Omit<Sample, 'runCnt' | 'runTimeNs' | 'recursionMisses' | 'mine'>> {
  const r = await run.native.triggerRun(trigger, count, run.opts.chunks, fn)
  return {...chunkFigure(r.chunkNs, r.perChunk), involuntary: r.involuntary, migrated: r.cpuBefore !== run.layer.cpu || r.cpuAfter !== run.layer.cpu}
}

/** The count per sample: first from a short run of each trigger in use, then from each configuration's own samples. */
async function calibrateCounts(run: EventRun): Promise<void> {
  for (const trigger of TRIGGERS) {
    if (!run.configs.some((c) => c.trigger === trigger)) continue
    const probe = await fire(run, trigger, run.opts.chunks * 200)
    run.counts.set(trigger, countFor(run.opts, probe.ns))
  }
}

/**
 * Uprobe configurations stay attached for the whole layer, each on a trigger function of its own, because
 * detaching a uprobe takes ~100 ms; their baseline is the unprobed twin, function 0. The others attach per sample.
 */
function bindTriggerFunctions(run: EventRun): void {
  const uprobes = run.configs.filter((c) => c.trigger === 'uprobe')
  const fnCount = uprobes.length > 0 ? run.native.triggerTarget(1).count : 0
  if (uprobes.length > fnCount) throw new Error(`${uprobes.length} uprobe configurations, but the addon has ${fnCount} trigger functions: run fewer bodies or --stats on|off`)
  uprobes.forEach((c, i) => {
    const t = run.native.triggerTarget(i + 1)
    run.fnOf.set(c, i + 1)
    c.target = `${t.path}:0x${t.offset.toString(16)}`
    run.rows.get(c)!.target = t.symbol
  })
}

function attachUprobes(run: EventRun): void {
  for (const c of run.fnOf.keys()) {
    try {
      run.programs.attach(c.loaded, c.target)
      run.attached.push(c)
    } catch (error) {
      failRow(run, c, `attach failed: ${(error as Error).message}`)
    }
  }
}

/** One sample of a configuration: attach (unless it stays attached), bpf_stats on if asked, fire, detach; counters read around it. */
async function sampleConfig(run: EventRun, c: EventConfig, count: number, forceStats = false): Promise<Sample> {
  const {programs, native} = run
  const c0 = programs.counts(c.loaded)
  const s0 = programs.stats(c.loaded)
  const statsFd = c.stats || forceStats ? native.enableStats() : -1
  let m
  try {
    const keep = run.fnOf.has(c)
    if (!keep) programs.attach(c.loaded, c.target)
    try {
      m = await fire(run, c.trigger, count, run.fnOf.get(c) ?? 0)
    } finally {
      if (!keep) programs.detach(c.loaded)
    }
  } finally {
    if (statsFd >= 0) native.closeFd(statsFd)
  }
  const s1 = programs.stats(c.loaded)
  const d = diffCounts(c0, programs.counts(c.loaded))
  return {...m, runCnt: s1.runCnt - s0.runCnt, runTimeNs: s1.runTimeNs - s0.runTimeNs, recursionMisses: s1.recursionMisses - s0.recursionMisses, mine: d.mine}
}

/** Proof before measuring: with bpf_stats on, every trigger must have run the program (and the map body counted each one). */
async function proveFiring(run: EventRun): Promise<void> {
  for (const c of run.configs) {
    if (isAborted(run)) break
    if (run.rows.get(c)!.status === 'failed') continue
    const v = PROOF_TRIGGERS[c.trigger]
    let s: Sample
    try {
      s = await sampleConfig(run, c, v, true)
    } catch (error) {
      failRow(run, c, `attach failed: ${(error as Error).message}`)
      continue
    }
    run.counts.set(c.id, countFor(run.opts, s.ns))
    if (s.runCnt < v) failRow(run, c, `program did not fire: run_cnt grew by ${s.runCnt} for ${v} triggers of ${c.target || 'the trigger function'}`)
    else if (isMapBody(c) && (s.mine < v || s.mine > v + TRIGGER_SLACK)) failRow(run, c, `the map counted ${s.mine} events of the trigger thread for ${v} triggers`)
  }
}

const isMapBody = (c: EventConfig) => c.body.builtin && c.body.name === 'map'

/** Rounds, interleaved (warm-up first, not counted); within a round, each trigger's configurations between baselines. */
async function measureRounds(run: EventRun): Promise<void> {
  const order = interleaved(run.configs, run.opts.repeat, run.opts.warmup)
  const reps = [...new Set(order.map((o) => o.rep))]
  for (const [i, rep] of reps.entries()) {
    const at: RoundAt = {rep, roundNo: i + 1, totalRounds: reps.length}
    const inRound = order.filter((o) => o.rep === rep).map((o) => o.config)
    for (const trigger of TRIGGERS) {
      const list = inRound.filter((c) => c.trigger === trigger && run.rows.get(c)!.status === 'ok')
      if (list.length === 0) continue
      await measureTriggerRound(run, at, trigger, list)
      if (isAborted(run)) break
    }
    if (isAborted(run)) {
      run.layer.interrupted = true
      break
    }
  }
}

/** One trigger's part of a round: baseline, configuration, baseline, configuration, … baseline. */
async function measureTriggerRound(run: EventRun, at: RoundAt, trigger: Trigger, list: EventConfig[]): Promise<void> {
  const {opts} = run
  const warm = at.rep < 0
  // rotate by round so that no configuration always follows the same neighbour
  const shift = warm ? 0 : at.rep % list.length
  const seq = [...list.slice(shift), ...list.slice(0, shift)]
  const bCount = run.counts.get(trigger)!
  let prev = await fire(run, trigger, bCount)
  const roundBase = [prev.ns]
  const pending: Pending[] = []
  for (const c of seq) {
    if (isAborted(run)) break
    opts.progress?.(`${warm ? 'warm-up' : `round ${at.roundNo - opts.warmup}/${at.totalRounds - opts.warmup}`}: ${c.id}`)
    const count = run.counts.get(c.id) ?? bCount
    const s = await sampleUncontaminated(run, c, count)
    if (!s) continue
    const next = await fire(run, trigger, bCount)
    roundBase.push(next.ns)
    if (warm) run.counts.set(c.id, countFor(opts, s.ns))
    else if (recordSample(run, c, s, count)) pending.push({c, ns: s.ns, prev: prev.ns, next: next.ns})
    prev = next
  }
  if (!warm) pairWithBaselines(run, trigger, roundBase, pending, at.roundNo - opts.warmup)
}

/**
 * A sample of c; a stats-off sample during which run_cnt grew ran with bpf_stats on (another process turned
 * them on), so it is taken again, up to twice. undefined when attaching failed (the row says why).
 */
async function sampleUncontaminated(run: EventRun, c: EventConfig, count: number): Promise<Sample | undefined> {
  let s: Sample | undefined
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      s = await sampleConfig(run, c, count)
      if (c.stats || s.runCnt === 0) break
      run.rows.get(c)!.retries++
    }
  } catch (error) {
    failRow(run, c, `attach failed: ${(error as Error).message}`)
    return undefined
  }
  return s
}

/** Adds a counted sample's counters to its row and checks them; false when the sample is left out (contaminated). */
function recordSample(run: EventRun, c: EventConfig, s: Sample, count: number): boolean {
  const r = run.rows.get(c)!
  // a stats-off sample that still ran with bpf_stats on measured something else: left out, and counted
  const counted = c.stats || s.runCnt === 0
  if (counted) r.configNs.push(s.ns)
  else r.contaminated++
  r.triggers += count
  r.involuntary += s.involuntary
  r.recursionMisses += s.recursionMisses
  if (c.stats) {
    r.runCnt += s.runCnt
    if (s.runCnt > 0) r.progNs.push(s.runTimeNs / s.runCnt)
    if (s.runCnt < count) failRow(run, c, `program did not fire: run_cnt grew by ${s.runCnt} for ${count} triggers`)
  }
  if (isMapBody(c)) {
    r.mapMine += s.mine
    if (s.mine < count || s.mine > count + TRIGGER_SLACK) failRow(run, c, `the map counted ${s.mine} events of the trigger thread for ${count} triggers`)
  }
  return counted
}

/**
 * Each sample against its own baseline: the mean of the baselines just before and after it, unless one of them
 * was disturbed (then the median of those two and the round's median baseline).
 */
function pairWithBaselines(run: EventRun, trigger: Trigger, roundBase: number[], pending: Pending[], round: number): void {
  const roundMedian = percentile(roundBase, 0.5)
  run.baseline[trigger].push(...roundBase)
  for (let i = 1; i < roundBase.length; i++) run.steps[trigger].push(roundBase[i] - roundBase[i - 1])
  for (const p of pending) {
    const r = run.rows.get(p.c)!
    r.samples.push(p.ns - localBaseline(p.prev, p.next, roundMedian))
    r.rounds.push(round)
  }
}

/** Figures and verdicts: the baselines, each row, then what bpf_stats costs. */
function judgeLayer(run: EventRun): void {
  summarizeBaselines(run)
  for (const c of run.configs) {
    run.layer.counts[c.id] = run.counts.get(c.id) ?? 0
    run.layer.rows.push(judgeRow(run, c))
  }
  run.layer.statsCost = statsCostRows(run.layer.rows)
}

function summarizeBaselines(run: EventRun): void {
  for (const trigger of TRIGGERS) {
    const samples = run.baseline[trigger]
    if (samples.length === 0) continue
    const summary = summarize(samples)
    // sample-to-sample noise of the baseline (what a paired difference sees), as a fraction of the baseline
    const st = run.steps[trigger]
    const localCv = st.length > 1 && summary.mean > 0 ? summarize(st).sd / Math.SQRT2 / summary.mean : 0
    run.layer.baselines[trigger] = {samples, summary, localCv, count: run.counts.get(trigger) ?? 0}
  }
}

function judgeRow(run: EventRun, c: EventConfig): EventRow {
  const r = run.rows.get(c)!
  if (r.samples.length > 0) r.added = summarize(r.samples)
  if (r.progNs.length > 0) r.progCost = summarize(r.progNs)
  const noisyWhy = baselineNoise(run, c.trigger)
  r.noisy = noisyWhy !== undefined
  r.precise = precisionMet(r.added)
  r.statsLeak = r.contaminated > 0
  const tooFew = r.contaminated > 0 && r.samples.length < 2 ? `bpf_stats was on during ${r.contaminated} of its stats-off samples (another process enabled it)` : undefined
  r.verdict = r.status === 'failed' ? `failed: ${r.reason}` : describeNs(r.added, noisyWhy, tooFew)
  r.proof = proofOf(c, r)
  if (r.status === 'ok' && r.samples.length === 0 && r.contaminated > 0) {
    const who = statsHolders()
    Object.assign(r, {status: 'skipped', reason: `every stats-off sample ran with bpf_stats on: another process kept them on${who.length ? ` (${who.join(', ')})` : ''}; run again when it is done, or with --stats on`})
    r.verdict = `cannot tell: ${r.reason}`
  }
  if (r.status === 'ok' && r.samples.length === 0) Object.assign(r, {status: 'failed', reason: run.layer.interrupted ? 'interrupted before a sample was taken' : 'no samples'})
  return r
}

/** Too noisy: the baseline moves from one sample to the next by more than max-cv of itself (and more than 2 ns). */
function baselineNoise(run: EventRun, trigger: Trigger): string | undefined {
  const b = run.layer.baselines[trigger]
  const maxCv = run.opts.maxCv
  if (!(b && b.localCv > maxCv && b.localCv * b.summary.mean > 2)) return undefined
  return `baseline varies ${(b.localCv * 100).toFixed(1)}% from sample to sample > ${(maxCv * 100).toFixed(0)}%`
}

/** What the counters show the program did, in words. */
function proofOf(c: EventConfig, r: EventRow): string {
  const parts = [`${r.triggers} triggers`]
  if (c.stats) parts.push(`run_cnt +${r.runCnt}`)
  if (isMapBody(c)) parts.push(`map: ${r.mapMine} trigger events`)
  if (r.contaminated > 0) parts.push(`${r.contaminated} samples left out: bpf_stats was on (another process)`)
  parts.push('verified with bpf_stats before measuring')
  return parts.join('; ')
}

/** What bpf_stats costs: stats-on minus stats-off of one kind and body, paired by round. */
function statsCostRows(rows: EventRow[]): StatsCostRow[] {
  const byKey = new Map<string, {on?: EventRow; off?: EventRow}>()
  for (const r of rows) {
    const k = `${r.kind}\u0000${r.body}`
    const e = byKey.get(k) ?? {}
    if (r.stats) e.on = r
    else e.off = r
    byKey.set(k, e)
  }
  const out: StatsCostRow[] = []
  for (const {on, off} of byKey.values()) {
    if (!on || !off) continue
    const samples: number[] = []
    on.rounds.forEach((round, i) => {
      const j = off.rounds.indexOf(round)
      if (j >= 0) samples.push(on.samples[i] - off.samples[j])
    })
    const summary = samples.length > 0 ? summarize(samples) : undefined
    const failed = on.status === 'failed' || off.status === 'failed'
    const noisy = on.noisy ? 'baseline too noisy' : undefined
    const leak = samples.length < 2 && off.contaminated > 0 ? 'another process had bpf_stats on during the stats-off samples' : undefined
    out.push({kind: on.kind, body: on.body, samples, summary, verdict: failed ? 'not measured (a case failed)' : describeNs(summary, noisy, leak)})
  }
  return out
}

/** Processes holding a BPF_ENABLE_STATS fd (bpf_stats on while they live): "pid (command)". */
export function statsHolders(): string[] {
  const out: string[] = []
  let pids: string[] = []
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
  } catch {
    return out
  }
  for (const pid of pids) {
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    const holds = fds.some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:bpf-stats'
      } catch {
        return false
      }
    })
    if (!holds) continue
    const cmd = (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ').slice(0, 80)
    out.push(`pid ${pid}${cmd ? ` ${cmd}` : ''}`)
  }
  return out
}

/** The configurations of the per-event layer: kind × body × stats, each with its trigger and target. */
export function eventConfigs(items: {kind: TraceKind; body: Body; loaded: Loaded; target: string; onlyStats?: boolean}[], stats: boolean[]): EventConfig[] {
  const out: EventConfig[] = []
  for (const it of items)
    for (const s of stats.filter((x) => it.onlyStats === undefined || it.onlyStats === x)) out.push({id: `${it.kind}/${it.body.name}/stats-${s ? 'on' : 'off'}`, kind: it.kind, body: it.body, stats: s, trigger: triggerOf(it.kind), target: it.target, loaded: it.loaded})
  return out
}
