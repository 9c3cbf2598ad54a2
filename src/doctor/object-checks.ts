// The checks `doctor --object` makes without loading anything: does the attach target exist in the
// kernel under test, does it know the helpers, kfuncs and map types the program uses, do the types and
// fields its CO-RE relocations name exist in its BTF, and does its config have the options the
// attachment needs. Each returns doctor's Evidence (status, value, source).
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import type {Btf} from '../kernel/btf.js'
import type {Kconfig} from '../kernel/kconfig.js'
import {HELPERS, MAP_TYPES} from '../kernel/uapi.js'
import type {Evidence} from './evaluate.js'
import {ElfFile, definesFunction, type CoreRelo} from './object-elf.js'
import type {SectionInfo} from './object-sections.js'

/** What is known of the kernel under test (live: this machine; offline: the files given). */
export interface KernelView {
  live: boolean
  btf?: Btf
  btfPath?: string
  kconfig?: Kconfig
  /** /proc/kallsyms text (live only) */
  kallsyms?: string
  /** where tracefs is mounted (live only) */
  tracefs?: string
  /** active LSMs (live, securityfs mounted), else lsm= of the command line or CONFIG_LSM */
  lsms?: string[]
  lsmSource?: string
}

const HELPER_NAMES = new Map(Object.entries(HELPERS).map(([k, v]) => [v, k]))
const MAP_NAMES = new Map(Object.entries(MAP_TYPES).map(([k, v]) => [v, k]))
export const helperName = (id: number, btf?: Btf): string => {
  const known = HELPER_NAMES.get(id)
  if (known) return known
  for (const [k, v] of btf?.enumValues('bpf_func_id') ?? []) if (Number(v) === id) return `bpf_${k.replace(/^BPF_FUNC_/, '')}`
  return `helper #${id}`
}
export const mapTypeName = (t: number): string => MAP_NAMES.get(t) ?? `map type #${t}`

const ev = (kind: Evidence['kind'], what: string, status: Evidence['status'], value: string, source: string): Evidence => ({kind, what, status, value, source})

function inKallsyms(k: KernelView, fn: string): boolean | undefined {
  if (!k.kallsyms) return undefined
  return new RegExp(`^[0-9a-f]+ [tTwW] ${fn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`, 'm').test(k.kallsyms)
}

function btfHas(k: KernelView, name: string, kind?: string): boolean | undefined {
  return k.btf ? k.btf.findByName(name, kind).length > 0 : undefined
}

/** The attach target: exists (pass), does not (fail), or cannot tell (unknown) in the kernel under test. */
export function targetEvidence(s: SectionInfo, target: string, k: KernelView): Evidence {
  const src = k.btfPath ?? 'no BTF'
  const fromBtf = (what: string, name: string, kind?: string): Evidence => {
    const has = btfHas(k, name, kind)
    return has === undefined ? ev('btf', what, 'unknown', `cannot tell: no BTF for the kernel under test (pass --btf FILE)`, src) : ev('btf', what, has ? 'pass' : 'fail', has ? `${name} is in the kernel's BTF` : `${name} is not in the kernel's BTF (renamed, inlined, compiled out, or too old a kernel)`, src)
  }
  switch (s.targetKind) {
    case 'btf-func':
      return fromBtf(`func:${target}`, target, 'FUNC')
    case 'iter':
      return fromBtf(`iter:${target}`, `bpf_iter_${target}`, 'FUNC')
    case 'raw-tracepoint':
      return fromBtf(`raw_tp:${target}`, `btf_trace_${target}`, 'TYPEDEF')
    case 'lsm-hook':
      return fromBtf(`lsm:${target}`, `bpf_lsm_${target}`, 'FUNC')
    case 'kallsyms': {
      const fn = target.replace(/\+.*$/, '')
      if (/[*?]/.test(fn)) return ev('btf', `kallsyms:${fn}`, 'skip', 'a pattern: kprobe.multi resolves it at attach time', '-')
      const ks = inKallsyms(k, fn)
      if (ks !== undefined) return ev('probe', `kallsyms:${fn}`, ks ? 'pass' : 'fail', ks ? `${fn} is a kernel text symbol` : `${fn} is not in /proc/kallsyms`, '/proc/kallsyms')
      const e = fromBtf(`func:${fn}`, fn, 'FUNC')
      return {...e, value: `${e.value} (kallsyms is not read offline: BTF stands in)`}
    }
    case 'tracepoint':
      return tracepointEvidence(target, k)
    case 'uprobe':
      return uprobeEvidence(target)
    default:
      return ev('btf', 'target', 'skip', 'attaches to an interface, a cgroup or a socket: no kernel symbol to check', '-')
  }
}

