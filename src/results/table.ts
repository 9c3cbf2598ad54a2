// One table renderer for every terminal table (the suites' final tables, compare) and for markdown.
// Widths ignore ANSI colour codes, so cells may be coloured.
import type {ChalkInstance} from 'chalk'

export interface TableOptions {
  align?: ('left' | 'right')[] // per column; default left
  format?: 'table' | 'markdown'
  head?: (line: string) => string // style of the header line (bold, …)
}

const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '')

export function renderTable(header: string[], rows: string[][], opts: TableOptions = {}): string {
  const align = opts.align ?? []
  if (opts.format === 'markdown') {
    const esc = (s: string) => visible(s).replace(/\|/g, '\\|')
    const sep = header.map((_, i) => (align[i] === 'right' ? '---:' : '---'))
    return [header, sep, ...rows].map((r, i) => `| ${(i === 1 ? r : r.map(esc)).join(' | ')} |`).join('\n')
  }
  const widths = header.map((h, i) => Math.max(visible(h).length, ...rows.map((r) => visible(r[i] ?? '').length)))
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, widths[i] - visible(s).length))
    return align[i] === 'right' ? fill + s : s + fill
  }
  const line = (r: string[]) => r.map((c, i) => pad(c ?? '', i)).join('  ').trimEnd()
  const head = opts.head ?? ((x: string) => x)
  return [head(line(header)), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** mean ± sd with a sensible number of digits for the magnitude. */
export function fmtMeanSd(mean: number, sd: number, unit = ''): string {
  return `${fmtNum(mean)} ± ${fmtNum(sd)}${unit ? ` ${unit}` : ''}`
}

export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x)
  const a = Math.abs(x)
  if (a >= 1e9) return `${(x / 1e9).toFixed(2)}G`
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)}k`
  if (a >= 100) return x.toFixed(0)
  if (a >= 10) return x.toFixed(1)
  return x.toFixed(2)
}

export function fmtPct(rel: number): string {
  return `${rel >= 0 ? '+' : ''}${(rel * 100).toFixed(1)}%`
}

export function colorVerdict(v: string, c: ChalkInstance): string {
  if (v === 'regression' || v === 'failed') return c.red(v)
  if (v === 'improvement') return c.green(v)
  if (v === 'too noisy to tell') return c.yellow(v)
  return c.gray(v)
}
