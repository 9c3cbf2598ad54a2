import {Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {suiteFlags, suiteGate} from '../../suites/common.js'
import {loadTopology} from '../../topology/model.js'
import {buildSpec, checkTools, runAccelerator, type AccelOutcome} from '../../suites/accelerator/index.js'
import {conclusions, renderTable, tableRows} from '../../suites/accelerator/report.js'
import {packetAnswer, packetTable} from '../../suites/accelerator/packet-report.js'
import {DEFAULT_RATES, MODES, type RawFlags} from '../../suites/accelerator/spec.js'
import {BadInputError} from '../../util/errors.js'
import {makeChalk} from '../../doctor/render.js'
import type {RunResult} from '../../results/store.js'

export default class SuiteAccelerator extends BaseCommand {
  static summary = 'eBPF fast path vs kernel forwarding through the DUT: RFC 2544 frame rate, loss, latency and cost per frame with an in-kernel generator, and iperf3 goodput, with significance.'
  static description = `Loads (--load, default both): live-frames — RFC 2544 tests driven by an in-kernel packet generator (BPF_PROG_TEST_RUN with live frames from the client's port; UDP over IPv4 or IPv6, --flows source ports, frame sizes 64…1518) into a counting XDP sink on the server's port: throughput (highest rate with loss ≤ --loss-tolerance, binary search from full speed), frame loss at --loss-rates, one-way latency at --latency-load % of the throughput, and ns per frame; a generator-alone path (the sink on the DUT's ingress) is measured in every round to prove the generator was not the bottleneck (≥ 1.5× the best mode) and, with one generator CPU, to give the DUT's own ns per frame. iperf3 — TCP/UDP goodput through the DUT (the end-to-end scenario).
Modes: kernel (plain forwarding in the DUT, the baseline), xdp (built-in XDP forwarder: FIB lookup, MAC rewrite, TTL/checksum, devmap redirect), tc (built-in TC forwarder on tcx, clsact where the kernel has no tcx), object (--object: your program, attached the same way). Each run proves which path carried the traffic (the fast path's verdict counters, the DUT kernel's forwarding counters): a case fails when the fast path carried under 99% of the data packets.
Workload: iperf3 --json from the client to the server through the DUT, over rates × sizes × protocols, each run a fixed time (--time, default 2 s, --quick 1 s) or a fixed volume (--volume 1G, the seed's method: 80 s per run at 100M). Latency under load comes from extra runs of the same load with a ping -i 0.02 probe beside it (--latency-runs, default 2, --quick 1; --probe-interval); throughput, loss and CPU from the runs without it, since on a small machine the probe's wake-ups cost throughput. Repetitions interleave the modes (warm-up round not counted); impact vs kernel by Welch's t-test.
Exit codes: 0 measured, 1 a case failed, 2 bad input, 3 not root, 4 the kernel cannot run the suite, 130/143 interrupted (samples so far saved, marked incomplete).`

  static examples = [
    '<%= config.bin %> suite accelerator --quick',
    '<%= config.bin %> suite accelerator --load live-frames --frame-sizes 64,512,1518 --loss-rates 100%,90%,2Mpps',
    '<%= config.bin %> suite accelerator --protocols udp --rates 100M,500M,900M,max --sizes 64,512,1460 --repeat 10',
    '<%= config.bin %> suite accelerator --object my_fwd.bpf.o --program xdp_fwd --hook xdp',
    '<%= config.bin %> suite accelerator --modes kernel,xdp --xdp-mode generic --volume 1G --json',
  ]

  static enableJsonFlag = true
  static flags = {
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

  async run(): Promise<RunResult> {
    const {flags} = await this.parse(SuiteAccelerator)
    let outcome: AccelOutcome
    try {
      const plan = loadTopology(flags.topology ?? 'acc')
      const spec = buildSpec(packetFlags(flags), plan)
      checkTools(spec)
      const gate = await suiteGate('accelerator')
      this.note(`accelerator: ${gate.verdict.text}`)
      outcome = await runAccelerator(spec, plan, {argv: this.argv, outDir: flags.out, gate, note: (l) => this.note(l), progress: true})
    } catch (error) {
      return this.failSuite(error)
    }
    const failed = outcome.run.cases.filter((c) => c.status === 'failed').length
    if (!this.jsonEnabled()) {
      const chalk = makeChalk()
      const color = (s: string, kind: 'bad' | 'dim' | 'head') => (kind === 'bad' ? chalk.red(s) : kind === 'dim' ? chalk.dim(s) : chalk.bold(s))
      for (const line of packetAnswer(outcome.packets)) this.log(chalk.bold(line))
      if (outcome.packets.length > 0) this.log(`\n${packetTable(outcome.packets, {color, oneCpu: outcome.oneCpu})}`)
      if (outcome.buckets.length > 0) this.log(`\n${renderTable(tableRows(outcome.buckets), {color})}`)
      for (const line of conclusions(outcome.buckets, outcome.cpus)) this.log(`\n${line}`)
      this.log(`\nresult: ${outcome.files?.json} (+ .csv${outcome.files?.framesCsv ? ', -frames.csv' : ''})`)
    } else {
      this.note(`result: ${outcome.files?.json}`)
    }
    if (failed > 0) process.exitCode = 1
    return outcome.run
  }
}

/** The packet tests' number flags (strings, so that 0.5 and 99.9 are accepted), as numbers. */
function packetFlags(f: Record<string, unknown>): RawFlags {
  const out: Record<string, unknown> = {...f}
  for (const k of ['trial-time', 'loss-tolerance', 'latency-load']) {
    const v = f[k]
    if (v === undefined) continue
    if (typeof v !== 'string' || !/^\d+(\.\d+)?%?$/.test(v.trim())) throw new BadInputError(`--${k} ${String(v)}: not a number`)
    out[k] = Number(v.trim().replace(/%$/, ''))
  }
  return out as RawFlags
}
