// `suite accelerator`'s flags (with those every suite has).
import {Flags, type Interfaces} from '@oclif/core'
import {suiteFlags} from '../common.js'
import {DEFAULT_RATES, MODES} from './spec.js'

export const acceleratorFlags = {
  ...suiteFlags,
  topology: Flags.string({description: 'topology file (*.topo.yml) or a shipped name; default netns/acc.topo.yml (XDP peers, TX checksum offload off)'}),
  modes: Flags.string({description: `modes, comma-separated (${MODES.join(', ')}); default kernel,xdp,tc (kernel,object with --object)`}),
  rates: Flags.string({description: `iperf3: offered rates in bit/s, comma-separated (e.g. ${DEFAULT_RATES.join(',')}); max = as fast as the generator can`}),
  sizes: Flags.string({description: 'iperf3: UDP payload sizes in bytes (e.g. 64,512,1460; at most MTU − 28); for TCP the size is the MSS'}),
  protocols: Flags.string({description: 'iperf3: tcp, udp or tcp,udp'}),
  volume: Flags.string({description: 'iperf3: end each run after this many bytes (1G, 500M; iperf3 -n) instead of a fixed time'}),
  time: Flags.integer({min: 1, max: 3600, description: 'iperf3: seconds per run (default 2, --quick 1)'}),
  streams: Flags.integer({min: 1, max: 128, default: 1, description: 'iperf3: parallel streams'}),
  family: Flags.string({options: ['4', '6'], default: '4', description: 'IP version of the traffic'}),
  'xdp-mode': Flags.string({options: ['native', 'generic'], default: 'native', description: 'XDP attach mode (generic = skb mode)'}),
  'tc-attach': Flags.string({options: ['auto', 'tcx', 'clsact'], default: 'auto', description: 'how TC programs attach: tcx links where the kernel has them (auto), or clsact'}),
  object: Flags.string({description: 'your accelerator: a BPF ELF object'}),
  program: Flags.string({description: 'program of --object to attach (default: its only XDP/TC program)'}),
  hook: Flags.string({options: ['xdp', 'tc'], description: 'where --object attaches (default: from the program type)'}),
  'prog-stats': Flags.boolean({default: true, allowNo: true, description: "the fast path's ns per packet from bpf_stats (on only for the run)"}),
  warmup: Flags.integer({min: 0, max: 10, default: 1, description: 'warm-up rounds per point (not counted)'}),
  'probe-interval': Flags.integer({min: 0, max: 1000, default: 20, description: 'ms between the latency probe\'s echoes beside the load (ping -i; 0 = no probe, no latency runs)'}),
  'latency-runs': Flags.integer({min: 0, max: 100, description: 'latency runs per case: iperf3 with the ping probe beside the load, or stamped frames at --latency-load (default 2, --quick 1; 0 = none)'}),
  load: Flags.string({description: 'live-frames (RFC 2544 tests with the in-kernel generator), iperf3, or both (default live-frames,iperf3)'}),
  'frame-sizes': Flags.string({description: 'frame sizes in bytes with FCS (default RFC 2544: 64,128,256,512,1024,1280,1518; IPv6 from 78; --quick 64)'}),
  'trial-time': Flags.string({description: 'seconds per packet trial (default 0.5)'}),
  'loss-tolerance': Flags.string({description: 'loss allowed in the throughput test, % (default 0, as RFC 2544)'}),
  'loss-rates': Flags.string({description: 'frame loss test rates: 90% (of the generator alone), 2Mpps, 1Gbit; default 100%,90%,80% (none with --quick)'}),
  'latency-load': Flags.string({description: 'latency test load, % of each mode\'s throughput (default 90; 0 = none)'}),
  'gen-cpus': Flags.integer({min: 1, max: 1024, description: 'generator threads, one per CPU from CPU 0 (default 1: generator, DUT and sink share one CPU, so 1/rate is the cost per frame)'}),
  flows: Flags.integer({min: 1, max: 1024, description: 'flows (UDP source ports) per generator CPU (default 4)'}),
}

export type AccelFlags = Interfaces.InferredFlags<typeof acceleratorFlags>
