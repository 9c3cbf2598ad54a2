// One lifecycle for every suite: check the input → doctor's gate → plan → run (progress on stderr, SIGINT
// and SIGTERM stop it at the next sample) → tear down → cases, CSV and the result file (also when stopped
// part way, marked incomplete) → the answer first, then the tables. A suite supplies its parts as a
// SuiteDefinition; its command is its flags and one call of runSuite.
import type {Interfaces} from '@oclif/core'
import {finishRun, newRun, suiteFlags, suiteGate, type Gate} from './common.js'
import {suitePaint, type Paint} from './progress.js'
import {writeAtomic, type CaseResult, type RunResult} from '../results/store.js'
import {BaseCommand} from '../util/cli.js'
import {InterruptedError, withSignals} from '../util/signals.js'

/** The flags every suite has (suiteFlags), as parsed. */
export type SuiteFlags = Interfaces.InferredFlags<typeof suiteFlags> & {out: string}

export interface SuiteContext {
  /** The command line after `suite NAME` (the result file records it). */
  argv: string[]
  /** A line for humans on stderr (also under --json). */
  note: (line: string) => void
}

export interface RunContext extends SuiteContext {
  gate: Gate
  /** The result document; the lifecycle fills in its cases and writes it. */
  run: RunResult
  /** Aborted by SIGINT/SIGTERM: stop at the next sample and return or throw. */
  signal: AbortSignal
  /** Draw the progress tree on stderr. */
  progress: boolean
}

/** Where the result went: RESULT.json, RESULT.csv, and files beside them by suffix (-buffers.csv). */
export interface SavedFiles {
  json: string
  csv: string
  beside: Record<string, string>
}

export interface SuiteResults {
  cases: CaseResult[]
  csv: string
  /** More CSV files beside the result, by the suffix that replaces `.csv`. */
  beside?: Record<string, string>
  /** False when a part of the run says it stopped early although nothing was thrown. */
  complete?: boolean
}

/**
 * A suite's parts, in the order the lifecycle calls them. S is the suite's state (made by validate,
 * filled in by the rest), R what it reports (printed by render, and the --json document).
 */
export interface SuiteDefinition<F, S, R> {
  /** The suite's name: `suite NAME`, doctor's profile, the result document's suite. */
  name: string
  /** Checks the flags and input files; bad input throws (exit 2) before anything is changed. */
  validate(flags: F, ctx: SuiteContext): S | Promise<S>
  /** Doctor's verdict (default: the suite's profile, live, after the privilege check). */
  gate?(state: S, ctx: SuiteContext): Promise<Gate>
  /** Decides what runs and loads it; what it makes, teardown undoes. */
  plan?(state: S, gate: Gate, ctx: SuiteContext): void | Promise<void>
  /** Measures into the state; throws what stopped it. */
  run(state: S, ctx: RunContext): Promise<void>
  /** Undoes what gate, plan and run made; called on every way out, before the result is written. */
  teardown?(state: S): void | Promise<void>
  /** Whether a run that stopped has anything worth a result file (default: yes). */
  measured?(state: S): boolean
  results(state: S, run: RunResult): SuiteResults
  report(state: S, run: RunResult, files: SavedFiles): R
  /** What a human reads on stdout: the answer first, then the tables; one entry per log call. */
  render(report: R, paint: Paint): string[]
  /** The --json document (default: the report). */
  json?(report: R): unknown
  /** Lines for stderr under --json (the result file's name is added after them). */
  jsonNotes?(report: R): string[]
  /** Default: 1 when a case failed, else 0. */
  exitCode?(report: R, run: RunResult): number
}

/** "result: FILE.json (+ .csv, -buffers.csv)": the line a suite's output ends with. */
export function resultLine(files: SavedFiles): string {
  return `result: ${files.json} (+ .csv${Object.keys(files.beside).map((s) => `, ${s}`).join('')})`
}

