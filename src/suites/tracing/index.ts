// `ebpfperf suite tracing`: what each way of attaching a program costs. A session checks its input (open), asks
// doctor (gate), resolves targets and loads and test-attaches every program (prepare: every bad input fails by
// here, before anything is measured), runs its layers (per-event cost with bpf_stats, the syscall-tracepoint
// scenarios, the iperf3 workload), then detaches everything and restores what it changed (cleanup,
// restoreSystem); tracingSuite hands these steps to the suites' lifecycle (../suite.ts).
import {cpus} from 'node:os'
import {existsSync} from 'node:fs'
import {measuredCase, requireSuitePrivilege, suiteGate, type Gate} from '../common.js'
import {runSteps} from '../progress.js'
import type {SuiteDefinition} from '../suite.js'
import {BadInputError} from '../../util/errors.js'
import type {TracingFlags} from './flags.js'
import {tracingAnswer} from './answer.js'
import {renderTracing} from './render.js'
import {toCsv, type CaseResult, type RunResult} from '../../results/store.js'
import {BpfObject, loadNative, type TraceError, type TraceKind} from '../../native.js'
import {MOUNTS, readSysctl} from '../../kernel/runtime.js'
import {mountFs, setSysctl, type Made} from '../../util/syschanges.js'
import {
  BTF_KINDS,
  BUILTIN_BODIES,
  CASE_EVENT_KFUNC,
  CASE_SCENARIOS,
  CASE_STATS,
  CASE_WORKLOAD,
  CASE_WORKLOAD_KFUNC,
  KFUNC_KINDS,
  KINDS,
  SECTION_FOR,
  TRACING_OBJECT,
  SCENARIO_OBJECT,
  kindsForProgram,
  parseKinds,
  programFits,
  triggerOf,
} from './kinds.js'
import {Programs, TracingInputError, builtinBody, userBody, userFault, type Body, type Loaded} from './programs.js'
import {KernelSymbols, resolveTargets, tracefsDir, type TargetFlags, type Targets} from './targets.js'
import {eventConfigs, runEventLayer, type EventLayer} from './event.js'
import {runScenarios, type ScenarioLayer} from './scenario.js'
import {TOPOLOGY_FILE, runWorkload, workloadConfigs, type WorkloadLayer} from './workload.js'
import {loadTopology} from '../../topology/model.js'
import {lockTopology, type HeldLock} from '../../util/lock.js'

export type Layer = 'event' | 'scenarios' | 'workload'
export const LAYERS: readonly Layer[] = ['event', 'scenarios', 'workload']

export interface TracingOptions {
  quick?: boolean
  repeat?: number
  /** Attach types to measure (default: all; the kernel decides which run). */
  attach?: TraceKind[]
  /** Built-in bodies to run (default null and map; none when only --object bodies are wanted: []). */
  bodies?: string[]
  object?: string
  programs?: string[]
  stats?: 'on' | 'off' | 'both'
  layers?: Layer[]
  cpu?: number
  targets?: TargetFlags
  /** Seconds per iperf3 run. */
  duration?: number
  streams?: number
  /** Coefficient of variation of a baseline above which effects are "too noisy to tell". */
  maxCv?: number
  /** Trigger thread SCHED_FIFO while it fires (default true). */
  realtime?: boolean
  /** Mount tracefs for the run when it is not mounted (and unmount it after). */
  mountTracefs?: boolean
}

export interface SkippedCase {
  layer: Layer | 'all'
  what: string
  reason: string
}

export interface TracingReport {
  run: RunResult
  files?: {json: string; csv: string}
  quick: boolean
  event?: EventLayer
  scenarios?: ScenarioLayer
  workload?: WorkloadLayer
  skipped: SkippedCase[]
  notes: string[]
  complete: boolean
}

interface Plan {
  repeat: {event: number; scenarios: number; workload: number}
  sampleMs: number
  chunks: number
  duration: number
  streams: number
  maxCv: number
  cpu: number
  realtime: boolean
  stats: boolean[]
  workloadStats: boolean[]
  workloadBodies: (b: Body) => boolean
}

