// What a program's ELF section says about it, as libbpf reads it (its section_defs table, libbpf 1.x):
// the program type, the expected attach type, how it attaches (the addon's trace kinds where one fits),
// the target named in the section (or none: the loader picks it at run time), and the kernel options the
// attachment needs. Used offline, where libbpf is not asked, and to name the attach target live.
import type {TraceKind} from '../native.js'

export type TargetKind = 'btf-func' | 'lsm-hook' | 'kallsyms' | 'tracepoint' | 'raw-tracepoint' | 'uprobe' | 'iter' | 'none'

export interface SectionInfo {
  /** key of PROG_TYPES (src/kernel/uapi.ts), as in enum bpf_prog_type without the prefix */
  progType: string
  /** enum bpf_attach_type name (BPF_TRACE_FENTRY …), when the section implies one */
  attachType?: string
  /** the addon's trace kind (traceLoad/traceAttach), for programs the tracing code can load and attach */
  trace?: TraceKind
  targetKind: TargetKind
  /** the target named in the section ('' when the loader must choose one) */
  target: string
  /** kernel options the attachment needs (all of them) */
  kconfig: string[]
  /** the placeholder a live check attaches to when the section names no target */
  defaultTarget?: string
}

interface Def {
  prefix: string
  progType: string
  attachType?: string
  trace?: TraceKind
  targetKind: TargetKind
  kconfig?: string[]
  defaultTarget?: string
}