function tracepointEvidence(target: string, k: KernelView): Evidence {
  const [cat, name] = target.split('/')
  if (!cat || !name) return ev('probe', `tracepoint:${target}`, 'fail', `"${target}" is not CATEGORY/NAME`, 'section name')
  if (k.tracefs) {
    const dir = join(k.tracefs, 'events', cat, name)
    const ok = existsSync(dir)
    return ev('mount', `tracepoint:${target}`, ok ? 'pass' : 'fail', ok ? `${dir} exists` : `${dir} does not exist`, 'tracefs')
  }
  // no tracefs: BTF knows a tracepoint by its raw form (syscalls' by the syscall's function)
  const sys = cat === 'syscalls' ? /^sys_(?:enter|exit)_(.+)$/.exec(name)?.[1] : undefined
  const names = sys ? [`__x64_sys_${sys}`, `__arm64_sys_${sys}`, `__se_sys_${sys}`, `sys_${sys}`] : [`btf_trace_${name}`]
  if (!k.btf) return ev('btf', `tracepoint:${target}`, 'unknown', 'cannot tell: tracefs is not mounted and there is no BTF', '-')
  const found = names.find((n) => k.btf!.findByName(n).length > 0)
  return ev('btf', `tracepoint:${target}`, found ? 'pass' : 'fail', found ? `${found} is in BTF (tracefs not mounted: its events directory not read)` : `none of ${names.join(', ')} in BTF`, k.btfPath ?? 'BTF')
}

function uprobeEvidence(target: string): Evidence {
  if (target === '') return ev('probe', 'uprobe', 'skip', 'no binary in the section: the loader names it at attach time', '-')
  const colon = target.lastIndexOf(':')
  const path = colon > 0 ? target.slice(0, colon) : target
  const sym = colon > 0 ? target.slice(colon + 1).replace(/\+.*$/, '') : ''
  if (!existsSync(path)) return ev('probe', `uprobe:${target}`, 'fail', `${path} does not exist on this machine`, path)
  if (!sym || /^(0x)?[0-9a-f]+$/i.test(sym)) return ev('probe', `uprobe:${target}`, 'pass', `${path} exists (an offset, not a symbol)`, path)
  try {
    const ok = definesFunction(ElfFile.read(path, 1024 * 1024 * 1024), sym)
    return ev('probe', `uprobe:${target}`, ok ? 'pass' : 'fail', ok ? `${path} defines ${sym}` : `${path} has no function symbol ${sym} (stripped, or another version)`, path)
  } catch (error) {
    return ev('probe', `uprobe:${target}`, 'unknown', (error as Error).message, path)
  }
}

/** Helpers by id: offline, the kernel's enum bpf_func_id must have them (a helper newer than the kernel is not there). */
export function helperEvidence(ids: number[], k: KernelView): Evidence[] {
  const known = k.btf?.enumValues('bpf_func_id')
  return ids.map((id) => {
    const name = helperName(id, k.btf)
    if (!known) return ev('btf', name, 'unknown', 'cannot tell: no BTF (enum bpf_func_id) for the kernel under test', '-')
    const ok = [...known.values()].some((v) => Number(v) === id)
    return ev('btf', name, ok ? 'pass' : 'fail', ok ? `helper ${id} is in enum bpf_func_id` : `helper ${id} is newer than this kernel (its enum bpf_func_id ends before it)`, k.btfPath ?? 'BTF')
  })
}

export function kfuncEvidence(names: string[], k: KernelView): Evidence[] {
  return names.map((n) => {
    const has = btfHas(k, n, 'FUNC')
    if (has === undefined) return ev('btf', `kfunc:${n}`, 'unknown', 'cannot tell: no BTF', '-')
    return ev('btf', `kfunc:${n}`, has ? 'pass' : 'fail', has ? `${n} is in BTF (whether this program type may call it is for the verifier)` : `${n} is not in the kernel's BTF`, k.btfPath ?? 'BTF')
  })
}

export function mapEvidence(maps: {name: string; type: number}[], k: KernelView): Evidence[] {
  const known = k.btf?.enumValues('bpf_map_type')
  return maps.map((m) => {
    const name = mapTypeName(m.type)
    if (!known) return ev('btf', `${m.name} (${name})`, 'unknown', 'cannot tell: no BTF (enum bpf_map_type)', '-')
    const ok = [...known.values()].some((v) => Number(v) === m.type)
    return ev('btf', `${m.name} (${name})`, ok ? 'pass' : 'fail', ok ? `map type ${m.type} is in enum bpf_map_type` : `map type ${m.type} is newer than this kernel`, k.btfPath ?? 'BTF')
  })
}

