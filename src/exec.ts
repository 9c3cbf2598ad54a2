// Every external command ebpfperf runs goes through here (and this is the only caller of execa).
import {accessSync, constants} from 'node:fs'
import {createRequire} from 'node:module'
import {delimiter, join} from 'node:path'

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
  failed: boolean
}

/**
 * Runs a command without a shell and waits; never throws for a non-zero exit (the caller decides).
 * Short commands (ip, tc, ethtool, ping) go through node:child_process directly: importing execa costs
 * ~100 ms, a tenth of the one-second budget of `topology up`/`down`. Long-running ones use start().
 */
export function run(file: string, args: string[], opts: {timeoutMs?: number; input?: string} = {}): Promise<RunResult> {
  // loaded on first use: a doctor run that starts no process does not pay for node:child_process (~10 ms)
  const {spawn} = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process')
  return new Promise((resolve) => {
    const child = spawn(file, args, {stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 30_000})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', (e) => resolve({exitCode: -1, stdout: '', stderr: e.message, failed: true}))
    child.on('close', (code, signal) => {
      const strip = (b: Buffer[]) => Buffer.concat(b).toString('utf8').replace(/\n$/, '')
      const stderr = strip(err) || (signal ? `killed by ${signal}` : '')
      resolve({exitCode: code ?? -1, stdout: strip(out), stderr, failed: code !== 0})
    })
    child.stdin.on('error', () => {}) // a command that exits without reading its input
    child.stdin.end(opts.input ?? '')
  })
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

export interface Started {
  pid: number | undefined
  /** Resolves when the process ends (never rejects). */
  done: Promise<RunResult>
  kill(signal?: NodeJS.Signals): void
}

/** Starts a long-running process (a server, a load generator) and hands back control at once. */
export async function start(file: string, args: string[]): Promise<Started> {
  const {execa} = await import('execa')
  const p = execa(file, args, {reject: false, stripFinalNewline: true})
  const done = p.then((r) => ({exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), failed: r.failed}))
  return {pid: p.pid, done, kill: (signal = 'SIGTERM') => void p.kill(signal)}
}
