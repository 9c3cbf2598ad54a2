// QEMU and virtiofsd: where they are, how they are started, and whether KVM works on this machine.
import {accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {release} from 'node:os'
import {dirname, join} from 'node:path'
import {run, which} from '../exec.js'
import {VmError} from './errors.js'
import {VIRTIOFS_TAG} from './guest.js'

export type Accel = 'kvm' | 'tcg'

export function qemuBinary(env: NodeJS.ProcessEnv = process.env): string {
  const q = env.EBPFPERF_VM_QEMU || which('qemu-system-x86_64')
  if (!q) throw new VmError('QEMU is not installed: apt-get install qemu-system-x86 (ebpfperf vm boots the guest kernel with qemu-system-x86_64)')
  return q
}

export function virtiofsdBinary(): string {
  const p = [process.env.EBPFPERF_VM_VIRTIOFSD, '/usr/lib/qemu/virtiofsd', '/usr/libexec/virtiofsd', '/usr/lib/virtiofsd', which('virtiofsd')].find((x): x is string => Boolean(x) && existsSync(x as string))
  if (!p) throw new VmError('virtiofsd is not installed: apt-get install qemu-system-x86 (Debian 12 ships it in qemu-system-common) or virtiofsd')
  return p
}

export async function qemuVersion(qemu: string): Promise<string> {
  const r = await run(qemu, ['--version'], {timeoutMs: 10_000})
  return /version\s+(\S+)/.exec(r.stdout)?.[1] ?? 'unknown'
}

export interface QemuSpec {
  accel: Accel
  vmlinuz: string
  initramfs: string
  socket: string // virtiofsd's vhost-user socket
  console: string // serial console log file
  memoryMb: number
  cpus: number
  append?: string // extra kernel command line
}

/** The QEMU command line: q35, no default devices, host root over vhost-user-fs, serial console to a file. */
export function qemuArgs(s: QemuSpec): string[] {
  const cmdline = ['console=ttyS0', 'quiet', 'panic=-1', 'oops=panic', s.append].filter(Boolean).join(' ')
  return [
    '-nodefaults', '-no-user-config', '-no-reboot', '-display', 'none',
    '-machine', 'q35,memory-backend=mem',
    '-accel', s.accel,
    '-cpu', s.accel === 'kvm' ? 'host' : 'max',
    '-m', `${s.memoryMb}M`,
    '-smp', String(s.cpus),
    '-object', `memory-backend-memfd,id=mem,size=${s.memoryMb}M,share=on`,
    '-chardev', `socket,id=vfs,path=${s.socket}`,
    '-device', `vhost-user-fs-pci,chardev=vfs,tag=${VIRTIOFS_TAG}`,
    '-chardev', `file,id=con,path=${s.console}`,
    '-serial', 'chardev:con',
    '-kernel', s.vmlinuz,
    '-initrd', s.initramfs,
    '-append', cmdline,
  ]
}

/** virtiofsd sharing the host's / (the guest mounts it read-only; sandbox=chroot because / cannot be pivot_root'ed into). */
export function virtiofsdArgs(socket: string): string[] {
  return [`--socket-path=${socket}`, '-o', 'source=/,cache=always,sandbox=chroot,no_posix_lock,no_flock,log_level=warn']
}

// ---------------------------------------------------------------- KVM
export interface KvmMemo {
  ok: boolean
  reason: string
  hostRelease: string
  qemu: string
  when: string
}

const memoFile = (cacheDir: string) => join(dirname(cacheDir), 'kvm.json')

/** Whether /dev/kvm can be opened at all (cheap; says nothing about whether a guest really starts). */
export function kvmDevice(): {ok: boolean; reason: string} {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK)
    return {ok: true, reason: '/dev/kvm is accessible'}
  } catch (error) {
    return {ok: false, reason: `/dev/kvm ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not accessible'} (no hardware virtualization here)`}
  }
}

/** What the last KVM attempt on this host (same kernel, same QEMU) taught us. */
export function readKvmMemo(cacheDir: string, qemu: string): KvmMemo | undefined {
  try {
    const m = JSON.parse(readFileSync(memoFile(cacheDir), 'utf8')) as KvmMemo
    return m.hostRelease === release() && m.qemu === qemu ? m : undefined
  } catch {
    return undefined
  }
}

export function writeKvmMemo(cacheDir: string, qemu: string, ok: boolean, reason: string): void {
  try {
    mkdirSync(dirname(memoFile(cacheDir)), {recursive: true})
    writeFileSync(memoFile(cacheDir), `${JSON.stringify({ok, reason, hostRelease: release(), qemu, when: new Date().toISOString()}, null, 2)}\n`)
  } catch {
    // an unwritable cache only costs the next run another KVM attempt
  }
}
