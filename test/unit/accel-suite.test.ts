// The accelerator suite's logic without a kernel: flags → grid, which path carried the traffic, cases
// and the table with Welch's verdicts, modes skipped with doctor's reasons.
import {expect} from 'chai'
import {BadInputError} from '../../src/util/errors.js'
import {loadTopology} from '../../src/topology/model.js'
import {buildSpec, pointId, totalRuns, type AccelSpec} from '../../src/suites/accelerator/spec.js'
import {ACCEL_SLOTS, parseSnmp, verdicts, diffSlots, type SlotCounts} from '../../src/suites/accelerator/counters.js'
import {bottleneck, judge, type RunSample} from '../../src/suites/accelerator/measure.js'
import {buildCases, conclusions, csvOf, renderTable, tableRows, type Bucket, type ModeInfo} from '../../src/suites/accelerator/report.js'
import {findRoles, resolveModes, statsDuring} from '../../src/suites/accelerator/index.js'
import {formatEta} from '../../src/suites/progress.js'

const plan = loadTopology('acc')
const spec = (flags: Parameters<typeof buildSpec>[0] = {}) => buildSpec(flags, plan)
const bad = (flags: Parameters<typeof buildSpec>[0], msg: RegExp) => expect(() => spec(flags)).to.throw(BadInputError, msg)

