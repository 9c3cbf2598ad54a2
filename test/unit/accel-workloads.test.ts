// The accelerator's workload parsers against recorded output (iperf3 3.12 --json and ping -D from this
// machine's acc topology): no kernel, no processes.
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {formatRate, iperf3ClientArgs, Iperf3Error, parseBytes, parseIperf3, parseRate} from '../../src/workloads/iperf3.js'
import {parsePing, summarizeLatency, withinWindow} from '../../src/workloads/latency.js'
import {cpuDelta, parseProcStat} from '../../src/workloads/procstat.js'

const fixtures = new URL('../fixtures/accelerator/', import.meta.url).pathname
const fx = (name: string) => readFileSync(join(fixtures, name), 'utf8')

describe('iperf3 --json parser', () => {
  it('UDP: receiver throughput, delivered packets (sent − lost), loss and jitter from the receiver', () => {
    const r = parseIperf3(fx('iperf3-udp.json'))
    expect(r.protocol).to.equal('udp')
    expect(r.bitsPerSecond).to.be.closeTo(197664904.8, 0.1) // sum_received, not the sender's 199 Mbit/s
    expect(r.senderBitsPerSecond).to.be.closeTo(199147562.5, 0.1)
    expect(r.packetsSent).to.equal(17847)
    expect(r.lostPackets).to.equal(60)
    expect(r.packetsReceived).to.equal(17787)
    expect(r.packetsEstimated).to.equal(false)
    expect(r.packetsPerSecond).to.be.closeTo(17787 / 1.007839, 1e-6)
    expect(r.lossPercent).to.be.closeTo(0.3362, 1e-4)
    expect(r.jitterMs).to.be.closeTo(0.000705, 1e-6)
    expect(r.blksize).to.equal(1400)
    expect(r.targetBitsPerSecond).to.equal(200e6)
    expect(r.retransmits).to.equal(undefined)
    expect(r.cpu.sender.total).to.be.closeTo(24.01, 0.01)
    expect(r.cpu.receiver.total).to.be.closeTo(15.21, 0.01)
  })

  it('UDP with two streams of 64-byte datagrams: the sums, not one stream', () => {
    const r = parseIperf3(fx('iperf3-udp-2streams-64.json'))
    expect(r.streams).to.equal(2)
    expect(r.packetsReceived).to.equal(74560 - 8791)
    expect(r.bytesReceived).to.equal(4209216)
    expect(r.lossPercent).to.be.closeTo(11.79, 0.01)
  })

  it('UDP from an older iperf3 without sum_received: the receiver figures come from "sum"', () => {
    const doc = JSON.parse(fx('iperf3-udp.json'))
    delete doc.end.sum_received
    const r = parseIperf3(doc)
    expect(r.packetsReceived).to.equal(17787)
    expect(r.bytesReceived).to.equal(17787 * 1400)
    expect(r.bitsPerSecond).to.be.closeTo((17787 * 1400 * 8) / 1.007839, 1)
  })

  it('UDP ended by volume (-n): the same figures, duration from the run', () => {
    const r = parseIperf3(fx('iperf3-udp-volume.json'))
    expect(r.bytesReceived).to.equal(10486000)
    expect(r.seconds).to.be.closeTo(0.839296, 1e-6)
    expect(r.lossPercent).to.equal(0)
  })

  it('TCP: receiver throughput, retransmits from the sender, packets estimated from the MSS', () => {
    const r = parseIperf3(fx('iperf3-tcp.json'))
    expect(r.protocol).to.equal('tcp')
    expect(r.bitsPerSecond).to.be.closeTo(2104704235.6, 0.1)
    expect(r.retransmits).to.equal(40)
    expect(r.mss).to.equal(1448)
    expect(r.packetsEstimated).to.equal(true)
    expect(r.packetsReceived).to.equal(Math.round(263585792 / 1448))
    expect(r.lossPercent).to.equal(undefined)
    expect(r.jitterMs).to.equal(undefined)
  })

  it('TCP with -M: the MSS that was set', () => {
    const r = parseIperf3(fx('iperf3-tcp-2streams-mss1000.json'))
    expect(r.mss).to.equal(1000)
    expect(r.streams).to.equal(2)
    expect(r.retransmits).to.equal(4091)
    expect(r.packetsReceived).to.equal(Math.round(211156992 / 1000))
  })

  it('iperf3\'s own error, truncated JSON and non-JSON output are Iperf3Errors', () => {
    expect(() => parseIperf3(fx('iperf3-refused.json'))).to.throw(Iperf3Error, /unable to connect to server: Connection refused/)
    expect(() => parseIperf3(fx('iperf3-udp.json').slice(0, 500))).to.throw(Iperf3Error, /malformed JSON/)
    expect(() => parseIperf3('iperf3: error - the server is busy running a test. try again later')).to.throw(Iperf3Error, /printed no JSON: iperf3: error - the server is busy/)
    expect(() => parseIperf3('{"start": {}, "end": {}}')).to.throw(Iperf3Error, /no end summary/)
  })

  it('client arguments: UDP says -b 0 for unlimited, TCP leaves it out; exactly one end condition', () => {
    expect(iperf3ClientArgs({server: '198.18.101.1', port: 5301, protocol: 'udp', bitsPerSecond: 0, size: 64, seconds: 2})).to.deep.equal(['-c', '198.18.101.1', '-p', '5301', '--json', '-u', '-b', '0', '-l', '64', '-t', '2'])
    expect(iperf3ClientArgs({server: 'x', port: 1, protocol: 'tcp', bitsPerSecond: 0, bytes: 1073741824, streams: 4})).to.deep.equal(['-c', 'x', '-p', '1', '--json', '-n', '1073741824', '-P', '4'])
    expect(iperf3ClientArgs({server: 'x', port: 1, protocol: 'tcp', bitsPerSecond: 5e8, size: 1000, seconds: 1})).to.include.members(['-b', '500000000', '-M', '1000'])
    expect(() => iperf3ClientArgs({server: 'x', port: 1, protocol: 'tcp', bitsPerSecond: 0})).to.throw(/exactly one/)
    expect(() => iperf3ClientArgs({server: 'x', port: 1, protocol: 'tcp', bitsPerSecond: 0, seconds: 1, bytes: 1})).to.throw(/exactly one/)
  })

  it('rates and volumes as users write them', () => {
    expect(parseRate('100M')).to.equal(100e6)
    expect(parseRate('1.5G')).to.equal(1.5e9)
    expect(parseRate('250k')).to.equal(250e3)
    expect(parseRate('max')).to.equal(0)
    expect(parseRate('900Mbps')).to.equal(900e6)
    expect(parseRate('fast')).to.equal(undefined)
    expect(parseRate('0')).to.equal(undefined)
    expect(parseBytes('1G')).to.equal(1024 ** 3)
    expect(parseBytes('512M')).to.equal(512 * 1024 ** 2)
    expect(parseBytes('lots')).to.equal(undefined)
    expect(formatRate(0)).to.equal('max')
    expect(formatRate(900e6)).to.equal('900M')
    expect(formatRate(1.5e9)).to.equal('1.5G')
  })
})

