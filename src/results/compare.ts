// Comparing runs: cases matched by suite, id and parameters; per case the change, its 95% CI, p-value and
// a verdict; a regression beyond the threshold fails the gate. The run, not the sample, is the unit that
// repeats across machine states (a shared host's speed moves 30-50% between runs while samples inside
// one run agree), so a verdict comes from one of: pairs measured side by side in one A/B run (paired
// log-ratios), or several runs per side (run means, between-run variance counted). One run per side
// cannot tell code from drift, and a history from other days is reported, never gated.
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {fingerprintDifferences} from './fingerprint.js'
import {loadResult, ResultError, type CaseResult, type RunResult} from './store.js'
import {againstHistory, beyondMargin, pairedLogRatio, relativeCiAt, runLevel, runsNeeded, summarize, welch, type RatioInterval} from './stats.js'
import {BadInputError} from '../util/errors.js'

export type CompareVerdict = 'regression' | 'improvement' | 'no significant difference' | 'too noisy to tell' | 'failed'
/** How the verdicts were reached: see the module comment. */
export type CompareMethod = 'paired A/B' | 'run-level' | 'one run per side' | 'history'

export interface CaseComparison {
  suite: string
  id: string
  /** suite/id, plus the parameters that tell this case from others of the same id (e.g. "cpu=1"). */
  label: string
  params: Record<string, string | number | boolean>
  metric: string
  unit: string
  higherIsBetter: boolean
  base: {n: number; mean: number; sd: number; cv: number}
  candidate: {n: number; mean: number; sd: number; cv: number}
  change: number // candidate - base, in the metric's unit
  relative: number // relative change (paired and run-level: geometric, from the log scale)
  ci95: [number, number] // for change, in the metric's unit
  relativeCi95: [number, number]
  /**
   * The CI the gate judges: two-sided 1 - 0.10 / cases, so its bound on the worse side is one-sided 1 - 0.05 / cases
   * (gateAlpha); gated when that bound excludes no change and the estimate is beyond the threshold; absent when not gated.
   */
  gateCi?: [number, number]
  p: number
  verdict: CompareVerdict
  gate: boolean // a regression beyond the threshold
  /** Run-level and history: runs per side that would find a change of the threshold (80% power) with this case's between-run spread. */
  runsNeeded?: number
  note?: string
}

export interface Comparison {
  schema: 'ebpfperf/comparison/v1'
  method: CompareMethod
  base: string[] // files
  candidate: string
  /** Runs per side (paired A/B: pairs per case). */
  runs: {base: number; candidate: number}
  threshold: number // relative, e.g. 0.05
  noiseLimit: number // spread (sd, log scale) above which a case that is not significant is "too noisy to tell"
  environmentDifferences: string[]
  cases: CaseComparison[]
  missing: string[] // in base, not in candidate
  added: string[] // in candidate, not in base
  regressions: number
  /** Whether a regression can fail the gate (one run per side, history and run-level runs that do not alternate in time: reported only). */
  gated: boolean
  /** What this comparison can and cannot decide, in a sentence or two. */
  scope: string
  /** --history: which run was compared how (an A/B newest run gated, a plain one reported). */
  history?: string
  exitCode: 0 | 1
}

export interface CompareOptions {
  threshold?: number // default 0.05
  noiseLimit?: number // default 0.10
}

const key = (suite: string, c: CaseResult) => `${suite}/${c.id}${Object.keys(c.params).length ? ` ${JSON.stringify(sortKeys(c.params))}` : ''}`
const sortKeys = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)))
const caseLabel = (suite: string, c: CaseResult) => `${suite}/${c.id}`

/** "5%" or "5" → 0.05, for --threshold and --noise. */
export function parsePercent(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(s)
  if (!m) throw new BadInputError(`${flag} ${s}: expected a percentage such as 5%`)
  return Number(m[1]) / 100
}

/** Result files named by a path: a file, or every result in a folder (newest last). */
export function resultFiles(path: string): string[] {
  if (!existsSync(path)) throw new ResultError(path, 'no such file or folder')
  if (!statSync(path).isDirectory()) return [path]
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(path, f))
  const results = files.filter((f) => {
    try {
      loadResult(f)
      return true
    } catch {
      return false
    }
  })
  if (results.length === 0) throw new ResultError(path, `no ebpfperf result files in this folder${files.length ? ` (${files.length} other .json files)` : ''}`)
  return results.sort((a, b) => loadResult(a).started.localeCompare(loadResult(b).started))
}

