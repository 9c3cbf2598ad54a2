// The line protocol between `suite micro --consumers` and a consumer process (docs/consumers.md):
// the consumer prints `ready` once it polls the pinned map; after `stop` on its stdin it drains the map
// and prints its counts (cpu, markers, short, foreign, last, hist) and `done`; it exits when its stdin
// closes. Lines starting with `#` are remarks. Anything else is a protocol error.

export interface ConsumerCounts {
  /** Per CPU (the event's own CPU field): events consumed, and lost as the perf buffer reported them. */
  perCpu: Map<number, {consumed: number; lost: number}>
  markers: number
  shortRecords: number
  foreign: number
  /** CLOCK_MONOTONIC ns when the last event was consumed (0: none). */
  lastNs: number
  /** Latency histogram: [value ns, events]. */
  buckets: [number, number][]
}

export type Phase = 'starting' | 'ready' | 'stopping' | 'done'

const INT = /^\d+$/
const NUM = /^\d+(\.\d+)?$/

/** Reads the consumer's stdout line by line; feed() returns an error message for a line that breaks the protocol. */
export class ProtocolReader {
  phase: Phase = 'starting'
  readonly remarks: string[] = []
  readonly counts: ConsumerCounts = {perCpu: new Map(), markers: 0, shortRecords: 0, foreign: 0, lastNs: 0, buckets: []}

  /** The suite has sent `stop`: the counts may come now. */
  stopSent(): void {
    if (this.phase === 'ready') this.phase = 'stopping'
  }

  feed(raw: string): string | undefined {
    const line = raw.trim()
    if (line === '') return undefined
    if (line.startsWith('#')) {
      if (this.remarks.length < 20) this.remarks.push(line.slice(1).trim())
      return undefined
    }
    const shown = JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line)
    const w = line.split(/\s+/)
    if (this.phase === 'starting') {
      if (line === 'ready') {
        this.phase = 'ready'
        return undefined
      }
      return `printed ${shown} before "ready"`
    }
    if (this.phase === 'ready') return `printed ${shown} before it was asked to stop`
    if (this.phase === 'done') return `printed ${shown} after "done"`
    if (line === 'done') {
      this.phase = 'done'
      return undefined
    }
    return this.countLine(w) ? undefined : `printed ${shown}, which is not a protocol line (see docs/consumers.md)`
  }

  private countLine(w: string[]): boolean {
    const c = this.counts
    if (w[0] === 'cpu' && w.length === 4 && w.slice(1).every((x) => INT.test(x))) {
      const [cpu, consumed, lost] = w.slice(1).map(Number)
      const had = c.perCpu.get(cpu) ?? {consumed: 0, lost: 0}
      c.perCpu.set(cpu, {consumed: had.consumed + consumed, lost: had.lost + lost})
      return true
    }
    if (w[0] === 'hist' && w.length === 3 && NUM.test(w[1]) && INT.test(w[2])) {
      c.buckets.push([Number(w[1]), Number(w[2])])
      return true
    }
    if (w.length !== 2 || !INT.test(w[1])) return false
    const n = Number(w[1])
    if (w[0] === 'markers') c.markers += n
    else if (w[0] === 'short') c.shortRecords += n
    else if (w[0] === 'foreign') c.foreign += n
    else if (w[0] === 'last') c.lastNs = Math.max(c.lastNs, n)
    else return false
    return true
  }
}

/**
 * Splits a --consumer command into its words, without a shell: spaces separate, single or double quotes
 * keep spaces inside a word. `NAME=CMD` names the consumer. Returns an error message for a bad one.
 */
export function parseConsumerCommand(spec: string): {name: string; argv: string[]} | string {
  let s = spec.trim()
  let name: string | undefined
  const named = /^([A-Za-z][\w-]{0,31})=(.*)$/.exec(s)
  if (named && !/\s/.test(named[1])) {
    name = named[1]
    s = named[2].trim()
  }
  const argv: string[] = []
  let cur = ''
  let quote: string | undefined
  let inWord = false
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = undefined
      else cur += ch
    } else if (ch === '"' || ch === "'") {
      quote = ch
      inWord = true
    } else if (/\s/.test(ch)) {
      if (inWord) argv.push(cur)
      cur = ''
      inWord = false
    } else {
      cur += ch
      inWord = true
    }
  }
  if (quote) return `--consumer ${JSON.stringify(spec)}: unclosed ${quote}`
  if (inWord) argv.push(cur)
  if (argv.length === 0) return `--consumer ${JSON.stringify(spec)}: no command (give NAME=COMMAND ARGS…, e.g. --consumer 'rust=./target/release/consumer')`
  return {name: name ?? argv[0].split('/').pop()!, argv}
}
