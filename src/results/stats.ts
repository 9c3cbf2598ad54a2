// Statistics every suite reports: summary with a 95% confidence interval, coefficient of variation,
// and Welch's t-test for "is this difference real". Student's t distribution computed here (regularized
// incomplete beta), no tables.

export interface Summary {
  n: number
  mean: number
  sd: number // sample standard deviation (n - 1)
  min: number
  max: number
  median: number
  ci95: [number, number] // t-based interval for the mean
  halfWidth: number // of ci95
  cv: number // sd / mean (0 when mean is 0)
}

/** Arithmetic mean; NaN for no values. */
export function mean(xs: number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length
}

export function summarize(xs: number[]): Summary {
  const n = xs.length
  if (n === 0) throw new Error('summarize: no samples')
  const m = mean(xs)
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (n - 1)) : 0
  const sorted = [...xs].sort((a, b) => a - b)
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
  const halfWidth = n > 1 ? tQuantile(0.975, n - 1) * (sd / Math.sqrt(n)) : Number.POSITIVE_INFINITY
  return {n, mean: m, sd, min: sorted[0], max: sorted[n - 1], median, ci95: [m - halfWidth, m + halfWidth], halfWidth, cv: m === 0 ? 0 : sd / Math.abs(m)}
}

/**
 * Interquartile mean: the mean of the middle half, the ⌊n/4⌋ lowest and ⌊n/4⌋ highest values left out
 * (with fewer than 4 values, the plain mean). A timing that something else on the machine disturbed
 * lands in the high tail and is left out, while the middle values still average the timer's rounding.
 */
export function interquartileMean(xs: number[]): number {
  if (xs.length < 4) return mean(xs)
  const s = [...xs].sort((a, b) => a - b)
  const q = Math.floor(s.length / 4)
  return mean(s.slice(q, s.length - q))
}

/** The p-quantile of a sorted copy (linear interpolation between closest ranks). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const r = (s.length - 1) * p
  const lo = Math.floor(r)
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (r - lo)
}

export interface Welch {
  diff: number // mean(b) - mean(a)
  relative: number // diff / mean(a)
  t: number
  df: number
  p: number // two-sided
  ci95: [number, number] // for diff
  significant: boolean // p < 0.05
}

/** Welch's interval for mean(b) - mean(a); with fewer than 2 values a side, no interval (never significant). */
export function welchInterval(a: number[], b: number[]): Interval {
  const n = a.length + b.length
  if (a.length < 2 || b.length < 2) return tInterval(n, mean(b) - mean(a), Number.NaN, 0)
  const [A, B] = [summarize(a), summarize(b)]
  const va = A.sd ** 2 / A.n
  const vb = B.sd ** 2 / B.n
  const df = va + vb === 0 ? n - 2 : (va + vb) ** 2 / (va ** 2 / (A.n - 1) + vb ** 2 / (B.n - 1))
  return tInterval(n, B.mean - A.mean, Math.sqrt(va + vb), df)
}

/** Welch's unequal-variance t-test of b against a (a is the baseline). */
export function welch(a: number[], b: number[]): Welch {
  const A = summarize(a)
  const B = summarize(b)
  const va = A.sd ** 2 / A.n
  const vb = B.sd ** 2 / B.n
  const diff = B.mean - A.mean
  const se = Math.sqrt(va + vb)
  if (A.n < 2 || B.n < 2 || se === 0) {
    const p = diff === 0 || A.n < 2 || B.n < 2 ? 1 : 0
    const t = se === 0 && diff !== 0 ? Math.sign(diff) * Number.POSITIVE_INFINITY : 0
    return {diff, relative: A.mean === 0 ? 0 : diff / A.mean, t, df: A.n + B.n - 2, p, ci95: [diff, diff], significant: p < 0.05}
  }
  const t = diff / se
  const df = (va + vb) ** 2 / (va ** 2 / (A.n - 1) + vb ** 2 / (B.n - 1))
  const p = 2 * (1 - tCdf(Math.abs(t), df))
  const h = tQuantile(0.975, df) * se
  return {diff, relative: A.mean === 0 ? 0 : diff / A.mean, t, df, p, ci95: [diff - h, diff + h], significant: p < 0.05}
}