/** The newest of each suite's runs. */
export function newestBySuite<T extends RunResult>(runs: T[]): T[] {
  const newest = new Map<string, T>()
  for (const r of runs) if (!newest.has(r.suite) || newest.get(r.suite)!.started < r.started) newest.set(r.suite, r)
  return [...newest.values()]
}

/** The newest result of each suite in a file or folder. */
export function newestPerSuite(path: string): RunResult[] {
  return newestBySuite(resultFiles(path).map((f) => Object.assign(loadResult(f), {file: f})))
}

type Run = RunResult & {file?: string}

const fileOf = (r: Run) => r.file ?? r.suite
const filesOf = (xs: Run[]) => xs.map(fileOf).join(', ')

/** An A/B result of `suite micro --ab`: its cases come in pairs, params.variant A and B. */
export const isAbRun = (r: RunResult): boolean => r.cases.some((c) => c.params.variant !== undefined)

/** One line for results measured where timings do not compare (kernel, CPU, config, machine); undefined when they compare. */
export function incomparable(base: Run[], candidate: Run[]): string | undefined {
  for (const c of candidate) {
    for (const b of base) {
      const d = fingerprintDifferences(b.environment, c.environment)
      if (d.length) return `${fileOf(b)} and ${fileOf(c)} were measured in different environments (${d.join('; ')}): their timings do not compare, so there is no gate; --force compares them anyway`
    }
  }
  return undefined
}

/** Runs per suite on each side (the most of any suite). */
function runCounts(base: Run[], candidate: Run[]): {base: number; candidate: number} {
  const count = (xs: Run[], s: string) => xs.filter((r) => r.suite === s).length
  const suites = [...new Set(candidate.map((r) => r.suite))]
  return {base: Math.max(0, ...suites.map((s) => count(base, s))), candidate: Math.max(0, ...suites.map((s) => count(candidate, s)))}
}

/** Several runs on one side against a single run on the other: one line naming how many more are needed; undefined when fine. */
export function tooFewRuns(base: Run[], candidate: Run[]): string | undefined {
  for (const suite of new Set(candidate.map((r) => r.suite))) {
    const [nb, nc] = [base.filter((r) => r.suite === suite).length, candidate.filter((r) => r.suite === suite).length]
    if (nb !== nc && Math.min(nb, nc) < 2) {
      return `${nb} base and ${nc} candidate run(s) of suite ${suite}: a run-level comparison needs at least 2 runs on each side (add ${2 - Math.min(nb, nc)} more ${nb < nc ? 'base' : 'candidate'} run(s)); one run per side cannot tell code from drift`
    }
  }
  return undefined
}

interface Matched {
  suite: string
  first: CaseResult
  base: CaseResult[] // one per base run holding the case
  candidate: CaseResult[]
}

function matchCases(base: Run[], candidate: Run[]): {matched: Matched[]; missing: string[]; added: string[]} {
  const byKey = new Map<string, Matched>()
  const add = (run: Run, side: 'base' | 'candidate') => {
    for (const c of run.cases) {
      const k = key(run.suite, c)
      const m = byKey.get(k) ?? {suite: run.suite, first: c, base: [], candidate: []}
      m[side].push(c)
      byKey.set(k, m)
    }
  }
  for (const r of base) add(r, 'base')
  for (const r of candidate) add(r, 'candidate')
  const all = [...byKey.values()]
  const okIn = (cs: CaseResult[]) => cs.some((c) => c.status === 'ok')
  return {
    matched: all.filter((m) => okIn(m.base) && m.candidate.length > 0),
    missing: all.filter((m) => okIn(m.base) && m.candidate.length === 0).map((m) => caseLabel(m.suite, m.first)),
    added: all.filter((m) => !okIn(m.base) && okIn(m.candidate)).map((m) => caseLabel(m.suite, m.first)),
  }
}

