import {existsSync} from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../util/cli.js'
import {compareAb, compareRuns, incomparable, isAbRun, parsePercent, resultFiles, tooFewRuns, type Comparison} from '../results/compare.js'
import {renderComparison} from '../results/compare-render.js'
import {loadResult, type RunResult} from '../results/store.js'
import {BadInputError} from '../util/errors.js'
import {historyFromGit, isGitSpec, relabel, type GitHistory} from '../history/resolve.js'
import {historyComparison} from '../history/gate.js'
import {issueText} from '../history/issue.js'

export default class Compare extends BaseCommand {
  static summary = 'Compare result files (or folders): per case the change, its 95% CI, p-value and a verdict; a CI gate.'
  static description = `The run is the unit: a shared machine's speed moves between runs while the samples of one run agree, so
  - an A/B result (suite micro --ab OTHER) alone: B against A pair by pair (paired log-ratios), gated;
  - several runs per side (BASE... -- CANDIDATE..., or two folders of runs): run means compared, between-run variance counted, gated;
  - one run per side: the changes, but "cannot tell from one run per side", not gated;
  - --history DIR: the newest run of each suite against the earlier runs; a newest A/B run is gated by its own pairs,
    a newest plain run is set against the earlier runs' spread, reported, not gated.
Cases are matched by suite, id and parameters. Verdicts: regression, improvement, no significant difference (p ≥ 0.05),
too noisy to tell. Exit 1 when a regression is larger than --threshold and significant at 95% corrected for the number of cases (one-sided); 2 for bad input
(results from different kernels, CPUs or configs unless --force, or too few runs).`

  static examples = [
    '<%= config.bin %> compare results/ab.json',
    '<%= config.bin %> compare base1.json base2.json base3.json -- cand1.json cand2.json cand3.json',
    '<%= config.bin %> compare results/base results/candidate --format markdown',
    '<%= config.bin %> compare --history results',
    '<%= config.bin %> compare --history git:perf-results:micro',
  ]

  static enableJsonFlag = true
  static strict = false
  static args = {
    paths: Args.string({description: 'an A/B result; or BASE and CANDIDATE (files or folders of runs); or BASE... -- CANDIDATE...'}),
  }

  static flags = {
    history: Flags.string({description: 'folder of runs, or git:BRANCH[:PATH] (a results branch, see history push): the newest run of each suite against the earlier ones; a newest A/B run (suite micro --ab-base) is gated by its pairs, a plain one reported, not gated'}),
    threshold: Flags.string({default: '5%', description: 'a regression larger than this and significant (95%, corrected for the number of cases compared) fails the gate (exit 1)'}),
    noise: Flags.string({default: '10%', description: 'spread (between runs, or between pairs) above which a case that is not significant is "too noisy to tell"'}),
    force: Flags.boolean({description: 'compare results measured on different kernels, CPUs, configs or machines'}),
    format: Flags.string({options: ['table', 'markdown', 'json', 'issue'], default: 'table', description: 'markdown: to paste into a pull request; issue: a title line, a blank line and the markdown body of an issue for the regressions (nothing when there is none)'}),
  }

  async run(): Promise<Comparison> {
    const {argv, flags} = await this.parse(Compare)
    let git: GitHistory | undefined
    try {
      const opts = {threshold: parsePercent(flags.threshold, '--threshold'), noiseLimit: parsePercent(flags.noise, '--noise')}
      git = flags.history && isGitSpec(flags.history) ? await historyFromGit(flags.history) : undefined
      const history = flags.history ? {dir: git?.dir ?? flags.history, label: git?.label} : undefined
      const found = compareFrom(withSeparator(argv as string[], this.argv), history, flags.force, opts)
      const cmp = git ? relabel(found, git) : found
      if (flags.format === 'json' && !this.jsonEnabled()) this.log(JSON.stringify(cmp, null, 1))
      else if (flags.format === 'issue' && !this.jsonEnabled()) {
        const text = issueText(cmp, {file: found.candidate.split(', ')[0], label: git?.label})
        if (text) this.log(text)
        else this.note(noIssueLine(cmp))
      } else if (!this.jsonEnabled()) this.log(renderComparison(cmp, flags.format as 'table' | 'markdown'))
      process.exitCode = cmp.exitCode
      return cmp
    } catch (error) {
      return this.failWith(error)
    } finally {
      git?.cleanup()
    }
  }
}

/** Why --format issue printed nothing (stderr, so a script reading stdout sees no issue). */
function noIssueLine(cmp: Comparison): string {
  const counts = new Map<string, number>()
  for (const c of cmp.cases) counts.set(c.verdict, (counts.get(c.verdict) ?? 0) + 1)
  const few = cmp.method === 'history' && cmp.runs.base < 2 ? '; one earlier run has no run-to-run spread, so history cannot tell yet' : ''
  return `no issue: no significant regression (${[...counts].map(([v, n]) => `${n} ${v}`).join(', ')}${few})`
}

/** oclif drops `--` from the parsed arguments: put it back where the raw command line had it. */
function withSeparator(args: string[], raw: string[]): string[] {
  const cut = raw.indexOf('--')
  if (cut < 0) return args
  const before = raw.slice(0, cut).filter((t) => args.includes(t)).length
  return [...args.slice(0, before), '--', ...args.slice(before)]
}

const runsIn = (paths: string[]): (RunResult & {file: string})[] => paths.flatMap((p) => resultFiles(p).map((f) => Object.assign(loadResult(f), {file: f})))

/** Which comparison the arguments ask for (see the description). */
function compareFrom(argv: string[], history: {dir: string; label?: (f: string) => string} | undefined, force: boolean, opts: {threshold: number; noiseLimit: number}): Comparison {
  if (history) return historyComparison(history.dir, opts, force, history.label)
  const cut = argv.indexOf('--')
  let sides: [string[], string[]]
  if (cut >= 0) sides = [argv.slice(0, cut), argv.slice(cut + 1)]
  else if (argv.length === 2) sides = [[argv[0]], [argv[1]]]
  else if (argv.length === 1) {
    const runs = runsIn(argv)
    if (runs.length === 1 && isAbRun(runs[0])) return compareAb(runs[0], opts)
    throw new BadInputError(`${argv[0]}: not an A/B result (suite micro --ab): give BASE and CANDIDATE, BASE... -- CANDIDATE..., or --history DIR`)
  } else throw new BadInputError('give an A/B result, BASE and CANDIDATE (files or folders), BASE... -- CANDIDATE..., or --history DIR')
  if (sides[0].length === 0 || sides[1].length === 0) throw new BadInputError('BASE... -- CANDIDATE...: give at least one result on each side of --')
  const flagLike = sides[1].find((p) => p.startsWith('-') && !existsSync(p))
  if (flagLike) throw new BadInputError(`${flagLike}: after -- every word is a candidate result; put flags before BASE... -- CANDIDATE...`)
  const [base, candidate] = [runsIn(sides[0]), runsIn(sides[1])]
  const few = tooFewRuns(base, candidate)
  if (few) throw new BadInputError(few)
  const why = incomparable(base, candidate)
  if (why && !force) throw new BadInputError(why)
  return compareRuns(base, candidate, opts)
}
