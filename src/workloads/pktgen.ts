// The in-kernel packet generator and its counting sink (bpf/gen.bpf.c, bpf/sink.bpf.c, native pktgen.cc).
// A trial sends UDP frames of one size from the generator's port for a set time, at full speed or paced,
// then reads what the sink counted: sent (the generator's own per-CPU count, checked against the native
// side's), received once, lost, reordered, duplicated, and the one-way latency histogram of stamped
// frames. Layouts mirror bpf/pktgen.shared.h.
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {BpfObject, type Native} from '../native.js'
import {projectRoot} from '../util/paths.js'

export const GEN_OBJECT = () => join(projectRoot(), 'bpf', '.output', 'gen.bpf.o')
export const SINK_OBJECT = () => join(projectRoot(), 'bpf', '.output', 'sink.bpf.o')
const MAGIC = 0xeb9f
const HDR_SIZE = 12
const MAX_FLOWS = 4096
const HIST_BUCKETS = 512
const HIST_SUB_BITS = 4
const FLOW_SIZE = 56
/** Ethernet FCS: counted in a frame's size (RFC 2544), not carried on a veth. */
export const FCS = 4
export const DISCARD_PORT = 9

export type Family = 4 | 6

/** One way through the network: where frames leave, the addresses they carry. */
export interface FrameSpec {
  family: Family
  srcMac: string
  dstMac: string
  srcIp: string
  dstIp: string
  /** frame size with FCS, as RFC 2544 counts it */
  size: number
  sport?: number
  dport?: number
}

/** Smallest frame (with FCS) that holds the headers and the generator's payload header. */
export function minFrameSize(family: Family): number {
  return 14 + (family === 4 ? 20 : 40) + 8 + HDR_SIZE + FCS
}

const macBytes = (mac: string) => Buffer.from(mac.split(':').map((h) => Number.parseInt(h, 16)))

function ipBytes(ip: string, family: Family): Buffer {
  if (family === 4) return Buffer.from(ip.split('.').map(Number))
  const [head, tail = ''] = ip.split('::')
  const groups = (s: string) => (s === '' ? [] : s.split(':'))
  const h = groups(head)
  const t = groups(tail)
  const all = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
  const b = Buffer.alloc(16)
  all.forEach((g, i) => b.writeUInt16BE(Number.parseInt(g, 16), i * 2))
  return b
}

/** One's complement sum of big-endian 16-bit words. */
function sum16(b: Buffer, s = 0): number {
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i)
  if (b.length % 2) s += b[b.length - 1] << 8
  return s
}

const fold = (s: number) => {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
  return s
}

function ipHeader(f: FrameSpec, l4len: number): Buffer {
  const src = ipBytes(f.srcIp, f.family)
  const dst = ipBytes(f.dstIp, f.family)
  if (f.family === 6) {
    const h = Buffer.alloc(40)
    h.writeUInt32BE(0x60000000, 0)
    h.writeUInt16BE(l4len, 4)
    h[6] = 17
    h[7] = 64
    src.copy(h, 8)
    dst.copy(h, 24)
    return h
  }
  const h = Buffer.alloc(20)
  h[0] = 0x45
  h.writeUInt16BE(20 + l4len, 2)
  h.writeUInt16BE(0x4000, 6) // DF
  h[8] = 64
  h[9] = 17
  src.copy(h, 12)
  dst.copy(h, 16)
  h.writeUInt16BE(~fold(sum16(h)) & 0xffff, 10)
  return h
}

/** The frame (without FCS) and the generator's configuration (struct pktgen_cfg) for it. */
export function buildFrame(f: FrameSpec, opts: {flows: number; stamp: boolean}): {frame: Buffer; cfg: Buffer} {
  const len = f.size - FCS
  const eth = Buffer.concat([macBytes(f.dstMac), macBytes(f.srcMac), Buffer.from(f.family === 4 ? [0x08, 0x00] : [0x86, 0xdd])])
  const l3len = f.family === 4 ? 20 : 40
  const l4len = len - 14 - l3len
  const ip = ipHeader(f, l4len)
  const udp = Buffer.alloc(l4len)
  udp.writeUInt16BE(f.sport ?? 10000, 0)
  udp.writeUInt16BE(f.dport ?? DISCARD_PORT, 2)
  udp.writeUInt16BE(l4len, 4)
  udp.writeUInt16LE(MAGIC, 8) // pktgen_hdr.magic, host order as the programs write it
  const pseudo = Buffer.concat([ip.subarray(f.family === 4 ? 12 : 8), Buffer.from([0, 0, 0, 17]), (() => {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(l4len)
    return b
  })()])
  const csum = ~fold(sum16(udp, sum16(pseudo))) & 0xffff
  udp.writeUInt16BE(csum === 0 ? 0xffff : csum, 6)
  const frame = Buffer.concat([eth, ip, udp])
  const cfg = Buffer.alloc(68)
  eth.copy(cfg, 0)
  cfg[14] = l3len
  cfg[15] = opts.stamp ? 1 : 0
  ip.copy(cfg, 16)
  udp.copy(cfg, 56, 0, 8)
  cfg.writeUInt16LE(opts.flows, 64)
  return {frame, cfg}
}

