import {expect} from 'chai'
import {describeImpact, interquartileMean, percentile, summarize, tCdf, tQuantile, welch} from '../../src/results/stats.js'

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
})
