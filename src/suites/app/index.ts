// `ebpfperf suite app`: what tracing costs a real application. Checks the input (nothing is started for bad
// input), the tools and doctor's gate, mounts tracefs when the syscall probes need it, runs the measurement
// (run.ts) and turns its rows into cases, a result file and the tables.
import {existsSync} from 'node:fs'
import {findMount} from '../../kernel/runtime.js'
import {which} from '../../exec.js'
import {mountFs, type Made} from '../../util/syschanges.js'
import {BadInputError} from '../../util/errors.js'
import {measuredCase, requireSuitePrivilege, suiteGate, type Gate} from '../common.js'
import type {RunResult} from '../../results/store.js'
import {parseSize} from '../../workloads/nginx.js'
import {APP_OBJECT, BUFFERS, CAPTURE_MAX, PROBES, type BufferKind, type ProbeName, type UserProgram} from './probes.js'
import {probeFits, runApp, type AppOptions, type AppRun} from './run.js'
import type {Protocol} from './proof.js'
import {appAnswer, appCases, renderApp} from './render.js'
import {DEFAULT_SIZES, type AppFlags} from './flags.js'
import {resultLine, type SuiteDefinition} from '../suite.js'

export const QUICK = {protocols: ['https'] as const, sizes: ['1K', '128K'], probes: ['none', 'sslsniff'] as ProbeName[], duration: 2, repeat: 3}


export interface AppReport {
  run: RunResult
  app: AppRun
  notes: string[]
  files: {json: string; csv: string}
}

/** The suite's state from its flags to its report. */
interface AppState {
  opts: Omit<AppOptions, 'signal' | 'progress'>
  notes: string[]
  changes: Made[]
  app?: AppRun
}

const list = (v: string | undefined) => v?.split(',').map((x) => x.trim()).filter(Boolean)

/** Flags → options; every mistake is one line naming the input (exit 2), before anything is started. */
export function appOptions(f: Omit<AppFlags, 'json' | 'progress'>): Omit<AppOptions, 'signal' | 'progress'> {
  const protocols = list(f.protocols) ?? (f.quick ? [...QUICK.protocols] : ['http', 'https', ...(which('go') ? ['go'] : [])])
  for (const p of protocols) if (!['http', 'https', 'go'].includes(p)) throw new BadInputError(`--protocols ${p}: expected http, https (nginx) or go (the Go server), comma-separated`)
  const sizes = list(f.sizes) ?? (f.quick ? QUICK.sizes : DEFAULT_SIZES)
  for (const s of sizes) if (!(parseSize(s) > 0 && parseSize(s) <= 64 << 20)) throw new BadInputError(`--sizes ${s}: not a size (give bytes as 1024, 1K or 1M, at most 64M)`)
  const probes = (list(f.probes) ?? (f.quick ? QUICK.probes : PROBES.filter((p) => protocols.some((x) => probeFits(p, x as Protocol))))) as ProbeName[]
  for (const p of probes) if (!(PROBES as readonly string[]).includes(p)) throw new BadInputError(`--probes ${p}: unknown probe (expected ${PROBES.join(', ')}; your own with --object)`)
  if (!probes.includes('none')) probes.unshift('none')
  const user = userProgram(f)
  if (user) probes.push('object')
  if (probes.includes('sslsniff') && !protocols.includes('https')) throw new BadInputError('--probes sslsniff needs --protocols https (sslsniff sees TLS calls only)')
  if (probes.some((p) => p.startsWith('go-')) && !protocols.includes('go')) throw new BadInputError('--probes go-runtime/go-handler need --protocols go (they probe the Go server)')
  if (f.capture < 0 || f.capture > CAPTURE_MAX) throw new BadInputError(`--capture ${f.capture}: expected 0 to ${CAPTURE_MAX} bytes`)
  const buffer = (f.buffer ?? 'ringbuf') as BufferKind
  if (!BUFFERS.includes(buffer)) throw new BadInputError(`--buffer ${f.buffer}: expected ringbuf or perf`)
  if (f.buffer && !probes.includes('sslsniff')) throw new BadInputError('--buffer chooses sslsniff\'s buffer: give --probes sslsniff too')
  if (f.connections < f.threads) throw new BadInputError(`--connections ${f.connections}: must be at least --threads (${f.threads})`)
  if (f['filter-pid'] !== undefined && !existsSync(`/proc/${f['filter-pid']}`)) throw new BadInputError(`--filter-pid ${f['filter-pid']}: no such process`)
  return {protocols: protocols as Protocol[], sizes, probes, workers: f.workers, connections: f.connections, threads: f.threads, duration: f.duration ?? (f.quick ? QUICK.duration : 5),
    repeat: f.repeat ?? (f.quick ? QUICK.repeat : 5), warmup: 1, capture: f.capture, buffer, filterPid: f['filter-pid'] ?? process.pid, user}
}

