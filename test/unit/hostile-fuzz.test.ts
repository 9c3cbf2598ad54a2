// A bounded fuzzer over the files a user hands ebpfperf: result files, topology files, suite files and
// profiles, mutated from the shipped ones. Each outcome is a document that loads (and, for results, renders
// and compares) or a bad-input error: one line, exit code 2. Never a TypeError, a stack, or exit code 1.
import {expect} from 'chai'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {loadResult} from '../../src/results/store.js'
import {renderReport} from '../../src/results/report.js'
import {compareRuns} from '../../src/results/compare.js'
import {loadTopology} from '../../src/topology/model.js'
import {loadSuite, onlineCpus} from '../../src/suites/micro/spec.js'
import {loadProfile} from '../../src/doctor/profile.js'
import {mutate, prng} from '../support/fuzz.js'
import {validResult} from '../support/hostile.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const SEED = Number(process.env.EBPFPERF_FUZZ_SEED ?? 14)
const ITERATIONS = Number(process.env.EBPFPERF_FUZZ_ITERATIONS ?? 250) // per kind: a few seconds in all
const BUDGET_MS = 20_000 // and never longer than this, whatever the iteration count

const dir = tempDir('fuzz')
const base = validResult('2026-11-01T00:00:00Z')
const withLatency = validResult('2026-11-02T00:00:00Z', 12)
withLatency.cases[0].extra = {latency: {p50: 10, p95: 20, p99: 30, unit: 'ns'}}
const online = onlineCpus()

interface Kind {
  name: string
  format: 'json' | 'yaml'
  ext: string
  seeds: string[]
  /** Loads the file and uses it as a command would; throws what the command would report. */
  use: (file: string) => void
}

const read = (p: string) => readFileSync(join(root, p), 'utf8')
const KINDS: Kind[] = [
  {
    name: 'result files (compare, report)',
    format: 'json',
    ext: '.json',
    seeds: [JSON.stringify(validResult(), null, 1), JSON.stringify(withLatency)],
    use: (f) => {
      const run = Object.assign(loadResult(f), {file: f})
      renderReport([run])
      compareRuns([base], [run])
    },
  },
  {name: 'topology files', format: 'yaml', ext: '.topo.yml', seeds: ['netns/dut.topo.yml', 'netns/twohop.topo.yml', 'netns/acc.topo.yml'].map(read), use: (f) => loadTopology(f)},
  {name: 'suite files', format: 'yaml', ext: '.suite.yml', seeds: ['profiles/micro/default.suite.yml', 'test/fixtures/micro/wrong-type.suite.yml'].map(read), use: (f) => loadSuite(f, {}, online)},
  {name: 'profiles', format: 'yaml', ext: '.profile.yml', seeds: ['profiles/micro.profile.yml', 'profiles/tracing.profile.yml', 'profiles/kernel-config.profile.yml'].map(read), use: (f) => loadProfile(f)},
]

/** undefined when the outcome is acceptable, else what went wrong. */
function outcome(kind: Kind, file: string): string | undefined {
  try {
    kind.use(file)
    return undefined
  } catch (error) {
    const e = error as Error & {exitCode?: number}
    if (e?.exitCode !== 2) return `exit code ${e?.exitCode ?? 1}: ${e?.stack ?? String(error)}`
    if (String(e.message).includes('\n')) return `a message of several lines: ${e.message}`
    return undefined
  }
}

describe(`hostile fuzz (seed ${SEED}, ${ITERATIONS} mutations per kind, at most ${BUDGET_MS / 1000} s)`, function () {
  this.timeout(BUDGET_MS + 30_000)
  for (const kind of KINDS) {
    it(`${kind.name}: every mutation loads or is one line with exit code 2`, () => {
      const r = prng(SEED * 7919 + kind.name.length)
      const stop = Date.now() + BUDGET_MS / KINDS.length
      const bad: string[] = []
      let i = 0
      for (; i < ITERATIONS && Date.now() < stop; i++) {
        const file = join(dir, `m${i}${kind.ext}`)
        const text = mutate(kind.seeds[i % kind.seeds.length], kind.format, r)
        writeFileSync(file, text)
        const problem = outcome(kind, file)
        if (problem) bad.push(`#${i}: ${problem.split('\n').slice(0, 4).join(' | ')}\n    input: ${JSON.stringify(text.slice(0, 300))}`)
      }
      expect(i, 'mutations tried').to.be.greaterThan(0)
      expect(bad, `${bad.length} of ${i} mutations (seed ${SEED})`).to.deep.equal([])
    })
  }
})
