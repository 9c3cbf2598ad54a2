// `suite micro --consumers c,python,go,node [--consumer NAME=CMD]`: every selected buffer test drained by
// each consumer process in turn, the consumers interleaved over the repetitions (round r runs every
// consumer once, so drift on the machine touches them alike); per test, each consumer's delivered
// events/s against libbpf C (Welch), and tiers read off the measurement: consumers whose events/s the
// test cannot tell apart (Welch p ≥ 0.05 against the tier's fastest) share a tier.
import type {RunResult} from '../../results/store.js'
import {summarize, welch, type Welch} from '../../results/stats.js'
import {InterruptedError, withSignals} from '../../util/signals.js'
import {loadNative, type Native} from '../../native.js'
import type {Made} from '../../util/syschanges.js'
import {finishRun, interleaved, newRun, type Gate} from '../common.js'
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
  files: {json: string; csv: string}
}

export interface ConsumersOptions {
  argv: string[]
  outDir: string
  gate: Pick<Gate, 'skipped'>
  native?: Native
  /** One line per sample on stderr (progress). */
  onSample?: (line: string) => void
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

/** Runs every buffer test of the suite with each consumer; run tests in the selection are left out (a note says so). */
export async function runConsumers(suite: Suite, defs: ConsumerDef[], opts: ConsumersOptions): Promise<ConsumersOutcome> {
  const native = opts.native ?? loadNative()
  const run = await newRun('micro', opts.argv)
  const notes: string[] = []
  const tests = suite.tests.filter((t): t is BufferTest => t.kind === 'buffer')
  const leftOut = suite.tests.length - tests.length
  if (leftOut > 0) notes.push(`${leftOut} run tests of the selection left out: --consumers measures the ring/perf buffer tests`)
  await prepareConsumers(defs)
  const outcomes: ConsumerOutcome[] = tests.flatMap((test) =>
    defs.map((consumer): ConsumerOutcome => {
      const skip = consumer.skip ?? (test.case ? opts.gate.skipped.get(test.case) : undefined)
      return {test, consumer, status: skip ? 'skipped' : 'ok', reason: skip, samples: []}
    }),
  )
  const changes: Made[] = []
  let dir: string | undefined
  const save = (complete: boolean): ConsumersOutcome['files'] => {
    for (const o of outcomes) if (o.samples.length > 0) o.latency = latencyOf(o.samples)
    judge(outcomes)
    run.cases = consumerCases(outcomes)
    return finishRun(run, opts.outDir, consumersCsv(run.started, outcomes), complete)
  }
  try {
    const {signal: interrupted} = await withSignals(async (signal) => {
      dir = await pinDir(changes, notes)
      for (const test of tests) await runTest(test, outcomes, {native, dir, signal, opts})
    })
    if (interrupted) throw new InterruptedError(interrupted, 'stopped after the last sample')
  } catch (error) {
    ;(error as {resultFiles?: unknown}).resultFiles = save(false)
    throw error
  } finally {
    tidyPinDir(dir)
    for (const c of changes.reverse()) await c.undo().catch(() => {})
  }
  return {run, outcomes, notes, files: save(true)}
}

async function runTest(test: BufferTest, outcomes: ConsumerOutcome[], {native, dir, signal, opts}: {native: Native; dir: string; signal: AbortSignal; opts: ConsumersOptions}): Promise<void> {
  const mine = outcomes.filter((o) => o.test === test && o.status === 'ok')
  for (const {config: o, rep} of interleaved(mine, test.samples, 0)) {
    if (o.status !== 'ok') continue // failed in an earlier round: its later samples are not taken
    signal.throwIfAborted()
    opts.onSample?.(`${test.name} × ${o.consumer.id}: sample ${rep + 1}/${test.samples}`)
    const r = await consumerSample(test, o.consumer, native, dir, signal, opts.readyMs)
    if (r.sample) o.samples.push(r.sample)
    o.remark ??= r.remark
    if (r.problem) {
      o.status = 'failed'
      o.reason = `sample ${rep + 1}: ${r.problem}`
    }
  }
}
