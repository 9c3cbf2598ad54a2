// `ebpfperf suite micro`: the eBPF runtime's own costs through BPF_PROG_TEST_RUN (invocation, tail calls,
// maps, helpers) and ring buffer vs perf buffer delivery, from a suite file (profiles/micro/*.suite.yml or
// the user's). Tests run in file order, grouped for the progress display; each result is judged (return
// value, bpf_stats proof, every buffer event accounted for). With --ab, every run test from two builds in
// pairs, and B against A (microAbSuite).
import type {AbSide, RunResult} from '../../results/store.js'
import {loadNative, type Native} from '../../native.js'
import {compareAb, parsePercent, type Comparison} from '../../results/compare.js'
import {renderComparison} from '../../results/compare-render.js'
import {isCommitId} from '../../results/validate.js'
import {BadInputError} from '../../util/errors.js'
import type {Gate} from '../common.js'
import {runSteps} from '../progress.js'
import {resultLine, type SavedFiles, type SuiteDefinition} from '../suite.js'
import {AB_DEFAULT_PAIRS, AB_MIN_PAIRS, abCases, abPairs, type AbDone, type AbPair} from './ab.js'
import {microAnswer} from './answer.js'
import {runBufferTest, type BufferOutcome} from './buffers.js'
import type {MicroFlags} from './flags.js'
import {bufferCases, buffersCsv, durationsCsv, renderBufferTable, renderNotes, renderRunTable, runCases} from './report.js'
import {runAbTest, runTests, type RunOutcome} from './runner.js'
import {defaultSuiteFile, loadSuite, onlineCpus, parseCpuList, type BufferTest, type LoadOptions, type MicroTest, type RunTest, type Suite} from './spec.js'

export {loadSuite, defaultSuiteFile, parseCpuList, onlineCpus} from './spec.js'

type Stats = 'proof' | 'samples' | 'off'

export interface MicroState {
  suite: Suite
  load: LoadOptions
  /** bpf_stats during the samples: 'proof' (one extra run with it on) or 'samples'; 'off' without bpf_stats. */
  stats: Stats
  native?: Native
  runs: RunOutcome[]
  buffers: BufferOutcome[]
}

export interface MicroOutcome {
  suite: Suite
  run: RunResult
  runs: RunOutcome[]
  buffers: BufferOutcome[]
  files: SavedFiles
}

/** The suite file and the flags that select from it; bad input throws (exit 2). */
export function loadFromFlags(flags: MicroFlags): {suite: Suite; load: LoadOptions} {
  const online = onlineCpus()
  const cpus = flags.cpus === undefined ? undefined : parseCpuList(flags.cpus, online)
  const load = {quick: flags.quick, cpus, samples: flags.repeat, tests: flags.test, targetMs: flags['target-ms'], runsPerSample: flags['runs-per-sample']}
  return {suite: loadSuite(flags.suite ?? defaultSuiteFile(), load, online), load}
}

/** Without bpf_stats (doctor's 'bpf_stats proof' case) the tests still run, without the proof run. */
const statsHere = (asked: Stats, gate: Pick<Gate, 'skipped'>): Stats => (gate.skipped.has('bpf_stats proof') ? 'off' : asked)

/** Consecutive tests of one group, in file order. */
export function groupsOf(tests: MicroTest[]): {group: string; tests: MicroTest[]}[] {
  const out: {group: string; tests: MicroTest[]}[] = []
  for (const t of tests) {
    const last = out[out.length - 1]
    if (last && last.group === t.group) last.tests.push(t)
    else out.push({group: t.group, tests: [t]})
  }
  return out
}

interface GroupEnv {
  native: Native
  stats: Stats
  skipped: Map<string, string>
  signal: AbortSignal
}

