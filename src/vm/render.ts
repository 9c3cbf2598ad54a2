// Human lines about a guest run: which kernel, which accelerator, how long, what came back.
import type {VmLabel, VmRunResult} from './index.js'

const s = (ms?: number) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`)

export function kernelLabel(vm: VmLabel): string {
  const p = vm.kernel.package
  return `${vm.kernel.release}${p ? ` (${p.name} ${p.version})` : ` (${vm.kernel.input})`}`
}

/** One line: guest kernel, accelerator, timings; TCG runs say their timings are not comparable. */
export function vmBanner(vm: VmLabel): string {
  const accel = vm.accel === 'kvm' ? 'QEMU/KVM' : 'QEMU TCG (software emulation)'
  const t = vm.timings
  return `guest kernel ${kernelLabel(vm)} under ${accel}: init after ${s(t.bootMs)}, command ${s(t.commandMs)}, total ${s(t.totalMs)}`
}

export function vmNotes(r: VmRunResult): string[] {
  const out = [`vm: ${vmBanner(r.vm)}`]
  if (r.vm.kvm) out.push(`vm: KVM not used: ${r.vm.kvm}`)
  if (r.vm.emulated) out.push(`vm: note: ${r.vm.note}`)
  if (r.files.length > 0) out.push(`vm: brought back ${r.files.length} file${r.files.length === 1 ? '' : 's'}: ${r.files.slice(0, 8).join(', ')}${r.files.length > 8 ? ', …' : ''}`)
  if (r.exitCode !== 0) {
    out.push(`vm: the guest command \`${r.vm.command.join(' ')}\` exited ${r.exitCode}`)
    if (r.console.length > 0) out.push('vm: guest console (last lines):', ...r.console.map((l) => `  | ${l}`))
  }
  return out
}
