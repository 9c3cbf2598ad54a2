// compare --history on folders of runs named as the results branch names them: a newest A/B run is gated
// by its own pairs, a newest plain run is reported (earlier A/B runs left out), and the issue names both
// commits of an A/B run. Fixtures only, no kernel.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {historyComparison} from '../../src/history/gate.js'
import {issueText} from '../../src/history/issue.js'
import {suiteTrends} from '../../src/history/trend.js'
import {RESULT_SCHEMA, type RunResult} from '../../src/results/store.js'
import {summarize} from '../../src/results/stats.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const env = {kernel: {release: '6.18.0'}, machine: 'x86_64', hostname: 'h', cpu: {model: 'cpu', count: 2}, virtualized: true, jit: {enable: '1'}, versions: {ebpfperf: '0.1.0', node: '20'}}
const [C1, C2, C3] = ['1111111aaaaa', '2222222bbbbb', '3333333ccccc']

const kase = (id: string, samples: number[], variant?: string) => ({id, params: {cpu: 0, ...(variant ? {variant} : {})}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status: 'ok' as const, samples, stats: summarize(samples)})

function plain(started: string, mean: number): RunResult {
  const samples = Array.from({length: 10}, (_, i) => mean * (1 + ((i % 5) - 2) * 0.005))
  return {schema: RESULT_SCHEMA, suite: 'micro', started, complete: true, command: 'ebpfperf suite micro --quick', environment: env as RunResult['environment'], cases: [kase('x', samples)]}
}

/** An A/B run: per pair the machine's speed moves up to 2× on both sides alike, B `factor` times A. */
function ab(started: string, factor: number, pairs = 10, base: string | undefined = C2): RunResult {
  const speed = [1, 1.4, 0.8, 2, 1.1, 0.9, 1.6, 1, 1.2, 0.7].slice(0, pairs)
  const side = (v: string, f: number) => kase('x', speed.map((s, i) => 10 * s * f * (v === 'B' ? 1 + ((i % 3) - 1) * 0.01 : 1)), v)
  const sides = {base: {from: '/ci/base/bpf/.output', ...(base ? {commit: `${base}0000`} : {})}, candidate: {from: 'profiles/micro/default.suite.yml'}}
  return {...plain(started, 10), command: 'ebpfperf suite micro --quick --ab-base /ci/base/bpf/.output', cases: [side('A', 1), side('B', factor)], ab: sides}
}

/** A folder of runs named as `compare --history git:…` copies them: the layout path with `_` for `/`. */
function history(dir: string, runs: [string, RunResult][]): string {
  mkdirSync(dir)
  for (const [commit, r] of runs) writeFileSync(join(dir, `micro_h_6.18.0_2026_12_${commit}-${r.started.replace(/[-:.]/g, '')}.json`), JSON.stringify(r))
  return dir
}

const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})

