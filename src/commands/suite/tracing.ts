import {SuiteCommand} from '../../suites/suite.js'
import {KINDS} from '../../suites/tracing/kinds.js'
import {tracingFlags} from '../../suites/tracing/flags.js'
import {tracingSuite} from '../../suites/tracing/index.js'

export default class SuiteTracing extends SuiteCommand {
  static summary = 'What each way of attaching a program costs: ns per event, bpf_stats, a global syscall tracepoint, an iperf3 workload.'
  static description = `Attach types: ${KINDS.join(', ')} (those this kernel cannot attach are skipped with doctor's reason). Every type runs the same bodies from bpf/tracing.bpf.c (null, map) and your --object programs.
Layers: event (a trigger loop pinned to one CPU fires an attach point a known number of times, with and without the program; ns added per event with a 95% CI, the program's own bpf_stats run time, and what bpf_stats itself costs), scenarios (a global syscall tracepoint filtering a pid in the kernel vs in user space via a ring buffer, cost to an untraced process), workload (iperf3 UDP, 64-byte datagrams, programs on the server's receive path, Welch's t-test against the baseline).
If tracefs is not mounted, the suite mounts it for the run and unmounts it after (--no-mount-tracefs: leave the system as it is; the tracepoint cases are then skipped with doctor's fix).
Exit codes: 0 measured, 1 a case failed (e.g. its program did not fire), 2 bad input, 3 not root, 4 the kernel cannot run the suite, 130/143 interrupted (the samples so far are saved, marked incomplete).`

  static examples = [
    '<%= config.bin %> suite tracing --quick',
    '<%= config.bin %> suite tracing --layers event --attach tracepoint,raw_tracepoint,uprobe --repeat 20',
    '<%= config.bin %> suite tracing --object my.bpf.o --program on_recv --attach kprobe --kfunc udp_recvmsg',
    '<%= config.bin %> suite tracing --no-mount-tracefs --json',
  ]

  static flags = tracingFlags

  async run() {
    const {flags} = await this.parse(SuiteTracing)
    return this.runSuite(tracingSuite, flags)
  }
}
