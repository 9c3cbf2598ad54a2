// The live half of `doctor --object`: each program loaded on its own through the addon (libbpf does the
// CO-RE relocations against the running kernel's BTF, then the verifier runs), the instructions the
// verifier processed (fdinfo's verified_insns), the log's last lines and the errno on rejection, then
// for the tracing kinds an attach to the section's target (or a placeholder one) and a detach.
import {readFileSync} from 'node:fs'
import {BpfObject, type Native, type NativeError, type TraceError} from '../native.js'
import type {SectionInfo} from './object-sections.js'

export interface LiveResult {
  loaded: boolean
  /** program type libbpf gave it */
  progType?: string
  /** instructions the verifier processed (kernel ≥ 5.16) */
  insns?: number
  errno?: number
  code?: string
  message?: string
  /** the verifier's last lines on rejection (empty: refused before it ran) */
  log?: string[]
  /** libbpf's own last lines on rejection */
  libbpfLog?: string[]
  /** true: attached and detached; false: failed; undefined: not tried */
  attached?: boolean
  attachTarget?: string
  attachError?: {errno: number; code: string; message: string}
  /** why attaching was not tried */
  attachSkipped?: string
}

/** verified_insns of a loaded program, from /proc/self/fdinfo (undefined on kernels before 5.16). */
export function verifiedInsns(fd: number): number | undefined {
  try {
    const m = /^verified_insns:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

/**
 * The verifier's last lines (between libbpf's BEGIN/END PROG LOAD LOG markers, which the addon's tail may
 * cut at the start) and libbpf's own lines; both without libbpf's prefixes.
 */
export function splitLog(log: string | undefined, n = 8): {verifier: string[]; libbpf: string[]} {
  const lines = (log ?? '').split('\n').map((l) => l.replace(/^libbpf: (prog '[^']*': )?/, '').trimEnd()).filter((l) => l.trim())
  const begin = lines.findIndex((l) => /-- BEGIN PROG LOAD LOG --/.test(l))
  const end = lines.findIndex((l) => /-- END PROG LOAD LOG --/.test(l))
  if (end < 0 && begin < 0) return {verifier: [], libbpf: lines.slice(-n)}
  const from = begin >= 0 && begin < (end < 0 ? lines.length : end) ? begin + 1 : 0
  const to = end < 0 ? lines.length : end
  const verifier = lines.slice(from, to)
  const libbpf = [...lines.slice(0, begin >= 0 ? begin : 0), ...lines.slice(end < 0 ? lines.length : end + 1)]
  return {verifier: verifier.slice(-n), libbpf: libbpf.slice(-3)}
}

function failure(error: unknown): LiveResult {
  const e = error as NativeError
  const {verifier, libbpf} = splitLog(e.verifierLog)
  return {loaded: false, errno: e.errno, code: e.code, message: e.message.split('\n')[0], log: verifier, libbpfLog: libbpf}
}

/** Loads (and where the addon can, attaches) one program; never throws for kernel refusals. */
export function loadProgram(native: Native, path: string, program: string, s: SectionInfo | undefined, target: string | undefined): LiveResult {
  if (s?.trace) return traceProgram(native, path, program, s, target)
  let obj: BpfObject | undefined
  try {
    obj = BpfObject.open(path, native).only([program])
    const p = obj.programs().find((x) => x.name === program)
    obj.load()
    const fd = obj.progFd(program)
    return {loaded: true, progType: p?.typeName, insns: verifiedInsns(fd), attachSkipped: attachSkipReason(s)}
  } catch (error) {
    return failure(error)
  } finally {
    obj?.close()
  }
}

function attachSkipReason(s: SectionInfo | undefined): string {
  if (!s) return 'libbpf does not know the section: the loader must set the type'
  if (s.targetKind === 'none') return 'attaches to an interface, cgroup or socket the loader chooses: load checked only'
  return 'the addon does not attach this kind: load checked only'
}

function traceProgram(native: Native, path: string, program: string, s: SectionInfo, target: string | undefined): LiveResult {
  const btfTarget = s.trace === 'fentry' || s.trace === 'fexit' ? target : undefined
  let handle: number | undefined
  try {
    const loaded = native.traceLoad(path, program, s.trace!, btfTarget)
    handle = loaded.handle
    const out: LiveResult = {loaded: true, progType: s.progType, insns: verifiedInsns(loaded.progFd)}
    if (target === undefined) return {...out, attachSkipped: 'no target in the section and no placeholder for this kind'}
    try {
      out.attachTarget = native.traceAttach(handle, s.trace === 'fentry' || s.trace === 'fexit' ? '' : target) || target || 'the addon\'s trigger function'
      out.attached = true
    } catch (error) {
      const e = error as TraceError
      out.attached = false
      out.attachTarget = target || 'the addon\'s trigger function'
      out.attachError = {errno: e.errno, code: e.code, message: e.message.split('\n')[0]}
    }
    return out
  } catch (error) {
    return failure(error)
  } finally {
    if (handle !== undefined) native.traceClose(handle)
  }
}
