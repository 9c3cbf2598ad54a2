// The micro suite from suite file to cases and CSV on the fake addon (test/fakes/native.ts): which objects
// load, what each test run asks for, how the reports are judged and rendered. No root, addon or kernel;
// the shipped objects must be built (make -C bpf: the suite file names them).
import {expect} from 'chai'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {_useNative} from '../../src/native.js'
import {runTests} from '../../src/suites/micro/runner.js'
import {runBufferTest} from '../../src/suites/micro/buffers.js'
import {durationsCsv, runCases} from '../../src/suites/micro/report.js'
import {defaultSuiteFile, loadSuite, type BufferTest, type RunTest} from '../../src/suites/micro/spec.js'
import {FakeNative} from '../fakes/native.js'

const root = new URL('../..', import.meta.url).pathname
const ONLINE = [0, 1]

/** What each program returns in the suite file ('cpu': the CPU it runs on). */
function retvals(tests: RunTest[]): (program: string, cpu: number) => number {
  const want = new Map(tests.map((t) => [t.program, t.expect]))
  return (program, cpu) => {
    const e = want.get(program)
    return e === 'cpu' ? cpu : (e ?? 0)
  }
}

describe('micro: planning, running and rendering on the fake addon', function () {
  before(function () {
    if (!existsSync(join(root, 'bpf/.output/micro_baseline.bpf.o'))) {
      console.log('      skipped: needs the built BPF objects (make -C bpf)')
      this.skip()
    }
    _useNative(new FakeNative())
  })
  after(() => _useNative(undefined))

  const suite = () => loadSuite(defaultSuiteFile(), {tests: ['baseline', 'tail_call_one', 'tail_call_chain8'], samples: 3}, ONLINE)

  it('each test runs on its CPUs with the suite\'s samples; judged ok when the program returns what the file expects', async () => {
    const s = suite()
    const tests = s.tests as RunTest[]
    const ns = new Map([['micro_baseline', 8], ['tail_call_one', 30]])
    const fake = new FakeNative({retval: retvals(tests), nsPerRun: (p) => ns.get(p) ?? 50})
    const outcomes = await runTests(tests, {native: fake, targetNs: s.targetNs, runsPerSample: s.runsPerSample})
    expect(outcomes.map((o) => [o.test.name, o.status])).to.deep.equal(tests.map((t) => [t.name, 'ok']))
    for (const o of outcomes) {
      expect(o.cpus.map((c) => c.cpu)).to.deep.equal(o.test.cpus)
      for (const c of o.cpus) expect(c.nsPerRun, o.test.name).to.deep.equal(Array(3).fill(ns.get(o.test.program) ?? 50))
    }
    // one test run per test (per load: every shipped test but the baseline reloads its object per sample)
    const runs = fake.calls.filter((c) => c.startsWith('testRun '))
    expect(new Set(runs)).to.deep.equal(new Set(tests.map((t) => `testRun ${t.program}`)))
  })

  it('a program that returns something else fails its test, naming both values', async () => {
    const s = loadSuite(defaultSuiteFile(), {tests: ['baseline'], samples: 2}, ONLINE)
    const fake = new FakeNative({retval: () => 7})
    const [o] = await runTests(s.tests as RunTest[], {native: fake, targetNs: s.targetNs})
    expect(o.status).to.equal('failed')
    expect(o.reason).to.match(/7/)
  })

  it('cases: ns per operation per CPU, over the baseline; the CSV has a row per test and a column per CPU', async () => {
    const s = suite()
    const tests = s.tests as RunTest[]
    const fake = new FakeNative({retval: retvals(tests), nsPerRun: (p) => (p === 'micro_baseline' ? 8 : 40)})
    const cases = runCases(await runTests(tests, {native: fake, targetNs: s.targetNs}), s.baseline)
    const base = cases.find((c) => c.id.includes('baseline') && c.metric === 'ns_per_op')
    expect(base?.stats?.mean).to.be.closeTo(8, 1e-9)
    const one = cases.find((c) => c.id.includes('tail_call_one') && c.metric === 'ns_per_op')
    expect(one?.stats?.mean).to.be.closeTo(40 / (tests.find((t) => t.name === 'tail_call_one')!.opsPerRun), 1e-9)
    const csv = durationsCsv('2026-12-02T00:00:00Z', cases, [0, 1]).trim().split('\n')
    expect(csv.length).to.be.greaterThan(tests.length)
  })

  it('buffer tests: every event accounted for on the fake\'s deterministic report', async () => {
    const s = loadSuite(defaultSuiteFile(), {tests: ['ringbuf_output_64b_all'], samples: 2}, ONLINE)
    const o = await runBufferTest(s.tests[0] as BufferTest, new FakeNative(), new AbortController().signal)
    expect(o.status, o.reason).to.equal('ok')
    expect(o.samples).to.have.length(2)
  })
})
