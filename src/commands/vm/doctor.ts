import {Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {withSignals, SIGNAL_EXIT} from '../../util/signals.js'
import {labelDocument, runInGuest, VmError, type VmLabel} from '../../vm/index.js'
import {vmFlags, vmOptions} from '../../vm/flags.js'
import {vmBanner, vmNotes} from '../../vm/render.js'
import {renderReport} from '../../doctor/render.js'
import type {DoctorReport} from '../../doctor/index.js'

export default class VmDoctor extends BaseCommand {
  static summary = 'Run doctor on another kernel booted under QEMU (short for `vm run --kernel K -- doctor --kconfig <its config>`).'
  static description = `Prints the guest's findings and verdicts; --json prints its doctor document labelled with the guest kernel ("vm"), which \`ebpfperf doctor --compare host.json guest.json\` sets side by side with another.
Exit codes: doctor's own (0 ok, 1 a required item fails in the guest); 2 when the kernel, QEMU or the boot fails.`

  static examples = ['<%= config.bin %> vm doctor --kernel linux-image-cloud-amd64', '<%= config.bin %> vm doctor --kernel linux-image-cloud-amd64 --profile tracing --json > cloud.json']
  static enableJsonFlag = true
  static flags = {
    ...vmFlags,
    profile: Flags.string({char: 'p', multiple: true, description: 'profile name or *.profile.yml (default: all shipped profiles)'}),
    verbose: Flags.boolean({char: 'v', description: 'show the evidence of passing checks too'}),
  }

  async run(): Promise<(DoctorReport & {vm: VmLabel}) | undefined> {
    const {flags} = await this.parse(VmDoctor)
    const args = (k: {config?: string}) => ['doctor', '--json', ...(k.config ? ['--kconfig', k.config] : []), ...(flags.profile ?? []).flatMap((p) => ['--profile', p])]
    try {
      const {result: r, signal} = await withSignals((abort) => runInGuest({...vmOptions(flags), args, copyBack: false, signal: abort, onStep: (l) => this.note(`vm: ${l}`), onStderr: (c) => process.stderr.write(c)}))
      if (signal) this.fail(`interrupted by ${signal}: QEMU stopped, temporary files removed`, SIGNAL_EXIT[signal])
      let report: DoctorReport & {vm: VmLabel}
      try {
        report = labelDocument(JSON.parse(r.stdout), r.vm) as DoctorReport & {vm: VmLabel}
      } catch {
        for (const l of vmNotes({...r, exitCode: r.exitCode || 1})) this.note(l)
        return this.fail(`doctor in the guest printed no report (exit ${r.exitCode})`, r.exitCode > 1 ? r.exitCode : 2)
      }
      for (const l of vmNotes({...r, exitCode: 0})) this.note(l)
      if (!this.jsonEnabled()) this.log(`${vmBanner(r.vm)}${r.vm.emulated ? '\n(emulated: a functional check, no timings to compare)' : ''}\n\n${renderReport(report, {verbose: flags.verbose})}`)
      process.exitCode = r.exitCode
      return report
    } catch (error) {
      if (error instanceof VmError && error.consoleTail.length > 0) this.note(['vm: guest console (last lines):', ...error.consoleTail.map((l) => `  | ${l}`)].join('\n'))
      return this.failWith(error)
    }
  }
}