function userProgram(f: Pick<AppFlags, 'object' | 'program' | 'uprobe' | 'tracepoint'>): UserProgram | undefined {
  if (!f.object) {
    if (f.program || f.uprobe || f.tracepoint) throw new BadInputError('--program, --uprobe and --tracepoint name your own tracer: give --object FILE too')
    return undefined
  }
  if (!existsSync(f.object)) throw new BadInputError(`--object ${f.object}: no such file`)
  if (!f.program) throw new BadInputError('--object needs --program NAME (the program to attach)')
  if (Boolean(f.uprobe) === Boolean(f.tracepoint)) throw new BadInputError('--object needs exactly one of --uprobe SYMBOL (in the libssl nginx maps, or BINARY:SYMBOL) and --tracepoint CATEGORY/NAME')
  if (f.tracepoint && !/^[\w-]+\/[\w-]+$/.test(f.tracepoint)) throw new BadInputError(`--tracepoint ${f.tracepoint}: expected CATEGORY/NAME, e.g. syscalls/sys_enter_write`)
  return {object: f.object, program: f.program, kind: f.uprobe ? 'uprobe' : 'tracepoint', target: f.uprobe ?? f.tracepoint!}
}

/** The tools the suite drives, with the Debian package that has each. */
export function missingTools(): string | undefined {
  const want: [string, string][] = [['nginx', 'nginx-light'], ['wrk', 'wrk'], ['openssl', 'openssl']]
  const missing = want.filter(([t]) => !which(t))
  return missing.length === 0 ? undefined : `${missing.map(([t]) => t).join(', ')} not found: apt-get install -y ${missing.map(([, p]) => p).join(' ')}`
}

/** Privilege, the object, tracefs (mounted for the run when a syscall probe needs it) and doctor's gate. */
async function gateApp(s: AppState): Promise<Gate> {
  requireSuitePrivilege('app')
  if (!existsSync(APP_OBJECT())) throw new Error(`${APP_OBJECT()} is missing: build the BPF programs first (npm run build:bpf)`)
  if ((s.opts.probes.some((p) => p.startsWith('syscount')) || s.opts.user?.kind === 'tracepoint') && !findMount('tracefs')) {
    s.changes.push(await mountFs('tracefs', '/sys/kernel/tracing'))
    s.notes.push('mounted tracefs on /sys/kernel/tracing for the run; unmounted after')
  }
  const gate = await suiteGate('app')
  for (const p of s.opts.probes) if (gate.skipped.has(p)) throw new BadInputError(`--probes ${p}: this kernel cannot run it (${gate.skipped.get(p)})`)
  // cases skipped here only for want of a mount this run did not need are not this run's news
  const text = gate.verdict.verdict === 'runs-with-skips' ? `app runs every probe asked for (${s.opts.probes.join(', ')})` : gate.verdict.text
  return {...gate, verdict: {...gate.verdict, text}}
}

export const appSuite: SuiteDefinition<AppFlags, AppState, AppReport> = {
  name: 'app',
  validate(flags) {
    const tools = missingTools()
    if (tools) throw new BadInputError(tools)
    return {opts: appOptions(flags), notes: [], changes: []}
  },
  gate: (s) => gateApp(s),
  async run(s, ctx) {
    s.app = await runApp({...s.opts, signal: ctx.signal, progress: ctx.progress ? ctx.note : undefined})
  },
  async teardown(s) {
    for (const c of s.changes.splice(0)) await c.undo()
  },
  measured: (s) => s.app !== undefined,
  results(s) {
    const {cases, csv} = appCases(s.app!.rows)
    return {cases: cases.map(({failed, ...c}) => measuredCase({...c, status: failed ? 'failed' : undefined})), csv, complete: !s.app!.interrupted}
  },
  report: (s, run, files) => ({run, app: s.app!, notes: s.notes, files: {json: files.json, csv: files.csv}}),
  render: (r) => [[...appAnswer(r.app.rows), ...r.notes].join('\n'), renderApp(r.app.rows), resultLine({...r.files, beside: {}})],
}
