// A fake of the native addon (the Native interface of src/native.ts) for unit tests that run anywhere: no
// root, no built addon, no kernel features. It keeps the addon's contract (test/contract/native.ts states
// it; test/unit/native-fake.test.ts runs it against this fake, test/integration/native-contract.test.ts
// against the real addon):
//   - BPF objects: programs and maps come from a catalog recorded from the real addon (objects.json, by
//     path under bpf/.output); a file that is not in it fails like libbpf (ENOENT when missing, EINVAL otherwise);
//     handles, autoload, load, program and map fds behave as in core/object.cc;
//   - probes answer what `probes` says (default: everything ok);
//   - testRunAsync and bufferRunAsync return deterministic reports (`nsPerRun`, `retval`) shaped like the
//     runners' (calibration, samples, the bpf_stats proof; every buffer event accounted for);
//   - everything that needs a live kernel (tracing, network namespaces, the packet generator) rejects with
//     ENOSYS, so a unit test that reaches it fails loudly instead of pretending.
import {existsSync, readFileSync} from 'node:fs'
import {basename} from 'node:path'
import type {
  BufferRunReport,
  BufferRunSpec,
  MapInfo,
  Native,
  NativeError,
  ProbeResult,
  ProbeSpec,
  ProgramInfo,
  ProgStats,
  TestRunReport,
  TestRunSample,
  TestRunSpec,
} from '../../src/native.js'

export interface CatalogEntry {
  programs: ProgramInfo[]
  maps: MapInfo[]
}

export const CATALOG_FILE = new URL('objects.json', import.meta.url).pathname
export const RECORD_HINT = 'record it with: EBPFPERF_RECORD_OBJECTS=1 npx mocha test/integration/native-contract.test.ts'

/** The recorded catalog: file name → programs and maps as the real addon lists them. */
export function recordedCatalog(): Record<string, CatalogEntry> {
  return JSON.parse(readFileSync(CATALOG_FILE, 'utf8')) as Record<string, CatalogEntry>
}

/** The entry whose key (a path under bpf/.output: "micro_hom.bpf.o", "regress/micro_helpers.bpf.o") ends `path`; the longest wins. */
export function catalogEntry(catalog: Record<string, CatalogEntry>, path: string): CatalogEntry | undefined {
  const key = Object.keys(catalog)
    .filter((k) => path === k || path.endsWith(`/${k}`))
    .sort((a, b) => b.length - a.length)[0]
  return key === undefined ? undefined : catalog[key]
}

export interface FakeOptions {
  /** Objects by file name (default: the recorded catalog). */
  objects?: Record<string, CatalogEntry>
  /** What each probe answers (default: ok). */
  probes?: (spec: ProbeSpec) => ProbeResult
  /** Test runs: ns per program run, by program name (default 10). */
  nsPerRun?: (program: string) => number
  /** Test runs: the program's return value, by program name and CPU (default 0). */
  retval?: (program: string, cpu: number) => number
  possibleCpus?: number
}

export function nativeError(errno: number, code: string, message: string): NativeError {
  return Object.assign(new Error(`${message} (${code})`), {errno, code})
}

const notHere = (what: string) => nativeError(38, 'ENOSYS', `${what}: the fake addon has no kernel`)

interface FakeObject {
  path: string
  entry: CatalogEntry
  autoload: Map<string, boolean>
  progFds?: Map<string, number>
  mapFds?: Map<string, number>
}

export class FakeNative implements Native {
  readonly calls: string[] = []
  private readonly objects = new Map<number, FakeObject>()
  private readonly programOf = new Map<number, string>()
  private readonly stats = new Map<number, {runCnt: number; runTimeNs: number}>()
  private nextHandle = 1
  private nextFd = 100
  private statsFds = new Set<number>()

  constructor(private readonly opts: FakeOptions = {}) {}

  private catalog(): Record<string, CatalogEntry> {
    return this.opts.objects ?? recordedCatalog()
  }

  libbpfVersion(): string {
    return '1.1'
  }

  private probe(spec: ProbeSpec): ProbeResult {
    this.calls.push(`probe ${spec.op}`)
    return this.opts.probes?.(spec) ?? {ok: true, stage: 'ok', errno: 0, code: '', message: 'fake: ok'}
  }

  probeProgType(type: number): ProbeResult {
    return this.probe({op: 'prog', type})
  }

  probeMapType(type: number): ProbeResult {
    return this.probe({op: 'map', type})
  }

  probeHelper(progType: number, helperId: number): ProbeResult {
    return this.probe({op: 'helper', progType, helperId})
  }

  probeAttach(kind: Parameters<Native['probeAttach']>[0], target?: string): ProbeResult {
    return this.probe({op: 'attach', kind, target})
  }

  async probeAsync(spec: ProbeSpec): Promise<ProbeResult> {
    return this.probe(spec)
  }

  async releaseProbes(): Promise<{fds: number; pid: number}> {
    return {fds: 0, pid: 0}
  }