/**
 * Candidate runs against base runs. Several runs per side: run-level verdicts (the gate). One run per side:
 * the changes, but "cannot tell from one run per side" and no gate. history: the newest run against the
 * earlier runs' spread, reported and never gated.
 */
export function compareRuns(base: Run[], candidate: Run[], opts: CompareOptions = {}, history = false): Comparison {
  const emulated = (r: RunResult) => r.vm?.emulated === true
  const everyRun = [...base, ...candidate]
  if (everyRun.some(emulated) && !everyRun.every(emulated)) {
    throw new ResultError(filesOf(everyRun.filter(emulated)), 'timings from an emulated (TCG) guest are never compared with timings from real hardware: compare guest runs with guest runs')
  }
  const ab = everyRun.find(isAbRun)
  if (ab) throw new ResultError(fileOf(ab), 'an A/B result (suite micro --ab) holds both sides: compare it alone (ebpfperf compare FILE)')
  const threshold = opts.threshold ?? 0.05
  const noiseLimit = opts.noiseLimit ?? 0.1
  const runs = runCounts(base, candidate)
  const method: CompareMethod = history ? 'history' : runs.base >= 2 && runs.candidate >= 2 ? 'run-level' : 'one run per side'
  const {matched, missing, added} = matchCases(base, candidate)
  if (matched.length === 0) throw new ResultError(filesOf(everyRun), 'no case in common between the base and the candidate (different suites or parameters?)')
  // run-level gates only runs that alternate in time: a base measured before every candidate run meets other spells of the host
  const gated = method === 'run-level' && overlapInTime(base, candidate)
  const cases = matched.map((m) => compareMatched(m, method, threshold, noiseLimit, gated, matched.length))
  labelByParams(cases)
  const envBase = base[base.length - 1]?.environment
  const envCand = candidate[0]?.environment
  const environmentDifferences = envBase && envCand ? fingerprintDifferences(envBase, envCand) : []
  return finish({method, gated, base: base.map(fileOf), candidate: filesOf(candidate), runs, threshold, noiseLimit, environmentDifferences, cases, missing, added})
}

function finish(c: Omit<Comparison, 'schema' | 'regressions' | 'exitCode' | 'scope'>): Comparison {
  const regressions = c.cases.filter((x) => x.gate).length
  return {schema: 'ebpfperf/comparison/v1', ...c, regressions, scope: scopeOf(c), exitCode: regressions > 0 ? 1 : 0}
}

const gateLine = (c: {threshold: number; cases: unknown[]}) => {
  const level = 1 - gateAlpha(c.cases.length)
  return `A regression fails the gate when it is larger than ${pctOf(c.threshold)} and significant one-sided at ${(level * 100).toFixed(level > 0.999 ? 2 : 1)}% (95% corrected for the ${c.cases.length} cases compared, so an unchanged build fails ≤ 5% of the time).`
}
const pctOf = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`
const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]

function scopeOf(c: Omit<Comparison, 'schema' | 'regressions' | 'exitCode' | 'scope'>): string {
  const needed = c.cases.map((x) => x.runsNeeded).filter((x): x is number => Number.isFinite(x))
  const runsLine = needed.length ? ` Runs per side that would find a ${pctOf(c.threshold)} change with these spreads (80% power): ${medianOf(needed)} for the median case, ${Math.max(...needed)} for the noisiest.` : ''
  switch (c.method) {
    case 'paired A/B':
      return `A and B measured in pairs side by side in one run (${c.runs.base} pairs a case, random order): the machine's drift divides out of each pair's ratio. ${gateLine(c)}`
    case 'run-level':
      return `${c.runs.base} base and ${c.runs.candidate} candidate runs, each run one value (its mean): the spread between runs, the machine's drift included, is in every CI. ${c.gated ? gateLine(c) : 'Not gated: every base run came before every candidate run (or after), so a spell of the host between them reads as a change; alternate the runs (base, candidate, base, …).'}${runsLine}`
    case 'history':
      return `History from other days (${c.runs.base} earlier runs): reported, never gated. It tells whether the newest run lies outside the earlier runs' spread; it cannot tell a smaller change, nor whether the code or the machine moved.${runsLine}`
    default:
      return `Cannot tell from one run per side: the machine's speed moves between runs (the samples of one run share its state), so no gate. Gate with pairs in one run (ebpfperf suite micro --ab OTHER) or several runs per side (ebpfperf compare BASE1 BASE2 … -- CAND1 CAND2 …).`
  }
}