export class TracingSession {
  readonly programs: Programs
  readonly skipped: SkippedCase[] = []
  readonly notes: string[] = []
  readonly layers: Layer[]
  private bodies: {body: Body; kinds: TraceKind[]}[] = []
  private plan!: Plan
  private targets!: Targets
  private eventItems: {kind: TraceKind; body: Body; loaded: Loaded; target: string; onlyStats?: boolean}[] = []
  private eventFailed: {kind: TraceKind; body: Body; reason: string}[] = []
  private workloadItems: {kind: TraceKind; body: Body; loaded: Loaded; target: string}[] = []
  /** What this run changed on the machine (recorded for `topology down --all` too), undone newest first. */
  private changes: Made[] = []
  private holds: HeldLock[] = []
  private measuredKinds: TraceKind[] = []
  report: Partial<Pick<TracingReport, 'event' | 'scenarios' | 'workload'>> = {}

  private constructor(readonly opts: TracingOptions) {
    this.programs = new Programs(loadNative())
    this.layers = opts.layers && opts.layers.length > 0 ? opts.layers : [...LAYERS]
  }

  /** The bodies to run, checked without privilege (opening an object does not load it); bad input throws (exit 2). */
  static open(opts: TracingOptions): TracingSession {
    const s = new TracingSession(opts)
    s.bodies = s.checkBodies()
    return s
  }

  private checkBodies(): {body: Body; kinds: TraceKind[]}[] {
    const o = this.opts
    const requested = o.attach ?? [...KINDS]
    for (const f of [TRACING_OBJECT(), SCENARIO_OBJECT()]) if (!existsSync(f)) throw new Error(`${f} is missing: build the BPF programs first (npm run build:bpf)`)
    const builtinNames = o.bodies ?? [...BUILTIN_BODIES]
    for (const b of builtinNames) if (!(BUILTIN_BODIES as readonly string[]).includes(b)) throw new TracingInputError(`--body ${b}: unknown body (built-in bodies: ${BUILTIN_BODIES.join(', ')}; add your own with --object FILE --program NAME)`)
    const bodies: {body: Body; kinds: TraceKind[]}[] = builtinNames.map((n) => ({body: builtinBody(n), kinds: requested}))
    if (o.programs && o.programs.length > 0 && !o.object) throw new TracingInputError('--program names a program of --object FILE: give the object too')
    if (o.object) bodies.push(...userBodies(o.object, o.programs ?? [], o.attach))
    if (bodies.length === 0) throw new TracingInputError('no bodies to run: keep a built-in --body or add --object FILE')
    return bodies
  }

  /** Doctor's verdict: privilege first, before anything is changed; tracefs mounted for the run first when asked. */
  async gate(): Promise<Gate> {
    requireSuitePrivilege('tracing')
    if (this.opts.mountTracefs && !tracefsDir()) {
      this.changes.push(await mountFs('tracefs', MOUNTS.tracefs.where))
      this.notes.push(`mounted tracefs on ${MOUNTS.tracefs.where} for the run; unmounted after (--no-mount-tracefs to leave it alone)`)
    }
    return suiteGate('tracing')
  }