  mapFile(path: string): Buffer | undefined {
    return existsSync(path) ? readFileSync(path) : undefined
  }

  tryLock(): boolean {
    return true // the only process that asks, in a unit test
  }

  exitNow(code: number): never {
    throw new Error(`exitNow(${code}) in a unit test: a command under test must not end the test process`)
  }

  // ---- objects

  objectOpen(path: string): number {
    if (typeof path !== 'string') throw new TypeError('path must be a string')
    this.calls.push(`objectOpen ${basename(path)}`)
    const entry = catalogEntry(this.catalog(), path)
    if (!entry) {
      if (!existsSync(path)) throw nativeError(2, 'ENOENT', `${path}: cannot open as a BPF object: No such file or directory`)
      throw nativeError(22, 'EINVAL', `${path}: cannot open as a BPF object (not in the fake's catalog: ${RECORD_HINT})`)
    }
    const h = this.nextHandle++
    this.objects.set(h, {path, entry, autoload: new Map(entry.programs.map((p) => [p.name, true]))})
    return h
  }

  private obj(h: number): FakeObject {
    if (typeof h !== 'number') throw new TypeError('object handle must be a number')
    const o = this.objects.get(h)
    if (!o) throw new TypeError('unknown or closed object handle')
    return o
  }

  private program(o: FakeObject, name: string): ProgramInfo {
    const p = o.entry.programs.find((x) => x.name === name)
    if (!p) throw nativeError(2, 'ENOENT', `no program named ${name} in the object: No such file or directory`)
    return p
  }

  objectPrograms(h: number): ProgramInfo[] {
    const o = this.obj(h)
    return o.entry.programs.map((p) => ({...p, autoload: o.autoload.get(p.name) ?? true}))
  }

  objectMaps(h: number): MapInfo[] {
    const o = this.obj(h)
    return o.entry.maps.map((m) => ({...m, fd: o.mapFds?.get(m.name) ?? -1}))
  }

  objectSetAutoload(h: number, program: string, autoload: boolean): void {
    const o = this.obj(h)
    this.program(o, program)
    o.autoload.set(program, autoload)
  }

  objectSetProgramType(h: number, program: string): void {
    this.program(this.obj(h), program)
  }

  objectLoad(h: number): void {
    const o = this.obj(h)
    this.calls.push(`objectLoad ${basename(o.path)}`)
    o.mapFds = new Map(o.entry.maps.map((m) => [m.name, this.nextFd++]))
    o.progFds = new Map()
    for (const p of o.entry.programs) {
      if (!o.autoload.get(p.name)) continue
      const fd = this.nextFd++
      o.progFds.set(p.name, fd)
      this.programOf.set(fd, p.name)
      this.stats.set(fd, {runCnt: 0, runTimeNs: 0})
    }
  }

  objectProgFd(h: number, program: string): number {
    const o = this.obj(h)
    this.program(o, program)
    const fd = o.progFds?.get(program)
    if (fd === undefined) throw nativeError(9, 'EBADF', `program ${program} is not loaded: Bad file descriptor`)
    return fd
  }

  objectMapFd(h: number, map: string): number {
    const o = this.obj(h)
    if (!o.entry.maps.some((m) => m.name === map)) throw nativeError(2, 'ENOENT', `no map named ${map} in the object: No such file or directory`)
    const fd = o.mapFds?.get(map)
    if (fd === undefined) throw nativeError(9, 'EBADF', `map ${map} is not created yet (load the object first): Bad file descriptor`)
    return fd
  }

  objectClose(h: number): void {
    const o = this.obj(h)
    for (const fd of o.progFds?.values() ?? []) this.programOf.delete(fd)
    this.objects.delete(h)
  }

  progInfo(fd: number): ProgStats {
    const name = this.programOf.get(fd)
    const s = this.stats.get(fd)
    if (!name || !s) throw nativeError(9, 'EBADF', 'bpf_obj_get_info_by_fd: Bad file descriptor')
    return {id: fd, name: name.slice(0, 15), type: 6, runCnt: s.runCnt, runTimeNs: s.runTimeNs, recursionMisses: 0, jited: true}
  }

  enableStats(): number {
    const fd = this.nextFd++
    this.statsFds.add(fd)
    return fd
  }

  closeFd(fd: number): void {
    this.statsFds.delete(fd)
  }

  mapLookup(): Buffer | null {
    return null
  }

  mapUpdate(): void {}

  numPossibleCpus(): number {
    return this.opts.possibleCpus ?? 2
  }

  objGet(path: string): number {
    throw nativeError(2, 'ENOENT', `bpf_obj_get(${path}): No such file or directory`)
  }

  // ---- runners

