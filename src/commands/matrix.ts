import {Flags} from '@oclif/core'
import {readFileSync, statSync, writeFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {BaseCommand} from '../util/cli.js'
import {runDoctor, type DoctorReport} from '../doctor/index.js'
import {buildMatrix, renderMatrix, type Matrix, type MatrixColumn} from '../matrix/table.js'
import {guestColumns, guestJobs, parseKernelSpec} from '../matrix/guests.js'
import {BadInputError} from '../util/errors.js'
import {withSignals, SIGNAL_EXIT} from '../util/signals.js'
import {vmBanner} from '../vm/render.js'

interface ColumnFlags {
  html?: string
  kernel?: string[]
  report?: string[]
  object?: string[]
  program?: string[]
  profile?: string[]
  timeout: number
  memory: number
  jobs?: number
}

export default class MatrixCommand extends BaseCommand {
  static summary = 'One table of several kernels: this host, guest kernels booted under QEMU, and saved doctor reports; differences first.'
  static description = `Rows are the verdicts, the programs of --object and doctor's checks; columns are the kernels. --kernel host judges this machine now; --kernel PACKAGE (a Debian kernel package fetched with apt-get download, a linux-image .deb or a vmlinuz file; [LABEL=]KERNEL names the column) boots that kernel with \`ebpfperf vm\` and runs doctor inside, with the same --object and --profile; --report FILE adds a saved report as a column ([LABEL=]FILE). Guests run --jobs at a time, each within --timeout; a guest that fails says why in its column and the others still report. A program the verifier rejects is listed with the verifier's last lines on each kernel. Rows whose cells differ are listed first.
Exit codes: 0 nothing required fails anywhere, 1 a required check or a program fails on some kernel (or a column could not be judged), 2 bad input or nothing could be judged.`

  static examples = [
    '<%= config.bin %> matrix --kernel host --kernel linux-image-cloud-amd64 --kernel linux-image-6.12-cloud-amd64 --object bpf/.output/tracing.bpf.o',
    '<%= config.bin %> matrix --kernel host --report guest-6.1=vm-6.1.json --object app.bpf.o',
    '<%= config.bin %> matrix --report a.json --report b.json --json',
    '<%= config.bin %> matrix --kernel host --object app.bpf.o --html matrix.html',
  ]

  static enableJsonFlag = true

  static flags = {
    kernel: Flags.string({multiple: true, description: 'a kernel to judge now: host (this machine), or [LABEL=]KERNEL booted under QEMU (a Debian package name, a .deb or a vmlinuz file)'}),
    report: Flags.string({multiple: true, description: 'a saved doctor --json report as a column ([LABEL=]FILE)'}),
    object: Flags.string({multiple: true, description: 'BPF object(s) to judge on every kernel column'}),
    program: Flags.string({multiple: true, dependsOn: ['object'], description: 'with --object: only these programs'}),
    profile: Flags.string({char: 'p', multiple: true, description: 'doctor profile(s) for the kernel columns'}),
    timeout: Flags.integer({default: 300, min: 1, description: 'seconds each guest may take (boot + doctor; software emulation is slow)'}),
    memory: Flags.integer({default: 1024, min: 256, description: 'memory of each guest in MiB'}),
    jobs: Flags.integer({min: 1, description: 'guests booted at once (default: one per CPU, as many as the free memory holds)'}),
    reasons: Flags.boolean({description: 'print the reason under each cell that does not pass'}),
    all: Flags.boolean({description: 'list the rows that are the same everywhere too'}),
    html: Flags.string({description: 'also write the matrix as one self-contained HTML page to FILE (every row, differences first, reasons on hover or click)'}),
  }

  async run(): Promise<Matrix> {
    const {flags} = await this.parse(MatrixCommand)
    let columns: MatrixColumn[]
    try {
      columns = await this.columns(flags)
    } catch (error) {
      return this.failWith(error)
    }
    const m = buildMatrix(columns)
    for (const c of columns) if (c.vm) this.note(`matrix: ${c.label}: ${vmBanner(c.vm)}`)
    if (columns.some((c) => c.vm?.emulated)) this.note('matrix: guests ran under software emulation (QEMU TCG): their verdicts are functional, no timings')
    if (!this.jsonEnabled()) this.log(renderMatrix(m, {reasons: flags.reasons, all: flags.all}))
    if (flags.html) {
      const {renderMatrixHtml} = await import('../matrix/html.js')
      writeFileSync(flags.html, renderMatrixHtml(m, `ebpfperf ${this.argv.join(' ')}`))
      this.note(`matrix: page written to ${flags.html}`)
    }
    process.exitCode = m.exitCode === 2 ? 2 : columns.some((c) => !c.report) ? 1 : m.exitCode
    return m
  }

  /** Every column in the order given: host first when named, then guests (booted together), then saved reports. */
  private async columns(flags: ColumnFlags): Promise<MatrixColumn[]> {
    const kernels = flags.kernel ?? []
    // a page that cannot be written is bad input before any kernel is judged
    if (flags.html && !statSync(dirname(resolve(flags.html)), {throwIfNoEntry: false})?.isDirectory()) throw new BadInputError(`--html ${flags.html}: the folder ${dirname(resolve(flags.html))} does not exist: create it or name another file`)
    if (kernels.length + (flags.report ?? []).length === 0) throw new BadInputError('matrix needs columns: --kernel host, --kernel PACKAGE (booted under QEMU) and/or --report [LABEL=]FILE')
    // an object that is not BPF ELF, or a program not in it, is bad input before any guest boots
    if (flags.object?.length) (await import('../doctor/object.js')).readObjects(flags.object, flags.program)
    const guests = kernels.filter((k) => k !== 'host').map((k) => parseKernelSpec(k))
    const labels = [...(kernels.includes('host') ? ['host'] : []), ...guests.map((g) => g.label)]
    const dup = labels.find((l, i) => labels.indexOf(l) !== i)
    if (dup) throw new BadInputError(`--kernel: two columns are labelled ${dup}: name one with --kernel LABEL=KERNEL`)
    const host = kernels.includes('host') ? [{label: 'host', report: await runDoctor({live: true, profiles: flags.profile, objects: flags.object, programs: flags.program})}] : []
    let booted: MatrixColumn[] = []
    if (guests.length > 0) {
      const jobs = flags.jobs ?? guestJobs(flags.memory)
      this.note(`matrix: booting ${guests.length} guest kernel${guests.length === 1 ? '' : 's'} under QEMU, ${jobs} at a time, each within ${flags.timeout} s`)
      const opts = {objects: flags.object, programs: flags.program, profiles: flags.profile, timeoutS: flags.timeout, memoryMb: flags.memory, jobs, onStep: (l: string) => this.note(`matrix: ${l}`)}
      const {result, signal} = await withSignals((abort) => guestColumns(guests, {...opts, signal: abort}))
      if (signal) this.fail(`interrupted by ${signal}: QEMU stopped, temporary files removed`, SIGNAL_EXIT[signal])
      booted = result
      for (const c of result.filter((x) => x.error)) {
        this.note(`matrix: ${c.label}: not judged: ${c.error}`)
        if (c.console?.length) this.note(['  guest console (last lines):', ...c.console.slice(-8).map((l) => `  | ${l}`)].join('\n'))
      }
    }
    return [...host, ...booted, ...(flags.report ?? []).map((spec) => readReportColumn(spec))]
  }
}

/** "[LABEL=]FILE" → a column; an unreadable report is a column that says why (the others still report). */
function readReportColumn(spec: string): MatrixColumn {
  const eq = spec.indexOf('=')
  const [label, file] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [spec.replace(/^.*\//, '').replace(/\.json$/, ''), spec]
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as DoctorReport & {report?: DoctorReport}
    const report = doc.schema === 'ebpfperf/doctor/v1' ? doc : doc.report?.schema === 'ebpfperf/doctor/v1' ? doc.report : undefined
    if (!report) return {label, error: `unreadable: ${file} is not a doctor report (schema ebpfperf/doctor/v1)`}
    return {label, report}
  } catch (error) {
    return {label, error: `unreadable: ${file}: ${(error as Error).message.split('\n')[0]}`}
  }
}
