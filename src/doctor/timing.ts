// Where a doctor run's time goes, for bench/doctor-vs-bpftool.js: with EBPFPERF_DOCTOR_TIMING=<file>, the
// fast path writes one JSON object of phases to that file as it finishes, so a regression can be told
// apart (start-up, config, BTF, probes, output) instead of only seen in the total. Phases are ms on the
// process's own clock (performance.now(): 0 is the process start); spans may overlap (the probes run on
// worker threads beside the config and BTF reads). Recording costs two clock reads per phase.
import {writeFileSync} from 'node:fs'
import {performance} from 'node:perf_hooks'

const spans: Record<string, [number, number]> = {}

export const now = (): number => performance.now()

/** Records phase `name` as [start, end]; a phase recorded twice keeps the first start and the last end. */
export function span(name: string, start: number, end = performance.now()): void {
  const s = spans[name]
  spans[name] = s ? [Math.min(s[0], start), Math.max(s[1], end)] : [start, end]
}

/** Runs fn, recording its duration as phase `name`. */
export function timed<T>(name: string, fn: () => T): T {
  const t = performance.now()
  try {
    return fn()
  } finally {
    span(name, t)
  }
}

/** Writes the phases (and `end`: when this was called) to $EBPFPERF_DOCTOR_TIMING, if set. */
export function writeTiming(env: NodeJS.ProcessEnv = process.env): void {
  const file = env.EBPFPERF_DOCTOR_TIMING
  if (!file) return
  const round = (x: number) => Math.round(x * 10) / 10
  const phases = Object.fromEntries(Object.entries(spans).map(([k, [a, b]]) => [k, {start: round(a), ms: round(b - a)}]))
  writeFileSync(file, `${JSON.stringify({end: round(performance.now()), phases})}\n`)
}