  async testRunAsync(spec: TestRunSpec): Promise<TestRunReport> {
    const program = this.programOf.get(spec.progFd)
    if (!program) throw nativeError(9, 'EBADF', 'BPF_PROG_TEST_RUN: Bad file descriptor')
    this.calls.push(`testRun ${program}`)
    const ns = this.opts.nsPerRun?.(program) ?? 10
    const mode = spec.mode ?? 'repeat'
    const runs = mode === 'repeat' ? (spec.runs ?? 1) : 1
    const fixed = spec.repeat !== undefined && spec.repeat > 0
    const perRun = fixed ? spec.repeat! : Math.max(1, Math.round((spec.targetNs ?? 1e6) / ns / runs))
    const stats = spec.stats ?? 'proof'
    const sample = (cpu: number, counted: boolean): TestRunSample => {
      const repeat = perRun * runs
      const retval = this.opts.retval?.(program, cpu) ?? 0
      const s: TestRunSample = {repeat, wallNs: repeat * ns + 1000, kernelNs: ns, retval, runCnt: counted ? repeat : 0, runTimeNs: counted ? repeat * ns : 0}
      if (mode === 'repeat') s.runNs = Array.from({length: runs}, () => ns)
      return s
    }
    return {
      mode,
      onCpuFlag: mode === 'call',
      statsDuringSamples: stats === 'samples' || mode === 'call',
      runsPerSample: runs,
      dispatcherHold: true,
      cpus: spec.cpus.map((cpu) => ({
        cpu,
        repeat: perRun,
        calibration: fixed ? [] : [sample(cpu, false)],
        samples: Array.from({length: spec.samples}, () => sample(cpu, stats === 'samples' || mode === 'call')),
        proof: stats === 'proof' && mode === 'repeat' ? sample(cpu, true) : undefined,
      })),
    }
  }

  async bufferRunAsync(spec: BufferRunSpec): Promise<BufferRunReport> {
    const ns = this.opts.nsPerRun?.(this.programOf.get(spec.progFd) ?? '') ?? 100
    const producers = spec.producers.map((cpu) => ({
      cpu,
      fired: spec.events,
      calls: Math.ceil(spec.events / (spec.batch ?? 1)),
      kernelNs: ns,
      wallNs: spec.events * ns,
      timedOut: false,
      producedByProgram: spec.events,
      failedByProgram: 0,
      consumed: spec.external ? 0 : spec.events, // external: another process consumed them
      lost: 0,
    }))
    const total = spec.events * spec.producers.length
    const end = total * ns
    return {
      producers,
      unexpected: 0,
      shortRecords: 0,
      markers: spec.mechanism === 'perfbuf' ? spec.producers.length : 0,
      bytes: total * spec.data.length,
      polls: 1,
      wakeups: 1,
      startNs: 0,
      producersDoneNs: end,
      lastEventNs: end,
      endNs: end,
      latency: {count: total, sum: total * 1000, min: 1000, max: 1000, buckets: [[1000, total]]},
    }
  }

  // ---- what needs a live kernel

  objPin(): never {
    throw notHere('objPin')
  }
  bufferConsumerStart(): never {
    throw notHere('bufferConsumerStart')
  }
  bufferConsumerStop(): never {
    throw notHere('bufferConsumerStop')
  }
  traceLoad(): never {
    throw notHere('traceLoad')
  }
  traceAttach(): never {
    throw notHere('traceAttach')
  }
  traceDetach(): boolean {
    return false
  }
  traceClose(): void {}
  traceCloseAll(): number {
    return 0
  }
  traceOpenHandles(): [] {
    return []
  }
  triggerStart(): never {
    throw notHere('triggerStart')
  }
  async triggerRun(): Promise<never> {
    throw notHere('triggerRun')
  }
  triggerStop(): void {}
  triggerTarget(): never {
    throw notHere('triggerTarget')
  }
  ringStart(): never {
    throw notHere('ringStart')
  }
  ringRead(): never {
    throw notHere('ringRead')
  }
  ringStop(): never {
    throw notHere('ringStop')
  }
  netnsIfindex(): never {
    throw notHere('netnsIfindex')
  }
  netnsXdpAttach(): never {
    throw notHere('netnsXdpAttach')
  }
  netnsTcxAttach(): never {
    throw notHere('netnsTcxAttach')
  }
  netnsTcAttach(): never {
    throw notHere('netnsTcAttach')
  }
  netnsTcDetach(): never {
    throw notHere('netnsTcDetach')
  }
  netnsMapUpdate(): never {
    throw notHere('netnsMapUpdate')
  }
  netnsMake(): never {
    throw notHere('netnsMake')
  }
  netnsDelete(): never {
    throw notHere('netnsDelete')
  }
  netnsLinks(): never {
    throw notHere('netnsLinks')
  }
  netnsVethAdd(): never {
    throw notHere('netnsVethAdd')
  }
  netnsConfigure(): never {
    throw notHere('netnsConfigure')
  }
  async netnsPingAsync(): Promise<never> {
    throw notHere('netnsPingAsync')
  }
  async genRunAsync(): Promise<never> {
    throw notHere('genRunAsync')
  }
  genStop(): void {}
}
