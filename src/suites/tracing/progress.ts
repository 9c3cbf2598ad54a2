// Progress of the tracing suite's layers with listr2, on stderr (stdout keeps the tables or the --json document).
import {Listr} from 'listr2'
import {stderrListrOptions} from '../common.js'
import type {TracingSession} from './index.js'

export async function progressRunner(session: TracingSession, signal: AbortSignal): Promise<void> {
  const tty = Boolean(process.stderr.isTTY)
  const list = new Listr(
    session.tasks().map((t) => ({
      title: t.title,
      skip: () => (signal.aborted ? 'interrupted' : (t.skip ?? false)),
      task: async (_ctx: unknown, task: {output: string; title: string}) => {
        let last = 0
        await session.runLayer(t.layer, (line) => {
          // on a terminal: the current step under the title; elsewhere one line per few seconds at most
          const now = Date.now()
          if (tty || now - last > 5000) {
            task.output = line
            last = now
          }
        })
      },
    })),
    stderrListrOptions(),
  )
  await list.run()
}
