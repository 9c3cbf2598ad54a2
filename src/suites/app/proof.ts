// What each probe must show for its run to count: that it fired on the requests wrk made, and that every
// record it produced was either consumed or counted as lost. A run that cannot show it fails its configuration.
import type {AppCounts, BufferKind, ProbeName} from './probes.js'
import type {Measured} from './run.js'

/** nginx over HTTP or HTTPS, or the Go server over HTTP. */
export type Protocol = 'http' | 'https' | 'go'

export interface AppConfig {
  id: string
  protocol: Protocol
  size: string
  probe: ProbeName
  /** sslsniff: the buffer its records go through. */
  buffer?: BufferKind
}

export interface AppRow {
  config: AppConfig
  status: 'ok' | 'failed'
  reason?: string
  /** Requests/s, transfer bytes/s, latency P50/P99 (µs): one per measured run. */
  rps: number[]
  /** The round each sample was taken in (pairs a probe's sample with none's of the same round). */
  rounds: number[]
  transfer: number[]
  p50us: number[]
  p99us: number[]
  requests: number
  errors: number
  serverCpuNs: number
  consumerCpuNs: number
  consumed: number
  /** Perf buffer: records the consumer's lost callback reported (a ring buffer has none: its lost are the failed reservations the programs counted). */
  lostReported?: number
  matched: number
  /** bpf_stats run_cnt of the probe's programs by label (see AppProbes.runCnt). */
  runCnt: Record<string, number>
  counts: AppCounts
}

export function emptyRow(config: AppConfig): AppRow {
  return {config, status: 'ok', rps: [], rounds: [], transfer: [], p50us: [], p99us: [], requests: 0, errors: 0, serverCpuNs: 0, consumerCpuNs: 0, consumed: 0, matched: 0, runCnt: {},
    counts: {entries: 0, returns: 0, produced: 0, lost: 0, bytes: 0, mine: 0}}
}

const sum = (r: Record<string, number>, prefix = '') => Object.entries(r).reduce((a, [k, v]) => a + (k.startsWith(prefix) ? v : 0), 0)

/**
 * The kernel's own count against the program's: bpf_stats run_cnt (on while a probe is attached) must be what
 * the programs counted themselves, so a probe that did not fire, or fired where its counter did not see it, fails.
 */
function runCntProof(c: AppConfig, m: Pick<Measured, 'counts' | 'runCnt'>): string | undefined {
  const total = sum(m.runCnt)
  if (total === 0) return `${c.probe === 'object' ? 'your program' : c.probe} did not run during the requests (bpf_stats run_cnt +0)${c.probe === 'object' ? ': check --uprobe/--tracepoint' : ''}`
  const k = m.counts
  const differ = (what: string, runs: number, counted: number) => (runs === counted ? undefined : `${c.probe}: bpf_stats run_cnt of ${what} is ${runs} but the programs counted ${counted}`)
  if (c.probe === 'sslsniff') return differ('the uprobes', sum(m.runCnt, 'uprobe '), k.entries) ?? differ('the uretprobes', sum(m.runCnt, 'uretprobe '), k.returns)
  if (c.probe === 'object') return undefined
  return differ('the program', total, k.entries)
}

/** Perf buffer: lost as the consumer's lost callback heard it, which must also be the outputs the programs saw fail. */
function perfAccounted(k: AppCounts, m: Pick<Measured, 'consumed' | 'lostReported'>): string | undefined {
  const lost = m.lostReported ?? 0
  if (m.consumed !== k.produced - lost) return `records do not add up: produced ${k.produced} ≠ consumed ${m.consumed} + lost ${lost} (perf buffer lost callback)`
  if (lost !== k.lost) return `perf buffer: the lost callback reported ${lost} records, the programs saw ${k.lost} outputs fail`
  return undefined
}

/** Why the probe's own counters fall short of the requests, or its records do not add up. */
function countsProof(c: AppConfig, m: Pick<Measured, 'wrk' | 'counts' | 'consumed' | 'lostReported'>): string | undefined {
  const req = m.wrk.requests
  const k = m.counts
  const accounted = () => (c.buffer === 'perf' ? perfAccounted(k, m) : m.consumed === k.produced - k.lost ? undefined : `records do not add up: produced ${k.produced} ≠ consumed ${m.consumed} + lost ${k.lost}`)
  switch (c.probe) {
    case 'none':
    case 'object':
      return undefined
    case 'sslsniff':
      if (k.returns < req) return `sslsniff fired ${k.returns} times for ${req} requests: the uprobes did not see every SSL call`
      return accounted()
    case 'syscount':
    case 'syscount-kfilter':
      return k.entries < req ? `${c.probe} saw ${k.entries} syscalls for ${req} requests: the tracepoint did not fire` : undefined
    case 'syscount-user':
      if (k.entries < req) return `syscount-user saw ${k.entries} syscalls for ${req} requests: the tracepoint did not fire`
      return accounted()
    case 'go-runtime':
    case 'go-handler':
      return k.entries < req ? `${c.probe} counted ${k.entries} calls for ${req} requests: the uprobe did not fire on every request` : undefined
  }
}

/** Why this run does not count, or undefined when its probe is proven (by its counters and by bpf_stats run_cnt). */
export function checkProof(c: AppConfig, m: Pick<Measured, 'wrk' | 'counts' | 'consumed' | 'runCnt' | 'lostReported'>): string | undefined {
  const req = m.wrk.requests
  if (req === 0) return `wrk completed no request (${m.wrk.errors} errors)`
  if (m.wrk.errors > req / 100) return `wrk saw ${m.wrk.errors} errors for ${req} requests (is nginx overloaded or failing?)`
  return countsProof(c, m) ?? (c.probe === 'none' ? undefined : runCntProof(c, m))
}