  /** Resolves targets, turns bpf_stats off, loads and test-attaches every program; bad input throws (exit 2). */
  async prepare(gate: Gate): Promise<void> {
    const o = this.opts
    const bodies = this.bodies
    const why = (c: string) => {
      const r = gate.skipped.get(c)
      if (!r) return undefined
      return /tracefs/.test(r) ? `${r} (fix: ebpfperf doctor --fix, or: ${MOUNTS.tracefs.fix}, or rerun without --no-mount-tracefs)` : r
    }
    const allKinds = [...new Set(bodies.flatMap((b) => b.kinds))]
    for (const k of allKinds) {
      const r = why(k)
      if (r) this.skipped.push({layer: 'all', what: k, reason: r})
    }
    this.measuredKinds = allKinds.filter((k) => !why(k))
    const layerSkip = (layer: Layer, c: string) => {
      const r = why(c)
      if (r && this.layers.includes(layer)) this.skipped.push({layer, what: c, reason: r})
      return r !== undefined
    }
    const scenariosSkipped = layerSkip('scenarios', CASE_SCENARIOS)
    const workloadSkipped = layerSkip('workload', CASE_WORKLOAD)
    // the workload's topology, held from here: a second run is refused before it measures anything
    if (this.layers.includes('workload') && !workloadSkipped) this.holds.push(await lockTopology(loadTopology(TOPOLOGY_FILE(), {dut: 'netns'}).name))
    const statsSkipped = why(CASE_STATS)

    this.makePlan(statsSkipped)

    // ---- targets (bad input is thrown here)
    const syms = new KernelSymbols()
    this.targets = await resolveTargets(this.measuredKinds, o.targets ?? {}, syms, {workload: this.layers.includes('workload') && !workloadSkipped})
    // user-given targets of skipped kinds are still checked (above); a BTF target that the kernel's BTF lacks:
    if (this.layers.includes('event') && why(CASE_EVENT_KFUNC)) for (const k of this.measuredKinds.filter((k) => KFUNC_KINDS.includes(k))) this.skipped.push({layer: 'event', what: k, reason: why(CASE_EVENT_KFUNC)!})
    if (this.layers.includes('workload') && why(CASE_WORKLOAD_KFUNC) && !o.targets?.kfunc) for (const k of this.measuredKinds.filter((k) => KFUNC_KINDS.includes(k))) this.targets.workloadWhy[k] = why(CASE_WORKLOAD_KFUNC)!

    this.turnStatsOff()
    this.loadAll(bodies, workloadSkipped)
    if (scenariosSkipped && this.layers.includes('scenarios')) this.notes.push('scenarios skipped: they need the syscall tracepoint (tracefs)')
  }

