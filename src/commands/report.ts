import {Args, Flags} from '@oclif/core'
import {resolve} from 'node:path'
import {BaseCommand} from '../util/cli.js'
import {compareRuns, newestPerSuite, resultFiles} from '../results/compare.js'
import {esc, renderReport, type ReportSection} from '../results/report.js'
import {loadResult, writeAtomic, type RunResult} from '../results/store.js'
import {BadInputError} from '../util/errors.js'
import {loadHistory, suiteTrends, type HistoryRun} from '../history/trend.js'
import {historySection} from '../history/trend-render.js'
import {isProfileDir, loadProfileDir, profileSection, type ProfileView} from '../profile/section.js'

export default class Report extends BaseCommand {
  static summary = 'Write one self-contained HTML page (opens offline) with charts of result files, and optionally a comparison, a CPU flame graph and the history of each case.'
  static description = `A folder written by ebpfperf profile --out DIR (or --profile DIR) adds its flame graph and its run's results.
--history adds each case's figure over the runs of a results branch or folder: context, never a gate (compare on an A/B
run is the gate). With --history and no result files, the report is of the newest run of each suite in the history.`

  static examples = [
    '<%= config.bin %> report results/ -o report.html',
    '<%= config.bin %> report results/new --compare results/old -o pr.html',
    '<%= config.bin %> report profile/ -o profiled.html',
    '<%= config.bin %> report --history git:perf-results -o trend.html',
  ]

  static strict = false
  static args = {results: Args.string({description: 'result files or folders, or folders written by ebpfperf profile'})}
  static flags = {
    output: Flags.string({char: 'o', default: 'report.html', description: 'the HTML file to write'}),
    compare: Flags.string({description: 'base result file or folder: adds the change per case, coloured by verdict'}),
    profile: Flags.string({multiple: true, multipleNonGreedy: true, description: 'a folder written by ebpfperf profile --out DIR: adds its flame graph (a profile folder given as a result path is taken too)'}),
    history: Flags.string({description: 'git:BRANCH[:PATH] (a results branch, see history push) or a folder of runs: adds each case over the recorded commits, as context (never gated)'}),
    repo: Flags.string({default: '.', description: 'with --history git:…: the git repository holding the branch'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Report)
    try {
      const paths = argv as string[]
      const profileDirs = [...new Set([...paths.filter(isProfileDir), ...(flags.profile ?? [])].map((p) => resolve(p)))]
      const profiles = profileDirs.map(loadProfileDir)
      const history = flags.history ? await loadHistory(flags.history, flags.repo) : undefined
      const runs = reportRuns(paths, profiles, history)
      if (runs.length === 0 && profiles.length === 0) throw new BadInputError('no result files given (give result files or folders, a profile folder, or --history)')
      const cmp = flags.compare ? compareRuns(newestPerSuite(flags.compare), runs) : undefined
      const sections: ReportSection[] = [{html: profileSection(profiles, esc), charts: []}]
      if (history) sections.push(historySection(suiteTrends(history), flags.history!))
      const out = resolve(flags.output)
      writeAtomic(out, renderReport(runs, cmp, sections))
      const extras = [cmp && `comparison against ${flags.compare}`, profiles.length && `${profiles.length} flame graph(s)`, history && `history of ${history.length} run(s) from ${flags.history}`].filter(Boolean)
      this.log(`wrote ${out} (${runs.length} run(s)${extras.map((e) => `, ${e}`).join('')})`)
    } catch (error) {
      return this.failWith(error)
    }
  }
}

/** The runs the page is about: the paths' results (a profile folder's from its results folder), else the history's newest per suite. */
function reportRuns(paths: string[], profiles: ProfileView[], history: HistoryRun[] | undefined): (RunResult & {file: string})[] {
  const load = (p: string) => resultFiles(p).map((f) => Object.assign(loadResult(f), {file: f}))
  const fromProfiles = profiles.filter((p) => p.results && paths.some((x) => resolve(x) === p.dir)).flatMap((p) => load(p.results!))
  const runs = [...paths.filter((p) => !isProfileDir(p)).flatMap(load), ...fromProfiles]
  if (runs.length > 0 || !history) return runs
  const newest = new Map<string, HistoryRun>()
  for (const r of history) newest.set(r.suite, r) // oldest first: the last one stays
  return [...newest.values()]
}