// Longest prefixes first where one is the start of another (kprobe.multi before kprobe).
const DEFS: Def[] = [
  {prefix: 'kprobe.multi', progType: 'kprobe', attachType: 'BPF_TRACE_KPROBE_MULTI', trace: 'kprobe.multi', targetKind: 'kallsyms', kconfig: ['KPROBES', 'FPROBE'], defaultTarget: 'do_getpgid'},
  {prefix: 'kretprobe.multi', progType: 'kprobe', attachType: 'BPF_TRACE_KPROBE_MULTI', targetKind: 'kallsyms', kconfig: ['KPROBES', 'FPROBE']},
  {prefix: 'kprobe', progType: 'kprobe', trace: 'kprobe', targetKind: 'kallsyms', kconfig: ['KPROBES', 'KPROBE_EVENTS'], defaultTarget: 'do_getpgid'},
  {prefix: 'kretprobe', progType: 'kprobe', trace: 'kretprobe', targetKind: 'kallsyms', kconfig: ['KPROBES', 'KPROBE_EVENTS'], defaultTarget: 'do_getpgid'},
  {prefix: 'ksyscall', progType: 'kprobe', targetKind: 'kallsyms', kconfig: ['KPROBES', 'KPROBE_EVENTS']},
  {prefix: 'uprobe.multi', progType: 'kprobe', attachType: 'BPF_TRACE_UPROBE_MULTI', targetKind: 'uprobe', kconfig: ['UPROBES']},
  {prefix: 'uprobe.s', progType: 'kprobe', trace: 'uprobe', targetKind: 'uprobe', kconfig: ['UPROBE_EVENTS'], defaultTarget: ''},
  {prefix: 'uprobe', progType: 'kprobe', trace: 'uprobe', targetKind: 'uprobe', kconfig: ['UPROBE_EVENTS'], defaultTarget: ''},
  {prefix: 'uretprobe', progType: 'kprobe', trace: 'uretprobe', targetKind: 'uprobe', kconfig: ['UPROBE_EVENTS'], defaultTarget: ''},
  {prefix: 'usdt', progType: 'kprobe', targetKind: 'uprobe', kconfig: ['UPROBE_EVENTS']},
  {prefix: 'tracepoint', progType: 'tracepoint', trace: 'tracepoint', targetKind: 'tracepoint', kconfig: ['TRACEPOINTS'], defaultTarget: 'syscalls/sys_enter_getpgid'},
  {prefix: 'tp_btf', progType: 'tracing', attachType: 'BPF_TRACE_RAW_TP', targetKind: 'raw-tracepoint', kconfig: ['DEBUG_INFO_BTF']},
  {prefix: 'tp', progType: 'tracepoint', trace: 'tracepoint', targetKind: 'tracepoint', kconfig: ['TRACEPOINTS'], defaultTarget: 'syscalls/sys_enter_getpgid'},
  {prefix: 'raw_tracepoint.w', progType: 'raw_tracepoint_writable', targetKind: 'raw-tracepoint'},
  {prefix: 'raw_tracepoint', progType: 'raw_tracepoint', trace: 'raw_tracepoint', targetKind: 'raw-tracepoint', defaultTarget: 'sys_enter'},
  {prefix: 'raw_tp.w', progType: 'raw_tracepoint_writable', targetKind: 'raw-tracepoint'},
  {prefix: 'raw_tp', progType: 'raw_tracepoint', trace: 'raw_tracepoint', targetKind: 'raw-tracepoint', defaultTarget: 'sys_enter'},
  {prefix: 'fentry', progType: 'tracing', attachType: 'BPF_TRACE_FENTRY', trace: 'fentry', targetKind: 'btf-func', kconfig: ['DEBUG_INFO_BTF', 'DYNAMIC_FTRACE_WITH_DIRECT_CALLS'], defaultTarget: 'do_getpgid'},
  {prefix: 'fexit', progType: 'tracing', attachType: 'BPF_TRACE_FEXIT', trace: 'fexit', targetKind: 'btf-func', kconfig: ['DEBUG_INFO_BTF', 'DYNAMIC_FTRACE_WITH_DIRECT_CALLS'], defaultTarget: 'do_getpgid'},
  {prefix: 'fmod_ret', progType: 'tracing', attachType: 'BPF_MODIFY_RETURN', targetKind: 'btf-func', kconfig: ['DEBUG_INFO_BTF', 'FUNCTION_ERROR_INJECTION']},
  {prefix: 'lsm_cgroup', progType: 'lsm', attachType: 'BPF_LSM_CGROUP', targetKind: 'lsm-hook', kconfig: ['BPF_LSM']},
  {prefix: 'lsm', progType: 'lsm', attachType: 'BPF_LSM_MAC', targetKind: 'lsm-hook', kconfig: ['BPF_LSM', 'DEBUG_INFO_BTF']},
  {prefix: 'iter', progType: 'tracing', attachType: 'BPF_TRACE_ITER', targetKind: 'iter'},
  {prefix: 'syscall', progType: 'syscall', targetKind: 'none'},
  {prefix: 'xdp.frags', progType: 'xdp', targetKind: 'none'},
  {prefix: 'xdp', progType: 'xdp', targetKind: 'none'},
  {prefix: 'tcx', progType: 'sched_cls', targetKind: 'none', kconfig: ['NET_XGRESS']},
  {prefix: 'tc', progType: 'sched_cls', targetKind: 'none', kconfig: ['NET_CLS_BPF']},
  {prefix: 'classifier', progType: 'sched_cls', targetKind: 'none', kconfig: ['NET_CLS_BPF']},
  {prefix: 'action', progType: 'sched_act', targetKind: 'none', kconfig: ['NET_ACT_BPF']},
  {prefix: 'socket', progType: 'socket_filter', targetKind: 'none'},
  {prefix: 'sk_reuseport', progType: 'sk_reuseport', targetKind: 'none'},
  {prefix: 'cgroup_skb', progType: 'cgroup_skb', targetKind: 'none', kconfig: ['CGROUP_BPF']},
  {prefix: 'cgroup/sock', progType: 'cgroup_sock', targetKind: 'none', kconfig: ['CGROUP_BPF']},
  {prefix: 'cgroup/dev', progType: 'cgroup_device', targetKind: 'none', kconfig: ['CGROUP_BPF']},
  {prefix: 'cgroup/sysctl', progType: 'cgroup_sysctl', targetKind: 'none', kconfig: ['CGROUP_BPF']},
  {prefix: 'cgroup', progType: 'cgroup_sock_addr', targetKind: 'none', kconfig: ['CGROUP_BPF']},
  {prefix: 'sockops', progType: 'sock_ops', targetKind: 'none', kconfig: ['CGROUP_BPF']},
  {prefix: 'sk_skb', progType: 'sk_skb', targetKind: 'none', kconfig: ['BPF_STREAM_PARSER']},
  {prefix: 'sk_msg', progType: 'sk_msg', targetKind: 'none', kconfig: ['BPF_STREAM_PARSER']},
  {prefix: 'sk_lookup', progType: 'sk_lookup', targetKind: 'none'},
  {prefix: 'flow_dissector', progType: 'flow_dissector', targetKind: 'none'},
  {prefix: 'perf_event', progType: 'perf_event', targetKind: 'none', kconfig: ['PERF_EVENTS']},
  {prefix: 'lwt_in', progType: 'lwt_in', targetKind: 'none', kconfig: ['LWTUNNEL_BPF']},
  {prefix: 'struct_ops', progType: 'struct_ops', targetKind: 'none'},
]

/** What libbpf makes of a section name; undefined when libbpf does not know it (it will not load it). */
export function sectionInfo(section: string): SectionInfo | undefined {
  for (const d of DEFS) {
    if (section !== d.prefix && !section.startsWith(`${d.prefix}/`) && !section.startsWith(`${d.prefix}+`)) continue
    const target = section === d.prefix ? '' : section.slice(d.prefix.length + 1)
    return {progType: d.progType, attachType: d.attachType, trace: d.trace, targetKind: d.targetKind, target, kconfig: d.kconfig ?? [], defaultTarget: d.defaultTarget}
  }
  return undefined
}
