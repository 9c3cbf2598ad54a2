import {expect} from 'chai'
import {fmtQuantity, fmtRange, scaleFor, sig3} from '../../src/results/units.js'

describe('human units', () => {
  const cases: [number, string, string][] = [
    // time by magnitude
    [203.4, 'ns', '203 ns'],
    [20_140, 'ns', '20.1 µs'],
    [3_500_000, 'ns', '3.50 ms'],
    [0.42, 'ns', '0.42 ns'],
    [1500, 'µs', '1.50 ms'],
    // rates with SI prefixes, frames and packets as pps
    [6e9, 'bit/s', '6.00 Gbit/s'],
    [940, 'Mbit/s', '940 Mbit/s'],
    [2500, 'Mbit/s', '2.50 Gbit/s'],
    [1_480_000, 'frame/s', '1.48 Mpps'],
    [812_000, 'packet/s', '812 kpps'],
    [12.5, '%', '12.5%'],
  ]
  for (const [value, unit, text] of cases) it(`${value} ${unit} → ${text}`, () => expect(fmtQuantity(value, unit)).to.equal(text))

  it('leaves unknown units as they are', () => {
    expect(scaleFor('%', 1e6)).to.deep.equal({label: '%', factor: 1})
    expect(scaleFor('widgets', 1e9)).to.deep.equal({label: 'widgets', factor: 1})
  })
  it('prints a range in the unit of its larger end', () => {
    expect(fmtRange(198, 208, 'ns')).to.equal('198–208 ns')
    expect(fmtRange(900, 1100, 'ns')).to.equal('0.90–1.10 µs')
  })
  it('keeps three significant digits', () => {
    expect([sig3(0), sig3(1.234), sig3(12.34), sig3(123.4), sig3(-5.5)]).to.deep.equal(['0', '1.23', '12.3', '123', '-5.50'])
  })
})
