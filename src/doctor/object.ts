// `doctor --object FILE.bpf.o`: will this object's programs load and attach on the kernel under test?
// Per program: the section's meaning, the attach target, helpers, kfuncs, map types, CO-RE relocations
// and kernel options (object-checks.ts, offline too), then live the verifier's verdict and an attach
// (object-live.ts). Findings are doctor's (status, evidence, fixes); each object gets a verdict.
import {basename} from 'node:path'
import {existsSync} from 'node:fs'
import {Btf} from '../kernel/btf.js'
import {findMount, readText} from '../kernel/runtime.js'
import {BadInputError} from '../util/errors.js'
import {loadNative, type Native} from '../native.js'
import type {DoctorReport} from './index.js'
import type {Evidence, Finding, Fix, Status, Verdict} from './evaluate.js'
import type {Facts} from './facts.js'
import {ElfFile, coreRelos, objectPrograms, type ObjectProgram} from './object-elf.js'
import {sectionInfo, type SectionInfo} from './object-sections.js'
import {coreEvidence, helperEvidence, kconfigEvidence, kfuncEvidence, mapEvidence, targetEvidence, type KernelView} from './object-checks.js'
import {loadProgram, type LiveResult} from './object-live.js'
import {causeOfRefusal} from './object-cause.js'

export interface ProgramReport {
  name: string
  section: string
  progType?: string
  attachType?: string
  target?: string
  targetSource: 'section' | 'placeholder' | 'none'
  helpers: string[]
  kfuncs: string[]
  maps: {name: string; type: string}[]
  coreRelocations: number
  live?: LiveResult
  status: Status
  because?: string
}

export interface ObjectReport {
  path: string
  name: string
  programs: ProgramReport[]
  verdict: Verdict
}

const RANK: Record<Status, number> = {pass: 0, skip: 1, warn: 2, unknown: 3, fail: 4}
const worst = (xs: Status[]): Status => xs.reduce<Status>((a, b) => (RANK[b] > RANK[a] ? b : a), 'pass')

/** Reads each object (bad input: one BadInputError naming the file and the fix) and picks the programs. */
export function readObjects(paths: string[], only?: string[]): {path: string; elf: ElfFile; programs: ObjectProgram[]; btf?: Btf}[] {
  const out = paths.map((path) => {
    if (!existsSync(path)) throw new BadInputError(`--object ${path}: no such file (build it with clang -target bpf, or check the path)`)
    const elf = ElfFile.read(path)
    const programs = objectPrograms(elf)
    if (programs.length === 0) throw new BadInputError(`--object ${path}: a BPF object without programs (no function in an executable section)`)
    let btf: Btf | undefined
    try {
      btf = elf.section('.BTF') ? Btf.fromFile(path) : undefined
    } catch {
      btf = undefined // reported per program as "CO-RE not checked"
    }
    return {path, elf, programs, btf}
  })
  for (const name of only ?? []) {
    if (!out.some((o) => o.programs.some((p) => p.name === name))) {
      throw new BadInputError(`--program ${name}: no such program in ${paths.join(', ')} (they have: ${out.flatMap((o) => o.programs.map((p) => p.name)).join(', ')})`)
    }
  }
  return out.map((o) => ({...o, programs: only && only.length > 0 ? o.programs.filter((p) => only.includes(p.name)) : o.programs}))
}

