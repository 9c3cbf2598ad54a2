// `ebpfperf report`: one self-contained HTML file (no network: Chart.js is inlined) with the environment
// fingerprint on top and charts per suite; with a comparison, the change per case coloured by verdict.
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import type {Comparison} from './compare.js'
import type {CaseResult, RunResult} from './store.js'
import {fmtNum} from './table.js'

export interface ChartSpec {
  id: string
  title: string
  type: 'bar' | 'line'
  xTitle?: string
  yTitle: string
  labels: (string | number)[]
  datasets: {label: string; data: (number | null)[]; errors?: ([number, number] | null)[]; colors?: string[]}[]
  logY?: boolean
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf']

const ok = (c: CaseResult) => c.status === 'ok' && c.stats !== undefined
const paramKeys = (cs: CaseResult[]) => [...new Set(cs.flatMap((c) => Object.keys(c.params)))]
const varying = (cs: CaseResult[], k: string) => new Set(cs.map((c) => String(c.params[k]))).size > 1

/** Charts for one run, chosen from the shape of its cases. */
export function chartsFor(run: RunResult, index: number): ChartSpec[] {
  const charts: ChartSpec[] = []
  const byMetric = new Map<string, CaseResult[]>()
  for (const c of run.cases.filter(ok)) byMetric.set(c.metric, [...(byMetric.get(c.metric) ?? []), c])
  let n = 0
  for (const [metric, cs] of byMetric) {
    const unit = cs[0].unit
    const keys = paramKeys(cs).filter((k) => varying(cs, k))
    const numeric = keys.filter((k) => cs.every((c) => typeof c.params[k] === 'number'))
    const categorical = keys.filter((k) => !numeric.includes(k))
    const id = `r${index}-${n++}`
    if (numeric.length >= 1 && cs.length > 2) {
      // e.g. throughput vs offered rate, one line per mode (and per other category)
      const x = numeric[0]
      const seriesKey = (c: CaseResult) => categorical.filter((k) => c.params[k] !== undefined).map((k) => `${k}=${c.params[k]}`).join(' ') || metric
      const xs = [...new Set(cs.map((c) => c.params[x] as number))].sort((a, b) => a - b)
      const series = [...new Set(cs.map(seriesKey))]
      charts.push({
        id,
        title: `${run.suite}: ${metric} vs ${x}`,
        type: 'line',
        xTitle: x,
        yTitle: `${metric} (${unit})`,
        labels: xs,
        datasets: series.map((s) => {
          const at = xs.map((v) => cs.find((c) => seriesKey(c) === s && c.params[x] === v))
          return {label: s, data: at.map((c) => c?.stats?.mean ?? null), errors: at.map((c) => (c?.stats ? c.stats.ci95 : null))}
        }),
      })
    } else {
      charts.push({
        id,
        title: `${run.suite}: ${metric} per case (mean, 95% CI)`,
        type: 'bar',
        yTitle: `${metric} (${unit})`,
        labels: cs.map((c) => c.id),
        datasets: [{label: metric, data: cs.map((c) => c.stats!.mean), errors: cs.map((c) => c.stats!.ci95)}],
      })
    }
  }
  // latency percentiles and other distributions recorded by the suites in `extra`
  const pct = run.cases.filter((c) => ok(c) && percentilesOf(c))
  if (pct.length > 0) {
    const names = ['p50', 'p95', 'p99'] as const
    charts.push({
      id: `r${index}-${n++}`,
      title: `${run.suite}: latency percentiles`,
      type: 'bar',
      yTitle: `latency (${percentilesOf(pct[0])!.unit})`,
      labels: pct.map((c) => c.id),
      datasets: names.map((p) => ({label: p.toUpperCase(), data: pct.map((c) => percentilesOf(c)![p] ?? null)})),
      logY: true,
    })
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

/** Text for HTML (element content and quoted attributes): what a result file holds is shown, never parsed. */
export const esc = (s: string) => String(s).replace(/[&<>"']/g, (ch) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[ch]!)

/**
 * JSON for inside <script>: `<`, `>` and `&` as \u escapes (no `</script>` or `<!--` can end or change the
 * element), and U+2028/U+2029 too (line terminators in older JavaScript). The value parses back the same.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function chartLibrary(): string {
  // the UMD bundle is not in the package's "exports": find the package folder from its main entry
  const main = createRequire(import.meta.url).resolve('chart.js') // …/chart.js/dist/chart.cjs
  const js = readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8')
  return js.replace(/<\/script/gi, '<\\/script')
}

export function renderReport(runs: (RunResult & {file?: string})[], cmp?: Comparison): string {
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
  const tables = runs
    .map(
      (r) =>
        `<h3>${esc(r.suite)} — ${esc(r.started)}</h3><table><tr><th>case</th><th>mean</th><th>sd</th><th>95% CI</th><th>n</th><th>status</th></tr>${r.cases
          .map((c) =>
            c.stats
              ? `<tr><td>${esc(c.id)}</td><td>${fmtNum(c.stats.mean)} ${esc(c.unit)}</td><td>${fmtNum(c.stats.sd)}</td><td>[${fmtNum(c.stats.ci95[0])}, ${fmtNum(c.stats.ci95[1])}]</td><td>${esc(String(c.stats.n))}</td><td>${esc(c.status)}</td></tr>`
              : `<tr><td>${esc(c.id)}</td><td colspan="4">${esc(c.reason ?? '')}</td><td>${esc(c.status)}</td></tr>`,
          )
          .join('')}</table>`,
    )
    .join('')
  const canvases = charts.map((c) => `<section class="chart"><h3>${esc(c.title)}</h3><div class="box"><canvas id="${c.id}"></canvas></div></section>`).join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ebpfperf report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}.chart{margin:24px 0}.box{position:relative;height:340px}code{font-size:12px}
</style>
<script>${chartLibrary()}</script>
</head><body>
<h1>ebpfperf report</h1>
<h2>Environment</h2><table>${envRows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
${cmp && cmp.environmentDifferences.length > 0 ? `<p><b>Different environments:</b> ${esc(cmp.environmentDifferences.join('; '))}</p>` : ''}
<h2>Runs</h2><table><tr><th>suite</th><th>started</th><th>state</th><th>cases</th><th>command</th></tr>${runRows}</table>
<h2>Charts</h2>${canvases || '<p>No measured cases to chart.</p>'}
<h2>Numbers</h2>${tables}
<script>
const charts = ${scriptJson(charts)};
const PALETTE = ${scriptJson(PALETTE)};
// Error bars: vertical whiskers from each dataset's "errors" ([low, high] per point)
const errorBars = {id: 'errorBars', afterDatasetsDraw(chart) {
  const {ctx, scales: {y}} = chart;
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
}};
window.ebpfperfCharts = charts.map((c) => new Chart(document.getElementById(c.id), {
  type: c.type,
  data: {labels: c.labels, datasets: c.datasets.map((d, i) => ({label: d.label, data: d.data, errors: d.errors,
    backgroundColor: d.colors ?? PALETTE[i % PALETTE.length], borderColor: d.colors ?? PALETTE[i % PALETTE.length], spanGaps: true}))},
  options: {animation: false, responsive: true, maintainAspectRatio: false, plugins: {legend: {display: c.datasets.length > 1}},
    scales: {x: {title: {display: !!c.xTitle, text: c.xTitle}}, y: {type: c.logY ? 'logarithmic' : 'linear', title: {display: true, text: c.yTitle}}}},
  plugins: [errorBars],
}));
</script>
</body></html>
`
}
