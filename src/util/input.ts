// Reading a user-named file with one clear reason per failure (the caller wraps it in its own error type).
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'

// js-yaml on first use: `ebpfperf doctor` reads the shipped profiles' JSON copies and need not load it.
let yamlModule: typeof import('js-yaml') | undefined
const yaml = () => (yamlModule ??= createRequire(import.meta.url)('js-yaml') as typeof import('js-yaml'))

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

export function readInput<E extends Error>(path: string, fail: (reason: string) => E): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw fail(describeFsError(error))
  }
}

/** Reads and parses a YAML file; unreadable or malformed input becomes `fail(reason)` (one line). */
export function readYaml<E extends Error>(path: string, fail: (reason: string) => E): unknown {
  const text = readInput(path, fail).toString('utf8')
  try {
    return yaml().load(text, {filename: path})
  } catch (error) {
    const e = error as {reason?: string; mark?: {line: number}}
    throw fail(`malformed YAML: ${e.reason ?? (error as Error).message}${e.mark ? ` (line ${e.mark.line + 1})` : ''}`)
  }
}
