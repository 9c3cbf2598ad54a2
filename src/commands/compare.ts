import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../util/cli.js'
import {compareRuns, historyPair, newestPerSuite, type Comparison} from '../results/compare.js'
import {colorVerdict, fmtNum, fmtPct, renderTable} from '../results/table.js'
import {makeChalk} from '../doctor/render.js'
import {BadInputError} from '../util/errors.js'

export default class Compare extends BaseCommand {
  static summary = 'Compare result files (or folders): per case the change, its 95% CI, p-value and a verdict; a CI gate.'
  static description = `Cases are matched by suite, id and parameters. Several base runs pool their samples (the history baseline,
never including the candidate). Verdicts: regression, improvement, no significant difference (Welch p ≥ 0.05), too noisy
to tell (CV above --noise). Exit 1 when a regression lies beyond --threshold with its whole 95% CI; 2 for bad input.`

  static examples = ['<%= config.bin %> compare results/old results/new', '<%= config.bin %> compare base.json cand.json --format markdown', '<%= config.bin %> compare --history results --threshold 3%']
  static enableJsonFlag = true
  static args = {
    base: Args.string({description: 'base result file or folder (newest run per suite)'}),
    candidate: Args.string({description: 'candidate result file or folder'}),
  }

  static flags = {
    history: Flags.string({description: 'folder of runs: the newest run of each suite against all the earlier ones'}),
    threshold: Flags.string({default: '5%', description: 'a regression whose whole 95% CI lies beyond this fails the gate (exit 1)'}),
    noise: Flags.string({default: '10%', description: 'coefficient of variation above which a case is "too noisy to tell"'}),
    format: Flags.string({options: ['table', 'markdown', 'json'], default: 'table', description: 'markdown: to paste into a pull request'}),
  }

  async run(): Promise<Comparison> {
    const {args, flags} = await this.parse(Compare)
    try {
      const pct = (s: string, flag: string) => {
        const m = /^(\d+(?:\.\d+)?)%?$/.exec(s)
        if (!m) throw new BadInputError(`--${flag} ${s}: expected a percentage such as 5%`)
        return Number(m[1]) / 100
      }
      const opts = {threshold: pct(flags.threshold, 'threshold'), noiseLimit: pct(flags.noise, 'noise')}
      let pair
      if (flags.history) pair = historyPair(flags.history)
      else if (args.base && args.candidate) pair = {base: newestPerSuite(args.base), candidate: newestPerSuite(args.candidate)}
      else throw new BadInputError('give BASE and CANDIDATE (files or folders), or --history DIR')
      const cmp = compareRuns(pair.base, pair.candidate, opts)
      if (flags.format === 'json' && !this.jsonEnabled()) this.log(JSON.stringify(cmp, null, 1))
      else if (!this.jsonEnabled()) this.log(renderComparison(cmp, flags.format as 'table' | 'markdown'))
      process.exitCode = cmp.exitCode
      return cmp
    } catch (error) {
      return this.failWith(error)
    }
  }
}

export function renderComparison(cmp: Comparison, format: 'table' | 'markdown'): string {
  const c = makeChalk(process.env, format === 'table' && Boolean(process.stdout.isTTY))
  const rows = cmp.cases.map((x) => [
    x.label,
    `${fmtNum(x.base.mean)} ${x.unit}`,
    `${fmtNum(x.candidate.mean)} ${x.unit}`,
    Number.isFinite(x.relative) ? fmtPct(x.relative) : '-',
    Number.isFinite(x.ci95[0]) ? `[${fmtNum(x.ci95[0])}, ${fmtNum(x.ci95[1])}]` : '-',
    Number.isFinite(x.p) ? (x.p < 0.001 ? '<0.001' : x.p.toFixed(3)) : '-',
    colorVerdict(x.verdict, c) + (x.gate ? c.red(' ✘ gate') : ''),
  ])
  const out = [renderTable(['Case', 'Base', 'Candidate', 'Change', '95% CI of change', 'p', 'Verdict'], rows, {format, align: ['left', 'right', 'right', 'right', 'right', 'right', 'left']})]
  const bullet = format === 'markdown' ? '- ' : ''
  if (cmp.environmentDifferences.length > 0) out.push('', `${bullet}Different environments: ${cmp.environmentDifferences.join('; ')} — timings may not be comparable.`)
  if (cmp.missing.length > 0) out.push('', `${bullet}Missing from the candidate: ${cmp.missing.join(', ')}`)
  if (cmp.added.length > 0) out.push('', `${bullet}New in the candidate: ${cmp.added.join(', ')}`)
  const gated = cmp.cases.filter((x) => x.gate)
  out.push('', gated.length > 0 ? `${bullet}${gated.length} regression(s) beyond ${fmtPct(cmp.threshold).slice(1)}: ${gated.map((x) => x.label).join(', ')}` : `${bullet}No significant regression beyond ${fmtPct(cmp.threshold).slice(1)}.`)
  return out.join('\n')
}
