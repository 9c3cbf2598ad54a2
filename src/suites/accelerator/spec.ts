// What to measure: modes, the grid of (protocol, offered rate, size) points, the end condition of a run,
// repetitions. Everything a user types is checked here, before anything is created, with one line per
// mistake naming the flag and the fix.
import {BadInputError} from '../../util/errors.js'
import {formatRate, parseBytes, parseRate, type Protocol} from '../../workloads/iperf3.js'
import type {Plan} from '../../topology/model.js'
import type {Hook, TcAttach, XdpMode} from './fastpath.js'
import type {PacketSpec} from './packets.js'
import {buildPacketSpec, parseLoads, type Load, type PacketFlags} from './packet-spec.js'

export type Mode = 'kernel' | 'xdp' | 'tc' | 'object'
export const MODES: readonly Mode[] = ['kernel', 'xdp', 'tc', 'object']

export interface Point {
  protocol: Protocol
  /** bits/s offered; 0 = as fast as the generator can (iperf3 -b 0). */
  rate: number
  /** UDP payload bytes (iperf3 -l) / TCP MSS (iperf3 -M); undefined = iperf3's and the kernel's default. */
  size?: number
}

export interface AccelSpec {
  modes: Mode[]
  points: Point[]
  end: {seconds?: number; bytes?: number}
  streams: number
  repeat: number
  warmup: number
  family: 4 | 6
  xdpMode: XdpMode
  tcAttach: 'auto' | TcAttach
  object?: {path: string; program?: string; hook?: Hook}
  progStats: boolean
  /** ms between latency-probe echoes; 0 = no probe (and no latency runs) */
  probeIntervalMs: number
  /**
   * Extra runs per case with the latency probe beside the same load: latency under load comes from
   * these, throughput and CPU from the `repeat` runs without it (on a small machine the probe's wake-ups
   * cost throughput: bench/accelerator-harness.js measures that share).
   */
  latencyRuns: number
  quick: boolean
  /** which loads run: the packet generator's RFC 2544 tests, iperf3's goodput runs, or both */
  loads: Load[]
  packets?: PacketSpec
}

export interface RawFlags extends PacketFlags {
  load?: string
  quick?: boolean
  repeat?: number
  modes?: string
  rates?: string
  sizes?: string
  protocols?: string
  volume?: string
  time?: number
  streams?: number
  family?: string
  'xdp-mode'?: string
  'tc-attach'?: string
  object?: string
  program?: string
  hook?: string
  'prog-stats'?: boolean
  'probe-interval'?: number
  'latency-runs'?: number
  warmup?: number
}

/** The default grid (8 points × 3 modes × 8 runs of 2 s: 1 warm-up, 5 counted, 2 with the latency probe) and the quick one. */
export const DEFAULT_RATES = ['100M', '500M', '700M', '900M', 'max']
export const DEFAULT_UDP_SIZE = 1460
export const DEFAULT_SIZES = [64, 512, 1460]
const DEFAULT_TIME = 2
const QUICK_TIME = 1
const QUICK_REPEAT = 3
const DEFAULT_REPEAT = 5
const QUICK_LATENCY_RUNS = 1
const DEFAULT_LATENCY_RUNS = 2

/** Minimum sizes: iperf3 puts a 16-byte header in every UDP datagram; Linux refuses an MSS under 88. */
export const MIN_UDP_SIZE = 16
export const MIN_TCP_MSS = 88
const MAX_RATE = 400e9

function list(flag: string, text: string): string[] {
  const items = text.split(',').map((s) => s.trim())
  if (items.some((s) => s === '')) throw new BadInputError(`--${flag} ${text}: an empty item (write a comma-separated list, e.g. --${flag} ${flag === 'rates' ? '100M,500M,max' : flag === 'sizes' ? '64,512,1460' : 'tcp,udp'})`)
  return [...new Set(items)]
}

export function parseRates(text: string): number[] {
  return list('rates', text).map((r) => {
    const v = parseRate(r)
    if (v === undefined) throw new BadInputError(`--rates: "${r}" is not a rate (write 100M, 1.5G, 250K or max; bits per second)`)
    if (v > MAX_RATE) throw new BadInputError(`--rates: ${r} is out of range (at most ${formatRate(MAX_RATE)}; max for as fast as possible)`)
    if (v !== 0 && v < 1000) throw new BadInputError(`--rates: ${r} is out of range (at least 1K bit/s)`)
    return v
  })
}

