import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {resultFiles} from '../../results/compare.js'
import {measuredCommit, pushLocal, pushRemote, resultBlobs, type PushOutcome} from '../../history/branch.js'
import {historyFlags} from '../../history/flags.js'
import {Repo} from '../../history/git.js'
import {checkBranch} from '../../history/layout.js'

export default class HistoryPush extends BaseCommand {
  static summary = 'Commit result files into the results branch of a git repository (never its work tree or current branch); --remote also pushes it.'
  static description = `Each run goes to <suite>/<machine>/<kernel>/<yyyy>/<mm>/<commit>-<time>.json of the branch (default perf-results,
an orphan branch created on first use), so parallel CI jobs never edit the same file. With --remote the runs are
added on top of the remote's branch and pushed; a push rejected because another job pushed first is retried.`

  static examples = [
    '<%= config.bin %> history push results/',
    '<%= config.bin %> history push results/micro-20261202T111014829Z.json --remote origin --machine ci-runner-1',
  ]

  static enableJsonFlag = true
  static strict = false
  static args = {files: Args.string({description: 'result files or folders of them', required: true})}
  static flags = {
    ...historyFlags,
    remote: Flags.string({description: 'also push the branch to this remote (a name or URL), retrying when rejected'}),
    commit: Flags.string({description: 'the commit the results were measured at (default: HEAD of --repo)'}),
    machine: Flags.string({description: 'the machine folder (default: the hostname in the result; name CI runners stably)'}),
    retries: Flags.integer({default: 5, min: 0, max: 50, description: 'attempts after a rejected push'}),
  }

  async run(): Promise<PushOutcome> {
    const {argv, flags} = await this.parse(HistoryPush)
    try {
      const files = (argv as string[]).flatMap((p) => resultFiles(p))
      const repo = await Repo.open(flags.repo)
      const opts = {branch: checkBranch(flags.branch), retries: flags.retries, machine: flags.machine, commit: await measuredCommit(repo, flags.commit)}
      const blobs = await resultBlobs(repo, files, opts)
      const out = flags.remote ? await pushRemote(repo, blobs, {...opts, remote: flags.remote}) : await pushLocal(repo, blobs, opts)
      for (const p of out.added) this.note(`history: + ${p}`)
      for (const p of out.already) this.note(`history: = ${p} (already there)`)
      const where = out.pushed ? ` and pushed to ${flags.remote}${out.attempts > 1 ? ` (attempt ${out.attempts})` : ''}` : ''
      if (!this.jsonEnabled()) this.log(`${out.added.length} run(s) added to ${out.branch} at ${out.commit.slice(0, 12)}${where}`)
      return out
    } catch (error) {
      return this.failWith(error)
    }
  }
}
