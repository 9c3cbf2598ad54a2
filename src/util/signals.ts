// Turning SIGINT/SIGTERM into an orderly stop: the work sees an aborted signal and cleans up; a second
// signal exits at once (whatever is left, `ebpfperf topology down` removes).
export interface Interruptible<T> {
  result: T
  signal?: NodeJS.Signals // set when a signal arrived while fn ran
}

export const SIGNAL_EXIT: Record<string, number> = {SIGINT: 130, SIGTERM: 143, SIGHUP: 129}

/** The handler in place: a nested withSignals (a suite's topology inside the suite's run) shares it. */
let current: {controller: AbortController; got?: NodeJS.Signals} | undefined

export async function withSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<Interruptible<T>> {
  if (current) {
    const outer = current
    try {
      return {result: await fn(outer.controller.signal), signal: outer.got}
    } catch (error) {
      throw interrupted(outer.got, error)
    }
  }
  const state: {controller: AbortController; got?: NodeJS.Signals} = {controller: new AbortController()}
  const handler = (sig: NodeJS.Signals) => {
    if (state.got) process.exit(SIGNAL_EXIT[sig] ?? 1)
    state.got = sig
    process.stderr.write(`ebpfperf: ${sig}: cleaning up (again to quit at once)\n`)
    state.controller.abort(new Error(`interrupted by ${sig}`))
  }
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const s of sigs) process.on(s, handler)
  current = state
  try {
    return {result: await fn(state.controller.signal), signal: state.got}
  } catch (error) {
    throw interrupted(state.got, error)
  } finally {
    current = undefined
    for (const s of sigs) process.off(s, handler)
  }
}

/** What a failure becomes once a signal has come: an InterruptedError saying what stopped (made once). */
function interrupted(got: NodeJS.Signals | undefined, error: unknown): unknown {
  if (!got || error instanceof InterruptedError) return error
  const detail = (error as Error).message
  // the abort reason itself says nothing more than the signal's name
  return new InterruptedError(got, detail === `interrupted by ${got}` ? 'stopped' : detail)
}

/** The work stopped because of a signal (exit code 128 + signal number). */
export class InterruptedError extends Error {
  readonly exitCode: number
  constructor(readonly signal: NodeJS.Signals, detail: string) {
    super(`interrupted by ${signal} (${detail}); what was made has been removed`)
    this.exitCode = SIGNAL_EXIT[signal] ?? 1
  }
}
