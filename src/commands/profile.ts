import {Flags} from '@oclif/core'
import {BaseCommand} from '../util/cli.js'
import {profile, type ProfileOutcome} from '../profile/run.js'

export default class Profile extends BaseCommand {
  static summary = 'CPU profile of a suite run: perf record -g while it runs, the stacks folded, a flame graph page with the JITed BPF programs (bpf_prog_…) in it.'
  static description = `Samples the suite command given after -- (and its threads, where BPF_PROG_TEST_RUN runs the programs) with a
software clock event, so it works in a VM without a hardware PMU. Writes perf.data, stacks.folded (one line per
stack, for any flame graph tool), flamegraph.html (opens offline) and profile.json into --out, and the suite's results
into --out/results unless the suite command names its own --out; ebpfperf report DIR shows the run with its flame graph. Needs perf (Debian: linux-perf), root or a low
kernel.perf_event_paranoid, and net.core.bpf_jit_kallsyms=1; exit 2 when one is missing. Exits with the suite's exit code.`

  static examples = ['<%= config.bin %> profile -- suite micro --quick --test hash_1k_read', '<%= config.bin %> profile --out prof --frequency 1999 -- suite micro --quick --test baseline --cpus 0']
  static enableJsonFlag = true
  static strict = false
  static flags = {
    out: Flags.string({default: 'profile', description: 'folder for perf.data, stacks.folded, flamegraph.html and the results'}),
    frequency: Flags.integer({default: 999, min: 1, max: 20_000, description: 'samples per second per CPU (an odd rate avoids beating with periodic work)'}),
  }

  async run(): Promise<ProfileOutcome> {
    const {argv, flags} = await this.parse(Profile)
    try {
      const outcome = await profile(argv as string[], {out: flags.out, frequency: flags.frequency})
      if (outcome.output.stderr) process.stderr.write(`${outcome.output.stderr}\n`)
      if (!this.jsonEnabled()) {
        if (outcome.output.stdout) this.log(outcome.output.stdout)
        const bpf = outcome.bpf.map((b) => `${b.name} in ${((100 * b.samples) / Math.max(1, outcome.samples)).toFixed(1)}%`).join(', ')
        this.log(`profile: ${outcome.samples} samples; BPF programs: ${bpf || 'none in the stacks'}`)
        this.log(`flame graph: ${outcome.files.html} (stacks: ${outcome.files.folded})`)
      }
      process.exitCode = outcome.exitCode
      return outcome
    } catch (error) {
      return this.failWith(error)
    }
  }
}
