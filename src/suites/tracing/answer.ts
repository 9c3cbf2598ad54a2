// The answer first: a few measured sentences above the tracing suite's tables, built from the same rows and
// verdicts as the tables and never stronger: a figure only where its row's verdict is that figure (CI clear
// of 0, baseline quiet, samples clean); otherwise the reason the table gives.
import {KINDS} from './kinds.js'
import {describeNs, type EventRow} from './event.js'
import type {TracingReport} from './index.js'
import {fmtQuantity, fmtRange} from '../../results/units.js'

const kindOrder = (r: EventRow) => KINDS.indexOf(r.kind)

/** The row standing for an attach type under one body: bpf_stats off where measured (the cost without the observer). */
function rowsByKind(rows: EventRow[], body: string): EventRow[] {
  const out = new Map<string, EventRow>()
  for (const r of rows.filter((x) => x.body === body)) {
    const have = out.get(r.kind)
    if (!have || (have.stats && !r.stats)) out.set(r.kind, r)
  }
  return [...out.values()].sort((a, b) => kindOrder(a) - kindOrder(b))
}

/** A row's figure as the table would print it, or (why) why there is none. */
export function eventFigure(r: EventRow): {kind: string; figure?: string; why?: string} {
  const s = r.added
  if (r.status !== 'ok' || !s) return {kind: r.kind, why: `not measured (${r.status === 'skipped' ? 'skipped' : 'failed'}, see the table)`}
  if (r.verdict !== describeNs(s)) return {kind: r.kind, why: r.verdict.replace(/^cannot tell.*/, 'cannot tell (see the table)')}
  if (s.ci95[0] <= 0 && s.ci95[1] >= 0) return {kind: r.kind, why: 'no cost told from noise (95% CI holds 0)'}
  return {kind: r.kind, figure: `${r.kind} ${fmtQuantity(s.mean, 'ns')} (95% CI ${fmtRange(s.ci95[0], s.ci95[1], 'ns')})`}
}

/** "a, b and c". */
const listed = (xs: string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`)

/** Types without a figure, grouped by the reason the table gives: "tracepoint and kprobe: too noisy to tell (…)". */
function unmeasured(figures: ReturnType<typeof eventFigure>[]): string[] {
  const byWhy = new Map<string, string[]>()
  for (const f of figures) if (f.why) byWhy.set(f.why, [...(byWhy.get(f.why) ?? []), f.kind])
  return [...byWhy].map(([why, kinds]) => `${listed(kinds)}: ${why}`)
}

function eventLines(r: TracingReport): string[] {
  const ev = r.event
  if (!ev) return []
  const bodies = [...new Set(ev.rows.map((x) => x.body))]
  return bodies.map((body) => {
    const rows = rowsByKind(ev.rows, body)
    const figures = rows.map(eventFigure)
    const what = body === 'null' ? 'an empty program' : body === 'map' ? 'a program updating a map' : `program ${body}`
    const stats = rows.every((x) => x.stats) ? ' (bpf_stats on)' : ''
    const measured = figures.flatMap((f) => (f.figure ? [f.figure] : []))
    if (measured.length === 0) return `Per event, ${what}: no cost could be told from noise — ${unmeasured(figures).join('; ')}.`
    return `Per event, ${what} added${stats}: ${[...measured, ...unmeasured(figures)].join('; ')}.`
  })
}

function scenarioLine(r: TracingReport): string[] {
  const sc = r.scenarios
  if (!sc) return []
  const rows = sc.rows.filter((x) => x.id !== 'none')
  if (rows.length === 0) return []
  if (sc.noisy) return ['A global syscall tracepoint: no effect could be told from noise (the untraced syscall rate varied too much).']
  const parts = rows.map((x) => `${x.title}: ${x.status === 'failed' ? 'failed' : x.impact?.significant ? `syscall rate ${x.verdict}` : x.verdict}`)
  return [`A global syscall tracepoint, on a process it does not trace — ${parts.join('; ')}.`]
}

function workloadLine(r: TracingReport): string[] {
  const wl = r.workload
  if (!wl) return []
  const rows = wl.rows.filter((x) => x.id !== 'baseline')
  if (rows.length === 0) return []
  if (wl.noisy) return [`iperf3 workload: no effect could be told from noise (${wl.noisyWhy}).`]
  const real = rows.filter((x) => x.status === 'ok' && x.bitrateImpact?.significant)
  const failed = rows.filter((x) => x.status === 'failed').length
  const rest = rows.length - real.length - failed
  const parts = real.map((x) => `${x.id} ${x.bitrateVerdict}`)
  if (rest > 0) parts.push(`${rest} ${real.length ? 'other ' : ''}configuration${rest === 1 ? '' : 's'}: no significant difference`)
  if (failed > 0) parts.push(`${failed} failed`)
  return [`iperf3 bitrate against no program: ${parts.join('; ')}.`]
}

/** The sentences printed first, one per layer that ran (and one per body of the per-event layer). */
export function tracingAnswer(r: TracingReport): string[] {
  return [...eventLines(r), ...scenarioLine(r), ...workloadLine(r)]
}
