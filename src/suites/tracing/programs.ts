// Loading, attaching and detaching the programs of the tracing suite (through the addon's trace layer), the
// counter map every body shares (struct trc_count in bpf/tracing.shared.h), and which failures are the user's.
import {loadNative, type Native, type TraceError, type TraceKind} from '../../native.js'
import {BadInputError} from '../../util/errors.js'
import {builtinProgram, TRACING_OBJECT} from './kinds.js'

/** A body: one of the built-in ones, or a program from the user's --object. */
export interface Body {
  name: string // 'null', 'map', or the user's program name
  object: string
  builtin: boolean
  /** The program (in `object`) that runs this body as `kind`. */
  program(kind: TraceKind): string
}

export function builtinBody(name: string): Body {
  return {name, object: TRACING_OBJECT(), builtin: true, program: (kind) => builtinProgram(name, kind)}
}

export function userBody(object: string, program: string): Body {
  return {name: program, object, builtin: false, program: () => program}
}

export interface Loaded {
  kind: TraceKind
  body: Body
  program: string
  handle: number
  progFd: number
  progId: number
  /** trc_counts (per-CPU struct trc_count), when the object has it. */
  countsFd?: number
  /** trc_ring, when the object has it (the scenario object). */
  ringFd?: number
}

// struct trc_count: events @0, mine @8, dropped @16, last_pid_tgid @24, target @32 (u32); 40 bytes.
export const COUNT_SIZE = 40

export interface Counts {
  events: number
  mine: number
  dropped: number
}

export const ZERO_COUNTS: Counts = {events: 0, mine: 0, dropped: 0}

export function diffCounts(a: Counts, b: Counts): Counts {
  return {events: b.events - a.events, mine: b.mine - a.mine, dropped: b.dropped - a.dropped}
}

/** One failure that is the user's input, not the kernel's refusal: one line, exit 2. */
export class TracingInputError extends BadInputError {
  constructor(message: string) {
    super(message)
    this.name = 'TracingInputError'
  }
}

/** The programs this run loaded; closeAll() detaches and frees every one of them (every way out calls it). */
export class Programs {
  private readonly loaded = new Set<Loaded>()
  readonly native: Native

  constructor(native: Native = loadNative()) {
    this.native = native
  }

  /**
   * Loads body's program for kind. A missing program, a type that does not fit or a BTF target that does
   * not exist is the user's mistake (TracingInputError); a kernel refusal is thrown as the addon gave it.
   */
  load(body: Body, kind: TraceKind, btfTarget?: string): Loaded {
    const program = body.program(kind)
    let r
    try {
      r = this.native.traceLoad(body.object, program, kind, btfTarget)
    } catch (error) {
      throw userFault(error as TraceError, body.builtin ? undefined : `--object ${body.object}`)
    }
    const counts = r.maps.find((m) => m.name === 'trc_counts')
    const ring = r.maps.find((m) => m.name === 'trc_ring')
    const l: Loaded = {kind, body, program, handle: r.handle, progFd: r.progFd, progId: r.progId, countsFd: counts?.fd, ringFd: ring?.fd}
    this.loaded.add(l)
    return l
  }

  /** Attaches (one link per loaded program); returns what it attached to. */
  attach(l: Loaded, target: string): string {
    return this.native.traceAttach(l.handle, target)
  }

  detach(l: Loaded): void {
    this.native.traceDetach(l.handle)
  }

  close(l: Loaded): void {
    if (!this.loaded.delete(l)) return
    this.native.traceClose(l.handle)
  }

  closeAll(): void {
    for (const l of this.loaded) {
      try {
        this.native.traceClose(l.handle)
      } catch {
        // already closed
      }
    }
    this.loaded.clear()
  }

  /** Sets `target` (a tid or tgid) in every CPU's slot of trc_counts and zeroes the counters. */
  setTarget(l: Loaded, target: number): void {
    if (l.countsFd === undefined) return
    const n = this.native.numPossibleCpus()
    const v = Buffer.alloc(COUNT_SIZE * n)
    for (let c = 0; c < n; c++) v.writeUInt32LE(target >>> 0, c * COUNT_SIZE + 32)
    this.native.mapUpdate(l.countsFd, Buffer.alloc(4), v, 0)
  }

  /** trc_counts summed over CPUs (zeros when the object has no such map). */
  counts(l: Loaded): Counts {
    if (l.countsFd === undefined) return ZERO_COUNTS
    const n = this.native.numPossibleCpus()
    const b = this.native.mapLookup(l.countsFd, Buffer.alloc(4), COUNT_SIZE * n)
    if (!b) return ZERO_COUNTS
    let events = 0n
    let mine = 0n
    let dropped = 0n
    for (let c = 0; c < n; c++) {
      events += b.readBigUInt64LE(c * COUNT_SIZE)
      mine += b.readBigUInt64LE(c * COUNT_SIZE + 8)
      dropped += b.readBigUInt64LE(c * COUNT_SIZE + 16)
    }
    return {events: Number(events), mine: Number(mine), dropped: Number(dropped)}
  }

  stats(l: Loaded): {runCnt: number; runTimeNs: number; recursionMisses: number} {
    const i = this.native.progInfo(l.progFd)
    return {runCnt: i.runCnt, runTimeNs: i.runTimeNs, recursionMisses: i.recursionMisses}
  }
}

/** The addon's error, turned into a TracingInputError when it is about the user's input. */
export function userFault(e: TraceError, what?: string): Error {
  if (!(e instanceof Error)) return e
  const msg = e.message.replace(/: (Invalid argument \(EINVAL\)|No such file or directory \(ENOENT\)|No such process \(ESRCH\))$/, '')
  if (e.badObject) return new TracingInputError(`${msg}: give a BPF object built with clang -target bpf`)
  if (e.missingProgram) return new TracingInputError(`${msg}: name one of those with --program`)
  if (e.typeMismatch) return new TracingInputError(`${msg}; choose the attach types with --attach`)
  if (e.missingTarget) return new TracingInputError(`${msg}: the kernel's BTF has no such function${what ? ` (${what})` : ''}; pick another with --kfunc`)
  if (e.badTarget) return new TracingInputError(msg)
  return e
}
