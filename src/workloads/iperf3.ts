// iperf3 as a workload: a server in one node, a client with --json in another, and the client's JSON
// turned into the figures the suites report (receiver throughput, packets, loss, jitter, retransmits,
// CPU of both ends). Parsing is separate from running so that recorded output can be tested.
import {which, type Started} from '../exec.js'
import {BadInputError} from '../util/errors.js'

export type Protocol = 'tcp' | 'udp'

export interface Iperf3ClientSpec {
  /** Server address (IPv4 or IPv6). */
  server: string
  port: number
  protocol: Protocol
  /** Offered rate in bits/s; 0 = unlimited (iperf3 -b 0; TCP's default). */
  bitsPerSecond: number
  /** UDP: datagram payload bytes (-l). TCP: MSS to set (-M); undefined = the kernel's. */
  size?: number
  /** End condition: bytes to send (-n) or seconds (-t); exactly one. */
  bytes?: number
  seconds?: number
  streams?: number
  /** Local address to bind (-B). */
  bind?: string
  /** Give up after this many ms of silence from the server (--connect-timeout, ms). */
  connectTimeoutMs?: number
}

/** The client's argv (after the program name): always --json, one end condition. */
export function iperf3ClientArgs(s: Iperf3ClientSpec): string[] {
  if ((s.bytes === undefined) === (s.seconds === undefined)) throw new Error('iperf3: give exactly one of bytes or seconds')
  const args = ['-c', s.server, '-p', String(s.port), '--json']
  if (s.protocol === 'udp') args.push('-u')
  // UDP defaults to 1 Mbit/s, so "unlimited" must be said; TCP is unlimited unless told otherwise
  if (s.protocol === 'udp' || s.bitsPerSecond > 0) args.push('-b', String(Math.round(s.bitsPerSecond)))
  if (s.size !== undefined) args.push(s.protocol === 'udp' ? '-l' : '-M', String(s.size))
  if (s.bytes !== undefined) args.push('-n', String(Math.round(s.bytes)))
  else args.push('-t', String(s.seconds))
  if (s.streams && s.streams > 1) args.push('-P', String(s.streams))
  if (s.bind) args.push('-B', s.bind)
  if (s.connectTimeoutMs) args.push('--connect-timeout', String(s.connectTimeoutMs))
  return args
}

export function iperf3ServerArgs(opts: {port: number; bind?: string}): string[] {
  return ['-s', '-p', String(opts.port), ...(opts.bind ? ['-B', opts.bind] : [])]
}

export interface Iperf3Cpu {
  /** Percent of one CPU, user + system, as iperf3 measures its own process. */
  total: number
  user: number
  system: number
}

export interface Iperf3Result {
  version?: string
  protocol: Protocol
  streams: number
  seconds: number // receiver's measured duration
  bytesSent: number
  bytesReceived: number
  /** Receiver's throughput: bytes received × 8 / receiver's seconds. */
  bitsPerSecond: number
  senderBitsPerSecond: number
  /** Delivered packets: UDP datagrams received (sent − lost); TCP: bytes received / MSS (segments, estimated). */
  packetsReceived: number
  packetsEstimated: boolean
  packetsPerSecond: number
  /** UDP only. */
  packetsSent?: number
  lostPackets?: number
  lossPercent?: number
  jitterMs?: number
  outOfOrder?: number
  /** TCP only: retransmitted segments (sender side). */
  retransmits?: number
  mss?: number
  blksize?: number
  targetBitsPerSecond?: number
  cpu: {sender: Iperf3Cpu; receiver: Iperf3Cpu}
}

/** iperf3 said it failed (its JSON carries "error"), or printed something that is not its JSON. */
export class Iperf3Error extends Error {
  constructor(message: string, readonly iperf3Message?: string) {
    super(message)
    this.name = 'Iperf3Error'
  }
}

interface RawSum {
  seconds?: number
  bytes?: number
  bits_per_second?: number
  jitter_ms?: number
  lost_packets?: number
  packets?: number
  lost_percent?: number
  out_of_order?: number
  retransmits?: number
}

interface RawDoc {
  start?: {
    version?: string
    tcp_mss?: number
    tcp_mss_default?: number
    test_start?: {protocol?: string; num_streams?: number; blksize?: number; target_bitrate?: number}
  }
  end?: {
    sum?: RawSum
    sum_sent?: RawSum
    sum_received?: RawSum
    cpu_utilization_percent?: {host_total?: number; host_user?: number; host_system?: number; remote_total?: number; remote_user?: number; remote_system?: number}
    streams?: {udp?: RawSum & {out_of_order?: number}}[]
  }
  error?: string
}

const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined)