  /** Rounds, durations, CPU and the bpf_stats settings of each layer (--quick: fewer, shorter). */
  private makePlan(statsSkipped: string | undefined): void {
    const o = this.opts
    const quick = o.quick === true
    const ncpu = cpus().length
    const cpu = o.cpu ?? ncpu - 1
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= ncpu) throw new TracingInputError(`--cpu ${o.cpu}: this machine has CPUs 0-${ncpu - 1}`)
    let stats = o.stats === 'on' ? [true] : o.stats === 'off' ? [false] : [false, true]
    if (statsSkipped && stats.includes(true)) {
      this.skipped.push({layer: 'event', what: 'stats on', reason: statsSkipped})
      stats = stats.filter((s) => !s)
    }
    const repeat = o.repeat
    this.plan = {
      repeat: {event: repeat ?? (quick ? 20 : 40), scenarios: repeat ?? (quick ? 10 : 20), workload: repeat ?? (quick ? 3 : 5)},
      // many short samples: the machine's speed drifts over seconds, and a short baseline-config-baseline triple sees less of it
      sampleMs: 5,
      chunks: 10,
      duration: o.duration ?? (quick ? 1 : 3),
      streams: o.streams ?? 4,
      maxCv: o.maxCv ?? 0.05,
      cpu,
      realtime: o.realtime !== false,
      stats,
      workloadStats: quick && !o.stats ? [false] : stats,
      workloadBodies: (b) => !(quick && !o.bodies && b.builtin && b.name === 'null'),
    }
    if (quick) {
      const parts = []
      if (this.layers.includes('event')) parts.push(`per-event layer with ${this.plan.repeat.event} rounds`)
      if (this.layers.includes('scenarios')) parts.push(`scenarios with ${this.plan.repeat.scenarios} rounds`)
      if (this.layers.includes('workload')) parts.push(`a short workload (${this.plan.duration} s runs, ${this.plan.repeat.workload} rounds${o.bodies ? '' : ', map body only'}${o.stats ? '' : ', bpf_stats off only'})`)
      this.notes.push(`--quick: ${parts.join('; ')}`)
    }
  }

  /** bpf_stats must be off for the "stats off" samples: turned off (recorded, see util/syschanges), restored after. */
  private turnStatsOff(): void {
    const {value: cur, path: statsPath} = readSysctl('kernel.bpf_stats_enabled')
    if (cur !== undefined && cur !== '0') {
      try {
        this.changes.push(setSysctl(statsPath, '0'))
        this.notes.push(`kernel.bpf_stats_enabled was ${cur}: set to 0 for the run, restored after`)
      } catch (error) {
        this.notes.push(`kernel.bpf_stats_enabled is ${cur} and could not be turned off (${(error as Error).message}): "stats off" samples run with stats on and are left out`)
      }
    }
  }

  /** Loads and test-attaches every program: per-event ones, then the workload's. */
  private loadAll(bodies: {body: Body; kinds: TraceKind[]}[], workloadSkipped: boolean): void {
    for (const {body, kinds} of bodies) {
      for (const kind of kinds.filter((k) => this.measuredKinds.includes(k))) {
        if (this.layers.includes('event')) {
          const target = this.targets.event[kind]
          if (target === undefined) {
            if (!this.skipped.some((s) => s.layer === 'event' && s.what === kind)) this.skipped.push({layer: 'event', what: kind, reason: this.targets.eventWhy[kind] ?? 'no trigger for this attach type'})
          } else if (triggerOf(kind) === 'uprobe') {
            // one program per configuration: each stays attached to a trigger function of its own
            for (const st of this.plan.stats) {
              const l = this.loadOrFail(body, kind, undefined, 'event')
              if (l) this.eventItems.push({kind, body, loaded: l, target, onlyStats: st}) // attached (and checked) when the layer starts
            }
          } else {
            const l = this.loadOrFail(body, kind, BTF_KINDS.includes(kind) ? target : undefined, 'event')
            if (l && this.tryAttach(l, target, body, false, 'event')) this.eventItems.push({kind, body, loaded: l, target})
          }
        }
        if (this.layers.includes('workload') && !workloadSkipped && this.plan.workloadBodies(body)) {
          const target = this.targets.workload[kind]
          if (target === undefined) {
            this.skipped.push({layer: 'workload', what: kind, reason: this.targets.workloadWhy[kind] ?? 'no receive-path target'})
          } else {
            const l = this.loadOrFail(body, kind, BTF_KINDS.includes(kind) ? target : undefined, 'workload')
            const userTarget = isUserTarget(kind, this.opts.targets ?? {})
            if (l && this.tryAttach(l, target, body, userTarget, 'workload')) this.workloadItems.push({kind, body, loaded: l, target})
          }
        }
      }
    }
  }

  /** A kernel refusal (EPERM for fentry, …) fails the kind's cases; the user's mistakes throw. */
  private loadOrFail(body: Body, kind: TraceKind, btfTarget: string | undefined, layer: Layer): Loaded | undefined {
    try {
      return this.programs.load(body, kind, btfTarget)
    } catch (error) {
      if (error instanceof TracingInputError) throw error
      const e = error as TraceError
      if (!body.builtin) refuseRejected(body, e)
      const reason = `${e.message}${e.verifierLog ? ` [${e.verifierLog.split('\n').slice(-2).join(' | ')}]` : ''}`
      if (layer === 'event') this.eventFailed.push({kind, body, reason})
      else this.skipped.push({layer, what: `${kind}/${body.name}`, reason: `load failed: ${reason}`})
      return undefined
    }
  }

  /** Attaches and detaches once; a missing user target is bad input, anything else fails the case. */
  private tryAttach(l: Loaded, target: string, body: Body, userTarget: boolean, layer: Layer): boolean {
    try {
      this.programs.attach(l, target)
      this.programs.detach(l)
      return true
    } catch (error) {
      const e = userFault(error as TraceError)
      if (e instanceof TracingInputError) throw e
      const te = error as TraceError
      if (userTarget && (te.code === 'ENOENT' || te.code === 'ESRCH' || te.code === 'EINVAL')) {
        const detail = /\[(libbpf: .*?)\]/.exec(te.message)?.[1] ?? te.message
        throw new TracingInputError(`${TARGET_FLAG[l.kind]} ${target}: no such attach target (${detail.replace(/^libbpf: (elf: )?/, '')})`)
      }
      this.programs.close(l)
      if (layer === 'event') this.eventFailed.push({kind: l.kind, body, reason: `attach failed: ${te.message}`})
      else this.skipped.push({layer, what: `${l.kind}/${body.name}`, reason: `attach failed: ${te.message}`})
      return false
    }
  }

  get quick(): boolean {
    return this.opts.quick === true
  }

  /** The layers that will run, with a title each (the progress display lists them). */
  tasks(): {layer: Layer; title: string; skip?: string}[] {
    const out: {layer: Layer; title: string; skip?: string}[] = []
    const sk = (l: Layer) => this.skipped.find((s) => s.layer === l && (s.what === CASE_SCENARIOS || s.what === CASE_WORKLOAD))?.reason
    if (this.layers.includes('event')) out.push({layer: 'event', title: `Per-event cost and bpf_stats (${this.eventItems.length} programs × stats ${this.plan.stats.map((s) => (s ? 'on' : 'off')).join('/')}, ${this.plan.repeat.event} rounds, CPU ${this.plan.cpu})`, skip: this.eventItems.length === 0 && this.eventFailed.length === 0 ? 'nothing to measure' : undefined})
    if (this.layers.includes('scenarios')) out.push({layer: 'scenarios', title: `Global syscall tracepoint: kernel vs user-space pid filter (${this.plan.repeat.scenarios} rounds)`, skip: sk('scenarios')})
    if (this.layers.includes('workload')) out.push({layer: 'workload', title: `iperf3 UDP workload (${this.workloadItems.length} programs, ${this.plan.repeat.workload} rounds × ${this.plan.duration} s, ${this.plan.streams} streams)`, skip: sk('workload') ?? (this.workloadItems.length === 0 ? 'no program to attach on the receive path' : undefined)})
    return out
  }

  async runLayer(layer: Layer, progress: (line: string) => void, signal: AbortSignal): Promise<void> {
    const p = this.plan
    const timing = {warmup: 1, sampleMs: p.sampleMs, chunks: p.chunks, cpu: p.cpu, realtime: p.realtime, maxCv: p.maxCv, signal, progress}
    if (layer === 'event') {
      const configs = eventConfigs(this.eventItems, p.stats)
      this.report.event = await runEventLayer(this.programs, configs, {repeat: p.repeat.event, ...timing})
    } else if (layer === 'scenarios') {
      this.report.scenarios = await runScenarios(this.programs, {repeat: p.repeat.scenarios, ...timing})
    } else {
      const configs = workloadConfigs(this.workloadItems, p.workloadStats)
      this.report.workload = await runWorkload(this.programs, configs, {repeat: p.repeat.workload, warmup: 1, duration: p.duration, streams: p.streams, maxCv: p.maxCv, signal, progress})
    }
  }

  /** Detaches and frees every program, stops the addon's threads. Idempotent. */
  cleanup(): void {
    this.programs.closeAll()
    try {
      this.programs.native.triggerStop()
    } catch {
      // not started
    }
  }

  /** Puts back what the run changed (bpf_stats, the tracefs mount), newest first, and lets go of its topology. Idempotent. */
  async restoreSystem(): Promise<void> {
    for (const h of this.holds.splice(0)) await h.release()
    for (const c of this.changes.reverse()) {
      try {
        await c.undo()
      } catch (error) {
        this.notes.push(`could not restore ${c.what}: ${(error as Error).message}`)
      }
    }
    this.changes = []
  }

  /** Whether every layer ran to its end (one stopped by a signal returns what it measured). */
  get layersComplete(): boolean {
    return !(this.report.event?.interrupted || this.report.scenarios?.interrupted || this.report.workload?.interrupted)
  }

  /** For buildCases. */
  get failedEvent(): {kind: TraceKind; body: Body; reason: string}[] {
    return this.eventFailed
  }
}

