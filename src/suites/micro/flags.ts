// `suite micro`'s flags (with those every suite has).
import {Flags, type Interfaces} from '@oclif/core'
import {suiteFlags} from '../common.js'
import {consumerFlags} from './consumers-command.js'

export const microFlags = {
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
  'ab-base': Flags.string({exclusive: ['ab'], description: 'as --ab, with OTHER as A (the base, e.g. the previous commit\'s build) and this build as B (the candidate): the A/B run of a CI job at the candidate commit'}),
  'ab-commit': Flags.string({description: 'with --ab or --ab-base: the commit OTHER was built from, kept in the result (history push files an A/B result under its candidate\'s commit; issues name both)'}),
  ...consumerFlags,
  threshold: Flags.string({default: '5%', description: 'with --ab: a regression larger than this and significant (95%, corrected for the number of cases compared) fails the gate'}),
}

export type MicroFlags = Interfaces.InferredFlags<typeof microFlags>
