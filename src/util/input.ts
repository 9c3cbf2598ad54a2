// Reading a user-named file with one clear reason per failure (the caller wraps it in its own error type).
import {readFileSync} from 'node:fs'

const REASONS: Record<string, string> = {
  ENOENT: 'no such file (check the path)',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied (run as a user who can read it)',
  EPERM: 'permission denied (run as a user who can read it)',
  ELOOP: 'too many symbolic links',
  ENOTDIR: 'a part of the path is not a directory',
}

export function readInput<E extends Error>(path: string, fail: (reason: string) => E): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? ''
    throw fail(REASONS[code] ?? `cannot read: ${(error as Error).message}`)
  }
}
