// The only module that touches the native addon (native/ → ebpfperf_native.node).
//
// Every probe returns a ProbeResult instead of throwing for kernel errors, so
// callers can tell "loads but cannot attach" from "the kernel says EPERM",
// always with the errno. Bad argument types throw TypeError (from the addon).
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {projectRoot} from './util/paths.js'
import {inputFileProblem} from './util/input.js'
import {BadInputError} from './util/errors.js'
import {join, resolve} from 'node:path'

export type ProbeStage = 'ok' | 'setup' | 'load' | 'attach'

export interface ProbeResult {
  /** Loaded (and for attach probes: attached) successfully. */
  ok: boolean
  /** Where it failed ('ok' when ok). */
  stage: ProbeStage
  /** Positive errno, 0 when ok. */
  errno: number
  /** 'EPERM', 'ENOENT', 'EINVAL', 'EOPNOTSUPP', ... ('' when ok). */
  code: string
  /** One human line: what was done, or what failed and why. */
  message: string
  /** Target used, verifier/libbpf log lines, hints. */
  detail?: string
}

export type AttachKind =
  | 'fentry'
  | 'fexit'
  | 'kprobe'
  | 'kretprobe'
  | 'kprobe.multi'
  | 'uprobe'
  | 'uretprobe'
  | 'uprobe.multi'
  | 'tracepoint'
  | 'raw_tracepoint'
  | 'xdp'
  | 'xdp.native'
  | 'tc'
  | 'tcx'
  | 'cgroup'
  | 'lsm'

/** Every AttachKind, in a stable order. */
export const ATTACH_KINDS: readonly AttachKind[] = Object.freeze([
  'fentry',
  'fexit',
  'kprobe',
  'kretprobe',
  'kprobe.multi',
  'uprobe',
  'uretprobe',
  'uprobe.multi',
  'tracepoint',
  'raw_tracepoint',
  'xdp',
  'xdp.native',
  'tc',
  'tcx',
  'cgroup',
  'lsm',
] as const satisfies readonly AttachKind[])

export interface Native {
  /** libbpf major.minor, e.g. "1.1". */
  libbpfVersion(): string
  /** libbpf_probe_bpf_prog_type. */
  probeProgType(progType: number): ProbeResult
  /** libbpf_probe_bpf_map_type. */
  probeMapType(mapType: number): ProbeResult
  /** libbpf_probe_bpf_helper, cross-checked against the verifier log. */
  probeHelper(progType: number, helperId: number): ProbeResult
  /**
   * Loads a tiny program and attaches it, then detaches and closes everything.
   * Targets: kernel function (fentry/fexit/lsm/kprobe*), "<path>:<file offset>"
   * (uprobe*), "category/name" (tracepoint), raw tracepoint name, cgroup
   * directory (cgroup), 'ingress' | 'egress' (tc, tcx). xdp kinds take none.
   */
  probeAttach(kind: AttachKind, target?: string): ProbeResult
  /**
   * Any of the probes above on libuv's worker pool, so that independent probes overlap their kernel waits.
   * deferTeardown: attachments whose detach is slow (uprobes, kprobes, trampolines: RCU grace periods)
   * stay open until releaseProbes() instead of being detached before the promise settles.
   */
  probeAsync(spec: ProbeSpec, opts?: {deferTeardown?: boolean}): Promise<ProbeResult>
  /**
   * Hands the deferred teardowns to a short-lived "ebp-teardown" process that detaches them and exits,
   * so that the caller need not wait for the kernel's grace periods. pid 0: nothing was pending, or the
   * hand-over failed (error) and they were detached here.
   */
  releaseProbes(): Promise<{fds: number; pid: number; error?: string}>
  /** A read-only Buffer over mmap(path) (undefined when it cannot be mapped): /sys/kernel/btf/vmlinux in one call instead of ~1,350 4-KiB reads. Never write to it. */
  mapFile(path: string): Buffer | undefined
  /** flock(fd, LOCK_EX | LOCK_NB): true once this open file holds the lock, false while another does (closing the fd releases it). */
  tryLock(fd: number): boolean
  /** Ends the process at once with `code` (_exit: no thread joins, no heap teardown); for a command that is done. */
  exitNow(code: number): never

