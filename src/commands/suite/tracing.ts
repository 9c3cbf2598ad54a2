import {Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {suiteFlags} from '../../suites/common.js'
import {KINDS, parseKinds} from '../../suites/tracing/kinds.js'
import {LAYERS, TracingSession, type Layer, type TracingReport} from '../../suites/tracing/index.js'
import {renderTracing} from '../../suites/tracing/render.js'
import {tracingAnswer} from '../../suites/tracing/answer.js'
import {progressRunner} from '../../suites/tracing/progress.js'
import {BadInputError} from '../../util/errors.js'
import {withSignals, SIGNAL_EXIT} from '../../util/signals.js'

export default class SuiteTracing extends BaseCommand {
  static summary = 'What each way of attaching a program costs: ns per event, bpf_stats, a global syscall tracepoint, an iperf3 workload.'
  static description = `Attach types: ${KINDS.join(', ')} (those this kernel cannot attach are skipped with doctor's reason). Every type runs the same bodies from bpf/tracing.bpf.c (null, map) and your --object programs.
Layers: event (a trigger loop pinned to one CPU fires an attach point a known number of times, with and without the program; ns added per event with a 95% CI, the program's own bpf_stats run time, and what bpf_stats itself costs), scenarios (seed 003: a global syscall tracepoint filtering a pid in the kernel vs in user space via a ring buffer, cost to an untraced process), workload (seed 001: iperf3 UDP, 64-byte datagrams, programs on the server's receive path, Welch's t-test against the baseline).
If tracefs is not mounted, the suite mounts it for the run and unmounts it after (--no-mount-tracefs: leave the system as it is; the tracepoint cases are then skipped with doctor's fix).
Exit codes: 0 measured, 1 a case failed (e.g. its program did not fire), 2 bad input, 3 not root, 4 the kernel cannot run the suite, 130/143 interrupted (the samples so far are saved, marked incomplete).`

  static examples = [
    '<%= config.bin %> suite tracing --quick',
    '<%= config.bin %> suite tracing --layers event --attach tracepoint,raw_tracepoint,uprobe --repeat 20',
    '<%= config.bin %> suite tracing --object my.bpf.o --program on_recv --attach kprobe --kfunc udp_recvmsg',
    '<%= config.bin %> suite tracing --no-mount-tracefs --json',
  ]

  static enableJsonFlag = true
  static flags = {
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

  async run(): Promise<TracingReport> {
    const {flags} = await this.parse(SuiteTracing)
    let report: TracingReport | undefined
    try {
      const attach = parseKindsFlag(flags.attach)
      const layers = parseLayers(flags.layers)
      const maxCv = flags['max-cv'] === undefined ? undefined : Number(flags['max-cv'])
      if (maxCv !== undefined && !(maxCv > 0 && maxCv < 1)) throw new BadInputError(`--max-cv ${flags['max-cv']}: expected a fraction between 0 and 1, e.g. 0.05`)
      const bodies = flags.body?.flatMap((b) => b.split(',')).map((b) => b.trim()).filter(Boolean)
      const {result, signal} = await withSignals(async (abort) => {
        const session = await TracingSession.prepare({
          quick: flags.quick,
          repeat: flags.repeat,
          out: flags.out,
          attach,
          bodies: bodies?.includes('none') ? [] : bodies,
          object: flags.object,
          programs: flags.program?.flatMap((p) => p.split(',')),
          stats: flags.stats as 'on' | 'off' | 'both' | undefined,
          layers,
          cpu: flags.cpu,
          realtime: flags.realtime,
          targets: {kfunc: flags.kfunc, tracepoint: flags.tracepoint, rawTracepoint: flags['raw-tracepoint'], uprobe: flags.uprobe},
          duration: flags.duration,
          streams: flags.streams,
          maxCv,
          mountTracefs: flags['mount-tracefs'],
          argv: this.argv,
          signal: abort,
        })
        let ok = false
        try {
          await progressRunner(session, abort)
          ok = true
        } finally {
          report = await session.finish(ok && !abort.aborted)
        }
        return report
      })
      report = result
      if (!this.jsonEnabled()) this.log([tracingAnswer(report).join('\n'), renderTracing(report)].filter(Boolean).join('\n\n'))
      if (signal) this.fail(`interrupted by ${signal}: programs detached; samples so far in ${report.files?.json}`, SIGNAL_EXIT[signal])
      if (report.run.cases.some((c) => c.status === 'failed')) process.exitCode = 1
      return report
    } catch (error) {
      if (report?.files && !(error as {oclif?: unknown}).oclif) this.note(`samples so far: ${report.files.json}`)
      return this.failWith(error)
    }
  }
}

function parseKindsFlag(v: string[] | undefined) {
  try {
    return parseKinds(v)
  } catch (error) {
    throw new BadInputError(`--attach: ${(error as Error).message}`)
  }
}

function parseLayers(v: string[] | undefined): Layer[] | undefined {
  if (!v) return undefined
  const out = v.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)
  for (const l of out) if (!(LAYERS as readonly string[]).includes(l)) throw new BadInputError(`--layers ${l}: unknown layer (expected ${LAYERS.join(', ')})`)
  return out as Layer[]
}