export interface Interval {
  n: number
  estimate: number
  se: number
  df: number
  t: number
  p: number // two-sided
  ci95: [number, number]
  significant: boolean // p < 0.05
}

/** A t interval for an estimate with its standard error and degrees of freedom (n: how many units it rests on). */
export function tInterval(n: number, estimate: number, se: number, df: number): Interval {
  if (!(df >= 1) || !Number.isFinite(se)) return {n, estimate, se, df, t: 0, p: 1, ci95: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY], significant: false}
  if (se === 0) {
    const p = estimate === 0 ? 1 : 0
    return {n, estimate, se, df, t: estimate === 0 ? 0 : Math.sign(estimate) * Number.POSITIVE_INFINITY, p, ci95: [estimate, estimate], significant: p < 0.05}
  }
  const t = estimate / se
  const p = 2 * (1 - tCdf(Math.abs(t), df))
  const h = tQuantile(0.975, df) * se
  return {n, estimate, se, df, t, p, ci95: [estimate - h, estimate + h], significant: p < 0.05}
}

/** Paired t-test of b against a (b[i] - a[i]): the estimate is the mean difference. */
export function pairedT(a: number[], b: number[]): Interval {
  if (a.length !== b.length) throw new Error('pairedT: unequal lengths')
  const d = b.map((x, i) => x - a[i])
  const n = d.length
  if (n === 0) throw new Error('pairedT: no pairs')
  const s = summarize(d)
  return tInterval(n, s.mean, n > 1 ? s.sd / Math.sqrt(n) : Number.NaN, n - 1)
}

export interface RatioInterval extends Interval {
  /** exp(mean log ratio) - 1: the typical relative change of b over a (geometric). */
  relative: number
  /** The relative change's 95% CI (the log interval, exponentiated). */
  relativeCi: [number, number]
  /** How the estimate maps to a relative change: exp(x) - 1 (log), or x / unit. */
  scale: {log: boolean; unit: number}
}

/** The relative change's CI at confidence 1 - alpha (a gate over many cases asks for more than 95% each). */
export function relativeCiAt(r: RatioInterval, alpha: number): [number, number] {
  if (!(r.df >= 1) || !Number.isFinite(r.se)) return [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]
  const h = tQuantile(1 - alpha / 2, r.df) * r.se
  const rel = (x: number) => (r.scale.log ? Math.expm1(x) : x / r.scale.unit)
  return [rel(r.estimate - h), rel(r.estimate + h)]
}

/**
 * Paired log-ratio: ln(b[i] / a[i]) per pair, its mean with a t CI, back on the ratio scale. Pairs measured
 * side by side share the machine's state, so its drift divides out of each ratio.
 */
export function pairedLogRatio(a: number[], b: number[]): RatioInterval {
  const ok = a.map((x, i) => [x, b[i]]).filter(([x, y]) => x > 0 && y > 0)
  const r = pairedT(
    ok.map(([x]) => Math.log(x)),
    ok.map(([, y]) => Math.log(y)),
  )
  return withRatio(r)
}

const withRatio = (r: Interval): RatioInterval => ({...r, relative: Math.expm1(r.estimate), relativeCi: [Math.expm1(r.ci95[0]), Math.expm1(r.ci95[1])], scale: {log: true, unit: 1}})

export interface RunLevel extends RatioInterval {
  runs: [number, number] // base, candidate
  /** Run-to-run sd of ln(run mean) (pooled over both sides): the between-run spread, including the machine's drift. */
  betweenSd: number
  /** Within-run sd of ln(sample) (pooled): what the samples of one run agree to. */
  withinSd: number
}

/**
 * Run-level comparison: each run reduced to ln(its mean) and Welch's test on those, so the run (not the
 * sample) is the unit; the between-run variance (drift across machine states) is what the CI counts.
 */
export function runLevel(base: number[][], cand: number[][]): RunLevel {
  const scale = runScale(base, cand)
  const a = base.map(scale.value)
  const b = cand.map(scale.value)
  const pooledVar = (groups: number[][]) => {
    const parts = groups.filter((g) => g.length > 1).map((g) => ({v: summarize(g).sd ** 2, df: g.length - 1}))
    const df = parts.reduce((s, x) => s + x.df, 0)
    return df > 0 ? parts.reduce((s, x) => s + x.v * x.df, 0) / df : Number.NaN
  }
  const withinSd = Math.sqrt(pooledVar([...base, ...cand].map((r) => r.filter((x) => x > 0).map(Math.log))))
  const betweenSd = Math.sqrt(pooledVar([a, b])) / scale.unit
  return {...scale.relative(welchInterval(a, b)), runs: [a.length, b.length], betweenSd, withinSd}
}

