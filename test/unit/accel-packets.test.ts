// The accelerator's packet tests without a kernel: frames the generator sends (checksums), the sink's
// latency histogram read back, RFC 2544's throughput search against known bottlenecks, the flags, and
// the cases, answer and table built from rounds.
import {expect} from 'chai'
import {BadInputError} from '../../src/util/errors.js'
import {loadTopology} from '../../src/topology/model.js'
import {buildSpec} from '../../src/suites/accelerator/spec.js'
import {bucketRange, buildFrame, latencyFromHistogram, minFrameSize, type Trial} from '../../src/workloads/pktgen.js'
import {parseRateList, searchThroughput} from '../../src/suites/accelerator/rfc2544.js'
import {checkLiveFrames} from '../../src/suites/accelerator/packet-spec.js'
import {GENERATOR_PATH, prove, rotated, type PacketBucket} from '../../src/suites/accelerator/packets.js'
import {packetAnswer, packetCases, packetCsv, packetTable} from '../../src/suites/accelerator/packet-report.js'
import {RequirementError} from '../../src/util/errors.js'

const plan = loadTopology('acc')
const spec = (flags: Parameters<typeof buildSpec>[0] = {}) => buildSpec(flags, plan)

/** One's complement sum over 16-bit big-endian words; a correct checksum makes it 0xffff. */
function onesSum(b: Buffer): number {
  let s = 0
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i)
  if (b.length % 2) s += b[b.length - 1] << 8
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
  return s
}

