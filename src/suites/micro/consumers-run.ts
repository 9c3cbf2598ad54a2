// `suite micro --consumers`: the buffer tests drained by consumer processes instead of the addon's
// thread. Per sample: a fresh load of the producer object (empty maps: nothing one consumer left behind
// reaches the next), its buffer map pinned under <bpffs>/ebpfperf/, the consumer started and awaited
// (`ready`), the producers driven exactly as the in-process cases (bufferRunAsync, external: no consumer
// thread; perf buffer: the flush markers still fired), then `stop`, the consumer's report, and the same
// accounting: per producer CPU, produced = consumed + lost, or the sample fails naming the consumer.
// Consumer CPU time: its threads' run time from `ready` to `done`. The pin and the process are removed
// in every way out (error, Ctrl-C, timeout, garbage); pins a killed run left are removed on the next.
import {existsSync, mkdirSync, readdirSync, rmSync, rmdirSync} from 'node:fs'
import {join} from 'node:path'
import {BpfObject, type BufferRunReport, type Native, type NativeError} from '../../native.js'
import {findMount, MOUNTS} from '../../kernel/runtime.js'
import {mountFs, type Made} from '../../util/syschanges.js'
import {accounting, bufferRunSpec, perfPagesFor, sampleOf, type BufferSample} from './buffers.js'
import {ConsumerProcess, cpuBetween, processCpu} from './consumers-process.js'
import type {ConsumerCounts} from './consumers-protocol.js'
import type {ConsumerDef} from './consumers.js'
import type {BufferTest} from './spec.js'

export const READY_TIMEOUT_MS = 30_000
export const REPORT_TIMEOUT_MS = 30_000

export interface ConsumerSample extends BufferSample {
  /** Consumer CPU time per consumed event, ns (its threads' run time from `ready` to `done`). */
  cpuNsPerEvent: number
}

/** The bpffs folder for pins (mounting bpffs, recorded, when none is mounted). */
export async function pinDir(changes: Made[], notes: string[]): Promise<string> {
  let bpffs = findMount('bpffs')?.target
  if (!bpffs) {
    changes.push(await mountFs(MOUNTS.bpffs.fstype, MOUNTS.bpffs.where))
    notes.push(`mounted bpffs on ${MOUNTS.bpffs.where} for the run (the consumers open the pinned maps there); unmounted after`)
    bpffs = MOUNTS.bpffs.where
  }
  const dir = join(bpffs, 'ebpfperf')
  mkdirSync(dir, {recursive: true})
  removeStalePins(dir)
  return dir
}

/** Pins are named PID-MAP: a pin whose process is gone (a kill -9) is removed. */
export function removeStalePins(dir: string): string[] {
  const removed: string[] = []
  for (const f of readdirSync(dir)) {
    const pid = Number(/^(\d+)-/.exec(f)?.[1])
    if (pid > 0 && pid !== process.pid && !existsSync(`/proc/${pid}`)) {
      rmSync(join(dir, f), {force: true})
      removed.push(f)
    }
  }
  return removed
}

/** Removes the pin folder when it is empty (other runs' pins stay). */
export function tidyPinDir(dir: string | undefined): void {
  if (!dir) return
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir)
  } catch {
    // gone or not empty
  }
}

/** The consumer's counts in the shape of the addon's report, so that the same accounting judges both. */
export function mergeReport(native: BufferRunReport, c: ConsumerCounts): BufferRunReport {
  const producers = native.producers.map((p) => ({...p, consumed: c.perCpu.get(p.cpu)?.consumed ?? 0, lost: c.perCpu.get(p.cpu)?.lost ?? 0}))
  let unexpected = c.foreign
  for (const [cpu, n] of c.perCpu) if (!native.producers.some((p) => p.cpu === cpu)) unexpected += n.consumed + n.lost
  const count = c.buckets.reduce((a, [, n]) => a + n, 0)
  const sum = c.buckets.reduce((a, [v, n]) => a + v * n, 0)
  const values = c.buckets.filter(([, n]) => n > 0).map(([v]) => v)
  return {
    ...native,
    producers,
    unexpected,
    shortRecords: c.shortRecords,
    markers: c.markers,
    lastEventNs: c.lastNs,
    latency: {count, sum, min: values.length ? Math.min(...values) : 0, max: values.length ? Math.max(...values) : 0, buckets: c.buckets},
  }
}

