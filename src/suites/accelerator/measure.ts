// One run: the load (iperf3) with a latency probe beside it, bracketed by the counters that say what it
// cost (CPU from /proc/stat, the fast path's bpf_stats) and which path carried it (the fast path's
// verdict counters, the DUT kernel's forwarding counters).
import {runIperf3ClientRetrying, type Iperf3ClientSpec, type Iperf3Result, type Spawner} from '../../workloads/iperf3.js'
import {startLatencyProbe, summarizeLatency, withinWindow, type LatencySummary, type PingReplies} from '../../workloads/latency.js'
import {cpuDelta, readProcStat, type CpuTimes} from '../../workloads/procstat.js'
import {diffSlots, readKernelForwarding, verdicts, type Verdicts} from './counters.js'
import type {FastPath} from './fastpath.js'
import type {Mode, Point} from './spec.js'

/** A fast path must carry at least this share of the data packets, or the case fails. */
export const CARRIED_MIN = 0.99
/** iperf3's process at or above this % of one CPU: it, not the DUT, limits the rate. */
export const SATURATED_CPU = 90
/** All CPUs this busy: the machine is the limit. */
export const SATURATED_MACHINE = 0.95

export interface RunSample {
  mode: Mode
  rep: number // < 0: warm-up
  warmup: boolean
  /** A latency run: the probe ran beside the load; its rtt counts, its throughput and CPU do not. */
  latency?: boolean
  /** bpf_stats was on during the run (prog holds the fast path's counters only then). */
  bpfStats?: boolean
  startedAt: string
  wallS: number
  bitsPerSecond: number
  packetsPerSecond: number
  packetsReceived: number
  packetsEstimated: boolean
  bytesReceived: number
  lossPercent?: number
  jitterMs?: number
  retransmits?: number
  rtt: LatencySummary
  cpu: {
    /** All CPUs' busy time (user+nice+system+irq+softirq+steal) per delivered packet. */
    busyNsPerPacket?: number
    busyFraction: number
    softirqNs: number
    senderPercent: number
    receiverPercent: number
    /** ebpfperf's own process (all its threads) while the load ran, % of one CPU: what the harness cost. */
    harnessPercent: number
  }
  /** The fast path's own cost (bpf_stats), eBPF modes only. */
  prog?: {runCnt: number; runTimeNs: number; nsPerPacket?: number}
  /** The fast path's verdicts (from its accel_stats map). */
  verdicts?: Verdicts
  /** Packets the DUT's kernel forwarded (IPv4 + IPv6). */
  kernelForwarded: number
  /** Share of the data packets the fast path carried, and how that was established. */
  fastPath?: {share?: number; from: 'verdict counters' | 'kernel forwarding vs program runs' | 'kernel forwarding vs delivered packets' | 'none'}
  /** Why this run does not count as a measurement of its mode (the case fails). */
  problem?: string
  /** What limited the rate, when it was not the DUT. */
  bottleneck?: string
}

export interface RunContext {
  client: Spawner
  dutNetns: string | null
  iperf: Omit<Iperf3ClientSpec, 'protocol' | 'bitsPerSecond' | 'size'>
  probeTarget: string
  /** ms between probe echoes; 0: no probe */
  probeIntervalMs: number
  /** where the probe writes (read after the run) */
  probeFile?: string
  signal: AbortSignal
}

/**
 * One run of the load; with `latency`, the probe beside it (only then is `rtt` measured); with
 * `bpfStats` (the caller has bpf_stats on), the fast path's run_cnt / run_time_ns over the run.
 */
