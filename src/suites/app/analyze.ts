// From measured rows to what the layer claims: per protocol and size, each probe's requests/s against the
// same workload with nothing attached (`none`) run beside it in the same round. Each round's ratio divides out
// the machine's drift (the host shares these cores); the mean log ratio over rounds gives the change and its
// 95% CI, and only a CI clear of 0 is called an effect.
import {pairedLogRatio, summarize, type RatioInterval, type Summary} from '../../results/stats.js'
import type {AppRow} from './proof.js'

export interface AppComparison {
  protocol: string
  size: string
  probe: string
  base: Summary
  probed: Summary
  ratio: RatioInterval
  /** Rounds in which both ran. */
  pairs: number
  /** Relative change of requests/s (negative: slower) and its 95% CI, as fractions. */
  change: number
  ci: [number, number]
  significant: boolean
  verdict: string
}

/** Requests/s of two rows in the rounds where both were measured. */
function pairByRound(a: AppRow, b: AppRow): [number[], number[]] {
  const xs: number[] = []
  const ys: number[] = []
  a.rounds.forEach((round, i) => {
    const j = b.rounds.indexOf(round)
    if (j >= 0) {
      xs.push(a.rps[i])
      ys.push(b.rps[j])
    }
  })
  return [xs, ys]
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`

export function compareToNone(rows: AppRow[]): AppComparison[] {
  const out: AppComparison[] = []
  for (const r of rows) {
    if (r.config.probe === 'none' || r.status !== 'ok') continue
    const base = rows.find((b) => b.config.probe === 'none' && b.config.protocol === r.config.protocol && b.config.size === r.config.size)
    if (!base || base.status !== 'ok') continue
    const [a, b] = pairByRound(base, r)
    if (a.length < 2) continue
    const ratio = pairedLogRatio(a, b)
    const p = ratio.p < 0.001 ? '<0.001' : ratio.p.toFixed(3)
    const verdict = ratio.significant ? `${pct(ratio.relative)} (p=${p}, ${a.length} rounds paired)` : `no change told from noise (p=${ratio.p.toFixed(2)}, ${a.length} rounds paired)`
    out.push({protocol: r.config.protocol, size: r.config.size, probe: r.config.probe, base: summarize(a), probed: summarize(b), ratio, pairs: a.length,
      change: ratio.relative, ci: ratio.relativeCi, significant: ratio.significant, verdict})
  }
  return out
}

/** CPU per request (µs) of nginx, and of the consumer thread when the probe has one. */
export function cpuPerRequest(r: AppRow): {serverUs: number; consumerUs: number} {
  const n = r.requests || Number.NaN
  return {serverUs: r.serverCpuNs / n / 1e3, consumerUs: r.consumerCpuNs / n / 1e3}
}

/** The probe's proof in words: the kernel's run_cnt of its programs and what they counted, per request, and where every record went. */
export function proofLine(r: AppRow): string {
  const k = r.counts
  const per = (x: number) => (r.requests > 0 ? (x / r.requests).toFixed(2) : '-')
  const runs = Object.entries(r.runCnt).map(([what, n]) => `${what} +${n} (${per(n)}/request)`).join(', ')
  const own = ((): string => {
    switch (r.config.probe) {
      case 'none':
        return `${r.requests} requests`
      case 'sslsniff':
        return `${k.returns} SSL calls (${per(k.returns)}/request), ${k.produced} records (${per(k.produced)}/request) = ${r.consumed} consumed + ${r.config.buffer === 'perf' ? `${r.lostReported ?? 0} lost (perf buffer, lost callback)` : `${k.lost} lost (ring buffer)`}, ${(k.bytes / 1e6).toFixed(1)} MB captured`
      case 'syscount':
        return `${k.entries} syscalls counted (${per(k.entries)}/request)`
      case 'syscount-kfilter':
        return `${k.entries} syscalls tested, ${k.mine} of the filtered pid kept`
      case 'syscount-user':
        return `${k.produced} records (${per(k.produced)}/request) = ${r.consumed} consumed + ${k.lost} lost; ${r.matched} of the filtered pid kept in user space`
      case 'go-runtime':
      case 'go-handler':
        return `${k.entries} calls counted (${per(k.entries)}/request)`
      case 'object':
        return `${r.requests} requests`
    }
  })()
  return runs ? `run_cnt ${runs}; ${own}` : own
}
