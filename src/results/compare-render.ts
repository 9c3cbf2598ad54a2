// The comparison as a table (terminal or markdown) with the lines under it: environments, missing and
// new cases, what the method can decide, and the gate's outcome.
import {colorVerdict, fmtNum, fmtPct, renderTable} from './table.js'
import {makeChalk} from '../doctor/render.js'
import type {Comparison} from './compare.js'

export function renderComparison(cmp: Comparison, format: 'table' | 'markdown'): string {
  const c = makeChalk(process.env, format === 'table' && Boolean(process.stdout.isTTY))
  const ci = (r: [number, number]) => (Number.isFinite(r[0]) ? `[${fmtPct(r[0])}, ${fmtPct(r[1])}]` : '-')
  const rows = cmp.cases.map((x) => [
    x.label,
    `${fmtNum(x.base.mean)} ${x.unit}`,
    `${fmtNum(x.candidate.mean)} ${x.unit}`,
    Number.isFinite(x.relative) ? fmtPct(x.relative) : '-',
    ci(x.relativeCi95),
    Number.isFinite(x.p) ? (x.p < 0.001 ? '<0.001' : x.p.toFixed(3)) : '-',
    colorVerdict(x.verdict, c) + (x.gate ? c.red(' ✘ gate') : ''),
  ])
  const [baseHead, candHead] = cmp.method === 'paired A/B' ? ['A', 'B'] : ['Base', 'Candidate']
  const out = [renderTable(['Case', baseHead, candHead, 'Change', '95% CI of change', 'p', 'Verdict'], rows, {format, align: ['left', 'right', 'right', 'right', 'right', 'right', 'left']})]
  const bullet = format === 'markdown' ? '- ' : ''
  if (cmp.environmentDifferences.length > 0) out.push('', `${bullet}Different environments: ${cmp.environmentDifferences.join('; ')} — timings may not be comparable.`)
  if (cmp.missing.length > 0) out.push('', `${bullet}Missing from the candidate: ${cmp.missing.join(', ')}`)
  if (cmp.added.length > 0) out.push('', `${bullet}New in the candidate: ${cmp.added.join(', ')}`)
  if (cmp.history) out.push('', `${bullet}History: ${cmp.history}.`)
  out.push('', `${bullet}Method: ${cmp.method}. ${cmp.scope}`)
  const gated = cmp.cases.filter((x) => x.gate)
  const pct = fmtPct(cmp.threshold).slice(1)
  const why = {history: 'a history from other days', 'one run per side': 'cannot tell from one run per side', 'run-level': 'the runs do not alternate in time', 'paired A/B': ''}[cmp.method]
  if (!cmp.gated) out.push('', `${bullet}Not gated (${why}).`)
  else out.push('', gated.length > 0 ? `${bullet}${gated.length} regression(s) beyond ${pct}: ${gated.map((x) => x.label).join(', ')}` : `${bullet}No significant regression beyond ${pct}.`)
  return out.join('\n')
}