export function parseSizes(text: string): number[] {
  return list('sizes', text).map((s) => {
    if (!/^\d+$/.test(s)) throw new BadInputError(`--sizes: "${s}" is not a size in bytes (write e.g. 64,512,1460)`)
    return Number(s)
  })
}

/** Largest UDP payload and TCP MSS that fit the path's MTU without fragments. */
export function sizeLimits(mtu: number, family: 4 | 6): {udp: number; tcp: number} {
  const ip = family === 4 ? 20 : 40
  return {udp: mtu - ip - 8, tcp: mtu - ip - 20}
}

/** The smallest MTU on the DUT's links (the path's MTU; 1500 when the file sets none). */
export function pathMtu(plan: Plan): number {
  return Math.min(...plan.links.map((l) => l.mtu ?? 1500))
}

/** How a run ends: after --volume bytes, or after --time seconds. */
function runEnd(f: RawFlags, quick: boolean): AccelSpec['end'] {
  if (f.volume !== undefined && f.time !== undefined) throw new BadInputError('--volume and --time both given: a run ends after a fixed volume or a fixed time, choose one')
  if (f.volume === undefined) return {seconds: f.time ?? (quick ? QUICK_TIME : DEFAULT_TIME)}
  const bytes = parseBytes(f.volume)
  if (bytes === undefined) throw new BadInputError(`--volume ${f.volume}: not a size (write 1G, 500M, 100K; bytes, binary multiples as iperf3 -n)`)
  if (bytes < 64 * 1024) throw new BadInputError(`--volume ${f.volume}: too small to measure (at least 64K)`)
  return {bytes}
}

/** The modes, the kernel baseline first (every other mode is compared with it). */
function parseModes(f: RawFlags): Mode[] {
  let modes: Mode[]
  if (f.modes !== undefined) {
    modes = list('modes', f.modes).map((m) => {
      if (!MODES.includes(m as Mode)) throw new BadInputError(`--modes: "${m}" is not a mode (${MODES.join(', ')})`)
      return m as Mode
    })
    if (modes.includes('object') && !f.object) throw new BadInputError('--modes object needs --object FILE (your accelerator)')
  } else {
    modes = f.object ? ['kernel', 'object'] : ['kernel', 'xdp', 'tc']
  }
  if (f.object && !modes.includes('object')) modes.push('object')
  if (f.program && !f.object) throw new BadInputError('--program needs --object FILE')
  if (f.hook && !f.object) throw new BadInputError('--hook needs --object FILE (the built-in modes are --modes xdp and tc)')
  return modes.sort((a, b) => MODES.indexOf(a) - MODES.indexOf(b))
}

