// Turning SIGINT/SIGTERM into an orderly stop: the work sees an aborted signal and cleans up; a second
// signal exits at once (whatever is left, `ebpfperf topology down` removes).
export interface Interruptible<T> {
  result: T
  signal?: NodeJS.Signals // set when a signal arrived while fn ran
}

export const SIGNAL_EXIT: Record<string, number> = {SIGINT: 130, SIGTERM: 143, SIGHUP: 129}

export async function withSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<Interruptible<T>> {
  const ac = new AbortController()
  let got: NodeJS.Signals | undefined
  const handler = (sig: NodeJS.Signals) => {
    if (got) process.exit(SIGNAL_EXIT[sig] ?? 1)
    got = sig
    process.stderr.write(`ebpfperf: ${sig}: cleaning up (again to quit at once)\n`)
    ac.abort(new Error(`interrupted by ${sig}`))
  }
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const s of sigs) process.on(s, handler)
  try {
    return {result: await fn(ac.signal), signal: got}
  } catch (error) {
    throw got ? new InterruptedError(got, (error as Error).message) : error
  } finally {
    for (const s of sigs) process.off(s, handler)
  }
}

/** The work stopped because of a signal (exit code 128 + signal number). */
export class InterruptedError extends Error {
  readonly exitCode: number
  constructor(readonly signal: NodeJS.Signals, detail: string) {
    super(`interrupted by ${signal} (${detail}); what was made has been removed`)
    this.exitCode = SIGNAL_EXIT[signal] ?? 1
  }
}