  // ---- objects, programs and maps for the suites (every failure throws a NativeError)
  objectOpen(path: string): number
  objectPrograms(handle: number): ProgramInfo[]
  objectMaps(handle: number): MapInfo[]
  objectSetAutoload(handle: number, program: string, autoload: boolean): void
  objectSetProgramType(handle: number, program: string, progType: number, expectedAttachType: number): void
  objectLoad(handle: number): void
  objectProgFd(handle: number, program: string): number
  objectMapFd(handle: number, map: string): number
  objectClose(handle: number): void
  /** run_cnt and run_time_ns count while bpf_stats is enabled (enableStats, or the sysctl). */
  progInfo(fd: number): ProgStats
  /** BPF_ENABLE_STATS: stats are collected while the returned fd is open (closeFd turns them off). */
  enableStats(): number
  closeFd(fd: number): void
  /** null when the key is absent; per-CPU maps: valueSize = roundUp8(value_size) × numPossibleCpus(). */
  mapLookup(fd: number, key: Buffer, valueSize: number): Buffer | null
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags?: number): void
  numPossibleCpus(): number

  // ---- the tracing suite (suite/trace_*.cc): one program of an object per handle, attached by kind; the trigger thread; ring consumers
  /** Opens `path`, loads only `program` (its type must fit `kind`; fentry/fexit need btfTarget). Throws a TraceError. */
  traceLoad(path: string, program: string, kind: TraceKind, btfTarget?: string, reuse?: Record<string, number>): TraceLoaded
  /**
   * bpf_program__attach_*: tracepoint "cat/name", raw_tracepoint "name", kprobe* "func", fentry/fexit "",
   * uprobe* "" (the trigger function) | "PATH:SYMBOL" | "PATH:OFFSET", in process `pid` only when given.
   * Returns what was attached. `reuse` on traceLoad: maps by name that share an earlier load's map fd.
   */
  traceAttach(handle: number, target?: string, pid?: number): string
  /** Destroys the link (true when there was one). */
  traceDetach(handle: number): boolean
  traceClose(handle: number): void
  /** Closes every handle (links first); returns how many there were. */
  traceCloseAll(): number
  traceOpenHandles(): {handle: number; program: string; kind: TraceKind; attached: boolean}[]
  /** (Re)starts the trigger thread pinned to `cpu` (SCHED_FIFO 1 when realtime); its tid names the trigger's events in the programs' maps. */
  triggerStart(cpu: number, realtime?: boolean): {tid: number; cpu: number; realtime: boolean; realtimeError?: string}
  /** `count` triggers in `chunks` timed chunks on the pinned thread, no JS in the loop; uprobe: `target` picks the function (0: the unprobed twin). */
  triggerRun(kind: 'syscall' | 'uprobe', count: number, chunks: number, target?: number): Promise<TriggerRun>
  triggerStop(): void
  /** Where uprobe trigger function `index` (ebpfperf_trace_target_N; 0 is the twin never probed) lives in this process; count: how many probe targets there are. */
  triggerTarget(index?: number): {path: string; offset: number; symbol: string; count: number}
  /** A consumer thread on a ring buffer of trc_event records, keeping the events of filterTgid. */
  ringStart(mapFd: number, filterTgid: number): number
  ringRead(handle: number): RingCounts
  ringStop(handle: number): RingCounts

  // ---- attaching inside a network namespace (net/netns_attach.cc; netns: a name under /run/netns, a path, or null for ours)
  netnsIfindex(netns: string | null, ifname: string): number
  /** An XDP link (close linkFd to detach). */
  netnsXdpAttach(netns: string | null, ifname: string, progFd: number, mode: 'native' | 'generic'): NetLink
  /** A tcx link (kernel 6.6+; close linkFd to detach). */
  netnsTcxAttach(netns: string | null, ifname: string, progFd: number, direction: 'ingress' | 'egress'): NetLink
  /** A cls_bpf direct-action filter on clsact (not fd-based: netnsTcDetach removes it). */
  netnsTcAttach(netns: string | null, ifname: string, progFd: number, direction: 'ingress' | 'egress'): TcFilter
  netnsTcDetach(netns: string | null, ifindex: number, direction: 'ingress' | 'egress', handle: number, priority: number, destroyHook: boolean): void
  /** bpf_map_update_elem from inside the namespace (devmap values are ifindexes resolved there). */
  netnsMapUpdate(netns: string | null, mapFd: number, key: Buffer, value: Buffer, flags?: number): void

  // ---- the topology's namespaces (net/netns_topology.cc), without a process
  /**
   * A new namespace with these sysctls (paths under /proc/sys) and lo up with alias `mark`, named /run/netns/name
   * only then (staged in stagingDir meanwhile). Throws an errno error; EEXIST: the name is taken.
   */
  netnsMake(stagingDir: string, name: string, mark: string, sysctls: Record<string, string>): void
  /** `ip netns del`: the namespace's name (or a staged binding's absolute path) unbound and removed. Throws an errno error; ENOENT: no such name. */
  netnsDelete(netns: string): void
  /** The links of a namespace (null: ours), names and aliases: what `ip link show` lists. */
  netnsLinks(netns: string | null): LinkName[]
  /** A veth pair whose ends go straight into their namespaces (null: ours), with these ifindexes (0: any) and queue counts. */
  netnsVethAdd(a: VethEnd, b: VethEnd): void
  /** Per link: alias, MTU, addresses (IPv6 without duplicate address detection), up; then the routes (main table). Throws naming the `ip` line. */
  netnsConfigure(netns: string | null, links: {ifname: string; alias: string; mtu?: number; addresses: string[]}[], routes: {to: string; via: string}[]): void
  /**
   * An ICMP echo from inside each probe's namespace (null: ours) to its address, all at once: a request every
   * intervalMs until the first reply (its TTL or hop limit) or timeoutMs (error says why).
   */
  netnsPingAsync(probes: {netns: string | null; family: 4 | 6; address: string}[], timeoutMs: number, intervalMs: number): Promise<{ttl?: number; error?: string}[]>

  // ---- the micro suite (suite/testrun.cc, buffer_run.cc): BPF_PROG_TEST_RUN on pinned threads; ring vs perf buffer
  /** Calibrated BPF_PROG_TEST_RUN samples on each CPU from a pinned thread, off the JS thread. Rejects with a NativeError. */
  testRunAsync(spec: TestRunSpec): Promise<TestRunReport>
  /** Producers pinned per CPU fire exactly `events` events each; a consumer thread drains them; every event counted. */
  bufferRunAsync(spec: BufferRunSpec): Promise<BufferRunReport>
  /** bpf_obj_get: fd of a pinned program or map (close it with closeFd). */
  objGet(path: string): number
  /** bpf_obj_pin: pins a map or program at path (bpffs) for another process; the caller unlinks it. */
  objPin(fd: number, path: string): void
  /** The buffer tests' consumer on its own (a consumer process, consumers/node), polling on a libuv pool thread; done settles after bufferConsumerStop. */
  bufferConsumerStart(spec: {mechanism: 'ringbuf' | 'perfbuf'; mapFd: number; perfPages?: number}): {handle: number; done: Promise<BufferConsumerCounts>}
  /** Asks the consumer to stop: it drains what is left, then its done promise resolves with the counts (per CPU by index). */
  bufferConsumerStop(handle: number): void

  // ---- the packet generator (suite/pktgen.cc): live-frames test runs from pinned threads inside a namespace
  /** Sends `frame` through bpf/gen.bpf.c from each CPU for durationMs (pps over all threads; 0 = full speed). */
  genRunAsync(spec: GenRunSpec): Promise<GenRunReport>
  /** Ends every running generator at its next test run. */
  genStop(): void
}

