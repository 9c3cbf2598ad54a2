import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {copyOut, localTip, pull, type PullOutcome} from '../../history/branch.js'
import {historyFlags} from '../../history/flags.js'
import {Repo} from '../../history/git.js'
import {checkBranch} from '../../history/layout.js'
import {BadInputError} from '../../util/errors.js'

export default class HistoryPull extends BaseCommand {
  static summary = "Fetch the results branch from a remote into the local one (a fast-forward, or a merge of both sets of runs); --out copies result files out."
  static examples = ['<%= config.bin %> history pull', '<%= config.bin %> history pull micro/ci-runner-1 --out history/ --no-fetch']
  static enableJsonFlag = true
  static args = {path: Args.string({description: 'with --out: only the files under this folder of the branch, e.g. micro/ci-runner-1'})}
  static flags = {
    ...historyFlags,
    remote: Flags.string({default: 'origin', description: 'the remote to fetch from (a name or URL)'}),
    fetch: Flags.boolean({default: true, allowNo: true, description: '--no-fetch: use the local branch as it is'}),
    out: Flags.string({description: 'copy the result files into this folder (keeping the layout), for report or compare'}),
  }

  async run(): Promise<PullOutcome & {files: string[]}> {
    const {args, flags} = await this.parse(HistoryPull)
    try {
      const branch = checkBranch(flags.branch)
      const repo = await Repo.open(flags.repo)
      let outcome: PullOutcome
      if (flags.fetch) {
        outcome = await pull(repo, flags.remote, branch)
        this.note(`history: ${branch} ${outcome.action} at ${outcome.commit.slice(0, 12)} from ${flags.remote}`)
      } else {
        const tip = await localTip(repo, branch)
        if (!tip) throw new BadInputError(`no branch ${branch} in this repository: ebpfperf history pull (without --no-fetch) fetches it`)
        outcome = {branch, commit: tip, action: 'up to date'}
      }
      const files = flags.out ? await copyOut(repo, outcome.commit, args.path, flags.out) : []
      if (flags.out && !this.jsonEnabled()) this.log(`${files.length} result file(s) copied into ${flags.out}`)
      return {...outcome, files}
    } catch (error) {
      return this.failWith(error)
    }
  }
}
