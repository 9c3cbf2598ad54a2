// The fast paths under test: the built-in XDP and TC forwarders (bpf/accel.bpf.c) and the user's own
// object, loaded once, attached to every DUT interface's ingress for a run and detached after it. XDP and
// tcx attachments are BPF links held by fd (they vanish with the process); clsact filters are removed
// explicitly (and go with the namespace at teardown at the latest).
import {existsSync, statSync} from 'node:fs'
import {basename, join} from 'node:path'
import {BpfObject, loadNative, type Native, type NativeError, type ProgramInfo, type TcFilter} from '../../native.js'
import {MAP_TYPES, PROG_TYPES} from '../../kernel/uapi.js'
import {BadInputError} from '../../util/errors.js'
import {projectRoot} from '../../util/paths.js'
import {describeFsError} from '../../util/input.js'
import {ACCEL_COUNT_SIZE, readAccelStats, type SlotCounts} from './counters.js'

export type Hook = 'xdp' | 'tc'
export type XdpMode = 'native' | 'generic'
export type TcAttach = 'tcx' | 'clsact'

export const BUILTIN_OBJECT = () => join(projectRoot(), 'bpf', '.output', 'accel.bpf.o')
export const BUILTIN_PROGRAMS: Record<Hook, string> = {xdp: 'xdp_fwd', tc: 'tc_fwd'}
const HOOK_TYPES: Record<Hook, {type: number; name: string; section: string}> = {
  xdp: {type: PROG_TYPES.xdp, name: 'BPF_PROG_TYPE_XDP', section: 'SEC("xdp")'},
  tc: {type: PROG_TYPES.sched_cls, name: 'BPF_PROG_TYPE_SCHED_CLS', section: 'SEC("tc")'},
}

/** A DUT interface the fast path sits on. */
export interface DutPort {
  ifname: string
  ifindex: number
}

export interface ProgCounters {
  runCnt: number
  runTimeNs: number
}

/** One loaded program ready to attach to the DUT's ports on its hook. */
export class FastPath {
  private links: number[] = []
  private filters: TcFilter[] = []

  constructor(
    readonly native: Native,
    readonly hook: Hook,
    readonly program: string,
    readonly progFd: number,
    /** fd of a per-CPU `accel_stats` map with our layout, if the object has one. */
    readonly statsFd: number | undefined,
    readonly netns: string | null,
    readonly ports: DutPort[],
    readonly how: {xdpMode: XdpMode; tcAttach: TcAttach},
  ) {}

  get attached(): boolean {
    return this.links.length > 0 || this.filters.length > 0
  }

  /** Ingress of every DUT port; on failure, what was attached is detached again. */
  attach(): void {
    if (this.attached) return
    try {
      for (const p of this.ports) {
        if (this.hook === 'xdp') this.links.push(this.native.netnsXdpAttach(this.netns, p.ifname, this.progFd, this.how.xdpMode).linkFd)
        else if (this.how.tcAttach === 'tcx') this.links.push(this.native.netnsTcxAttach(this.netns, p.ifname, this.progFd, 'ingress').linkFd)
        else this.filters.push(this.native.netnsTcAttach(this.netns, p.ifname, this.progFd, 'ingress'))
      }
    } catch (error) {
      this.detach()
      throw error
    }
  }

  /** Never throws: a port or namespace that is already gone is detached as far as we are concerned. */
  detach(): string[] {
    const errors: string[] = []
    for (const fd of this.links.splice(0)) this.native.closeFd(fd)
    for (const f of this.filters.splice(0)) {
      try {
        this.native.netnsTcDetach(this.netns, f.ifindex, 'ingress', f.handle, f.priority, f.createdHook)
      } catch (error) {
        errors.push((error as Error).message)
      }
    }
    return errors
  }

  counters(): SlotCounts | undefined {
    return this.statsFd === undefined ? undefined : readAccelStats(this.native, this.statsFd)
  }

  progCounters(): ProgCounters {
    const i = this.native.progInfo(this.progFd)
    return {runCnt: i.runCnt, runTimeNs: i.runTimeNs}
  }
}

/** A loaded object and the programs of it the suite uses. */
export interface LoadedObject {
  obj: BpfObject
  path: string
  programs: Partial<Record<Hook, string>>
  statsFd?: number
  devmaps: {name: string; fd: number; hash: boolean; maxEntries: number; keySize: number; valueSize: number}[]
}

function statsMapOf(obj: BpfObject): number | undefined {
  const m = obj.maps().find((x) => x.name === 'accel_stats')
  if (!m || m.type !== MAP_TYPES.percpu_array || m.valueSize !== ACCEL_COUNT_SIZE || m.keySize !== 4) return undefined
  return obj.mapFd('accel_stats')
}

function devmapsOf(obj: BpfObject): LoadedObject['devmaps'] {
  return obj
    .maps()
    .filter((m) => m.type === MAP_TYPES.devmap || m.type === MAP_TYPES.devmap_hash)
    .map((m) => ({name: m.name, fd: obj.mapFd(m.name), hash: m.type === MAP_TYPES.devmap_hash, maxEntries: m.maxEntries, keySize: m.keySize, valueSize: m.valueSize}))
}

