import {SuiteCommand} from '../../suites/suite.js'
import {BadInputError} from '../../util/errors.js'
import {microFlags} from '../../suites/micro/flags.js'
import {microAbSuite, microSuite} from '../../suites/micro/index.js'
import {microConsumersSuite} from '../../suites/micro/consumers-command.js'

export default class SuiteMicro extends SuiteCommand {
  static summary = 'The eBPF runtime\'s own costs (program call, tail calls, maps, helpers) with BPF_PROG_TEST_RUN, and ring buffer vs perf buffer delivery.'
  static description = `Tests come from a suite file (default profiles/micro/default.suite.yml; --suite for your own, schema profiles/micro/suite.schema.json). Each test runs its program with BPF_PROG_TEST_RUN on every CPU from a thread pinned there (raw tracepoint programs: BPF_F_TEST_RUN_ON_CPU), the repeat count calibrated so a sample takes ~10 ms; a wrong return value fails the test, and one extra run with bpf_stats on must count exactly the runs asked for. Figures: ns per operation (the kernel's test-run timer / ops per run) per CPU, mean ± 95% CI, and over the baseline program. Ring/perf buffer tests fire a known number of events and fail unless produced = consumed + lost; they report events/s, MB/s, lost events, latency P50/P95/P99 and the producer's ns per event.
Writes RESULT.json (raw samples, environment), RESULT.csv (bpf_performance's columns) and RESULT-buffers.csv under --out.
With --ab OTHER: every run test from this build (A) and OTHER (B) in pairs, random order, and B against A from the pairs' ratios instead of the table; --ab-base OTHER: OTHER is A and this build B (a CI job at the candidate commit, OTHER the base's build; --ab-commit names OTHER's commit).
Exit codes: 0 measured, 1 a test failed (--ab: or a regression beyond --threshold), 2 bad input (suite file, flags), 3 not root, 4 the kernel cannot run the suite, 130/143 interrupted (samples so far saved, marked incomplete).`

  static examples = [
    '<%= config.bin %> suite micro --quick',
    '<%= config.bin %> suite micro --cpus 0 --test \'hash_*\' --repeat 20',
    '<%= config.bin %> suite micro --test helper_trace_printk',
    '<%= config.bin %> suite micro --suite my.suite.yml --json',
    '<%= config.bin %> suite micro --quick --ab-base ../base/bpf/.output --ab-commit "$(git rev-parse HEAD~1)"',
  ]

  static flags = microFlags

  async run() {
    const {flags} = await this.parse(SuiteMicro)
    if (flags['ab-commit'] !== undefined && !flags.ab && !flags['ab-base']) return this.failWith(new BadInputError('--ab-commit names the commit of --ab\'s or --ab-base\'s OTHER: give one of them'))
    if (flags.consumers !== undefined || flags.consumer) return this.runSuite(microConsumersSuite, flags)
    return flags.ab || flags['ab-base'] ? this.runSuite(microAbSuite, flags) : this.runSuite(microSuite, flags)
  }
}
