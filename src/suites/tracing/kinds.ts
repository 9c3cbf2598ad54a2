// The attach types the tracing suite measures, the bodies it runs under each of them, and how a program's
// type decides which attach types it fits.
import {join} from 'node:path'
import type {ProgramInfo, TraceKind} from '../../native.js'
import {PROG_TYPES} from '../../kernel/uapi.js'
import {projectRoot} from '../../util/paths.js'

/** Every attach type, in the order the tables print them. Also the case names in profiles/tracing.profile.yml. */
export const KINDS: readonly TraceKind[] = ['tracepoint', 'raw_tracepoint', 'kprobe', 'kretprobe', 'kprobe.multi', 'fentry', 'fexit', 'uprobe', 'uretprobe']

/** The bodies built from bpf/tracing.bpf.c: `null` returns 0; `map` reads the pid and updates a per-CPU map. */
export const BUILTIN_BODIES = ['null', 'map'] as const

/** Profile case names beyond the attach types (profiles/tracing.profile.yml). */
export const CASE_SCENARIOS = 'syscall tracepoint scenarios'
export const CASE_WORKLOAD = 'workload impact'
export const CASE_WORKLOAD_KFUNC = 'workload impact on udp_recvmsg'
export const CASE_EVENT_KFUNC = 'per-event trigger on getpgid'
export const CASE_STATS = 'program run_time_ns'

export const TRACING_OBJECT = (): string => join(projectRoot(), 'bpf', '.output', 'tracing.bpf.o')
export const SCENARIO_OBJECT = (): string => join(projectRoot(), 'bpf', '.output', 'tracing_scn.bpf.o')

const SUFFIX: Record<TraceKind, string> = {
  tracepoint: 'tp',
  raw_tracepoint: 'rawtp',
  kprobe: 'kprobe',
  kretprobe: 'kretp',
  'kprobe.multi': 'kmulti',
  fentry: 'fentry',
  fexit: 'fexit',
  uprobe: 'uprobe',
  uretprobe: 'uretp',
}

/** The program in bpf/tracing.bpf.c that runs `body` as `kind` (kernel names keep 15 characters). */
export function builtinProgram(body: string, kind: TraceKind): string {
  return `trc_${body}_${SUFFIX[kind]}`
}

/** What fires the attach point in the per-event layer: the getpgid syscall, or the addon's own function. */
export type Trigger = 'syscall' | 'uprobe'

export function triggerOf(kind: TraceKind): Trigger {
  return kind === 'uprobe' || kind === 'uretprobe' ? 'uprobe' : 'syscall'
}

/** Kernel-function kinds: they need a function in BTF (fentry/fexit) or in kallsyms (kprobes). */
export const KFUNC_KINDS: readonly TraceKind[] = ['kprobe', 'kretprobe', 'kprobe.multi', 'fentry', 'fexit']
export const BTF_KINDS: readonly TraceKind[] = ['fentry', 'fexit']

// uapi enum bpf_attach_type
const BPF_TRACE_FENTRY = 24
const BPF_TRACE_FEXIT = 25
const BPF_TRACE_KPROBE_MULTI = 42

/**
 * The attach types a program of this type can run as. KPROBE programs fit kprobes and uprobes; the section
 * name says which the author meant (uprobe…/uretprobe…: the uprobe kinds; otherwise the kprobe kinds).
 */
export function kindsForProgram(p: Pick<ProgramInfo, 'type' | 'expectedAttachType' | 'section'>): TraceKind[] {
  switch (p.type) {
    case PROG_TYPES.tracepoint:
      return ['tracepoint']
    case PROG_TYPES.raw_tracepoint:
      return ['raw_tracepoint']
    case PROG_TYPES.kprobe: {
      if (p.expectedAttachType === BPF_TRACE_KPROBE_MULTI) return ['kprobe.multi']
      const sec = p.section
      if (/^uretprobe/.test(sec)) return ['uretprobe']
      if (/^uprobe/.test(sec)) return ['uprobe']
      if (/^kretprobe/.test(sec)) return ['kretprobe']
      if (/^kprobe/.test(sec)) return ['kprobe']
      return ['kprobe', 'kretprobe', 'uprobe', 'uretprobe']
    }
    case PROG_TYPES.tracing:
      if (p.expectedAttachType === BPF_TRACE_FENTRY) return ['fentry']
      if (p.expectedAttachType === BPF_TRACE_FEXIT) return ['fexit']
      return []
    default:
      return []
  }
}

/** Whether a program of this type can attach as `kind` at all (the loader checks the same in the addon). */
export function programFits(p: Pick<ProgramInfo, 'type' | 'expectedAttachType' | 'section'>, kind: TraceKind): boolean {
  switch (kind) {
    case 'tracepoint':
      return p.type === PROG_TYPES.tracepoint
    case 'raw_tracepoint':
      return p.type === PROG_TYPES.raw_tracepoint
    case 'kprobe.multi':
      return p.type === PROG_TYPES.kprobe && p.expectedAttachType === BPF_TRACE_KPROBE_MULTI
    case 'kprobe':
    case 'kretprobe':
    case 'uprobe':
    case 'uretprobe':
      return p.type === PROG_TYPES.kprobe && p.expectedAttachType !== BPF_TRACE_KPROBE_MULTI
    case 'fentry':
      return p.type === PROG_TYPES.tracing && p.expectedAttachType === BPF_TRACE_FENTRY
    case 'fexit':
      return p.type === PROG_TYPES.tracing && p.expectedAttachType === BPF_TRACE_FEXIT
  }
}

/** What SEC() a program needs for a kind, for error messages. */
export const SECTION_FOR: Record<TraceKind, string> = {
  tracepoint: 'SEC("tracepoint") or SEC("tp/CATEGORY/NAME")',
  raw_tracepoint: 'SEC("raw_tp") or SEC("raw_tracepoint/NAME")',
  kprobe: 'SEC("kprobe")',
  kretprobe: 'SEC("kretprobe")',
  'kprobe.multi': 'SEC("kprobe.multi")',
  fentry: 'SEC("fentry")',
  fexit: 'SEC("fexit")',
  uprobe: 'SEC("uprobe")',
  uretprobe: 'SEC("uretprobe")',
}

/** Parses a comma-separated or repeated --attach value; throws on an unknown name (the caller makes it exit 2). */
export function parseKinds(values: string[] | undefined): TraceKind[] | undefined {
  if (!values || values.length === 0) return undefined
  const out: TraceKind[] = []
  for (const v of values.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)) {
    const k = v === 'raw_tp' || v === 'raw-tracepoint' ? 'raw_tracepoint' : v === 'fprobe' ? 'kprobe.multi' : v
    if (!(KINDS as readonly string[]).includes(k)) throw new RangeError(`unknown attach type '${v}' (expected one of ${KINDS.join(', ')})`)
    if (!out.includes(k as TraceKind)) out.push(k as TraceKind)
  }
  return out
}
