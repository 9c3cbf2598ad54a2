// The results branch's layout: paths from runs, paths back to their parts, the group a history compares.
import {expect} from 'chai'
import {checkBranch, commitOfFile, component, historyPath, parseHistoryPath} from '../../src/history/layout.js'
import {newestGroups, parseGitSpec} from '../../src/history/resolve.js'
import {RESULT_SCHEMA, type RunResult} from '../../src/results/store.js'

const run = (over: Partial<RunResult> & {host?: string; kernel?: string} = {}): RunResult => ({
  schema: RESULT_SCHEMA,
  suite: 'micro',
  started: '2026-12-02T11:10:14.829Z',
  complete: true,
  command: 'ebpfperf suite micro --quick',
  environment: {kernel: {release: over.kernel ?? '6.18.44-fc'}, machine: 'x86_64', hostname: over.host ?? 'vm', cpu: {model: 'c', count: 2}, virtualized: true, jit: {}, versions: {ebpfperf: '0.1.0', node: '20'}},
  cases: [],
  ...over,
})

describe('history layout', () => {
  it('puts a run at suite/machine/kernel/yyyy/mm/commit-time.json and reads the parts back', () => {
    const p = historyPath(run(), {commit: '0123456789abcdef0123'})
    expect(p.path).to.equal('micro/vm/6.18.44-fc/2026/12/0123456789ab-20261202T111014829Z.json')
    expect(parseHistoryPath(p.path)).to.deep.equal(p)
    expect(commitOfFile(`/tmp/x/${p.path.replaceAll('/', '_')}`)).to.equal('0123456789ab')
  })

  it('takes the machine folder from --machine, and keeps every component a plain name', () => {
    expect(historyPath(run(), {commit: 'abcdef1', machine: 'ci runner/1'}).machine).to.equal('ci_runner_1')
    expect(historyPath(run({host: '../..'}), {commit: 'abcdef1'}).path.split('/')).to.not.include('..')
    expect(component('')).to.equal('_')
    expect(component('-rf')).to.equal('_rf')
  })

  it('refuses a start time that is not a date, and a branch name git would not take', () => {
    expect(() => historyPath(run({started: 'yesterday'}), {commit: 'abcdef1'})).to.throw(/not a date/)
    for (const bad of ['a..b', '-x', 'x/', 'a b', 'x.lock']) expect(() => checkBranch(bad), bad).to.throw(/not a usable branch name/)
    expect(checkBranch('perf/results')).to.equal('perf/results')
  })

  it('ignores files outside the layout (the marker, a README)', () => {
    expect(parseHistoryPath('.ebpfperf-history')).to.equal(undefined)
    expect(parseHistoryPath('micro/README.json')).to.equal(undefined)
  })

  it('compares only the newest run\'s machine and kernel of each suite', () => {
    const at = (suite: string, host: string, kernel: string, time: string) => parseHistoryPath(`${suite}/${host}/${kernel}/2026/12/abcdef1-${time}.json`)!
    const paths = [
      at('micro', 'a', '6.1', '20261201T000000000Z'),
      at('micro', 'b', '6.1', '20261201T010000000Z'),
      at('micro', 'a', '6.1', '20261202T000000000Z'),
      at('tracing', 'b', '6.1', '20261130T000000000Z'),
    ]
    expect(newestGroups(paths).map((p) => `${p.suite}/${p.machine}/${p.time.slice(0, 8)}`)).to.deep.equal(['micro/a/20261201', 'micro/a/20261202', 'tracing/b/20261130'])
  })

  it('reads git:BRANCH[:PATH]', () => {
    expect(parseGitSpec('git:perf-results')).to.deep.equal({branch: 'perf-results', path: undefined})
    expect(parseGitSpec('git:perf-results:micro/vm/')).to.deep.equal({branch: 'perf-results', path: 'micro/vm'})
    expect(() => parseGitSpec('git:')).to.throw(/expected git:BRANCH/)
  })
})
