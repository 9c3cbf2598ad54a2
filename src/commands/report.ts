import {Args, Flags} from '@oclif/core'
import {resolve} from 'node:path'
import {BaseCommand} from '../util/cli.js'
import {compareRuns, newestPerSuite, resultFiles} from '../results/compare.js'
import {renderReport} from '../results/report.js'
import {loadResult, writeAtomic} from '../results/store.js'
import {BadInputError} from '../util/errors.js'

export default class Report extends BaseCommand {
  static summary = 'Write one self-contained HTML page (opens offline) with charts of result files, and optionally a comparison.'
  static examples = ['<%= config.bin %> report results/ -o report.html', '<%= config.bin %> report results/new --compare results/old -o pr.html']
  static strict = false
  static args = {results: Args.string({description: 'result files or folders', required: true})}
  static flags = {
    output: Flags.string({char: 'o', default: 'report.html', description: 'the HTML file to write'}),
    compare: Flags.string({description: 'base result file or folder: adds the change per case, coloured by verdict'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Report)
    try {
      const runs = (argv as string[]).flatMap((p) => resultFiles(p).map((f) => Object.assign(loadResult(f), {file: f})))
      if (runs.length === 0) throw new BadInputError('no result files given')
      const cmp = flags.compare ? compareRuns(newestPerSuite(flags.compare), runs) : undefined
      const out = resolve(flags.output)
      writeAtomic(out, renderReport(runs, cmp))
      this.log(`wrote ${out} (${runs.length} run(s)${cmp ? `, comparison against ${flags.compare}` : ''})`)
    } catch (error) {
      return this.failWith(error)
    }
  }
}
