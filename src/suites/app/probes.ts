// The tracers the application layer puts on nginx, loaded once and attached around each measured run:
// sslsniff (uprobe + uretprobe on SSL_read/SSL_write in the workers' libssl, records through a ring buffer or
// a perf buffer drained by the addon's buffer consumer, the micro suite's) and syscount three ways. Every load
// shares one set of maps (counters, config, buffers), so one counter read serves every probe.
import {join} from 'node:path'
import {loadNative, type BufferConsumerCounts, type Native, type TraceError, type TraceKind} from '../../native.js'
import {BadInputError} from '../../util/errors.js'
import {userFault} from '../tracing/programs.js'
import {projectRoot} from '../../util/paths.js'
import {onlineCpus} from '../micro/spec.js'

export const APP_OBJECT = (): string => join(projectRoot(), 'bpf', '.output', 'app.bpf.o')
export const PROBES = ['none', 'sslsniff', 'syscount', 'syscount-kfilter', 'syscount-user', 'go-runtime', 'go-handler'] as const
/** The Go server's functions the go-* probes count: a hot runtime function (as Deepflow probes) and the handler. */
export const GO_SYMBOLS = {'go-runtime': 'runtime.casgstatus', 'go-handler': 'main.handler'} as const
export type ProbeName = (typeof PROBES)[number] | 'object'
export const CAPTURE_MAX = 8192
/** sslsniff's records: a BPF ring buffer, or a perf buffer (one per CPU). */
export const BUFFERS = ['ringbuf', 'perf'] as const
export type BufferKind = (typeof BUFFERS)[number]
/** Bytes of app_ring (bpf/app.bpf.c); a perf buffer gets as much in all, split over the CPUs. */
const RING_BYTES = 32 << 20

// struct app_count (bpf/app.shared.h): entries, returns, produced, lost, bytes, mine; 48 bytes a CPU.
const COUNT_SIZE = 48
export interface AppCounts {
  entries: number
  returns: number
  produced: number
  lost: number
  bytes: number
  mine: number
}
const FIELDS: (keyof AppCounts)[] = ['entries', 'returns', 'produced', 'lost', 'bytes', 'mine']

export function diffAppCounts(a: AppCounts, b: AppCounts): AppCounts {
  return Object.fromEntries(FIELDS.map((f) => [f, b[f] - a[f]])) as unknown as AppCounts
}

/** One program instance: a handle with one link. */
interface Piece {
  handle: number
  progFd: number
  target: string
  pid?: number
  /** What run_cnt is reported under: the attach type and the function or tracepoint (summed over workers). */
  label: string
}

/** What one measured run of a probe saw. */
export interface ProbeRun {
  counts: AppCounts
  /** Records the consumer thread read, and its CPU time. */
  consumed: number
  matched: number
  consumerCpuNs: number
  /** Perf buffer: records the consumer's lost callback reported (after the flush marker on every CPU). */
  lostReported?: number
  /** bpf_stats run_cnt of the probe's programs over the run, by label (bpf_stats is on while a probe is attached). */
  runCnt: Record<string, number>
}

export interface UserProgram {
  object: string
  program: string
  kind: TraceKind
  target: string
}

export class AppProbes {
  readonly native: Native
  private maps: Record<string, number> = {}
  private readonly pieces = new Map<ProbeName, Piece[]>()
  private ring: number | undefined
  private consumer: {handle: number; done: Promise<BufferConsumerCounts>} | undefined
  private buffer: BufferKind = 'ringbuf'
  private flush: Piece | undefined

  constructor(native: Native = loadNative()) {
    this.native = native
  }

  private load(object: string, program: string, kind: TraceKind, target: string, pid?: number, label = `${kind} ${target}`): Piece {
    const shared = object === APP_OBJECT() && Object.keys(this.maps).length > 0 ? this.maps : undefined
    let r
    try {
      r = this.native.traceLoad(object, program, kind, undefined, shared)
    } catch (error) {
      const e = userFault(error as TraceError, object === APP_OBJECT() ? undefined : `--object ${object}`)
      e.message = e.message.replace('choose the attach types with --attach', 'give --uprobe or --tracepoint to fit its section')
      throw e
    }
    if (object === APP_OBJECT() && !shared) for (const m of r.maps) this.maps[m.name] = m.fd
    return {handle: r.handle, progFd: r.progFd, target, pid, label}
  }

