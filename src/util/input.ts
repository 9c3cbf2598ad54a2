// Reading a user-named file, guarded: a regular file (a named pipe only where the caller allows it), read
// up to a size cap, gzip inflated up to a cap; each failure is one reason the caller wraps in its own error.
import {closeSync, fstatSync, openSync, readFileSync, readSync, statSync, type Stats} from 'node:fs'
import {createRequire} from 'node:module'
import {basename, dirname, join, resolve} from 'node:path'
import {gunzipSync} from 'node:zlib'
import {projectRoot} from './paths.js'

// js-yaml on first use: `ebpfperf doctor` reads the shipped profiles' JSON copies and need not load it.
let yamlModule: typeof import('js-yaml') | undefined
const yaml = () => (yamlModule ??= createRequire(import.meta.url)('js-yaml') as typeof import('js-yaml'))

export const MIB = 1024 * 1024
/** Cap for a file read whole when the caller names none: far above any config, result or suite file. */
export const DEFAULT_MAX_BYTES = 64 * MIB
/** Cap for YAML documents (suites, topologies, profiles are a few KiB; the parser's memory grows fast). */
export const YAML_MAX_BYTES = 4 * MIB

export interface InputOptions {
  /** The largest file read; a larger one is refused without being read whole. */
  maxBytes?: number
  /** Accept a named pipe (read until its writer closes it, still capped). */
  fifo?: boolean
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file (check the path)',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied (run as a user who can read it)',
  EPERM: 'permission denied (run as a user who can read it)',
  ELOOP: 'too many symbolic links',
  ENOTDIR: 'a part of the path is not a directory',
}

/** One line for a failed open/read/stat: what it means and what to do. */
export function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  return REASONS[e?.code ?? ''] ?? `cannot read: ${String(e?.message ?? error).split('\n')[0]}`
}

/** What a non-regular file is, in words. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isFIFO()) return 'a named pipe'
  if (st.isSocket()) return 'a socket'
  return st.isFile() ? 'a regular file' : 'not a regular file'
}

function kindProblem(st: Stats, opts: InputOptions): string | undefined {
  if (st.isFile() || (opts.fifo && st.isFIFO())) return undefined
  return `is ${fileKind(st)}, not a regular file (give the path of a file)`
}

export const formatBytes = (n: number) => (n >= MIB ? `${Math.round(n / MIB)} MiB` : `${Math.round(n / 1024)} KiB`)

/** Why `path` cannot be read as an input file (undefined: it can). Does not open it (a FIFO's open blocks). */
export function inputFileProblem(path: string, opts: InputOptions = {}): string | undefined {
  try {
    return kindProblem(statSync(path), opts)
  } catch (error) {
    return describeFsError(error)
  }
}

/** Reads fd to its end, refusing (without reading further) once it passes `max` bytes. */
function readCapped<E extends Error>(fd: number, max: number, fail: (reason: string) => E): Buffer {
  const chunks: Buffer[] = []
  const scratch = Buffer.allocUnsafe(Math.min(MIB, max + 1))
  let total = 0
  for (;;) {
    const n = readSync(fd, scratch, 0, Math.min(scratch.length, max + 1 - total), null)
    if (n === 0) return Buffer.concat(chunks, total)
    total += n
    if (total > max) throw fail(`larger than ${formatBytes(max)}, too large for this input (is it the right file?)`)
    chunks.push(Buffer.from(scratch.subarray(0, n))) // a copy of what was read: a pipe gives 64 KiB at a time
  }
}

/** Opens a user-named file that passes the guard, runs `use` on it, closes it; fs errors become `fail`. */
function withInput<T, E extends Error>(path: string, fail: (reason: string) => E, opts: InputOptions, use: (fd: number, st: Stats) => T): T {
  const problem = inputFileProblem(path, opts)
  if (problem) throw fail(problem)
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    throw fail(describeFsError(error))
  }
  try {
    const st = fstatSync(fd)
    const swapped = kindProblem(st, opts) // the path may name something else since the stat
    if (swapped) throw fail(swapped)
    return use(fd, st)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code && !(error as {exitCode?: number}).exitCode) throw fail(describeFsError(error))
    throw error
  } finally {
    closeSync(fd)
  }
}

/**
 * The whole of a user-named file: a regular file (or a FIFO with opts.fifo) of at most opts.maxBytes.
 * A missing, directory, device or oversized path is `fail(reason)`, one line, before anything large is read.
 */
export function readInput<E extends Error>(path: string, fail: (reason: string) => E, opts: InputOptions = {}): Buffer {
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES
  return withInput(path, fail, opts, (fd, st) => {
    if (st.isFile() && st.size > max) throw fail(`${formatBytes(st.size)}, larger than ${formatBytes(max)}, too large for this input (is it the right file?)`)
    return readCapped(fd, max, fail)
  })
}

/** The first `bytes` bytes (fewer if the file is shorter) of a user-named file, under the same guard. */
export function readInputHead<E extends Error>(path: string, bytes: number, fail: (reason: string) => E, opts: InputOptions = {}): Buffer {
  return withInput(path, fail, opts, (fd) => {
    const head = Buffer.alloc(bytes)
    return head.subarray(0, readSync(fd, head, 0, bytes, 0))
  })
}

export const isGzip = (buf: Buffer) => buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b

/** Inflates gzip data, stopping once the output passes `maxBytes` (a gzip bomb costs the cap, not its size). */
export function gunzipInput<E extends Error>(buf: Buffer, fail: (reason: string) => E, maxBytes = DEFAULT_MAX_BYTES): Buffer {
  try {
    return gunzipSync(buf, {maxOutputLength: maxBytes})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw fail(`gzip data inflates to more than ${formatBytes(maxBytes)}, too large for this input (is it the right file?)`)
    throw fail(`corrupt or truncated gzip data (${(error as Error).message})`)
  }
}

/** Reads and parses a YAML file; unreadable or malformed input becomes `fail(reason)` (one line). */
export function readYaml<E extends Error>(path: string, fail: (reason: string) => E, opts: InputOptions = {}): unknown {
  const text = readInput(path, fail, {maxBytes: YAML_MAX_BYTES, ...opts}).toString('utf8')
  try {
    return yaml().load(text, {filename: path})
  } catch (error) {
    const e = error as {reason?: string; mark?: {line: number}}
    throw fail(`malformed YAML: ${e.reason ?? (error as Error).message}${e.mark ? ` (line ${e.mark.line + 1})` : ''}`)
  }
}

/**
 * A shipped YAML file (directly in the project's folder `dir`) from its JSON copy in dist/<dir>/ made by
 * the build (scripts/profiles-json.js), while that copy is newer than the YAML; undefined otherwise
 * (not shipped, not built, or edited since), and the caller reads the YAML.
 */
export function shippedJson(file: string, dir: string): unknown {
  if (dirname(resolve(file)) !== join(projectRoot(), dir)) return undefined
  const json = join(projectRoot(), 'dist', dir, `${basename(file, '.yml')}.json`)
  try {
    if (statSync(json).mtimeMs < statSync(file).mtimeMs) return undefined
    return JSON.parse(readFileSync(json, 'utf8'))
  } catch {
    return undefined
  }
}
