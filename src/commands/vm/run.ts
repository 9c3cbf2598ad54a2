import {Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {withSignals, SIGNAL_EXIT} from '../../util/signals.js'
import {labelDocument, runInGuest, VmError, type VmRunResult} from '../../vm/index.js'
import {vmFlags, vmOptions} from '../../vm/flags.js'
import {vmNotes} from '../../vm/render.js'

export default class VmRun extends BaseCommand {
  static summary = 'Boot another kernel under QEMU and run an ebpfperf command inside it, as root, on this machine\'s userspace.'
  static description = `The guest sees the host's / read-only (virtiofs) under a tmpfs overlay, with proc, sys, tracefs, debugfs, bpffs, cgroup2 and securityfs mounted; the command runs in the same working folder. Its stdout, stderr and exit code come back; files it writes under its working folder or --out come back to the same paths (JSON results labelled with the guest kernel). KVM is used when it starts a guest here, else TCG: emulated timings are functional checks only.
Exit codes: the guest command's own; 2 when the kernel, QEMU or the boot fails (with the console's last lines); 130/143 interrupted.`

  static examples = ['<%= config.bin %> vm run --kernel linux-image-cloud-amd64 -- doctor --profile tracing', '<%= config.bin %> vm run --kernel ./vmlinuz-6.12 --modules ./lib/modules/6.12.0 -- doctor --json', '<%= config.bin %> vm run -k linux-image-cloud-amd64 -- suite tracing --quick --out results/']
  static strict = false
  static usage = 'vm run --kernel FILE|DEB|PACKAGE [--timeout S] [--accel auto|kvm|tcg] [--json] -- <ebpfperf command …>'
  static enableJsonFlag = true
  static flags = {...vmFlags, 'copy-back': Flags.boolean({default: true, allowNo: true, description: 'bring back the files the command wrote under its working folder and --out'})}

  async run(): Promise<unknown> {
    const {flags, argv} = await this.parse(VmRun)
    // everything after the first `--`, verbatim (oclif's argv drops or reorders a --json on both sides)
    const dash = this.argv.indexOf('--')
    const rest = dash === -1 ? (argv as string[]) : this.argv.slice(dash + 1)
    const args = rest.slice(rest[0] === 'ebpfperf' ? 1 : 0)
    if (args.length === 0) this.fail('nothing to run: put the ebpfperf command after --, e.g. `ebpfperf vm run --kernel linux-image-cloud-amd64 -- doctor`', 2)
    const buffered = this.jsonEnabled() || args.includes('--json')
    let r: VmRunResult
    try {
      const {result, signal} = await withSignals((abort) => runInGuest({...vmOptions(flags), args, copyBack: flags['copy-back'], signal: abort, colour: Boolean(process.stdout.isTTY),
        onStep: (l) => this.note(`vm: ${l}`), onStderr: (c) => process.stderr.write(c), onStdout: buffered ? undefined : (c) => process.stdout.write(c)}))
      if (signal) this.fail(`interrupted by ${signal}: QEMU stopped, temporary files removed`, SIGNAL_EXIT[signal])
      r = result
    } catch (error) {
      if (error instanceof VmError && error.consoleTail.length > 0) this.note(['vm: guest console (last lines):', ...error.consoleTail.map((l) => `  | ${l}`)].join('\n'))
      return this.failWith(error)
    }
    for (const l of vmNotes(r)) this.note(l)
    process.exitCode = r.exitCode
    let guest: unknown
    try {
      guest = args.includes('--json') ? labelDocument(JSON.parse(r.stdout), r.vm) : undefined
    } catch {
      guest = undefined
    }
    if (this.jsonEnabled()) return {schema: 'ebpfperf/vm-run/v1', vm: r.vm, exitCode: r.exitCode, stdout: guest ? undefined : r.stdout, stderr: r.stderr, files: r.files, guest}
    if (buffered) this.log(guest ? JSON.stringify(guest, null, 2) : r.stdout)
    return undefined
  }
}
