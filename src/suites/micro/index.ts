// `ebpfperf suite micro`: the eBPF runtime's own costs through BPF_PROG_TEST_RUN (invocation, tail calls,
// maps, helpers) and ring buffer vs perf buffer delivery, from a suite file (profiles/micro/*.suite.yml or
// the user's). Tests run in file order, grouped for the progress display; each result is judged (return
// value, bpf_stats proof, every buffer event accounted for). An interrupt keeps the samples taken so far
// in a result file marked incomplete.
import {Listr} from 'listr2'
import {writeAtomic, type RunResult} from '../../results/store.js'
import {InterruptedError, withSignals} from '../../util/signals.js'
import {loadNative, type Native} from '../../native.js'
import {finishRun, newRun, stderrListrOptions, type Gate} from '../common.js'
import {runBufferTest, type BufferOutcome} from './buffers.js'
import {bufferCases, buffersCsv, durationsCsv, runCases} from './report.js'
import {runTests, type RunOutcome} from './runner.js'
import type {BufferTest, MicroTest, RunTest, Suite} from './spec.js'

export {loadSuite, defaultSuiteFile, parseCpuList, onlineCpus} from './spec.js'

export interface MicroOptions {
  argv: string[]
  outDir: string
  gate: Pick<Gate, 'skipped'>
  native?: Native
  /** listr2 progress on stderr. */
  progress?: boolean
  /** bpf_stats during the samples: 'proof' (one extra run with it on, default) or 'samples'. */
  stats?: 'proof' | 'samples'
}

export interface MicroOutcome {
  suite: Suite
  run: RunResult
  runs: RunOutcome[]
  buffers: BufferOutcome[]
  files: {json: string; csv: string; buffersCsv?: string}
}

/** Consecutive tests of one group, in file order. */
export function groupsOf(tests: MicroTest[]): {group: string; tests: MicroTest[]}[] {
  const out: {group: string; tests: MicroTest[]}[] = []
  for (const t of tests) {
    const last = out[out.length - 1]
    if (last && last.group === t.group) last.tests.push(t)
    else out.push({group: t.group, tests: [t]})
  }
  return out
}

export async function runMicro(suite: Suite, opts: MicroOptions): Promise<MicroOutcome> {
  const native = opts.native ?? loadNative()
  const run = await newRun('micro', opts.argv)
  const runs: RunOutcome[] = []
  const buffers: BufferOutcome[] = []
  const cpus = [...new Set(suite.tests.flatMap((t) => (t.kind === 'run' ? t.cpus : t.producers)))].sort((a, b) => a - b)

  const save = (complete: boolean): MicroOutcome['files'] => {
    run.cases = [...runCases(runs, suite.baseline), ...bufferCases(buffers)]
    const files: MicroOutcome['files'] = finishRun(run, opts.outDir, durationsCsv(run.started, run.cases, cpus), complete)
    if (buffers.length > 0) {
      files.buffersCsv = files.csv.replace(/\.csv$/, '-buffers.csv')
      writeAtomic(files.buffersCsv, buffersCsv(run.started, buffers))
    }
    return files
  }

  const skipReason = (t: MicroTest) => (t.case ? opts.gate.skipped.get(t.case) : undefined)
  // without bpf_stats (doctor's 'bpf_stats proof' case) the tests still run, without the proof run
  const stats = opts.gate.skipped.has('bpf_stats proof') ? 'off' : (opts.stats ?? 'proof')

  const runGroup = async (tests: MicroTest[], signal: AbortSignal, show: (line: string) => void) => {
    let i = 0
    while (i < tests.length) {
      signal.throwIfAborted()
      const t = tests[i]
      const skip = skipReason(t)
      if (skip) {
        if (t.kind === 'run') runs.push({test: t, status: 'skipped', reason: skip, cpus: [], notes: []})
        else buffers.push({test: t, status: 'skipped', reason: skip, samples: [], notes: []})
        i++
        continue
      }
      if (t.kind === 'buffer') {
        show(`${t.name} (${t.samples} samples × ${t.producers.length} × ${t.events.toLocaleString('en-US')} events)`)
        buffers.push(await runBufferTest(t as BufferTest, native, signal))
        i++
        continue
      }
      // consecutive runnable run tests go together (one load per object)
      let j = i
      while (j < tests.length && tests[j].kind === 'run' && !skipReason(tests[j])) j++
      const batch = tests.slice(i, j) as RunTest[]
      runs.push(...(await runTests(batch, {native, targetNs: suite.targetNs, runsPerSample: suite.runsPerSample, signal, stats, onTest: (x) => show(`${x.name} (${x.samples} samples × CPU ${x.cpus.join(',')})`)})))
      i = j
    }
  }

  const groups = groupsOf(suite.tests)
  let interrupted: NodeJS.Signals | undefined
  try {
    const {signal} = await withSignals(async (abort) => {
      if (opts.progress) await withProgress(groups, runGroup, abort)
      else for (const g of groups) await runGroup(g.tests, abort, () => {})
    })
    interrupted = signal
  } catch (error) {
    // interrupted (InterruptedError) or broken: keep what was measured, marked incomplete
    ;(error as {resultFiles?: unknown}).resultFiles = save(false)
    throw error
  }
  if (interrupted) throw Object.assign(new InterruptedError(interrupted, 'stopped after the last test'), {resultFiles: save(false)})
  const files = save(true)
  return {suite, run, runs, buffers, files}
}

async function withProgress(
  groups: {group: string; tests: MicroTest[]}[],
  runGroup: (tests: MicroTest[], signal: AbortSignal, show: (line: string) => void) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const list = new Listr(
    groups.map((g) => ({
      title: `${g.group} (${g.tests.length} test${g.tests.length === 1 ? '' : 's'})`,
      task: async (_ctx: unknown, task: {output: string}) => {
        let k = 0
        await runGroup(g.tests, signal, (line) => {
          k++
          task.output = `${Math.min(k, g.tests.length)}/${g.tests.length} ${line}`
        })
      },
    })),
    stderrListrOptions(),
  )
  await list.run()
}
