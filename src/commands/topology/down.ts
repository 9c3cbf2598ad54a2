import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import type {DownResult} from '../../topology/index.js'
import {topologyDownCommand} from '../../topology/fast.js'

export default class TopologyDown extends BaseCommand {
  static summary = 'Remove what ebpfperf created for a topology (or all of it), found by asking the kernel.'
  static description = `Kills processes left in its namespaces (iperf3 servers), removes the namespaces (their links and programs
go with them), host links marked as ebpfperf's, pins under /sys/fs/bpf/ebpfperf, and restores host sysctls that
--dut host changed. "Already gone" is success; errors are collected and the rest still runs. Works after a crash or
a kill -9 in the middle of up. --all also undoes what killed runs changed on the machine (a tracefs mount,
kernel.bpf_stats_enabled; recorded under /run/ebpfperf/changes before each change). A topology in use by a
running ebpfperf is refused (exit 2).`

  static examples = ['<%= config.bin %> topology down', '<%= config.bin %> topology down --all']
  static enableJsonFlag = true
  static args = {file: Args.string({description: 'topology file or shipped name; default netns/dut.topo.yml'})}
  // the fast path (src/topology/fast.ts, no oclif) takes the same options: keep them in step
  static flags = {all: Flags.boolean({description: 'every topology ebpfperf created, whatever its file, and the system changes of killed runs'})}

  async run(): Promise<DownResult> {
    const {args, flags} = await this.parse(TopologyDown)
    try {
      return await topologyDownCommand(args.file, {all: flags.all}, {note: (l) => this.note(l), log: (l) => this.log(l), json: this.jsonEnabled()})
    } catch (error) {
      return this.failWith(error)
    }
  }
}