export interface GenRunSpec {
  progFd: number
  /** the namespace the frames leave from ('' = ours) and the port they are transmitted on */
  netns: string
  ifname: string
  frame: Buffer
  cpus: number[]
  pps?: number
  durationMs: number
  batchSize?: number
  /** frames per test run at full speed */
  chunk?: number
}

export interface GenRunReport {
  wallNs: number
  threads: {cpu: number; packets: number; calls: number; wallNs: number}[]
}

export interface TestRunSpec {
  progFd: number
  /** data_in (packet bytes for XDP / skb programs). */
  data?: Buffer
  /** ctx_in (e.g. the u64 arguments of a raw tracepoint program). */
  ctx?: Buffer
  cpus: number[]
  samples: number
  /** Iterations per test run; 0: calibrate so that a sample (all its runs) takes about targetNs. */
  repeat?: number
  targetNs?: number
  /** Mode repeat: test runs per sample, each timed by the kernel (runNs); default 1. */
  runs?: number
  /** XDP, mode repeat: hold the program in the XDP dispatcher during the call (default true): no dispatcher update around each test run. */
  holdDispatcher?: boolean
  /** repeat: one call with opts.repeat (XDP, skb); call: one call per iteration with BPF_F_TEST_RUN_ON_CPU, timed by bpf_stats (raw_tp). */
  mode?: 'repeat' | 'call'
  /** proof: one extra run per CPU with bpf_stats on (default); samples: bpf_stats on during the samples; off. */
  stats?: 'off' | 'proof' | 'samples'
  /** All CPUs at once (contention) instead of one after the other. */
  concurrent?: boolean
  /** With a fixed repeat: one uncounted run before the samples (default true; calibration always warms up). */
  warmup?: boolean
}

