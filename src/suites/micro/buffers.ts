// Ring buffer vs perf buffer: producers fire a known number of events per sample, the addon's consumer
// drains them, and every event is accounted for: per producer CPU, produced (the test run's repetitions,
// cross-checked with the program's own count) = consumed + lost (ring buffer: the reservations/outputs
// the program saw fail; perf buffer: the lost callback, cross-checked with the program's count).
// Anything else fails the case. Figures: delivered events/s and MB/s, lost events, end-to-end latency
// percentiles (consumer's CLOCK_MONOTONIC minus the event's bpf_ktime_get_ns), producer ns per event.
import {BpfObject, type BufferRunReport, type BufferRunSpec, type Native, type NativeError} from '../../native.js'
import type {BufferTest} from './spec.js'

export interface BufferSample {
  produced: number
  consumed: number
  lost: number
  /** Consumed events per second, first production to last consumption. */
  eventsPerSec: number
  /** Consumed payload MB/s (10^6 bytes of event_size). */
  mbPerSec: number
  /** Produced events per second while the producers ran (the offered load). */
  offeredPerSec: number
  latency: {p50: number; p95: number; p99: number; max: number; mean: number}
  /** Per producer CPU: ns per event in the producer program (the kernel's test-run timer). */
  producerNs: Record<number, number>
  wakeups: number
  buckets: [number, number][]
}

export interface BufferOutcome {
  test: BufferTest
  status: 'ok' | 'failed' | 'skipped'
  reason?: string
  verifierLog?: string
  samples: BufferSample[]
  /** Latency over all samples (merged histograms). */
  latency?: BufferSample['latency']
  perfPages?: number
  notes: string[]
}

/** Percentiles from a log-linear histogram given as [value, count] pairs. Exported for tests. */
export function histogramPercentiles(buckets: [number, number][], ps: number[]): number[] {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0])
  const total = sorted.reduce((a, [, c]) => a + c, 0)
  return ps.map((p) => {
    if (total === 0) return Number.NaN
    const rank = Math.max(1, Math.ceil(p * total))
    let seen = 0
    for (const [v, c] of sorted) {
      seen += c
      if (seen >= rank) return v
    }
    return sorted[sorted.length - 1][0]
  })
}

export function mergeBuckets(lists: [number, number][][]): [number, number][] {
  const m = new Map<number, number>()
  for (const l of lists) for (const [v, c] of l) m.set(v, (m.get(v) ?? 0) + c)
  return [...m.entries()]
}

function latencyOf(buckets: [number, number][], count: number, sum: number, max: number): BufferSample['latency'] {
  const [p50, p95, p99] = histogramPercentiles(buckets, [0.5, 0.95, 0.99])
  return {p50, p95, p99, max, mean: count > 0 ? sum / count : Number.NaN}
}

/**
 * Every event accounted for? Returns the problems (empty: all counted). Exported for tests.
 * lost = the program's failure count (ring buffer) or the lost callback (perf buffer).
 */
export function accounting(t: Pick<BufferTest, 'mechanism' | 'events' | 'producers' | 'expect'>, r: BufferRunReport): string[] {
  const problems: string[] = []
  for (const p of r.producers) {
    const at = `CPU ${p.cpu}`
    if (p.timedOut) problems.push(`${at}: the producer timed out after ${p.fired} of ${t.events} events`)
    else if (p.fired !== t.events) problems.push(`${at}: ${p.fired} events fired, ${t.events} asked for`)
    if (p.badRetval !== undefined) problems.push(`${at}: the producer returned ${p.badRetval}, expected ${t.expect}`)
    if (p.producedByProgram !== p.fired) problems.push(`${at}: the program counted ${p.producedByProgram} runs, the test run made ${p.fired}`)
    const lost = t.mechanism === 'ringbuf' ? p.failedByProgram : p.lost
    if (t.mechanism === 'perfbuf' && p.lost !== p.failedByProgram)
      problems.push(`${at}: the perf buffer's lost callback reported ${p.lost}, the program saw ${p.failedByProgram} outputs fail`)
    if (p.consumed + lost !== p.fired) problems.push(`${at}: produced ${p.fired} ≠ consumed ${p.consumed} + lost ${lost} (${p.fired - p.consumed - lost} unaccounted for)`)
  }
  if (r.unexpected > 0) problems.push(`${r.unexpected} events came from CPUs that were not producing`)
  if (r.shortRecords > 0) problems.push(`${r.shortRecords} records were shorter than an event header`)
  if (t.mechanism === 'perfbuf' && r.markers !== t.producers.length) problems.push(`${r.markers} flush markers arrived, ${t.producers.length} were sent`)
  return problems
}

