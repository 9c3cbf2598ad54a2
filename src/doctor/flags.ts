// doctor's options, as plain data: the oclif command (src/commands/doctor.ts) and the fast path that
// bin/run.js takes for a plain `ebpfperf doctor` (src/doctor/fast.ts, no oclif) are both built from it.

export interface FlagSpec {
  type: 'string' | 'boolean'
  char?: string
  multiple?: boolean
  /** boolean with a --no- form */
  allowNo?: boolean
  default?: boolean
  dependsOn?: string[]
  description: string
  /** Only the full CLI handles it (it changes the machine, or reads other input): the fast path steps aside. */
  fullCliOnly?: boolean
}

export const DOCTOR_FLAGS = {
  profile: {type: 'string', char: 'p', multiple: true, description: 'profile name (kernel-config, accelerator, tracing, micro) or path to a *.profile.yml; default: all shipped profiles'},
  kconfig: {type: 'string', description: 'kernel config file (plain or .gz) instead of discovering the running kernel\'s'},
  btf: {type: 'string', description: 'vmlinux BTF (raw BTF or an ELF with .BTF) instead of /sys/kernel/btf/vmlinux'},
  live: {type: 'boolean', default: true, allowNo: true, description: 'run live probes on this machine (--no-live: judge another kernel offline from --kconfig/--btf, no root needed)'},
  fix: {type: 'boolean', fullCliOnly: true, description: 'apply safe runtime fixes (mount bpffs/tracefs/securityfs, set sysctls), printing each command first'},
  'dry-run': {type: 'boolean', fullCliOnly: true, dependsOn: ['fix'], description: 'with --fix: print the commands only'},
  verbose: {type: 'boolean', char: 'v', description: 'show the evidence of passing checks too'},
  cmdline: {type: 'string', fullCliOnly: true, description: 'a kernel command line saved from another host (cat /proc/cmdline > FILE): judge its lsm=, lockdown=, mitigations=, nomodule'},
  sysctl: {type: 'string', fullCliOnly: true, description: 'sysctls saved from another host (sysctl -a > FILE): judge the BPF-related ones'},
  object: {type: 'string', multiple: true, fullCliOnly: true, description: 'a BPF object (FILE.bpf.o) to judge: per program its attach target, helpers, maps, CO-RE relocations and, live, the verifier\'s verdict and an attach (repeatable)'},
  program: {type: 'string', multiple: true, fullCliOnly: true, description: 'with --object: only these programs'},
  compare: {type: 'string', multiple: true, fullCliOnly: true, description: 'two saved `doctor --json` (or `vm doctor --json`) reports, A then B: print the findings whose status differs and the verdicts side by side'},
} as const satisfies Record<string, FlagSpec>

