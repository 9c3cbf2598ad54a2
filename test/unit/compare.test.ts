// compare on recorded-style result files: verdicts, the regression gate, history, bad input.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'

import {join} from 'node:path'
import {compareRuns} from '../../src/results/compare.js'
import {RESULT_SCHEMA, type RunResult} from '../../src/results/store.js'
import {summarize} from '../../src/results/stats.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const env = {kernel: {release: '6.18.0'}, machine: 'x86_64', hostname: 'h', cpu: {model: 'cpu', count: 2}, virtualized: true, jit: {enable: '1', harden: '0'}, versions: {ebpfperf: '0.1.0', node: '20'}}
// deterministic "noise": a fixed pattern of ±1% around the mean
const around = (mean: number, n = 10) => Array.from({length: n}, (_, i) => mean * (1 + ((i % 5) - 2) * 0.005))

function run(started: string, cases: Record<string, number>, over: Partial<RunResult> = {}): RunResult {
  return {
    schema: RESULT_SCHEMA,
    suite: 'micro',
    started,
    complete: true,
    command: 'ebpfperf suite micro --quick',
    environment: env as RunResult['environment'],
    cases: Object.entries(cases).map(([id, mean]) => {
      const samples = around(mean)
      return {id, params: {cpu: 0}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status: 'ok', samples, stats: summarize(samples)}
    }),
    ...over,
  }
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

describe('compare', () => {
  const dir = tempDir('cmp')
  const put = (name: string, r: RunResult | string) => {
    const p = join(dir, name)
    writeFileSync(p, typeof r === 'string' ? r : JSON.stringify(r))
    return p
  }
  const base = put('base.json', run('2026-11-01T00:00:00Z', {baseline: 10, 'map/hash/read': 40, gone: 5}))
  const same = put('same.json', run('2026-11-02T00:00:00Z', {baseline: 10, 'map/hash/read': 40, fresh: 7}))
  const slow = put('slow.json', run('2026-11-03T00:00:00Z', {baseline: 10, 'map/hash/read': 48}))

  it('no change: every case "no significant difference", exit 0, missing and new cases listed', () => {
    const r = cli(['compare', base, same])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/micro\/baseline .*no significant difference/)
    expect(r.stdout).to.match(/Missing from the candidate: micro\/gone/)
    expect(r.stdout).to.match(/New in the candidate: micro\/fresh/)
  })

  it('a case 20% slower is a regression that fails the gate, naming the case', () => {
    const r = cli(['compare', base, slow])
    expect(r.code).to.equal(1)
    expect(r.stdout).to.match(/micro\/map\/hash\/read .*\+20\.0% .*regression/)
    expect(r.stdout).to.match(/1 regression\(s\) beyond 5(\.0)?%: micro\/map\/hash\/read/)
    expect(cli(['compare', base, slow, '--threshold', '25%']).code).to.equal(0)
  })

  it('markdown and json formats', () => {
    expect(cli(['compare', base, slow, '--format', 'markdown']).stdout).to.match(/^\| Case \| Base \|/)
    const j = JSON.parse(cli(['compare', base, slow, '--json']).stdout)
    expect(j.cases.find((c: {id: string}) => c.id === 'map/hash/read')).to.include({verdict: 'regression', gate: true})
  })

  it('the gate needs the whole CI beyond the threshold: a 6% point estimate whose CI reaches 2% does not fail', () => {
    const b = run('2026-11-01T00:00:00Z', {x: 100})
    b.cases[0].samples = [96, 104, 98, 102, 100, 97, 103]
    const c = run('2026-11-02T00:00:00Z', {x: 106})
    c.cases[0].samples = [101, 111, 104, 108, 106, 103, 109]
    const cmp = compareRuns([b], [c])
    expect(cmp.cases[0]).to.include({verdict: 'regression', gate: false})
    expect(cmp.cases[0].relative).to.be.closeTo(0.06, 0.001)
    expect(cmp.exitCode).to.equal(0)
  })

  it('cases of one id on several CPUs are labelled by the parameter that differs', () => {
    const twoCpus = (started: string, ms: [number, number]) => {
      const r = run(started, {x: ms[0]})
      r.cases.push({...run(started, {x: ms[1]}).cases[0], params: {cpu: 1}})
      return r
    }
    const cmp = compareRuns([twoCpus('2026-11-01T00:00:00Z', [10, 20])], [twoCpus('2026-11-02T00:00:00Z', [10, 30])])
    expect(cmp.cases.map((c) => [c.label, c.verdict])).to.deep.equal([
      ['micro/x cpu=0', 'no significant difference'],
      ['micro/x cpu=1', 'regression'],
    ])
    expect(compareRuns([run('2026-11-01T00:00:00Z', {x: 10})], [run('2026-11-02T00:00:00Z', {x: 10})]).cases[0].label).to.equal('micro/x')
  })

  it('too noisy to tell instead of a false effect', () => {
    const noisy = run('2026-11-04T00:00:00Z', {baseline: 10})
    noisy.cases[0].samples = [5, 15, 8, 13, 10, 20, 4]
    const cmp = compareRuns([run('2026-11-01T00:00:00Z', {baseline: 10})], [noisy])
    expect(cmp.cases[0].verdict).to.equal('too noisy to tell')
    expect(cmp.exitCode).to.equal(0)
  })

  it('--history: the newest run against the pooled earlier ones, and a different machine is said', () => {
    const h = join(dir, 'history')
    mkdirSync(h)
    writeFileSync(join(h, 'a.json'), JSON.stringify(run('2026-11-01T00:00:00Z', {baseline: 10})))
    writeFileSync(join(h, 'b.json'), JSON.stringify(run('2026-11-02T00:00:00Z', {baseline: 10.02})))
    const other = run('2026-11-03T00:00:00Z', {baseline: 13})
    other.environment = {...other.environment, hostname: 'elsewhere'}
    writeFileSync(join(h, 'c.json'), JSON.stringify(other))
    const r = cli(['compare', '--history', h, '--json'])
    expect(r.code).to.equal(1)
    const j = JSON.parse(r.stdout)
    expect(j.cases[0].base.n).to.equal(20) // two earlier runs pooled, the candidate not among them
    expect(j.environmentDifferences.join()).to.match(/machine h vs elsewhere/)
  })

  it('refuses to compare emulated guest timings with host timings', () => {
    const guest = {...run('2026-11-05T00:00:00Z', {baseline: 10}), vm: {emulated: true, accel: 'tcg'}}
    expect(() => compareRuns([run('2026-11-01T00:00:00Z', {baseline: 10})], [guest])).to.throw(/emulated \(TCG\) guest are never compared/)
    expect(compareRuns([guest], [{...guest, started: '2026-11-06T00:00:00Z'}]).cases).to.have.length(1)
  })

  const badInputs: [string, () => string[], RegExp][] = [
    ['a file that is not a result', () => [put('x.json', '{"hello": 1}'), slow], /not an ebpfperf result/],
    ['a truncated file', () => [put('t.json', JSON.stringify(run('2026-11-01T00:00:00Z', {baseline: 10})).slice(0, 80)), slow], /not JSON \(a truncated/],
    ['a newer schema version', () => [put('v9.json', {...run('2026-11-01T00:00:00Z', {baseline: 10}), schema: 'ebpfperf/result/v9'} as unknown as RunResult), slow], /result schema ebpfperf\/result\/v9 is not readable/],
    ['two results with no case in common', () => [put('other.json', run('2026-11-01T00:00:00Z', {nothing: 10})), slow], /no case in common/],
    ['a folder with no results', () => [tempDir('empty'), slow], /no ebpfperf result files in this folder/],
    ['a bad threshold', () => [base, slow, '--threshold', 'lots'], /--threshold lots: expected a percentage/],
  ]
  for (const [what, args, re] of badInputs) {
    it(`${what}: one line, exit 2`, () => {
      const r = cli(['compare', ...args()])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.match(re).and.match(/^ebpfperf: [^\n]+\n$/)
    })
  }
})
