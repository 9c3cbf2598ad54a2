import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {loadTopology} from '../../topology/model.js'
import {upLocked, type UpResult} from '../../topology/index.js'
import {preflight} from '../../topology/preflight.js'
import {renderStatus, topologyStatus, type TopologyStatus} from '../../topology/status.js'
import {makeChalk} from '../../doctor/render.js'

export default class TopologyUp extends BaseCommand {
  static summary = 'Build the two-namespace veth topology around the DUT, verify it forwards, print what was built.'
  static description = `Idempotent: a healthy topology is left alone; a half-built or drifted one is rebuilt. A failed step undoes
what was made, newest first. Verification pings client↔server both ways (IPv4 and IPv6) and checks the reply TTL
proves the DUT routed it. Exit codes: 0 up, 1 a step or the verification failed, 2 bad file or a name collision,
3 not root, 4 the kernel lacks something (see ebpfperf doctor --profile topology).`

  static examples = ['<%= config.bin %> topology up', '<%= config.bin %> topology up netns/twohop.topo.yml --json', '<%= config.bin %> topology up --dut host']
  static enableJsonFlag = true
  static args = {file: Args.string({description: 'topology file (*.topo.yml) or a shipped name (dut, direct, twohop); default netns/dut.topo.yml'})}
  static flags = {
    dut: Flags.string({options: ['netns', 'host'], default: 'netns', description: 'where the DUT lives: its own namespace, or the host\'s (to test this machine itself)'}),
    verify: Flags.boolean({default: true, allowNo: true, description: 'ping through the DUT and check the TTL'}),
  }

  async run(): Promise<TopologyStatus> {
    const {args, flags} = await this.parse(TopologyUp)
    try {
      const plan = loadTopology(args.file, {dut: flags.dut as 'netns' | 'host'})
      await preflight()
      const t0 = performance.now()
      // the status is read and printed inside up's signal handling: an interrupt before it is printed removes the topology
      const read = async (result: UpResult) => ({st: {...(await topologyStatus(plan, {details: false})), changed: result.changed, verified: result.verified}, rebuilt: result.rebuilt})
      const print = ({st, rebuilt}: {st: TopologyStatus; rebuilt: string[]}) => {
        if (rebuilt.length > 0) this.note(`rebuilt because: ${rebuilt.join('; ')}`)
        if (!this.jsonEnabled()) this.log(`${renderStatus(st, makeChalk())}\n  (${Math.round(performance.now() - t0)} ms)`)
      }
      return (await upLocked(plan, {verify: flags.verify, onStep: (s) => this.note(`  ${s}`)}, read, print)).st
    } catch (error) {
      return this.failWith(error)
    }
  }
}
