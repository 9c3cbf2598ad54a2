import {Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {suiteFlags, suiteGate} from '../../suites/common.js'
import {defaultSuiteFile, loadSuite, onlineCpus, parseCpuList, runMicro, type MicroOutcome} from '../../suites/micro/index.js'
import {renderBufferTable, renderNotes, renderRunTable} from '../../suites/micro/report.js'
import {microAnswer} from '../../suites/micro/answer.js'
import {makeChalk} from '../../doctor/render.js'
import type {RunResult} from '../../results/store.js'
import {AB_DEFAULT_PAIRS, AB_MIN_PAIRS, abPairs, runMicroAb} from '../../suites/micro/ab.js'
import type {LoadOptions, Suite} from '../../suites/micro/spec.js'
import {compareAb, parsePercent, type Comparison} from '../../results/compare.js'
import {renderComparison} from '../../results/compare-render.js'
import {BadInputError} from '../../util/errors.js'
import {consumerFlags, consumersCommand} from '../../suites/micro/consumers-command.js'

export default class SuiteMicro extends BaseCommand {
  static summary = 'The eBPF runtime\'s own costs (program call, tail calls, maps, helpers) with BPF_PROG_TEST_RUN, and ring buffer vs perf buffer delivery.'
  static description = `Tests come from a suite file (default profiles/micro/default.suite.yml; --suite for your own, schema profiles/micro/suite.schema.json). Each test runs its program with BPF_PROG_TEST_RUN on every CPU from a thread pinned there (raw tracepoint programs: BPF_F_TEST_RUN_ON_CPU), the repeat count calibrated so a sample takes ~10 ms; a wrong return value fails the test, and one extra run with bpf_stats on must count exactly the runs asked for. Figures: ns per operation (the kernel's test-run timer / ops per run) per CPU, mean ± 95% CI, and over the baseline program. Ring/perf buffer tests fire a known number of events and fail unless produced = consumed + lost; they report events/s, MB/s, lost events, latency P50/P95/P99 and the producer's ns per event.
Writes RESULT.json (raw samples, environment), RESULT.csv (bpf_performance's columns) and RESULT-buffers.csv under --out.
With --ab OTHER: every run test from this build (A) and OTHER (B) in pairs, random order, and B against A from the pairs' ratios instead of the table.
Exit codes: 0 measured, 1 a test failed (--ab: or a regression beyond --threshold), 2 bad input (suite file, flags), 3 not root, 4 the kernel cannot run the suite, 130/143 interrupted (samples so far saved, marked incomplete).`

  static examples = [
    '<%= config.bin %> suite micro --quick',
    '<%= config.bin %> suite micro --cpus 0 --test \'hash_*\' --repeat 20',
    '<%= config.bin %> suite micro --test helper_trace_printk',
    '<%= config.bin %> suite micro --suite my.suite.yml --json',
  ]

  static enableJsonFlag = true
  static flags = {
    ...suiteFlags,
    repeat: Flags.integer({min: 2, max: 1000, description: 'samples per test (default: the suite file\'s, 10; --quick 3)'}),
    suite: Flags.string({description: 'suite file (*.suite.yml); default profiles/micro/default.suite.yml'}),
    cpus: Flags.string({description: 'CPUs to run on, e.g. 0,1 or 0-3 (default: the suite file\'s, all online CPUs)'}),
    test: Flags.string({multiple: true, description: 'run only these tests (names, * matches anything); tests marked default: false (helper_trace_printk) run only when named'}),
    'target-ms': Flags.integer({min: 1, max: 10000, description: 'measured time per sample that calibration aims for (default 10)'}),
    'runs-per-sample': Flags.integer({min: 1, max: 1000, description: 'test runs per sample, whose interquartile mean is the sample (default: the suite file\'s runs_per_sample, else 20)'}),
    'bpf-stats': Flags.string({options: ['proof', 'samples'], default: 'proof', description: 'proof: bpf_stats on for one extra run per CPU (run_cnt must match); samples: on during every sample (figures then include its cost)'}),
    progress: Flags.boolean({default: true, allowNo: true, description: 'progress on stderr (listr2)'}),
    ab: Flags.string({description: 'A/B: also run every selected test from OTHER (an object folder such as another build\'s bpf/.output, or a suite file; tests and programs match by name), one sample of each side per pair in random order; prints B against A and exits 1 on a regression beyond --threshold'}),
    ...consumerFlags,
    threshold: Flags.string({default: '5%', description: 'with --ab: a regression larger than this and significant (95%, corrected for the number of cases compared) fails the gate'}),
  }

  async run(): Promise<RunResult | Comparison> {
    const {flags} = await this.parse(SuiteMicro)
    let outcome: MicroOutcome
    try {
      const online = onlineCpus()
      const cpus = flags.cpus === undefined ? undefined : parseCpuList(flags.cpus, online)
      const load = {quick: flags.quick, cpus, samples: flags.repeat, tests: flags.test, targetMs: flags['target-ms'], runsPerSample: flags['runs-per-sample']}
      const suite = loadSuite(flags.suite ?? defaultSuiteFile(), load, online)
      const io = {log: (l: string) => this.log(l), note: (l: string) => this.note(l), json: this.jsonEnabled()}
      if (flags.consumers !== undefined || flags.consumer) return await consumersCommand(io, suite, {...flags, argv: this.argv})
      if (flags.ab) return await this.runAb(suite, flags.ab, load, flags)
      const gate = await suiteGate('micro')
      this.note(`micro: ${gate.verdict.text}`)
      this.note(`micro: ${suite.tests.length} tests from ${suite.file}${suite.notSelected ? ` (${suite.notSelected} not selected)` : ''}`)
      outcome = await runMicro(suite, {argv: this.argv, outDir: flags.out, gate, progress: flags.progress, stats: flags['bpf-stats'] as 'proof' | 'samples'})
    } catch (error) {
      return this.failSuite(error)
    }
    const failed = outcome.run.cases.filter((c) => c.status === 'failed').length
    const chalk = makeChalk()
    const paint = {bad: (s: string) => chalk.red(s), dim: (s: string) => chalk.dim(s), head: (s: string) => chalk.bold(s)}
    const cpus = [...new Set(outcome.runs.flatMap((o) => o.test.cpus))].sort((a, b) => a - b)
    if (!this.jsonEnabled()) {
      this.log(`${microAnswer(outcome.run).join('\n')}\n`)
      const runs = renderRunTable(outcome.runs, outcome.suite.baseline, cpus, paint)
      if (runs) this.log(`ns per operation: mean ± 95% CI over the samples (kernel test-run timer ÷ ops per run)\n${runs}`)
      const bufs = renderBufferTable(outcome.buffers, paint)
      if (bufs) this.log(`\nring buffer vs perf buffer (latency: consumer clock − bpf_ktime_get_ns in the event)\n${bufs}`)
      const notes = renderNotes(outcome.runs, outcome.buffers, outcome.suite.baseline, paint)
      if (notes.length) this.log(`\n${notes.join('\n')}`)
      this.log(`\nresult: ${outcome.files.json} (+ .csv${outcome.files.buffersCsv ? ', -buffers.csv' : ''})`)
    } else {
      for (const line of renderNotes(outcome.runs, outcome.buffers)) if (line.startsWith('FAILED')) this.note(line)
      this.note(`result: ${outcome.files.json}`)
    }
    if (failed > 0) process.exitCode = 1
    return outcome.run
  }

  /** --ab: pairs of A and B samples, then the paired comparison (the gate) instead of the per-test table. */
  private async runAb(suite: Suite, other: string, load: LoadOptions, flags: {repeat?: number; out: string; progress: boolean; threshold: string; 'bpf-stats': string}): Promise<Comparison> {
    const pairs = flags.repeat ?? Math.max(AB_DEFAULT_PAIRS, ...suite.tests.map((t) => t.samples))
    if (pairs < AB_MIN_PAIRS) throw new BadInputError(`--ab with --repeat ${pairs}: ${pairs} pairs a case are too few for a paired 95% CI that can tell a 5% change on a shared machine; give --repeat ${AB_MIN_PAIRS} or more (default ${AB_DEFAULT_PAIRS})`)
    const threshold = parsePercent(flags.threshold, '--threshold')
    for (const t of suite.tests) t.samples = pairs
    const ab = abPairs(suite, other, load)
    const skipped = suite.tests.length - ab.length
    const gate = await suiteGate('micro')
    this.note(`micro: ${gate.verdict.text}`)
    this.note(`micro --ab: ${ab.length} tests × ${pairs} pairs, A from ${suite.file}, B from ${other}${skipped ? ` (${skipped} buffer tests not paired)` : ''}`)
    const outcome = await runMicroAb(suite, ab, {argv: this.argv, outDir: flags.out, gate, progress: flags.progress, stats: flags['bpf-stats'] as 'proof' | 'samples'})
    const cmp = compareAb(Object.assign(outcome.run, {file: outcome.files.json}), {threshold})
    if (!this.jsonEnabled()) this.log(`${renderComparison(cmp, 'table')}\n\nresult: ${outcome.files.json} (compare it again: ebpfperf compare ${outcome.files.json})`)
    else this.note(`result: ${outcome.files.json}`)
    process.exitCode = cmp.exitCode
    return cmp
  }
}
