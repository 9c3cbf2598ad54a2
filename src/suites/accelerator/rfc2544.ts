// RFC 2544's procedures over one trial function, so they can be checked without a kernel: throughput
// (§26.1: the highest offered rate with loss ≤ the tolerance, by a binary search that starts at full
// speed), frame loss at given rates (§26.3) and latency at a fraction of the throughput (§26.2).
import type {Trial} from '../../workloads/pktgen.js'

/** Runs one trial at `pps` (0 = as fast as the generator goes), stamped for latency or not. */
export type TrialFn = (pps: number, stamp: boolean) => Promise<Trial>

export interface SearchOptions {
  /** loss tolerated, as a fraction (RFC 2544: 0) */
  tolerance: number
  /** trials after the full-speed one, at most */
  maxSteps: number
  /** stop when the bracket is this narrow, relative to its top */
  resolution: number
}

export interface Throughput {
  /** the highest achieved offered rate that passed (0 when none did) */
  pps: number
  /** the trial that gave it */
  passed?: Trial
  trials: Trial[]
  /** true when the full-speed trial already passed: the path took all the generator could offer */
  atFullSpeed: boolean
}

const passes = (t: Trial, tolerance: number) => t.sent > 0 && t.loss <= tolerance

/**
 * Full speed first; if that loses more than the tolerance, a binary search between 0 and the full-speed
 * rate. The first paced guess is the rate that got through at full speed (usually close), then halves.
 * A pass moves the floor to the rate the generator achieved, a failure the ceiling to the rate asked.
 */
export async function searchThroughput(run: TrialFn, o: SearchOptions, signal?: AbortSignal): Promise<Throughput> {
  const first = await run(0, false)
  const trials = [first]
  if (passes(first, o.tolerance)) return {pps: first.offeredPps, passed: first, trials, atFullSpeed: true}
  let lo = 0
  let hi = first.offeredPps
  let best: Trial | undefined
  let next = Math.min(first.deliveredPps, hi * 0.95)
  for (let step = 0; step < o.maxSteps && hi - lo > hi * o.resolution; step++) {
    signal?.throwIfAborted()
    if (!(next > lo && next < hi)) next = (lo + hi) / 2
    const t = await run(next, false)
    trials.push(t)
    if (passes(t, o.tolerance)) {
      lo = Math.max(lo, Math.min(t.offeredPps, next))
      best = t
    } else {
      hi = next
    }
    next = (lo + hi) / 2
  }
  return {pps: best ? lo : 0, passed: best, trials, atFullSpeed: false}
}

/** An offered rate asked for: frames per second, or a share of a measured maximum. */
export type RateAsk = {pps: number} | {percent: number}

export function resolveRate(r: RateAsk, max: number): number {
  return 'pps' in r ? r.pps : (r.percent / 100) * max
}

/**
 * Parses `--loss-rates`: `90%` (of the generator's own maximum), `2M`/`500K`/`1.5Mpps` (frames per
 * second) or `1G`/`800Mbit` (bits per second, turned into frames for each frame size by the caller).
 */
export type RateText = RateAsk | {bps: number}

export function parseRateList(flag: string, text: string): RateText[] {
  return text.split(',').map((raw) => {
    const s = raw.trim()
    const pct = /^(\d+(?:\.\d+)?)%$/.exec(s)
    if (pct) {
      const v = Number(pct[1])
      if (v <= 0 || v > 100) throw new RangeError(`${flag}: ${s} is out of range (a share of the generator's maximum, above 0% and at most 100%)`)
      return {percent: v}
    }
    const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)(pps|bit|bps|b)?$/.exec(s)
    if (!m) throw new RangeError(`${flag}: "${s}" is not a rate (write 90%, 2Mpps, 500Kpps or 1Gbit)`)
    const v = Number(m[1]) * ({'': 1, k: 1e3, m: 1e6, g: 1e9}[m[2].toLowerCase()] ?? 1)
    if (v <= 0) throw new RangeError(`${flag}: ${s} is zero (write a rate above 0)`)
    if (m[3] === 'pps') {
      if (v > 1e9) throw new RangeError(`${flag}: ${s} is out of range (at most 1000Mpps)`)
      return {pps: v}
    }
    if (m[3] === undefined) throw new RangeError(`${flag}: "${s}" needs a unit: pps for frames per second, bit for bits per second`)
    if (v > 4e11) throw new RangeError(`${flag}: ${s} is out of range (at most 400Gbit)`)
    return {bps: v}
  })
}

/** Frames per second that carry `bps` at a frame size (with FCS; no preamble or gap on a veth). */
export const ppsForBits = (bps: number, frameSize: number) => bps / (frameSize * 8)
