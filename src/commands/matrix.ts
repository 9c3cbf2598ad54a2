import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {BaseCommand} from '../util/cli.js'
import {runDoctor, type DoctorReport} from '../doctor/index.js'
import {buildMatrix, renderMatrix, type Matrix, type MatrixColumn} from '../matrix/table.js'
import {BadInputError} from '../util/errors.js'

export default class MatrixCommand extends BaseCommand {
  static summary = 'One table of several kernels: this host and saved doctor reports (doctor --json, vm doctor --json), differences first.'
  static description = `Rows are doctor's checks, the programs of --object and the verdicts; columns are the kernels. --kernel host judges this machine now (live, with --object and --profile); --report FILE adds a saved report as a column (LABEL=FILE names it). Rows whose cells differ are listed first.
Exit codes: 0 nothing required fails anywhere, 1 a required check or a program fails on some kernel, 2 bad input or nothing could be judged.`

  static examples = ['<%= config.bin %> matrix --kernel host --report guest-6.1=vm-6.1.json --object app.bpf.o', '<%= config.bin %> matrix --report a.json --report b.json --json']
  static enableJsonFlag = true

  static flags = {
    kernel: Flags.string({multiple: true, options: ['host'], description: 'a kernel to judge now: host (this machine)'}),
    report: Flags.string({multiple: true, description: 'a saved doctor --json report as a column ([LABEL=]FILE)'}),
    object: Flags.string({multiple: true, description: 'BPF object(s) to judge on the host column'}),
    profile: Flags.string({char: 'p', multiple: true, description: 'doctor profile(s) for the host column'}),
    reasons: Flags.boolean({description: 'print the reason under each cell that does not pass'}),
    all: Flags.boolean({description: 'list the rows that are the same everywhere too'}),
  }

  async run(): Promise<Matrix> {
    const {flags} = await this.parse(MatrixCommand)
    const columns: MatrixColumn[] = []
    try {
      if ((flags.kernel ?? []).length + (flags.report ?? []).length === 0) throw new BadInputError('matrix needs columns: --kernel host and/or --report [LABEL=]FILE')
      if (flags.kernel?.includes('host')) columns.push({label: 'host', report: await runDoctor({live: true, profiles: flags.profile, objects: flags.object})})
      for (const spec of flags.report ?? []) columns.push(readReportColumn(spec))
    } catch (error) {
      return this.failWith(error)
    }
    const m = buildMatrix(columns)
    if (!this.jsonEnabled()) this.log(renderMatrix(m, {reasons: flags.reasons, all: flags.all}))
    process.exitCode = m.exitCode
    return m
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
