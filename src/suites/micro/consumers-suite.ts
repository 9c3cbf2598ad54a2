// `suite micro --consumers c,python,go,node [--consumer NAME=CMD]`: every selected buffer test drained by
// each consumer process in turn, the consumers interleaved over the repetitions (round r runs every
// consumer once, so drift on the machine touches them alike); per test, each consumer's delivered
// events/s against libbpf C (Welch), and tiers read off the measurement: consumers whose events/s the
// test cannot tell apart (Welch p ≥ 0.05 against the tier's fastest) share a tier. It runs on the suite
// lifecycle like every suite; these are its parts.
import type {RunResult} from '../../results/store.js'
import {summarize, welch, type Welch} from '../../results/stats.js'
import {loadNative, type Native} from '../../native.js'
import type {Made} from '../../util/syschanges.js'
import {interleaved, type Gate} from '../common.js'
import {runLifecycle, type RunContext, type SavedFiles, type SuiteDefinition, type SuiteFlags, type SuiteResults} from '../suite.js'
import {histogramPercentiles, mergeBuckets} from './buffers.js'
import {prepareConsumers, type ConsumerDef} from './consumers.js'
import {consumerCases, consumersCsv} from './consumers-report.js'
import {consumerSample, pinDir, tidyPinDir, type ConsumerSample} from './consumers-run.js'
import type {BufferTest, Suite} from './spec.js'

export interface ConsumerOutcome {
  test: BufferTest
  consumer: ConsumerDef
  status: 'ok' | 'failed' | 'skipped'
  reason?: string
  samples: ConsumerSample[]
  latency?: {p50: number; p95: number; p99: number}
  /** The consumer's first `#` remark (its library version). */
  remark?: string
  /** Delivered events/s against libbpf C's in the same test. */
  vsC?: Welch
  tier?: number
}

export interface ConsumersOutcome {
  run: RunResult
  outcomes: ConsumerOutcome[]
  notes: string[]
  /** The CSV holds the consumers' table (consumers-report.ts). */
  files: SavedFiles
}

export interface ConsumersOptions {
  argv: string[]
  outDir: string
  gate: Pick<Gate, 'skipped'>
  native?: Native
  /** How long a consumer may take to say "ready" (default READY_TIMEOUT_MS). */
  readyMs?: number
}

/** Welch against C and the tiers, per test (in place). Exported for tests. */
export function judge(outcomes: ConsumerOutcome[]): void {
  const tests = [...new Set(outcomes.map((o) => o.test.name))]
  for (const name of tests) {
    const rows = outcomes.filter((o) => o.test.name === name && o.status === 'ok' && o.samples.length > 0)
    const rate = (o: ConsumerOutcome) => o.samples.map((s) => s.eventsPerSec)
    const c = rows.find((o) => o.consumer.id === 'c')
    for (const o of rows) if (c && o !== c && c.samples.length > 1 && o.samples.length > 1) o.vsC = welch(rate(c), rate(o))
    const sorted = [...rows].sort((a, b) => summarize(rate(b)).mean - summarize(rate(a)).mean)
    let tier = 0
    let leader: ConsumerOutcome | undefined
    for (const o of sorted) {
      const apart = !leader || leader.samples.length < 2 || o.samples.length < 2 || welch(rate(leader), rate(o)).significant
      if (apart) {
        tier++
        leader = o
      }
      o.tier = tier
    }
  }
}

function latencyOf(samples: ConsumerSample[]): ConsumerOutcome['latency'] {
  const merged = mergeBuckets(samples.map((s) => s.buckets))
  const [p50, p95, p99] = histogramPercentiles(merged, [0.5, 0.95, 0.99])
  return {p50, p95, p99}
}

/** What the parts share: made by validate (or runConsumers), filled in by plan and run. */
export interface ConsumersState {
  suite: Suite
  defs: ConsumerDef[]
  tests: BufferTest[]
  outcomes: ConsumerOutcome[]
  notes: string[]
  /** What the run changed on the machine (a bpffs mount), undone by teardown. */
  changes: Made[]
  /** Where the buffer maps are pinned. */
  dir?: string
  native?: Native
  readyMs?: number
}

export function consumersState(suite: Suite, defs: ConsumerDef[], o: {native?: Native; readyMs?: number} = {}): ConsumersState {
  return {suite, defs, tests: suite.tests.filter((t): t is BufferTest => t.kind === 'buffer'), outcomes: [], notes: [], changes: [], ...o}
}