  /** sslsniff on each worker: entry on SSL_read and SSL_write, a return probe on each; records through `buffer`. */
  loadSslsniff(libssl: string, workers: number[], capture: number, buffer: BufferKind = 'ringbuf'): void {
    const o = APP_OBJECT()
    const pieces = workers.flatMap((pid) => [
      this.load(o, 'app_ssl_entry', 'uprobe', `${libssl}:SSL_read`, pid, 'uprobe SSL_read'),
      this.load(o, 'app_ssl_entry', 'uprobe', `${libssl}:SSL_write`, pid, 'uprobe SSL_write'),
      this.load(o, 'app_ssl_read_ret', 'uretprobe', `${libssl}:SSL_read`, pid, 'uretprobe SSL_read'),
      this.load(o, 'app_ssl_write_ret', 'uretprobe', `${libssl}:SSL_write`, pid, 'uretprobe SSL_write'),
    ])
    this.pieces.set('sslsniff', pieces)
    this.buffer = buffer
    if (buffer === 'perf') this.flush = this.load(o, 'app_perf_flush', 'raw_tracepoint', '', undefined, 'flush')
    this.configure(capture, 0, buffer === 'perf' ? 1 : 0)
    this.tryAttach('sslsniff', (why) => `${libssl} cannot be probed at SSL_read/SSL_write (${why}): is it OpenSSL's libssl with its symbols?`)
  }

  /** Attaches and detaches once, so that a target that cannot be probed is bad input before anything is measured. */
  private tryAttach(probe: ProbeName, say: (why: string) => string): void {
    try {
      for (const p of this.pieces.get(probe) ?? []) this.native.traceAttach(p.handle, p.target, p.pid)
    } catch (error) {
      throw new BadInputError(say((error as Error).message))
    } finally {
      for (const p of this.pieces.get(probe) ?? []) this.native.traceDetach(p.handle)
    }
  }

  /** The three syscount variants on raw_syscalls/sys_enter; `target` is the pid the in-kernel filter keeps. */
  loadSyscount(which: ('syscount' | 'syscount-kfilter' | 'syscount-user')[], target: number): void {
    const program = {'syscount': 'app_sys_all', 'syscount-kfilter': 'app_sys_kfilter', 'syscount-user': 'app_sys_ring'}
    for (const w of which) this.pieces.set(w, [this.load(APP_OBJECT(), program[w], 'tracepoint', 'raw_syscalls/sys_enter')])
    this.configure(undefined, target)
  }

  /** A counting uprobe on the Go server's runtime function and on its handler, in that process only. */
  loadGo(which: ('go-runtime' | 'go-handler')[], binary: string, pid: number): void {
    for (const w of which) this.pieces.set(w, [this.load(APP_OBJECT(), 'app_count_entry', 'uprobe', `${binary}:${GO_SYMBOLS[w]}`, pid, `uprobe ${GO_SYMBOLS[w]}`)])
  }

  /** The user's program; a uprobe SYMBOL without a binary is looked up in the libssl the workers map. */
  loadUser(u: UserProgram, workers: number[], libssl?: string): void {
    const uprobe = u.kind === 'uprobe' || u.kind === 'uretprobe'
    const target = uprobe && !u.target.includes(':') && libssl ? `${libssl}:${u.target}` : u.target
    const pids = uprobe ? workers : [undefined]
    this.pieces.set('object', pids.map((pid) => this.load(u.object, u.program, u.kind, target, pid, `${u.program} (${u.kind} ${u.target})`)))
    this.tryAttach('object', (why) => `--${u.kind} ${u.target}: ${u.program} cannot attach there (${why})`)
  }

  /** struct app_config (bpf/app.shared.h): capture, target, buffer, pad. */
  private configure(capture: number | undefined, target: number | undefined, buffer?: number): void {
    const fd = this.maps.app_config
    if (fd === undefined) return
    const v = this.native.mapLookup(fd, Buffer.alloc(4), 16) ?? Buffer.alloc(16)
    if (capture !== undefined) v.writeUInt32LE(capture, 0)
    if (target !== undefined) v.writeUInt32LE(target >>> 0, 4)
    if (buffer !== undefined) v.writeUInt32LE(buffer, 8)
    this.native.mapUpdate(fd, Buffer.alloc(4), v, 0)
  }

  counts(): AppCounts {
    const zero = Object.fromEntries(FIELDS.map((f) => [f, 0])) as unknown as AppCounts
    const fd = this.maps.app_counts
    if (fd === undefined) return zero
    const n = this.native.numPossibleCpus()
    const b = this.native.mapLookup(fd, Buffer.alloc(4), COUNT_SIZE * n)
    if (!b) return zero
    for (let c = 0; c < n; c++) FIELDS.forEach((f, i) => (zero[f] += Number(b.readBigUInt64LE(c * COUNT_SIZE + i * 8))))
    return zero
  }