const v4 = {family: 4 as const, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', srcIp: '198.18.100.1', dstIp: '198.18.101.1'}
const v6 = {family: 6 as const, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', srcIp: '2001:2:0:100::1', dstIp: '2001:2:0:101::1'}

describe('packet generator: frames', () => {
  it('IPv4: 64-byte frame (60 on the wire without FCS), valid IP and UDP checksums, the magic first in the payload', () => {
    const {frame, cfg} = buildFrame({...v4, size: 64}, {flows: 4, stamp: false})
    expect(frame.length).to.equal(60)
    expect(onesSum(frame.subarray(14, 34))).to.equal(0xffff)
    const pseudo = Buffer.concat([frame.subarray(26, 34), Buffer.from([0, 17]), frame.subarray(38, 40)])
    expect(onesSum(Buffer.concat([pseudo, frame.subarray(34)]))).to.equal(0xffff)
    expect(frame.readUInt16LE(42)).to.equal(0xeb9f)
    expect(cfg.length).to.equal(68)
    expect(cfg[14]).to.equal(20)
    expect(cfg.readUInt16LE(64)).to.equal(4)
  })

  it('IPv6: the smallest frame is 78 bytes (RFC 5180), UDP checksum valid over the IPv6 pseudo-header', () => {
    expect(minFrameSize(6)).to.equal(78)
    expect(minFrameSize(4)).to.equal(58)
    const {frame} = buildFrame({...v6, size: 78}, {flows: 1, stamp: true})
    expect(frame.length).to.equal(74)
    const len = frame.readUInt16BE(18)
    const pseudo = Buffer.concat([frame.subarray(22, 54), Buffer.from([0, 0, len >> 8, len & 0xff, 0, 0, 0, 17])])
    expect(onesSum(Buffer.concat([pseudo, frame.subarray(54)]))).to.equal(0xffff)
  })
})

describe('packet generator: latency histogram', () => {
  /** sink.bpf.c's lat_bucket, in TypeScript */
  const bucketOf = (v: number) => (v < 16 ? v : ((Math.floor(Math.log2(v)) - 3) << 4) + ((v >>> (Math.floor(Math.log2(v)) - 4)) & 15))
  it('bucketRange inverts the sink\'s bucket function: every value falls inside its bucket, widths ≤ 6.25%', () => {
    for (const v of [0, 1, 15, 16, 17, 31, 32, 100, 1000, 12345, 999999, 2 ** 31 + 5, 2 ** 32 - 1]) {
      const r = bucketRange(bucketOf(v))
      expect(v, String(v)).to.be.within(r.low, r.low + r.width - 1)
      if (v >= 16) expect(r.width / r.low).to.be.at.most(1 / 16)
    }
    expect(bucketOf(2 ** 32 - 1)).to.be.below(512)
  })

  it('percentiles from counts, capped by the maximum seen', () => {
    const counts = Array(512).fill(0)
    counts[bucketOf(1000)] = 90
    counts[bucketOf(5000)] = 9
    counts[bucketOf(100000)] = 1
    const l = latencyFromHistogram(counts, 100500)!
    expect(l.count).to.equal(100)
    expect(l.p50).to.be.within(1000 * 0.95, 1000 * 1.07)
    expect(l.p90).to.be.within(1000 * 0.95, 1000 * 1.07)
    expect(l.p99).to.be.within(5000 * 0.95, 5000 * 1.07)
    expect(l.max).to.equal(100500)
    expect(latencyFromHistogram(Array(512).fill(0), 0)).to.equal(undefined)
  })
})

/** A path that forwards at most `capacity` frames/s; the generator reaches `genMax` at full speed. */
function fakePath(capacity: number, genMax: number, calls: number[] = []) {
  return async (pps: number): Promise<Trial> => {
    calls.push(pps)
    const offered = pps === 0 ? genMax : Math.min(pps, genMax)
    const delivered = Math.min(offered, capacity)
    const sent = Math.round(offered)
    const received = Math.round(delivered)
    return {pps, sent, received, lost: sent - received, loss: (sent - received) / sent, reordered: 0, duplicates: 0, offeredPps: offered, deliveredPps: delivered, wallNs: 1e9, calls: 1, genCounted: sent}
  }
}

describe('RFC 2544 throughput search', () => {
  const opts = {tolerance: 0, maxSteps: 8, resolution: 0.01}
  it('a path faster than the generator passes at full speed in one trial', async () => {
    const t = await searchThroughput(fakePath(10e6, 5e6), opts)
    expect(t).to.include({pps: 5e6, atFullSpeed: true})
    expect(t.trials).to.have.length(1)
  })

  it('converges on a known bottleneck from above, never reporting a rate that lost frames', async () => {
    const calls: number[] = []
    const t = await searchThroughput(fakePath(1.234e6, 5e6, calls), opts)
    expect(t.atFullSpeed).to.equal(false)
    expect(t.pps).to.be.at.most(1.234e6)
    expect(t.pps).to.be.at.least(1.234e6 * 0.97)
    expect(calls[0]).to.equal(0)
    expect(t.passed!.loss).to.equal(0)
  })

  it('a tolerance lets some loss pass; a path that always loses gives 0 after the allowed steps', async () => {
    const lossy = async (pps: number) => ({...(await fakePath(10e6, 5e6)(pps)), loss: 0.1, lost: 1})
    expect((await searchThroughput(lossy, {...opts, tolerance: 0.2})).pps).to.equal(5e6)
    const none = await searchThroughput(lossy, {...opts, maxSteps: 3})
    expect(none.pps).to.equal(0)
    expect(none.trials).to.have.length(4)
  })

  it('rates: percentages, frames and bits per second; zero, missing units and absurd values refused', () => {
    expect(parseRateList('--loss-rates', '90%,2Mpps,500Kpps,1Gbit')).to.deep.equal([{percent: 90}, {pps: 2e6}, {pps: 5e5}, {bps: 1e9}])
    for (const bad of ['0pps', '2M', '150%', '0%', 'fast', '2000Gpps']) expect(() => parseRateList('--loss-rates', bad), bad).to.throw(RangeError)
  })
})

describe('accelerator: packet flags', () => {
  it('default: both loads; RFC 2544 sizes; iperf3 kept as the end-to-end scenario (TCP and UDP)', () => {
    const s = spec()
    expect(s.loads).to.deep.equal(['live-frames', 'iperf3'])
    expect(s.packets!.sizes).to.deep.equal([64, 128, 256, 512, 1024, 1280, 1518])
    expect(s.points.map((p) => p.protocol)).to.deep.equal(['tcp', 'udp'])
    expect(s.packets).to.include({tolerance: 0, latencyLoad: 0.9, flows: 4, trialMs: 500})
    expect(s.packets!.lossRates).to.deep.equal([{percent: 100}, {percent: 90}, {percent: 80}])
  })

  it('--quick: 64 B only, no loss-rate test; IPv6 starts at 78 B; --load picks one', () => {
    expect(spec({quick: true}).packets!.sizes).to.deep.equal([64])
    expect(spec({quick: true}).packets!.lossRates).to.deep.equal([])
    expect(spec({quick: true, family: '6'}).packets!.sizes).to.deep.equal([78])
    expect(spec({load: 'iperf3'}).packets).to.equal(undefined)
    expect(spec({load: 'live-frames'}).points).to.deep.equal([])
  })

  it('bad input: one line naming the flag', () => {
    const bad = (f: Parameters<typeof buildSpec>[0], re: RegExp) => expect(() => spec(f)).to.throw(BadInputError, re)
    bad({'frame-sizes': '40'}, /--frame-sizes: 40 is below the smallest IPv4 frame.*58 bytes/)
    bad({'frame-sizes': '64', family: '6'}, /below the smallest IPv6 frame.*78/)
    bad({'frame-sizes': '9000'}, /above the path's largest frame \(1518/)
    bad({'frame-sizes': 'big'}, /not a frame size/)
    bad({'loss-tolerance': 150}, /--loss-tolerance 150: out of range/)
    bad({'loss-rates': '0pps'}, /--loss-rates: 0pps is zero/)
    bad({'latency-load': 120}, /--latency-load 120/)
    bad({'gen-cpus': 4096}, /--gen-cpus 4096/)
    bad({load: 'pktgen'}, /--load: "pktgen" is not a load/)
  })

  it('a kernel older than 5.18 cannot run the generator: exit 4 with the reason', () => {
    expect(() => checkLiveFrames('5.15.0-91-generic')).to.throw(RequirementError, /live frames \(Linux 5\.18/)
    expect(() => checkLiveFrames('6.18.4')).not.to.throw()
  })
})

function trial(pps: number, extra: Partial<Trial> = {}): Trial {
  return {pps: 0, sent: pps / 2, received: pps / 2, lost: 0, loss: 0, reordered: 0, duplicates: 0, offeredPps: pps, deliveredPps: pps, wallNs: 5e8, calls: 10, genCounted: pps / 2, ...extra}
}

function bucket(mode: string, size: number, rates: number[], extra: Partial<PacketBucket> = {}): PacketBucket {
  const info = mode === 'generator' ? GENERATOR_PATH : {mode: mode as 'kernel', label: mode, params: {}}
  return {
    size,
    path: {info},
    rounds: rates.map((pps, rep) => ({rep, warmup: false, throughput: {pps, trials: [trial(pps)], atFullSpeed: true, passed: trial(pps)}, proof: {generatorCounted: true, from: 'none' as const}})),
    latency: [],
    loss: [],
    errors: [],
    ...extra,
  }
}

describe('accelerator: packet results', () => {
  const drift = [1, 0.7, 1.2, 0.9, 1.1] // the machine's speed per round, shared by every path of a round
  const buckets = [
    bucket('generator', 64, drift.map((d) => 8e6 * d)),
    bucket('kernel', 64, drift.map((d) => 2e6 * d)),
    bucket('xdp', 64, drift.map((d, i) => 5e6 * d * (1 + 0.02 * (i % 2)))),
  ]

  it('the answer: XDP/kernel paired by round despite 40% drift between rounds; generator not the bottleneck', () => {
    const [line] = packetAnswer(buckets)
    expect(line).to.match(/^At 64 B: XDP forwarded 2\.\d× \(95% CI 2\.\d×–2\.\d×\) the frames of kernel forwarding; generator not the bottleneck \(alone 7\.84 Mpps, 1\.6× the best path\)\.$/)
  })

  it('generator-bound when the generator alone is under 1.5× the best path, and said so in the case', () => {
    const slow = [bucket('generator', 64, [6e6, 6e6]), bucket('kernel', 64, [2e6, 2.1e6]), bucket('xdp', 64, [5e6, 5.1e6])]
    expect(packetAnswer(slow)[0]).to.match(/GENERATOR-BOUND: the generator alone reached 6\.00 Mpps, under 1\.5× the best path's 5\.05 Mpps/)
    const xdp = packetCases(slow, {oneCpu: true}).find((c) => c.id === 'frames/xdp/64B/throughput')!
    expect(xdp.extra!.bottleneck).to.match(/^generator/)
  })

  it('cases: throughput, ns per frame, the DUT\'s own ns (path less generator, same round), failed on a broken proof', () => {
    const cases = packetCases(buckets, {oneCpu: true})
    const ids = cases.map((c) => c.id)
    expect(ids).to.include.members(['frames/kernel/64B/throughput', 'frames/kernel/64B/ns_per_frame', 'frames/kernel/64B/dut_ns_per_frame', 'frames/generator/64B/throughput'])
    expect(ids).not.to.include('frames/generator/64B/dut_ns_per_frame')
    const dut = cases.find((c) => c.id === 'frames/kernel/64B/dut_ns_per_frame')!
    expect(dut.samples[0]).to.be.closeTo(1e9 / 2e6 - 1e9 / 8e6, 1e-6)
    expect(packetCases(buckets, {oneCpu: false}).map((c) => c.id)).not.to.include('frames/kernel/64B/dut_ns_per_frame')
    const broken = bucket('xdp', 64, [5e6, 5e6])
    broken.rounds[1].proof.problem = 'the kernel forwarded them'
    const c = packetCases([bucket('kernel', 64, [2e6, 2e6]), broken], {oneCpu: true}).find((x) => x.id === 'frames/xdp/64B/throughput')!
    expect(c.status).to.equal('failed')
    expect(c.reason).to.match(/1 of 2 rounds: the kernel forwarded them/)
  })

  it('the table and the CSV carry every path and trial', () => {
    const table = packetTable(buckets)
    expect(table).to.match(/64 B frames/)
    expect(table).to.match(/xdp +5 +4\.93±0\.93/)
    const csv = packetCsv(buckets).trim().split('\n')
    expect(csv).to.have.length(1 + 15)
    expect(csv[0]).to.match(/^case,mode,configuration,frame_size,test,rep/)
  })

  it('proof: the sink may not count more than the DUT forwarded; a fast path must keep the kernel out', () => {
    const k = {info: {mode: 'kernel' as const, label: 'kernel', params: {}}}
    const x = {info: {mode: 'xdp' as const, label: 'xdp', params: {}}}
    const t = [trial(1000)]
    expect(prove(k, t, 500, undefined).problem).to.equal(undefined)
    expect(prove(k, t, 400, undefined).problem).to.match(/sink counted 500 frames but the DUT's kernel forwarded 400/)
    expect(prove(x, t, 0, 500).problem).to.equal(undefined)
    expect(prove(x, t, 300, 500).problem).to.match(/kernel 300/)
    expect(prove(x, [trial(1000, {genCounted: 7})], 0, 500).problem).to.match(/generator program counted/)
  })

  it('rounds visit the paths in a rotated order', () => {
    expect([0, 1, 2, -1].map((r) => rotated(['a', 'b', 'c'], r).join(''))).to.deep.equal(['abc', 'bca', 'cab', 'cab'])
  })
})

describe('accelerator: generator CPUs and queues', () => {
  it('--gen-cpus needs a queue per generator CPU on every link (the shipped acc topology has 2)', () => {
    expect(buildSpec({'gen-cpus': 2}, plan).packets!.cpus).to.deep.equal([0, 1])
    const oneQueue = {...plan, links: plan.links.map((l) => ({...l, queues: undefined}))}
    expect(() => buildSpec({'gen-cpus': 2}, oneQueue)).to.throw(BadInputError, /--gen-cpus 2: the topology's links have 1 queue\(s\); give every link `queues: 2`/)
  })
})
