// A history of runs (a results branch or a folder) as each case's figure over the recorded commits, for
// `ebpfperf report --history`. Context for a human, never a gate: runs from other days and hosts move with
// the machine (docs/gate.md), so the newest run's verdict against the earlier ones is reported as compare
// --history reports it, and nothing here sets an exit code.
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {compareRuns, incomparable, isAbRun, resultFiles} from '../results/compare.js'
import {loadResult, ResultError, type CaseResult, type RunResult} from '../results/store.js'
import {commitOfFile, parseHistoryPath, type HistoryPath} from './layout.js'
import {historyFromGit, isGitSpec, newestGroups} from './resolve.js'

export type HistoryRun = RunResult & {file: string; label: string; commit?: string}

/** The runs a history spec names (git:BRANCH[:PATH] or a folder), oldest first, each with its commit when the file name holds one. */
export async function loadHistory(spec: string, repoDir = '.'): Promise<HistoryRun[]> {
  const read = (file: string, label: string): HistoryRun => Object.assign(loadResult(file), {file: label, label, commit: commitOfFile(label)})
  let runs: HistoryRun[]
  if (isGitSpec(spec)) {
    const git = await historyFromGit(spec, repoDir)
    try {
      runs = resultFiles(git.dir).map((f) => read(f, git.label(f)))
    } finally {
      git.cleanup()
    }
  } else runs = folderFiles(spec).map((f) => read(f, f))
  return runs.sort((a, b) => a.started.localeCompare(b.started))
}

/** The .json files under a folder, a few levels deep (the layout is six). */
function jsonFilesUnder(dir: string, depth = 8): string[] {
  if (depth === 0) return []
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? jsonFilesUnder(join(dir, e.name), depth - 1) : e.isFile() && e.name.endsWith('.json') ? [join(dir, e.name)] : []))
}

/**
 * A folder's result files: a copy of a results branch (history pull --out) keeps its layout, and then, as
 * from the branch, only the runs of the newest run's machine and kernel per suite; any other folder, its results.
 */
function folderFiles(spec: string): string[] {
  if (!existsSync(spec) || !statSync(spec).isDirectory()) return resultFiles(spec)
  const files = jsonFilesUnder(spec)
  const laid = files.map((f) => parseHistoryPath(relative(spec, f))).filter((p): p is HistoryPath => p !== undefined)
  if (laid.length === 0) return resultFiles(spec)
  const results = newestGroups(laid).map((p) => join(spec, p.path)).filter((f) => {
    try {
      return loadResult(f) !== undefined
    } catch {
      return false
    }
  })
  if (results.length === 0) throw new ResultError(spec, 'no ebpfperf result files in the layout of a results branch here')
  return results
}

export interface TrendPoint {
  mean: number | null
  ci95: [number, number] | null
  status: CaseResult['status'] | 'absent'
}

export interface CaseTrend {
  key: string
  label: string
  metric: string
  unit: string
  higherIsBetter: boolean
  points: TrendPoint[] // one per run of the suite, oldest first
  /** Largest run mean over the smallest, less one: how far this case's runs moved. */
  spread: number
  /** The newest run against the earlier ones (compare --history's verdict, reported, never gated). */
  verdict?: string
}

export interface SuiteTrend {
  suite: string
  runs: HistoryRun[]
  /** Why the newest run has no verdict (one run only, different environments…), when it has none. */
  note?: string
  cases: CaseTrend[]
}

const sortKeys = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)))
const caseKey = (c: {id: string; params: Record<string, unknown>}) => `${c.id} ${JSON.stringify(sortKeys(c.params))}`

/** A run's point on the x axis: its commit, or its start time (to the minute) when none is recorded; the table gives both. */
export const runLabel = (r: HistoryRun): string => r.commit?.slice(0, 9) ?? r.started.slice(0, 16).replace('T', ' ')

/** The newest run's verdicts against the earlier runs, by case key; or why there are none. */
function newestVerdicts(runs: HistoryRun[]): {verdicts: Map<string, string>; note?: string} {
  const verdicts = new Map<string, string>()
  if (runs.length < 2) return {verdicts, note: 'one run only: nothing to set it against'}
  const [earlier, newest] = [runs.slice(0, -1), runs.slice(-1)]
  const why = incomparable(earlier, newest)
  if (why) return {verdicts, note: why.replace(/, so there is no gate; --force compares them anyway$/, '')}
  try {
    for (const c of compareRuns(earlier, newest, {}, true).cases) verdicts.set(caseKey(c), c.verdict)
  } catch (error) {
    return {verdicts, note: (error as Error).message}
  }
  return {verdicts, note: runs.length < 3 ? 'one earlier run has no run-to-run spread to set the newest against: "too noisy to tell" until there are a few' : undefined}
}

function trendOf(runs: HistoryRun[], first: CaseResult, key: string, verdict: string | undefined, suite: string): CaseTrend {
  const points = runs.map((r): TrendPoint => {
    const c = r.cases.find((x) => caseKey(x) === key)
    if (!c) return {mean: null, ci95: null, status: 'absent'}
    const ok = c.status === 'ok' && c.stats !== undefined
    return {mean: ok ? c.stats!.mean : null, ci95: ok && c.stats!.ci95.every(Number.isFinite) ? c.stats!.ci95 : null, status: c.status}
  })
  const means = points.map((p) => p.mean).filter((m): m is number => m !== null && m > 0)
  const spread = means.length > 1 ? Math.max(...means) / Math.min(...means) - 1 : Number.NaN
  const varying = Object.keys(first.params).filter((k) => k !== 'test' && String(first.params[k]) !== first.id)
  const label = `${suite}/${first.id}${varying.length && runs.some((r) => r.cases.filter((c) => c.id === first.id).length > 1) ? ` ${varying.map((k) => `${k}=${first.params[k]}`).join(' ')}` : ''}`
  return {key, label, metric: first.metric, unit: first.unit, higherIsBetter: first.higherIsBetter, points, spread, verdict}
}

/** Per suite: its runs oldest first and each case's figure in every run. */
export function suiteTrends(all: HistoryRun[]): SuiteTrend[] {
  // A/B runs hold two builds' samples in pairs: compare --history gates them, a trend of one figure per run cannot show them
  const plain = all.filter((r) => !isAbRun(r))
  const suites = [...new Set(plain.map((r) => r.suite))]
  return suites.map((suite) => {
    const runs = plain.filter((r) => r.suite === suite)
    const ab = all.filter((r) => r.suite === suite && isAbRun(r)).length
    const found = newestVerdicts(runs)
    const note = ab ? [found.note, `${ab} A/B run(s) not drawn (compare --history gates a newest A/B run by its pairs)`].filter(Boolean).join('; ') : found.note
    const {verdicts} = found
    const firsts = new Map<string, CaseResult>()
    for (const r of runs) for (const c of r.cases) if (!firsts.has(caseKey(c))) firsts.set(caseKey(c), c)
    const cases = [...firsts].map(([key, c]) => trendOf(runs, c, key, verdicts.get(key), suite))
    return {suite, runs, note, cases}
  })
}
