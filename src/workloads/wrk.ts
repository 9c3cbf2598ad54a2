// wrk as an HTTP load: its argv, and its text report turned into numbers (requests/s, transfer/s, latency
// percentiles, errors). Parsing is separate from running so that recorded output can be tested.

export interface WrkSpec {
  url: string
  threads: number
  connections: number
  seconds: number
  /** Per-request timeout (wrk's --timeout), seconds. */
  timeoutSeconds?: number
}

export interface WrkResult {
  requests: number
  seconds: number
  requestsPerSec: number
  /** Bytes per second read by wrk (headers and bodies). */
  transferPerSec: number
  bytes: number
  /** Latency percentiles in µs (50, 75, 90, 99), from --latency. */
  latencyUs: Record<string, number>
  /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses. */
  errors: number
}

export function wrkArgs(s: WrkSpec): string[] {
  if (s.connections < s.threads) throw new Error('wrk: connections must be at least threads')
  return ['-t', String(s.threads), '-c', String(s.connections), '-d', `${s.seconds}s`, '--timeout', `${s.timeoutSeconds ?? 5}s`, '--latency', s.url]
}

const UNIT: Record<string, number> = {B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4}
const TIME: Record<string, number> = {us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6}

function bytes(v: string, unit: string): number {
  return Number(v) * (UNIT[unit] ?? Number.NaN)
}

/** wrk's text report → figures; throws naming what is missing when the text is not a wrk report. */
export function parseWrk(text: string): WrkResult {
  const done = /(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)([KMGT]?B) read/.exec(text)
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text)
  const tps = /Transfer\/sec:\s+([\d.]+)([KMGT]?B)/.exec(text)
  if (!done || !rps || !tps) throw new Error(`wrk: not a wrk report (no "requests in", "Requests/sec" or "Transfer/sec" line): ${text.trim().split('\n').slice(-3).join(' | ')}`)
  const latencyUs: Record<string, number> = {}
  for (const m of text.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$/gm)) latencyUs[m[1]] = Number(m[2]) * TIME[m[3]]
  let errors = 0
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
  if (sock) errors += sock.slice(1).reduce((a, b) => a + Number(b), 0)
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text)
  if (non2xx) errors += Number(non2xx[1])
  return {
    requests: Number(done[1]),
    seconds: (Number(done[2]) * TIME[done[3]]) / 1e6,
    requestsPerSec: Number(rps[1]),
    transferPerSec: bytes(tps[1], tps[2]),
    bytes: bytes(done[4], done[5]),
    latencyUs,
    errors,
  }
}
