// Writing an output file or folder the user named: a path that exists and is not a regular file (a
// device, a directory) is refused before anything is written, and a failed write leaves no temporary file.
import {accessSync, closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {BadInputError} from './errors.js'
import {fileKind} from './input.js'

export class OutputError extends BadInputError {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`)
    this.name = 'OutputError'
  }
}

const WRITE_REASONS: Record<string, string> = {
  EACCES: 'permission denied (choose a folder you can write to)',
  EPERM: 'permission denied (choose a folder you can write to)',
  EROFS: 'on a read-only file system (choose another folder)',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
}

/** One line for a failed write, without the temporary file's name. */
const writeReason = (error: unknown) => {
  const e = error as NodeJS.ErrnoException
  return `cannot be written: ${WRITE_REASONS[e.code ?? ''] ?? (e.code ? `${e.code} (${e.syscall ?? 'write'})` : String(e.message).split('\n')[0])}`
}

const statOrUndefined = (path: string) => {
  try {
    return statSync(path)
  } catch (error) {
    if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined // walk up to what exists
    throw error
  }
}

/**
 * Why no folder can be made at `dir` (undefined: it exists and is writable, or can be created). The reason
 * names the path that is in the way, except `dir` itself when `selfNamed` (the caller names it).
 */
function folderProblem(dir: string, selfNamed = true, writable = true): string | undefined {
  let at = resolve(dir)
  let st = statOrUndefined(at)
  while (!st && dirname(at) !== at) st = statOrUndefined((at = dirname(at)))
  if (!st) return undefined
  if (!st.isDirectory()) return `${selfNamed && at === resolve(dir) ? '' : `${at} `}is ${fileKind(st)}, not a folder (name a folder, or remove the file)`
  if (!writable) return undefined
  try {
    accessSync(at, constants.W_OK)
  } catch {
    return `${at} is not writable (choose a folder you can write to)`
  }
  return undefined
}

/** Why `path` cannot be written as a file; undefined when it is a regular file or can be created. */
export function outputFileProblem(path: string): string | undefined {
  try {
    const st = statOrUndefined(path)
    if (st && !st.isFile()) return `is ${fileKind(st)}, not a regular file; it is never replaced (name a file)`
    return folderProblem(dirname(resolve(path)), false)
  } catch (error) {
    return writeReason(error)
  }
}

/**
 * Refuses (OutputError, exit 2) an output folder that cannot be one: run before any measuring starts.
 * `writable: false` leaves out the permission check (a caller that will refuse an unprivileged user anyway).
 */
export function checkOutputDir(dir: string, label = dir, opts: {writable?: boolean} = {}): string {
  let problem: string | undefined
  try {
    problem = folderProblem(dir, true, opts.writable !== false)
  } catch (error) {
    problem = writeReason(error)
  }
  if (problem) throw new OutputError(label, problem)
  return dir
}

/** Refuses (OutputError, exit 2) an output file that cannot be written as one. */
export function checkOutputFile(path: string, label = path): string {
  const problem = outputFileProblem(path)
  if (problem) throw new OutputError(label, problem)
  return path
}

/**
 * Writes via a temporary file beside `path`, fsync and rename: readers see the old file or the whole new
 * one. A path that is not a regular file is refused first; the temporary file is removed on any failure.
 */
export function writeOutput(path: string, data: string | Buffer): void {
  checkOutputFile(path)
  const tmp = `${path}.${process.pid}.tmp`
  let created = false
  try {
    mkdirSync(dirname(path), {recursive: true})
    const fd = openSync(tmp, 'wx', 0o644) // wx: never through a link someone left at that name
    created = true
    try {
      writeFileSync(fd, data)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    checkOutputFile(path) // what `path` names may have changed while we wrote
    renameSync(tmp, path)
  } catch (error) {
    try {
      if (created) unlinkSync(tmp)
    } catch {
      // already renamed
    }
    if (error instanceof OutputError) throw error
    throw new OutputError(path, writeReason(error))
  }
}