/** The built-in forwarders (both programs; a build that is missing is a setup problem, not bad input). */
export function loadBuiltin(hooks: Hook[], native: Native = loadNative()): LoadedObject {
  const path = BUILTIN_OBJECT()
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build:bpf`)
  const obj = BpfObject.open(path, native)
  try {
    const names = hooks.map((h) => BUILTIN_PROGRAMS[h])
    obj.only(names).load()
    return {obj, path, programs: Object.fromEntries(hooks.map((h) => [h, BUILTIN_PROGRAMS[h]])), statsFd: statsMapOf(obj), devmaps: devmapsOf(obj)}
  } catch (error) {
    obj.close()
    throw error
  }
}

const typeLabel = (p: ProgramInfo) => p.typeName.replace(/^BPF_PROG_TYPE_/, '').toLowerCase()

/**
 * The user's object: a BPF ELF file, the program to use (named, or the only one of the hook's type),
 * of the right type for the hook, accepted by the verifier. Every failure is a BadInputError naming the
 * file and what to do (the verifier's last lines included).
 */
export function loadUserObject(path: string, opts: {program?: string; hook?: Hook}, native: Native = loadNative()): LoadedObject & {hook: Hook; program: string} {
  const flag = `--object ${path}`
  try {
    if (statSync(path).isDirectory()) throw new BadInputError(`${flag}: is a directory, not a BPF object file`)
  } catch (error) {
    if (error instanceof BadInputError) throw error
    throw new BadInputError(`${flag}: ${describeFsError(error)}`)
  }
  let obj: BpfObject
  try {
    obj = BpfObject.open(path, native)
  } catch (error) {
    const e = error as NativeError
    const why = /\(libbpf: (.*)\): [^:]*$/.exec(e.message)?.[1] ?? e.code
    throw new BadInputError(`${flag}: not a BPF ELF object (${why}); build one with clang -target bpf -O2 -g -c prog.bpf.c`)
  }
  try {
    const progs = obj.programs()
    const list = progs.map((p) => `${p.name} (${typeLabel(p)})`).join(', ') || 'none'
    if (progs.length === 0) throw new BadInputError(`${flag}: the object has no programs`)
    let prog: ProgramInfo | undefined
    if (opts.program) {
      prog = progs.find((p) => p.name === opts.program)
      if (!prog) throw new BadInputError(`${flag}: no program named ${opts.program} (programs: ${list})`)
    } else {
      const fits = opts.hook ? progs.filter((p) => p.type === HOOK_TYPES[opts.hook!].type) : progs.filter((p) => p.type === PROG_TYPES.xdp || p.type === PROG_TYPES.sched_cls)
      if (fits.length !== 1) {
        const what = opts.hook ? `${opts.hook} program` : 'XDP or TC program'
        throw new BadInputError(`${flag}: ${fits.length === 0 ? `no ${what}` : `more than one ${what}`} in it (programs: ${list}); choose one with --program NAME`)
      }
      prog = fits[0]
    }
    const hook: Hook = opts.hook ?? (prog.type === PROG_TYPES.xdp ? 'xdp' : prog.type === PROG_TYPES.sched_cls ? 'tc' : (undefined as never))
    if (!hook) throw new BadInputError(`${flag}: program ${prog.name} is ${prog.typeName}; the accelerator attaches XDP (${HOOK_TYPES.xdp.section}) or TC (${HOOK_TYPES.tc.section}) programs`)
    const want = HOOK_TYPES[hook]
    if (prog.type !== want.type) throw new BadInputError(`${flag}: program ${prog.name} is ${prog.typeName}, but --hook ${hook} needs ${want.name} (${want.section})`)
    obj.only([prog.name])
    try {
      obj.load()
    } catch (error) {
      const e = error as NativeError
      // the verifier's own lines (libbpf's wrapping lines say nothing more)
      const log = (e.verifierLog ?? '').split('\n').filter((l) => l.trim() && !/^(libbpf:|-- )/.test(l.trim())).slice(-6)
      if (log.length === 0) throw new BadInputError(`${flag}: loading ${prog.name} failed: ${e.message}`)
      throw new BadInputError(`${flag}: the verifier rejected ${prog.name} (${e.code || 'load failed'}); the log ends with:\n${log.map((l) => `    ${l}`).join('\n')}`)
    }
    return {obj, path, programs: {[hook]: prog.name}, statsFd: statsMapOf(obj), devmaps: devmapsOf(obj), hook, program: prog.name}
  } catch (error) {
    obj.close()
    throw error
  }
}

/**
 * Fills every devmap of the object with the DUT's egress ports (key and value: the ifindex, as the
 * built-in forwarder and xdp-tools' xdp_fwd expect). Runs inside the DUT's namespace: the kernel resolves
 * the ifindex there. Returns notes for maps it could not fill.
 */
export function fillDevmaps(native: Native, o: LoadedObject, netns: string | null, ports: DutPort[]): string[] {
  const notes: string[] = []
  for (const m of o.devmaps) {
    if (m.keySize !== 4 || m.valueSize < 4) {
      notes.push(`devmap ${m.name} has key size ${m.keySize} and value size ${m.valueSize} (want 4 and ≥ 4): not filled`)
      continue
    }
    for (const p of ports) {
      if (!m.hash && p.ifindex >= m.maxEntries) {
        notes.push(`devmap ${m.name} has ${m.maxEntries} entries, too few for ifindex ${p.ifindex} of ${p.ifname}: not filled`)
        continue
      }
      const key = Buffer.alloc(4)
      key.writeUInt32LE(p.ifindex)
      const value = Buffer.alloc(m.valueSize) // struct bpf_devmap_val: ifindex, then no program (fd 0)
      value.writeUInt32LE(p.ifindex)
      native.netnsMapUpdate(netns, m.fd, key, value)
    }
  }
  return notes
}

export function describeObject(o: LoadedObject, program: string): string {
  return `${basename(o.path)}:${program}`
}
