// Where each attach type attaches: in the per-event layer, the points the trigger loop fires (getpgid's
// tracepoint, the sys_enter raw tracepoint, getpgid's kernel function, the addon's own function); in the
// workload layer, the receive path of the iperf3 server. User-given targets are checked here, before
// anything is loaded: a name that does not exist is bad input (exit 2).
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import type {TraceKind} from '../../native.js'
import {Btf, findVmlinuxBtf} from '../../kernel/btf.js'
import {findMount, readText} from '../../kernel/runtime.js'
import {run, which} from '../../exec.js'
import {BTF_KINDS, KFUNC_KINDS} from './kinds.js'
import {TracingInputError} from './programs.js'
import {readInputHead} from '../../util/input.js'

export interface TargetFlags {
  /** Kernel function for kprobe/kretprobe/kprobe.multi/fentry/fexit in the workload (default udp_recvmsg). */
  kfunc?: string
  /** CATEGORY/NAME for the tracepoint in the workload (default net/netif_receive_skb). */
  tracepoint?: string
  /** Raw tracepoint in the workload (default netif_receive_skb). */
  rawTracepoint?: string
  /** PATH:SYMBOL for uprobes in the workload (default iperf3's iperf_udp_recv in libiperf). */
  uprobe?: string
}

export type TargetMap = Partial<Record<TraceKind, string>>

export interface Targets {
  /** Attach target per kind for the per-event layer ('' for uprobes: the addon's trigger function). */
  event: TargetMap
  /** Why a kind has no per-event target. */
  eventWhy: TargetMap
  /** Attach target per kind for the workload layer. */
  workload: TargetMap
  workloadWhy: TargetMap
  /** The kernel function the syscall trigger runs through (kprobe/fentry target), when found. */
  syscallFunction?: string
}

/** The candidates for getpgid's syscall function, preferred first (BTF/kallsyms decide which exists). */
export function syscallFunctionCandidates(machine = process.arch): string[] {
  const arch = machine === 'x64' ? 'x64' : machine === 'arm64' ? 'arm64' : machine === 's390x' ? 's390x' : machine
  return [`__${arch}_sys_getpgid`, '__se_sys_getpgid', 'sys_getpgid', 'do_getpgid']
}

export const DEFAULT_WORKLOAD = {kfunc: 'udp_recvmsg', tracepoint: 'net/netif_receive_skb', rawTracepoint: 'netif_receive_skb', uprobeSymbol: 'iperf_udp_recv'}

/** Lazily loaded kernel symbol sources. */
export class KernelSymbols {
  private btf: Btf | null | undefined
  private kallsyms: string | null | undefined
  btfWhy = ''

  getBtf(): Btf | null {
    if (this.btf === undefined) {
      const {path, tried} = findVmlinuxBtf()
      try {
        this.btf = path ? Btf.fromFile(path) : null
        if (!path) this.btfWhy = `no vmlinux BTF (tried ${tried.join(', ')})`
      } catch (error) {
        this.btf = null
        this.btfWhy = (error as Error).message
      }
    }
    return this.btf
  }

  inBtf(func: string): boolean {
    return this.getBtf()?.findFunc(func) !== undefined
  }