/** iperf3's grid: what was given, crossed, checked against the path's MTU. */
function iperf3Points(f: RawFlags, quick: boolean, loads: Load[], mtu: number, family: 4 | 6): Point[] {
  const protocols = f.protocols !== undefined ? list('protocols', f.protocols).map((p) => {
    const v = p.toLowerCase()
    if (v !== 'tcp' && v !== 'udp') throw new BadInputError(`--protocols: "${p}" is not tcp or udp`)
    return v as Protocol
  }) : undefined
  const rates = f.rates !== undefined ? parseRates(f.rates) : undefined
  const sizes = f.sizes !== undefined ? parseSizes(f.sizes) : undefined
  const lim = sizeLimits(mtu, family)
  for (const s of sizes ?? []) {
    const wantsUdp = !protocols || protocols.includes('udp')
    const wantsTcp = protocols?.includes('tcp') ?? false
    if (wantsUdp && (s < MIN_UDP_SIZE || s > lim.udp))
      throw new BadInputError(`--sizes: ${s} is out of range for UDP (${MIN_UDP_SIZE}…${lim.udp} bytes of payload: the path MTU is ${mtu}, IPv${family}; larger datagrams would be fragmented)`)
    if (wantsTcp && (s < MIN_TCP_MSS || s > lim.tcp))
      throw new BadInputError(`--sizes: ${s} is out of range for TCP, where the size is the MSS (${MIN_TCP_MSS}…${lim.tcp} bytes: the path MTU is ${mtu}, IPv${family}); use --protocols udp for smaller sizes`)
  }
  if (!loads.includes('iperf3')) return []
  const R = (xs: string[]) => xs.map((x) => parseRate(x)!)
  // the defaults fit the path: 1460 bytes over IPv4 at MTU 1500; less over IPv6 or a smaller MTU
  const defUdp = Math.min(DEFAULT_UDP_SIZE, lim.udp)
  if (!protocols && !rates && !sizes) {
    // quick, or beside the packet tests: iperf3 is the end-to-end scenario (TCP and UDP goodput)
    if (quick || loads.includes('live-frames')) return [{protocol: 'tcp', rate: 0}, {protocol: 'udp', rate: 500e6, size: defUdp}]
    return [
      {protocol: 'tcp', rate: 0},
      ...R(DEFAULT_RATES).map((rate) => ({protocol: 'udp' as const, rate, size: defUdp})),
      ...DEFAULT_SIZES.filter((s) => s < defUdp).map((size) => ({protocol: 'udp' as const, rate: 0, size})),
    ]
  }
  // what was given, crossed; what was not: the defaults (one size per protocol, every default rate)
  // sizes alone mean datagram sizes: UDP (for TCP a size is the MSS; ask for it with --protocols tcp)
  const ps = protocols ?? (sizes ? ['udp' as const] : ['tcp' as const, 'udp' as const])
  const rs = rates ?? R(quick ? ['500M', 'max'] : DEFAULT_RATES)
  const points: Point[] = []
  for (const protocol of ps) {
    const ss = sizes ?? [protocol === 'udp' ? defUdp : undefined]
    for (const size of ss) for (const rate of rs) points.push({protocol, rate, size})
  }
  return points
}

export function buildSpec(f: RawFlags, plan: Plan): AccelSpec {
  const quick = f.quick ?? false
  const end = runEnd(f, quick)
  const family = f.family === '6' ? 6 : 4
  const modes = parseModes(f)
  const mtu = pathMtu(plan)
  const loads = parseLoads(f.load)
  const points = iperf3Points(f, quick, loads, mtu, family)
  return {
    modes,
    points,
    end,
    streams: f.streams ?? 1,
    repeat: f.repeat ?? (quick ? QUICK_REPEAT : DEFAULT_REPEAT),
    warmup: f.warmup ?? 1,
    family,
    xdpMode: (f['xdp-mode'] ?? 'native') as XdpMode,
    tcAttach: (f['tc-attach'] ?? 'auto') as AccelSpec['tcAttach'],
    object: f.object ? {path: f.object, program: f.program, hook: f.hook as Hook | undefined} : undefined,
    progStats: f['prog-stats'] ?? true,
    probeIntervalMs: f['probe-interval'] ?? 20,
    latencyRuns: f['probe-interval'] === 0 ? 0 : (f['latency-runs'] ?? (quick ? QUICK_LATENCY_RUNS : DEFAULT_LATENCY_RUNS)),
    quick,
    loads,
    packets: loads.includes('live-frames') ? buildPacketSpec(f, family, mtu, Math.min(...plan.links.map((l) => l.queues ?? 1))) : undefined,
  }
}

export function pointLabel(p: Point): string {
  const size = p.size === undefined ? (p.protocol === 'tcp' ? 'MSS default' : 'default') : p.protocol === 'tcp' ? `MSS ${p.size}` : `${p.size} B`
  return `${p.protocol.toUpperCase()} ${size} @ ${formatRate(p.rate)}`
}

export function pointId(p: Point): string {
  return `${p.protocol}/${formatRate(p.rate)}/${p.size === undefined ? 'default' : `${p.size}B`}`
}

export function endLabel(end: AccelSpec['end']): string {
  return end.bytes !== undefined ? `volume ${end.bytes} B` : `time ${end.seconds} s`
}

/** Runs in the whole sweep (warm-up and latency runs included), for the ETA. */
export function totalRuns(spec: AccelSpec, activeModes: number): number {
  return spec.points.length * activeModes * (spec.repeat + spec.warmup + spec.latencyRuns)
}