  /** Attaches the probe's programs and starts its consumer: the buffer consumer for sslsniff, the ring consumer filtering `filterTgid` for syscount-user. */
  attach(probe: ProbeName, filterTgid = 0): void {
    const pieces = this.pieces.get(probe) ?? []
    if (probe === 'sslsniff') {
      const perf = this.buffer === 'perf'
      this.consumer = this.native.bufferConsumerStart({mechanism: perf ? 'perfbuf' : 'ringbuf', mapFd: perf ? this.maps.app_perf : this.maps.app_ring, perfPages: perf ? perfPages(this.native.numPossibleCpus()) : undefined})
    }
    if (this.maps.app_ring !== undefined && probe === 'syscount-user') this.ring = this.native.ringStart(this.maps.app_ring, filterTgid)
    for (const p of pieces) this.native.traceAttach(p.handle, p.target, p.pid)
  }

  /** Detaches, drains the buffer and says what the consumer got. */
  async detach(probe: ProbeName): Promise<{consumed: number; matched: number; consumerCpuNs: number; lostReported?: number}> {
    for (const p of this.pieces.get(probe) ?? []) this.native.traceDetach(p.handle)
    if (this.consumer) return this.stopConsumer()
    if (this.ring === undefined) return {consumed: 0, matched: 0, consumerCpuNs: 0}
    const r = this.native.ringStop(this.ring)
    this.ring = undefined
    if (r.pollError) throw new Error(`ring buffer consumer: poll failed (${r.pollError})`)
    return {consumed: r.events, matched: r.matched, consumerCpuNs: r.consumerCpuNs}
  }

  /**
   * Stops sslsniff's consumer after its drain. With a perf buffer, first a marker record on every CPU: the
   * kernel reports a CPU's lost records only before its next record, and the consumer must hear of them all.
   */
  private async stopConsumer(): Promise<{consumed: number; matched: number; consumerCpuNs: number; lostReported?: number}> {
    const {handle, done} = this.consumer!
    this.consumer = undefined
    const cpus = this.buffer === 'perf' ? onlineCpus() : []
    let flushed: Error | undefined
    if (this.flush) {
      const r = await this.native.testRunAsync({progFd: this.flush.progFd, cpus, samples: 1, repeat: 1, mode: 'call', stats: 'off', warmup: false}).catch((error: Error) => error)
      if (r instanceof Error) flushed = r
      else if (r.cpus.some((c) => c.samples.some((x) => x.retval !== 0))) flushed = new Error('a flush marker found no room in its CPU\'s perf buffer')
    }
    this.native.bufferConsumerStop(handle)
    const r = await done
    if (flushed) throw new Error(`perf buffer flush: ${flushed.message}`)
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
    if (r.foreign + r.shortRecords > 0) throw new Error(`buffer consumer: ${r.foreign} records with a CPU out of range and ${r.shortRecords} short records`)
    if (r.markers !== cpus.length) throw new Error(`perf buffer: ${r.markers} flush markers arrived, ${cpus.length} were sent`)
    return {consumed: sum(r.consumed), matched: 0, consumerCpuNs: r.consumerCpuNs ?? 0, lostReported: this.buffer === 'perf' ? sum(r.lost) : undefined}
  }

  /** bpf_stats run_cnt of the probe's programs by label, summed over the processes each is attached in. */
  runCnt(probe: ProbeName): Record<string, number> {
    const out: Record<string, number> = {}
    for (const p of this.pieces.get(probe) ?? []) out[p.label] = (out[p.label] ?? 0) + this.native.progInfo(p.progFd).runCnt
    return out
  }

  closeAll(): void {
    if (this.consumer) {
      this.native.bufferConsumerStop(this.consumer.handle)
      this.consumer.done.catch(() => undefined)
      this.consumer = undefined
    }
    if (this.ring !== undefined) {
      try {
        this.native.ringStop(this.ring)
      } catch {
        // already stopped
      }
      this.ring = undefined
    }
    for (const p of [...[...this.pieces.values()].flat(), ...(this.flush ? [this.flush] : [])]) {
      try {
        this.native.traceClose(p.handle)
      } catch {
        // already closed
      }
    }
    this.pieces.clear()
    this.flush = undefined
    this.maps = {}
  }
}

/** Pages per CPU of the perf buffer: as many bytes in all as the ring buffer, a power of two per CPU. */
export function perfPages(cpus: number): number {
  const pages = RING_BYTES / 4096 / Math.max(1, cpus)
  return 2 ** Math.floor(Math.log2(Math.max(1, pages)))
}
