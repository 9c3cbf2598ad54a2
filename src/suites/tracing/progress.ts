// The tracing suite's progress: one step per layer, the current round under its title (without a
// terminal, a line every few seconds at most).
import {runSteps} from '../progress.js'
import type {TracingSession} from './index.js'

export async function progressRunner(session: TracingSession, signal: AbortSignal, enabled = true): Promise<void> {
  const steps = session.tasks().map((t) => ({title: t.title, skip: t.skip, run: (show: (line: string) => void) => session.runLayer(t.layer, show)}))
  await runSteps(steps, {enabled, signal, plainEveryMs: 5000})
}
