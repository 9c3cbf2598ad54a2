// Why the kernel refused a program of an object, from what this run measured: the errno and stage, an
// empty or non-empty verifier log, lockdown, capabilities, active LSMs, which sibling programs of the
// same type did load, and the kernel's PMUs. Returned as doctor fixes (text, and a command where one
// helps), most specific first.
import {existsSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {MOUNTS, findMount, hasCap} from '../kernel/runtime.js'
import type {Fix} from './evaluate.js'
import type {Facts} from './facts.js'
import type {ObjectProgram} from './object-elf.js'
import type {LiveResult} from './object-live.js'
import type {SectionInfo} from './object-sections.js'

const TRAMPOLINE = new Set(['BPF_TRACE_FENTRY', 'BPF_TRACE_FEXIT', 'BPF_MODIFY_RETURN', 'BPF_LSM_MAC'])

export function causeOfRefusal(p: ObjectProgram, s: SectionInfo | undefined, r: LiveResult, facts: Facts, all: Map<string, LiveResult>): Fix[] {
  if (!r.loaded) return loadCause(p, s, r, facts, all)
  return attachCause(s, r, facts)
}

let peeked: {lockdown?: string; lsms?: string[]} | undefined

/**
 * Lockdown mode and active LSMs when securityfs is not mounted here: read in a private mount namespace
 * (unshare -m), so nothing stays mounted after.
 */
export function peekSecurityfs(): {lockdown?: string; lsms?: string[]} {
  if (peeked) return peeked
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t securityfs securityfs /sys/kernel/security && cat /sys/kernel/security/lockdown /sys/kernel/security/lsm'], {encoding: 'utf8', timeout: 5000})
  const [lock, lsm] = (r.status === 0 ? r.stdout : '').split('\n')
  peeked = {lockdown: /\[(\w+)\]/.exec(lock ?? '')?.[1], lsms: lsm ? lsm.trim().split(',') : undefined}
  return peeked
}

function environment(facts: Facts): string {
  const caps = ['CAP_SYS_ADMIN', 'CAP_BPF', 'CAP_PERFMON'].filter((c) => hasCap(c as 'CAP_BPF', facts.capEff))
  const peek = facts.lockdown && facts.lsms ? {} : peekSecurityfs()
  const mode = facts.lockdown ?? peek.lockdown
  const active = facts.lsms ?? peek.lsms
  const lockdown = mode ? `lockdown "${mode}"${mode === 'integrity' ? ' (integrity blocks bpf_probe_write_user, not tracing)' : ''}` : 'lockdown unknown'
  const lsms = active ? `LSMs ${active.join(',')}` : 'LSMs unknown'
  return `${lockdown}; ${lsms}; capabilities held: ${caps.join(', ') || 'none'}`
}

function loadCause(p: ObjectProgram, s: SectionInfo | undefined, r: LiveResult, facts: Facts, all: Map<string, LiveResult>): Fix[] {
  const emptyLog = !r.log || r.log.length === 0
  if (r.code === 'EPERM' && s?.attachType && TRAMPOLINE.has(s.attachType)) {
    const siblings = [...all.entries()].filter(([n, x]) => n !== p.name && x.loaded && x.progType === 'tracing').map(([n]) => n)
    const tracingOk = siblings.length > 0 ? ` Other BPF_PROG_TYPE_TRACING programs of this object loaded (${siblings.slice(0, 3).join(', ')}), so the type itself is allowed.` : ''
    const text = `EPERM before the verifier ran${emptyLog ? ' (its log is empty)' : ''}: this kernel refuses BPF trampoline programs (fentry, fexit, fmod_ret, lsm) although it is configured for them. Measured here: ${environment(facts)}.${tracingOk} Nothing at run time changes it: use a kernel that allows trampolines (ebpfperf vm), or a kprobe/raw_tp/tp_btf program instead`
    return [{text}]
  }
  const core = [...(r.log ?? []), ...(r.libbpfLog ?? [])].find((l) => /failed to resolve CO-RE relocation/.test(l))
  if (core) return [{text: `libbpf could not resolve a CO-RE relocation against this kernel's BTF (${core.trim()}): the type or field does not exist here; guard it with bpf_core_field_exists() or use another kernel`}]
  const reason = r.log?.filter((l) => !/^processed \d+ insns|^verification time|^stack depth|^; /.test(l)).at(-1)
  if (r.code === 'EPERM' || r.code === 'EACCES') {
    if (!emptyLog) return [{text: `the verifier rejected the program (${r.code}): ${reason ?? r.log?.at(-1) ?? ''}. Fix the program (bounds checks, a NULL check after map lookups, a bounded loop)`}]
    return [{text: `refused before the verifier ran: ${environment(facts)}. Run as root, check BPF LSM programs (bpftool prog show | grep lsm) and the lockdown mode`}]
  }
  if (r.code === 'E2BIG') return [{text: 'the program is too large or too complex for this verifier (1M processed instructions, 8 KiB stack): split it or use bounded loops'}]
  if (r.code === 'ESRCH' || r.code === 'ENOENT') return [{text: `the attach target or a type the program needs is missing from this kernel: ${r.message}`}]
  if (r.code === 'EINVAL' && !emptyLog) return [{text: `the verifier rejected the program: ${reason ?? r.log?.at(-1) ?? ''}`}]
  if (r.code === 'EINVAL') return [{text: `this kernel does not accept the program in this form (${r.message}): a newer kernel, or a CO-RE relocation libbpf could not resolve (see the log above)`}]
  return [{text: `the kernel refused: ${r.message}`}]
}

function attachCause(s: SectionInfo | undefined, r: LiveResult, facts: Facts): Fix[] {
  const e = r.attachError
  if (!e) return []
  if (s?.trace === 'kprobe' || s?.trace === 'kretprobe') {
    if (!existsSync('/sys/bus/event_source/devices/kprobe')) return [{text: 'this kernel has no kprobe PMU (/sys/bus/event_source/devices/kprobe is absent: built without CONFIG_KPROBES / CONFIG_KPROBE_EVENTS); use fentry/raw_tp where they load, or another kernel (ebpfperf vm)'}]
  }
  if (s?.trace === 'kprobe.multi' && (e.code === 'EOPNOTSUPP' || e.code === 'ENOTSUPP')) return [{text: 'kprobe.multi links need CONFIG_FPROBE, which this kernel lacks'}]
  if (s?.trace === 'tracepoint' && !findMount('tracefs', facts.mounts)) return [{text: 'tracefs is not mounted: tracepoint ids are read from it', command: MOUNTS.tracefs.fix}]
  if (e.code === 'ENOENT' || e.code === 'ESRCH') return [{text: `the attach point does not exist in this kernel: ${e.message}`}]
  return [{text: `the kernel refused the attachment: ${e.message} (${environment(facts)})`}]
}
