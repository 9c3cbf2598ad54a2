import {BaseCommand} from '../util/cli.js'
import TopologyDown from './topology/down.js'

export default class Cleanup extends BaseCommand {
  static summary = 'Put the machine back as it was before ebpfperf: `topology down --all`.'
  static description = `Removes every topology ebpfperf made (namespaces, marked host links, pins, staged namespaces) and undoes what
killed runs changed on the machine (a tracefs mount, kernel.bpf_stats_enabled), as recorded under /run/ebpfperf/changes
before each change was made. Refused (exit 2) while a topology is in use by a running ebpfperf.`

  static examples = ['<%= config.bin %> cleanup', '<%= config.bin %> cleanup --json']
  static enableJsonFlag = true

  async run(): Promise<unknown> {
    await this.parse(Cleanup)
    return TopologyDown.run(['--all', ...this.argv], this.config)
  }
}