describe('compare --history: which run is gated', () => {
  const dir = tempDir('hgate')

  it('a newest A/B run is gated by its pairs (a 20% regression through 2× drift: exit 1); the earlier runs are context', () => {
    const h = history(join(dir, 'ab-slow'), [[C1, plain('2026-12-01T00:00:00.000Z', 10)], [C2, plain('2026-12-02T00:00:00.000Z', 10)], [C3, ab('2026-12-03T00:00:00.000Z', 1.2)]])
    const cmp = historyComparison(h, {}, false)
    expect(cmp).to.include({method: 'paired A/B', gated: true, exitCode: 1})
    expect(cmp.history).to.equal(`newest micro run is an A/B run (base ${C2} → candidate ${C3}): gated pair by pair; 2 earlier run(s) are context, not gated`)
    const r = cli('compare', '--history', h)
    expect(r.status, r.stderr).to.equal(1)
    expect(r.stdout).to.match(/regression ✘ gate/).and.include(`History: newest micro run is an A/B run (base ${C2} → candidate ${C3})`)
  })

  it('the same build on both sides passes (exit 0)', () => {
    const h = history(join(dir, 'ab-same'), [[C1, plain('2026-12-01T00:00:00.000Z', 10)], [C3, ab('2026-12-03T00:00:00.000Z', 1)]])
    expect(historyComparison(h, {}, false)).to.include({method: 'paired A/B', gated: true, exitCode: 0})
    expect(cli('compare', '--history', h).status).to.equal(0)
  })

  it('a newest plain run is reported, not gated, earlier A/B runs left out, and the output says how to get a gate', () => {
    const h = history(join(dir, 'plain'), [[C1, plain('2026-12-01T00:00:00.000Z', 10)], [C2, ab('2026-12-02T00:00:00.000Z', 1.2)], [C3, plain('2026-12-03T00:00:00.000Z', 14)]])
    const cmp = historyComparison(h, {}, false)
    expect(cmp).to.include({method: 'history', gated: false, exitCode: 0})
    expect(cmp.base).to.have.length(1)
    expect(cmp.history).to.match(/^newest run is a plain run: reported, not gated .*; 1 A\/B run\(s\) left out .*; for a gate, push an A\/B run: suite micro --ab-base BASE_BUILD/)
  })

  it('bad input keeps its one line, exit 2: an A/B run with too few pairs; no earlier plain run', () => {
    const few = history(join(dir, 'few'), [[C1, plain('2026-12-01T00:00:00.000Z', 10)], [C3, ab('2026-12-03T00:00:00.000Z', 1.2, 3)]])
    const r = cli('compare', '--history', few)
    expect(r.status).to.equal(2)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/3 A\/B pair\(s\) a case: .* needs at least 5/)
    const lone = history(join(dir, 'lone'), [[C2, ab('2026-12-02T00:00:00.000Z', 1)], [C3, plain('2026-12-03T00:00:00.000Z', 10)]])
    expect(() => historyComparison(lone, {}, false)).to.throw(/only one run per suite in this folder; 1 A\/B run\(s\) left out/)
  })

  it('the issue of a gated A/B run names both commits; without recorded commits it says "not recorded"', () => {
    const h = history(join(dir, 'issue'), [[C1, plain('2026-12-01T00:00:00.000Z', 10)], [C3, ab('2026-12-03T00:00:00.000Z', 1.2)]])
    const cmp = historyComparison(h, {}, false)
    const file = cmp.candidate
    const [title, , ...body] = issueText(cmp, {file}).split('\n')
    expect(title).to.match(new RegExp(`^Performance regression: micro/x \\+\\d+\\.\\d% at ${C3}$`))
    expect(body.join('\n')).to.include(`Commits: base ${C2} → candidate ${C3}`).and.include(`- Base (A): ${C2}, objects from /ci/base/bpf/.output`).and.include('fails the gate')
    const bare = join(dir, 'bare.json')
    writeFileSync(bare, JSON.stringify({...ab('2026-12-03T00:00:00.000Z', 1.2, 10, undefined), ab: undefined}))
    const r = cli('compare', bare, '--format', 'issue')
    expect(r.status).to.equal(1)
    expect(r.stdout.split('\n')[0]).to.match(/^Performance regression: micro\/x \+[\d.]+%$/)
    expect(r.stdout).to.include('Commits: base not recorded → candidate not recorded')
  })

  it('suite micro --ab-commit without --ab/--ab-base: one line, exit 2', () => {
    const r = cli('suite', 'micro', '--ab-commit', C1)
    expect(r.status).to.equal(2)
    expect(r.stderr).to.match(/--ab-commit names the commit of --ab's or --ab-base's OTHER/)
  })

  it('report --history trends leave A/B runs out and say how many', () => {
    const runs = [plain('2026-12-01T00:00:00.000Z', 10), ab('2026-12-02T00:00:00.000Z', 1), plain('2026-12-03T00:00:00.000Z', 10)].map((r, i) => Object.assign(r, {file: `f${i}`, label: `f${i}`}))
    const [micro] = suiteTrends(runs)
    expect(micro.runs).to.have.length(2)
    expect(micro.cases.map((c) => c.label)).to.deep.equal(['micro/x'])
    expect(micro.note).to.match(/1 A\/B run\(s\) not drawn/)
  })

  it('an A/B result whose commit is not a commit id is refused (it names a file in the results branch)', () => {
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({...ab('2026-12-03T00:00:00.000Z', 1), ab: {base: {from: 'x', commit: '../../etc'}, candidate: {from: 'y'}}}))
    const r = cli('compare', bad)
    expect(r.status).to.equal(2)
    expect(r.stderr).to.match(/\$\.ab\.base\.commit: expected a commit id/)
  })
})