/** A program of the user's that the verifier refused is bad input, refused before anything is measured (exit 2). */
function refuseRejected(body: Body, e: TraceError): void {
  const own = (e.verifierLog ?? '').split('\n').filter((l) => l.trim() && !/^(libbpf:|-- )/.test(l.trim()))
  if (own.length === 0) return
  throw new TracingInputError(`--object ${body.object}: the verifier rejected ${body.name} (${e.code || 'load failed'}); the log ends with:\n${own.slice(-6).map((l) => `    ${l}`).join('\n')}`)
}

const TARGET_FLAG: Record<TraceKind, string> = {tracepoint: '--tracepoint', raw_tracepoint: '--raw-tracepoint', kprobe: '--kfunc', kretprobe: '--kfunc', 'kprobe.multi': '--kfunc', fentry: '--kfunc', fexit: '--kfunc', uprobe: '--uprobe', uretprobe: '--uprobe'}

function isUserTarget(kind: TraceKind, t: TargetFlags): boolean {
  if (kind === 'tracepoint') return t.tracepoint !== undefined
  if (kind === 'raw_tracepoint') return t.rawTracepoint !== undefined
  if (kind === 'uprobe' || kind === 'uretprobe') return t.uprobe !== undefined
  return t.kfunc !== undefined
}

