// OpenSSH, as fleet doctor uses it: BatchMode (never a password prompt), one ControlMaster connection per
// host shared by every command, host keys learnt into a run-local known_hosts (accept-new), a bounded
// connect timeout. Everything the run creates locally lives in one temporary folder, removed after.
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import type {InventoryHost} from './inventory.js'

export interface SshResult {
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

export function sshArgs(h: InventoryHost, runDir: string, connectTimeout = 5): string[] {
  return [
    '-o', 'BatchMode=yes',
    '-o', 'ControlMaster=auto',
    '-o', `ControlPath=${join(runDir, 'cm-%C')}`,
    '-o', 'ControlPersist=30',
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', `UserKnownHostsFile=${join(runDir, 'known_hosts')}`,
    '-o', `ConnectTimeout=${connectTimeout}`,
    '-o', 'LogLevel=ERROR',
    ...(h.key ? ['-i', h.key, '-o', 'IdentitiesOnly=yes'] : []),
    '-p', String(h.port),
    '-l', h.user,
    h.host,
  ]
}

/** Runs `command` on the host (stdin from `input` when given), bounded by timeoutMs. */
export function ssh(h: InventoryHost, runDir: string, command: string, opts: {input?: Buffer; timeoutMs?: number} = {}): Promise<SshResult> {
  return new Promise((resolve) => {
    const child = spawn('ssh', [...sshArgs(h, runDir), command], {stdio: ['pipe', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGTERM')
    }, opts.timeoutMs ?? 120_000)
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.stdin.on('error', () => undefined) // the host went away while we were writing: the exit code says so
    child.stdin.end(opts.input)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut})
    })
  })
}

/** Closes the host's master connection (ssh -O exit); quiet when there is none. */
export function closeMaster(h: InventoryHost, runDir: string): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn('ssh', [...sshArgs(h, runDir).slice(0, -1), '-O', 'exit', h.host], {stdio: 'ignore'})
    child.on('close', () => resolve())
    child.on('error', () => resolve())
  })
}