export interface TestRunSample {
  /** Iterations over the whole sample (repeat per run × runs). */
  repeat: number
  /** CLOCK_MONOTONIC around the syscall(s). */
  wallNs: number
  /** Mode repeat: the mean over the runs of opts.duration (the kernel's integer ns per iteration). */
  kernelNs: number
  /** Mode repeat: opts.duration of each run. */
  runNs?: number[]
  retval: number
  retvalMixed?: boolean
  /** run_cnt / run_time_ns deltas over the sample (0 while bpf_stats is off). */
  runCnt: number
  runTimeNs: number
}

export interface TestRunReport {
  mode: 'repeat' | 'call'
  onCpuFlag: boolean
  statsDuringSamples: boolean
  runsPerSample: number
  /** The program was held in the XDP dispatcher during the call; dispatcherHoldError: why not (XDP only). */
  dispatcherHold: boolean
  dispatcherHoldError?: string
  /** XDP not held: each sample was one run, whatever `runs` asked for. */
  runsFallback?: boolean
  /** repeat: iterations per test run. */
  cpus: {cpu: number; repeat: number; calibration: TestRunSample[]; samples: TestRunSample[]; proof?: TestRunSample}[]
}

export interface BufferRunSpec {
  mechanism: 'ringbuf' | 'perfbuf'
  mapFd: number
  progFd: number
  /** perfbuf: the marker program run once per producer CPU after the producers stop. */
  flushProgFd?: number
  /** Per-CPU array of struct micro_counters {produced, failed}. */
  countersFd: number
  producers: number[]
  /** Events per producer. */
  events: number
  /** Repetitions per BPF_PROG_TEST_RUN call. */
  batch?: number
  /** Events/s per producer; 0: as fast as possible. */
  rate?: number
  data: Buffer
  perfPages?: number
  consumerCpu?: number
  timeoutMs?: number
  /** What the producers (and the flush program) return when all went well (default 0). */
  expect?: number
  /** Another process consumes the (pinned) map: produce, and for a perf buffer flush, but do not consume. */
  external?: boolean
}

export interface BufferConsumerCounts {
  consumed: number[]
  lost: number[]
  markers: number
  foreign: number
  shortRecords: number
  lastEventNs: number
  buckets: [number, number][]
  /** CPU time of the consumer's polling thread (bufferConsumerStart), start to the end of its drain. */
  consumerCpuNs?: number
}

export interface BufferRunReport {
  producers: {
    cpu: number
    fired: number
    calls: number
    kernelNs: number
    wallNs: number
    timedOut: boolean
    badRetval?: number
    producedByProgram: number
    failedByProgram: number
    consumed: number
    lost: number
  }[]
  unexpected: number
  shortRecords: number
  markers: number
  bytes: number
  polls: number
  wakeups: number
  startNs: number
  producersDoneNs: number
  lastEventNs: number
  endNs: number
  latency: {count: number; sum: number; min: number; max: number; buckets: [number, number][]}
}

export interface NetLink {
  linkFd: number
  ifindex: number
}

export interface TcFilter {
  ifindex: number
  handle: number
  priority: number
  createdHook: boolean
}

export type TraceKind = 'tracepoint' | 'raw_tracepoint' | 'kprobe' | 'kretprobe' | 'kprobe.multi' | 'fentry' | 'fexit' | 'uprobe' | 'uretprobe'

export interface TraceLoaded {
  handle: number
  progFd: number
  progId: number
  progType: number
  maps: {name: string; fd: number; type: number; valueSize: number}[]
}