export function kconfigEvidence(options: string[], k: KernelView): Evidence[] {
  return options.map((o) => {
    if (!k.kconfig) return ev('kconfig', `CONFIG_${o}`, 'unknown', `CONFIG_${o}: no kernel config found`, 'no config')
    const v = k.kconfig.get(o)
    const ok = v.state === 'y' || v.state === 'm' || v.state === 'value'
    return ev('kconfig', `CONFIG_${o}`, ok ? 'pass' : 'fail', ok ? `CONFIG_${o}=${v.value}` : `CONFIG_${o} is not set`, `${k.kconfig.file}${v.line ? `:${v.line}` : ''}`)
  })
}

/** The types and member paths of the CO-RE relocations, looked up by name in the target BTF. */
export function coreEvidence(relos: CoreRelo[], objBtf: Btf | undefined, k: KernelView): Evidence[] {
  if (relos.length === 0) return []
  if (!objBtf) return [ev('btf', 'CO-RE', 'unknown', `${relos.length} relocations, but the object's .BTF could not be read`, '-')]
  if (!k.btf) return [ev('btf', 'CO-RE', 'unknown', `${relos.length} relocations, not checked: no BTF for the kernel under test`, '-')]
  const seen = new Set<string>()
  const out: Evidence[] = []
  for (const r of relos) {
    const path = corePath(objBtf, r)
    if (!path || seen.has(path.text)) continue
    seen.add(path.text)
    const missing = missingInTarget(k.btf, path.root, path.fields)
    out.push(ev('btf', `CO-RE ${path.text}`, missing ? 'fail' : 'pass', missing ?? 'found in the target BTF (by name; libbpf also checks sizes and kinds at load)', k.btfPath ?? 'BTF'))
  }
  return out
}

const strip = (b: Btf, id: number): number => {
  for (let i = 0; i < 32; i++) {
    const t = b.typeAt(id)
    if (!['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG'].includes(t.kind) || t.type === undefined) return id
    id = t.type
  }
  return id
}

/** root struct name and member names along a field accessor ("0:2:1"); undefined for non-field relocations. */
function corePath(b: Btf, r: CoreRelo): {root: string; fields: string[]; text: string} | undefined {
  try {
    let id = strip(b, r.typeId)
    const root = b.typeAt(id)
    if (!root.name) return undefined
    const idx = r.access.split(':').map(Number)
    if (r.kind > 5 || idx.length < 2) return {root: root.name.replace(/___.*$/, ''), fields: [], text: `${root.kind.toLowerCase()} ${root.name.replace(/___.*$/, '')}`}
    const fields: string[] = []
    for (const i of idx.slice(1)) {
      const t = b.typeAt(id)
      if (t.kind === 'ARRAY' && t.type !== undefined) {
        id = strip(b, t.type)
        continue
      }
      const m = t.members?.[i]
      if (!m) break
      if (m.name) fields.push(m.name)
      id = strip(b, m.type)
    }
    const name = root.name.replace(/___.*$/, '') // libbpf ignores a ___flavour suffix when matching
    return {root: name, fields, text: `${name}${fields.length ? `.${fields.join('.')}` : ''}`}
  } catch {
    return undefined
  }
}

function missingInTarget(t: Btf, root: string, fields: string[]): string | undefined {
  const ids = [...t.findByName(root, 'STRUCT'), ...t.findByName(root, 'UNION')]
  if (ids.length === 0) return t.findByName(root).length > 0 ? undefined : `type ${root} is not in the target BTF`
  let id = ids[0]
  for (const f of fields) {
    const found = findMember(t, id, f, 0)
    if (found === undefined) return `${t.nameOf(id) || 'an anonymous struct'} has no member ${f} in the target BTF`
    id = strip(t, found)
  }
  return undefined
}

/** A member by name, looking into anonymous structs and unions as C does. */
function findMember(t: Btf, id: number, name: string, depth: number): number | undefined {
  const ty = t.typeAt(strip(t, id))
  for (const m of ty.members ?? []) {
    if (m.name === name) return m.type
    if (!m.name && depth < 8) {
      const inner = findMember(t, m.type, name, depth + 1)
      if (inner !== undefined) return inner
    }
  }
  return undefined
}