/**
 * Parses the client's --json output. The client runs the sender, so its "sum_received" is what the
 * server reported receiving; UDP loss and jitter are the receiver's. Older iperf3 (< 3.7) has no
 * sum_received for UDP: the receiver's figures come from "sum" then.
 */
export function parseIperf3(output: string | object): Iperf3Result {
  let doc: RawDoc
  if (typeof output === 'string') {
    const text = output.trim()
    if (!text.startsWith('{')) throw new Iperf3Error(`iperf3 printed no JSON${text ? `: ${text.split('\n')[0].slice(0, 200)}` : ''}`)
    try {
      doc = JSON.parse(text) as RawDoc
    } catch {
      throw new Iperf3Error('iperf3 printed malformed JSON (interrupted?)')
    }
  } else {
    doc = output as RawDoc
  }
  if (typeof doc.error === 'string') throw new Iperf3Error(`iperf3: ${doc.error}`, doc.error)
  const end = doc.end
  const ts = doc.start?.test_start
  if (!end || (!end.sum && !end.sum_sent)) throw new Iperf3Error('iperf3 JSON has no end summary (the test did not finish)')
  const protocol: Protocol = (ts?.protocol ?? '').toUpperCase() === 'UDP' || end.streams?.some((s) => s.udp) ? 'udp' : 'tcp'
  const sent = end.sum_sent ?? end.sum ?? {}
  const recv = end.sum_received ?? end.sum ?? {}
  const cpu = end.cpu_utilization_percent ?? {}
  const seconds = num(recv.seconds) ?? num(sent.seconds) ?? 0
  const bytesSent = num(sent.bytes) ?? 0
  const base = {
    version: doc.start?.version,
    protocol,
    streams: num(ts?.num_streams) ?? 1,
    seconds,
    bytesSent,
    senderBitsPerSecond: num(sent.bits_per_second) ?? 0,
    blksize: num(ts?.blksize),
    targetBitsPerSecond: num(ts?.target_bitrate),
    cpu: {
      sender: {total: num(cpu.host_total) ?? 0, user: num(cpu.host_user) ?? 0, system: num(cpu.host_system) ?? 0},
      receiver: {total: num(cpu.remote_total) ?? 0, user: num(cpu.remote_user) ?? 0, system: num(cpu.remote_system) ?? 0},
    },
  }
  if (protocol === 'udp') {
    const udp = end.sum_received ?? end.sum ?? {}
    const packetsSent = num(udp.packets) ?? num(sent.packets) ?? 0
    const lost = Math.max(0, num(udp.lost_packets) ?? 0)
    const packetsReceived = Math.max(0, packetsSent - lost)
    // 3.12's sum_received has the bytes the receiver got; without it, payload × packets received
    const bytesReceived = end.sum_received ? (num(end.sum_received.bytes) ?? 0) : packetsReceived * (base.blksize ?? 0)
    const bitsPerSecond = end.sum_received ? (num(end.sum_received.bits_per_second) ?? 0) : seconds > 0 ? (bytesReceived * 8) / seconds : 0
    return {
      ...base,
      bytesReceived,
      bitsPerSecond,
      packetsReceived,
      packetsEstimated: false,
      packetsPerSecond: seconds > 0 ? packetsReceived / seconds : 0,
      packetsSent,
      lostPackets: lost,
      lossPercent: packetsSent > 0 ? (100 * lost) / packetsSent : (num(udp.lost_percent) ?? 0),
      jitterMs: num(udp.jitter_ms),
      outOfOrder: (end.streams ?? []).reduce((a, s) => a + (num(s.udp?.out_of_order) ?? 0), 0),
    }
  }
  const mss = num(doc.start?.tcp_mss) ?? num(doc.start?.tcp_mss_default)
  const bytesReceived = num(recv.bytes) ?? 0
  const packetsReceived = mss ? Math.round(bytesReceived / mss) : 0
  return {
    ...base,
    bytesReceived,
    bitsPerSecond: num(recv.bits_per_second) ?? (seconds > 0 ? (bytesReceived * 8) / seconds : 0),
    packetsReceived,
    packetsEstimated: true,
    packetsPerSecond: seconds > 0 ? packetsReceived / seconds : 0,
    retransmits: num(sent.retransmits),
    mss,
  }
}

// ------------------------------------------------------------------ units on the command line
const SI: Record<string, number> = {'': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12}
const BIN: Record<string, number> = {'': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4}

/** "100M", "1.5G", "900m", "250k", "max" (0 = unlimited) → bits/s. undefined when it is not a rate. */
export function parseRate(text: string): number | undefined {
  const t = text.trim().toLowerCase()
  if (t === 'max' || t === 'unlimited') return 0
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:bps|bit\/s|b)?$/.exec(t)
  if (!m) return undefined
  const v = Number(m[1]) * SI[m[2]]
  return v > 0 ? v : undefined
}