/** traceLoad/traceAttach failures: which kind of bad input (when it is one), plus errno and code. */
export interface TraceError extends NativeError {
  badObject?: boolean
  missingProgram?: boolean
  typeMismatch?: boolean
  missingTarget?: boolean
  badTarget?: boolean
  attachFailed?: boolean
}

export interface TriggerRun {
  /** Wall time of each chunk, ns. */
  chunkNs: number[]
  perChunk: number
  /** Context switches of the trigger thread during the run (involuntary: something else ran on its CPU). */
  involuntary: number
  voluntary: number
  cpuBefore: number
  cpuAfter: number
}

export interface RingCounts {
  events: number
  matched: number
  consumerCpuNs: number
  pollError?: string
}

/** A failure inside the addon: errno and code as the kernel gave them; verifierLog for rejected loads. */
export interface NativeError extends Error {
  errno: number
  code: string
  verifierLog?: string
}

export interface ProgramInfo {
  name: string
  section: string
  type: number
  typeName: string
  expectedAttachType: number
  autoload: boolean
}

export interface MapInfo {
  name: string
  type: number
  typeName: string
  keySize: number
  valueSize: number
  maxEntries: number
  fd: number // -1 until loaded
}

export interface ProgStats {
  id: number
  name: string
  type: number
  runCnt: number
  runTimeNs: number
  recursionMisses: number
  jited: boolean
}

/** A BPF ELF object opened with libbpf: pick programs, load, find fds; close() frees everything. */
export class BpfObject {
  private constructor(
    private readonly native: Native,
    private handle: number | undefined,
    readonly path: string,
  ) {}

  static open(path: string, native: Native = loadNative()): BpfObject {
    // a named pipe would keep libbpf waiting forever; a missing file stays libbpf's ENOENT
    const problem = existsSync(path) ? inputFileProblem(path) : undefined
    if (problem) throw new BadInputError(`${path}: ${problem}`)
    return new BpfObject(native, native.objectOpen(path), path)
  }

  private get h(): number {
    if (this.handle === undefined) throw new Error(`${this.path}: object already closed`)
    return this.handle
  }

  programs(): ProgramInfo[] {
    return this.native.objectPrograms(this.h)
  }

  maps(): MapInfo[] {
    return this.native.objectMaps(this.h)
  }

  /** Load only these programs (the others stay in the file). */
  only(names: string[]): this {
    for (const p of this.programs()) this.native.objectSetAutoload(this.h, p.name, names.includes(p.name))
    return this
  }

  setProgramType(program: string, progType: number, expectedAttachType = 0): this {
    this.native.objectSetProgramType(this.h, program, progType, expectedAttachType)
    return this
  }

  load(): this {
    this.native.objectLoad(this.h)
    return this
  }

  progFd(name: string): number {
    return this.native.objectProgFd(this.h, name)
  }

  mapFd(name: string): number {
    return this.native.objectMapFd(this.h, name)
  }

  close(): void {
    if (this.handle !== undefined) this.native.objectClose(this.handle)
    this.handle = undefined
  }
}

export interface VethEnd {
  netns: string | null
  ifname: string
  index: number
  queues?: number
}

export interface LinkName {
  ifindex: number
  ifname: string
  ifalias?: string
}

export type ProbeSpec =
  | {op: 'prog'; type: number}
  | {op: 'map'; type: number}
  | {op: 'helper'; progType: number; helperId: number}
  | {op: 'attach'; kind: AttachKind; target?: string}

interface Binding extends Omit<Native, 'probeAsync'> {
  probeAsync(op: string, a: number | string, b?: number | string, deferTeardown?: boolean): Promise<ProbeResult>
}

const BUILD_HINT = 'run: npm run build:native (needs g++, python3, pkg-config, libbpf-dev, libelf-dev, zlib1g-dev)'

export class NativeLoadError extends Error {
  /** Every path tried, in order. */
  readonly tried: string[]
  /** Why each path failed (same order as tried). */
  readonly reasons: string[]

  constructor(failures: Array<{path: string; reason: string}>) {
    const lines = failures.map((f) => `  - ${f.path}: ${f.reason}`)
    const body = failures.length > 0 ? `Tried:\n${lines.join('\n')}` : 'No candidate path to try.'
    super(`ebpfperf native addon (ebpfperf_native.node) could not be loaded. ${body}\nFix: ${BUILD_HINT}`)
    this.name = 'NativeLoadError'
    this.tried = failures.map((f) => f.path)
    this.reasons = failures.map((f) => f.reason)
  }
}

