// One table over several kernels or hosts: rows are doctor's checks, object programs and verdicts,
// columns the kernels; a cell is a status with its reason. Rows whose judged cells differ come first.
// Columns that could not be judged (unreachable host, unreadable report) keep their place and say why.
import type {DoctorReport} from '../doctor/index.js'
import type {Status} from '../doctor/evaluate.js'
import type {VmLabel} from '../vm/index.js'

export interface MatrixColumn {
  label: string
  report?: DoctorReport
  /** why there is no report */
  error?: string
  /** the guest this column was judged in (matrix --kernel PACKAGE) */
  vm?: VmLabel
}

export interface MatrixCell {
  status: Status | 'runs' | 'runs-with-skips' | 'cannot-run' | 'n/a'
  reason?: string
  /** a program the verifier rejected: the verifier's last lines on this kernel */
  log?: string[]
}

export interface MatrixRow {
  key: string
  kind: 'verdict' | 'program' | 'finding'
  title: string
  required: boolean
  differs: boolean
  cells: Record<string, MatrixCell>
}

export interface Matrix {
  schema: 'ebpfperf/matrix/v1'
  columns: {label: string; kernel?: string; error?: string; vm?: VmLabel}[]
  rows: MatrixRow[]
  exitCode: 0 | 1 | 2
}

const FAILED = new Set(['fail', 'cannot-run'])
/** how many of the verifier's last lines a rejected program's cell keeps */
const VERIFIER_LINES = 6

export function buildMatrix(columns: MatrixColumn[]): Matrix {
  const rows = new Map<string, MatrixRow>()
  const row = (key: string, kind: MatrixRow['kind'], title: string, required: boolean) => {
    let r = rows.get(key)
    if (!r) rows.set(key, (r = {key, kind, title, required, differs: false, cells: {}}))
    return r
  }
  for (const c of columns) {
    if (!c.report) continue
    for (const v of c.report.verdicts) row(`verdict:${v.profile}`, 'verdict', v.suite ? `suite ${v.suite}` : v.profile, true).cells[c.label] = {status: v.verdict === 'unknown' ? 'unknown' : v.verdict, reason: v.verdict === 'runs' ? undefined : v.text}
    for (const o of c.report.objects ?? []) {
      for (const p of o.programs) {
        const log = p.live && !p.live.loaded && p.live.log?.length ? p.live.log.slice(-VERIFIER_LINES) : undefined
        row(`program:${o.name}/${p.name}`, 'program', `${o.name}: ${p.name}`, true).cells[c.label] = {status: p.status, reason: p.because, log}
      }
    }
    for (const f of c.report.findings) row(`${f.profile}/${f.id}`, 'finding', `${f.profile === 'cmdline' || f.profile.startsWith('object:') ? '' : `${f.profile}: `}${f.id} ${f.title}`, f.required).cells[c.label] = {status: f.status, reason: f.status === 'pass' ? undefined : f.summary.split('\n')[0]}
  }
  const judged = columns.filter((c) => c.report)
  for (const r of rows.values()) {
    for (const c of judged) r.cells[c.label] ??= {status: 'n/a', reason: 'not checked on this kernel'}
    r.differs = new Set(judged.map((c) => r.cells[c.label].status)).size > 1
  }
  const order = (r: MatrixRow) => (r.differs ? 0 : 3) + (r.kind === 'verdict' ? 0 : r.kind === 'program' ? 1 : 2)
  const sorted = [...rows.values()].sort((a, b) => order(a) - order(b))
  const anyFail = sorted.some((r) => r.required && Object.values(r.cells).some((x) => FAILED.has(x.status)))
  return {
    schema: 'ebpfperf/matrix/v1',
    columns: columns.map((c) => ({label: c.label, kernel: c.report?.kernel.release ?? c.vm?.kernel.release, error: c.error, vm: c.vm})),
    rows: sorted,
    exitCode: judged.length === 0 ? 2 : anyFail ? 1 : 0,
  }
}

const SHORT: Record<string, string> = {pass: 'pass', fail: 'FAIL', warn: 'warn', unknown: '?', skip: '-', runs: 'runs', 'runs-with-skips': 'skips', 'cannot-run': 'CANNOT', 'n/a': 'n/a'}

/** The text table; `reasons` adds each non-passing cell's reason under its row. */
export function renderMatrix(m: Matrix, opts: {reasons?: boolean; all?: boolean} = {}): string {
  const width = Math.max(8, ...m.columns.map((c) => Math.max(c.label.length, Math.min(28, c.kernel?.length ?? 0))))
  const head = `${'check'.padEnd(48)} ${m.columns.map((c) => c.label.padEnd(width)).join(' ')}`
  const out = [head, `${''.padEnd(48, '-')} ${m.columns.map(() => ''.padEnd(width, '-')).join(' ')}`]
  const kernels = `${'kernel'.padEnd(48)} ${m.columns.map((c) => (c.kernel ?? 'not judged').slice(0, width).padEnd(width)).join(' ')}`
  out.splice(1, 0, kernels)
  const diff = m.rows.filter((r) => r.differs)
  const shown = opts.all ? m.rows : [...diff, ...m.rows.filter((r) => !r.differs && r.kind !== 'finding')]
  if (diff.length > 0) out.push(`differences (${diff.length}):`)
  for (const [i, r] of shown.entries()) {
    if (i === diff.length && i > 0) out.push('the same everywhere:')
    // an unjudged column shows the first word of its reason (unreachable, refused, no-root, unreadable…)
    const cells = m.columns.map((c) => (c.error ? c.error.split(':')[0].toUpperCase() : SHORT[r.cells[c.label]?.status ?? 'n/a']).padEnd(width))
    out.push(`${(r.title.length > 47 ? `${r.title.slice(0, 46)}…` : r.title).padEnd(48)} ${cells.join(' ')}`)
    if (opts.reasons) for (const c of m.columns) if (r.cells[c.label]?.reason && r.cells[c.label].status !== 'pass') out.push(`    ${c.label}: ${r.cells[c.label].reason!.slice(0, 300)}`)
  }
  out.push(...verifierSection(m))
  for (const c of m.columns.filter((x) => x.error)) out.push(`${c.label}: not judged: ${c.error}`)
  const same = m.rows.length - diff.length
  out.push('', `${m.rows.length} rows, ${diff.length} differ${opts.all ? '' : `; ${same} the same everywhere (--all shows them)`}`)
  return out.join('\n')
}

/** Programs the verifier rejected, each with its last lines per kernel (kernels that said the same thing share one entry). */
export function rejectedPrograms(m: Matrix): {row: MatrixRow; logs: {lines: string[]; labels: string[]}[]}[] {
  return m.rows
    .filter((x) => x.kind === 'program' && Object.values(x.cells).some((c) => c.log))
    .map((row) => {
      const byLog = new Map<string, {lines: string[]; labels: string[]}>()
      for (const c of m.columns) {
        const log = row.cells[c.label]?.log
        if (log) byLog.set(log.join('\n'), {lines: log, labels: [...(byLog.get(log.join('\n'))?.labels ?? []), c.label]})
      }
      return {row, logs: [...byLog.values()]}
    })
}

/** The verifier's last lines for each rejected program, as text. */
export function verifierSection(m: Matrix): string[] {
  return rejectedPrograms(m).flatMap(({row, logs}) => ['', `verifier rejected ${row.title}:`, ...logs.flatMap(({lines, labels}) => [`  on ${labels.join(', ')}:`, ...lines.map((l) => `    | ${l}`)])])
}
