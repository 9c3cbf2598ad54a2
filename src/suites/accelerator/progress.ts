// The live progress tree on stderr (listr2): one task per grid point, its title showing the repetition,
// the configuration and the ETA of the whole sweep; a finished point shows its summary. stdout stays
// free for the table or the --json document. Without a terminal on stderr it prints plain lines.
import {Listr, ListrLogger, ProcessOutput} from 'listr2'
import {StderrRenderer} from '../common.js'

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '…'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

export class Progress {
  private done = 0
  private spent = 0

  constructor(
    readonly points: string[],
    readonly total: number,
    readonly opts: {enabled: boolean},
  ) {}

  /** One run finished after `seconds`. */
  ran(seconds: number): void {
    this.done++
    this.spent += seconds
  }

  get completed(): number {
    return this.done
  }

  eta(): string {
    if (this.done === 0) return '…'
    return formatEta((this.spent / this.done) * (this.total - this.done))
  }

  /** Runs fn for every point in order; fn reports what it does with update() and returns a summary. */
  async run(fn: (point: number, update: (what: string) => void) => Promise<string>, signal: AbortSignal): Promise<void> {
    if (!this.opts.enabled) {
      for (let i = 0; i < this.points.length; i++) {
        signal.throwIfAborted()
        await fn(i, () => {})
      }
      return
    }
    const out = new ProcessOutput(process.stderr, process.stderr, {leaveEmptyLine: false})
    const logger = new ListrLogger({useIcons: true, processOutput: out})
    const tty = Boolean(process.stderr.isTTY)
    const list = new Listr(
      this.points.map((label, i) => ({
        title: label,
        task: async (_ctx: unknown, task: {title: string; output: string}) => {
          const summary = await fn(i, (what) => {
            const line = `${label} — ${what} · ${this.done}/${this.total} runs · ETA ${this.eta()}`
            if (tty) task.title = line
            else task.output = line
          })
          task.title = summary
        },
      })),
      {
        concurrent: false,
        exitOnError: true,
        registerSignalListeners: false, // SIGINT/SIGTERM belong to withTopology: stop, detach, tear down
        renderer: StderrRenderer,
        rendererOptions: {logger, collapseErrors: true, showErrorMessage: false, timer: undefined},
        fallbackRenderer: 'simple',
        fallbackRendererCondition: () => !tty,
        fallbackRendererOptions: {logger},
      },
    )
    await list.run()
  }

}
