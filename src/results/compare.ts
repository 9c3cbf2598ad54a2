// Comparing runs: cases matched by suite, id and parameters; per case the change, its 95% CI, p-value and
// a verdict; a regression beyond the threshold fails the gate.
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {fingerprintDifferences} from './fingerprint.js'
import {loadResult, ResultError, type CaseResult, type RunResult} from './store.js'
import {summarize, welch} from './stats.js'

export type CompareVerdict = 'regression' | 'improvement' | 'no significant difference' | 'too noisy to tell' | 'failed'

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
  relative: number // change / base mean
  ci95: [number, number] // for change
  p: number
  verdict: CompareVerdict
  gate: boolean // a regression beyond the threshold
  note?: string
}

export interface Comparison {
  schema: 'ebpfperf/comparison/v1'
  base: string[] // files
  candidate: string
  threshold: number // relative, e.g. 0.05
  noiseLimit: number // CV above which a case is "too noisy to tell"
  environmentDifferences: string[]
  cases: CaseComparison[]
  missing: string[] // in base, not in candidate
  added: string[] // in candidate, not in base
  regressions: number
  exitCode: 0 | 1
}

export interface CompareOptions {
  threshold?: number // default 0.05
  noiseLimit?: number // default 0.10
}

const key = (suite: string, c: CaseResult) => `${suite}/${c.id}${Object.keys(c.params).length ? ` ${JSON.stringify(sortKeys(c.params))}` : ''}`
const sortKeys = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)))
const caseLabel = (suite: string, c: CaseResult) => `${suite}/${c.id}`

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

/** The newest result of each suite in a file or folder. */
export function newestPerSuite(path: string): RunResult[] {
  const bySuite = new Map<string, {run: RunResult; file: string}>()
  for (const f of resultFiles(path)) {
    const run = loadResult(f)
    const prev = bySuite.get(run.suite)
    if (!prev || prev.run.started < run.started) bySuite.set(run.suite, {run, file: f})
  }
  return [...bySuite.values()].map((x) => Object.assign(x.run, {file: x.file}))
}

/**
 * Compares candidate runs against base runs (several base runs of a suite pool their samples per case:
 * that is the history baseline, and it never includes the candidate).
 */
export function compareRuns(base: (RunResult & {file?: string})[], candidate: (RunResult & {file?: string})[], opts: CompareOptions = {}): Comparison {
  const emulated = (r: RunResult) => r.vm?.emulated === true
  const mixed = [...base, ...candidate].some(emulated) && ![...base, ...candidate].every(emulated)
  if (mixed) {
    const files = [...base, ...candidate].filter(emulated).map((r) => r.file ?? r.suite).join(', ')
    throw new ResultError(files, 'timings from an emulated (TCG) guest are never compared with timings from real hardware: compare guest runs with guest runs')
  }
  const threshold = opts.threshold ?? 0.05
  const noiseLimit = opts.noiseLimit ?? 0.1
  const pooled = new Map<string, {suite: string; c: CaseResult; samples: number[]}>()
  for (const run of base) {
    for (const c of run.cases) {
      if (c.status !== 'ok') continue
      const k = key(run.suite, c)
      const e = pooled.get(k)
      if (e) e.samples.push(...c.samples)
      else pooled.set(k, {suite: run.suite, c, samples: [...c.samples]})
    }
  }
  const cases: CaseComparison[] = []
  const seen = new Set<string>()
  const added: string[] = []
  for (const run of candidate) {
    for (const c of run.cases) {
      const k = key(run.suite, c)
      const b = pooled.get(k)
      if (!b) {
        if (c.status === 'ok') added.push(caseLabel(run.suite, c))
        continue
      }
      seen.add(k)
      cases.push(compareCase(run.suite, b.samples, c, threshold, noiseLimit))
    }
  }
  labelByParams(cases)
  const missing = [...pooled.entries()].filter(([k]) => !seen.has(k)).map(([, v]) => caseLabel(v.suite, v.c))
  if (cases.length === 0) {
    const files = [...base, ...candidate].map((r) => r.file ?? r.suite).join(', ')
    throw new ResultError(files, 'no case in common between the base and the candidate (different suites or parameters?)')
  }
  const envBase = base[base.length - 1]?.environment
  const envCand = candidate[0]?.environment
  const regressions = cases.filter((c) => c.gate).length
  return {
    schema: 'ebpfperf/comparison/v1',
    base: base.map((r) => r.file ?? r.suite),
    candidate: candidate.map((r) => r.file ?? r.suite).join(', '),
    threshold,
    noiseLimit,
    environmentDifferences: envBase && envCand ? fingerprintDifferences(envBase, envCand) : [],
    cases,
    missing,
    added,
    regressions,
    exitCode: regressions > 0 ? 1 : 0,
  }
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

function compareCase(suite: string, baseSamples: number[], c: CaseResult, threshold: number, noiseLimit: number): CaseComparison {
  const common = {suite, id: c.id, label: caseLabel(suite, c), params: c.params, metric: c.metric, unit: c.unit, higherIsBetter: c.higherIsBetter}
  const B = summarize(baseSamples)
  if (c.status !== 'ok' || c.samples.length === 0) {
    return {...common, base: pick(B), candidate: {n: 0, mean: Number.NaN, sd: Number.NaN, cv: Number.NaN}, change: Number.NaN, relative: Number.NaN, ci95: [Number.NaN, Number.NaN], p: Number.NaN, verdict: 'failed', gate: true, note: c.reason ?? `candidate case ${c.status}`}
  }
  const C = summarize(c.samples)
  const w = welch(baseSamples, c.samples)
  const worse = c.higherIsBetter ? w.relative < 0 : w.relative > 0
  let verdict: CompareVerdict
  // Welch already weighs the variance: a significant change is real even from noisy samples; only when
  // it is not significant does noise decide between "no difference" and "cannot tell".
  if (w.significant) verdict = worse ? 'regression' : 'improvement'
  else verdict = B.cv > noiseLimit || C.cv > noiseLimit ? 'too noisy to tell' : 'no significant difference'
  // The gate asks for a regression significantly beyond the threshold: the whole 95% CI of the change must
  // lie past it (a point estimate just over 5% with a CI reaching back to 1% is not enough to fail CI).
  const nearest = c.higherIsBetter ? -w.ci95[1] : w.ci95[0] // the CI bound closest to "no change", made positive when worse
  const gate = verdict === 'regression' && B.mean !== 0 && nearest / Math.abs(B.mean) > threshold
  return {...common, base: pick(B), candidate: pick(C), change: w.diff, relative: w.relative, ci95: w.ci95, p: w.p, verdict, gate}
}

const pick = (s: {n: number; mean: number; sd: number; cv: number}) => ({n: s.n, mean: s.mean, sd: s.sd, cv: s.cv})

/** --history DIR: the newest run of each suite against all the earlier runs of that suite. */
export function historyPair(dir: string): {base: RunResult[]; candidate: RunResult[]} {
  const runs = resultFiles(dir).map((f) => Object.assign(loadResult(f), {file: f}))
  const newest = new Map<string, RunResult>()
  for (const r of runs) if (!newest.has(r.suite) || newest.get(r.suite)!.started < r.started) newest.set(r.suite, r)
  const candidate = [...newest.values()]
  const base = runs.filter((r) => !candidate.includes(r))
  if (base.length === 0) throw new ResultError(dir, 'only one run per suite in this folder: --history needs earlier runs to compare with')
  return {base, candidate}
}