/** Figures of one sample. Exported for tests. */
export function sampleOf(t: Pick<BufferTest, 'mechanism' | 'eventSize'>, r: BufferRunReport): BufferSample {
  const produced = r.producers.reduce((a, p) => a + p.fired, 0)
  const consumed = r.producers.reduce((a, p) => a + p.consumed, 0)
  const lost = r.producers.reduce((a, p) => a + (t.mechanism === 'ringbuf' ? p.failedByProgram : p.lost), 0)
  const end = r.lastEventNs > 0 ? r.lastEventNs : r.endNs
  const seconds = Math.max(1e-9, (end - r.startNs) / 1e9)
  const offeredSeconds = Math.max(1e-9, (r.producersDoneNs - r.startNs) / 1e9)
  const producerNs: Record<number, number> = {}
  for (const p of r.producers) producerNs[p.cpu] = p.fired > 0 ? p.kernelNs / p.fired : Number.NaN
  return {
    produced,
    consumed,
    lost,
    eventsPerSec: consumed / seconds,
    mbPerSec: (consumed * t.eventSize) / seconds / 1e6,
    offeredPerSec: produced / offeredSeconds,
    latency: latencyOf(r.latency.buckets, r.latency.count, r.latency.sum, r.latency.max),
    producerNs,
    wakeups: r.wakeups,
    buckets: r.latency.buckets,
  }
}

/** Perf buffer pages per CPU for the same total memory as the ring buffer (a power of two, at least 1). */
export function perfPagesFor(ringBytes: number, possibleCpus: number, pageSize = 4096): number {
  const pages = Math.max(1, Math.floor(ringBytes / possibleCpus / pageSize))
  return 2 ** Math.floor(Math.log2(pages))
}

/** The producers (and the addon's consumer, unless external) of one sample of test t, from its loaded object. */
export function bufferRunSpec(t: BufferTest, obj: BpfObject, perfPages: number, external = false): BufferRunSpec {
  return {
    mechanism: t.mechanism,
    mapFd: obj.mapFd(t.map),
    progFd: obj.progFd(t.program),
    flushProgFd: t.flushProgram ? obj.progFd(t.flushProgram) : undefined,
    countersFd: obj.mapFd(t.counters),
    producers: t.producers,
    events: t.events,
    batch: t.batch,
    rate: t.rate,
    data: t.data,
    perfPages,
    consumerCpu: t.consumerCpu ?? -1,
    timeoutMs: Math.max(60_000, t.rate > 0 ? (t.events / t.rate) * 3000 : 0),
    expect: t.expect,
    external,
  }
}

export async function runBufferTest(t: BufferTest, native: Native, signal?: AbortSignal): Promise<BufferOutcome> {
  const o: BufferOutcome = {test: t, status: 'ok', samples: [], notes: []}
  let obj: BpfObject | undefined
  try {
    obj = BpfObject.open(t.objectPath, native)
      .only([t.program, ...(t.flushProgram ? [t.flushProgram] : [])])
      .load()
  } catch (error) {
    obj?.close()
    const e = error as NativeError
    return {...o, status: 'failed', reason: `load failed: ${e.message.split('\n')[0]}`, verifierLog: e.verifierLog}
  }
  try {
    const perfPages = perfPagesFor(t.ringBytes, native.numPossibleCpus())
    if (t.mechanism === 'perfbuf') o.perfPages = perfPages
    const problems: string[] = []
    for (let s = 0; s < t.samples; s++) {
      signal?.throwIfAborted()
      const r = await native.bufferRunAsync(bufferRunSpec(t, obj, perfPages))
      const p = accounting(t, r)
      if (p.length > 0) problems.push(`sample ${s + 1}: ${p[0]}${p.length > 1 ? ` (+${p.length - 1} more)` : ''}`)
      o.samples.push(sampleOf(t, r))
    }
    if (problems.length > 0) {
      o.status = 'failed'
      o.reason = `events not accounted for: ${problems[0]}`
    }
    const merged = mergeBuckets(o.samples.map((x) => x.buckets))
    const count = o.samples.reduce((a, x) => a + x.consumed, 0)
    const sum = o.samples.reduce((a, x) => a + x.latency.mean * x.consumed, 0)
    o.latency = latencyOf(merged, count, sum, Math.max(0, ...o.samples.map((x) => x.latency.max)))
    if (o.samples.some((x) => x.lost > 0)) o.notes.push('events were lost: the producers outran the consumer (the producer ns/event then includes cheap failed outputs)')
  } catch (error) {
    if (signal?.aborted) throw error
    o.status = 'failed'
    o.reason = (error as Error).message.split('\n')[0]
  } finally {
    obj.close()
  }
  return o
}
