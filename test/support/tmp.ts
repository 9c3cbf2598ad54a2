// Temporary directories for tests: under the system's temp dir with an `ebp-` prefix, removed when the
// test process exits, whether the tests passed or not, and when it is stopped with SIGTERM or SIGHUP
// (`timeout`, a closed terminal), which would otherwise end it without its exit handlers.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {SIGNAL_EXIT} from '../../src/util/signals.js'

const made: string[] = []
const removeAll = () => {
  for (const dir of made.splice(0)) rmSync(dir, {recursive: true, force: true})
}
process.on('exit', removeAll)
for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    removeAll()
    // another handler (a topology under test tearing down) decides when the process ends
    if (process.listenerCount(signal) === 1) process.exit(SIGNAL_EXIT[signal])
  })
}

/** A new directory /tmp/ebp-NAME-XXXXXX, removed at exit. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ebp-${name}-`))
  made.push(dir)
  return dir
}
