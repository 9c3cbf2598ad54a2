import {expect} from 'chai'
import {againstHistory, beyondMargin, describeImpact, interquartileMean, pairedLogRatio, pairedT, percentile, relativeCiAt, runLevel, runsNeeded, summarize, tCdf, tQuantile, welch} from '../../src/results/stats.js'

describe('statistics', () => {
  it('Student t quantiles and CDF match published tables', () => {
    expect(tQuantile(0.975, 1)).to.be.closeTo(12.7062, 1e-3)
    expect(tQuantile(0.975, 10)).to.be.closeTo(2.2281, 1e-4)
    expect(tQuantile(0.975, 1000)).to.be.closeTo(1.9623, 1e-3)
    expect(tQuantile(0.025, 4)).to.be.closeTo(-2.7764, 1e-4)
    expect(tCdf(2.0, 5)).to.be.closeTo(0.94903, 1e-4)
    expect(tCdf(0, 7)).to.be.closeTo(0.5, 1e-12)
  })

  it('summary: mean, sample sd, median, 95% CI, CV', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9])
    expect(s.mean).to.equal(5)
    expect(s.sd).to.be.closeTo(2.1381, 1e-4)
    expect(s.median).to.equal(4.5)
    expect(s.halfWidth).to.be.closeTo(2.3646 * (2.1381 / Math.sqrt(8)), 1e-3)
    expect(s.cv).to.be.closeTo(0.4276, 1e-4)
    expect(summarize([3]).halfWidth).to.equal(Number.POSITIVE_INFINITY)
    expect(() => summarize([])).to.throw(/no samples/)
  })

  it('interquartile mean: the middle half, a quarter left out at each end; the plain mean below 4 values', () => {
    expect(interquartileMean([1, 2, 3, 4, 5, 6, 7, 100])).to.equal(4.5)
    expect(interquartileMean([100, 5, 1, 4, 3, 2, 6, 7])).to.equal(4.5)
    expect(interquartileMean([10, 20, 30, 40, 50])).to.equal(30)
    expect(interquartileMean([1, 2, 9])).to.equal(4)
    expect(interquartileMean([])).to.be.NaN
  })

  it('percentiles interpolate between ranks', () => {
    expect(percentile([1, 2, 3, 4, 5], 0.5)).to.equal(3)
    expect(percentile([1, 2, 3, 4], 0.99)).to.be.closeTo(3.97, 1e-9)
  })

  it("Welch's t-test reproduces the textbook example (t = 2.46, df = 25.0, p = 0.021)", () => {
    const a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    const b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    const w = welch(a, b)
    expect(w.t).to.be.closeTo(2.46, 0.01)
    expect(w.df).to.be.closeTo(24.99, 0.02)
    expect(w.p).to.be.closeTo(0.021, 0.001)
    expect(w.significant).to.equal(true)
    expect(w.ci95[0]).to.be.greaterThan(0)
  })

  it('noise is "no significant difference", never a signed percentage', () => {
    const w = welch([100, 102, 98, 101, 99], [101, 99, 103, 97, 100])
    expect(w.significant).to.equal(false)
    expect(describeImpact(w)).to.match(/^no significant difference \(p=\d\.\d\d\)$/)
    const big = welch([100, 101, 99, 100, 100], [110, 111, 109, 110, 110])
    expect(describeImpact(big)).to.match(/^\+10\.0% \(p=<0\.001\)$/)
  })

  // known answers below: scipy 1.17 (stats.ttest_rel, ttest_ind(equal_var=False), t.sf) on the same numbers
  it("paired t reproduces Student's sleep data (t = -4.062, df = 9, p = 0.00283, CI [-2.460, -0.700])", () => {
    const g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    const g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    const r = pairedT(g2, g1) // g1 - g2 per pair
    expect(r.estimate).to.be.closeTo(-1.58, 1e-9)
    expect(r.t).to.be.closeTo(-4.062128, 1e-5)
    expect(r.df).to.equal(9)
    expect(r.p).to.be.closeTo(0.0028329, 1e-6)
    expect(r.ci95[0]).to.be.closeTo(-2.459886, 1e-5)
    expect(r.ci95[1]).to.be.closeTo(-0.700114, 1e-5)
    expect(() => pairedT([1, 2], [1])).to.throw(/unequal/)
  })

  it('paired log-ratio: ratios 1.1, 1.2, 1.1, 1.2 give +14.89% [+6.06%, +24.45%], p = 0.0117, whatever the machine does to each pair', () => {
    const a = [10, 20, 40, 80]
    const b = a.map((x, i) => x * [1.1, 1.2, 1.1, 1.2][i])
    const r = pairedLogRatio(a, b)
    expect(r.relative).to.be.closeTo(0.1489125, 1e-6)
    expect(r.relativeCi[0]).to.be.closeTo(0.0606470, 1e-5)
    expect(r.relativeCi[1]).to.be.closeTo(0.2445234, 1e-5)
    expect(r.t).to.be.closeTo(5.526545, 1e-5)
    expect(r.p).to.be.closeTo(0.0116721, 1e-5)
    // a drift that slows both sides of a pair alike (here up to 3×) divides out
    const drift = [1, 1.5, 3, 0.7]
    const d = pairedLogRatio(a.map((x, i) => x * drift[i]), b.map((x, i) => x * drift[i]))
    expect(d.relative).to.be.closeTo(r.relative, 1e-12)
    expect(d.relativeCi[0]).to.be.closeTo(r.relativeCi[0], 1e-12)
  })

  it('run level: Welch on ln(run mean) (t = 0.4947, df = 3.855, p = 0.648), and the between-run case pooled samples get wrong', () => {
    const tight = (m: number) => [m * 0.995, m, m * 1.005, m * 0.998, m * 1.002]
    const base = [100, 110, 90].map(tight)
    const cand = [104, 95, 112].map(tight)
    const r = runLevel(base, cand)
    expect(r.t).to.be.closeTo(0.494723, 1e-4)
    expect(r.df).to.be.closeTo(3.85452, 1e-3)
    expect(r.p).to.be.closeTo(0.64766, 1e-4)
    expect(r.ci95[0]).to.be.closeTo(-0.174256, 1e-4)
    expect(r.ci95[1]).to.be.closeTo(0.248460, 1e-4)
    expect(r.runs).to.deep.equal([3, 3])
    expect(r.significant).to.equal(false)
    // the spread is between runs (~10%), not within them (~0.4%)
    expect(r.betweenSd).to.be.greaterThan(0.08)
    expect(r.withinSd).to.be.lessThan(0.005)
    // runs at 100, 104 against 106, 110: pooled as independent samples a "significant" +6%, by run not
    const [b2, c2] = [[100, 104].map(tight), [106, 110].map(tight)]
    expect(welch(b2.flat(), c2.flat()).p).to.be.lessThan(0.001)
    expect(runLevel(b2, c2).significant).to.equal(false)
    expect(runLevel([tight(100)], cand).significant).to.equal(false) // one run a side: no interval
  })

  it('run level: the between-run sd is the pooled sd of ln(run mean) (0.091851), the within-run sd of ln(sample) (0.0038079), and runs needed from the former (56 for 5%)', () => {
    const tight = (m: number) => [m * 0.995, m, m * 1.005, m * 0.998, m * 1.002]
    const r = runLevel([100, 110, 90].map(tight), [104, 95, 112].map(tight))
    // sqrt((var(ln 100, ln 110, ln 90) + var(ln 104, ln 95, ln 112)) / 2), by hand (Python statistics)
    expect(r.betweenSd).to.be.closeTo(0.0918508, 1e-6)
    expect(r.withinSd).to.be.closeTo(0.00380792, 1e-7)
    expect(runsNeeded(r.betweenSd, 0.05)).to.equal(56) // 55.63 rounded up
  })

  it('history: the newest run against the earlier runs as a prediction interval (t = 7.899, df = 2, p = 0.0157)', () => {
    const h = againstHistory([[100], [102], [98]], [120])
    expect(h.t).to.be.closeTo(7.899344, 1e-4)
    expect(h.df).to.equal(2)
    expect(h.p).to.be.closeTo(0.0156505, 1e-5)
    expect(againstHistory([[100]], [120]).significant).to.equal(false)
  })

  it('run level without ratios: a metric at or below zero (a loss of 0%) is compared as it is, relative to the base mean', () => {
    const r = runLevel([[0], [0.02], [0.01]], [[0.5], [0.52], [0.51]])
    expect(r.estimate).to.be.closeTo(0.5, 1e-12)
    expect(r.relative).to.be.closeTo(50, 1e-9) // 0.5 over a base mean of 0.01
    expect(r.significant).to.equal(true)
    expect(againstHistory([[0], [0.02], [0.01]], [0.01]).significant).to.equal(false)
  })

  it('runs needed per side: 2(z.975 + z.8)² σ² / ln(1 + effect)², at least 2', () => {
    expect(runsNeeded(0.05, 0.05)).to.equal(17) // 16.49 rounded up
    expect(runsNeeded(0.001, 0.05)).to.equal(2)
    expect(runsNeeded(Number.NaN, 0.05)).to.be.NaN
  })

  it('the CI at another confidence: at 5% it is the 95% CI; at 0.5% (a gate over 10 cases) t(0.9975, 3) = 7.4533 wide (scipy)', () => {
    const r = pairedLogRatio([10, 20, 40, 80], [11, 24, 44, 96])
    expect(relativeCiAt(r, 0.05)[0]).to.be.closeTo(r.relativeCi[0], 1e-9)
    expect(relativeCiAt(r, 0.05)[1]).to.be.closeTo(r.relativeCi[1], 1e-9)
    const wide = relativeCiAt(r, 0.005)
    expect(wide[0]).to.be.closeTo(Math.expm1(r.estimate - 7.453319 * r.se), 1e-5)
    expect(wide[0]).to.be.lessThan(r.relativeCi[0])
  })

  it('beyond a margin: only a CI wholly beyond it, on the side that is worse', () => {
    expect(beyondMargin([0.06, 0.1], 0.05, false)).to.equal(true)
    expect(beyondMargin([0.02, 0.1], 0.05, false)).to.equal(false)
    expect(beyondMargin([-0.1, -0.06], 0.05, false)).to.equal(false) // faster: an improvement
    expect(beyondMargin([-0.2, -0.06], 0.05, true)).to.equal(true) // throughput down 6-20%
    expect(beyondMargin([-0.2, -0.04], 0.05, true)).to.equal(false)
  })
})
