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

/** The precision the issue asks for: half-width within 5% of the figure or 2 ns, whichever is larger. */
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
 * A sample's figure is this quantile of its chunks' ns per trigger: a chunk during which another task ran on the
 * trigger's CPU is slower, never faster, so the lower quartile estimates the undisturbed cost (for the baseline
 * and the configuration alike) and one disturbed chunk cannot move it.
 */
/**
 * A sample's figure from its timed chunks: ns per trigger at the lower quartile of the chunks, so a chunk
 * that another task disturbed only raises its own time, not the figure (the mean is kept beside it).
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

export async function runEventLayer(programs: Programs, configs: EventConfig[], opts: EventOptions): Promise<EventLayer> {
  const native: Native = programs.native
  const {tid, cpu, realtime, realtimeError} = native.triggerStart(opts.cpu, opts.realtime)
  const layer: EventLayer = {tid, cpu, realtime, realtimeError, rows: [], baselines: {}, statsCost: [], counts: {}, interrupted: false}
  const rows = new Map<EventConfig, EventRow>()
  for (const c of configs) {
    programs.setTarget(c.loaded, tid)
    rows.set(c, {
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
    })
  }
  const fail = (c: EventConfig, why: string) => {
    const r = rows.get(c)!
    if (r.status === 'ok') Object.assign(r, {status: 'failed', reason: why})
  }
  const aborted = () => opts.signal?.aborted === true

  // ---- the count per sample: calibrated from a short run, then from the warm-up samples
  const counts = new Map<string, number>() // trigger or config id → triggers per sample
  const countFor = (ns: number) => {
    const n = Math.round((opts.sampleMs * 1e6) / Math.max(ns, 0.5))
    return Math.max(opts.chunks * 50, Math.min(opts.chunks * 5_000_000, Math.ceil(n / opts.chunks) * opts.chunks))
  }
  const measure = async (trigger: Trigger, count: number, fn = 0): Promise<Omit<Sample, 'runCnt' | 'runTimeNs' | 'recursionMisses' | 'mine'>> => {
    const r = await native.triggerRun(trigger, count, opts.chunks, fn)
    return {...chunkFigure(r.chunkNs, r.perChunk), involuntary: r.involuntary, migrated: r.cpuBefore !== cpu || r.cpuAfter !== cpu}
  }
  for (const trigger of ['syscall', 'uprobe'] as const) {
    if (!configs.some((c) => c.trigger === trigger)) continue
    const probe = await measure(trigger, opts.chunks * 200)
    counts.set(trigger, countFor(probe.ns))
  }

  // ---- uprobe configurations stay attached for the whole layer, each on a trigger function of its own (detaching a
  // uprobe takes ~100 ms); their baseline is the unprobed twin function 0. The others attach for each sample.
  const persistent = configs.filter((c) => c.trigger === 'uprobe')
  const fnCount = persistent.length > 0 ? native.triggerTarget(1).count : 0
  if (persistent.length > fnCount) throw new Error(`${persistent.length} uprobe configurations, but the addon has ${fnCount} trigger functions: run fewer bodies or --stats on|off`)
  const fnOf = new Map<EventConfig, number>()
  persistent.forEach((c, i) => {
    const t = native.triggerTarget(i + 1)
    fnOf.set(c, i + 1)
    c.target = `${t.path}:0x${t.offset.toString(16)}`
    rows.get(c)!.target = t.symbol
  })
  const baseline: Record<Trigger, number[]> = {syscall: [], uprobe: []}
  const steps: Record<Trigger, number[]> = {syscall: [], uprobe: []} // baseline minus the baseline before it, within a round
  const attached: EventConfig[] = []
  for (const c of persistent) {
    try {
      programs.attach(c.loaded, c.target)
      attached.push(c)
    } catch (error) {
      fail(c, `attach failed: ${(error as Error).message}`)
    }
  }
  try {
    // ---- one sample of a configuration: attach, (stats on), fire, detach; counters read around it
    const sampleConfig = async (c: EventConfig, count: number, forceStats = false): Promise<Sample> => {
      const c0 = programs.counts(c.loaded)
      const s0 = programs.stats(c.loaded)
      const statsFd = c.stats || forceStats ? native.enableStats() : -1
      let m
      try {
        const keep = fnOf.has(c)
        if (!keep) programs.attach(c.loaded, c.target)
        try {
          m = await measure(c.trigger, count, fnOf.get(c) ?? 0)
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

    // ---- proof before measuring: with bpf_stats on, every trigger must have run the program
    for (const c of configs) {
      if (aborted()) break
      if (rows.get(c)!.status === 'failed') continue
      const v = c.trigger === 'uprobe' ? 400 : 4000
      let s: Sample
      try {
        s = await sampleConfig(c, v, true)
      } catch (error) {
        fail(c, `attach failed: ${(error as Error).message}`)
        continue
      }
      counts.set(c.id, countFor(s.ns))
      if (s.runCnt < v) fail(c, `program did not fire: run_cnt grew by ${s.runCnt} for ${v} triggers of ${c.target || 'the trigger function'}`)
      else if (c.body.builtin && c.body.name === 'map' && (s.mine < v || s.mine > v + TRIGGER_SLACK)) fail(c, `the map counted ${s.mine} events of the trigger thread for ${v} triggers`)
    }

    // ---- rounds: interleaved (warm-up first, not counted), each configuration between two baselines
    const live = () => configs.filter((c) => rows.get(c)!.status === 'ok')
    const order = interleaved(configs, opts.repeat, opts.warmup)
    const reps = [...new Set(order.map((o) => o.rep))]
    const totalRounds = reps.length
    let roundNo = 0
    for (const rep of reps) {
      roundNo++
      const warm = rep < 0
      const inRound = order.filter((o) => o.rep === rep).map((o) => o.config)
      for (const trigger of ['syscall', 'uprobe'] as const) {
        const list = inRound.filter((c) => c.trigger === trigger && live().includes(c))
        if (list.length === 0) continue
        // rotate by round so that no configuration always follows the same neighbour
        const shift = rep < 0 ? 0 : rep % list.length
        const seq = [...list.slice(shift), ...list.slice(0, shift)]
        const bCount = counts.get(trigger)!
        let prev = await measure(trigger, bCount)
        const roundBase = [prev.ns]
        const pending: {c: EventConfig; ns: number; prev: number; next: number}[] = []
        const round = roundNo - opts.warmup
        for (const c of seq) {
          if (aborted()) break
          const r = rows.get(c)!
          opts.progress?.(`${warm ? 'warm-up' : `round ${roundNo - opts.warmup}/${totalRounds - opts.warmup}`}: ${c.id}`)
          const count = counts.get(c.id) ?? bCount
          let s: Sample | undefined
          try {
            // a stats-off sample during which run_cnt grew ran with bpf_stats on (another process turned them on):
            // taken again, up to twice
            for (let attempt = 0; attempt < 3; attempt++) {
              s = await sampleConfig(c, count)
              if (c.stats || s.runCnt === 0) break
              r.retries++
            }
          } catch (error) {
            fail(c, `attach failed: ${(error as Error).message}`)
            continue
          }
          if (!s) continue
          const next = await measure(trigger, bCount)
          roundBase.push(next.ns)
          if (warm) {
            counts.set(c.id, countFor(s.ns))
          } else {
            // a stats-off sample that still ran with bpf_stats on measured something else: left out, and counted
            if (c.stats || s.runCnt === 0) {
              pending.push({c, ns: s.ns, prev: prev.ns, next: next.ns})
              r.configNs.push(s.ns)
            } else r.contaminated++
            r.triggers += count
            r.involuntary += s.involuntary
            r.recursionMisses += s.recursionMisses
            if (c.stats) {
              r.runCnt += s.runCnt
              if (s.runCnt > 0) r.progNs.push(s.runTimeNs / s.runCnt)
              if (s.runCnt < count) fail(c, `program did not fire: run_cnt grew by ${s.runCnt} for ${count} triggers`)
            }
            if (c.body.builtin && c.body.name === 'map') {
              r.mapMine += s.mine
              if (s.mine < count || s.mine > count + TRIGGER_SLACK) fail(c, `the map counted ${s.mine} events of the trigger thread for ${count} triggers`)
            }
          }
          prev = next
        }
        if (!warm) {
          // each sample against its own baseline: the mean of the baselines just before and after it, unless one of
          // them was disturbed (then the median of those two and the round's median baseline)
          const roundMedian = percentile(roundBase, 0.5)
          baseline[trigger].push(...roundBase)
          for (let i = 1; i < roundBase.length; i++) steps[trigger].push(roundBase[i] - roundBase[i - 1])
          for (const p of pending) {
            const r = rows.get(p.c)!
            r.samples.push(p.ns - localBaseline(p.prev, p.next, roundMedian))
            r.rounds.push(round)
          }
        }
        if (aborted()) break
      }
      if (aborted()) {
        layer.interrupted = true
        break
      }
    }
  } finally {
    for (const c of attached) programs.detach(c.loaded)
    native.triggerStop()
  }

  // ---- figures and verdicts
  for (const trigger of ['syscall', 'uprobe'] as const) {
    if (baseline[trigger].length === 0) continue
    const summary = summarize(baseline[trigger])
    // sample-to-sample noise of the baseline (what a paired difference sees), as a fraction of the baseline
    const st = steps[trigger]
    const localCv = st.length > 1 && summary.mean > 0 ? summarize(st).sd / Math.SQRT2 / summary.mean : 0
    layer.baselines[trigger] = {samples: baseline[trigger], summary, localCv, count: counts.get(trigger) ?? 0}
  }
  for (const c of configs) {
    const r = rows.get(c)!
    layer.counts[c.id] = counts.get(c.id) ?? 0
    if (r.samples.length > 0) r.added = summarize(r.samples)
    if (r.progNs.length > 0) r.progCost = summarize(r.progNs)
    const b = layer.baselines[c.trigger]
    // too noisy: the baseline moves from one sample to the next by more than max-cv of itself (and more than 2 ns)
    const noisyWhy = b && b.localCv > opts.maxCv && b.localCv * b.summary.mean > 2 ? `baseline varies ${(b.localCv * 100).toFixed(1)}% from sample to sample > ${(opts.maxCv * 100).toFixed(0)}%` : undefined
    r.noisy = noisyWhy !== undefined
    r.precise = precisionMet(r.added)
    r.statsLeak = r.contaminated > 0
    const tooFew = r.contaminated > 0 && r.samples.length < 2 ? `bpf_stats was on during ${r.contaminated} of its stats-off samples (another process enabled it)` : undefined
    r.verdict = r.status === 'failed' ? `failed: ${r.reason}` : describeNs(r.added, noisyWhy, tooFew)
    const parts = [`${r.triggers} triggers`]
    if (c.stats) parts.push(`run_cnt +${r.runCnt}`)
    if (c.body.builtin && c.body.name === 'map') parts.push(`map: ${r.mapMine} trigger events`)
    if (r.contaminated > 0) parts.push(`${r.contaminated} samples left out: bpf_stats was on (another process)`)
    parts.push('verified with bpf_stats before measuring')
    r.proof = parts.join('; ')
    if (r.status === 'ok' && r.samples.length === 0 && r.contaminated > 0) {
      const who = statsHolders()
      Object.assign(r, {status: 'skipped', reason: `every stats-off sample ran with bpf_stats on: another process kept them on${who.length ? ` (${who.join(', ')})` : ''}; run again when it is done, or with --stats on`})
      r.verdict = `cannot tell: ${r.reason}`
    }
    if (r.status === 'ok' && r.samples.length === 0) Object.assign(r, {status: 'failed', reason: layer.interrupted ? 'interrupted before a sample was taken' : 'no samples'})
    layer.rows.push(r)
  }
  // stats on minus stats off, paired by round
  const byKey = new Map<string, {on?: EventRow; off?: EventRow}>()
  for (const r of layer.rows) {
    const k = `${r.kind}\u0000${r.body}`
    const e = byKey.get(k) ?? {}
    if (r.stats) e.on = r
    else e.off = r
    byKey.set(k, e)
  }
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
    layer.statsCost.push({kind: on.kind, body: on.body, samples, summary, verdict: failed ? 'not measured (a case failed)' : describeNs(summary, noisy, leak)})
  }
  return layer
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