/** What doctor knows of the kernel under test, as the object checks need it. */
export function kernelView(f: Facts): KernelView {
  const tracefs = f.live ? findMount('tracefs', f.mounts)?.target : undefined
  const cmdlineLsm = /(?:^|\s)lsm=(\S+)/.exec(f.cmdline ?? '')?.[1]
  const lsms = f.lsms ?? (cmdlineLsm ?? f.kconfig?.get('LSM').value?.replace(/"/g, ''))?.split(',')
  return {
    live: f.live,
    btf: f.btf,
    btfPath: f.btfPath,
    kconfig: f.kconfig,
    kallsyms: f.live ? readText('/proc/kallsyms') : undefined,
    tracefs,
    lsms,
    lsmSource: f.lsms ? f.lsmSource : cmdlineLsm ? 'lsm= on the command line' : 'CONFIG_LSM',
  }
}

/** Map names and types from the object's BTF (.maps: each variable's struct has `int (*type)[N]`). */
function btfMaps(btf: Btf | undefined): Map<string, number> {
  const out = new Map<string, number>()
  if (!btf) return out
  for (const sec of btf.findByName('.maps', 'DATASEC')) {
    for (const v of btf.typeAt(sec).members ?? []) {
      const variable = btf.typeAt(v.type)
      const def = variable.type === undefined ? undefined : btf.typeAt(variable.type)
      const typeMember = def?.members?.find((m) => m.name === 'type')
      const ptr = typeMember ? btf.typeAt(typeMember.type) : undefined
      const arr = ptr?.type === undefined ? undefined : btf.typeAt(ptr.type)
      if (arr?.nelems !== undefined) out.set(variable.name, arr.nelems)
    }
  }
  return out
}

interface ProgramContext {
  object: string
  profile: string
  program: ObjectProgram
  section?: SectionInfo
  target?: string
  targetSource: ProgramReport['targetSource']
  maps: Map<string, number>
  btf?: Btf
  relos: ReturnType<typeof coreRelos>
}

function finding(c: ProgramContext, id: string, title: string, evidence: Evidence[], fixes: Fix[] = [], required = true): Finding {
  const live = evidence.filter((e) => e.status !== 'skip')
  let status: Status = live.length === 0 ? 'skip' : worst(live.map((e) => e.status))
  if (status === 'fail' && !required) status = 'warn'
  const bad = evidence.filter((e) => e.status === 'fail' || e.status === 'unknown' || e.status === 'warn')
  const summary = status === 'pass' ? `${evidence.length} ok` : status === 'skip' ? (evidence[0]?.value ?? 'not checked') : bad.slice(0, 2).map((e) => `${e.what}: ${e.value}`).join('; ')
  return {profile: c.profile, id: `${c.program.name}.${id}`, group: `${c.program.name}  SEC("${c.program.section}")`, title, required, cases: [], status, summary, evidence, fixes}
}

/** The CO-RE relocations of this program (its section may hold others: insn offsets are bytes). */
const ownRelos = (c: ProgramContext) => c.relos.filter((r) => r.section === c.program.section && r.insnOff / 8 >= c.program.insnOff && r.insnOff / 8 < c.program.insnOff + c.program.insnCount)

function staticFindings(c: ProgramContext, k: KernelView): Finding[] {
  const s = c.section
  const out: Finding[] = []
  if (!s) {
    out.push(finding(c, 'section', 'section name', [{kind: 'btf', what: 'section', status: 'fail', value: `libbpf does not know SEC("${c.program.section}"): it cannot guess the program type`, source: c.object}], [{text: 'use a section name libbpf knows (xdp, tc, kprobe/FUNC, fentry/FUNC, tracepoint/CAT/NAME, …) or set the type in the loader'}]))
    return out
  }
  const targetText = c.targetSource === 'placeholder' ? `${c.target} (placeholder: the section names none)` : (c.target ?? '')
  out.push(finding(c, 'section', 'program type and attach', [{kind: 'btf', what: 'section', status: 'pass', value: `BPF_PROG_TYPE_${s.progType.toUpperCase()}${s.attachType ? `, ${s.attachType}` : ''}${targetText ? ` → ${targetText}` : ''}`, source: c.object}]))
  if (s.targetKind !== 'none' && c.target !== undefined) {
    const e = targetEvidence(s, c.target, k)
    const fixes = e.status === 'fail' ? [{text: 'pick a target this kernel has (ebpfperf doctor --btf lists none; bpftool btf dump file /sys/kernel/btf/vmlinux | grep NAME)'}] : []
    out.push(finding(c, 'target', 'attach target exists', [e], fixes))
  }
  if (s.targetKind === 'lsm-hook') out.push(finding(c, 'bpf-lsm', 'BPF LSM active', [lsmActive(k)], [{text: `boot with lsm=${[...(k.lsms ?? []).filter((x) => x !== 'bpf'), 'bpf'].join(',')}`}]))
  const h = helperEvidence(c.program.helpers, k)
  if (h.length > 0) out.push(finding(c, 'helpers', `helpers (${h.length})`, h))
  const kf = kfuncEvidence(c.program.kfuncs, k)
  if (kf.length > 0) out.push(finding(c, 'kfuncs', `kfuncs (${kf.length})`, kf))
  const m = mapEvidence(c.program.maps.filter((n) => c.maps.has(n)).map((n) => ({name: n, type: c.maps.get(n)!})), k)
  if (m.length > 0) out.push(finding(c, 'maps', `map types (${m.length})`, m))
  const core = coreEvidence(ownRelos(c), c.btf, k)
  if (core.length > 0) out.push(finding(c, 'core', 'CO-RE relocations', core))
  const kc = kconfigEvidence(s.kconfig, k)
  if (kc.length > 0) out.push(finding(c, 'kconfig', 'kernel options the attachment needs', kc, [], !k.live))
  return out
}

function lsmActive(k: KernelView): Evidence {
  if (!k.lsms) return {kind: 'lsm', what: 'lsm:bpf', status: 'unknown', value: 'active LSM list unknown (mount securityfs, or pass --config/--cmdline)', source: '-'}
  const ok = k.lsms.includes('bpf')
  return {kind: 'lsm', what: 'lsm:bpf', status: ok ? 'pass' : 'fail', value: `LSMs: ${k.lsms.join(',')}`, source: k.lsmSource ?? '-'}
}

function liveFindings(c: ProgramContext, r: LiveResult, facts: Facts, all: Map<string, LiveResult>): Finding[] {
  const load: Evidence = r.loaded
    ? {kind: 'probe', what: 'verifier', status: 'pass', value: `loaded${r.insns !== undefined ? `: ${r.insns} instructions processed` : ''}`, source: 'bpf(BPF_PROG_LOAD) via libbpf'}
    : {kind: 'probe', what: 'verifier', status: 'fail', value: rejection(r), source: 'bpf(BPF_PROG_LOAD) via libbpf', errno: r.errno, code: r.code, stage: 'load'}
  const out = [finding(c, 'load', 'loads (verifier verdict)', [load], r.loaded ? [] : causeOfRefusal(c.program, c.section, r, facts, all))]
  if (r.loaded && r.attached !== undefined) {
    const a: Evidence = r.attached
      ? {kind: 'probe', what: 'attach', status: 'pass', value: `attached to ${r.attachTarget} and detached`, source: 'libbpf bpf_program__attach_*'}
      : {kind: 'probe', what: 'attach', status: 'fail', value: `${r.attachError!.message}`, source: 'libbpf bpf_program__attach_*', errno: r.attachError!.errno, code: r.attachError!.code, stage: 'attach'}
    out.push(finding(c, 'attach', `attaches${c.targetSource === 'placeholder' ? ' (to a placeholder target)' : ''}`, [a], r.attached ? [] : causeOfRefusal(c.program, c.section, r, facts, all)))
  } else if (r.loaded && r.attachSkipped) {
    out.push(finding(c, 'attach', 'attaches', [{kind: 'probe', what: 'attach', status: 'skip', value: r.attachSkipped, source: '-'}]))
  }
  return out
}

const INDENT = '                    '

function rejection(r: LiveResult): string {
  const verifier = r.log && r.log.length > 0 ? `\n${INDENT}verifier's last lines:\n${r.log.map((l) => `${INDENT}| ${l}`).join('\n')}` : `\n${INDENT}the verifier's log is empty: refused before the verifier ran`
  const libbpf = r.libbpfLog && r.libbpfLog.length > 0 ? `\n${INDENT}libbpf: ${r.libbpfLog.join(' / ')}` : ''
  return `${r.message}${verifier}${libbpf}`
}

function contexts(o: ReturnType<typeof readObjects>[number]): ProgramContext[] {
  const maps = btfMaps(o.btf)
  const relos = o.btf ? coreRelos(o.elf, (off) => o.btf!.stringAt(off)) : []
  return o.programs.map((program) => {
    const section = sectionInfo(program.section)
    const named = section?.target ? section.target : undefined
    const target = named ?? section?.defaultTarget
    const targetSource = named !== undefined ? 'section' : target !== undefined ? 'placeholder' : 'none'
    return {object: o.path, profile: `object:${basename(o.path)}`, program, section, target, targetSource, maps, btf: o.btf, relos}
  })
}

/** Every finding and a verdict per object; `native` present means live (load and attach here). */
export function checkObjects(objects: ReturnType<typeof readObjects>, facts: Facts, native: Native | undefined): {findings: Finding[]; objects: ObjectReport[]} {
  const k = kernelView(facts)
  const findings: Finding[] = []
  const reports: ObjectReport[] = []
  for (const o of objects) {
    const ctxs = contexts(o)
    const live = new Map<string, LiveResult>()
    if (native) for (const c of ctxs) live.set(c.program.name, loadProgram(native, o.path, c.program.name, c.section, c.target))
    const programs: ProgramReport[] = []
    for (const c of ctxs) {
      const r = live.get(c.program.name)
      const mine = [...staticFindings(c, k), ...(r ? liveFindings(c, r, facts, live) : [])]
      findings.push(...mine)
      programs.push(programReport(c, mine, r))
    }
    reports.push({path: o.path, name: basename(o.path), programs, verdict: objectVerdict(`object:${basename(o.path)}`, basename(o.path), programs, Boolean(native))})
  }
  return {findings, objects: reports}
}

function programReport(c: ProgramContext, mine: Finding[], r: LiveResult | undefined): ProgramReport {
  const required = mine.filter((f) => f.required)
  const status = worst(required.map((f) => f.status).filter((s) => s !== 'skip'))
  const bad = required.find((f) => f.status === 'fail') ?? required.find((f) => f.status === 'unknown')
  return {
    name: c.program.name,
    section: c.program.section,
    progType: r?.progType ?? c.section?.progType,
    attachType: c.section?.attachType,
    target: c.target,
    targetSource: c.targetSource,
    helpers: mine.find((f) => f.id.endsWith('.helpers'))?.evidence.map((e) => e.what) ?? [],
    kfuncs: c.program.kfuncs,
    maps: c.program.maps.map((n) => ({name: n, type: String(c.maps.get(n) ?? '?')})),
    coreRelocations: ownRelos(c).length,
    live: r,
    status,
    because: bad ? shortReason(bad) : undefined,
  }
}

/** "attach ENOENT: this kernel has no kprobe PMU" — the stage, the errno and the first clause of the cause. */
function shortReason(f: Finding): string {
  const e = f.evidence.find((x) => x.status === 'fail') ?? f.evidence.find((x) => x.status === 'unknown')
  const cause = f.fixes[0]?.text.split(/[:(;]/)[0].trim()
  if (e?.code) return `${e.stage ?? f.id.split('.').pop()} ${e.code}${cause ? `: ${cause}` : ''}`
  return `${f.title}: ${(e?.value ?? f.summary).split('\n')[0]}`
}

function objectVerdict(profile: string, name: string, programs: ProgramReport[], live: boolean): Verdict {
  const failed = programs.filter((p) => p.status === 'fail')
  const unknown = programs.filter((p) => p.status === 'unknown')
  const blockers = failed.map((p) => ({check: p.name, because: p.because ?? 'failed'}))
  const how = live ? 'load and attach here' : 'can load (offline: everything but the verifier)'
  if (failed.length > 0) {
    const ok = programs.length - failed.length
    const byReason = new Map<string, string[]>()
    for (const p of failed) byReason.set(p.because ?? 'failed', [...(byReason.get(p.because ?? 'failed') ?? []), p.name])
    const why = [...byReason].map(([because, names]) => `${names.join(', ')} (${because})`).join('; ')
    return {profile, verdict: 'cannot-run', text: `your object ${name}: ${ok} of ${programs.length} programs ${how}; these cannot: ${why}`, skipped: [], blockers}
  }
  if (unknown.length > 0) return {profile, verdict: 'unknown', text: `your object ${name}: cannot tell for ${unknown.map((p) => `${p.name} (${p.because})`).join('; ')}`, skipped: [], blockers}
  return {profile, verdict: 'runs', text: `your object ${name}: runs — all ${programs.length} programs ${how}`, skipped: [], blockers}
}

/** The report with the objects' findings, profiles and verdicts joined (exit 1 when a program fails). */
export function withObjects(report: DoctorReport, objects: ReturnType<typeof readObjects>, facts: Facts): DoctorReport {
  let native: Native | undefined
  let nativeError: string | undefined
  if (facts.live) {
    try {
      native = loadNative()
    } catch (error) {
      nativeError = (error as Error).message.split('\n')[0]
    }
  }
  const {findings, objects: reports} = checkObjects(objects, facts, native)
  const all = [...report.findings, ...findings]
  const summary: Record<Status, number> = {pass: 0, fail: 0, warn: 0, unknown: 0, skip: 0}
  for (const f of all) summary[f.status]++
  return {
    ...report,
    kernel: nativeError ? {...report.kernel, nativeError} : report.kernel,
    profiles: [...report.profiles, ...reports.map((o) => ({name: `object:${o.name}`, title: `Object ${o.name}${facts.live ? '' : ' (offline: no verifier)'}`, file: o.path}))],
    findings: all,
    verdicts: [...report.verdicts, ...reports.map((o) => o.verdict)],
    objects: reports,
    summary,
    exitCode: all.some((f) => f.required && f.status === 'fail') ? 1 : 0,
  }
}
