// Temporary directories for tests: under the system's temp dir with an `ebp-` prefix, removed when the
// test process exits, whether the tests passed or not.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

const made: string[] = []
process.on('exit', () => {
  for (const dir of made) rmSync(dir, {recursive: true, force: true})
})

/** A new directory /tmp/ebp-NAME-XXXXXX, removed at exit. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ebp-${name}-`))
  made.push(dir)
  return dir
}