/**
 * The consumer mode's parts of the suite lifecycle (src/suites/suite.ts) but validate and render, which
 * the command adds (consumers-command.ts): plan builds the consumers and marks what doctor skips, run
 * pins and drains, teardown removes the pin folder and a bpffs it mounted.
 */
export const consumersParts = {
  name: 'micro',
  async plan(s: ConsumersState, gate: Pick<Gate, 'skipped'>): Promise<void> {
    const leftOut = s.suite.tests.length - s.tests.length
    if (leftOut > 0) s.notes.push(`${leftOut} run tests of the selection left out: --consumers measures the ring/perf buffer tests`)
    await prepareConsumers(s.defs)
    s.outcomes = s.tests.flatMap((test) =>
      s.defs.map((consumer): ConsumerOutcome => {
        const skip = consumer.skip ?? (test.case ? gate.skipped.get(test.case) : undefined)
        return {test, consumer, status: skip ? 'skipped' : 'ok', reason: skip, samples: []}
      }),
    )
  },
  async run(s: ConsumersState, ctx: Pick<RunContext, 'note' | 'signal'>): Promise<void> {
    ctx.note(`micro --consumers: ${s.tests.length} buffer tests × ${s.defs.map((d) => d.id).join(', ')}, consumers interleaved over the samples`)
    const native = (s.native ??= loadNative())
    const dir = (s.dir = await pinDir(s.changes, s.notes))
    for (const test of s.tests) await runTest(test, s.outcomes, {native, dir, signal: ctx.signal, readyMs: s.readyMs, onSample: (line) => ctx.note(`  ${line}`)})
  },
  async teardown(s: ConsumersState): Promise<void> {
    tidyPinDir(s.dir)
    for (const c of s.changes.reverse()) await c.undo().catch(() => {})
  },
  results(s: ConsumersState, run: RunResult): SuiteResults {
    for (const o of s.outcomes) if (o.samples.length > 0) o.latency = latencyOf(o.samples)
    judge(s.outcomes)
    return {cases: consumerCases(s.outcomes), csv: consumersCsv(run.started, s.outcomes)}
  },
  report: (s: ConsumersState, run: RunResult, files: SavedFiles): ConsumersOutcome => ({run, outcomes: s.outcomes, notes: s.notes, files}),
  json: (o: ConsumersOutcome) => o.run,
  exitCode: (o: ConsumersOutcome) => (o.outcomes.some((x) => x.status === 'failed') ? 1 : 0),
}

/**
 * Runs every buffer test of the suite with each consumer, through the suite lifecycle with the given
 * gate and no output (tests call it); run tests in the selection are left out (a note says so).
 */
export async function runConsumers(suite: Suite, defs: ConsumerDef[], opts: ConsumersOptions): Promise<ConsumersOutcome> {
  const def: SuiteDefinition<SuiteFlags, ConsumersState, ConsumersOutcome> = {
    ...consumersParts,
    validate: () => consumersState(suite, defs, {native: opts.native, readyMs: opts.readyMs}),
    gate: async () => ({...opts.gate, verdict: {text: 'the gate the caller gave'}}) as Gate,
    render: () => [],
  }
  const flags = {quick: false, repeat: undefined, json: false, out: opts.outDir}
  return (await runLifecycle(def, flags, {argv: opts.argv, note: () => {}, progress: false})).report
}

interface TestEnv {
  native: Native
  dir: string
  signal: AbortSignal
  readyMs?: number
  onSample: (line: string) => void
}

async function runTest(test: BufferTest, outcomes: ConsumerOutcome[], {native, dir, signal, readyMs, onSample}: TestEnv): Promise<void> {
  const mine = outcomes.filter((o) => o.test === test && o.status === 'ok')
  for (const {config: o, rep} of interleaved(mine, test.samples, 0)) {
    if (o.status !== 'ok') continue // failed in an earlier round: its later samples are not taken
    signal.throwIfAborted()
    onSample(`${test.name} × ${o.consumer.id}: sample ${rep + 1}/${test.samples}`)
    const r = await consumerSample(test, o.consumer, native, dir, signal, readyMs)
    if (r.sample) o.samples.push(r.sample)
    o.remark ??= r.remark
    if (r.problem) {
      o.status = 'failed'
      o.reason = `sample ${rep + 1}: ${r.problem}`
    }
  }
}
