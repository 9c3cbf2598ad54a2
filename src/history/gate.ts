// compare --history: the newest run of each suite against the earlier ones. An A/B run holds its own base,
// measured side by side with the candidate, so a newest A/B run is gated pair by pair; a plain newest run
// only meets runs from other times, whose drift is larger than the changes worth catching: reported, never gated.
import {compareAb, compareRuns, incomparable, isAbRun, newestBySuite, resultFiles, type CompareOptions, type Comparison} from '../results/compare.js'
import {loadResult, ResultError, type RunResult} from '../results/store.js'
import {BadInputError} from '../util/errors.js'
import {commitOfFile} from './layout.js'

type FileRun = RunResult & {file: string}

const short = (sha: string | undefined) => sha?.slice(0, 12) ?? 'not recorded'

/** The commits an A/B run compared: its recorded sides, the candidate's also from its layout file name. */
export function abCommits(run: RunResult, file: string): {base: string; candidate: string} {
  return {base: short(run.ab?.base.commit), candidate: short(run.ab?.candidate.commit ?? commitOfFile(file))}
}

/**
 * The comparison `compare --history DIR` reports: a newest A/B run gated by its pairs (the other suites'
 * runs and its suite's earlier runs are context); else the newest plain runs against the earlier plain runs.
 */
export function historyComparison(dir: string, opts: CompareOptions, force: boolean, label = (f: string) => f): Comparison {
  const runs = resultFiles(dir).map((f): FileRun => Object.assign(loadResult(f), {file: f}))
  const ab = newestBySuite(runs).find(isAbRun)
  return ab ? abFromHistory(ab, runs, opts, label) : plainHistory(dir, runs, opts, force)
}

function abFromHistory(ab: FileRun, runs: FileRun[], opts: CompareOptions, label: (f: string) => string): Comparison {
  const c = abCommits(ab, label(ab.file))
  const earlier = runs.filter((r) => r.suite === ab.suite && r !== ab).length
  const others = [...new Set(runs.filter((r) => r.suite !== ab.suite).map((r) => r.suite))]
  const rest = others.length ? `; suite ${others.join(', ')} not compared here (give --history …:SUITE)` : ''
  const history = `newest ${ab.suite} run is an A/B run (base ${c.base} → candidate ${c.candidate}): gated pair by pair; ${earlier} earlier run(s) are context, not gated${rest}`
  return {...compareAb(ab, opts), history}
}

/** Earlier A/B runs are left out: their samples come in pairs from fresh loads beside another build, not as a plain run measures. */
function plainHistory(dir: string, runs: FileRun[], opts: CompareOptions, force: boolean): Comparison {
  const plain = runs.filter((r) => !isAbRun(r))
  const candidate = newestBySuite(plain)
  const base = plain.filter((r) => !candidate.includes(r))
  const skipped = runs.length - plain.length
  const left = skipped ? `; ${skipped} A/B run(s) left out (an A/B run is compared pair by pair, on its own)` : ''
  if (base.length === 0) throw new ResultError(dir, `only one run per suite in this folder${left}: --history needs earlier runs to compare with`)
  const why = incomparable(base, candidate)
  if (why && !force) throw new BadInputError(why)
  const history = `newest run is a plain run: reported, not gated (the earlier runs are from other times)${left}; for a gate, push an A/B run: suite micro --ab-base BASE_BUILD --ab-commit BASE_SHA`
  return {...compareRuns(base, candidate, opts, true), history}
}