/** One group's tests: skipped ones recorded as such, consecutive run tests together (one load per object). */
async function runGroup(s: MicroState, tests: MicroTest[], env: GroupEnv, show: (line: string) => void): Promise<void> {
  const skipReason = (t: MicroTest) => (t.case ? env.skipped.get(t.case) : undefined)
  let i = 0
  while (i < tests.length) {
    env.signal.throwIfAborted()
    const t = tests[i]
    const skip = skipReason(t)
    if (skip) {
      if (t.kind === 'run') s.runs.push({test: t, status: 'skipped', reason: skip, cpus: [], notes: []})
      else s.buffers.push({test: t, status: 'skipped', reason: skip, samples: [], notes: []})
      i++
      continue
    }
    if (t.kind === 'buffer') {
      show(`${t.name} (${t.samples} samples × ${t.producers.length} × ${t.events.toLocaleString('en-US')} events)`)
      s.buffers.push(await runBufferTest(t as BufferTest, env.native, env.signal))
      i++
      continue
    }
    let j = i
    while (j < tests.length && tests[j].kind === 'run' && !skipReason(tests[j])) j++
    const batch = tests.slice(i, j) as RunTest[]
    const opts = {native: env.native, targetNs: s.suite.targetNs, runsPerSample: s.suite.runsPerSample, signal: env.signal, stats: env.stats}
    s.runs.push(...(await runTests(batch, {...opts, onTest: (x) => show(`${x.name} (${x.samples} samples × CPU ${x.cpus.join(',')})`)})))
    i = j
  }
}

export const microSuite: SuiteDefinition<MicroFlags, MicroState, MicroOutcome> = {
  name: 'micro',
  validate: (flags) => ({...loadFromFlags(flags), stats: flags['bpf-stats'] as Stats, runs: [], buffers: []}),
  plan: (s, _gate, ctx) => ctx.note(`micro: ${s.suite.tests.length} tests from ${s.suite.file}${s.suite.notSelected ? ` (${s.suite.notSelected} not selected)` : ''}`),
  async run(s, ctx) {
    const env = {native: s.native ?? loadNative(), stats: statsHere(s.stats, ctx.gate), skipped: ctx.gate.skipped, signal: ctx.signal}
    const steps = groupsOf(s.suite.tests).map((g) => ({
      title: `${g.group} (${g.tests.length} test${g.tests.length === 1 ? '' : 's'})`,
      run: async (show: (line: string) => void) => {
        let k = 0
        await runGroup(s, g.tests, env, (line) => show(`${Math.min(++k, g.tests.length)}/${g.tests.length} ${line}`))
      },
    }))
    await runSteps(steps, {enabled: ctx.progress, signal: ctx.signal})
  },
  results(s, run) {
    const cpus = [...new Set(s.suite.tests.flatMap((t) => (t.kind === 'run' ? t.cpus : t.producers)))].sort((a, b) => a - b)
    const cases = [...runCases(s.runs, s.suite.baseline), ...bufferCases(s.buffers)]
    const beside: Record<string, string> = s.buffers.length > 0 ? {'-buffers.csv': buffersCsv(run.started, s.buffers)} : {}
    return {cases, csv: durationsCsv(run.started, cases, cpus), beside}
  },
  report: (s, run, files) => ({suite: s.suite, run, runs: s.runs, buffers: s.buffers, files}),
  render(o, paint) {
    const cpus = [...new Set(o.runs.flatMap((r) => r.test.cpus))].sort((a, b) => a - b)
    const out = [`${microAnswer(o.run).join('\n')}\n`]
    const runs = renderRunTable(o.runs, o.suite.baseline, cpus, paint)
    if (runs) out.push(`ns per operation: mean ± 95% CI over the samples (kernel test-run timer ÷ ops per run)\n${runs}`)
    const bufs = renderBufferTable(o.buffers, paint)
    if (bufs) out.push(`\nring buffer vs perf buffer (latency: consumer clock − bpf_ktime_get_ns in the event)\n${bufs}`)
    const notes = renderNotes(o.runs, o.buffers, o.suite.baseline, paint)
    if (notes.length) out.push(`\n${notes.join('\n')}`)
    return [...out, `\n${resultLine(o.files)}`]
  },
  json: (o) => o.run,
  jsonNotes: (o) => renderNotes(o.runs, o.buffers).filter((line) => line.startsWith('FAILED')),
}

export interface AbState {
  suite: Suite
  /** Where each side's objects come from (this suite file, or OTHER), with OTHER's commit when given. */
  sides: {base: AbSide; candidate: AbSide}
  pairs: AbPair[]
  /** Pairs per case. */
  perCase: number
  threshold: number
  stats: Stats
  native?: Native
  random?: () => number
  done: AbDone[]
}

