// `ebpfperf report`: one self-contained HTML file (no network: Chart.js is inlined) with the environment
// fingerprint on top and charts per suite; with a comparison, the change per case coloured by verdict.
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import type {Comparison} from './compare.js'
import type {CaseResult, RunResult} from './store.js'
import {fmtQuantity, fmtRange, scaleFor} from './units.js'
import {reportAnswer} from './report-answer.js'

export interface ChartSpec {
  id: string
  title: string
  type: 'bar' | 'line'
  xTitle?: string
  yTitle: string
  labels: (string | number)[]
  datasets: {label: string; data: (number | null)[]; errors?: ([number, number] | null)[]; colors?: string[]; color?: string}[]
  logY?: boolean
  /** Bottom of a logarithmic axis: the power of ten below the smallest bar (else that bar has no height). */
  yMin?: number
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf']
/** A mode keeps its colour in every chart of the page (kernel is always the same red). */
const MODE_COLORS: Record<string, string> = {generator: '#9e9e9e', kernel: '#d62728', xdp: '#2ca02c', tc: '#ff7f0e', object: '#1f77b4'}

const ok = (c: CaseResult) => c.status === 'ok' && c.stats !== undefined
const paramKeys = (cs: CaseResult[]) => [...new Set(cs.flatMap((c) => Object.keys(c.params)))]
const varying = (cs: CaseResult[], k: string) => new Set(cs.map((c) => String(c.params[k]))).size > 1
/** snake_case metric names in words, ns as "time" (the axis gives the unit); any other name as written. */
const metricName = (metric: string) => (/^[a-z0-9_]+$/.test(metric) ? metric.replace(/(^|_)ns(?=_|$)/g, '$1time').replace(/(^|_)dut(?=_|$)/g, '$1DUT').replace(/_/g, ' ') : metric)
const finiteCi = (c: CaseResult | undefined): [number, number] | null => (c?.stats && c.stats.ci95.every(Number.isFinite) ? c.stats.ci95 : null)

/** Every value and error bar of a chart in the unit its largest value reads best in (Mpps, Gbit/s, µs…). */
export function inHumanUnits(chart: ChartSpec, unit: string, what: string): ChartSpec {
  const all = chart.datasets.flatMap((d) => [...d.data, ...(d.errors ?? []).flatMap((e) => e ?? [])]).filter((v): v is number => v !== null && Number.isFinite(v))
  const scale = scaleFor(unit, Math.max(0, ...all.map(Math.abs)))
  const f = (v: number | null) => (v === null ? null : v / scale.factor)
  const datasets = chart.datasets.map((d) => ({...d, data: d.data.map(f), errors: d.errors?.map((e) => (e ? ([e[0] / scale.factor, e[1] / scale.factor] as [number, number]) : null))}))
  const positive = datasets.flatMap((d) => d.data).filter((v): v is number => v !== null && v > 0)
  const yMin = chart.logY && positive.length > 0 ? 10 ** Math.floor(Math.log10(Math.min(...positive))) : undefined
  return {...chart, datasets, yMin, yTitle: scale.label ? `${what} (${scale.label})` : what}
}

/** A parameter's value as an axis label reads it: 64 B, tcp, @ 90%, cpu=1. */
function paramText(k: string, v: unknown): string {
  if ((k === 'frame_size' || k === 'size') && typeof v === 'number') return `${v} B`
  if (k === 'size') return `size ${v}`
  if (k === 'loss_rate') return `@ ${v}`
  if (k === 'mode' || k === 'protocol' || k === 'rate' || k === 'kind' || k === 'body' || k === 'probe') return String(v)
  if (k === 'stats') return `bpf_stats ${v}`
  if (k === 'cpu') return `CPU ${v}`
  if (k === 'test') return String(v)
  return `${k}=${v}`
}

/** Order of points: numbers ascending, anything else as first seen. */
function pointOrder(cs: CaseResult[], keys: string[]): (a: CaseResult, b: CaseResult) => number {
  const seen = new Map(keys.map((k) => [k, [...new Set(cs.map((c) => String(c.params[k])))]]))
  return (a, b) => {
    for (const k of keys) {
      const x = a.params[k]
      const y = b.params[k]
      const d = typeof x === 'number' && typeof y === 'number' ? x - y : seen.get(k)!.indexOf(String(x)) - seen.get(k)!.indexOf(String(y))
      if (d !== 0) return d
    }
    return 0
  }
}

/** Params that vary, less those each mode fixes (xdpMode, tcAttach: what a mode is, not where it was measured). */
function pointKeys(cs: CaseResult[], series: string): string[] {
  const modes = new Set(cs.map((c) => String(c.params[series])))
  const fixedByMode = (k: string) => [...modes].every((m) => new Set(cs.filter((c) => String(c.params[series]) === m).map((c) => String(c.params[k]))).size === 1)
  return paramKeys(cs).filter((k) => k !== series && varying(cs, k) && !fixedByMode(k))
}

/**
 * Bars side by side: one group per point (frame size, rate…; attach type), one bar per series (mode; body and
 * bpf_stats), so what was compared stands next to each other at every point.
 */
function sideBySide(suite: string, metric: string, cs: CaseResult[], id: string, series: string[], points: string[]): ChartSpec {
  const text = (keys: string[], fallback: string) => (c: CaseResult) => keys.filter((k) => c.params[k] !== undefined).map((k) => paramText(k, c.params[k])).join(' ') || fallback
  const pointOf = text(points, metricName(metric))
  const seriesOf = text(series, metricName(metric))
  const labels = [...new Set([...cs].sort(pointOrder(cs, points)).map(pointOf))]
  const names = [...new Set(cs.map(seriesOf))]
  const at = (name: string) => labels.map((p) => cs.find((c) => seriesOf(c) === name && pointOf(c) === p))
  return {
    id,
    title: `${suite}: ${metricName(metric)}${points.length ? ` per ${points.map(metricName).join(', ')}` : ''}, ${series.map(metricName).join(' and ')} side by side (mean, 95% CI)`,
    type: 'bar',
    xTitle: points.map(metricName).join(', ') || undefined,
    yTitle: metricName(metric),
    labels,
    datasets: names.map((m) => ({label: m, data: at(m).map((c) => c?.stats?.mean ?? null), errors: at(m).map(finiteCi), color: MODE_COLORS[m]})),
  }
}

/** One mode (or none) swept over a number: a line per remaining category against it. */
function seriesOver(suite: string, metric: string, cs: CaseResult[], x: string, categorical: string[], id: string): ChartSpec {
  const seriesKey = (c: CaseResult) => categorical.filter((k) => c.params[k] !== undefined).map((k) => paramText(k, c.params[k])).join(' ') || metricName(metric)
  const xs = [...new Set(cs.map((c) => c.params[x] as number))].sort((a, b) => a - b)
  const series = [...new Set(cs.map(seriesKey))]
  return {
    id,
    title: `${suite}: ${metricName(metric)} vs ${metricName(x)}`,
    type: 'line',
    xTitle: x === 'frame_size' ? 'frame size (B)' : x === 'size_bytes' ? 'size (B)' : metricName(x),
    yTitle: metricName(metric),
    labels: xs,
    datasets: series.map((s) => {
      const at = xs.map((v) => cs.find((c) => seriesKey(c) === s && c.params[x] === v))
      return {label: s, data: at.map((c) => c?.stats?.mean ?? null), errors: at.map(finiteCi), color: MODE_COLORS[s]}
    }),
  }
}

function casesByMetric(run: RunResult): Map<string, CaseResult[]> {
  const byMetric = new Map<string, CaseResult[]>()
  for (const c of run.cases.filter(ok)) byMetric.set(c.metric, [...(byMetric.get(c.metric) ?? []), c])
  return byMetric
}
/** Bars from 170 ns to 19 µs side by side: on a linear axis the small ones vanish, so such a chart is logarithmic. */
function spansDecades(chart: ChartSpec): boolean {
  const means = chart.datasets.flatMap((d) => d.data).filter((v): v is number => v !== null)
  return chart.type === 'bar' && means.length > 1 && means.every((v) => v > 0) && Math.max(...means) >= 100 * Math.min(...means)
}

const allZero = (cs: CaseResult[]) => cs.every((c) => c.stats!.mean === 0 && c.stats!.max === 0 && c.stats!.min === 0)

/** Metrics of a run whose every sample is 0 (frame loss at rates the paths kept up with): one line instead of a chart. */
export function flatMetrics(run: RunResult): string[] {
  return [...casesByMetric(run)].filter(([, cs]) => allZero(cs)).map(([metric, cs]) => `${run.suite}: ${metricName(metric)} was 0 in every sample of all ${cs.length} cases (not charted)`)
}

/** The cases with their test as a parameter (the id before a consumer's `@NAME`), to group bars by test. */
function perTest(cs: CaseResult[]): CaseResult[] {
  return cs.map((c) => ({...c, params: {...c.params, test: c.id.split('@')[0]}}))
}

/** Charts for one run, chosen from the shape of its cases. */
export function chartsFor(run: RunResult, index: number): ChartSpec[] {
  const charts: ChartSpec[] = []
  const byMetric = casesByMetric(run)
  let n = 0
  const grouped = new Set<string>() // metrics already charted per mode: their percentiles too
  for (const [metric, cs] of byMetric) {
    if (allZero(cs)) continue // said in words under the charts (flatMetrics): an empty chart says nothing
    const keys = paramKeys(cs).filter((k) => varying(cs, k))
    const numeric = keys.filter((k) => cs.every((c) => typeof c.params[k] === 'number'))
    const categorical = keys.filter((k) => !numeric.includes(k))
    const id = `r${index}-${n++}`
    // the generator alone is a reference beside the modes, not a mode the suite swept
    const modes = new Set(cs.map((c) => c.params.mode).filter((m) => m !== undefined && m !== 'generator'))
    const series = keys.includes('mode') ? categorical.filter((k) => k === 'mode' || pointKeys(cs, 'mode').includes(k)) : categorical
    let chart: ChartSpec
    if (modes.size > 1) {
      chart = sideBySide(run.suite, metric, cs, id, ['mode'], pointKeys(cs, 'mode'))
      grouped.add(metric)
    } else if (keys.includes('kind') && categorical.length > 1) chart = sideBySide(run.suite, metric, cs, id, categorical.filter((k) => k !== 'kind'), ['kind'])
    else if (keys.includes('consumer')) chart = sideBySide(run.suite, metric, perTest(cs), id, ['consumer'], ['test'])
    else if (keys.includes('cpu') && new Set(cs.map((c) => c.id)).size > 1) chart = sideBySide(run.suite, metric, perTest(cs), id, ['cpu'], ['test'])
    else if (numeric.length >= 1 && cs.length > 2) chart = seriesOver(run.suite, metric, cs, numeric[0], series, id)
    else chart = {id, title: `${run.suite}: ${metricName(metric)} per case (mean, 95% CI)`, type: 'bar', yTitle: metricName(metric), labels: cs.map((c) => c.id), datasets: [{label: metricName(metric), data: cs.map((c) => c.stats!.mean), errors: cs.map(finiteCi)}]}
    charts.push(inHumanUnits({...chart, logY: spansDecades(chart)}, cs[0].unit, chart.yTitle))
  }
  // latency percentiles and other distributions recorded by the suites in `extra`
  const pct = run.cases.filter((c) => ok(c) && !grouped.has(c.metric) && percentilesOf(c))
  if (pct.length > 0) {
    const names = ['p50', 'p95', 'p99'] as const
    const chart: ChartSpec = {
      id: `r${index}-${n++}`,
      title: `${run.suite}: latency percentiles`,
      type: 'bar',
      yTitle: 'latency',
      labels: pct.map((c) => c.id),
      datasets: names.map((p) => ({label: p.toUpperCase(), data: pct.map((c) => percentilesOf(c)![p] ?? null)})),
      logY: true,
    }
    charts.push(inHumanUnits(chart, percentilesOf(pct[0])!.unit, 'latency'))
  }
  return charts
}

/** {p50, p95, p99, unit} from a case's extra.latency (or extra itself). */
function percentilesOf(c: CaseResult): {p50: number; p95?: number; p99: number; unit: string} | undefined {
  const l = (c.extra?.latency ?? c.extra) as Record<string, unknown> | undefined
  if (!l || typeof l.p50 !== 'number' || typeof l.p99 !== 'number') return undefined
  return {p50: l.p50, p95: typeof l.p95 === 'number' ? l.p95 : undefined, p99: l.p99, unit: typeof l.unit === 'string' ? l.unit : 'ns'}
}

export function comparisonChart(cmp: Comparison): ChartSpec {
  const color = (v: string) => (v === 'regression' || v === 'failed' ? '#d62728' : v === 'improvement' ? '#2ca02c' : v === 'too noisy to tell' ? '#ff7f0e' : '#7f7f7f')
  return {
    id: 'comparison',
    title: 'Change per case vs base (%, 95% CI), coloured by verdict',
    type: 'bar',
    yTitle: 'change (%)',
    labels: cmp.cases.map((c) => c.label),
    datasets: [
      {
        label: 'change',
        data: cmp.cases.map((c) => (Number.isFinite(c.relative) ? c.relative * 100 : null)),
        errors: cmp.cases.map((c) => (Number.isFinite(c.ci95[0]) ? [(c.ci95[0] / c.base.mean) * 100, (c.ci95[1] / c.base.mean) * 100] : null)),
        colors: cmp.cases.map((c) => color(c.verdict)),
      },
    ],
  }
}

/** The page's base style (type, tables, headings), shared by the other pages ebpfperf writes (matrix --html). */
export const PAGE_CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}`

/** Text for HTML (element content and quoted attributes): what a result file holds is shown, never parsed. */
export const esc = (s: string) => String(s).replace(/[&<>"']/g, (ch) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[ch]!)

/**
 * JSON for inside <script>: `<`, `>` and `&` as \u escapes (no `</script>` or `<!--` can end or change the
 * element), and U+2028/U+2029 too (line terminators in older JavaScript). The value parses back the same.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** A library's source for inside <script>: no `</script` in it can end the element early. */
export const inlineScript = (js: string): string => js.replace(/<\/script/gi, '<\\/script')

function chartLibrary(): string {
  // the UMD bundle is not in the package's "exports": find the package folder from its main entry
  const main = createRequire(import.meta.url).resolve('chart.js') // …/chart.js/dist/chart.cjs
  const js = readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8')
  return inlineScript(js)
}

/** The answer first: each run's summary sentences, as text. */
function answerSection(runs: RunResult[]): string {
  const parts = runs.map((r) => ({r, lines: reportAnswer(r)})).filter((x) => x.lines.length > 0)
  if (parts.length === 0) return ''
  const body = parts.map(({r, lines}) => `<h3>${esc(r.suite)} — ${esc(r.started)}</h3>${lines.map((l) => `<p>${esc(l)}</p>`).join('')}`).join('')
  return `<section class="answer"><h2>Answer</h2>${body}</section>`
}

/** Per run, every case's figures as a table. */
function numbersSection(runs: RunResult[]): string {
  return runs
    .map(
      (r) =>
        `<h3>${esc(r.suite)} — ${esc(r.started)}</h3><table><tr><th>case</th><th>mean</th><th>sd</th><th>95% CI</th><th>n</th><th>status</th></tr>${r.cases
          .map((c) =>
            c.stats
              ? `<tr><td>${esc(c.id)}</td><td>${esc(fmtQuantity(c.stats.mean, c.unit))}</td><td>${esc(fmtQuantity(c.stats.sd, c.unit))}</td><td>${c.stats.ci95.every(Number.isFinite) ? esc(fmtRange(c.stats.ci95[0], c.stats.ci95[1], c.unit)) : '—'}</td><td>${esc(String(c.stats.n))}</td><td>${esc(c.status)}</td></tr>`
              : `<tr><td>${esc(c.id)}</td><td colspan="4">${esc(c.reason ?? '')}</td><td>${esc(c.status)}</td></tr>`,
          )
          .join('')}</table>`,
    )
    .join('')
}

/** More of the page, from other modules: its HTML (after the charts) and the charts its canvases name. */
export interface ReportSection {
  html: string
  charts: ChartSpec[]
}

export function renderReport(runs: (RunResult & {file?: string})[], cmp?: Comparison, sections: ReportSection[] = []): string {
  const env = runs[0]?.environment
  const charts = runs.flatMap((r, i) => chartsFor(r, i))
  if (cmp) charts.unshift(comparisonChart(cmp))
  const envRows = env
    ? [
        ['kernel', `${env.kernel.release}${env.kernel.configHash ? ` (config ${env.kernel.configHash})` : ''}`],
        ['CPU', `${env.cpu.count} × ${env.cpu.model}${env.cpu.governor ? `, governor ${env.cpu.governor}` : ''}${env.virtualized ? ', virtualized' : ''}`],
        ['JIT', `bpf_jit_enable=${env.jit.enable ?? '?'}, bpf_jit_harden=${env.jit.harden ?? '?'}`],
        ['versions', Object.entries(env.versions).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ')],
        ['host', env.hostname],
      ]
    : []
  const runRows = runs.map((r) => `<tr><td>${esc(r.suite)}</td><td>${esc(r.started)}</td><td>${r.complete ? 'complete' : '<b>incomplete</b>'}</td><td>${r.cases.length}</td><td><code>${esc(r.command)}</code></td></tr>`).join('')
  const canvases = charts.map((c) => `<section class="chart"><h3>${esc(c.title)}</h3><div class="box"><canvas id="${c.id}"></canvas></div></section>`).join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ebpfperf report</title>
<style>
${PAGE_CSS}
.chart{margin:24px 0}.answer{background:#f4f8fc;border-left:4px solid #1f77b4;padding:4px 16px;margin:16px 0}
.answer p{margin:6px 0}.answer h3{margin:10px 0 4px;font-size:14px;color:#555}.box{position:relative;height:340px}code{font-size:12px}
.context{background:#fbf8ef;border-left:4px solid #b8860b;padding:4px 16px}.trends{display:grid;grid-template-columns:repeat(3,1fr);gap:8px 16px}
.trends h4{margin:6px 0 2px;font-size:12px;font-weight:normal}.box.small{height:170px}.flame{overflow-x:auto}
</style>
<script>${chartLibrary()}</script>
</head><body>
<h1>ebpfperf report</h1>
${answerSection(runs)}
<h2>Environment</h2><table>${envRows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
${cmp && cmp.environmentDifferences.length > 0 ? `<p><b>Different environments:</b> ${esc(cmp.environmentDifferences.join('; '))}</p>` : ''}
<h2>Runs</h2><table><tr><th>suite</th><th>started</th><th>state</th><th>cases</th><th>command</th></tr>${runRows}</table>
<h2>Charts</h2>${canvases || '<p>No measured cases to chart.</p>'}${runs.flatMap(flatMetrics).map((l) => `<p>${esc(l)}</p>`).join('')}
${sections.map((x) => x.html).join('\n')}
<h2>Numbers</h2>${numbersSection(runs)}
<script>
const charts = ${scriptJson([...charts, ...sections.flatMap((x) => x.charts)])}; // the sections' canvases are in their HTML
const PALETTE = ${scriptJson(PALETTE)};
// Error bars: vertical whiskers from each dataset's "errors" ([low, high] per point)
const errorBars = {id: 'errorBars', afterDatasetsDraw(chart) {
  const {ctx, scales: {y}, chartArea: a} = chart;
  ctx.save(); ctx.beginPath(); ctx.rect(a.left, a.top, a.right - a.left, a.bottom - a.top); ctx.clip(); // a wide CI runs off the plot, not over the legend
  chart.data.datasets.forEach((ds, i) => {
    if (!ds.errors) return;
    chart.getDatasetMeta(i).data.forEach((el, j) => {
      const e = ds.errors[j]; if (!e || ds.data[j] === null) return;
      const x = el.x, lo = y.getPixelForValue(e[0]), hi = y.getPixelForValue(e[1]);
      ctx.save(); ctx.strokeStyle = '#333'; ctx.lineWidth = 1; ctx.beginPath();
      ctx.moveTo(x, lo); ctx.lineTo(x, hi); ctx.moveTo(x - 4, lo); ctx.lineTo(x + 4, lo); ctx.moveTo(x - 4, hi); ctx.lineTo(x + 4, hi);
      ctx.stroke(); ctx.restore();
    });
  });
  ctx.restore();
}};
window.ebpfperfCharts = charts.map((c) => new Chart(document.getElementById(c.id), {
  type: c.type,
  data: {labels: c.labels, datasets: c.datasets.map((d, i) => ({label: d.label, data: d.data, errors: d.errors,
    backgroundColor: d.colors ?? d.color ?? PALETTE[i % PALETTE.length], borderColor: d.colors ?? d.color ?? PALETTE[i % PALETTE.length], spanGaps: true}))},
  options: {animation: false, responsive: true, maintainAspectRatio: false, plugins: {legend: {display: c.datasets.length > 1}},
    scales: {x: {offset: true, title: {display: !!c.xTitle, text: c.xTitle}}, y: {type: c.logY ? 'logarithmic' : 'linear', beginAtZero: !c.logY, min: c.yMin ?? undefined, title: {display: true, text: c.yTitle + (c.logY ? ', log scale' : '')}}}},
  plugins: [errorBars],
}));
</script>
</body></html>
`
}
