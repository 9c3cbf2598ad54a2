import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {loadTopology} from '../../topology/model.js'
import {renderStatus, topologyStatus, type TopologyStatus} from '../../topology/status.js'
import {makeChalk} from '../../doctor/render.js'

export default class TopologyStatusCommand extends BaseCommand {
  static summary = 'Show what exists now, read from the kernel: namespaces, links, addresses, routes, forwarding, XDP/TC programs, offloads, drift from the file.'
  static examples = ['<%= config.bin %> topology status', '<%= config.bin %> topology status --json']
  static enableJsonFlag = true
  static args = {file: Args.string({description: 'topology file or shipped name; default netns/dut.topo.yml'})}
  static flags = {dut: Flags.string({options: ['netns', 'host'], default: 'netns', description: 'the --dut the topology was brought up with'})}

  async run(): Promise<TopologyStatus> {
    const {args, flags} = await this.parse(TopologyStatusCommand)
    try {
      const st = await topologyStatus(loadTopology(args.file, {dut: flags.dut as 'netns' | 'host'}))
      if (!this.jsonEnabled()) this.log(renderStatus(st, makeChalk()))
      return st
    } catch (error) {
      return this.failWith(error)
    }
  }
}