/** The user's bodies from --object (all its programs, or the --program ones), each with the kinds it fits. */
export function userBodies(object: string, names: string[], attach: TraceKind[] | undefined): {body: Body; kinds: TraceKind[]}[] {
  let obj: BpfObject
  try {
    obj = BpfObject.open(object)
  } catch (error) {
    const e = error as TraceError
    throw new TracingInputError(`--object ${object}: ${e.code === 'ENOENT' ? 'no such file' : e.message.replace(/^.*?: /, '').replace(/: Unknown error \d+ \(E\d+\)$/, '')}: give a BPF object built with clang -target bpf`)
  }
  try {
    const progs = obj.programs()
    const chosen = names.length > 0 ? names : progs.map((p) => p.name)
    const out: {body: Body; kinds: TraceKind[]}[] = []
    for (const name of chosen) {
      const p = progs.find((x) => x.name === name)
      if (!p) throw new TracingInputError(`--program ${name}: ${object} has no program named ${name} (it has: ${progs.map((x) => x.name).join(', ') || 'none'})`)
      let kinds: TraceKind[]
      if (attach) {
        const bad = attach.find((k) => !programFits(p, k))
        if (bad) throw new TracingInputError(`--program ${name} in ${object} is a ${p.typeName} program (SEC("${p.section}")), which cannot attach as ${bad}: a ${bad} program needs ${SECTION_FOR[bad]}; choose the attach types with --attach`)
        kinds = attach
      } else {
        kinds = kindsForProgram(p)
        if (kinds.length === 0) {
          if (names.length > 0) throw new TracingInputError(`--program ${name} in ${object} is a ${p.typeName} program (SEC("${p.section}")): not one the tracing suite attaches (tracepoint, raw_tp, kprobe, kprobe.multi, fentry, fexit, uprobe)`)
          continue
        }
      }
      out.push({body: userBody(object, name), kinds})
    }
    if (out.length === 0) throw new TracingInputError(`--object ${object}: no tracing program in it (tracepoint, raw_tp, kprobe, kprobe.multi, fentry, fexit, uprobe)`)
    return out
  } finally {
    obj.close()
  }
}

// ------------------------------------------------------------------ result document
const f = (n: number | undefined, d = 1) => (n === undefined || !Number.isFinite(n) ? '' : n.toFixed(d))

