import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {loadTopology} from '../../topology/model.js'
import {downLocked, type DownResult} from '../../topology/index.js'
import {effectiveCaps, hasCap} from '../../kernel/runtime.js'
import {PrivilegeError} from '../../util/errors.js'

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
  static flags = {all: Flags.boolean({description: 'every topology ebpfperf created, whatever its file, and the system changes of killed runs'})}

  async run(): Promise<DownResult> {
    const {args, flags} = await this.parse(TopologyDown)
    try {
      const eff = effectiveCaps()
      if (!hasCap('CAP_NET_ADMIN', eff) || !hasCap('CAP_SYS_ADMIN', eff)) throw new PrivilegeError('topology down needs root: run it with sudo')
      const topology = flags.all ? undefined : loadTopology(args.file).name
      const res = await downLocked({topology, all: flags.all})
      if (!this.jsonEnabled()) {
        const lines = [...res.removed.map((r) => `removed ${r}`), ...res.restored.map((r) => `restored ${r}`)]
        this.log(lines.length > 0 ? lines.join('\n') : `nothing to remove${topology ? ` for topology ${topology}` : ''}`)
        for (const l of res.leftAlone) this.log(`left alone: ${l}`)
      }
      for (const e of res.errors) this.note(`ebpfperf: ${e}`)
      if (res.errors.length > 0) process.exitCode = 1
      return res
    } catch (error) {
      return this.failWith(error)
    }
  }
}
