import {Args} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {localTip} from '../../history/branch.js'
import {historyFlags} from '../../history/flags.js'
import {Repo} from '../../history/git.js'
import {checkBranch, parseHistoryPath, type HistoryPath} from '../../history/layout.js'
import {renderTable} from '../../results/table.js'
import {BadInputError} from '../../util/errors.js'

export default class HistoryList extends BaseCommand {
  static summary = 'List the runs in the results branch: suite, machine, kernel, commit, start time and path.'
  static examples = ['<%= config.bin %> history list', '<%= config.bin %> history list micro/ci-runner-1 --json']
  static enableJsonFlag = true
  static args = {path: Args.string({description: 'only the runs under this folder of the branch, e.g. micro or micro/ci-runner-1'})}
  static flags = {...historyFlags}

  async run(): Promise<HistoryPath[]> {
    const {args, flags} = await this.parse(HistoryList)
    try {
      const branch = checkBranch(flags.branch)
      const repo = await Repo.open(flags.repo)
      const tip = await localTip(repo, branch)
      if (!tip) throw new BadInputError(`no branch ${branch} in this repository: ebpfperf history push creates it, ebpfperf history pull fetches it`)
      const runs = (await repo.lsFiles(tip, args.path?.replace(/\/+$/, '')))
        .map((f) => parseHistoryPath(f.path))
        .filter((p): p is HistoryPath => p !== undefined)
        .sort((a, b) => a.time.localeCompare(b.time))
      if (this.jsonEnabled()) return runs
      const when = (t: string) => `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)} ${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`
      const rows = runs.map((r) => [r.suite, r.machine, r.kernel, r.commit, when(r.time), r.path])
      this.log(runs.length ? renderTable(['Suite', 'Machine', 'Kernel', 'Commit', 'Started', 'Path'], rows) : `no runs in ${branch}${args.path ? ` under ${args.path}` : ''}`)
      return runs
    } catch (error) {
      return this.failWith(error)
    }
  }
}