const pick = (s: {n: number; mean: number; sd: number; cv: number}) => ({n: s.n, mean: s.mean, sd: s.sd, cv: s.cv})
const NONE = {n: 0, mean: Number.NaN, sd: Number.NaN, cv: Number.NaN}
const NAN2: [number, number] = [Number.NaN, Number.NaN]

function commonOf(suite: string, c: CaseResult) {
  return {suite, id: c.id, label: caseLabel(suite, c), params: c.params, metric: c.metric, unit: c.unit, higherIsBetter: c.higherIsBetter}
}

function failedCase(suite: string, c: CaseResult, base: number[], why: string): CaseComparison {
  const B = base.length ? pick(summarize(base)) : NONE
  return {...commonOf(suite, c), base: B, candidate: NONE, change: Number.NaN, relative: Number.NaN, ci95: NAN2, relativeCi95: NAN2, p: Number.NaN, verdict: 'failed', gate: true, note: why}
}

/**
 * The gate's confidence: one decision over every case compared, so each case's interval is widened
 * (Bonferroni) to keep the chance that any unchanged case fails the gate at 5%.
 */
export const gateAlpha = (cases: number): number => 0.05 / Math.max(1, cases)

/**
 * The verdict from a ratio interval; `spread`: the sd (log scale) that decides "too noisy" when not
 * significant; `alpha`: the gate's per-case level (undefined: not gated).
 */
function fromRatio(suite: string, c: CaseResult, base: number[], cand: number[], r: RatioInterval, spread: number, threshold: number, noiseLimit: number, alpha: number | undefined): CaseComparison {
  const B = summarize(base)
  const worse = c.higherIsBetter ? r.relative < 0 : r.relative > 0
  let verdict: CompareVerdict
  if (r.significant) verdict = worse ? 'regression' : 'improvement'
  else verdict = !(spread <= noiseLimit) ? 'too noisy to tell' : 'no significant difference'
  // The gate asks one side (worse), so the 1 - 2α two-sided interval's bound on that side is a one-sided test at α:
  // an unchanged case passes it with probability 1 - α, every case together with 1 - 0.05. The threshold is
  // the size that matters, judged on the estimate: requiring the whole interval beyond it as well would need
  // far more pairs to find a 20% change on a noisy host, without making an unchanged build any safer.
  const gateCi = alpha === undefined ? undefined : relativeCiAt(r, 2 * alpha)
  const large = c.higherIsBetter ? r.relative < -threshold : r.relative > threshold
  const gate = gateCi !== undefined && verdict === 'regression' && beyondMargin(gateCi, 0, c.higherIsBetter) && large
  const ci95: [number, number] = [B.mean * r.relativeCi[0], B.mean * r.relativeCi[1]]
  return {...commonOf(suite, c), base: pick(B), candidate: pick(summarize(cand)), change: B.mean * r.relative, relative: r.relative, ci95, relativeCi95: r.relativeCi, gateCi, p: r.p, verdict, gate}
}

/** Whether the two sides' runs alternate in time (their spans of start times overlap). */
function overlapInTime(base: Run[], candidate: Run[]): boolean {
  const span = (xs: Run[]) => [xs.map((r) => r.started).sort()[0], xs.map((r) => r.started).sort().at(-1)!]
  const [b, c] = [span(base), span(candidate)]
  return b[0] <= c[1] && c[0] <= b[1]
}

