// Latency under load: a probe stream of ICMP echoes (`ping -i 0.02`, root for intervals < 0.2 s) running alongside the load,
// each reply's RTT kept, percentiles over the run. ping's own summary is not used: it has no percentiles.
import {readFileSync, rmSync} from 'node:fs'
import type {Spawner} from './iperf3.js'
import {percentile} from '../results/stats.js'

export interface PingReplies {
  /** RTT of every reply, in microseconds, in arrival order. */
  rttUs: number[]
  /** Arrival time of each reply (ms since the epoch, from ping -D), when ping printed it. */
  atMs: (number | undefined)[]
  /** icmp_seq of each reply. */
  seq: (number | undefined)[]
  /** Echo requests sent, from ping's summary (undefined when it printed none). */
  transmitted?: number
  received: number
}

/** Parses ping's output: "64 bytes from …: icmp_seq=3 ttl=63 time=0.071 ms" per reply, plus the summary. */
export function parsePing(output: string): PingReplies {
  const rttUs: number[] = []
  const atMs: (number | undefined)[] = []
  const seq: (number | undefined)[] = []
  for (const line of output.split('\n')) {
    const m = /\btime[=<]([\d.]+)\s*(ms|us|µs|s)\b/.exec(line)
    if (!m || !/bytes from|icmp_seq/.test(line)) continue
    const v = Number(m[1])
    rttUs.push(m[2] === 'ms' ? v * 1000 : m[2] === 's' ? v * 1e6 : v)
    const ts = /^\[(\d+(?:\.\d+)?)\]/.exec(line.trim())
    atMs.push(ts ? Number(ts[1]) * 1000 : undefined)
    const q = /icmp_seq=(\d+)/.exec(line)
    seq.push(q ? Number(q[1]) : undefined)
  }
  const sum = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output)
  return {rttUs, atMs, seq, transmitted: sum ? Number(sum[1]) : undefined, received: rttUs.length}
}

/**
 * Only the replies that arrived inside [fromMs, toMs] (the load's window), so that idle RTTs before the
 * load started or after it ended do not dilute the percentiles. Replies without a timestamp are kept.
 * Requests sent in the window: the span of icmp_seq numbers seen in it (a lost reply leaves a gap).
 */
export function withinWindow(r: PingReplies, fromMs: number, toMs: number): PingReplies {
  const keep = r.atMs.map((t) => t === undefined || (t >= fromMs && t <= toMs))
  const pick = <T>(xs: T[]) => xs.filter((_, i) => keep[i])
  const rttUs = pick(r.rttUs)
  const seq = pick(r.seq)
  const known = seq.filter((x): x is number => x !== undefined)
  const transmitted = known.length > 0 ? Math.max(...known) - Math.min(...known) + 1 : r.transmitted
  return {rttUs, atMs: pick(r.atMs), seq, transmitted, received: rttUs.length}
}

export interface LatencySummary {
  samples: number
  lossPercent?: number
  p50Us?: number
  p95Us?: number
  p99Us?: number
  maxUs?: number
}

export function summarizeLatency(r: PingReplies): LatencySummary {
  const lossPercent = r.transmitted ? (100 * Math.max(0, r.transmitted - r.received)) / r.transmitted : undefined
  if (r.rttUs.length === 0) return {samples: 0, lossPercent}
  return {
    samples: r.rttUs.length,
    lossPercent,
    p50Us: percentile(r.rttUs, 0.5),
    p95Us: percentile(r.rttUs, 0.95),
    p99Us: percentile(r.rttUs, 0.99),
    maxUs: Math.max(...r.rttUs),
  }
}

function firstReply(file: string): boolean {
  try {
    return /bytes from|icmp_seq=/.test(readFileSync(file, 'utf8'))
  } catch {
    return false
  }
}

export interface LatencyProbe {
  /** Stops the probe (SIGINT: ping prints its summary) and returns what it saw. */
  stop(): Promise<PingReplies>
}

/**
 * Starts `ping -D -i interval` to `target` (IPv4 or IPv6) in the node `spawn` runs in. Its output goes
 * to a file (`outFile`), not through a pipe, so that nothing in this process wakes up per reply while
 * the load runs; without outFile it is read from the pipe.
 * Resolves once ping is running and has had its first reply (with outFile; at most `settleMs`, default
 * 300 ms): starting `ip netns exec`, a shell and ping costs a few ms of CPU that must not land inside
 * the load's first second on a small machine. Replies before the load are dropped by withinWindow.
 */
export async function startLatencyProbe(spawn: Spawner, target: string, opts: {intervalMs?: number; family?: 4 | 6; size?: number; outFile?: string; settleMs?: number} = {}): Promise<LatencyProbe> {
  const interval = (opts.intervalMs ?? 20) / 1000
  const ping = ['ping', `-${opts.family ?? (target.includes(':') ? 6 : 4)}`, '-n', '-D', '-i', String(interval), '-W', '1', ...(opts.size ? ['-s', String(opts.size)] : []), target]
  const file = opts.outFile
  const p = await spawn(file ? ['sh', '-c', 'exec "$@" > "$0" 2>&1', file, ...ping] : ping)
  const settle = Date.now() + (opts.settleMs ?? 300)
  let exited = false
  const gone = () => (exited = true)
  p.done.then(gone, gone)
  while (!exited && Date.now() < settle) {
    if (file && firstReply(file)) break
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return {
    async stop() {
      p.kill('SIGINT')
      const timer = setTimeout(() => p.kill('SIGKILL'), 2000)
      const r = await p.done
      clearTimeout(timer)
      if (!file) return parsePing(r.stdout)
      try {
        return parsePing(readFileSync(file, 'utf8'))
      } catch {
        return parsePing('')
      } finally {
        rmSync(file, {force: true})
      }
    },
  }
}
