// The application layer's output in the seed's shape: per protocol a Size × probe table of requests/s and
// transfer/s (mean ± sd), then each probe's change against `none` with its 95% CI and verdict, CPU per request
// and the probe's proof; the answer sentence comes first and is built from the same comparisons.
import {renderTable} from '../../results/table.js'
import {fmtQuantity, sig3} from '../../results/units.js'
import {summarize} from '../../results/stats.js'
import type {CaseResult, RunResult} from '../../results/store.js'
import {parseSize} from '../../workloads/nginx.js'
import {toCsv} from '../../results/store.js'
import {compareToNone, cpuPerRequest, proofLine} from './analyze.js'
import type {AppRow} from './proof.js'

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`
function pm(xs: number[], unit: string): string {
  if (xs.length < 2) return xs.length === 0 ? '-' : fmtQuantity(xs[0], unit)
  const s = summarize(xs)
  return `${fmtQuantity(s.mean, unit)} ±${sig3(s.cv * 100)}%`
}

/** What the answer rests on: one probe's change against none at one protocol and size. */
export interface AppClaim {
  probe: string
  protocol: string
  size: string
  significant: boolean
  change: number
  ci: [number, number]
  p: number
}

/** The answer: each probe's measured change where its CI is clear of 0, otherwise that none was told from noise. */
export function answerFrom(claims: AppClaim[]): string[] {
  if (claims.length === 0) return ['No probe could be compared with the unprobed workload (see the failed rows below).']
  const byProbe = new Map<string, AppClaim[]>()
  for (const c of claims) {
    const what = `${c.probe} on ${c.protocol === 'go' ? 'the Go server' : `nginx over ${c.protocol.toUpperCase()}`}`
    byProbe.set(what, [...(byProbe.get(what) ?? []), c])
  }
  return [...byProbe].map(([what, cs]) => {
    const parts = cs.map((c) => (c.significant ? `${pct(c.change)} at ${c.size} (95% CI ${pct(c.ci[0])} to ${pct(c.ci[1])})` : `no change told from noise at ${c.size} (p=${c.p.toFixed(2)})`))
    return `${what}: requests/s ${parts.join('; ')}.`
  })
}

export const appAnswer = (rows: AppRow[]): string[] => answerFrom(compareToNone(rows).map((c) => ({...c, p: c.ratio.p})))

/** The same answer rebuilt from a result file's cases (the report command). */
export function appAnswerFromRun(run: RunResult): string[] {
  const claims: AppClaim[] = []
  for (const c of run.cases) {
    const e = c.extra ?? {}
    const ci = e.changeCi95
    if (typeof e.change !== 'number' || typeof e.p !== 'number' || typeof e.significant !== 'boolean' || !Array.isArray(ci) || ci.length !== 2) continue
    claims.push({probe: String(c.params.probe), protocol: String(c.params.protocol), size: String(e.size ?? ''), significant: e.significant, change: e.change, ci: [Number(ci[0]), Number(ci[1])], p: e.p})
  }
  return claims.length > 0 ? answerFrom(claims) : []
}

export function renderApp(rows: AppRow[]): string {
  const out: string[] = []
  const probes = [...new Set(rows.map((r) => r.config.probe))]
  for (const protocol of [...new Set(rows.map((r) => r.config.protocol))]) {
    const mine = rows.filter((r) => r.config.protocol === protocol)
    const sizes = [...new Set(mine.map((r) => r.config.size))]
    const cell = (size: string, probe: string, f: (r: AppRow) => string) => {
      const r = mine.find((x) => x.config.size === size && x.config.probe === probe)
      return !r ? '' : r.status === 'failed' ? 'failed' : f(r)
    }
    const shown = probes.filter((p) => mine.some((r) => r.config.probe === p))
    out.push(`${protocol.toUpperCase()} — requests/s (mean ±sd over runs)`)
    out.push(renderTable(['Size', ...shown], sizes.map((s) => [s, ...shown.map((p) => cell(s, p, (r) => pm(r.rps, 'req/s')))])))
    out.push(`${protocol.toUpperCase()} — transfer/s`)
    out.push(renderTable(['Size', ...shown], sizes.map((s) => [s, ...shown.map((p) => cell(s, p, (r) => pm(r.transfer.map((b) => b * 8), 'bit/s')))])))
  }
  const cmp = compareToNone(rows)
  if (cmp.length > 0) {
    out.push('Change of requests/s against none in the same rounds (paired log ratio, 95% CI), CPU per request (nginx; the consumer) and the proof')
    out.push(renderTable(['Protocol', 'Size', 'Probe', 'Change (95% CI)', 'Verdict', 'CPU/req nginx', 'CPU/req consumer', 'P99 latency', 'Proof (bpf_stats run_cnt, records per request)'], cmp.map((c) => {
      const r = rows.find((x) => x.config.protocol === c.protocol && x.config.size === c.size && x.config.probe === c.probe)!
      const cpu = cpuPerRequest(r)
      return [c.protocol, c.size, c.probe, `${pct(c.change)} (${pct(c.ci[0])}..${pct(c.ci[1])})`, c.verdict, fmtQuantity(cpu.serverUs, 'µs'), cpu.consumerUs > 0 ? fmtQuantity(cpu.consumerUs, 'µs') : '-', pm(r.p99us, 'µs'), proofLine(r)]
    })))
  }
  const failed = rows.filter((r) => r.status === 'failed')
  if (failed.length > 0) out.push(renderTable(['Configuration', 'Failed because'], failed.map((r) => [r.config.id, r.reason ?? ''])))
  return out.join('\n')
}

/** One case per configuration: requests/s samples, with the comparison and the proof as extras. */
export type AppCase = Omit<CaseResult, 'stats' | 'status'> & {failed: boolean}

export function appCases(rows: AppRow[]): {cases: AppCase[]; csv: string} {
  const cmp = new Map(compareToNone(rows).map((c) => [`${c.protocol}/${c.size}/${c.probe}`, c]))
  const cases = rows.map((r) => {
    const c = cmp.get(r.config.id)
    return {
      id: `app/${r.config.id}`,
      params: {protocol: r.config.protocol, probe: r.config.probe, size_bytes: parseSize(r.config.size)},
      metric: 'requests_per_second',
      unit: 'req/s',
      higherIsBetter: true,
      samples: r.rps,
      reason: r.reason,
      extra: {
        transferBytesPerSec: r.transfer, latencyP50Us: r.p50us, latencyP99Us: r.p99us, requests: r.requests, errors: r.errors, cpuPerRequestUs: cpuPerRequest(r),
        size: r.config.size, counts: r.counts, consumed: r.consumed, matched: r.matched, runCnt: r.runCnt, proof: proofLine(r),
        ...(r.config.buffer ? {buffer: r.config.buffer} : {}), ...(r.lostReported !== undefined ? {lostReported: r.lostReported} : {}),
        ...(c ? {change: c.change, changeCi95: c.ci, p: c.ratio.p, significant: c.significant, verdict: c.verdict} : {}),
      },
      failed: r.status === 'failed',
    }
  })
  const csv = toCsv(['case', 'protocol', 'size', 'probe', 'n', 'mean_rps', 'sd_rps', 'change', 'ci95_low', 'ci95_high', 'verdict', 'status'], rows.map((r) => {
    const c = cmp.get(r.config.id)
    const s = r.rps.length > 0 ? summarize(r.rps) : undefined
    return [`app/${r.config.id}`, r.config.protocol, r.config.size, r.config.probe, String(r.rps.length), s ? s.mean.toFixed(1) : '', s ? s.sd.toFixed(1) : '', c ? c.change.toFixed(4) : '', c ? c.ci[0].toFixed(4) : '', c ? c.ci[1].toFixed(4) : '', c?.verdict ?? '', r.status]
  }))
  return {cases, csv}
}