export async function measureRun(ctx: RunContext, point: Point, mode: Mode, rep: number, fp: FastPath | undefined, latency = false, bpfStats = false): Promise<RunSample> {
  const spec: Iperf3ClientSpec = {...ctx.iperf, protocol: point.protocol, bitsPerSecond: point.rate, size: point.size}
  const startedAt = new Date().toISOString()
  const t0 = performance.now()
  fp?.attach()
  try {
    const c0 = fp?.counters()
    const p0 = bpfStats ? fp?.progCounters() : undefined
    const k0 = await readKernelForwarding(ctx.dutNetns)
    const probe = latency ? await startLatencyProbe(ctx.client, ctx.probeTarget, {intervalMs: ctx.probeIntervalMs, outFile: ctx.probeFile}) : undefined
    let pings: PingReplies | undefined
    const from = Date.now()
    const s0 = readProcStat()
    const h0 = process.cpuUsage()
    let res: Iperf3Result
    let s1: CpuTimes
    let to: number
    let harness: NodeJS.CpuUsage
    try {
      res = await runIperf3ClientRetrying(ctx.client, spec, {signal: ctx.signal})
      harness = process.cpuUsage(h0)
      s1 = readProcStat()
      to = Date.now()
    } finally {
      pings = probe ? await probe.stop() : undefined
    }
    const k1 = await readKernelForwarding(ctx.dutNetns)
    const p1 = p0 ? fp?.progCounters() : undefined
    const c1 = fp?.counters()

    const cpu = cpuDelta(s0, s1)
    const kernelForwarded = k1.v4 - k0.v4 + (k1.v6 - k0.v6)
    const sample: RunSample = {
      mode,
      rep,
      warmup: rep < 0,
      ...(latency ? {latency: true} : {}),
      ...(bpfStats ? {bpfStats: true} : {}),
      startedAt,
      wallS: 0,
      bitsPerSecond: res.bitsPerSecond,
      packetsPerSecond: res.packetsPerSecond,
      packetsReceived: res.packetsReceived,
      packetsEstimated: res.packetsEstimated,
      bytesReceived: res.bytesReceived,
      lossPercent: res.lossPercent,
      jitterMs: res.jitterMs,
      retransmits: res.retransmits,
      rtt: pings ? summarizeLatency(withinWindow(pings, from, to)) : {samples: 0},
      cpu: {
        busyNsPerPacket: res.packetsReceived > 0 ? cpu.busyNs / res.packetsReceived : undefined,
        busyFraction: cpu.busyFraction,
        softirqNs: cpu.softirqNs,
        senderPercent: res.cpu.sender.total,
        receiverPercent: res.cpu.receiver.total,
        harnessPercent: to > from ? ((harness.user + harness.system) / 1000 / (to - from)) * 100 : 0,
      },
      kernelForwarded,
    }
    if (p0 && p1) {
      const runCnt = p1.runCnt - p0.runCnt
      const runTimeNs = p1.runTimeNs - p0.runTimeNs
      sample.prog = {runCnt, runTimeNs, nsPerPacket: runCnt > 0 && runTimeNs > 0 ? runTimeNs / runCnt : undefined}
    }
    if (c0 && c1) sample.verdicts = verdicts(diffSlots(c0, c1))
    judge(sample, fp !== undefined)
    sample.bottleneck = bottleneck(sample)
    sample.wallS = (performance.now() - t0) / 1000
    return sample
  } finally {
    fp?.detach()
  }
}

/** Did the path under test carry the traffic? Sets fastPath and problem. */
export function judge(s: RunSample, fastPathMode: boolean): void {
  if (s.bytesReceived === 0) {
    s.problem = 'no traffic reached the server'
    return
  }
  if (!fastPathMode) {
    // the baseline: the kernel must have forwarded it (nothing else is attached)
    if (s.kernelForwarded === 0) s.problem = "the DUT's kernel forwarded no packet, yet traffic arrived: something else carried it"
    return
  }
  if (s.verdicts) {
    s.fastPath = {share: s.verdicts.share, from: 'verdict counters'}
  } else if (s.prog && s.prog.runCnt > 0) {
    s.fastPath = {share: Math.max(0, 1 - s.kernelForwarded / s.prog.runCnt), from: 'kernel forwarding vs program runs'}
  } else if (!s.prog && s.packetsReceived > 0 && !s.packetsEstimated) {
    s.fastPath = {share: Math.max(0, 1 - s.kernelForwarded / s.packetsReceived), from: 'kernel forwarding vs delivered packets'}
  } else {
    s.fastPath = {from: 'none'}
  }
  if (s.prog && s.prog.runCnt === 0) {
    s.problem = 'the fast-path program never ran (run_cnt did not move): it is not on the path'
    return
  }
  const share = s.fastPath.share
  if (share === undefined) {
    if (s.fastPath.from === 'none') s.problem = 'nothing shows which path carried the traffic (no accel_stats map, bpf_stats off, TCP)'
    else s.problem = 'the fast path saw no data packet'
    return
  }
  if (share < CARRIED_MIN) {
    const why = s.verdicts ? Object.entries(s.verdicts.passed).filter(([k]) => k !== 'not_ip' && k !== 'local').map(([k, v]) => `${k} ${v}`).join(', ') : `kernel forwarded ${s.kernelForwarded}`
    s.problem = `the fast path carried only ${(share * 100).toFixed(1)}% of the data packets (< ${CARRIED_MIN * 100}%; passed to the stack: ${why || 'none'})`
  }
}

export function bottleneck(s: RunSample): string | undefined {
  const out: string[] = []
  if (s.cpu.senderPercent >= SATURATED_CPU) out.push(`generator: iperf3 sender at ${Math.round(s.cpu.senderPercent)}% CPU`)
  if (s.cpu.receiverPercent >= SATURATED_CPU) out.push(`receiver: iperf3 server at ${Math.round(s.cpu.receiverPercent)}% CPU`)
  if (s.cpu.busyFraction >= SATURATED_MACHINE) out.push(`machine: all CPUs ${Math.round(s.cpu.busyFraction * 100)}% busy`)
  return out.length > 0 ? out.join('; ') : undefined
}
