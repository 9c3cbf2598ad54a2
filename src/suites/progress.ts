// What every suite draws while it runs and when it is done: a progress tree on stderr (listr2; stdout
// keeps the tables or the --json document), an ETA, and the colours of its tables (none with NO_COLOR
// or when stdout is not a terminal).
import {DefaultRenderer, Listr, ListrLogger, ProcessOutput} from 'listr2'
import {makeChalk} from '../doctor/render.js'

export type PaintKind = 'bad' | 'dim' | 'head'

/** The suites' three colours, as functions and as one function of the kind. */
export interface Paint {
  bad: (s: string) => string
  dim: (s: string) => string
  head: (s: string) => string
  color: (s: string, kind: PaintKind) => string
}

export function suitePaint(env: NodeJS.ProcessEnv = process.env): Paint {
  const chalk = makeChalk(env)
  const p = {bad: (s: string) => chalk.red(s), dim: (s: string) => chalk.dim(s), head: (s: string) => chalk.bold(s)}
  return {...p, color: (s, kind) => p[kind](s)}
}

/** One step of a suite's run: a line in the progress tree. */
export interface Step {
  title: string
  /** Why the step does not run (shown as skipped), if it does not. */
  skip?: string
  /**
   * Runs the step. show(): what it is doing now (under the title, or as the title with `live: 'title'`);
   * the string returned replaces the title once it is done.
   */
  run: (show: (line: string) => void) => Promise<string | void>
}

export interface StepOptions {
  /** Draw the tree (false: run the steps quietly, in order). */
  enabled: boolean
  signal: AbortSignal
  /** Where show() goes on a terminal: the line under the title (default) or the title itself. */
  live?: 'output' | 'title'
  /** Without a terminal, at most one line per this many ms (default: every line). */
  plainEveryMs?: number
}

/** Runs the steps in order; once the signal is aborted the rest are skipped (shown as interrupted). */
export async function runSteps(steps: Step[], opts: StepOptions): Promise<void> {
  if (!opts.enabled) {
    for (const s of steps) {
      opts.signal.throwIfAborted()
      if (!s.skip) await s.run(() => {})
    }
    return
  }
  const tty = Boolean(process.stderr.isTTY)
  const list = new Listr(
    steps.map((s) => ({
      title: s.title,
      skip: () => (opts.signal.aborted ? 'interrupted' : (s.skip ?? false)),
      task: async (_ctx: unknown, task: {output: string; title: string}) => {
        let last = 0
        const summary = await s.run((line) => {
          const now = Date.now()
          if (tty && opts.live === 'title') task.title = line
          else if (tty || now - last >= (opts.plainEveryMs ?? 0)) {
            task.output = line
            last = now
          }
        })
        if (summary) task.title = summary
      },
    })),
    stderrListrOptions(tty),
  )
  await list.run()
}

/** listr2's default renderer, allowed to draw when stderr is a terminal (listr2 itself looks at stdout). */
class StderrRenderer extends DefaultRenderer {
  static nonTTY = true
}

/**
 * The live renderer on a terminal, plain lines otherwise. Signals are the suite's (withSignals), not
 * listr2's; a failed step's message is not repeated in the tree (the error line after it says it).
 */
function stderrListrOptions(tty: boolean) {
  const logger = new ListrLogger({useIcons: true, processOutput: new ProcessOutput(process.stderr, process.stderr, {leaveEmptyLine: false})})
  return {
    concurrent: false,
    exitOnError: true,
    registerSignalListeners: false,
    renderer: StderrRenderer,
    fallbackRenderer: 'simple' as const,
    fallbackRendererCondition: () => !tty,
    rendererOptions: {logger, collapseSkips: false, collapseErrors: true, showErrorMessage: false},
    fallbackRendererOptions: {logger},
  }
}

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '…'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

/** Time left in a sweep of `total` runs, from the mean time of those done. */
export class Eta {
  private done = 0
  private spent = 0

  constructor(readonly total: number) {}

  /** One run finished after `seconds`. */
  ran(seconds: number): void {
    this.done++
    this.spent += seconds
  }

  get completed(): number {
    return this.done
  }

  toString(): string {
    if (this.done === 0) return '…'
    return formatEta((this.spent / this.done) * (this.total - this.done))
  }
}
