// The flags `vm run` and `vm doctor` share, and turning them into VmOptions.
import {Flags} from '@oclif/core'
import type {VmOptions} from './index.js'

export const vmFlags = {
  kernel: Flags.string({char: 'k', required: true, description: 'guest kernel: a vmlinuz (bzImage) file, a linux-image .deb, or a Debian package name fetched with apt-get download and cached in /var/cache/ebpfperf/kernels (e.g. linux-image-cloud-amd64)'}),
  timeout: Flags.integer({default: 300, min: 1, description: 'seconds the whole guest run (boot + command) may take before QEMU is stopped'}),
  accel: Flags.string({options: ['auto', 'kvm', 'tcg'], default: 'auto', description: 'auto: KVM when it starts a guest here, else TCG (software emulation)'}),
  memory: Flags.integer({default: 1024, min: 256, description: 'guest memory in MiB'}),
  cpus: Flags.integer({default: 2, min: 1, description: 'guest CPUs'}),
  append: Flags.string({description: 'extra kernel command line (e.g. "lsm=lockdown,bpf")'}),
  modules: Flags.directory({description: 'with a vmlinuz file: its lib/modules/<release> folder (with modules.dep), if not next to it or in /lib/modules'}),
}

export interface VmFlagValues {
  kernel: string
  timeout: number
  accel: string
  memory: number
  cpus: number
  append?: string
  modules?: string
}

export function vmOptions(f: VmFlagValues): Omit<VmOptions, 'args'> {
  return {kernel: f.kernel, timeoutS: f.timeout, accel: f.accel as VmOptions['accel'], memoryMb: f.memory, cpus: f.cpus, append: f.append, modulesDir: f.modules}
}
