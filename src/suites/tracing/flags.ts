// `suite tracing`'s flags (with those every suite has).
import {Flags, type Interfaces} from '@oclif/core'
import {suiteFlags} from '../common.js'
import {KINDS} from './kinds.js'
import {LAYERS} from './index.js'

export const tracingFlags = {
  ...suiteFlags,
  attach: Flags.string({char: 'a', multiple: true, description: `attach types to measure, comma-separated (${KINDS.join(', ')}; default all)`}),
  body: Flags.string({multiple: true, description: 'built-in bodies: null, map (default both); --body none runs only --object programs'}),
  object: Flags.string({description: 'your BPF object: its programs run as extra bodies at the same attach points'}),
  program: Flags.string({multiple: true, description: 'program(s) of --object to run (default: every tracing program in it)'}),
  stats: Flags.string({options: ['on', 'off', 'both'], description: 'bpf_stats on, off, or both (default both; the difference is the cost of bpf_stats)'}),
  layers: Flags.string({multiple: true, description: `layers to run, comma-separated (${LAYERS.join(', ')}; default all)`}),
  cpu: Flags.integer({min: 0, description: 'CPU the trigger thread is pinned to (default: the last one)'}),
  kfunc: Flags.string({description: 'workload: kernel function for kprobe/kretprobe/kprobe.multi/fentry/fexit (default udp_recvmsg)'}),
  tracepoint: Flags.string({description: 'workload: CATEGORY/NAME for the tracepoint (default net/netif_receive_skb)'}),
  'raw-tracepoint': Flags.string({description: 'workload: raw tracepoint (default netif_receive_skb)'}),
  uprobe: Flags.string({description: "workload: BINARY:SYMBOL for uprobes (default iperf3's iperf_udp_recv in libiperf)"}),
  duration: Flags.integer({min: 1, max: 600, description: 'workload: seconds per iperf3 run (default 3, --quick 1)'}),
  streams: Flags.integer({min: 1, max: 128, description: 'workload: parallel iperf3 streams (default 4)'}),
  'max-cv': Flags.string({description: 'coefficient of variation of a baseline above which effects are "too noisy to tell" (default 0.05)'}),
  realtime: Flags.boolean({default: true, allowNo: true, description: 'run the pinned trigger thread SCHED_FIFO while it fires, so other tasks on its CPU cannot disturb a sample (--no-realtime: normal priority)'}),
  'mount-tracefs': Flags.boolean({default: true, allowNo: true, description: 'mount tracefs for the run if it is not mounted (unmounted after); --no-mount-tracefs skips the tracepoint cases instead'}),
}

export type TracingFlags = Interfaces.InferredFlags<typeof tracingFlags>
