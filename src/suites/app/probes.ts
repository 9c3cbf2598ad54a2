// The tracers the application layer puts on nginx, loaded once and attached around each measured run:
// sslsniff (uprobe + uretprobe on SSL_read/SSL_write in the workers' libssl, records through a ring buffer
// drained by the addon's consumer thread) and syscount three ways. Every load shares one set of maps
// (counters, config, ring), so one consumer and one counter read serve every probe.
import {join} from 'node:path'
import {loadNative, type Native, type TraceError, type TraceKind} from '../../native.js'
import {BadInputError} from '../../util/errors.js'
import {userFault} from '../tracing/programs.js'
import {projectRoot} from '../../util/paths.js'

export const APP_OBJECT = (): string => join(projectRoot(), 'bpf', '.output', 'app.bpf.o')
export const PROBES = ['none', 'sslsniff', 'syscount', 'syscount-kfilter', 'syscount-user', 'go-runtime', 'go-handler'] as const
/** The Go server's functions the go-* probes count: a hot runtime function (as Deepflow probes) and the handler. */
export const GO_SYMBOLS = {'go-runtime': 'runtime.casgstatus', 'go-handler': 'main.handler'} as const
export type ProbeName = (typeof PROBES)[number] | 'object'
export const CAPTURE_MAX = 8192

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

  /** sslsniff on each worker: entry on SSL_read and SSL_write, a return probe on each. */
  loadSslsniff(libssl: string, workers: number[], capture: number): void {
    const o = APP_OBJECT()
    const pieces = workers.flatMap((pid) => [
      this.load(o, 'app_ssl_entry', 'uprobe', `${libssl}:SSL_read`, pid, 'uprobe SSL_read'),
      this.load(o, 'app_ssl_entry', 'uprobe', `${libssl}:SSL_write`, pid, 'uprobe SSL_write'),
      this.load(o, 'app_ssl_read_ret', 'uretprobe', `${libssl}:SSL_read`, pid, 'uretprobe SSL_read'),
      this.load(o, 'app_ssl_write_ret', 'uretprobe', `${libssl}:SSL_write`, pid, 'uretprobe SSL_write'),
    ])
    this.pieces.set('sslsniff', pieces)
    this.configure(capture, 0)
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

  private configure(capture: number | undefined, target: number | undefined): void {
    const fd = this.maps.app_config
    if (fd === undefined) return
    const v = this.native.mapLookup(fd, Buffer.alloc(4), 8) ?? Buffer.alloc(8)
    if (capture !== undefined) v.writeUInt32LE(capture, 0)
    if (target !== undefined) v.writeUInt32LE(target >>> 0, 4)
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

  /** Attaches the probe's programs and starts the ring consumer (filtering `filterTgid` for syscount-user). */
  attach(probe: ProbeName, filterTgid = 0): void {
    const pieces = this.pieces.get(probe) ?? []
    if (this.maps.app_ring !== undefined && (probe === 'sslsniff' || probe === 'syscount-user')) this.ring = this.native.ringStart(this.maps.app_ring, filterTgid)
    for (const p of pieces) this.native.traceAttach(p.handle, p.target, p.pid)
  }

  /** Detaches, drains the ring and says what the consumer got. */
  detach(probe: ProbeName): {consumed: number; matched: number; consumerCpuNs: number} {
    for (const p of this.pieces.get(probe) ?? []) this.native.traceDetach(p.handle)
    if (this.ring === undefined) return {consumed: 0, matched: 0, consumerCpuNs: 0}
    const r = this.native.ringStop(this.ring)
    this.ring = undefined
    if (r.pollError) throw new Error(`ring buffer consumer: poll failed (${r.pollError})`)
    return {consumed: r.events, matched: r.matched, consumerCpuNs: r.consumerCpuNs}
  }

  /** bpf_stats run_cnt of the probe's programs by label, summed over the processes each is attached in. */
  runCnt(probe: ProbeName): Record<string, number> {
    const out: Record<string, number> = {}
    for (const p of this.pieces.get(probe) ?? []) out[p.label] = (out[p.label] ?? 0) + this.native.progInfo(p.progFd).runCnt
    return out
  }

  closeAll(): void {
    if (this.ring !== undefined) {
      try {
        this.native.ringStop(this.ring)
      } catch {
        // already stopped
      }
      this.ring = undefined
    }
    for (const ps of this.pieces.values()) for (const p of ps) {
      try {
        this.native.traceClose(p.handle)
      } catch {
        // already closed
      }
    }
    this.pieces.clear()
    this.maps = {}
  }
}
