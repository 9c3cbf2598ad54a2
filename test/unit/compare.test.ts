// compare on recorded-style result files: verdicts, the regression gate, history, bad input.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'

import {join} from 'node:path'
import {compareAb, compareRuns} from '../../src/results/compare.js'
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

  it('one run per side: the changes, "cannot tell from one run per side", no gate (exit 0); missing and new cases listed', () => {
    const r = cli(['compare', base, slow])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/micro\/map\/hash\/read .*\+20\.0% .*too noisy to tell/)
    expect(r.stdout).to.match(/Not gated \(cannot tell from one run per side\)/)
    const s = cli(['compare', base, same])
    expect(s.stdout).to.match(/Missing from the candidate: micro\/gone/)
    expect(s.stdout).to.match(/New in the candidate: micro\/fresh/)
  })

  // three runs a side whose run means move by ±3% (the machine), the candidate's one case 20% slower
  const drift = [0.97, 1.0, 1.03]
  // side k's run i starts at 0i:k0, so the sides alternate in time (base, candidate, base, …)
  const runs = (side: number, cases: Record<string, number>) => drift.map((d, i) => put(`r${side}-${i}.json`, run(`2026-11-10T0${i}:${side}0:00Z`, Object.fromEntries(Object.entries(cases).map(([k, v]) => [k, v * d])))))
  const baseRuns = runs(1, {baseline: 10, 'map/hash/read': 40})
  const sameRuns = runs(2, {baseline: 10, 'map/hash/read': 40})
  const slowRuns = runs(3, {baseline: 10, 'map/hash/read': 48})

  it('several runs per side: run-level verdicts; no change exits 0, a 20% slower case fails the gate naming it', () => {
    const ok = cli(['compare', ...baseRuns, '--', ...sameRuns])
    expect(ok.code, ok.stderr).to.equal(0)
    expect(ok.stdout).to.match(/micro\/map\/hash\/read .*no significant difference/).and.match(/Method: run-level/)
    const r = cli(['compare', ...baseRuns, '--', ...slowRuns])
    expect(r.code, r.stdout).to.equal(1)
    expect(r.stdout).to.match(/micro\/map\/hash\/read .*\+20\.0% .*regression/)
    expect(r.stdout).to.match(/1 regression\(s\) beyond 5(\.0)?%: micro\/map\/hash\/read/)
    expect(cli(['compare', '--threshold', '25%', ...baseRuns, '--', ...slowRuns]).code).to.equal(0)
  })

  it('runs that do not alternate in time are reported, not gated (a spell of the host between them reads as a change)', () => {
    const later = drift.map((d, i) => run(`2026-11-20T0${i}:00:00Z`, {'map/hash/read': 48 * d}))
    const cmp = compareRuns(baseRuns.map((f) => JSON.parse(readFileSync(f, 'utf8'))), later)
    expect(cmp.cases[0]).to.include({verdict: 'regression', gate: false})
    expect(cmp).to.include({gated: false, exitCode: 0})
    expect(cmp.scope).to.match(/alternate the runs/)
  })

  it('accelerator-style cases: throughput (higher is better) 20% down fails the gate; a loss of 0% on both sides does not', () => {
    const accel = (started: string, gbps: number, loss: number): RunResult => {
      const r = run(started, {})
      const c = (id: string, samples: number[], higherIsBetter: boolean, metric: string) => ({id, params: {mode: 'xdp'}, metric, unit: metric, higherIsBetter, status: 'ok' as const, samples, stats: summarize(samples)})
      return {...r, suite: 'accelerator', cases: [c('udp/throughput', around(gbps), true, 'bits_per_second'), c('udp/loss', [loss, loss, loss], false, 'loss_percent')]}
    }
    const side = (offset: number, gbps: number) => drift.map((d, i) => accel(`2026-11-10T0${i}:${offset}0:00Z`, gbps * d, 0))
    const cmp = compareRuns(side(1, 10), side(2, 8))
    const by = Object.fromEntries(cmp.cases.map((c) => [c.id, c]))
    expect(by['udp/throughput']).to.include({verdict: 'regression', gate: true})
    expect(by['udp/throughput'].relative).to.be.closeTo(-0.2, 1e-9)
    expect(by['udp/loss'].gate).to.equal(false)
    expect(cmp.exitCode).to.equal(1)
  })

  // an A/B result: per pair the machine's speed moves up to 2× (both sides alike), B's x is 20% slower
  const abRun = (bFactor: number): RunResult => {
    const speed = [1, 1.4, 0.8, 2, 1.1, 0.9, 1.6, 1, 1.2, 0.7]
    const jitter = (i: number) => 1 + ((i % 3) - 1) * 0.01
    const r = run('2026-11-05T00:00:00Z', {})
    const c = (id: string, variant: string, f: number) => {
      const samples = speed.map((s, i) => 10 * s * f * (variant === 'B' ? jitter(i) : 1))
      return {id, params: {cpu: 0, variant}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status: 'ok' as const, samples, stats: summarize(samples)}
    }
    return {...r, cases: [c('x', 'A', 1), c('y', 'A', 1), c('x', 'B', bFactor), c('y', 'B', 1)]}
  }

  it('an A/B result alone: paired ratios see a 20% regression through 2× drift; no change passes; exit code from the gate', () => {
    const slowAb = compareAb(abRun(1.2))
    expect(slowAb.method).to.equal('paired A/B')
    const [x, y] = slowAb.cases
    expect(x).to.include({label: 'micro/x', verdict: 'regression', gate: true})
    expect(x.relative).to.be.closeTo(0.2, 0.005)
    expect(y).to.include({verdict: 'no significant difference', gate: false})
    expect(slowAb.exitCode).to.equal(1)
    expect(compareAb(abRun(1)).exitCode).to.equal(0)
    // the same samples as two separate runs would be drowned by the drift (CV ~35%)
    const r = cli(['compare', put('ab.json', abRun(1.2))])
    expect(r.code).to.equal(1)
    expect(r.stdout).to.match(/micro\/x .*\+(19\.9|20\.0)% .*regression ✘ gate/).and.match(/Method: paired A\/B/)
    expect(cli(['compare', put('ab2.json', abRun(1.2)), slow]).stderr).to.match(/an A\/B result .* compare it alone/)
  })

  it('the gate: larger than the threshold and significant one-sided at 95% corrected for the cases; +9.46% with 95% CI [1.54%, 18.00%] is a regression, gated alone (90% CI [2.99%, 16.33%]) but not among 10 cases (99% CI [-1.74%, 21.93%]) (scipy)', () => {
    const speed = [1, 1.4, 0.8, 2, 1.1, 0.9, 1.6, 1, 1.2, 0.7]
    const c = (id: string, variant: string, ratio: (i: number) => number) => {
      const samples = speed.map((sp, i) => 10 * sp * (variant === 'B' ? ratio(i) : 1))
      return {id, params: {cpu: 0, variant}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status: 'ok' as const, samples, stats: summarize(samples)}
    }
    const slower = (i: number) => 1.1 * (1 + ((i % 5) - 2) * 0.07)
    const same = (i: number) => 1 + ((i % 3) - 1) * 0.01
    const ids = ['x', ...Array.from({length: 9}, (_, k) => `y${k}`)]
    const r = {...run('2026-11-05T00:00:00Z', {}), cases: ids.flatMap((id) => [c(id, 'A', () => 1), c(id, 'B', id === 'x' ? slower : same)])}
    const x = compareAb(r).cases.find((k) => k.id === 'x')!
    expect(x.relative).to.be.closeTo(0.0945779, 1e-6)
    expect(x.p).to.be.closeTo(0.0235719, 1e-6)
    expect(x.relativeCi95[0]).to.be.closeTo(0.0153537, 1e-6)
    expect(x.gateCi![0]).to.be.closeTo(-0.0174128, 1e-6)
    expect(x.gateCi![1]).to.be.closeTo(0.2193329, 1e-6)
    expect(x).to.include({verdict: 'regression', gate: false})
    expect(compareAb(r).exitCode).to.equal(0)
    const alone = compareAb({...r, cases: r.cases.filter((k) => k.id === 'x')})
    expect(alone.cases[0].gateCi![0]).to.be.closeTo(0.0299257, 1e-6)
    expect(alone.cases[0]).to.include({verdict: 'regression', gate: true})
    // significant alone but smaller than the threshold: reported, not gated; with --threshold 10% the same +9.46% passes
    const small = compareAb({...r, cases: [c('z', 'A', () => 1), c('z', 'B', (i) => 1.03 * same(i))]})
    expect(small.cases[0]).to.include({verdict: 'regression', gate: false})
    expect(compareAb({...r, cases: r.cases.filter((k) => k.id === 'x')}, {threshold: 0.1}).exitCode).to.equal(0)
  })

  it('an A/B result with fewer than 5 pairs a case: one line naming how many are needed, exit 2', () => {
    const few = abRun(1.5)
    for (const k of few.cases) k.samples = k.samples.slice(0, 3)
    const r = cli(['compare', put('ab-few.json', few)])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.match(/3 A\/B pair\(s\) a case: a paired CI that can tell a 5\.0% change needs at least 5; measure again with suite micro --ab OTHER --repeat 5 or more/).and.match(/^ebpfperf: [^\n]+\n$/)
  })

  // every result type: one run per side never gates, whatever the change; results measured elsewhere are bad input
  const typed = (suite: string, started: string, value: number, over: Partial<RunResult> = {}): RunResult => {
    const higherIsBetter = suite === 'accelerator'
    const metric = {micro: 'ns_per_op', tracing: 'ns_added_per_event', accelerator: 'receiver_bits_per_second'}[suite]!
    const samples = around(value)
    return {...run(started, {}), suite, cases: [{id: `${suite}/case`, params: {}, metric, unit: metric, higherIsBetter, status: 'ok', samples, stats: summarize(samples)}], ...over}
  }
  for (const suite of ['micro', 'tracing', 'accelerator']) {
    it(`${suite}: one run per side 40% worse is "cannot tell", not gated (exit 0); the scope says how to gate`, () => {
      const worse = suite === 'accelerator' ? 0.6 : 1.4
      const r = cli(['compare', put(`${suite}-1.json`, typed(suite, '2026-11-01T00:00:00Z', 100)), put(`${suite}-2.json`, typed(suite, '2026-11-02T00:00:00Z', 100 * worse)), '--json'])
      expect(r.code, r.stderr).to.equal(0)
      const j = JSON.parse(r.stdout)
      expect(j).to.include({method: 'one run per side', gated: false, regressions: 0})
      expect(j.cases[0]).to.include({gate: false, note: 'cannot tell from one run per side'})
      expect(j.cases[0].relative).to.be.closeTo(worse - 1, 1e-9)
      expect(j.scope).to.match(/^Cannot tell from one run per side.*several runs per side/)
    })

    it(`${suite}: --history is reported, never gated, even 40% worse outside the earlier runs' spread`, () => {
      const h = join(dir, `history-${suite}`)
      mkdirSync(h)
      for (const [i, v] of [100, 101, 99, 140].entries()) writeFileSync(join(h, `${i}.json`), JSON.stringify(typed(suite, `2026-11-0${i + 1}T00:00:00Z`, suite === 'accelerator' ? 200 - v : v)))
      const r = cli(['compare', '--history', h, '--json'])
      expect(r.code, r.stderr).to.equal(0)
      const j = JSON.parse(r.stdout)
      expect(j).to.include({method: 'history', gated: false, exitCode: 0})
      expect(j.cases[0]).to.include({verdict: 'regression', gate: false})
      expect(j.scope).to.match(/never gated.*cannot tell a smaller change, nor whether the code or the machine moved/)
    })

    it(`${suite}: two base runs against one candidate run: one line saying how many more are needed, exit 2`, () => {
      const files = ['2026-11-01', '2026-11-02', '2026-11-03'].map((d, i) => put(`${suite}-few-${i}.json`, typed(suite, `${d}T00:00:00Z`, 100)))
      const r = cli(['compare', files[0], files[1], '--', files[2]])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.match(new RegExp(`^ebpfperf: 2 base and 1 candidate run\\(s\\) of suite ${suite}: .*add 1 more candidate run\\(s\\)[^\\n]*\\n$`))
    })

    const elsewhere: [string, Partial<RunResult['environment']>, RegExp][] = [
      ['another kernel', {kernel: {release: '6.1.0'}}, /kernel 6\.18\.0 vs 6\.1\.0/],
      ['another kernel config', {kernel: {release: '6.18.0', configHash: 'sha256:ab'}}, /kernel config undefined vs sha256:ab/],
      ['another CPU', {cpu: {model: 'other cpu', count: 2}}, /CPU 2× cpu vs 2× other cpu/],
      ['another JIT setting', {jit: {enable: '1', harden: '2'}}, /JIT 1\/0 vs 1\/2/],
    ]
    // the fingerprint check is the same for every suite: each difference once (micro), the path for each suite
    for (const [what, env2, re] of suite === 'micro' ? elsewhere : elsewhere.slice(0, 1)) {
      it(`${suite}: results from ${what}, as two files, as runs per side and in --history: one line, exit 2; --force compares`, () => {
        const other = (started: string) => typed(suite, started, 100, {environment: {...env, ...env2} as RunResult['environment']})
        const tag = `${suite}-${what.replaceAll(' ', '-')}`
        const a = put(`${tag}-a.json`, typed(suite, '2026-11-01T00:00:00Z', 100))
        const b = put(`${tag}-b.json`, other('2026-11-02T00:00:00Z'))
        const a2 = put(`${tag}-a2.json`, typed(suite, '2026-11-03T00:00:00Z', 100))
        const b2 = put(`${tag}-b2.json`, other('2026-11-04T00:00:00Z'))
        const h = join(dir, `${tag}-history`)
        mkdirSync(h)
        for (const [i, f] of [a, a2, b2].entries()) writeFileSync(join(h, `${i}.json`), readFileSync(f))
        for (const args of [[a, b], [a, a2, '--', b, b2], ['--history', h]]) {
          const r = cli(['compare', ...args])
          expect(r.code, args.join(' ')).to.equal(2)
          expect(r.stderr, r.stderr).to.match(re).and.match(/different environments .*--force compares them anyway/).and.match(/^ebpfperf: [^\n]+\n$/)
          expect(cli(['compare', '--force', ...args]).code, `--force ${args.join(' ')}`).to.equal(0)
        }
      })
    }
  }

  it('one base run against several candidate runs (report --compare): reported, not gated, no error', () => {
    const cmp = compareRuns([JSON.parse(readFileSync(base, 'utf8'))], slowRuns.map((f) => JSON.parse(readFileSync(f, 'utf8'))))
    expect(cmp).to.include({method: 'one run per side', gated: false, exitCode: 0})
  })

  it('markdown and json formats', () => {
    expect(cli(['compare', base, slow, '--format', 'markdown']).stdout).to.match(/^\| Case \| Base \|/)
    const j = JSON.parse(cli(['compare', '--json', ...baseRuns, '--', ...slowRuns]).stdout)
    expect(j.cases.find((c: {id: string}) => c.id === 'map/hash/read')).to.include({verdict: 'regression', gate: true})
    expect(j.method).to.equal('run-level')
  })

  it('the samples of one run are not the unit: tight samples in runs that drift 10% apart are no regression', () => {
    const side = (started: string, means: number[]) => means.map((m, i) => run(`${started}${i}`, {x: m}))
    const cmp = compareRuns(side('2026-11-01T00:00:0', [100, 110, 90]), side('2026-11-02T00:00:0', [104, 95, 112]))
    expect(cmp.cases[0].verdict).to.equal('no significant difference')
    expect(cmp.cases[0].gate).to.equal(false)
    // the same two runs compared sample against sample would be "significant": the old way's false alarm
    expect(compareRuns([run('2026-11-01T00:00:00Z', {x: 100})], [run('2026-11-02T00:00:00Z', {x: 112})]).exitCode).to.equal(0)
  })

  it('cases of one id on several CPUs are labelled by the parameter that differs', () => {
    const twoCpus = (started: string, ms: [number, number]) => {
      const r = run(started, {x: ms[0]})
      r.cases.push({...run(started, {x: ms[1]}).cases[0], params: {cpu: 1}})
      return r
    }
    const three = (day: string, ms: [number, number]) => [0.99, 1, 1.01].map((d, i) => twoCpus(`2026-11-0${day}T0${i}:00:00Z`, [ms[0] * d, ms[1] * d]))
    const cmp = compareRuns(three('1', [10, 20]), three('2', [10, 30]))
    expect(cmp.cases.map((c) => [c.label, c.verdict])).to.deep.equal([
      ['micro/x cpu=0', 'no significant difference'],
      ['micro/x cpu=1', 'regression'],
    ])
    expect(compareRuns([run('2026-11-01T00:00:00Z', {x: 10})], [run('2026-11-02T00:00:00Z', {x: 10})]).cases[0].label).to.equal('micro/x')
  })

  it('too noisy to tell instead of a false effect: runs that scatter widely', () => {
    const side = (started: string, means: number[]) => means.map((m, i) => run(`${started}${i}`, {baseline: m}))
    const cmp = compareRuns(side('2026-11-01T00:00:0', [10, 14, 7]), side('2026-11-02T00:00:0', [12, 8, 15]))
    expect(cmp.cases[0].verdict).to.equal('too noisy to tell')
    expect(cmp.exitCode).to.equal(0)
  })

  it('--history: the newest run against the earlier runs\' spread, reported and never gated', () => {
    const h = join(dir, 'history')
    mkdirSync(h)
    writeFileSync(join(h, 'a.json'), JSON.stringify(run('2026-11-01T00:00:00Z', {baseline: 10})))
    writeFileSync(join(h, 'b.json'), JSON.stringify(run('2026-11-02T00:00:00Z', {baseline: 10.2})))
    writeFileSync(join(h, 'c.json'), JSON.stringify(run('2026-11-03T00:00:00Z', {baseline: 9.9})))
    writeFileSync(join(h, 'd.json'), JSON.stringify(run('2026-11-04T00:00:00Z', {baseline: 13})))
    const r = cli(['compare', '--history', h, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const j = JSON.parse(r.stdout)
    expect(j.method).to.equal('history')
    expect(j.cases[0]).to.include({verdict: 'regression', gate: false})
    expect(j.runs).to.deep.equal({base: 3, candidate: 1})
    expect(j.scope).to.match(/never gated/)
  })

  it('results from different machines: one line, exit 2, unless --force', () => {
    const other = run('2026-11-03T00:00:00Z', {baseline: 13})
    other.environment = {...other.environment, hostname: 'elsewhere', kernel: {release: '6.1.0'}}
    const p = put('elsewhere.json', other)
    const r = cli(['compare', base, p])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.match(/different environments \(kernel 6\.18\.0 vs 6\.1\.0; machine h vs elsewhere\).*--force/).and.match(/^ebpfperf: [^\n]+\n$/)
    const f = cli(['compare', base, p, '--force', '--json'])
    expect(f.code).to.equal(0)
    expect(JSON.parse(f.stdout).environmentDifferences.join()).to.match(/machine h vs elsewhere/)
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
    ['three base runs against one candidate', () => [...baseRuns, '--', slow], /3 base and 1 candidate run\(s\) of suite micro: a run-level comparison needs at least 2 runs on each side \(add 1 more candidate/],
    ['one file that is not an A/B result', () => [base], /not an A\/B result/],
    ['a flag after --', () => [...baseRuns, '--', ...slowRuns, '--json'], /--json: after -- every word is a candidate result; put flags before/],
  ]
  for (const [what, args, re] of badInputs) {
    it(`${what}: one line, exit 2`, () => {
      const r = cli(['compare', ...args()])
      expect(r.code).to.equal(2)
      expect(r.stderr).to.match(re).and.match(/^ebpfperf: [^\n]+\n$/)
    })
  }
})
