// The only module that touches the native addon (native/ → ebpfperf_native.node).
//
// Every probe returns a ProbeResult instead of throwing for kernel errors, so
// callers can tell "loads but cannot attach" from "the kernel says EPERM",
// always with the errno. Bad argument types throw TypeError (from the addon).
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {projectRoot} from './util/paths.js'
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
  /** Any of the probes above on libuv's worker pool, so that independent probes overlap their kernel waits. */
  probeAsync(spec: ProbeSpec): Promise<ProbeResult>

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

export type ProbeSpec =
  | {op: 'prog'; type: number}
  | {op: 'map'; type: number}
  | {op: 'helper'; progType: number; helperId: number}
  | {op: 'attach'; kind: AttachKind; target?: string}

interface Binding extends Omit<Native, 'probeAsync'> {
  probeAsync(op: string, a: number | string, b?: number | string): Promise<ProbeResult>
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
const EXPORTS = ['libbpfVersion', 'probeProgType', 'probeMapType', 'probeHelper', 'probeAttach', 'probeAsync'] as const

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
    probeAsync(spec: ProbeSpec) {
      switch (spec.op) {
        case 'prog':
        case 'map':
          return binding.probeAsync(spec.op, spec.type)
        case 'helper':
          return binding.probeAsync('helper', spec.progType, spec.helperId)
        case 'attach':
          return binding.probeAsync('attach', spec.kind, spec.target)
      }
    },
  })
}

let cached: Native | undefined

/** The addon, loaded once (successful loads are cached; failures are retried on the next call). */
export function loadNative(): Native {
  if (!cached) cached = _loadNativeFrom(_nativeCandidatePaths())
  return cached
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
