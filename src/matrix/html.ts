// `matrix --html FILE`: the matrix as one self-contained page in the report's style (no script, nothing
// fetched): the same rows and columns as the text table, differences first, every cell coloured by its
// verdict with its reason on demand (hover: title; click: <details>), and a rejected program's verifier lines
// per kernel. Everything shown comes from reports (possibly another host's), so all of it is escaped.
import {esc, PAGE_CSS} from '../results/report.js'
import {rejectedPrograms, type Matrix, type MatrixCell, type MatrixRow} from './table.js'

const WORD: Record<MatrixCell['status'], string> = {pass: 'pass', fail: 'FAIL', warn: 'warn', unknown: '?', skip: 'skip', runs: 'runs', 'runs-with-skips': 'runs, with skips', 'cannot-run': 'CANNOT RUN', 'n/a': 'n/a'}
/** a verdict's colour class: good, bad, partial or none */
const TONE: Record<MatrixCell['status'], string> = {pass: 'good', runs: 'good', fail: 'bad', 'cannot-run': 'bad', warn: 'partial', 'runs-with-skips': 'partial', unknown: 'none', skip: 'none', 'n/a': 'none'}

const STYLE = `${PAGE_CSS}
td.v{white-space:nowrap}td.good{background:#e3f4e1;color:#1b5e20}td.bad{background:#fbe2e0;color:#b71c1c;font-weight:bold}
td.partial{background:#fff1d6;color:#8a5300}td.none{background:#f2f2f2;color:#666}td.unjudged{background:#eee;color:#555;font-style:italic}
tr.group th{background:#fff;border:none;padding-top:14px;font-size:13px;color:#555}td.kind{color:#777;font-size:12px}
details summary{cursor:pointer}details div{white-space:normal;max-width:360px;font-weight:normal;color:#222;margin-top:4px}
pre{background:#f7f7f7;border-left:4px solid #d62728;padding:6px 10px;overflow-x:auto;font-size:12px}th small{font-weight:normal;color:#555}`

function cellHtml(cell: MatrixCell | undefined, unjudged: string | undefined): string {
  if (unjudged) return `<td class="v unjudged" title="${esc(unjudged)}">${esc(unjudged.split(':')[0])}</td>`
  const c = cell ?? {status: 'n/a' as const}
  const word = esc(WORD[c.status] ?? c.status)
  if (!c.reason) return `<td class="v ${TONE[c.status] ?? 'none'}" data-status="${esc(c.status)}">${word}</td>`
  return `<td class="v ${TONE[c.status] ?? 'none'}" data-status="${esc(c.status)}" title="${esc(c.reason)}"><details><summary>${word}</summary><div>${esc(c.reason)}</div></details></td>`
}

function rowHtml(m: Matrix, r: MatrixRow): string {
  const cells = m.columns.map((c) => cellHtml(r.cells[c.label], c.error)).join('')
  return `<tr data-key="${esc(r.key)}" data-differs="${r.differs}"><td>${esc(r.title)}${r.required ? '' : ' <small>(optional)</small>'}</td><td class="kind">${esc(r.kind)}</td>${cells}</tr>`
}

function tableHtml(m: Matrix): string {
  const head = m.columns.map((c) => `<th data-column="${esc(c.label)}">${esc(c.label)}<br><small>${esc(c.kernel ?? 'not judged')}</small></th>`).join('')
  const diff = m.rows.filter((r) => r.differs)
  const same = m.rows.filter((r) => !r.differs)
  const group = (text: string) => `<tr class="group"><th colspan="${m.columns.length + 2}">${esc(text)}</th></tr>`
  return [
    `<table class="matrix"><thead><tr><th>check</th><th>kind</th>${head}</tr></thead><tbody>`,
    diff.length > 0 ? group(`differences (${diff.length})`) : '',
    ...diff.map((r) => rowHtml(m, r)),
    same.length > 0 ? group(`the same everywhere (${same.length})`) : '',
    ...same.map((r) => rowHtml(m, r)),
    '</tbody></table>',
  ].join('\n')
}

/** Programs the verifier rejected: its last lines on each kernel. */
function verifierHtml(m: Matrix): string {
  const out = rejectedPrograms(m).flatMap(({row, logs}) => [`<h3>verifier rejected ${esc(row.title)}</h3>`, ...logs.map(({lines, labels}) => `<p>on ${esc(labels.join(', '))}:</p><pre>${esc(lines.join('\n'))}</pre>`)])
  return out.length > 0 ? `<h2>Verifier</h2>\n${out.join('\n')}` : ''
}

export function renderMatrixHtml(m: Matrix, command?: string): string {
  const diff = m.rows.filter((r) => r.differs).length
  const verdict = m.exitCode === 0 ? 'nothing required fails on any kernel' : m.exitCode === 1 ? 'a required check or a program fails on some kernel' : 'nothing could be judged'
  const unjudged = m.columns.filter((c) => c.error).map((c) => `<li>${esc(c.label)}: not judged: ${esc(c.error!)}</li>`)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ebpfperf matrix</title>
<style>
${STYLE}
</style>
</head><body>
<h1>ebpfperf matrix</h1>
<p>${m.columns.length} kernel${m.columns.length === 1 ? '' : 's'}, ${m.rows.length} rows, ${diff} differ: ${esc(verdict)}. Hover or open a cell for its reason.</p>
${command ? `<p><code>${esc(command)}</code></p>` : ''}
${tableHtml(m)}
${unjudged.length > 0 ? `<ul class="unjudged">${unjudged.join('')}</ul>` : ''}
${verifierHtml(m)}
</body></html>
`
}
