// The report's extra sections without a kernel: a profile folder read back into a flame graph, and a
// history (a folder in the results branch's layout) as each case's figure over the recorded commits.
import {expect} from 'chai'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {historySection} from '../../src/history/trend-render.js'
import {loadHistory, suiteTrends} from '../../src/history/trend.js'
import {parseFolded} from '../../src/profile/fold.js'
import {loadProfileDir, profileSection, PROFILE_SCHEMA} from '../../src/profile/section.js'
import {esc, renderReport} from '../../src/results/report.js'
import {summarize} from '../../src/results/stats.js'
import {RESULT_SCHEMA, type CaseResult, type RunResult} from '../../src/results/store.js'
import {tempDir} from '../support/tmp.js'

const env = (hostname = 'h') => ({kernel: {release: '6.18.0'}, machine: 'x86_64', hostname, cpu: {model: 'cpu', count: 2}, virtualized: true, jit: {enable: '1', harden: '0'}, versions: {ebpfperf: '0.1.0', node: '20'}})
const mk = (id: string, mean: number): CaseResult => {
  const samples = [0.98, 1, 1.01, 0.99, 1.02].map((f) => f * mean)
  return {id, params: {test: id, cpu: 0}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status: 'ok', samples, stats: summarize(samples)}
}
const run = (started: string, scale: number, hostname = 'h'): RunResult => ({
  schema: RESULT_SCHEMA,
  suite: 'micro',
  started,
  complete: true,
  command: 'ebpfperf suite micro --quick',
  environment: env(hostname) as RunResult['environment'],
  cases: [mk('baseline', 20 * scale), mk('hash_1k_read', 180 * scale)],
})
const round = (x: number | null) => (x === null ? x : Number(x.toFixed(6)))
const FOLDED = 'node;syscall;__sys_bpf_[k];bpf_prog_6deef7357e7b4530_micro_baseline_[bpf] 3\nnode;v8::Heap 1\n'

