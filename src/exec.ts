// The only caller of execa: every external command ebpfperf runs goes through here.
import {accessSync, constants} from 'node:fs'
import {delimiter, join} from 'node:path'

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
  failed: boolean
}

/** Runs a command without a shell; never throws for a non-zero exit (the caller decides). */
export async function run(file: string, args: string[], opts: {timeoutMs?: number; input?: string} = {}): Promise<RunResult> {
  const {execa} = await import('execa') // loaded on first use: it costs ~100 ms of start-up
  const r = await execa(file, args, {reject: false, timeout: opts.timeoutMs ?? 30_000, input: opts.input, stripFinalNewline: true})
  return {exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), failed: r.failed}
}

/** Same as run() but a failure becomes an Error carrying the command's stderr. */
export async function runChecked(file: string, args: string[], opts: {timeoutMs?: number; input?: string} = {}): Promise<RunResult> {
  const r = await run(file, args, opts)
  if (r.failed) {
    const why = r.stderr.split('\n').find(Boolean) ?? `exit code ${r.exitCode}`
    throw new Error(`${[file, ...args].join(' ')}: ${why}`)
  }
  return r
}

/** Looks a program up on PATH (plus the sbin directories root has) without running anything. */
export function which(name: string, path = process.env.PATH ?? ''): string | undefined {
  const dirs = [...path.split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']
  for (const d of dirs) {
    if (!d) continue
    const p = join(d, name)
    try {
      accessSync(p, constants.X_OK)
      return p
    } catch {
      // next
    }
  }
  return undefined
}
