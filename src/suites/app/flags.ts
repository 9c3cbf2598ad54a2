// `suite app`'s flags (with those every suite has).
import {Flags, type Interfaces} from '@oclif/core'
import {suiteFlags} from '../common.js'
import {PROBES} from './probes.js'

export const DEFAULT_SIZES = ['1K', '2K', '4K', '16K', '128K', '256K']

export const appFlags = {
  ...suiteFlags,
  protocols: Flags.string({description: 'http and https (nginx), go (the Go net/http server in apps/goserver), comma-separated (default all three where golang-go is installed; --quick https)'}),
  sizes: Flags.string({description: `response sizes, comma-separated (default ${DEFAULT_SIZES.join(',')}; --quick 1K,128K)`}),
  probes: Flags.string({description: `probes beside none, comma-separated (${PROBES.filter((p) => p !== 'none').join(', ')}; default those that fit the protocols; --quick sslsniff)`}),
  workers: Flags.integer({min: 1, max: 64, default: 1, description: 'nginx worker processes'}),
  connections: Flags.integer({min: 1, max: 10000, default: 16, description: 'wrk connections'}),
  threads: Flags.integer({min: 1, max: 64, default: 1, description: 'wrk threads'}),
  duration: Flags.integer({min: 1, max: 600, description: 'seconds per wrk run (default 5, --quick 2)'}),
  capture: Flags.integer({default: 8192, description: 'sslsniff: bytes copied per SSL call (0 to 8192, BCC sslsniff\'s 8 KiB by default)'}),
  buffer: Flags.string({description: 'sslsniff: its records go through a BPF ring buffer (ringbuf) or a perf buffer, one per CPU with as many bytes in all (perf); default ringbuf'}),
  'filter-pid': Flags.integer({min: 1, description: 'syscount-kfilter/-user: the process whose syscalls are kept (default: this ebpfperf process, so nginx is the untraced one)'}),
  object: Flags.string({description: 'your tracer: a BPF object'}),
  program: Flags.string({description: 'your tracer: the program in --object'}),
  uprobe: Flags.string({description: 'your tracer: SYMBOL in the libssl nginx maps, or BINARY:SYMBOL, probed in the workers'}),
  tracepoint: Flags.string({description: 'your tracer: CATEGORY/NAME'}),
  progress: Flags.boolean({default: true, allowNo: true, description: 'progress on stderr'}),
}

export type AppFlags = Interfaces.InferredFlags<typeof appFlags>