/** --ab or --ab-base: pairs per case, the threshold, and A matched with B; all checked before the gate. */
function abFromFlags(flags: MicroFlags): AbState {
  const {suite, load} = loadFromFlags(flags)
  const otherIsBase = flags['ab-base'] !== undefined
  const other = (flags['ab-base'] ?? flags.ab)!
  const pairs = flags.repeat ?? Math.max(AB_DEFAULT_PAIRS, ...suite.tests.map((t) => t.samples))
  if (pairs < AB_MIN_PAIRS) throw new BadInputError(`--ab with --repeat ${pairs}: ${pairs} pairs a case are too few for a paired 95% CI that can tell a 5% change on a shared machine; give --repeat ${AB_MIN_PAIRS} or more (default ${AB_DEFAULT_PAIRS})`)
  const threshold = parsePercent(flags.threshold, '--threshold')
  for (const t of suite.tests) t.samples = pairs
  const [self, theirs]: AbSide[] = [{from: suite.file}, {from: other, commit: abCommit(flags['ab-commit'])}]
  const matched = abPairs(suite, other, load)
  const sides = otherIsBase ? {base: theirs, candidate: self} : {base: self, candidate: theirs}
  return {suite, sides, pairs: otherIsBase ? matched.map((p) => ({a: p.b, b: p.a})) : matched, perCase: pairs, threshold, stats: flags['bpf-stats'] as Stats, done: []}
}

/** --ab-commit: a commit id as git prints it (it becomes part of a path in the results branch). */
function abCommit(sha: string | undefined): string | undefined {
  if (sha !== undefined && !isCommitId(sha)) throw new BadInputError(`--ab-commit ${sha}: expected a commit id (7 to 64 hex digits, e.g. from git rev-parse)`)
  return sha?.toLowerCase()
}

/** `suite micro --ab OTHER` / `--ab-base OTHER`: A and B of every run test in pairs; the paired comparison is the answer and the gate. */
export const microAbSuite: SuiteDefinition<MicroFlags, AbState, Comparison> = {
  name: 'micro',
  validate: abFromFlags,
  plan(s, _gate, ctx) {
    const skipped = s.suite.tests.length - s.pairs.length
    const side = (x: AbSide) => `${x.from}${x.commit ? ` (${x.commit.slice(0, 12)})` : ''}`
    ctx.note(`micro --ab: ${s.pairs.length} tests × ${s.perCase} pairs, A from ${side(s.sides.base)}, B from ${side(s.sides.candidate)}${skipped ? ` (${skipped} buffer tests not paired)` : ''}`)
  },
  async run(s, ctx) {
    const native = s.native ?? loadNative()
    const stats = statsHere(s.stats, ctx.gate)
    const one = async (p: AbPair) => {
      const skip = p.a.case ? ctx.gate.skipped.get(p.a.case) : undefined
      if (!skip) return void s.done.push(await runAbTest(p.a, p.b, {native, targetNs: s.suite.targetNs, runsPerSample: s.suite.runsPerSample, signal: ctx.signal, stats, random: s.random}))
      const skipped = (test: RunTest): RunOutcome => ({test, status: 'skipped', reason: skip, cpus: [], notes: []})
      s.done.push({a: skipped(p.a), b: skipped(p.b), order: []})
    }
    await runSteps(s.pairs.map((p) => ({title: `A/B ${p.a.name} (${p.a.samples} pairs × CPU ${p.a.cpus.join(',')})`, run: () => one(p)})), {enabled: ctx.progress, signal: ctx.signal})
  },
  results(s, run) {
    run.ab = s.sides
    const cases = abCases(s.done, s.suite.baseline)
    const csvCases = cases.map((c) => ({...c, id: `${c.id} (${c.params.variant})`}))
    return {cases, csv: durationsCsv(run.started, csvCases, s.suite.cpus)}
  },
  report: (s, run, files) => compareAb(Object.assign(run, {file: files.json}), {threshold: s.threshold}),
  render: (cmp) => [`${renderComparison(cmp, 'table')}\n\nresult: ${cmp.candidate} (compare it again: ebpfperf compare ${cmp.candidate})`],
  exitCode: (cmp) => cmp.exitCode,
}
