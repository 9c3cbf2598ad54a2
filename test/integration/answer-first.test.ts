// A newcomer's first lines: `suite tracing` and `suite micro` open with their answer, and the answer says no
// more than the result file it came from (a figure only where that case's verdict is a figure).
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {RunResult} from '../../src/results/store.js'
import {tempDir} from '../support/tmp.js'
import {sig3} from '../../src/results/units.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], {env: {...process.env, NO_COLOR: '1'}, encoding: 'utf8', timeout: 230_000})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}
const resultIn = (dir: string): RunResult => JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!), 'utf8'))

describe('the answer first (built CLI, real kernel)', function () {
  this.timeout(240_000)
  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: the suites need root')
      this.skip()
    }
    if (!existsSync(join(root, 'bpf/.output/tracing.bpf.o')) || !existsSync(join(root, 'dist/commands/suite/tracing.js'))) {
      console.log('      skipped: needs npm run build (BPF objects, addon, CLI)')
      this.skip()
    }
  })

  it('suite tracing: the first line answers per attach type, a figure only where the case\'s verdict is one', function () {
    const out = tempDir('answer-trc')
    const r = cli(['suite', 'tracing', '--quick', '--layers', 'event', '--attach', 'raw_tracepoint,uprobe', '--stats', 'off', '--body', 'null', '--no-mount-tracefs', '--out', out])
    expect(r.code, r.stderr.slice(-2000)).to.equal(0)
    const first = r.stdout.split('\n')[0]
    if (process.env.EBP_SHOW) console.log(r.stdout)
    expect(first).to.match(/^Per event, an empty program/)
    expect(r.stdout.indexOf(first)).to.be.lessThan(r.stdout.indexOf('PER-EVENT COST'))
    for (const kind of ['raw_tracepoint', 'uprobe']) {
      const c = resultIn(out).cases.find((x) => x.id === `event/${kind}/null/stats-off`)!
      const verdict = String(c.extra?.verdict)
      const figure = new RegExp(`${kind} \\d[\\d.]* (ns|µs|ms) \\(95% CI`)
      if (/^[+-]\d/.test(verdict)) expect(first, verdict).to.match(figure)
      else {
        expect(first, verdict).to.not.match(figure)
        expect(first, verdict).to.include(`${kind}: `) // named, with the table's reason
      }
    }
  })

  it('suite micro: the first line gives ns per operation of the tests that ran', function () {
    const out = tempDir('answer-micro')
    const r = cli(['suite', 'micro', '--quick', '--test', 'baseline', '--test', 'array_1k_read', '--no-progress', '--out', out])
    expect(r.code, r.stderr.slice(-2000)).to.equal(0)
    const first = r.stdout.split('\n')[0]
    if (process.env.EBP_SHOW) console.log(r.stdout)
    const run = resultIn(out)
    const mean = (id: string) => {
      const cs = run.cases.filter((c) => c.id === id && c.stats)
      return cs.reduce((a, c) => a + c.stats!.mean, 0) / cs.length
    }
    expect(first).to.match(/^ns per operation \(BPF_PROG_TEST_RUN/)
    // the figures are the result's per-CPU means averaged, to the digits printed
    expect(first).to.match(new RegExp(`baseline ${sig3(mean('baseline')).replace('.', '\\.')} ns`))
    expect(first).to.match(new RegExp(`maps \\(array_1k_read\\) ${sig3(mean('array_1k_read')).replace('.', '\\.')} ns`))
    expect(r.stdout.indexOf(first)).to.be.lessThan(r.stdout.indexOf('ns per operation: mean ± 95% CI'))
  })
})
