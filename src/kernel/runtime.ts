// What the running system looks like right now: sysctls, mounts, capabilities, lockdown, memlock.
import {readFileSync} from 'node:fs'

export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------- sysctls
export interface SysctlInfo {
  name: string // dotted name, e.g. net.core.bpf_jit_enable
  path: string
  meaning: Record<string, string>
}

export const SYSCTLS: Record<string, SysctlInfo> = {
  'net.core.bpf_jit_enable': {
    name: 'net.core.bpf_jit_enable',
    path: '/proc/sys/net/core/bpf_jit_enable',
    meaning: {'0': 'JIT off: programs run in the interpreter', '1': 'JIT on', '2': 'JIT on with debug output to the kernel log'},
  },
  'net.core.bpf_jit_harden': {
    name: 'net.core.bpf_jit_harden',
    path: '/proc/sys/net/core/bpf_jit_harden',
    meaning: {'0': 'constant blinding off', '1': 'constant blinding for unprivileged programs', '2': 'constant blinding for all programs (slower JIT code)'},
  },
  'kernel.unprivileged_bpf_disabled': {
    name: 'kernel.unprivileged_bpf_disabled',
    path: '/proc/sys/kernel/unprivileged_bpf_disabled',
    meaning: {
      '0': 'unprivileged users may call bpf()',
      '1': 'unprivileged bpf() disabled until reboot (cannot be turned back on)',
      '2': 'unprivileged bpf() disabled; an admin may set it to 0',
    },
  },
  'kernel.bpf_stats_enabled': {
    name: 'kernel.bpf_stats_enabled',
    path: '/proc/sys/kernel/bpf_stats_enabled',
    meaning: {'0': 'run_time_ns/run_cnt not collected', '1': 'run_time_ns/run_cnt collected (small per-run cost)'},
  },
  'kernel.perf_event_paranoid': {
    name: 'kernel.perf_event_paranoid',
    path: '/proc/sys/kernel/perf_event_paranoid',
    meaning: {
      '-1': 'no restrictions',
      '0': 'unprivileged: no raw tracepoint access',
      '1': 'unprivileged: user and kernel profiling only',
      '2': 'unprivileged: user-space profiling only',
      '3': 'unprivileged: perf_event_open denied (Debian/Ubuntu patch)',
      '4': 'unprivileged: perf_event_open denied',
    },
  },
}

export function readSysctl(name: string): {value?: string; path: string} {
  const info = SYSCTLS[name]
  const path = info?.path ?? `/proc/sys/${name.replace(/\./g, '/')}`
  return {path, value: readText(path)?.trim()}
}

// ---------------------------------------------------------------- mounts
export type MountKind = 'bpffs' | 'tracefs' | 'debugfs' | 'securityfs' | 'cgroup2'

/** `safe`: doctor --fix may mount it (a new pseudo-filesystem on its usual empty mount point). */
export const MOUNTS: Record<MountKind, {fstype: string; where: string; fix: string; safe: boolean}> = {
  bpffs: {fstype: 'bpf', where: '/sys/fs/bpf', fix: 'mount -t bpf bpffs /sys/fs/bpf', safe: true},
  tracefs: {fstype: 'tracefs', where: '/sys/kernel/tracing', fix: 'mount -t tracefs nodev /sys/kernel/tracing', safe: true},
  debugfs: {fstype: 'debugfs', where: '/sys/kernel/debug', fix: 'mount -t debugfs nodev /sys/kernel/debug', safe: true},
  securityfs: {fstype: 'securityfs', where: '/sys/kernel/security', fix: 'mount -t securityfs securityfs /sys/kernel/security', safe: true},
  cgroup2: {fstype: 'cgroup2', where: '/sys/fs/cgroup', fix: 'mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 none /sys/fs/cgroup/unified (or boot with systemd.unified_cgroup_hierarchy=1)', safe: false},
}

export interface MountEntry {
  source: string
  target: string
  fstype: string
}

const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))

export function parseMounts(text: string): MountEntry[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [source, target, fstype] = line.split(' ')
      return {source, target: unescapeMount(target), fstype}
    })
}

export function listMounts(): MountEntry[] {
  return parseMounts(readText('/proc/self/mounts') ?? '')
}

export function findMount(kind: MountKind, mounts = listMounts()): MountEntry | undefined {
  const {fstype, where} = MOUNTS[kind]
  const all = mounts.filter((m) => m.fstype === fstype)
  return all.find((m) => m.target === where) ?? all[0]
}

// ---------------------------------------------------------------- capabilities
export const CAPS = {CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39} as const
export type CapName = keyof typeof CAPS

export function effectiveCaps(statusText = readText('/proc/self/status') ?? ''): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(statusText)
  return m ? BigInt(`0x${m[1]}`) : 0n
}

export function hasCap(cap: CapName, eff = effectiveCaps()): boolean {
  return ((eff >> BigInt(CAPS[cap])) & 1n) === 1n
}

// ---------------------------------------------------------------- lockdown, LSMs, memlock
/** "none", "integrity" or "confidentiality"; undefined when securityfs is not mounted. */
export function lockdownMode(mounts = listMounts()): {mode?: string; source: string} {
  const sec = findMount('securityfs', mounts)
  if (!sec) return {source: 'securityfs not mounted'}
  const path = `${sec.target}/lockdown`
  const text = readText(path)
  const m = text ? /\[(\w+)\]/.exec(text) : null
  return {mode: m?.[1], source: path}
}

export function activeLsms(mounts = listMounts()): {list?: string[]; source: string} {
  const sec = findMount('securityfs', mounts)
  if (!sec) return {source: 'securityfs not mounted'}
  const path = `${sec.target}/lsm`
  const text = readText(path)
  return {list: text?.trim().split(','), source: path}
}

/** RLIMIT_MEMLOCK soft limit in bytes; Infinity for unlimited. */
export function memlockLimit(limitsText = readText('/proc/self/limits') ?? ''): number | undefined {
  const m = /^Max locked memory\s+(\S+)/m.exec(limitsText)
  if (!m) return undefined
  return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1])
}
