import {Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {suiteFlags} from '../../suites/common.js'
import {withSignals, SIGNAL_EXIT} from '../../util/signals.js'
import {DEFAULT_SIZES, runAppSuite, type AppReport} from '../../suites/app/index.js'
import {PROBES} from '../../suites/app/probes.js'
import {appAnswer, renderApp} from '../../suites/app/render.js'

export default class SuiteApp extends BaseCommand {
  static summary = 'What tracing costs a real application: nginx over HTTP and HTTPS driven by wrk, with sslsniff-style uprobes and syscount-style tracepoints.'
  static description = `nginx (--workers) serves static files of --sizes in a namespace of its own; wrk loads it from another (--connections, --threads, --duration). Each configuration (protocol × size × probe) runs in turn, repeated in rotation, against the same workload with nothing attached (none).
Probes: sslsniff (uprobe + uretprobe on SSL_read/SSL_write in the libssl nginx's workers map, up to --capture bytes per call to user space through a ring buffer), syscount (raw_syscalls/sys_enter counted per syscall, every process), syscount-kfilter (only --filter-pid's syscalls kept, tested in the kernel), syscount-user (every syscall sent to user space and filtered there), go-runtime and go-handler (uprobes counting runtime.casgstatus and the handler of the Go server), and your own with --object/--program/--uprobe|--tracepoint.
Every run proves its probe: it fired on the requests, and records produced = consumed + lost. Exit codes: 0 measured, 1 a configuration failed, 2 bad input, 3 not root, 4 the kernel cannot run the suite, 130/143 interrupted (samples so far saved).`

  static examples = ['<%= config.bin %> suite app --quick', '<%= config.bin %> suite app --protocols https --sizes 1K,16K --probes sslsniff,syscount-user --repeat 5', '<%= config.bin %> suite app --quick --object my.bpf.o --program on_write --uprobe SSL_write']

  static enableJsonFlag = true
  static flags = {
    ...suiteFlags,
    protocols: Flags.string({description: 'http and https (nginx), go (the Go net/http server in apps/goserver), comma-separated (default all three where golang-go is installed; --quick https)'}),
    sizes: Flags.string({description: `response sizes, comma-separated (default ${DEFAULT_SIZES.join(',')}; --quick 1K,128K)`}),
    probes: Flags.string({description: `probes beside none, comma-separated (${PROBES.filter((p) => p !== 'none').join(', ')}; default all; --quick sslsniff)`}),
    workers: Flags.integer({min: 1, max: 64, default: 1, description: 'nginx worker processes'}),
    connections: Flags.integer({min: 1, max: 10000, default: 16, description: 'wrk connections'}),
    threads: Flags.integer({min: 1, max: 64, default: 1, description: 'wrk threads'}),
    duration: Flags.integer({min: 1, max: 600, description: 'seconds per wrk run (default 5, --quick 2)'}),
    capture: Flags.integer({default: 8192, description: 'sslsniff: bytes copied per SSL call (0 to 8192, BCC sslsniff\'s 8 KiB by default)'}),
    'filter-pid': Flags.integer({min: 1, description: 'syscount-kfilter/-user: the process whose syscalls are kept (default: this ebpfperf process, so nginx is the untraced one)'}),
    object: Flags.string({description: 'your tracer: a BPF object'}),
    program: Flags.string({description: 'your tracer: the program in --object'}),
    uprobe: Flags.string({description: 'your tracer: SYMBOL in the libssl nginx maps, or BINARY:SYMBOL, probed in the workers'}),
    tracepoint: Flags.string({description: 'your tracer: CATEGORY/NAME'}),
  }

  async run(): Promise<AppReport> {
    const {flags: f} = await this.parse(SuiteApp)
    try {
      const progress = (l: string) => this.note(l)
      const {result: report, signal} = await withSignals((abort) => runAppSuite({...f, filterPid: f['filter-pid'], argv: this.argv}, abort, progress))
      if (!this.jsonEnabled()) this.log([...appAnswer(report.app.rows), ...report.notes, '', renderApp(report.app.rows)].join('\n'))
      if (signal) this.fail(`interrupted by ${signal}: nginx and wrk stopped, probes detached; samples so far in ${report.files?.json}`, SIGNAL_EXIT[signal])
      if (report.app.rows.some((r) => r.status === 'failed')) process.exitCode = 1
      return report
    } catch (error) {
      return this.failWith(error)
    }
  }
}
