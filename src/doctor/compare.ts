// `doctor --compare A.json B.json`: two saved doctor documents (two kernels, or one kernel before and after a
// change) side by side: the findings whose status differs, with the evidence that changed, and the verdict
// of every profile in both.
import type {ChalkInstance} from 'chalk'
import {BadInputError} from '../util/errors.js'
import {readInput} from '../util/input.js'
import {DOCTOR_SCHEMA, type DoctorReport} from './index.js'
import type {Status, VerdictKind} from './evaluate.js'
import {makeChalk} from './render.js'

export const DOCTOR_COMPARISON_SCHEMA = 'ebpfperf/doctor-comparison/v1'

/** A doctor report as saved by `doctor --json`, or by `vm doctor --json` (then labelled with the guest). */
export type SavedDoctorReport = DoctorReport & {vm?: {accel?: string; emulated?: boolean; kernel?: {release?: string; package?: {name: string; version: string}}}}

export interface DoctorSide {
  file: string
  label: string // "6.1.0-56-cloud-amd64 (QEMU TCG guest)"
  release: string
  generated: string
}

export interface EvidenceDiff {
  what: string
  a?: string // "fail (ENOENT)", "pass", or undefined when that side has no such evidence
  b?: string
}

export interface FindingDiff {
  profile: string
  id: string
  title: string
  required: boolean
  a?: Status // undefined: the finding is not in A (other profiles or versions)
  b?: Status
  evidence: EvidenceDiff[]
}

export interface VerdictPair {
  profile: string
  suite?: string
  a?: VerdictKind
  b?: VerdictKind
  aText?: string
  bText?: string
  onlyASkipped: string[] // cases skipped in A but not in B
  onlyBSkipped: string[]
}

export interface DoctorComparison {
  schema: typeof DOCTOR_COMPARISON_SCHEMA
  a: DoctorSide
  b: DoctorSide
  differences: FindingDiff[]
  same: number // findings present in both with the same status
  verdicts: VerdictPair[]
}

export function loadDoctorReport(path: string): SavedDoctorReport {
  const fail = (why: string) => new BadInputError(`--compare ${path}: ${why}`)
  const text = readInput(path, fail).toString('utf8')
  let doc: SavedDoctorReport
  try {
    doc = JSON.parse(text) as SavedDoctorReport
  } catch (error) {
    throw fail(`not JSON (${(error as Error).message.split('\n')[0]}); save one with \`ebpfperf doctor --json > FILE\``)
  }
  if (doc?.schema !== DOCTOR_SCHEMA) throw fail(`not a doctor report (schema ${JSON.stringify(doc?.schema ?? null)}, expected ${DOCTOR_SCHEMA}); save one with \`ebpfperf doctor --json > FILE\``)
  if (!Array.isArray(doc.findings) || !Array.isArray(doc.verdicts)) throw fail('a doctor report without findings or verdicts')
  return doc
}

function side(file: string, r: SavedDoctorReport): DoctorSide {
  const how = r.vm ? `QEMU ${r.vm.accel === 'kvm' ? 'KVM' : 'TCG'} guest` : r.kernel.live ? 'live' : 'offline, config/BTF only'
  return {file, label: `${r.kernel.release} (${how})`, release: r.kernel.release, generated: r.generated}
}

const evidenceText = (e?: {status: Status; code?: string}) => (e ? `${e.status}${e.code && e.status !== 'pass' ? ` (${e.code})` : ''}` : undefined)