function buildCases(s: TracingSession): {cases: CaseResult[]; csv: string} {
  const cases: CaseResult[] = []
  const rows: (string | number | undefined)[][] = []
  const add = (c: CaseResult, verdict = '') => {
    cases.push(c)
    rows.push([c.id, String(c.params.layer ?? ''), String(c.params.kind ?? ''), String(c.params.body ?? ''), String(c.params.stats ?? ''), c.metric, c.unit, c.status, c.stats?.n ?? 0, f(c.stats?.mean, 3), f(c.stats?.sd, 3), f(c.stats?.ci95[0], 3), f(c.stats?.ci95[1], 3), verdict || c.reason || ''])
  }
  const ev = s.report.event
  if (ev) {
    for (const [trigger, b] of Object.entries(ev.baselines)) {
      if (!b) continue
      add(measuredCase({id: `event/baseline/${trigger}`, params: {layer: 'event', trigger}, metric: 'ns_per_trigger', unit: 'ns', higherIsBetter: false, samples: b.samples, extra: {triggersPerSample: b.count, cpu: ev.cpu, localCv: b.localCv}}))
    }
    for (const r of ev.rows) {
      const params = {layer: 'event', kind: r.kind, body: r.body, stats: r.stats ? 'on' : 'off'}
      add(
        measuredCase({
          id: `event/${r.id}`,
          params,
          metric: 'ns_added_per_event',
          unit: 'ns',
          higherIsBetter: false,
          status: r.status === 'ok' ? undefined : r.status,
          reason: r.reason,
          samples: r.samples,
          extra: {
            trigger: r.trigger, target: r.target, program: r.program, configNs: r.configNs, progNsPerRun: r.progNs, triggers: r.triggers, runCnt: r.runCnt,
            mapTriggerEvents: r.mapMine, recursionMisses: r.recursionMisses, statsLeak: r.statsLeak, contaminatedSamplesLeftOut: r.contaminated, statsOffRetries: r.retries,
            involuntaryContextSwitches: r.involuntary, triggersPerSample: ev.counts[r.id], proof: r.proof, verdict: r.verdict, noisy: r.noisy, precise: r.precise,
          },
        }),
        r.verdict,
      )
      if (r.stats && r.progNs.length > 0) add(measuredCase({id: `prog-cost/${r.kind}/${r.body}`, params: {layer: 'event', kind: r.kind, body: r.body}, metric: 'ns_per_run', unit: 'ns', higherIsBetter: false, samples: r.progNs, extra: {source: 'bpf_stats run_time_ns / run_cnt'}}))
    }
    for (const c of ev.statsCost) add(measuredCase({id: `stats-cost/${c.kind}/${c.body}`, params: {layer: 'event', kind: c.kind, body: c.body}, metric: 'ns_added_by_bpf_stats', unit: 'ns', higherIsBetter: false, samples: c.samples, extra: {verdict: c.verdict}}), c.verdict)
  }
  for (const fe of s.failedEvent) add(measuredCase({id: `event/${fe.kind}/${fe.body.name}`, params: {layer: 'event', kind: fe.kind, body: fe.body.name}, metric: 'ns_added_per_event', unit: 'ns', higherIsBetter: false, status: 'failed', reason: fe.reason, samples: []}))
  const sc = s.report.scenarios
  if (sc)
    for (const r of sc.rows)
      add(
        measuredCase({id: `scenario/${r.id}`, params: {layer: 'scenarios', scenario: r.id}, metric: 'ns_per_syscall', unit: 'ns', higherIsBetter: false, status: r.status === 'failed' ? 'failed' : undefined, reason: r.reason, samples: r.samples, extra: {title: r.title, syscallsPerSecond: r.rate, impactOnRate: r.impact, verdict: r.verdict, proof: r.proof, events: r.events, matched: r.matched, dropped: r.dropped, consumerCpuNsPerEvent: r.consumerCpuNsPerEvent, tracedPid: sc.tracedPid}}),
        r.verdict,
      )
  const wl = s.report.workload
  if (wl)
    for (const r of wl.rows)
      add(
        measuredCase({id: `workload/${r.id}`, params: {layer: 'workload', kind: r.kind ?? 'none', body: r.body ?? 'none', stats: r.stats ? 'on' : 'off'}, metric: 'bitrate', unit: 'Mbit/s', higherIsBetter: true, status: r.status === 'failed' ? 'failed' : undefined, reason: r.reason, samples: r.bitrate, extra: {target: r.target, transferMB: r.transfer, datagramsReceived: r.packets, bitrateImpact: r.bitrateImpact, transferImpact: r.transferImpact, bitrateVerdict: r.bitrateVerdict, transferVerdict: r.transferVerdict, proof: r.proof, duration: wl.duration, streams: wl.streams}}),
        r.bitrateVerdict,
      )
  for (const k of s.skipped) add({id: `skipped/${k.layer}/${k.what}`, params: {layer: k.layer, what: k.what}, metric: '', unit: '', higherIsBetter: false, status: 'skipped', reason: k.reason, samples: []})
  const csv = toCsv(['case', 'layer', 'kind', 'body', 'stats', 'metric', 'unit', 'status', 'n', 'mean', 'sd', 'ci95_low', 'ci95_high', 'verdict'], rows)
  return {cases, csv}
}

