// One consumer process for one sample: started in a process group of its own (a Ctrl-C reaches the suite,
// which then stops it in order), held to the line protocol (consumers-protocol.ts) with a bound on every
// wait, and always ended: stdin closed, then SIGKILL to its group if it lingers. "Exited" is the close
// event (its output read to the end), so a report printed just before exiting is not cut off.
import {spawn, type ChildProcess} from 'node:child_process'
import {readFileSync, readdirSync} from 'node:fs'
import {createInterface} from 'node:readline'
import {ProtocolReader, type ConsumerCounts} from './consumers-protocol.js'

export interface ConsumerEnv {
  EBPFPERF_MAP: string
  EBPFPERF_MECHANISM: 'ringbuf' | 'perfbuf'
  EBPFPERF_PERF_PAGES: string
}

/**
 * CPU time a process has had, two ways: `threads`, the sum of its live threads' run time in ns
 * (/proc/PID/task/TID/schedstat: exact, but a thread that has ended is no longer there), and `total`,
 * utime + stime of /proc/PID/stat (every thread, ended ones too, in 10 ms clock ticks).
 */
export function processCpu(pid: number): {threads: number; total: number} | undefined {
  try {
    let threads = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        threads += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch {
        // a thread that just ended
      }
    }
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return {threads, total: (Number(f[11]) + Number(f[12])) * 1e7} // USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}

/** CPU ns between two readings: the exact thread sum, unless threads that ended took more (then the tick count). */
export function cpuBetween(a: {threads: number; total: number} | undefined, b: {threads: number; total: number} | undefined): number {
  if (!a || !b) return Number.NaN
  return Math.max(b.threads - a.threads, b.total - a.total - 1e7)
}

export class ConsumerProcess {
  readonly reader = new ProtocolReader()
  private child?: ChildProcess
  private stderrTail = ''
  private exited?: string
  private problem?: string
  private waiters: (() => void)[] = []

  constructor(readonly name: string, readonly argv: string[]) {}

  get pid(): number | undefined {
    return this.child?.pid
  }

  start(env: ConsumerEnv): void {
    const child = spawn(this.argv[0], this.argv.slice(1), {stdio: ['pipe', 'pipe', 'pipe'], env: {...process.env, ...env}, detached: true})
    this.child = child
    child.on('error', (e) => this.end(`could not be started (${this.argv[0]}: ${(e as NodeJS.ErrnoException).code ?? e.message})`))
    child.on('close', (code, sig) => this.end(`exited (${sig ?? `code ${code}`})${this.stderrTail ? `: ${this.lastStderr()}` : ''}`))
    child.stdin!.on('error', () => {}) // gone: 'exit' says so
    child.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-2000)
    })
    createInterface({input: child.stdout!}).on('line', (line) => {
      const bad = this.reader.feed(line)
      if (bad && !this.problem) this.problem = bad
      this.wake()
    })
  }

  private lastStderr(): string {
    return this.stderrTail.trim().split('\n').pop() ?? ''
  }

  private end(why: string): void {
    if (this.exited === undefined) this.exited = why
    this.wake()
  }

  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Waits (bounded) until the protocol reaches `phase`; throws one line naming what went wrong. */
  private async until(phase: 'ready' | 'done', timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      signal?.throwIfAborted()
      if (this.problem) throw new Error(this.problem)
      if (this.reader.phase === phase) return
      if (this.exited !== undefined) throw new Error(`${this.exited}${phase === 'ready' ? ' before saying "ready"' : ' before "done"'}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(phase === 'ready' ? `did not say "ready" within ${timeoutMs / 1000} s` : `did not finish its report ("done") within ${timeoutMs / 1000} s of "stop"`)
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        const t = setTimeout(done, Math.min(left, 200))
        signal?.addEventListener('abort', done, {once: true})
        this.waiters.push(done)
      })
    }
  }

  async ready(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await this.until('ready', timeoutMs, signal)
  }

  /** Sends `stop` and reads the report. */
  async stop(timeoutMs: number, signal?: AbortSignal): Promise<ConsumerCounts> {
    this.reader.stopSent()
    this.child?.stdin?.write('stop\n')
    await this.until('done', timeoutMs, signal)
    return this.reader.counts
  }

  /** Closes its stdin (the protocol's "exit"), waits up to graceMs, then kills its process group. Idempotent. */
  async close(graceMs = 2000): Promise<void> {
    const child = this.child
    if (!child || child.pid === undefined) return
    child.stdin?.end()
    const deadline = Date.now() + graceMs
    while (this.exited === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    try {
      process.kill(-child.pid, 'SIGKILL') // the group: whatever it started goes too
    } catch {
      // already gone
    }
    const hard = Date.now() + 2000
    while (child.exitCode === null && child.signalCode === null && Date.now() < hard) await new Promise((r) => setTimeout(r, 20))
  }
}