export function compareDoctorReports(a: SavedDoctorReport, b: SavedDoctorReport, files: [string, string] = ['A', 'B']): DoctorComparison {
  const key = (f: {profile: string; id: string}) => `${f.profile}\0${f.id}`
  const fa = new Map(a.findings.map((f) => [key(f), f]))
  const fb = new Map(b.findings.map((f) => [key(f), f]))
  const differences: FindingDiff[] = []
  let same = 0
  for (const k of [...new Set([...fa.keys(), ...fb.keys()])]) {
    const x = fa.get(k)
    const y = fb.get(k)
    if (x && y && x.status === y.status) {
      same++
      continue
    }
    const ref = (x ?? y)!
    const evidence: EvidenceDiff[] = []
    const ex = new Map((x?.evidence ?? []).map((e) => [e.what, e]))
    const ey = new Map((y?.evidence ?? []).map((e) => [e.what, e]))
    for (const what of [...new Set([...ex.keys(), ...ey.keys()])]) {
      const ta = evidenceText(ex.get(what))
      const tb = evidenceText(ey.get(what))
      if (ta !== tb) evidence.push({what, a: ta, b: tb})
    }
    differences.push({profile: ref.profile, id: ref.id, title: ref.title, required: ref.required, a: x?.status, b: y?.status, evidence})
  }
  const va = new Map(a.verdicts.map((v) => [v.profile, v]))
  const vb = new Map(b.verdicts.map((v) => [v.profile, v]))
  const verdicts: VerdictPair[] = [...new Set([...va.keys(), ...vb.keys()])].map((p) => {
    const x = va.get(p)
    const y = vb.get(p)
    const sa = new Set((x?.skipped ?? []).map((s) => s.case))
    const sb = new Set((y?.skipped ?? []).map((s) => s.case))
    return {
      profile: p,
      suite: x?.suite ?? y?.suite,
      a: x?.verdict,
      b: y?.verdict,
      aText: x?.text,
      bText: y?.text,
      onlyASkipped: [...sa].filter((c) => !sb.has(c)),
      onlyBSkipped: [...sb].filter((c) => !sa.has(c)),
    }
  })
  return {schema: DOCTOR_COMPARISON_SCHEMA, a: side(files[0], a), b: side(files[1], b), differences, same, verdicts}
}

export function compareDoctorFiles(files: string[]): DoctorComparison {
  if (files.length !== 2) throw new BadInputError(`--compare takes exactly two saved doctor reports (got ${files.length}): ebpfperf doctor --compare A.json B.json`)
  return compareDoctorReports(loadDoctorReport(files[0]), loadDoctorReport(files[1]), [files[0], files[1]])
}

export function renderDoctorComparison(c: DoctorComparison, chalk: ChalkInstance = makeChalk()): string {
  const paint: Record<string, (s: string) => string> = {pass: chalk.green, fail: chalk.red, warn: chalk.yellow, unknown: chalk.magenta, skip: chalk.gray, runs: chalk.green, 'runs-with-skips': chalk.yellow, 'cannot-run': chalk.red}
  const cell = (s: string | undefined, w: number) => {
    const text = s ?? '—'
    return (paint[text] ?? ((t: string) => t))(text) + ' '.repeat(Math.max(0, w - text.length))
  }
  const out: string[] = []
  out.push(chalk.bold('ebpfperf doctor --compare'))
  out.push(`  A  ${c.a.label}  ${chalk.gray(c.a.file)}`)
  out.push(`  B  ${c.b.label}  ${chalk.gray(c.b.file)}`)
  const total = c.differences.length + c.same
  out.push('', chalk.bold(c.differences.length === 0 ? `Findings: all ${total} have the same status` : `Findings that differ (${c.differences.length} of ${total}; ${c.same} the same)`))
  if (c.differences.length > 0) {
    const wp = Math.max(7, ...c.differences.map((d) => d.profile.length))
    const wi = Math.max(7, ...c.differences.map((d) => d.id.length))
    out.push(chalk.gray(`  ${'profile'.padEnd(wp)}  ${'finding'.padEnd(wi)}  ${'A'.padEnd(8)}  B`))
    for (const d of c.differences) {
      out.push(`  ${d.profile.padEnd(wp)}  ${d.id.padEnd(wi)}  ${cell(d.a, 8)}  ${cell(d.b, 8)}${chalk.gray(` ${d.title}${d.required ? ' (required)' : ''}`)}`)
      for (const e of d.evidence) out.push(chalk.gray(`  ${''.padEnd(wp)}    ${e.what}: ${e.a ?? '—'} → ${e.b ?? '—'}`))
    }
  }
  out.push('', chalk.bold('Verdicts'))
  const wv = Math.max(7, ...c.verdicts.map((v) => (v.suite ? `suite ${v.suite}` : v.profile).length))
  const wa = Math.max(1, ...c.verdicts.map((v) => (v.a ?? '—').length))
  out.push(chalk.gray(`  ${'profile'.padEnd(wv)}  ${'A'.padEnd(wa)}  B`))
  for (const v of c.verdicts) {
    const name = v.suite ? `suite ${v.suite}` : v.profile
    out.push(`  ${name.padEnd(wv)}  ${cell(v.a, wa)}  ${cell(v.b, 15)}`)
    if (v.onlyASkipped.length) out.push(chalk.gray(`  ${''.padEnd(wv)}    skipped only in A: ${v.onlyASkipped.join(', ')}`))
    if (v.onlyBSkipped.length) out.push(chalk.gray(`  ${''.padEnd(wv)}    skipped only in B: ${v.onlyBSkipped.join(', ')}`))
  }
  return out.join('\n')
}
