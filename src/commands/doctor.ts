import {Flags} from '@oclif/core'
import {BaseCommand} from '../util/cli.js'
import {DOCTOR_FLAGS as F} from '../doctor/flags.js'
import {applyFixes, runDoctor, safeFixes, type DoctorOptions, type DoctorReport} from '../doctor/index.js'
import {renderReport} from '../doctor/render.js'
import {compareDoctorFiles, renderDoctorComparison, type DoctorComparison} from '../doctor/compare.js'

export default class Doctor extends BaseCommand {
  static summary = 'Check whether this kernel (or another one, offline) can run eBPF and each ebpfperf suite.'
  static description = `Reads the kernel config (--kconfig, $EBPFPERF_KCONFIG, /proc/config.gz, /boot/config-$r, /lib/modules/$r/config, /usr/lib/modules/$r/config, /boot/config), the vmlinux BTF, sysctls, mounts, capabilities and lockdown, and runs live bpf() probes that load and attach tiny programs. A live probe outranks the config file; disagreements are reported. Ends with a verdict per suite.
Exit codes: 0 ok, 1 a required item fails, 2 bad input, 3 not enough privilege to probe.`

  static examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --profile tracing --json', '<%= config.bin %> doctor --no-live --kconfig ./config-6.1 --btf ./vmlinux', '<%= config.bin %> doctor --fix --dry-run', '<%= config.bin %> doctor --object bpf/.output/tracing.bpf.o', '<%= config.bin %> doctor --object app.bpf.o --no-live --btf ./vmlinux --kconfig ./config-6.1', '<%= config.bin %> doctor --no-live --kconfig host.config --btf host.vmlinux --cmdline host.cmdline --sysctl host.sysctl']
  static enableJsonFlag = true

  // names, kinds and texts from DOCTOR_FLAGS, which the fast path (src/doctor/fast.ts) also reads; a test keeps them equal
  static flags = {
    profile: Flags.string({char: F.profile.char, multiple: true, description: F.profile.description}),
    kconfig: Flags.string({description: F.kconfig.description, aliases: ['config']}),
    btf: Flags.string({description: F.btf.description}),
    live: Flags.boolean({default: F.live.default, allowNo: true, description: F.live.description}),
    fix: Flags.boolean({description: F.fix.description}),
    'dry-run': Flags.boolean({description: F['dry-run'].description, dependsOn: [...F['dry-run'].dependsOn]}),
    verbose: Flags.boolean({char: F.verbose.char, description: F.verbose.description}),
    cmdline: Flags.string({description: F.cmdline.description}),
    sysctl: Flags.string({description: F.sysctl.description}),
    object: Flags.string({multiple: true, description: F.object.description}),
    program: Flags.string({multiple: true, description: F.program.description, dependsOn: ['object']}),
    compare: Flags.string({multiple: true, description: F.compare.description}),
  }

  async run(): Promise<DoctorReport | DoctorComparison> {
    const {flags} = await this.parse(Doctor)
    if (flags.compare) {
      try {
        const c = compareDoctorFiles(flags.compare)
        if (!this.jsonEnabled()) this.log(renderDoctorComparison(c))
        return c
      } catch (error) {
        return this.failWith(error)
      }
    }
    if (flags.fix && !flags.live) this.fail('--fix changes this machine and cannot be combined with --no-live', 2)
    const opts: DoctorOptions = {profiles: flags.profile, kconfig: flags.kconfig, btf: flags.btf, live: flags.live}
    ;[opts.objects, opts.programs, opts.cmdlineFile, opts.sysctlFile] = [flags.object, flags.program, flags.cmdline, flags.sysctl]
    let report: DoctorReport
    try {
      report = await runDoctor(opts)
      if (flags.fix) {
        const fixes = safeFixes(report)
        if (fixes.length === 0) this.note('doctor --fix: nothing safe to fix at run time')
        const applied = await applyFixes(fixes, flags['dry-run'], (cmd) => this.note(`${flags['dry-run'] ? '(dry run) ' : '+ '}${cmd}`))
        for (const a of applied.filter((x) => !x.ok)) this.note(`  failed: ${a.command}: ${a.error}`)
        if (!flags['dry-run'] && applied.length > 0) report = await runDoctor(opts)
      }
    } catch (error) {
      return this.failWith(error)
    }
    if (!this.jsonEnabled()) this.log(renderReport(report, {verbose: flags.verbose}))
    process.exitCode = report.exitCode
    return report
  }
}