/** "1G", "512M", "100k", "1500" → bytes, binary multiples as iperf3 -n reads them. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/.exec(text.trim().toLowerCase())
  if (!m) return undefined
  const v = Math.round(Number(m[1]) * BIN[m[2]])
  return v > 0 ? v : undefined
}

/** 0 → "max"; 100e6 → "100M"; 1.5e9 → "1.5G". */
export function formatRate(bps: number): string {
  if (bps === 0) return 'max'
  for (const [u, f] of [['G', 1e9], ['M', 1e6], ['K', 1e3]] as const) if (bps >= f) return `${+(bps / f).toFixed(2)}${u}`
  return String(bps)
}

// ------------------------------------------------------------------ running it
/** Starts a process inside the node that should run it (e.g. TopologyHandle.spawn bound to a node). */
export type Spawner = (argv: string[]) => Promise<Started>

/** Starts `iperf3 -s` and waits until it accepts connections (`ready` polls for that, e.g. with ss). */
export async function startIperf3Server(spawn: Spawner, opts: {port: number; bind?: string; ready: () => Promise<boolean>; timeoutMs?: number}): Promise<Started> {
  const server = await spawn(['iperf3', ...iperf3ServerArgs(opts)])
  const deadline = Date.now() + (opts.timeoutMs ?? 5000)
  let exited: string | undefined
  void server.done.then((r) => {
    exited = (r.stderr || r.stdout).split('\n').find(Boolean) ?? `exit ${r.exitCode}`
  })
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Iperf3Error(`iperf3 server did not start: ${exited}`)
    if (await opts.ready()) return server
    await new Promise((r) => setTimeout(r, 25))
  }
  server.kill('SIGTERM')
  throw new Iperf3Error(`iperf3 server not listening on port ${opts.port} after ${opts.timeoutMs ?? 5000} ms`)
}

/**
 * Runs one client to completion and parses its JSON. An aborted signal stops it (SIGINT first, so
 * iperf3 closes the test with the server, then SIGKILL) and rejects with the abort reason.
 */
export async function runIperf3Client(spawn: Spawner, spec: Iperf3ClientSpec, opts: {signal?: AbortSignal; timeoutMs?: number} = {}): Promise<Iperf3Result> {
  // a fixed volume at an unlimited rate can take long (1G of 64-byte datagrams: minutes): an hour then
  const expected = spec.seconds ?? (spec.bitsPerSecond > 0 && spec.bytes ? (spec.bytes * 8) / spec.bitsPerSecond : 1200)
  const timeoutMs = opts.timeoutMs ?? Math.max(10_000, expected * 3000 + 10_000)
  opts.signal?.throwIfAborted()
  const client = await spawn(['iperf3', ...iperf3ClientArgs(spec)])
  let timedOut = false
  const stop = () => {
    client.kill('SIGINT')
    setTimeout(() => client.kill('SIGKILL'), 1000).unref()
  }
  const timer = setTimeout(() => {
    timedOut = true
    stop()
  }, timeoutMs)
  opts.signal?.addEventListener('abort', stop, {once: true})
  try {
    const r = await client.done
    opts.signal?.throwIfAborted()
    if (timedOut) throw new Iperf3Error(`iperf3 client did not finish within ${Math.round(timeoutMs / 1000)} s`)
    // not on PATH, not any "No such file" (`ip netns exec` says so for a namespace that is gone)
    if (!r.stdout && !which('iperf3')) throw new BadInputError('iperf3 is not installed: apt-get install iperf3')
    return parseIperf3(r.stdout || r.stderr)
  } finally {
    clearTimeout(timer)
    opts.signal?.removeEventListener('abort', stop)
  }
}

/**
 * runIperf3Client, again while the server is not ready for it yet (it is still closing the previous test:
 * "busy"; not listening: "Connection refused"), up to `attempts` times with a growing pause.
 */
export async function runIperf3ClientRetrying(spawn: Spawner, spec: Iperf3ClientSpec, opts: {signal?: AbortSignal; attempts?: number} = {}): Promise<Iperf3Result> {
  const attempts = opts.attempts ?? 10
  for (let attempt = 1; ; attempt++) {
    try {
      return await runIperf3Client(spawn, spec, {signal: opts.signal})
    } catch (error) {
      if (!(error instanceof Iperf3Error) || !/busy|Connection refused/i.test(error.message) || attempt >= attempts) throw error
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt))
      opts.signal?.throwIfAborted()
    }
  }
}
