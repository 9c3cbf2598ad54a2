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
    return {diff, relative: A.mean === 0 ? 0 : diff / A.mean, t: se === 0 && diff !== 0 ? Math.sign(diff) * Number.POSITIVE_INFINITY : 0, df: A.n + B.n - 2, p, ci95: [diff, diff], significant: p < 0.05}
  }
  const t = diff / se
  const df = (va + vb) ** 2 / (va ** 2 / (A.n - 1) + vb ** 2 / (B.n - 1))
  const p = 2 * (1 - tCdf(Math.abs(t), df))
  const h = tQuantile(0.975, df) * se
  return {diff, relative: A.mean === 0 ? 0 : diff / A.mean, t, df, p, ci95: [diff - h, diff + h], significant: p < 0.05}
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
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7]
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