function save(run: RunResult, outDir: string, r: SuiteResults, complete: boolean): SavedFiles {
  run.cases = r.cases
  const files = finishRun(run, outDir, r.csv, complete && r.complete !== false)
  const beside: Record<string, string> = {}
  for (const [suffix, csv] of Object.entries(r.beside ?? {})) writeAtomic((beside[suffix] = files.csv.replace(/\.csv$/, suffix)), csv)
  return {...files, beside}
}

/**
 * gate → plan → run → teardown, all inside the signal handler (a signal while tearing down is handled
 * too: a second one quits at once); the run document exists once the plan is made.
 */
async function measure<F, S, R>(def: SuiteDefinition<F, S, R>, state: S, ctx: SuiteContext & {progress: boolean}, made: {run?: RunResult}): Promise<void> {
  const {signal} = await withSignals(async (abort) => {
    try {
      const gate = def.gate ? await def.gate(state, ctx) : await suiteGate(def.name)
      abort.throwIfAborted()
      await def.plan?.(state, gate, ctx)
      // after the plan: input found bad while planning is then the only line on stderr
      ctx.note(`${def.name}: ${gate.verdict.text}`)
      abort.throwIfAborted()
      made.run = await newRun(def.name, ctx.argv)
      await def.run(state, {...ctx, gate, run: made.run, signal: abort})
    } finally {
      await def.teardown?.(state)
    }
  })
  if (signal) throw new InterruptedError(signal, 'stopped after the last sample')
}

/**
 * The lifecycle. Errors keep their exit codes (bad input 2, privilege 3, requirement 4, a signal 130/143);
 * a run that stopped after it began measuring carries its saved files on the error (resultFiles).
 */
export async function runLifecycle<F extends SuiteFlags, S, R>(
  def: SuiteDefinition<F, S, R>,
  flags: F,
  ctx: SuiteContext & {progress: boolean},
): Promise<{report: R; run: RunResult; files: SavedFiles}> {
  const state = await def.validate(flags, ctx)
  const made: {run?: RunResult} = {}
  try {
    await measure(def, state, ctx, made)
  } catch (error) {
    if (made.run && (def.measured?.(state) ?? true)) {
      try {
        ;(error as {resultFiles?: SavedFiles}).resultFiles = save(made.run, flags.out, def.results(state, made.run), false)
      } catch (e) {
        ctx.note(`ebpfperf: could not write the partial result: ${(e as Error).message}`)
      }
    }
    throw error
  }
  const run = made.run!
  const files = save(run, flags.out, def.results(state, run), true)
  return {report: def.report(state, run, files), run, files}
}

/** A `suite NAME` command: its flags, and run() calling runSuite with the suite's definition. */
export abstract class SuiteCommand extends BaseCommand {
  static enableJsonFlag = true

  protected async runSuite<F extends SuiteFlags & {progress?: boolean}, S, R>(def: SuiteDefinition<F, S, R>, flags: F): Promise<unknown> {
    try {
      const {report, run, files} = await runLifecycle(def, flags, {argv: this.argv, note: (l) => this.note(l), progress: flags.progress ?? true})
      if (this.jsonEnabled()) {
        for (const line of def.jsonNotes?.(report) ?? []) this.note(line)
        this.note(`result: ${files.json}`)
      } else {
        for (const block of def.render(report, suitePaint())) this.log(block)
      }
      const code = def.exitCode ? def.exitCode(report, run) : run.cases.some((c) => c.status === 'failed') ? 1 : 0
      if (code !== 0) process.exitCode = code
      return def.json ? def.json(report) : report
    } catch (error) {
      return this.failSuite(error)
    }
  }

  /** A run stopped part way: where its samples are, then the error's one line and exit code. */
  protected failSuite(error: unknown): never {
    const files = (error as {resultFiles?: {json: string}}).resultFiles
    if (files) this.note(`ebpfperf: the samples taken so far are in ${files.json} (marked incomplete)`)
    return this.failWith(error)
  }
}
