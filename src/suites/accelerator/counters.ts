// What proves which path carried the traffic: the fast path's own verdict counters (`accel_stats`, per
// CPU, layout of bpf/accel.shared.h) and the DUT kernel's forwarding counters (/proc/net/snmp
// Ip ForwDatagrams, /proc/net/snmp6 Ip6OutForwDatagrams), which do not move for packets a fast path
// redirected past the stack.
import type {Native} from '../../native.js'
import {inNetns} from '../../topology/kernel.js'

/** Slots of `accel_stats` (enum accel_stat in bpf/accel.shared.h). */
export const ACCEL_SLOTS = ['forwarded', 'not_ip', 'local', 'ttl', 'fib', 'no_neigh', 'no_port', 'other'] as const
export type AccelSlot = (typeof ACCEL_SLOTS)[number]
/** Slots that are not data through the DUT (ARP, neighbour discovery, packets for the DUT itself). */
const NOT_DATA: ReadonlySet<AccelSlot> = new Set(['not_ip', 'local'])
export const ACCEL_COUNT_SIZE = 16 // struct accel_count {u64 packets; u64 bytes}

export type SlotCounts = Record<AccelSlot, {packets: number; bytes: number}>

/** Sums a per-CPU array `accel_stats` over CPUs, slot by slot (absent slots: 0). */
export function readAccelStats(native: Native, mapFd: number, slots = ACCEL_SLOTS.length): SlotCounts {
  const cpus = native.numPossibleCpus()
  const out = Object.fromEntries(ACCEL_SLOTS.map((s) => [s, {packets: 0, bytes: 0}])) as SlotCounts
  for (let i = 0; i < Math.min(slots, ACCEL_SLOTS.length); i++) {
    const key = Buffer.alloc(4)
    key.writeUInt32LE(i)
    const v = native.mapLookup(mapFd, key, ACCEL_COUNT_SIZE * cpus)
    if (!v) continue
    for (let c = 0; c < cpus; c++) {
      out[ACCEL_SLOTS[i]].packets += Number(v.readBigUInt64LE(c * ACCEL_COUNT_SIZE))
      out[ACCEL_SLOTS[i]].bytes += Number(v.readBigUInt64LE(c * ACCEL_COUNT_SIZE + 8))
    }
  }
  return out
}

export function diffSlots(a: SlotCounts, b: SlotCounts): SlotCounts {
  return Object.fromEntries(ACCEL_SLOTS.map((s) => [s, {packets: b[s].packets - a[s].packets, bytes: b[s].bytes - a[s].bytes}])) as SlotCounts
}

export interface Verdicts {
  forwarded: number
  /** Data packets the fast path handed to the stack, by reason. */
  passed: Partial<Record<AccelSlot, number>>
  passedData: number
  /** ARP, neighbour discovery, packets for the DUT: passed, not counted as data. */
  notData: number
  /** forwarded / (forwarded + passedData); undefined when no data packet was seen. */
  share?: number
}

export function verdicts(d: SlotCounts): Verdicts {
  const passed: Partial<Record<AccelSlot, number>> = {}
  let passedData = 0
  let notData = 0
  for (const s of ACCEL_SLOTS) {
    if (s === 'forwarded' || d[s].packets === 0) continue
    passed[s] = d[s].packets
    if (NOT_DATA.has(s)) notData += d[s].packets
    else passedData += d[s].packets
  }
  const forwarded = d.forwarded.packets
  const data = forwarded + passedData
  return {forwarded, passed, passedData, notData, share: data > 0 ? forwarded / data : undefined}
}

// ------------------------------------------------------------------ the kernel's side
export interface KernelForwarding {
  v4: number
  v6: number
}

/** Ip ForwDatagrams from /proc/net/snmp and Ip6OutForwDatagrams from /proc/net/snmp6 (text of both). */
export function parseSnmp(snmp: string, snmp6: string): KernelForwarding {
  const ip = snmp.split('\n').filter((l) => l.startsWith('Ip: '))
  let v4 = 0
  if (ip.length >= 2) {
    const names = ip[0].trim().split(/\s+/)
    const values = ip[1].trim().split(/\s+/)
    const i = names.indexOf('ForwDatagrams')
    if (i > 0) v4 = Number(values[i]) || 0
  }
  const m = /^Ip6OutForwDatagrams\s+(\d+)/m.exec(snmp6)
  return {v4, v6: m ? Number(m[1]) : 0}
}

const SEP = '--ebpfperf-snmp6--'

/** The DUT namespace's forwarding counters (one `cat` inside it). */
export async function readKernelForwarding(netns: string | null): Promise<KernelForwarding> {
  const r = await inNetns(netns, ['sh', '-c', `cat /proc/net/snmp; echo ${SEP}; cat /proc/net/snmp6 2>/dev/null`])
  if (r.failed) throw new Error(`reading /proc/net/snmp in ${netns ?? 'the host'}: ${r.stderr.split('\n')[0]}`)
  const [snmp, snmp6 = ''] = r.stdout.split(SEP)
  return parseSnmp(snmp, snmp6)
}