describe('accelerator: flags and grid', () => {
  it('--load iperf3\'s default grid: TCP at max, UDP 1460 B over the seed\'s rates, UDP 64 and 512 B at max; 5 repetitions, 2 s runs', () => {
    const s = spec({load: 'iperf3'})
    expect(s.modes).to.deep.equal(['kernel', 'xdp', 'tc'])
    expect(s.points.map(pointId)).to.deep.equal(['tcp/max/default', 'udp/100M/1460B', 'udp/500M/1460B', 'udp/700M/1460B', 'udp/900M/1460B', 'udp/max/1460B', 'udp/max/64B', 'udp/max/512B'])
    expect(s).to.include({repeat: 5, warmup: 1, streams: 1, family: 4, xdpMode: 'native', tcAttach: 'auto', progStats: true})
    expect(s.end).to.deep.equal({seconds: 2})
  })

  it('--quick: two points, 3 repetitions of 1 s (under a minute with three modes)', () => {
    const s = spec({quick: true})
    expect(s.points.map(pointId)).to.deep.equal(['tcp/max/default', 'udp/500M/1460B'])
    expect(s.repeat).to.equal(3)
    expect(s.end).to.deep.equal({seconds: 1})
    expect(spec({quick: true, repeat: 7}).repeat).to.equal(7)
  })

  it('--rates/--sizes/--protocols cross what is given; sizes alone mean UDP datagrams', () => {
    expect(spec({protocols: 'udp', rates: '100M,max', sizes: '64,1472'}).points.map(pointId)).to.deep.equal(['udp/100M/64B', 'udp/max/64B', 'udp/100M/1472B', 'udp/max/1472B'])
    const sized = spec({sizes: '512'}).points
    expect(sized).to.not.be.empty
    expect(sized.every((p) => p.protocol === 'udp')).to.equal(true)
    expect(spec({protocols: 'tcp', sizes: '1000', rates: 'max'}).points).to.deep.equal([{protocol: 'tcp', rate: 0, size: 1000}])
  })

  it('--volume ends runs by bytes; with --object the modes are kernel and object', () => {
    expect(spec({volume: '1G'}).end).to.deep.equal({bytes: 1024 ** 3})
    expect(spec({object: 'x.o'}).modes).to.deep.equal(['kernel', 'object'])
    expect(spec({object: 'x.o', modes: 'xdp,kernel'}).modes).to.deep.equal(['kernel', 'xdp', 'object'])
  })

  it('over IPv6 the default UDP size shrinks to fit the MTU; a size above it is refused', () => {
    expect(spec({family: '6', quick: true}).points[1].size).to.equal(1452)
    bad({family: '6', sizes: '1460'}, /1460 is out of range for UDP \(16…1452 bytes/)
  })

  it('bad input is one line naming the flag and the fix', () => {
    bad({sizes: '2000'}, /--sizes: 2000 is out of range for UDP .*path MTU is 1500/)
    bad({sizes: '8'}, /--sizes: 8 is out of range for UDP/)
    bad({sizes: '64', protocols: 'tcp'}, /64 is out of range for TCP, where the size is the MSS/)
    bad({sizes: 'big'}, /"big" is not a size/)
    bad({rates: 'fast'}, /"fast" is not a rate/)
    bad({rates: '100M,,max'}, /an empty item/)
    bad({rates: '900T'}, /out of range/)
    bad({protocols: 'sctp'}, /"sctp" is not tcp or udp/)
    bad({modes: 'kernel,dpdk'}, /"dpdk" is not a mode/)
    bad({modes: 'object'}, /needs --object/)
    bad({program: 'p'}, /--program needs --object/)
    bad({volume: '1G', time: 3}, /choose one/)
    bad({volume: 'lots'}, /not a size/)
    bad({volume: '1K'}, /too small/)
    let err: Error | undefined
    try {
      spec({sizes: '2000'})
    } catch (e) {
      err = e as Error
    }
    expect(err?.message).to.be.a('string').and.not.include('\n')
  })

  it('topology roles: client, server and one DUT with its ports', () => {
    const r = findRoles(plan, 4)
    expect(r).to.deep.include({client: 'client', server: 'server', dut: 'dut', dutNetns: 'ebp-acc-dut', serverAddress: '198.18.101.1', clientAddress: '198.18.100.1'})
    expect(r.dutPorts).to.deep.equal(['ebp-adut0', 'ebp-adut1'])
    expect(findRoles(plan, 6).serverAddress).to.equal('2001:2:0:101::1')
  })
})

describe('accelerator: modes the kernel cannot run are skipped with doctor\'s reason', () => {
  it('xdp skipped, tcx missing → tc on clsact', () => {
    const skipped = new Map([
      ['xdp', 'Native XDP on veth: attach failed (EOPNOTSUPP)'],
      ['tc via tcx links', 'tcx links: bpf_link_create failed (EINVAL)'],
    ])
    const {modes, tcAttach, notes} = resolveModes(spec(), {skipped})
    expect(tcAttach).to.equal('clsact')
    expect(modes.find((m) => m.mode === 'xdp')?.skipped).to.match(/EOPNOTSUPP/)
    expect(modes.find((m) => m.mode === 'tc')).to.deep.include({label: 'tc (clsact)', skipped: undefined})
    expect(notes.join('\n')).to.match(/no tcx on this kernel/)
  })

  it('generic XDP has its own case; the user object follows its hook', () => {
    const skipped = new Map([['xdp --xdp-mode generic', 'no generic XDP']])
    const s = spec({'xdp-mode': 'generic', object: 'fwd.o', modes: 'kernel,xdp'})
    const {modes} = resolveModes(s, {skipped}, {path: '/x/fwd.o', program: 'p', hook: 'xdp'})
    expect(modes.map((m) => [m.mode, m.skipped])).to.deep.equal([['kernel', undefined], ['xdp', 'no generic XDP'], ['object', 'no generic XDP']])
    expect(modes[2].label).to.equal('fwd.o:p (xdp generic)')
  })
})

// ------------------------------------------------------------------ which path carried the traffic
const zero = (): SlotCounts => Object.fromEntries(ACCEL_SLOTS.map((s) => [s, {packets: 0, bytes: 0}])) as SlotCounts

function sample(over: Partial<RunSample> = {}): RunSample {
  return {
    mode: 'xdp', rep: 0, warmup: false, startedAt: '', wallS: 1, bitsPerSecond: 5e8, packetsPerSecond: 4e4, packetsReceived: 40000, packetsEstimated: false, bytesReceived: 5.8e7,
    lossPercent: 0, rtt: {samples: 100, p50Us: 40, p95Us: 80, p99Us: 120}, cpu: {busyNsPerPacket: 5000, busyFraction: 0.5, softirqNs: 1e8, senderPercent: 40, receiverPercent: 30, harnessPercent: 1},
    kernelForwarded: 0, ...over,
  }
}

describe('accelerator: proof that the path under test carried the traffic', () => {
  it('reads /proc/net/snmp and snmp6 forwarding counters', () => {
    const snmp = 'Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos\nIp: 1 64 3034595 0 0 3034590 0\nIcmp: InMsgs\nIcmp: 3\n'
    expect(parseSnmp(snmp, 'Ip6InReceives 7\nIp6OutForwDatagrams             \t4\n')).to.deep.equal({v4: 3034590, v6: 4})
    expect(parseSnmp('', '')).to.deep.equal({v4: 0, v6: 0})
  })

  it('verdicts: ARP and neighbour discovery are not data; the share is forwarded / data packets', () => {
    const a = zero()
    const b = zero()
    b.forwarded.packets = 990
    b.not_ip.packets = 50
    b.local.packets = 7
    b.no_neigh.packets = 10
    const v = verdicts(diffSlots(a, b))
    expect(v).to.deep.include({forwarded: 990, passedData: 10, notData: 57})
    expect(v.share).to.be.closeTo(0.99, 1e-12)
    expect(verdicts(zero()).share).to.equal(undefined)
  })

  it('a fast path that carried ≥ 99% passes; one that passed most packets to the stack fails, naming why', () => {
    const ok = sample({verdicts: {forwarded: 995, passed: {no_neigh: 5}, passedData: 5, notData: 3, share: 0.995}})
    judge(ok, true)
    expect(ok.problem).to.equal(undefined)
    expect(ok.fastPath).to.deep.equal({share: 0.995, from: 'verdict counters'})
    const bad = sample({verdicts: {forwarded: 100, passed: {fib: 900}, passedData: 900, notData: 0, share: 0.1}})
    judge(bad, true)
    expect(bad.problem).to.match(/carried only 10\.0% of the data packets .*fib 900/)
  })

  it('without verdict counters: the kernel\'s forwarding against the program\'s runs', () => {
    const s = sample({prog: {runCnt: 50000, runTimeNs: 1e7}, kernelForwarded: 49000})
    judge(s, true)
    expect(s.fastPath?.from).to.equal('kernel forwarding vs program runs')
    expect(s.problem).to.match(/carried only 2\.0%/)
    const never = sample({prog: {runCnt: 0, runTimeNs: 0}, kernelForwarded: 40000})
    judge(never, true)
    expect(never.problem).to.match(/never ran/)
  })

  it('the baseline fails when the kernel forwarded nothing, and any run fails when nothing arrived', () => {
    const s = sample({mode: 'kernel', kernelForwarded: 0})
    judge(s, false)
    expect(s.problem).to.match(/something else carried it/)
    const fine = sample({mode: 'kernel', kernelForwarded: 41000})
    judge(fine, false)
    expect(fine.problem).to.equal(undefined)
    const none = sample({bytesReceived: 0})
    judge(none, true)
    expect(none.problem).to.match(/no traffic/)
  })

  it('flags the generator, the receiver or the machine as the bottleneck', () => {
    expect(bottleneck(sample())).to.equal(undefined)
    expect(bottleneck(sample({cpu: {busyFraction: 0.6, softirqNs: 0, senderPercent: 97, receiverPercent: 20, harnessPercent: 1}}))).to.match(/^generator: iperf3 sender at 97% CPU/)
    expect(bottleneck(sample({cpu: {busyFraction: 0.99, softirqNs: 0, senderPercent: 50, receiverPercent: 95, harnessPercent: 1}}))).to.match(/receiver.*; machine: all CPUs 99% busy/)
  })
})

describe('accelerator: cases, impact and the table', () => {
  const s: AccelSpec = spec({quick: true})
  const kernel: ModeInfo = {mode: 'kernel', label: 'kernel', params: {}}
  const xdp: ModeInfo = {mode: 'xdp', label: 'xdp (native)', params: {xdpMode: 'native'}}
  const tc: ModeInfo = {mode: 'tc', label: 'tc (tcx)', params: {tcAttach: 'tcx'}, skipped: 'no tc here'}
  const point = s.points[1]
  const runs = (mode: 'kernel' | 'xdp', bps: number[], over: Partial<RunSample> = {}) => [
    sample({mode, rep: -1, warmup: true, bitsPerSecond: 1, ...over}),
    // (bpf_stats on in these load runs, as with --latency-runs 0)
    ...bps.map((b, i) => sample({mode, rep: i, bitsPerSecond: b, ...(mode === 'xdp' ? {prog: {runCnt: 1000, runTimeNs: 300000, nsPerPacket: 300}, bpfStats: true} : {}), ...over})),
  ]

  it('noise is "no significant difference"; a real gain is a signed percentage with p', () => {
    const noisy: Bucket[] = [
      {point, mode: kernel, runs: runs('kernel', [18.6e6, 20.1e6, 17.5e6, 19.8e6, 19.0e6]), errors: []},
      {point, mode: xdp, runs: runs('xdp', [19.9e6, 18.4e6, 21.0e6, 19.1e6, 20.6e6]), errors: []},
    ]
    const rows = tableRows(noisy)
    expect(rows[0]).to.include({configuration: 'kernel', impact: 'baseline', n: 5})
    expect(rows[1].impact).to.match(/^no significant difference \(p=0\.\d\d\)$/)
    expect(rows[1].significant).to.equal('no')
    expect(rows[1].cpu).to.equal('5000 (prog 300)')
    const real: Bucket[] = [
      {point, mode: kernel, runs: runs('kernel', [400e6, 402e6, 398e6, 401e6, 399e6]), errors: []},
      {point, mode: xdp, runs: runs('xdp', [480e6, 482e6, 479e6, 481e6, 478e6]), errors: []},
    ]
    const r2 = tableRows(real)
    expect(r2[1].impact).to.match(/^\+20\.0% \(p=<0\.001\)$/)
    expect(r2[1].significant).to.equal('yes')
    expect(r2[1].bitrate).to.equal('480±1.6')
  })

  it('cases: one per configuration and metric, warm-ups not counted, impact vs kernel, skipped with the reason', () => {
    const b: Bucket[] = [
      {point, mode: kernel, runs: runs('kernel', [4e8, 4.1e8, 3.9e8]), errors: []},
      {point, mode: xdp, runs: runs('xdp', [5e8, 5.1e8, 4.9e8]), errors: []},
      {point, mode: tc, runs: [], errors: []},
    ]
    const cases = buildCases(b, s)
    const ids = cases.map((c) => c.id)
    expect(ids).to.include.members(['kernel/udp/500M/1460B/bitrate', 'kernel/udp/500M/1460B/loss', 'xdp/udp/500M/1460B/prog', 'tc/udp/500M/1460B/bitrate'])
    expect(ids).to.not.include('kernel/udp/500M/1460B/prog')
    const main = cases.find((c) => c.id === 'xdp/udp/500M/1460B/bitrate')!
    expect(main.samples).to.deep.equal([5e8, 5.1e8, 4.9e8])
    expect(main.status).to.equal('ok')
    expect(main.params).to.include({mode: 'xdp', protocol: 'udp', rate: '500M', size: 1460, xdpMode: 'native', end: 'time 1 s'})
    expect((main.extra!.vsKernel as {significant: boolean}).significant).to.equal(true)
    expect((main.extra!.runs as unknown[]).length).to.equal(4) // warm-up kept as raw data
    const skipped = cases.find((c) => c.id === 'tc/udp/500M/1460B/bitrate')!
    expect(skipped).to.include({status: 'skipped', reason: 'no tc here'})
    expect(csvOf(b).trim().split('\n')).to.have.length(1 + 8)
  })

  it('latency under load comes from the latency runs only; throughput, loss and CPU from the load runs only', () => {
    expect([spec().latencyRuns, spec({quick: true}).latencyRuns, spec({'latency-runs': 4}).latencyRuns, spec({'probe-interval': 0}).latencyRuns]).to.deep.equal([2, 1, 4, 0])
    expect(totalRuns(s, 3)).to.equal(s.points.length * 3 * (s.repeat + s.warmup + s.latencyRuns))
    const noRtt = {rtt: {samples: 0}}
    const withProbe = (bps: number, p99: number) => sample({mode: 'kernel', rep: 0, latency: true, bitsPerSecond: bps, rtt: {samples: 100, p99Us: p99}})
    const b: Bucket[] = [{point, mode: kernel, runs: [...runs('kernel', [4e8, 4.2e8], noRtt), withProbe(1e8, 300), withProbe(1e8, 500)], errors: []}]
    const cases = buildCases(b, s)
    expect(cases.find((c) => c.id === 'kernel/udp/500M/1460B/bitrate')!.samples).to.deep.equal([4e8, 4.2e8]) // the probe's runs are not throughput samples
    expect(cases.find((c) => c.id === 'kernel/udp/500M/1460B/rtt_p99')!.samples).to.deep.equal([300, 500])
    const row = tableRows(b)[0]
    expect(row).to.include({n: 2, latencyP99: '400 µs'})
    const csv = csvOf(b).trim().split('\n')
    expect(csv[0].split(',').indexOf('latency_run')).to.be.greaterThan(0)
    expect(csv.filter((l) => l.split(',')[8] === '1')).to.have.length(2)
  })

  it("bpf_stats only in the latency runs: the fast path's ns per packet from them, throughput from runs without it", () => {
    // statsDuring(step, latency runs, the fast path: undefined in kernel mode)
    const builtin = {verdictCounters: true}
    expect(statsDuring({latency: false}, 2, builtin)).to.equal(false) // a load run of the built-in fast path
    expect(statsDuring({latency: true}, 2, builtin)).to.equal(true)
    expect(statsDuring({latency: false}, 0, builtin)).to.equal(true) // no latency runs: the load runs carry it
    expect(statsDuring({latency: false}, 2, {verdictCounters: false})).to.equal(true) // no verdict counters: run_cnt is the proof
    expect(statsDuring({latency: true}, 2, undefined)).to.equal(true) // kernel mode's latency runs too: RTTs compare
    expect(statsDuring({latency: false}, 0, undefined)).to.equal(false) // never a kernel-mode load run
    const load = (bps: number) => sample({mode: 'xdp', rep: 0, bitsPerSecond: bps})
    const instrumented = (bps: number, ns: number) => sample({mode: 'xdp', rep: 0, latency: true, bpfStats: true, bitsPerSecond: bps, prog: {runCnt: 1000, runTimeNs: ns * 1000, nsPerPacket: ns}, rtt: {samples: 100, p99Us: 300}})
    const b: Bucket[] = [
      {point, mode: kernel, runs: runs('kernel', [4e8, 4.1e8]), errors: []},
      {point, mode: xdp, runs: [load(5e8), load(5.2e8), instrumented(4.5e8, 80), instrumented(4.6e8, 90)], errors: []},
    ]
    const cases = buildCases(b, s)
    expect(cases.find((c) => c.id === 'xdp/udp/500M/1460B/prog')!.samples).to.deep.equal([80, 90])
    expect(cases.find((c) => c.id === 'xdp/udp/500M/1460B/bitrate')!.samples).to.deep.equal([5e8, 5.2e8])
    expect(tableRows(b)[1].cpu).to.equal('5000 (prog 85)')
    const csv = csvOf(b).trim().split('\n')
    const col = csv[0].split(',').indexOf('bpf_stats')
    expect(col).to.be.greaterThan(0)
    expect(csv.slice(1).map((l) => l.split(',')[col])).to.deep.equal(['0', '0', '0', '0', '0', '1', '1'])
  })

  it('a configuration whose fast path did not carry the traffic is FAILED in the cases and the table', () => {
    const b: Bucket[] = [
      {point, mode: kernel, runs: runs('kernel', [4e8, 4e8]), errors: []},
      {point, mode: xdp, runs: runs('xdp', [4e8, 4e8], {problem: 'the fast path carried only 3.0% of the data packets'}), errors: []},
    ]
    const cases = buildCases(b, s)
    const xdpCases = cases.filter((c) => c.id.startsWith('xdp/'))
    expect(xdpCases).to.not.be.empty
    expect(xdpCases.every((c) => c.status === 'failed')).to.equal(true)
    expect(cases.find((c) => c.id === 'xdp/udp/500M/1460B/bitrate')!.reason).to.match(/2 of 2 runs: the fast path carried only 3\.0%/)
    const table = renderTable(tableRows(b))
    expect(table).to.match(/FAILED: 2 of 2 runs/)
    expect(conclusions(b, 2).join(' ')).to.match(/1 configuration\(s\) FAILED/)
  })

  it('says when the generator, not the DUT, was the limit', () => {
    const hot = {cpu: {busyNsPerPacket: 5000, busyFraction: 0.7, softirqNs: 0, senderPercent: 99, receiverPercent: 30, harnessPercent: 1}, bottleneck: 'generator: iperf3 sender at 99% CPU'}
    const b: Bucket[] = [
      {point, mode: kernel, runs: runs('kernel', [4e8, 4e8, 4e8], hot), errors: []},
      {point, mode: xdp, runs: runs('xdp', [4e8, 4e8, 4e8]), errors: []},
    ]
    expect(tableRows(b)[0].note).to.equal('limited by the generator: iperf3 sender at 99% CPU')
    expect(tableRows(b)[1].note).to.equal(undefined)
    expect(conclusions(b, 2)[0]).to.match(/^1 of 2 configurations were limited by the load generator/)
  })

  it('ETA in words', () => {
    expect(formatEta(42)).to.equal('42s')
    expect(formatEta(125)).to.equal('2m05s')
    expect(formatEta(3700)).to.equal('1h01m')
  })
})