/** Latency percentiles in ns from the sink's histogram (each bucket read as its midpoint). */
export interface Latency {
  count: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
}

/** Lower bound and width of histogram bucket i (the inverse of sink.bpf.c's lat_bucket). */
export function bucketRange(i: number): {low: number; width: number} {
  if (i < 1 << HIST_SUB_BITS) return {low: i, width: 1}
  const b = (i >> HIST_SUB_BITS) + HIST_SUB_BITS - 1
  const sub = i & ((1 << HIST_SUB_BITS) - 1)
  const width = 2 ** (b - HIST_SUB_BITS)
  return {low: ((1 << HIST_SUB_BITS) + sub) * width, width}
}

export function latencyFromHistogram(counts: number[], max: number): Latency | undefined {
  const total = counts.reduce((a, b) => a + b, 0)
  if (total === 0) return undefined
  const at = (q: number) => {
    const rank = Math.ceil(q * total)
    let seen = 0
    for (const [i, c] of counts.entries()) {
      seen += c
      if (seen >= rank) {
        const r = bucketRange(i)
        return Math.min(max, r.low + (r.width - 1) / 2)
      }
    }
    return max
  }
  return {count: total, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max}
}

export interface TrialOptions {
  /** where frames leave: the namespace ('' = ours) and port */
  netns: string
  ifname: string
  frame: FrameSpec
  /** frames per second over all generator CPUs; 0 = full speed */
  pps: number
  durationMs: number
  cpus: number[]
  flows: number
  stamp: boolean
  batchSize?: number
}

export interface Trial {
  pps: number
  sent: number
  /** distinct frames the sink counted (duplicates left out) */
  received: number
  lost: number
  /** lost / sent */
  loss: number
  reordered: number
  duplicates: number
  /** generator's achieved rate (sent / time) and the rate that arrived */
  offeredPps: number
  deliveredPps: number
  wallNs: number
  calls: number
  latency?: Latency
  /** the generator program's own count agreed with the test runs' repeat total */
  genCounted: number
}

/** The generator and the sink, loaded once; trials one at a time. */
export class PacketGen {
  private readonly gen: BpfObject
  private readonly sink: BpfObject
  private readonly cpus: number

  constructor(private readonly native: Native) {
    for (const p of [GEN_OBJECT(), SINK_OBJECT()]) if (!existsSync(p)) throw new Error(`${p} is missing: run npm run build:bpf`)
    this.cpus = native.numPossibleCpus()
    this.gen = BpfObject.open(GEN_OBJECT(), native)
    this.sink = BpfObject.open(SINK_OBJECT(), native)
    try {
      this.gen.load()
      this.sink.load()
    } catch (error) {
      this.close()
      throw error
    }
  }

  get sinkFd(): number {
    return this.sink.progFd('pktgen_sink')
  }

  /** The sink on a port: an XDP link (close the fd to detach). The port must have no XDP program. */
  attachSink(netns: string, ifname: string): number {
    return this.native.netnsXdpAttach(netns || null, ifname, this.sinkFd, 'native').linkFd
  }

  closeLink(fd: number): void {
    this.native.closeFd(fd)
  }

  /** Tests only: the sink also drops (uncounted) every Nth frame of each flow. */
  setDropEvery(n: number): void {
    const cfg = Buffer.alloc(8)
    cfg.writeUInt16BE(DISCARD_PORT, 0)
    cfg.writeUInt32LE(n, 4)
    this.native.mapUpdate(this.sink.mapFd('sink_cfg'), key(0), cfg)
  }

  async trial(o: TrialOptions, signal?: AbortSignal): Promise<Trial> {
    signal?.throwIfAborted()
    const {frame, cfg} = buildFrame({...o.frame, dport: DISCARD_PORT}, {flows: o.flows, stamp: o.stamp})
    this.reset(cfg, o.flows, o.stamp)
    const stop = () => this.native.genStop()
    signal?.addEventListener('abort', stop, {once: true})
    let report
    try {
      report = await this.native.genRunAsync({progFd: this.gen.progFd('pktgen_gen'), netns: o.netns, ifname: o.ifname, frame, cpus: o.cpus, pps: o.pps, durationMs: o.durationMs, batchSize: o.batchSize})
    } finally {
      signal?.removeEventListener('abort', stop)
    }
    signal?.throwIfAborted()
    const sent = report.threads.reduce((a, t) => a + t.packets, 0)
    await this.settle()
    return this.read(o, sent, report.wallNs, report.threads.reduce((a, t) => a + t.calls, 0))
  }