describe('latency probe (ping) parser', () => {
  it('one RTT per reply, in µs, with icmp_seq; the summary gives the requests sent', () => {
    const r = parsePing(fx('ping-5.txt'))
    expect(r.rttUs).to.deep.equal([48, 63, 71, 69, 66])
    expect(r.seq).to.deep.equal([1, 2, 3, 4, 5])
    expect(r.transmitted).to.equal(5)
    const s = summarizeLatency(r)
    expect(s.samples).to.equal(5)
    expect(s.lossPercent).to.equal(0)
    expect(s.p50Us).to.equal(66)
    expect(s.maxUs).to.equal(71)
    expect(s.p99Us).to.be.within(70, 71)
  })

  it('keeps only replies inside the load window (ping -D timestamps); a gap in icmp_seq is a lost probe', () => {
    const out = [
      '[1000.000000] 64 bytes from 198.18.101.1: icmp_seq=1 ttl=63 time=0.050 ms',
      '[1000.010000] 64 bytes from 198.18.101.1: icmp_seq=2 ttl=63 time=0.900 ms',
      '[1000.030000] 64 bytes from 198.18.101.1: icmp_seq=4 ttl=63 time=1.200 ms',
      '[1000.040000] 64 bytes from 198.18.101.1: icmp_seq=5 ttl=63 time=0.040 ms',
      '',
      '--- 198.18.101.1 ping statistics ---',
      '5 packets transmitted, 4 received, 20% packet loss, time 40ms',
    ].join('\n')
    const all = parsePing(out)
    expect(all.atMs[0]).to.equal(1_000_000)
    const w = withinWindow(all, 1_000_005, 1_000_035)
    expect(w.rttUs).to.deep.equal([900, 1200])
    expect(w.transmitted).to.equal(3) // seq 2..4, 3 lost
    expect(summarizeLatency(w).lossPercent).to.be.closeTo(100 / 3, 1e-9)
    expect(summarizeLatency(parsePing('')).samples).to.equal(0)
  })
})

describe('/proc/stat CPU time', () => {
  it('busy = user+nice+system+irq+softirq+steal over the interval, in ns (USER_HZ 100)', () => {
    const a = parseProcStat('cpu  100 0 50 1000 5 1 9 0 0 0\ncpu0 50 0 25 500 2 1 4 0 0 0\ncpu1 50 0 25 500 3 0 5 0 0 0\nintr 1\n')
    const b = parseProcStat('cpu  150 0 80 1100 5 1 29 0 0 0\ncpu0 1 0 0 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0 0 0\n')
    expect(a.cpus).to.equal(2)
    const d = cpuDelta(a, b)
    expect(d.busyNs).to.equal(100 * 1e7) // 50 + 30 + 20 ticks
    expect(d.softirqNs).to.equal(20 * 1e7)
    expect(d.busyFraction).to.be.closeTo(100 / 200, 1e-12)
    expect(() => parseProcStat('intr 1')).to.throw(/no aggregate cpu line/)
  })
})