/** What is wrong with a consumer's counts: more than was produced first (a consumer that invents events), then the accounting. */
export function consumerProblems(t: Pick<BufferTest, 'mechanism' | 'events' | 'producers' | 'expect'>, merged: BufferRunReport): string[] {
  const over = merged.producers
    .filter((p) => p.consumed + p.lost > p.fired)
    .map((p) => `reported ${p.consumed + p.lost - p.fired} more events than CPU ${p.cpu} produced (consumed ${p.consumed} + lost ${p.lost} > produced ${p.fired})`)
  const elsewhere = merged.unexpected > 0 ? [`reported ${merged.unexpected} events from CPUs that were not producing`] : []
  return over.length + elsewhere.length > 0 ? [...over, ...elsewhere] : accounting(t, merged)
}

export interface SampleResult {
  sample?: ConsumerSample
  /** One line naming the consumer: why this sample does not count. */
  problem?: string
  remark?: string
}

/** One sample of test t drained by consumer def. Never leaves a pin or a process behind. */
export async function consumerSample(t: BufferTest, def: ConsumerDef, native: Native, dir: string, signal?: AbortSignal, readyMs = READY_TIMEOUT_MS): Promise<SampleResult> {
  let obj: BpfObject | undefined
  try {
    obj = BpfObject.open(t.objectPath, native).only([t.program, ...(t.flushProgram ? [t.flushProgram] : [])]).load()
  } catch (error) {
    obj?.close()
    return {problem: `load failed: ${(error as NativeError).message.split('\n')[0]}`}
  }
  const pin = join(dir, `${process.pid}-${t.map}`)
  const proc = new ConsumerProcess(def.id, def.argv!)
  try {
    rmSync(pin, {force: true})
    native.objPin(obj.mapFd(t.map), pin)
    const perfPages = perfPagesFor(t.ringBytes, native.numPossibleCpus())
    proc.start({EBPFPERF_MAP: pin, EBPFPERF_MECHANISM: t.mechanism, EBPFPERF_PERF_PAGES: String(perfPages)})
    return await driven({t, def, native, obj, proc, perfPages, readyMs}, signal)
  } catch (error) {
    if (signal?.aborted) throw error
    return {problem: `consumer ${def.id}: ${(error as Error).message.split('\n')[0]}`}
  } finally {
    await proc.close()
    rmSync(pin, {force: true})
    obj.close()
  }
}

interface Driven {
  t: BufferTest
  def: ConsumerDef
  native: Native
  obj: BpfObject
  proc: ConsumerProcess
  perfPages: number
  readyMs: number
}

async function driven({t, def, native, obj, proc, perfPages, readyMs}: Driven, signal?: AbortSignal): Promise<SampleResult> {
  await proc.ready(readyMs, signal)
  const cpu0 = processCpu(proc.pid!)
  const r = await native.bufferRunAsync(bufferRunSpec(t, obj, perfPages, true))
  const counts = await proc.stop(REPORT_TIMEOUT_MS, signal)
  const cpu1 = processCpu(proc.pid!)
  const merged = mergeReport(r, counts)
  const problems = consumerProblems(t, merged)
  const base = sampleOf(t, merged)
  const sample: ConsumerSample = {...base, cpuNsPerEvent: base.consumed > 0 ? cpuBetween(cpu0, cpu1) / base.consumed : Number.NaN}
  const remark = proc.reader.remarks[0]
  if (problems.length > 0) return {sample, remark, problem: `consumer ${def.id}: ${problems[0]}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}`}
  return {sample, remark}
}
