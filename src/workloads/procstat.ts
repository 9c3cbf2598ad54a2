// System CPU time from /proc/stat (all CPUs, the whole machine: it is not per namespace), for "CPU per
// delivered packet" figures: busy = user + nice + system + irq + softirq + steal, in USER_HZ ticks.
import {readFileSync} from 'node:fs'

/** Linux reports /proc/stat in USER_HZ, which is 100 on every architecture the kernel supports today. */
export const USER_HZ = 100

export interface CpuTimes {
  user: number
  nice: number
  system: number
  idle: number
  iowait: number
  irq: number
  softirq: number
  steal: number
  cpus: number
}

/** The aggregate "cpu " line of /proc/stat. */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split('\n').find((l) => l.startsWith('cpu '))
  if (!line) throw new Error('/proc/stat has no aggregate cpu line')
  const f = line.trim().split(/\s+/).slice(1).map(Number)
  const cpus = text.split('\n').filter((l) => /^cpu\d+\s/.test(l)).length
  return {user: f[0] ?? 0, nice: f[1] ?? 0, system: f[2] ?? 0, idle: f[3] ?? 0, iowait: f[4] ?? 0, irq: f[5] ?? 0, softirq: f[6] ?? 0, steal: f[7] ?? 0, cpus}
}

export function readProcStat(path = '/proc/stat'): CpuTimes {
  return parseProcStat(readFileSync(path, 'utf8'))
}

export interface CpuDelta {
  /** Busy time over the interval, all CPUs together, in ns. */
  busyNs: number
  softirqNs: number
  systemNs: number
  /** Busy share of all CPUs' time (0..1). */
  busyFraction: number
  cpus: number
}

export function cpuDelta(a: CpuTimes, b: CpuTimes): CpuDelta {
  const d = (k: keyof CpuTimes) => Math.max(0, b[k] - a[k])
  const busy = d('user') + d('nice') + d('system') + d('irq') + d('softirq') + d('steal')
  const total = busy + d('idle') + d('iowait')
  const ns = (ticks: number) => (ticks * 1e9) / USER_HZ
  return {busyNs: ns(busy), softirqNs: ns(d('softirq')), systemNs: ns(d('system')), busyFraction: total > 0 ? busy / total : 0, cpus: b.cpus}
}
