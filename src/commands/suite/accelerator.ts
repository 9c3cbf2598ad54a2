import {SuiteCommand} from '../../suites/suite.js'
import {acceleratorFlags} from '../../suites/accelerator/flags.js'
import {acceleratorSuite} from '../../suites/accelerator/index.js'

export default class SuiteAccelerator extends SuiteCommand {
  static summary = 'eBPF fast path vs kernel forwarding through the DUT: RFC 2544 frame rate, loss, latency and cost per frame with an in-kernel generator, and iperf3 goodput, with significance.'
  static description = `Loads (--load, default both): live-frames — RFC 2544 tests driven by an in-kernel packet generator (BPF_PROG_TEST_RUN with live frames from the client's port; UDP over IPv4 or IPv6, --flows source ports, frame sizes 64…1518) into a counting XDP sink on the server's port: throughput (highest rate with loss ≤ --loss-tolerance, binary search from full speed), frame loss at --loss-rates, one-way latency at --latency-load % of the throughput, and ns per frame; a generator-alone path (the sink on the DUT's ingress) is measured in every round to prove the generator was not the bottleneck (≥ 1.5× the best mode) and, with one generator CPU, to give the DUT's own ns per frame. iperf3 — TCP/UDP goodput through the DUT (the end-to-end scenario).
Modes: kernel (plain forwarding in the DUT, the baseline), xdp (built-in XDP forwarder: FIB lookup, MAC rewrite, TTL/checksum, devmap redirect), tc (built-in TC forwarder on tcx, clsact where the kernel has no tcx), object (--object: your program, attached the same way). Each run proves which path carried the traffic (the fast path's verdict counters, the DUT kernel's forwarding counters): a case fails when the fast path carried under 99% of the data packets.
Workload: iperf3 --json from the client to the server through the DUT, over rates × sizes × protocols, each run a fixed time (--time, default 2 s, --quick 1 s) or a fixed volume (--volume 1G). Latency under load comes from extra runs of the same load with a ping -i 0.02 probe beside it (--latency-runs, default 2, --quick 1; --probe-interval); throughput, loss and CPU from the runs without it, since on a small machine the probe's wake-ups cost throughput. Repetitions interleave the modes (warm-up round not counted); impact vs kernel by Welch's t-test.
Exit codes: 0 measured, 1 a case failed, 2 bad input, 3 not root, 4 the kernel cannot run the suite, 130/143 interrupted (samples so far saved, marked incomplete).`

  static examples = [
    '<%= config.bin %> suite accelerator --quick',
    '<%= config.bin %> suite accelerator --load live-frames --frame-sizes 64,512,1518 --loss-rates 100%,90%,2Mpps',
    '<%= config.bin %> suite accelerator --protocols udp --rates 100M,500M,900M,max --sizes 64,512,1460 --repeat 10',
    '<%= config.bin %> suite accelerator --object my_fwd.bpf.o --program xdp_fwd --hook xdp',
    '<%= config.bin %> suite accelerator --modes kernel,xdp --xdp-mode generic --volume 1G --json',
  ]

  static flags = acceleratorFlags

  async run() {
    const {flags} = await this.parse(SuiteAccelerator)
    return this.runSuite(acceleratorSuite, flags)
  }
}