  inKallsyms(func: string): boolean {
    if (this.kallsyms === undefined) {
      this.kallsyms = readText('/proc/kallsyms') ?? null
    }
    if (!this.kallsyms) return false
    return new RegExp(`^[0-9a-f]+ [tTwW] ${func.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').test(this.kallsyms)
  }

  rawTracepoint(name: string): boolean | undefined {
    const btf = this.getBtf()
    if (!btf) return undefined
    return btf.findByName(`btf_trace_${name}`, 'TYPEDEF').length > 0
  }
}

/** tracefs's mount point, or undefined when it is not mounted. */
export function tracefsDir(): string | undefined {
  return findMount('tracefs')?.target
}

export function tracepointExists(cat: string, name: string, dir = tracefsDir()): boolean | undefined {
  if (!dir) return undefined
  return existsSync(join(dir, 'events', cat, name))
}

/** libiperf's path (where iperf3's receive function lives), or iperf3 itself when it is linked statically. */
export async function iperfLibrary(): Promise<string | undefined> {
  const iperf = which('iperf3')
  if (!iperf) return undefined
  const r = await run('ldd', [iperf], {timeoutMs: 5000})
  const m = /libiperf\.so[.\d]*\s+=>\s+(\S+)/.exec(r.stdout)
  return m ? m[1] : iperf
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46])

/** A uprobe's binary must be an ELF file (an executable or a shared library) that we can read. */
function checkElf(bin: string, fail: (reason: string) => Error): void {
  if (!existsSync(bin)) throw fail('does not exist')
  const head = readInputHead(bin, 4, fail)
  if (!head.equals(ELF_MAGIC)) throw fail('is not an ELF executable or shared library (name a program or a .so, e.g. /usr/bin/iperf3:main)')
}

/**
 * Resolves every target for the kinds in play and checks the user's: a kernel function in neither BTF nor
 * kallsyms, a tracepoint tracefs does not list, a raw tracepoint BTF does not know, a uprobe binary that does
 * not exist or is not ELF → TracingInputError. (A uprobe symbol is checked by attaching once, in the preflight.)
 */
export async function resolveTargets(kinds: TraceKind[], flags: TargetFlags, syms = new KernelSymbols(), opts: {workload: boolean} = {workload: true}): Promise<Targets> {
  const t: Targets = {event: {}, eventWhy: {}, workload: {}, workloadWhy: {}}
  const kfuncKinds = kinds.filter((k) => KFUNC_KINDS.includes(k))
  // ---- user input first
  if (flags.kfunc !== undefined) {
    if (!/^[A-Za-z_][\w.]*$/.test(flags.kfunc)) throw new TracingInputError(`--kfunc ${flags.kfunc}: not a kernel function name`)
    if (!syms.inBtf(flags.kfunc) && !syms.inKallsyms(flags.kfunc)) throw new TracingInputError(`--kfunc ${flags.kfunc}: no such kernel function in the kernel's BTF or /proc/kallsyms (renamed, inlined or compiled out?): pick another, e.g. udp_recvmsg`)
  }
  if (flags.tracepoint !== undefined) {
    const m = /^([\w-]+)\/([\w-]+)$/.exec(flags.tracepoint)
    if (!m) throw new TracingInputError(`--tracepoint ${flags.tracepoint}: expected CATEGORY/NAME, e.g. net/netif_receive_skb`)
    if (tracepointExists(m[1], m[2]) === false) throw new TracingInputError(`--tracepoint ${flags.tracepoint}: no such tracepoint (not in ${tracefsDir()}/events): see ls ${tracefsDir()}/events/${m[1]}`)
  }
  if (flags.rawTracepoint !== undefined) {
    if (!/^\w+$/.test(flags.rawTracepoint)) throw new TracingInputError(`--raw-tracepoint ${flags.rawTracepoint}: expected a tracepoint name such as netif_receive_skb`)
    if (syms.rawTracepoint(flags.rawTracepoint) === false) throw new TracingInputError(`--raw-tracepoint ${flags.rawTracepoint}: no such raw tracepoint in the kernel's BTF (btf_trace_${flags.rawTracepoint})`)
  }
  let uprobeTarget: string | undefined
  if (flags.uprobe !== undefined) {
    const colon = flags.uprobe.lastIndexOf(':')
    if (colon <= 0 || colon === flags.uprobe.length - 1) throw new TracingInputError(`--uprobe ${flags.uprobe}: expected BINARY:SYMBOL (or BINARY:OFFSET)`)
    const bin = flags.uprobe.slice(0, colon)
    checkElf(bin, (reason) => new TracingInputError(`--uprobe ${flags.uprobe}: binary ${bin}${/^(is|does) /.test(reason) ? ' ' : ': '}${reason}`))
    uprobeTarget = flags.uprobe
  }

  // ---- per-event targets
  t.event.tracepoint = 'syscalls/sys_enter_getpgid'
  t.event.raw_tracepoint = 'sys_enter'
  t.event.uprobe = ''
  t.event.uretprobe = ''
  if (kfuncKinds.length > 0) {
    const cands = syscallFunctionCandidates()
    const inBtf = cands.find((f) => syms.inBtf(f))
    const inKsyms = cands.find((f) => syms.inKallsyms(f))
    t.syscallFunction = inBtf ?? inKsyms
    for (const k of kfuncKinds) {
      const f = BTF_KINDS.includes(k) ? inBtf : inKsyms ?? inBtf
      if (f) t.event[k] = f
      else t.eventWhy[k] = BTF_KINDS.includes(k) ? `getpgid's syscall function (${cands.join(', ')}) is not in the kernel's BTF${syms.btfWhy ? ` (${syms.btfWhy})` : ''}` : `getpgid's syscall function (${cands.join(', ')}) is not in /proc/kallsyms`
    }
  }

  // ---- workload targets
  if (opts.workload) {
    t.workload.tracepoint = flags.tracepoint ?? DEFAULT_WORKLOAD.tracepoint
    t.workload.raw_tracepoint = flags.rawTracepoint ?? DEFAULT_WORKLOAD.rawTracepoint
    const kfunc = flags.kfunc ?? DEFAULT_WORKLOAD.kfunc
    for (const k of kfuncKinds) {
      const ok = BTF_KINDS.includes(k) ? syms.inBtf(kfunc) : syms.inKallsyms(kfunc) || syms.inBtf(kfunc)
      if (ok) t.workload[k] = kfunc
      else t.workloadWhy[k] = `${kfunc} is not in the kernel's ${BTF_KINDS.includes(k) ? 'BTF' : 'kallsyms'}`
    }
    if (kinds.includes('uprobe') || kinds.includes('uretprobe')) {
      if (!uprobeTarget) {
        const lib = await iperfLibrary()
        if (lib) uprobeTarget = `${lib}:${DEFAULT_WORKLOAD.uprobeSymbol}`
      }
      for (const k of ['uprobe', 'uretprobe'] as const) {
        if (uprobeTarget) t.workload[k] = uprobeTarget
        else t.workloadWhy[k] = 'iperf3 not found (apt-get install -y iperf3), so there is no receive function to probe'
      }
    }
  }
  return t
}
