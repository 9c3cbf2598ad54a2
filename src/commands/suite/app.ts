import {SuiteCommand} from '../../suites/suite.js'
import {appFlags} from '../../suites/app/flags.js'
import {appSuite} from '../../suites/app/index.js'

export default class SuiteApp extends SuiteCommand {
  static summary = 'What tracing costs a real application: nginx over HTTP and HTTPS and a Go server, driven by wrk, with sslsniff-style uprobes and syscount-style tracepoints.'
  static description = `nginx (--workers) serves static files of --sizes in a namespace of its own, and the Go net/http server in apps/goserver the same files; wrk loads them from another (--connections, --threads, --duration). Each configuration (protocol × size × probe) runs in turn, repeated in rotation, beside the same workload with nothing attached (none).
Probes: sslsniff (uprobe + uretprobe on SSL_read/SSL_write in the libssl nginx's workers map, up to --capture bytes per call to user space through a ring buffer), syscount (raw_syscalls/sys_enter counted per syscall, every process), syscount-kfilter (only --filter-pid's syscalls kept, tested in the kernel), syscount-user (every syscall sent to user space and filtered there), go-runtime and go-handler (uprobes counting runtime.casgstatus and the handler of the Go server), and your own with --object/--program/--uprobe|--tracepoint.
The change against none is the mean log ratio of the runs of the same round, with its 95% CI. Every run proves its probe: it fired on the requests, and records produced = consumed + lost.
Exit codes: 0 measured, 1 a configuration failed, 2 bad input, 3 not root, 4 the kernel cannot run the suite, 130/143 interrupted (samples so far saved).`

  static examples = [
    '<%= config.bin %> suite app --quick',
    '<%= config.bin %> suite app --protocols https --sizes 1K,16K --probes sslsniff,syscount-user --repeat 5',
    '<%= config.bin %> suite app --protocols go --probes go-runtime,go-handler',
  ]

  static flags = appFlags

  async run() {
    const {flags} = await this.parse(SuiteApp)
    return this.runSuite(appSuite, flags)
  }
}