function compareMatched(m: Matched, method: CompareMethod, threshold: number, noiseLimit: number, gated: boolean, family: number): CaseComparison {
  const okSamples = (cs: CaseResult[]) => cs.filter((c) => c.status === 'ok' && c.samples.length > 0).map((c) => c.samples)
  const baseRuns = okSamples(m.base)
  const candRuns = okSamples(m.candidate)
  const base = baseRuns.flat()
  const bad = m.candidate.find((c) => c.status !== 'ok' || c.samples.length === 0)
  if (bad) return failedCase(m.suite, m.first, base, bad.reason ?? `candidate case ${bad.status}`)
  const cand = candRuns.flat()
  if (method === 'one run per side') {
    const w = welch(base, cand)
    const B = summarize(base)
    return {...commonOf(m.suite, m.first), base: pick(B), candidate: pick(summarize(cand)), change: w.diff, relative: w.relative, ci95: NAN2, relativeCi95: NAN2, p: Number.NaN, verdict: 'too noisy to tell', gate: false, note: 'cannot tell from one run per side'}
  }
  if (method === 'history') {
    const h = againstHistory(baseRuns, cand)
    return {...fromRatio(m.suite, m.first, base, cand, h, h.betweenSd, threshold, noiseLimit, undefined), runsNeeded: runsNeeded(h.betweenSd, threshold)}
  }
  const r = runLevel(baseRuns, candRuns)
  return {...fromRatio(m.suite, m.first, base, cand, r, r.betweenSd, threshold, noiseLimit, gated ? gateAlpha(family) : undefined), runsNeeded: runsNeeded(r.betweenSd, threshold)}
}

/** Pairs per case below which a paired 95% CI is too wide to exclude a 5% change on a noisy host. */
export const AB_MIN_PAIRS = 5

/** An A/B result (suite micro --ab): per test and CPU, B's samples against A's, pair by pair. */
export function compareAb(run: Run, opts: CompareOptions = {}): Comparison {
  const threshold = opts.threshold ?? 0.05
  const noiseLimit = opts.noiseLimit ?? 0.1
  const sideKey = (c: CaseResult) => key(run.suite, {...c, params: Object.fromEntries(Object.entries(c.params).filter(([k]) => k !== 'variant' && k !== 'object'))})
  const bySide = (v: string) => new Map(run.cases.filter((c) => c.params.variant === v).map((c) => [sideKey(c), c]))
  const [A, B] = [bySide('A'), bySide('B')]
  const both = [...A].filter(([k, a]) => B.has(k) && !(a.status === 'skipped' && B.get(k)!.status === 'skipped'))
  const cases: CaseComparison[] = []
  let pairs = 0
  for (const [k, a] of both) {
    const b = B.get(k)!
    const c = {...a, params: Object.fromEntries(Object.entries(a.params).filter(([p]) => p !== 'variant'))}
    if (a.status !== 'ok' || b.status !== 'ok') {
      cases.push(failedCase(run.suite, c, a.status === 'ok' ? a.samples : [], (b.status !== 'ok' ? b.reason : a.reason) ?? 'failed'))
      continue
    }
    const n = Math.min(a.samples.length, b.samples.length)
    pairs = Math.max(pairs, n)
    const r = pairedLogRatio(a.samples.slice(0, n), b.samples.slice(0, n))
    cases.push(fromRatio(run.suite, c, a.samples, b.samples, r, r.se * Math.sqrt(r.n), threshold, noiseLimit, gateAlpha(both.length)))
  }
  if (cases.length === 0) throw new ResultError(fileOf(run), 'no A/B pair with samples on both sides')
  if (pairs < AB_MIN_PAIRS) throw new ResultError(fileOf(run), `${pairs} A/B pair(s) a case: a paired CI that can tell a ${pctOf(threshold)} change needs at least ${AB_MIN_PAIRS}; measure again with suite micro --ab OTHER --repeat ${AB_MIN_PAIRS} or more`)
  labelByParams(cases)
  return finish({method: 'paired A/B', gated: true, base: [fileOf(run)], candidate: fileOf(run), runs: {base: pairs, candidate: pairs}, threshold, noiseLimit, environmentDifferences: [], cases, missing: [], added: []})
}

/** Cases sharing suite/id get the parameters that differ between them in their label. */
function labelByParams(cases: CaseComparison[]): void {
  const byId = new Map<string, CaseComparison[]>()
  for (const c of cases) byId.set(c.label, [...(byId.get(c.label) ?? []), c])
  for (const same of byId.values()) {
    if (same.length < 2) continue
    const keys = [...new Set(same.flatMap((c) => Object.keys(c.params)))].filter((k) => new Set(same.map((c) => JSON.stringify(c.params[k]))).size > 1)
    for (const c of same) if (keys.length) c.label += ` ${keys.map((k) => `${k}=${c.params[k]}`).join(' ')}`
  }
}
