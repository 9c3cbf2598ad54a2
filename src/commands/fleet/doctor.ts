import {Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {readInventory} from '../../fleet/inventory.js'
import {fleetDoctor, type HostResult} from '../../fleet/index.js'
import {buildMatrix, renderMatrix, type Matrix} from '../../matrix/table.js'

export default class FleetDoctor extends BaseCommand {
  static summary = 'Run doctor on every host of an Ansible-style inventory over OpenSSH and show one matrix (hosts as columns).'
  static description = `Ships a self-contained doctor (node, the doctor bundle, profiles and the native addon) to each host with ssh (BatchMode, one ControlMaster connection per host), unpacks it into a temporary folder that is removed when doctor ends, and gathers the reports. Inventory: INI ([group] lines of "name ansible_host=… ansible_port=… ansible_user=… ansible_ssh_private_key_file=…") or YAML (all: {hosts: …, children: …}). A host that cannot be reached, refuses the key, or has no root shows why in its column; the others still report.
Exit codes: 0 every host reported and nothing required fails, 1 a required check fails or a host could not be judged, 2 bad input or no host judged.`

  static examples = ['<%= config.bin %> fleet doctor --inventory hosts.ini', '<%= config.bin %> fleet doctor --inventory hosts.yml --profile tracing --json']
  static enableJsonFlag = true

  static flags = {
    inventory: Flags.string({required: true, description: 'Ansible-style inventory (INI or YAML)'}),
    profile: Flags.string({char: 'p', multiple: true, description: 'doctor profile(s) to run on each host (default: all)'}),
    live: Flags.boolean({default: true, allowNo: true, description: 'live probes on each host (--no-live: config and BTF only, no root needed there)'}),
    reasons: Flags.boolean({description: 'print the reason under each cell that does not pass'}),
    all: Flags.boolean({description: 'list the rows that are the same on every host too'}),
    timeout: Flags.integer({default: 180, description: 'seconds each host may take'}),
  }

  async run(): Promise<{hosts: Omit<HostResult, 'report'>[]; matrix: Matrix}> {
    const {flags} = await this.parse(FleetDoctor)
    let results: HostResult[]
    try {
      const hosts = readInventory(flags.inventory)
      const args = [...(flags.profile ?? []).flatMap((p) => ['--profile', p]), ...(flags.live ? [] : ['--no-live'])]
      results = await fleetDoctor(hosts, args, flags.timeout * 1000)
    } catch (error) {
      return this.failWith(error)
    }
    const matrix = buildMatrix(results.map((r) => ({label: r.name, report: r.report, error: r.report ? undefined : `${r.outcome}: ${r.why}`})))
    if (!this.jsonEnabled()) {
      for (const r of results) this.log(`${r.name.padEnd(16)} ${r.address.padEnd(28)} ${r.outcome}${r.why ? `: ${r.why}` : ''} (${r.seconds} s)`)
      this.log('')
      this.log(renderMatrix(matrix, {reasons: flags.reasons, all: flags.all}))
    }
    const unjudged = results.some((r) => !r.report)
    process.exitCode = matrix.exitCode === 2 ? 2 : unjudged ? 1 : matrix.exitCode
    return {hosts: results.map(({report: _r, ...rest}) => rest), matrix}
  }
}
