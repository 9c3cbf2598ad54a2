// The report's history section: per suite a table of each case's mean in every recorded run, the newest
// run's verdict against the earlier ones, and a small chart per case. Labelled as context, never a gate.
import {esc, inHumanUnits, type ChartSpec, type ReportSection} from '../results/report.js'
import {fmtQuantity} from '../results/units.js'
import {runLabel, type CaseTrend, type SuiteTrend} from './trend.js'

/** Columns of the table: the newest runs (every run is in the charts). */
const TABLE_RUNS = 10

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]

function trendChart(t: CaseTrend, labels: string[], id: string): ChartSpec {
  const chart: ChartSpec = {
    id,
    title: t.label,
    type: 'line',
    yTitle: t.metric,
    labels,
    datasets: [{label: t.metric, data: t.points.map((p) => p.mean), errors: t.points.map((p) => p.ci95), color: '#1f77b4'}],
  }
  return inHumanUnits(chart, t.unit, t.metric.replace(/_/g, ' '))
}

/** Why a history never gates, with the spread these runs showed. */
function explanation(trends: SuiteTrend[], spec: string): string {
  const spreads = trends.flatMap((s) => s.cases.map((c) => c.spread)).filter(Number.isFinite)
  const moved = spreads.length
    ? ` In this history the cases' run means moved by ${pct(median(spreads))} in the median case and up to ${pct(Math.max(...spreads))} (largest run mean over the smallest).`
    : ''
  return `<h2 id="history">History: context, never a gate</h2>
<div class="context"><p>Runs recorded in <code>${esc(spec)}</code> on other commits, days and host loads. On a machine whose cores a host shares,
the speed moves between runs while the samples inside one run agree, so a run from another day differs from today's by more than
most regressions worth catching.${moved} A point that stands out here is a question to look into, not a verdict: this section never
sets an exit code. The gate is <code>ebpfperf compare</code> on runs measured side by side: an A/B run (<code>suite micro --ab OTHER</code>) or
several alternating runs per side (README, "Gating in CI on a shared runner"; docs/gate.md).</p>
<p>The last column is what <code>compare --history</code> reports for the newest run: is it outside the earlier runs' spread
(a prediction interval over their run means). Reported, never gated.</p></div>`
}

function suiteBlock(s: SuiteTrend, si: number): {html: string; charts: ChartSpec[]} {
  const labels = s.runs.map(runLabel)
  const shown = s.runs.slice(-TABLE_RUNS)
  const head = shown.map((r) => `<th>${esc(r.commit?.slice(0, 9) ?? '—')}<br><small>${esc(r.started.slice(0, 16).replace('T', ' '))}</small></th>`).join('')
  const cell = (t: CaseTrend, i: number) => {
    const p = t.points[s.runs.length - shown.length + i]
    return `<td>${p.mean === null ? esc(p.status) : esc(fmtQuantity(p.mean, t.unit))}</td>`
  }
  const rows = s.cases.map((t) => `<tr><td>${esc(t.label)}</td>${shown.map((_, i) => cell(t, i)).join('')}<td>${Number.isFinite(t.spread) ? pct(t.spread) : '—'}</td><td>${esc(t.verdict ?? '—')}</td></tr>`).join('')
  const charts = s.cases.map((t, ci) => trendChart(t, labels, `h${si}-${ci}`))
  const older = s.runs.length > shown.length ? ` (the newest ${shown.length} in the table, all in the charts)` : ''
  const html = `<h3>${esc(s.suite)}: ${s.runs.length} run(s)${older}</h3>${s.note ? `<p>Newest run: ${esc(s.note)}.</p>` : ''}
<table class="history"><tr><th>case</th>${head}<th>spread</th><th>newest vs earlier (not gated)</th></tr>${rows}</table>
<div class="trends">${charts.map((c) => `<section class="trend"><h4>${esc(c.title)}</h4><div class="box small"><canvas id="${c.id}"></canvas></div></section>`).join('')}</div>`
  return {html, charts}
}

/** The section for `renderReport`: the explanation, then per suite its table and charts. */
export function historySection(trends: SuiteTrend[], spec: string): ReportSection {
  const blocks = trends.map(suiteBlock)
  return {html: `${explanation(trends, spec)}\n${blocks.map((b) => b.html).join('\n')}`, charts: blocks.flatMap((b) => b.charts)}
}
