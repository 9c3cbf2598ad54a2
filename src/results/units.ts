// Human units for figures and chart axes: a quantity's unit scaled by its magnitude (203 ns, 20.1 µs, 6 Gbit/s,
// 1.48 Mpps) instead of raw base units (6,000,000,000 bit/s).

export interface Scale {
  /** The unit to print after a value divided by factor. */
  label: string
  factor: number
}

const PREFIXED: Record<string, {base: string; factor: number}> = {
  'bit/s': {base: 'bit/s', factor: 1},
  'Mbit/s': {base: 'bit/s', factor: 1e6},
  'frame/s': {base: 'pps', factor: 1},
  'packet/s': {base: 'pps', factor: 1},
  'event/s': {base: 'event/s', factor: 1},
}
const SI: [number, string][] = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
  [1, ''],
]
const TIME: [number, string][] = [
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'µs'],
  [1, 'ns'],
]
const TIME_FACTOR: Record<string, number> = {ns: 1, 'µs': 1e3, us: 1e3, ms: 1e6, s: 1e9}

/** The scale that prints `maxAbs` (in `unit`) with one to three digits before the point; unknown units stay as they are. */
export function scaleFor(unit: string, maxAbs: number): Scale {
  const m = Number.isFinite(maxAbs) ? Math.abs(maxAbs) : 0
  if (unit in TIME_FACTOR) {
    const inNs = m * TIME_FACTOR[unit]
    const [f, label] = TIME.find(([f]) => inNs >= f) ?? TIME[TIME.length - 1]
    return {label, factor: f / TIME_FACTOR[unit]}
  }
  const p = PREFIXED[unit]
  if (!p) return {label: unit, factor: 1}
  const inBase = m * p.factor
  const [f, prefix] = SI.find(([f]) => inBase >= f) ?? SI[SI.length - 1]
  return {label: p.base === 'pps' ? `${prefix}pps` : `${prefix}${p.base}`, factor: f / p.factor}
}

/** Three significant digits, no exponent: 203, 20.1, 1.48. */
export function sig3(x: number): string {
  if (!Number.isFinite(x)) return String(x)
  const a = Math.abs(x)
  return a >= 100 || a === 0 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2)
}

const suffix = (label: string) => (label === '' || label === '%' ? label : ` ${label}`)

/** A value with its unit scaled by its own magnitude: fmtQuantity(6e9, 'bit/s') = '6.00 Gbit/s'. */
export function fmtQuantity(value: number, unit: string): string {
  const s = scaleFor(unit, value)
  return `${sig3(value / s.factor)}${suffix(s.label)}`
}

/** A range in the unit of its larger end: '198–208 ns', '19.8–20.4 µs'. */
export function fmtRange(lo: number, hi: number, unit: string): string {
  const s = scaleFor(unit, Math.max(Math.abs(lo), Math.abs(hi)))
  return `${sig3(lo / s.factor)}–${sig3(hi / s.factor)}${suffix(s.label)}`
}
