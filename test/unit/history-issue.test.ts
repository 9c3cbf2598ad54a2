// compare --format issue: the title and body for the regressions found, one hidden marker per case, the
// commands to reproduce and to profile; nothing at all when there is no regression.
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {caseCommand, caseMarker, issueText} from '../../src/history/issue.js'
import {compareRuns} from '../../src/results/compare.js'
import {loadResult, RESULT_SCHEMA, type RunResult} from '../../src/results/store.js'
import {summarize} from '../../src/results/stats.js'
import {tempDir} from '../support/tmp.js'

const env = {kernel: {release: '6.18.0-test', configHash: 'sha256:abcd'}, machine: 'x86_64', hostname: 'runner-1', cpu: {model: 'EPYC', count: 2}, virtualized: true, jit: {enable: '1', harden: '0', kallsyms: '1'}, versions: {ebpfperf: '0.1.0', node: '20'}}

function write(dir: string, name: string, started: string, means: Record<string, number>): string {
  const run: RunResult = {
    schema: RESULT_SCHEMA,
    suite: 'micro',
    started,
    complete: true,
    command: 'ebpfperf suite micro --quick --test baseline --test hash_1k_read --out results',
    environment: env,
    cases: Object.entries(means).map(([id, mean]) => {
      const samples = Array.from({length: 10}, (_, i) => mean * (1 + ((i % 5) - 2) * 0.005))
      return {id, params: {cpu: 0}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status: 'ok' as const, samples, stats: summarize(samples)}
    }),
  }
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify(run))
  return file
}

describe('compare --format issue', () => {
  const dir = tempDir('issue')
  const base = [100, 101, 99].map((m, i) => write(dir, `micro_runner-1_6.18.0-test_2026_12_${'aaaaaaa'.replace(/a/g, String(i + 1))}aaaaa-2026120${i + 1}T090000000Z.json`, `2026-12-0${i + 1}T09:00:00.000Z`, {baseline: m, hash_1k_read: 20 + i * 0.1}))
  const runs = (files: string[]) => files.map((f) => Object.assign(loadResult(f), {file: f}))

  it('names each regressed case with a marker, base vs candidate with the CI, commits, environment and commands', () => {
    const cand = write(dir, 'micro_runner-1_6.18.0-test_2026_12_0123456789ab-20261204T090000000Z.json', '2026-12-04T09:00:00.000Z', {baseline: 160, hash_1k_read: 20})
    const cmp = compareRuns(runs(base), runs([cand]), {}, true)
    const text = issueText(cmp, {file: cand})
    const [title, blank, ...body] = text.split('\n')
    expect(title).to.equal('Performance regression: micro/baseline +60.0% at 0123456789ab')
    expect(blank).to.equal('')
    const md = body.join('\n')
    expect(md).to.include('<!-- ebpfperf:case=micro/baseline -->\n### micro/baseline')
    expect(md).to.not.include('ebpfperf:case=micro/hash_1k_read') // no regression there: no marker
    expect(md).to.match(/- Base: 100 ns \(sd [\d.]+, 30 samples over the runs\)/)
    expect(md).to.match(/- Candidate: 160 ns/)
    expect(md).to.match(/- Change: \+60\.0%, 95% CI \[\+\d+\.\d%, \+\d+\.\d%\], p [\d.<]+/)
    expect(md).to.include('- Verdict: **regression**, reported, not gated')
    expect(md).to.include('- Candidate: 0123456789ab').and.include('- Base: 1111111aaaaa, 2222222aaaaa, 3333333aaaaa (3 run(s))')
    expect(md).to.include('- Kernel 6.18.0-test (config sha256:abcd); JIT enable 1, harden 0, kallsyms 1').and.include('- Machine runner-1: 2× EPYC, virtualized')
    expect(md).to.include('git checkout 0123456789ab\nebpfperf suite micro --quick --test baseline --test hash_1k_read\n')
    expect(md).to.include(`ebpfperf compare --history ${dir}\n`)
    expect(md).to.include('ebpfperf profile --out profile-baseline -- suite micro --quick --test baseline\n')
    expect(md).to.include('<details><summary>Every case compared</summary>')
  })

  it('prints nothing when no case regressed', () => {
    const cand = write(dir, 'same.json', '2026-12-05T09:00:00.000Z', {baseline: 100, hash_1k_read: 20.1})
    expect(issueText(compareRuns(runs(base), runs([cand]), {}, true), {file: cand})).to.equal('')
  })

  it('markers never end the HTML comment early; case commands keep other suites\' flags', () => {
    expect(caseMarker({label: 'micro/x --> y'})).to.equal('<!-- ebpfperf:case=micro/x - y -->')
    const run = loadResult(base[0])
    const c = {id: 'udp', label: 'tracing/udp'} as Parameters<typeof caseCommand>[1]
    expect(caseCommand({...run, suite: 'tracing', command: 'ebpfperf suite tracing --quick --out=r --test x'}, c)).to.equal('ebpfperf suite tracing --quick --test x')
  })
})