describe('report: flame graph of a profile folder', () => {
  const dir = tempDir('report-prof')

  it('reads stacks.folded and profile.json back; the section draws the bpf_prog_ frame', () => {
    mkdirSync(join(dir, 'p', 'results'), {recursive: true})
    writeFileSync(join(dir, 'p', 'stacks.folded'), FOLDED)
    const about = {schema: PROFILE_SCHEMA, command: 'ebpfperf suite micro --test baseline', when: '2026-12-02T10:00:00Z', frequency: 999, samples: 4, bpf: [], results: join(dir, 'p', 'results')}
    writeFileSync(join(dir, 'p', 'profile.json'), JSON.stringify(about))
    const p = loadProfileDir(join(dir, 'p'))
    expect(p).to.deep.include({samples: 4, bpf: [{name: 'bpf_prog_6deef7357e7b4530_micro_baseline', samples: 3}], results: join(dir, 'p', 'results')})
    const html = profileSection([p, p], esc)
    expect(html).to.include('<div class="flame" id="flamegraph-0"></div>').and.include('<div class="flame" id="flamegraph-1"></div>')
    expect(html).to.include('{"name":"bpf_prog_6deef7357e7b4530_micro_baseline","value":3,"libtype":"jit","children":[]}')
    expect(html.match(/function ebpfperfFlame\(/g), 'the libraries inlined once for both graphs').to.have.length(1)
    expect(html).to.include('<code>ebpfperf suite micro --test baseline</code>').and.include('on the stack in 3 of 4 samples (75.0%)')
    const page = renderReport([], undefined, [{html, charts: []}])
    expect(page).to.include('<h2 id="profiles">CPU profile</h2>').and.include('.d3-flame-graph rect{')
  })

  it('bad input: no stacks.folded, a line that is not a stack, a foreign profile.json: one line naming the file', () => {
    expect(() => loadProfileDir(dir)).to.throw(/: no stacks\.folded in this folder \(give the folder written by ebpfperf profile --out DIR\)$/)
    expect(() => parseFolded('a;b 3\nnot a stack\n', (r) => new Error(`f: ${r}`))).to.throw('f: line 2: expected "frame;frame;… count"')
    expect(() => parseFolded('\n', (r) => new Error(r))).to.throw(/no stacks/)
    mkdirSync(join(dir, 'q'))
    writeFileSync(join(dir, 'q', 'stacks.folded'), FOLDED)
    writeFileSync(join(dir, 'q', 'profile.json'), '{"schema": "other"}')
    expect(() => loadProfileDir(join(dir, 'q'))).to.throw(/q\/profile\.json: not an ebpfperf profile description/)
    writeFileSync(join(dir, 'q', 'profile.json'), '{')
    expect(() => loadProfileDir(join(dir, 'q'))).to.throw(/q\/profile\.json: not JSON/)
  })
})

describe('report: history of each case over the recorded commits', () => {
  const dir = tempDir('report-hist')
  const layout = (folder: string, commit: string, r: RunResult) => {
    const d = join(dir, folder, 'micro', r.environment.hostname, '6.18.0', '2026', '12')
    mkdirSync(d, {recursive: true})
    writeFileSync(join(d, `${commit}-${r.started.replace(/[-:.]/g, '')}.json`), JSON.stringify(r))
  }

  it('a folder in the branch layout: runs oldest first with their commits, two points per case, the newest reported not gated', async () => {
    layout('two', 'bbbbbbbbbbbb', run('2026-12-02T10:00:00.000Z', 1.3))
    layout('two', 'aaaaaaaaaaaa', run('2026-12-01T10:00:00.000Z', 1))
    const runs = await loadHistory(join(dir, 'two'))
    expect(runs.map((r) => r.commit)).to.deep.equal(['aaaaaaaaaaaa', 'bbbbbbbbbbbb'])
    const [micro] = suiteTrends(runs)
    expect(micro.note).to.match(/^one earlier run has no run-to-run spread/)
    expect(micro.cases.map((c) => [c.label, c.points.map((p) => round(p.mean)), c.verdict])).to.deep.equal([
      ['micro/baseline', [20, 26], 'too noisy to tell'],
      ['micro/hash_1k_read', [180, 234], 'too noisy to tell'],
    ])
    expect(micro.cases[0].spread).to.be.closeTo(0.3, 1e-9)
    const section = historySection([micro], 'git:perf-results')
    expect(section.charts.map((c) => [c.id, c.labels, c.datasets[0].data.map(round)])).to.deep.equal([
      ['h0-0', ['aaaaaaaaa', 'bbbbbbbbb'], [20, 26]],
      ['h0-1', ['aaaaaaaaa', 'bbbbbbbbb'], [180, 234]],
    ])
    expect(section.html).to.include('History: context, never a gate').and.include('moved by 30% in the median case').and.include('never\nsets an exit code')
    expect(section.html).to.include('<td>micro/baseline</td><td>20.0 ns</td><td>26.0 ns</td><td>30%</td><td>too noisy to tell</td>')
    const page = renderReport([runs[1]], undefined, [section])
    expect(page.match(/<canvas id="h0-0">/g)).to.have.length(1)
    expect(page).to.match(/const charts = \[.*"id":"h0-1".*\];/)
  })

  it('a run far outside three earlier ones is a regression in the table, still not gated; another machine is not mixed in', async () => {
    for (const [i, k] of [1, 1.01, 0.99].entries()) layout('four', `${i}`.repeat(12), run(`2026-12-0${i + 1}T10:00:00.000Z`, k))
    layout('four', 'ffffffffffff', run('2026-12-05T10:00:00.000Z', 2))
    layout('four', 'eeeeeeeeeeee', run('2026-11-01T10:00:00.000Z', 9, 'elsewhere'))
    const [micro] = suiteTrends(await loadHistory(join(dir, 'four')))
    expect(micro.runs).to.have.length(4)
    expect(micro.note).to.equal(undefined)
    expect(micro.cases.map((c) => c.verdict)).to.deep.equal(['regression', 'regression'])
    const mixed = suiteTrends([...micro.runs.slice(0, 1), Object.assign(run('2026-12-09T00:00:00Z', 1, 'elsewhere'), {file: 'x', label: 'x'})])
    expect(mixed[0].note).to.match(/measured in different environments/).and.not.match(/--force/)
    expect(mixed[0].cases[0].verdict).to.equal(undefined)
  })
})
