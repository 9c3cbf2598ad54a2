// Where a result lives in the results branch: <suite>/<machine>/<kernel>/<yyyy>/<mm>/<commit>-<time>.json.
// Every run has its own path (commit and start time), so parallel CI jobs add files and never edit one.
import type {RunResult} from '../results/store.js'
import {BadInputError} from '../util/errors.js'

export const DEFAULT_BRANCH = 'perf-results'
/** The file that makes a branch a results branch: history refuses any other branch of that name. */
export const MARKER = '.ebpfperf-history'
export const MARKER_TEXT = `ebpfperf results branch (written by ebpfperf history push; do not merge into a code branch)
layout: <suite>/<machine>/<kernel>/<yyyy>/<mm>/<commit>-<time>.json, one file per run
`

export interface HistoryPath {
  path: string
  suite: string
  machine: string
  kernel: string
  year: string
  month: string
  commit: string
  time: string // compact UTC start time, 20261202T111014829Z
}

/** One path component: characters a file name can always hold, nothing that reads as a folder or an option. */
export function component(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^[.-]+/, '_')
  return clean.slice(0, 100) || '_'
}

/** A run's start time, compact (no ':' for file systems that refuse it), and its year and month. */
function timeParts(started: string): {time: string; year: string; month: string} {
  const d = new Date(started)
  if (Number.isNaN(d.getTime())) throw new BadInputError(`started ${JSON.stringify(started)}: not a date`)
  const iso = d.toISOString()
  return {time: iso.replace(/[-:.]/g, ''), year: iso.slice(0, 4), month: iso.slice(5, 7)}
}

export function historyPath(run: RunResult, opts: {machine?: string; commit: string}): HistoryPath {
  const {time, year, month} = timeParts(run.started)
  const parts = {
    suite: component(run.suite),
    machine: component(opts.machine ?? run.environment.hostname),
    kernel: component(run.environment.kernel.release),
    year,
    month,
    commit: component(opts.commit.slice(0, 12)),
    time,
  }
  return {...parts, path: `${parts.suite}/${parts.machine}/${parts.kernel}/${year}/${month}/${parts.commit}-${time}.json`}
}

const PATH_RE = /^([^/]+)\/([^/]+)\/([^/]+)\/(\d{4})\/(\d{2})\/([^/]+)-(\d{8}T\d{6,9}Z)\.json$/

/** The parts of a path in the layout; undefined for any other file (the marker, a README). */
export function parseHistoryPath(path: string): HistoryPath | undefined {
  const m = PATH_RE.exec(path)
  if (!m) return undefined
  return {path, suite: m[1], machine: m[2], kernel: m[3], year: m[4], month: m[5], commit: m[6], time: m[7]}
}

/** The commit a result was measured at, when its file name follows the layout (a copy keeps the name). */
export function commitOfFile(file: string): string | undefined {
  return /(?:^|[/_])([0-9a-f]{7,40})-\d{8}T\d{6,9}Z\.json$/.exec(file)?.[1]
}

/** A branch name git accepts for refs/heads/ (checked before any git command runs). */
export function checkBranch(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(name) || name.includes('..') || name.endsWith('/') || name.endsWith('.lock')) {
    throw new BadInputError(`--branch ${name}: not a usable branch name (letters, digits, . _ - /)`)
  }
  return name
}
