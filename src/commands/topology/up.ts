import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {topologyUpCommand} from '../../topology/fast.js'
import type {TopologyStatus} from '../../topology/status.js'

export default class TopologyUp extends BaseCommand {
  static summary = 'Build the two-namespace veth topology around the DUT, verify it forwards, print what was built.'
  static description = `Idempotent: a healthy topology is left alone; a half-built or drifted one is rebuilt. A failed step undoes
what was made, newest first. Verification pings client↔server both ways (IPv4 and IPv6) and checks the reply TTL
proves the DUT routed it. Exit codes: 0 up, 1 a step or the verification failed, 2 bad file or a name collision,
3 not root, 4 the kernel lacks something (see ebpfperf doctor --profile topology).`

  static examples = ['<%= config.bin %> topology up', '<%= config.bin %> topology up netns/twohop.topo.yml --json', '<%= config.bin %> topology up --dut host']
  static enableJsonFlag = true
  static args = {file: Args.string({description: 'topology file (*.topo.yml) or a shipped name (dut, direct, twohop); default netns/dut.topo.yml'})}
  // the fast path (src/topology/fast.ts, no oclif) takes the same options: keep them in step
  static flags = {
    dut: Flags.string({options: ['netns', 'host'], default: 'netns', description: 'where the DUT lives: its own namespace, or the host\'s (to test this machine itself)'}),
    verify: Flags.boolean({default: true, allowNo: true, description: 'ping through the DUT and check the TTL'}),
  }

  async run(): Promise<TopologyStatus> {
    const {args, flags} = await this.parse(TopologyUp)
    try {
      return await topologyUpCommand(args.file, {dut: flags.dut, verify: flags.verify}, {note: (l) => this.note(l), log: (l) => this.log(l), json: this.jsonEnabled()})
    } catch (error) {
      return this.failWith(error)
    }
  }
}
