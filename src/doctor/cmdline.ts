// The kernel command line and the sysctls, judged as kernel-hardening-checker judges its inputs: each
// finding carries the desired value, the actual one and the decision, and either input may come from a
// file saved on another host (--cmdline FILE: its /proc/cmdline; --sysctl FILE: its `sysctl -a`).
import type {Evidence, Finding, Status} from './evaluate.js'
import {SYSCTLS} from '../kernel/runtime.js'
import type {Kconfig} from '../kernel/kconfig.js'

export interface JudgedFinding extends Finding {
  desired: string
  actual: string
  decision: Status
}

/** `sysctl -a` output ("name = value" lines; other lines ignored). */
export function parseSysctlDump(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    const m = /^\s*([\w.\-/]+)\s*=\s*(.*?)\s*$/.exec(line)
    if (m) out.set(m[1].replace(/\//g, '.'), m[2])
  }
  return out
}

/** Parameters of a command line: `name` → value ('' for a bare flag); the part after ` -- ` is init's. */
export function parseCmdline(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const tok of text.split(' -- ')[0].trim().split(/\s+/).filter(Boolean)) {
    const eq = tok.indexOf('=')
    out.set(eq < 0 ? tok : tok.slice(0, eq), eq < 0 ? '' : tok.slice(eq + 1).replace(/^"|"$/g, ''))
  }
  return out
}

const PROFILE = 'cmdline'

function judged(group: string, id: string, title: string, desired: string, actual: string, decision: Status, source: string, fix?: string): JudgedFinding {
  const ev: Evidence = {kind: group === 'sysctl' ? 'sysctl' : 'lsm', what: id, status: decision, value: `${actual} (desired: ${desired})`, source}
  return {profile: PROFILE, id, group: group === 'sysctl' ? 'sysctls' : 'command line', title, required: false, cases: [], status: decision, summary: `${actual}; desired ${desired}`, evidence: [ev], fixes: fix && decision !== 'pass' ? [{text: fix}] : [], desired, actual, decision}
}

/** BPF-relevant command-line parameters; `source` names where the line came from. */
export function cmdlineFindings(text: string, source: string, kconfig?: Kconfig): JudgedFinding[] {
  const p = parseCmdline(text)
  const out: JudgedFinding[] = []
  const lsmDefault = kconfig?.get('LSM').value?.replace(/"/g, '')
  const lsm = p.get('lsm') ?? p.get('security')
  const lsmActual = lsm !== undefined ? `lsm=${lsm}` : `not set (CONFIG_LSM default: ${lsmDefault ?? 'unknown'})`
  const lsmList = (lsm ?? lsmDefault)?.split(',')
  out.push(judged('cmdline', 'cmdline.lsm', 'LSM list (BPF LSM programs need "bpf" in it)', 'contains bpf', lsmActual, lsmList === undefined ? 'unknown' : lsmList.includes('bpf') ? 'pass' : 'warn', source, `boot with lsm=${[...(lsmList ?? []).filter((x) => x !== 'bpf'), 'bpf'].join(',')} to run lsm/ programs`))
  const lockdown = p.get('lockdown')
  const lockDecision: Status = lockdown === 'confidentiality' ? 'warn' : 'pass'
  out.push(judged('cmdline', 'cmdline.lockdown', 'lockdown= (confidentiality blocks kprobes, bpf_probe_read_kernel, perf and tracefs)', 'absent, none or integrity', lockdown === undefined ? 'not set' : `lockdown=${lockdown}`, lockDecision, source, 'boot without lockdown=confidentiality to trace the kernel'))
  const mitigations = p.get('mitigations')
  out.push(judged('cmdline', 'cmdline.mitigations', 'mitigations= (off: faster syscalls and JIT code than a production kernel; timings not comparable)', 'the same as the kernels compared with (default auto)', mitigations === undefined ? 'not set (auto)' : `mitigations=${mitigations}`, mitigations === 'off' ? 'warn' : 'pass', source, 'compare timings only between kernels booted with the same mitigations='))
  const modular = ['NET_CLS_BPF', 'NET_ACT_BPF', 'NET_SCH_INGRESS', 'VETH', 'BPF_PRELOAD_UMD'].filter((o) => kconfig?.get(o).state === 'm')
  const nomodule = p.has('nomodule')
  out.push(judged('cmdline', 'cmdline.nomodule', 'nomodule (no module can be loaded)', modular.length > 0 ? 'absent (these are modules here)' : 'absent, or every needed option built in', nomodule ? 'nomodule' : 'not set', nomodule && modular.length > 0 ? 'fail' : 'pass', source, `boot without nomodule: ${modular.map((o) => `CONFIG_${o}`).join(', ')} are modules`))
  const sig = p.get('module.sig_enforce')
  if (sig !== undefined) out.push(judged('cmdline', 'cmdline.module.sig_enforce', 'module.sig_enforce', 'any (only signed modules load)', `module.sig_enforce=${sig}`, 'pass', source))
  for (const k of ['kprobe_event', 'ftrace', 'trace_event', 'ftrace_filter', 'bpf_jit_harden']) {
    if (p.has(k)) out.push(judged('cmdline', `cmdline.${k}`, `${k}= (boot-time tracing)`, 'any', `${k}=${p.get(k)}`, 'pass', source))
  }
  return out
}

const SYSCTL_WANT: Record<string, {desired: string; ok: (v: string) => boolean; bad: Status; fix: string}> = {
  'net.core.bpf_jit_enable': {desired: '1', ok: (v) => v === '1' || v === '2', bad: 'fail', fix: 'sysctl -w net.core.bpf_jit_enable=1'},
  'net.core.bpf_jit_harden': {desired: '0 for measurements (1-2 blind constants: slower JIT code)', ok: (v) => v === '0', bad: 'warn', fix: 'sysctl -w net.core.bpf_jit_harden=0 while measuring'},
  'kernel.unprivileged_bpf_disabled': {desired: '1 or 2 (hardening)', ok: (v) => v !== '0', bad: 'warn', fix: 'sysctl -w kernel.unprivileged_bpf_disabled=2'},
  'kernel.bpf_stats_enabled': {desired: '0 unless measuring (a per-run cost)', ok: (v) => v === '0', bad: 'warn', fix: 'sysctl -w kernel.bpf_stats_enabled=0'},
  'kernel.perf_event_paranoid': {desired: 'any (root is not restricted)', ok: () => true, bad: 'pass', fix: ''},
  'kernel.ftrace_enabled': {desired: '1 (fentry, kprobes and trampolines need ftrace)', ok: (v) => v === '1', bad: 'fail', fix: 'sysctl -w kernel.ftrace_enabled=1'},
  'kernel.kptr_restrict': {desired: 'any (root reads kallsyms addresses at 0 or 1)', ok: (v) => v !== '2', bad: 'warn', fix: 'sysctl -w kernel.kptr_restrict=1'},
}

/** The BPF-relevant sysctls of a saved `sysctl -a` (or read live), judged. */
export function sysctlFindings(values: Map<string, string | undefined>, source: string): JudgedFinding[] {
  return Object.entries(SYSCTL_WANT).map(([name, w]) => {
    const v = values.get(name)
    const meaning = v === undefined ? '' : (SYSCTLS[name]?.meaning[v] ?? '')
    const actual = v === undefined ? 'absent' : `${v}${meaning ? ` (${meaning})` : ''}`
    const decision: Status = v === undefined ? 'unknown' : w.ok(v) ? 'pass' : w.bad
    return judged('sysctl', name, name, w.desired, actual, decision, source, w.fix)
  })
}
