// Result files: one versioned JSON document per run (atomic write, so a killed run never leaves a file
// that reads as complete), a CSV beside it, and a reader that refuses what it cannot read, clearly.
import {join} from 'node:path'
import type {Fingerprint} from './fingerprint.js'
import type {Summary} from './stats.js'
import {BadInputError} from '../util/errors.js'
import {MIB, readInput} from '../util/input.js'
import {writeOutput} from '../util/output.js'
import {resultProblem} from './validate.js'

export const RESULT_SCHEMA = 'ebpfperf/result/v1'

export interface CaseResult {
  id: string // unique within the run; cases are matched across runs by suite + id
  params: Record<string, string | number | boolean>
  metric: string // e.g. ns_per_op, bits_per_second
  unit: string
  higherIsBetter: boolean
  status: 'ok' | 'failed' | 'skipped'
  reason?: string
  samples: number[]
  stats?: Summary
  extra?: Record<string, unknown> // per-suite details (per-CPU figures, counters, percentiles)
}

export interface RunResult {
  schema: typeof RESULT_SCHEMA
  suite: string
  started: string
  finished?: string
  complete: boolean // false: interrupted, holds the samples taken so far
  command: string
  environment: Fingerprint
  cases: CaseResult[]
  vm?: {emulated: boolean; accel: string; kernel?: {release?: string}} // set by `ebpfperf vm run` on results from a guest
  ab?: {base: AbSide; candidate: AbSide} // set by `suite micro --ab`/`--ab-base`: where each side's objects came from
}

/** One side of an A/B run: its objects (a folder or suite file) and, when given, the commit they were built from. */
export interface AbSide {
  from: string
  commit?: string
}

/** Result files are KiB to a few MiB (every micro run kept); far larger is not one. */
const RESULT_MAX_BYTES = 64 * MIB

export class ResultError extends BadInputError {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`)
  }
}

/** Writes via a temporary file, fsync and rename (readers see the old file or the whole new one); never replaces a device or folder. */
export function writeAtomic(path: string, data: string): void {
  writeOutput(path, data)
}

export function resultFileName(r: RunResult): string {
  return `${r.suite}-${r.started.replace(/[:.]/g, '').replace(/-/g, '')}.json`
}

/** Writes RESULT.json and RESULT.csv into dir; returns both paths. */
export function saveResult(r: RunResult, dir: string, csv: string): {json: string; csv: string} {
  const json = join(dir, resultFileName(r))
  const csvPath = json.replace(/\.json$/, '.csv')
  writeAtomic(csvPath, csv)
  writeAtomic(json, `${JSON.stringify(r, null, 1)}\n`)
  return {json, csv: csvPath}
}

/** Reads and checks a result file: every failure is a ResultError (exit 2) naming the file and the JSON path. */
export function loadResult(path: string): RunResult {
  const text = readInput(path, (reason) => new ResultError(path, reason), {maxBytes: RESULT_MAX_BYTES}).toString('utf8')
  let doc: {schema?: unknown; suite?: unknown; cases?: unknown}
  try {
    doc = JSON.parse(text)
  } catch {
    throw new ResultError(path, 'not JSON (a truncated or foreign file?)')
  }
  if (typeof doc?.schema !== 'string' || !doc.schema.startsWith('ebpfperf/result/')) throw new ResultError(path, `not an ebpfperf result (schema ${JSON.stringify(doc?.schema)})`)
  if (doc.schema !== RESULT_SCHEMA) throw new ResultError(path, `result schema ${doc.schema} is not readable by this ebpfperf (reads ${RESULT_SCHEMA}); use the ebpfperf version that wrote it`)
  const problem = resultProblem(doc)
  if (problem) throw new ResultError(path, `not a valid result: ${problem} (a damaged or hand-edited file?)`)
  return doc as RunResult
}

/** CSV with a header row; values quoted when needed. */
export function toCsv(header: string[], rows: (string | number | undefined)[][]): string {
  const cell = (v: string | number | undefined) => {
    const s = v === undefined ? '' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : v
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
  }
  return `${[header, ...rows].map((r) => r.map(cell).join(',')).join('\n')}\n`
}