/**
 * Run means on the log scale (ratios) when every one is positive; otherwise as they are (a loss of 0%), the
 * change then relative to the base runs' mean and the spread in units of it.
 */
function runScale(base: number[][], others: number[][]) {
  const log = [...base, ...others].every((xs) => mean(xs) > 0)
  const unit = log ? 1 : Math.abs(mean(base.map(mean)))
  const relative = (r: Interval): RatioInterval => (log ? withRatio(r) : {...r, relative: r.estimate / unit, relativeCi: [r.ci95[0] / unit, r.ci95[1] / unit], scale: {log, unit}})
  return {value: (xs: number[]) => (log ? Math.log(mean(xs)) : mean(xs)), unit, relative}
}

/**
 * The newest run against a history of earlier runs: ln(its mean) against the earlier runs' ln(mean), as
 * a prediction interval (sd·√(1 + 1/n), n - 1 df): is it outside their run-to-run spread.
 */
export function againstHistory(history: number[][], run: number[]): RunLevel {
  const scale = runScale(history, [run])
  const h = history.map(scale.value)
  const n = h.length
  const sd = n > 1 ? summarize(h).sd : Number.NaN
  const interval = tInterval(n + 1, scale.value(run) - mean(h), sd * Math.sqrt(1 + 1 / n), n - 1)
  return {...scale.relative(interval), runs: [n, 1], betweenSd: sd / scale.unit, withinSd: Number.NaN}
}

/**
 * Runs needed per side so that a change of `effect` (relative) is found with 80% power at the 5% level,
 * given the between-run sd of ln(run mean): n = 2 (z₀.₉₇₅ + z₀.₈)² σ² / ln(1+effect)², at least 2.
 */
export function runsNeeded(betweenSd: number, effect: number): number {
  if (!Number.isFinite(betweenSd)) return Number.NaN
  const z = 1.959964 + 0.841621
  return Math.max(2, Math.ceil((2 * z * z * betweenSd ** 2) / Math.log1p(effect) ** 2))
}

/**
 * Whether a relative CI lies wholly beyond `margin` on the worse side (with margin 0: it excludes no
 * change, one-sided, in the worse direction).
 */
export function beyondMargin(relativeCi: [number, number], threshold: number, higherIsBetter: boolean): boolean {
  return higherIsBetter ? relativeCi[1] < -threshold : relativeCi[0] > threshold
}

/** In words, as the tables print it: never a signed percentage alone when p ≥ 0.05. */
export function describeImpact(w: Welch, digits = 1): string {
  if (!w.significant) return `no significant difference (p=${w.p.toFixed(2)})`
  const pct = (w.relative * 100).toFixed(digits)
  return `${w.relative >= 0 ? '+' : ''}${pct}% (p=${w.p < 0.001 ? '<0.001' : w.p.toFixed(3)})`
}

// ------------------------------------------------------------------ Student's t
export function tCdf(t: number, df: number): number {
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0
  const x = df / (df + t * t)
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5)
  return t >= 0 ? 1 - tail : tail
}

export function tQuantile(p: number, df: number): number {
  if (p <= 0 || p >= 1) throw new RangeError('tQuantile: p must be in (0, 1)')
  if (p < 0.5) return -tQuantile(1 - p, df)
  let lo = 0
  let hi = 1
  while (tCdf(hi, df) < p) hi *= 2
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2
    if (tCdf(mid, df) < p) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9)
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ]
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  x -= 1
  let a = c[0]
  const t = x + 7.5
  for (let i = 1; i < 9; i++) a += c[i] / (x + i)
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a)
}

/** Regularized incomplete beta I_x(a, b), by its continued fraction. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  if (x > (a + 1) / (a + b + 2)) return 1 - (front * betaFraction(1 - x, b, a)) / b
  return (front * betaFraction(x, a, b)) / a
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < 1e-15) break
  }
  return h
}