  close(): void {
    this.gen.close()
    this.sink.close()
  }

  private zeroPerCpu(fd: number, entries: number, size: number): void {
    const z = Buffer.alloc(size * this.cpus)
    for (let i = 0; i < entries; i++) this.native.mapUpdate(fd, key(i), z)
  }

  private reset(cfg: Buffer, flows: number, stamp: boolean): void {
    this.native.mapUpdate(this.gen.mapFd('gen_cfg'), key(0), cfg)
    this.zeroPerCpu(this.gen.mapFd('gen_state'), 1, 8)
    this.zeroPerCpu(this.sink.mapFd('sink_totals'), 1, 32)
    if (stamp) this.zeroPerCpu(this.sink.mapFd('sink_latency'), HIST_BUCKETS, 8)
    const z = Buffer.alloc(FLOW_SIZE)
    for (const id of flowIds(this.cpus, flows)) this.native.mapUpdate(this.sink.mapFd('sink_flows'), key(id), z)
    const sinkCfg = this.native.mapLookup(this.sink.mapFd('sink_cfg'), key(0), 8)!
    sinkCfg.writeUInt16BE(DISCARD_PORT, 0)
    this.native.mapUpdate(this.sink.mapFd('sink_cfg'), key(0), sinkCfg)
  }

  private sinkPackets(): number {
    return sumPerCpu(this.native.mapLookup(this.sink.mapFd('sink_totals'), key(0), 32 * this.cpus)!, this.cpus, 32, 0)
  }

  /** Frames still in flight (rings, softirqs on another CPU) arrive within milliseconds: wait until the count holds still. */
  private async settle(): Promise<void> {
    let last = -1
    for (let i = 0; i < 100; i++) {
      const now = this.sinkPackets()
      if (now === last) return
      last = now
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  private read(o: TrialOptions, sent: number, wallNs: number, calls: number): Trial {
    const genCounted = sumPerCpu(this.native.mapLookup(this.gen.mapFd('gen_state'), key(0), 8 * this.cpus)!, this.cpus, 8, 0)
    let packets = 0
    let reordered = 0
    let duplicates = 0
    for (const id of flowIds(this.cpus, o.flows)) {
      const v = this.native.mapLookup(this.sink.mapFd('sink_flows'), key(id), FLOW_SIZE)!
      packets += Number(v.readBigUInt64LE(24))
      reordered += Number(v.readBigUInt64LE(40))
      duplicates += Number(v.readBigUInt64LE(48))
    }
    const received = packets - duplicates
    const lost = Math.max(0, sent - received)
    const s = wallNs / 1e9
    return {
      pps: o.pps,
      sent,
      received,
      lost,
      loss: sent > 0 ? lost / sent : 0,
      reordered,
      duplicates,
      offeredPps: sent / s,
      deliveredPps: received / s,
      wallNs,
      calls,
      latency: o.stamp ? this.latency() : undefined,
      genCounted,
    }
  }

  private latency(): Latency | undefined {
    const fd = this.sink.mapFd('sink_latency')
    const counts = Array.from({length: HIST_BUCKETS}, (_, i) => sumPerCpu(this.native.mapLookup(fd, key(i), 8 * this.cpus)!, this.cpus, 8, 0))
    const totals = this.native.mapLookup(this.sink.mapFd('sink_totals'), key(0), 32 * this.cpus)!
    let max = 0
    for (let c = 0; c < this.cpus; c++) max = Math.max(max, Number(totals.readBigUInt64LE(c * 32 + 16)))
    return latencyFromHistogram(counts, max)
  }
}

/** Flow ids the generator can write: CPU × flows + i (the sink keys its records by them). */
function flowIds(cpus: number, flows: number): number[] {
  const ids: number[] = []
  for (let c = 0; c < cpus; c++) for (let i = 0; i < flows; i++) ids.push((c * flows + i) & (MAX_FLOWS - 1))
  return [...new Set(ids)]
}

function key(i: number): Buffer {
  const k = Buffer.alloc(4)
  k.writeUInt32LE(i)
  return k
}

function sumPerCpu(v: Buffer, cpus: number, stride: number, offset: number): number {
  let s = 0
  for (let c = 0; c < cpus; c++) s += Number(v.readBigUInt64LE(c * stride + offset))
  return s
}