const ADDON_FILE = 'ebpfperf_native.node'
const EXPORTS = ['libbpfVersion', 'probeProgType', 'probeMapType', 'probeHelper', 'probeAttach', 'probeAsync', 'releaseProbes', 'mapFile', 'tryLock', 'exitNow'] as const

/** Addon search order: $EBPFPERF_NATIVE, then native/build/Release, then native/build/Debug. Exported for tests. */
export function _nativeCandidatePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const root = projectRoot()
  const paths: string[] = []
  if (env.EBPFPERF_NATIVE) paths.push(resolve(env.EBPFPERF_NATIVE))
  paths.push(join(root, 'native', 'build', 'Release', ADDON_FILE), join(root, 'native', 'build', 'Debug', ADDON_FILE))
  return [...new Set(paths)]
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.split('\n')[0]?.trim() || 'unknown error'
}

/** Loads the first addon that works out of `paths`; throws NativeLoadError listing every path and reason. Exported for tests. */
export function _loadNativeFrom(paths: string[]): Native {
  const require = createRequire(import.meta.url)
  const failures: Array<{path: string; reason: string}> = []
  for (const path of paths) {
    if (!existsSync(path)) {
      failures.push({path, reason: 'not found'})
      continue
    }
    let binding: Record<string, unknown>
    try {
      binding = require(path) as Record<string, unknown>
    } catch (error) {
      failures.push({path, reason: `cannot load: ${firstLine(error)}`})
      continue
    }
    const missing = EXPORTS.filter((name) => typeof binding?.[name] !== 'function')
    if (missing.length > 0) {
      failures.push({path, reason: `loaded, but it is not the ebpfperf addon (missing ${missing.join(', ')})`})
      continue
    }
    return wrap(binding as unknown as Binding)
  }
  throw new NativeLoadError(failures)
}

function wrap(binding: Binding): Native {
  return Object.freeze({
    ...binding,
    libbpfVersion: () => binding.libbpfVersion(),
    probeProgType: (progType: number) => binding.probeProgType(progType),
    probeMapType: (mapType: number) => binding.probeMapType(mapType),
    probeHelper: (progType: number, helperId: number) => binding.probeHelper(progType, helperId),
    probeAttach: (kind: AttachKind, target?: string) => binding.probeAttach(kind, target),
    probeAsync(spec: ProbeSpec, opts?: {deferTeardown?: boolean}) {
      switch (spec.op) {
        case 'prog':
        case 'map':
          return binding.probeAsync(spec.op, spec.type)
        case 'helper':
          return binding.probeAsync('helper', spec.progType, spec.helperId)
        case 'attach':
          return binding.probeAsync('attach', spec.kind, spec.target, opts?.deferTeardown === true)
      }
    },
    releaseProbes: () => handingOff(binding.releaseProbes()),
    mapFile: (path: string) => binding.mapFile(path),
  })
}

let cached: Native | undefined

/** The addon, loaded once (successful loads are cached; failures are retried on the next call). */
export function loadNative(): Native {
  if (!cached) cached = _loadNativeFrom(_nativeCandidatePaths())
  return cached
}

/** Teardown hand-offs in flight: ending the process before one forks would leave the slow detaches to its exit. */
const handOffs = new Set<Promise<unknown>>()
function handingOff<T>(p: Promise<T>): Promise<T> {
  handOffs.add(p)
  p.finally(() => handOffs.delete(p)).catch(() => {})
  return p
}

/** Ends a finished command at once through the addon when this process loaded it (after any hand-off in flight); else returns. */
export async function exitNowIfLoaded(code: number): Promise<void> {
  await Promise.allSettled(handOffs)
  cached?.exitNow(code)
}

/** For tests: what loadNative() returns from now on (a fake of Native; undefined: load the addon again). */
export function _useNative(native: Native | undefined): void {
  cached = native
}

export function nativeAvailable(): {ok: true} | {ok: false; error: NativeLoadError} {
  try {
    loadNative()
    return {ok: true}
  } catch (error) {
    if (error instanceof NativeLoadError) return {ok: false, error}
    throw error
  }
}