// ------------------------------------------------------------------ the suite's parts
function parseKindsFlag(v: string[] | undefined): TraceKind[] | undefined {
  try {
    return parseKinds(v)
  } catch (error) {
    throw new BadInputError(`--attach: ${(error as Error).message}`)
  }
}

function parseLayers(v: string[] | undefined): Layer[] | undefined {
  if (!v) return undefined
  const out = v.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)
  for (const l of out) if (!(LAYERS as readonly string[]).includes(l)) throw new BadInputError(`--layers ${l}: unknown layer (expected ${LAYERS.join(', ')})`)
  return out as Layer[]
}

/** The session's options from the flags; bad input throws (exit 2). */
function tracingOptions(flags: TracingFlags): TracingOptions {
  const maxCv = flags['max-cv'] === undefined ? undefined : Number(flags['max-cv'])
  if (maxCv !== undefined && !(maxCv > 0 && maxCv < 1)) throw new BadInputError(`--max-cv ${flags['max-cv']}: expected a fraction between 0 and 1, e.g. 0.05`)
  const bodies = flags.body?.flatMap((b) => b.split(',')).map((b) => b.trim()).filter(Boolean)
  return {
    quick: flags.quick,
    repeat: flags.repeat,
    attach: parseKindsFlag(flags.attach),
    bodies: bodies?.includes('none') ? [] : bodies,
    object: flags.object,
    programs: flags.program?.flatMap((p) => p.split(',')),
    stats: flags.stats as TracingOptions['stats'],
    layers: parseLayers(flags.layers),
    cpu: flags.cpu,
    realtime: flags.realtime,
    targets: {kfunc: flags.kfunc, tracepoint: flags.tracepoint, rawTracepoint: flags['raw-tracepoint'], uprobe: flags.uprobe},
    duration: flags.duration,
    streams: flags.streams,
    maxCv,
    mountTracefs: flags['mount-tracefs'],
  }
}

/** `suite tracing`: the session's steps as the lifecycle's parts; each layer is a step of the progress tree. */
export const tracingSuite: SuiteDefinition<TracingFlags, TracingSession, TracingReport> = {
  name: 'tracing',
  validate: (flags) => TracingSession.open(tracingOptions(flags)),
  gate: (s) => s.gate(),
  plan: (s, gate) => s.prepare(gate),
  async run(s, ctx) {
    const steps = s.tasks().map((t) => ({title: t.title, skip: t.skip, run: (show: (line: string) => void) => s.runLayer(t.layer, show, ctx.signal)}))
    // without a terminal, a line every few seconds at most: the layers report every round
    await runSteps(steps, {enabled: ctx.progress, signal: ctx.signal, plainEveryMs: 5000})
  },
  async teardown(s) {
    s.cleanup()
    await s.restoreSystem()
  },
  results: (s) => ({...buildCases(s), complete: s.layersComplete}),
  report: (s, run, files) => ({run, files: {json: files.json, csv: files.csv}, quick: s.quick, ...s.report, skipped: s.skipped, notes: s.notes, complete: run.complete}),
  render: (r) => [[tracingAnswer(r).join('\n'), renderTracing(r)].filter(Boolean).join('\n\n')],
}
