// `doctor` as a library: gather facts, evaluate every profile, decide the exit code, apply safe fixes.
import {writeFileSync} from 'node:fs'
import {Facts, gatherFacts} from './facts.js'
import {evaluateCheck, verdictFor, type Finding, type Fix, type FixAction, type Status, type Verdict} from './evaluate.js'
import {listBuiltinProfiles, loadProfile, type Profile} from './profile.js'
import {CAPS, MOUNTS, SYSCTLS, effectiveCaps, findMount, hasCap, type CapName, type MountKind} from '../kernel/runtime.js'
import {run} from '../exec.js'
import {toolVersion} from '../util/version.js'
import {PrivilegeError} from '../util/errors.js'
import type {ObjectReport} from './object.js'
import {applyOfflineInputs, judgedFindings, readOfflineInputs} from './offline.js'
import type {JudgedFinding} from './cmdline.js'
import {timed} from './timing.js'

export const DOCTOR_SCHEMA = 'ebpfperf/doctor/v1'

export interface DoctorOptions {
  profiles?: string[] // names or files; default: every shipped profile
  kconfig?: string
  btf?: string
  live: boolean
  env?: NodeJS.ProcessEnv
  /** BPF objects to judge (doctor --object), and optionally only these programs of them */
  objects?: string[]
  programs?: string[]
  /** another host's /proc/cmdline and `sysctl -a`, saved to files */
  cmdlineFile?: string
  sysctlFile?: string
}

export interface DoctorReport {
  schema: typeof DOCTOR_SCHEMA
  tool: {name: 'ebpfperf'; version: string}
  generated: string
  kernel: {release: string; machine: string; live: boolean; lockdown?: string; lockdownSource: string; libbpf?: string; nativeError?: string}
  config: {path?: string; via?: string; tried: {path: string; via: string; result: string}[]; options?: number; kernelVersion?: string}
  btf: {path?: string; tried: string[]; types?: number}
  system?: SystemState // the running system (absent with --no-live)
  profiles: {name: string; title: string; suite?: string; file: string}[]
  findings: Finding[]
  verdicts: Verdict[]
  summary: Record<Status, number>
  exitCode: 0 | 1
  objects?: ObjectReport[]
}

export interface SystemState {
  sysctls: {name: string; path: string; value?: string; meaning?: string}[]
  mounts: Record<string, string | null>
  capabilities: Record<string, boolean>
  lockdown?: string
  lsms?: string[]
  memlockBytes?: number | 'unlimited'
  tools: {name: string; package: string; path?: string; version?: string}[]
}

function systemState(f: Facts): SystemState | undefined {
  if (!f.live) return undefined
  return {
    sysctls: Object.values(SYSCTLS).map((s) => {
      const value = f.sysctls.get(s.name)
      return {name: s.name, path: s.path, value, meaning: value === undefined ? undefined : s.meaning[value]}
    }),
    mounts: Object.fromEntries(Object.keys(MOUNTS).map((k) => [k, findMount(k as MountKind, f.mounts)?.target ?? null])),
    capabilities: Object.fromEntries(Object.keys(CAPS).map((c) => [c, hasCap(c as CapName, f.capEff)])),
    lockdown: f.lockdown,
    lsms: f.lsms,
    memlockBytes: f.memlock === Number.POSITIVE_INFINITY ? 'unlimited' : f.memlock,
    tools: [...f.tools.values()],
  }
}


export function loadProfiles(names?: string[]): Profile[] {
  return (names && names.length > 0 ? names : listBuiltinProfiles()).map((n) => loadProfile(n))
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  // with --object, the kernel's own checks run only when a profile is named
  // (loaded on demand: the plain doctor path does not parse the object code)
  const obj = opts.objects && opts.objects.length > 0 ? await import('./object.js') : undefined
  const objects = obj?.readObjects(opts.objects!, opts.programs)
  const profiles = timed('profiles', () => (objects && !opts.profiles?.length ? [] : loadProfiles(opts.profiles)))
  const inputs = readOfflineInputs(opts.cmdlineFile, opts.sysctlFile)
  if (opts.live) {
    const eff = effectiveCaps()
    if (!hasCap('CAP_SYS_ADMIN', eff) && !hasCap('CAP_BPF', eff)) {
      throw new PrivilegeError('live probes need root (CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, or CAP_SYS_ADMIN): run it with sudo, or add --no-live to check only the kernel config and BTF')
    }
  }
  // doctor's own run: slow detaches go to a short-lived teardown process once every probe has answered
  const facts = await gatherFacts({...opts, deferTeardown: true}, profiles)
  applyOfflineInputs(facts, inputs)
  // --profile limits the report to the profiles named, unless another host's command line or sysctls are given
  const limited = Boolean(opts.profiles?.length) && !opts.cmdlineFile && !opts.sysctlFile
  const report = timed('evaluate', () => withJudged(buildReport(facts, profiles), limited ? [] : judgedFindings(facts, inputs)))
  return obj && objects ? obj.withObjects(report, objects, facts) : report
}

export function buildReport(facts: Facts, profiles: Profile[]): DoctorReport {
  const findings = profiles.flatMap((p) => p.checks.map((c) => evaluateCheck(p.name, c, facts)))
  const verdicts = profiles.map((p) => verdictFor(p, findings))
  const summary: Record<Status, number> = {pass: 0, fail: 0, warn: 0, unknown: 0, skip: 0}
  for (const f of findings) summary[f.status]++
  return {
    schema: DOCTOR_SCHEMA,
    tool: {name: 'ebpfperf', version: toolVersion()},
    generated: new Date().toISOString(),
    kernel: {release: facts.release, machine: facts.machine, live: facts.live, lockdown: facts.lockdown, lockdownSource: facts.lockdownSource, libbpf: facts.libbpf, nativeError: facts.nativeError},
    config: {path: facts.kconfigDiscovery.path, via: facts.kconfigDiscovery.via, tried: facts.kconfigDiscovery.tried, options: facts.kconfig?.size, kernelVersion: facts.kconfig?.kernelVersion},
    btf: {path: facts.btfPath, tried: facts.btfTried, types: facts.btf?.typeCount},
    system: systemState(facts),
    profiles: profiles.map((p) => ({name: p.name, title: p.title, suite: p.suite, file: p.file})),
    findings,
    verdicts,
    summary,
    exitCode: findings.some((f) => f.required && f.status === 'fail') ? 1 : 0,
  }
}

/** The command line's and sysctls' findings (never required) after the profiles'. */
function withJudged(report: DoctorReport, judged: JudgedFinding[]): DoctorReport {
  if (judged.length === 0) return report
  const summary = {...report.summary}
  for (const f of judged) summary[f.status]++
  const profile = {name: 'cmdline', title: 'Kernel command line and sysctls', file: judged[0].evidence[0].source}
  return {...report, profiles: [...report.profiles, profile], findings: [...report.findings, ...judged], summary}
}

export interface AppliedFix {
  command: string
  ok: boolean
  error?: string
  dryRun: boolean
}

/** The safe runtime fixes a report asks for, once each. */
export function safeFixes(report: DoctorReport): (Fix & {action: FixAction})[] {
  const seen = new Set<string>()
  const out: (Fix & {action: FixAction})[] = []
  for (const f of report.findings) {
    if (f.status === 'pass') continue
    for (const x of f.fixes) {
      if (!x.action || seen.has(x.command ?? x.text)) continue
      seen.add(x.command ?? x.text)
      out.push(x as Fix & {action: FixAction})
    }
  }
  return out
}

/** Applies (or with dryRun only lists) the safe fixes; `announce` is called with each command before it runs. */
export async function applyFixes(fixes: (Fix & {action: FixAction})[], dryRun: boolean, announce: (cmd: string) => void): Promise<AppliedFix[]> {
  const done: AppliedFix[] = []
  for (const fix of fixes) {
    const command = fix.command ?? fix.text
    announce(command)
    if (dryRun) {
      done.push({command, ok: true, dryRun})
      continue
    }
    try {
      const a = fix.action
      if (a.type === 'mount') {
        const r = await run('mount', ['-t', a.fstype, a.fstype === 'bpf' ? 'bpffs' : 'nodev', a.target])
        if (r.failed) throw new Error(r.stderr || `mount exited ${r.exitCode}`)
      } else {
        writeFileSync(a.path, `${a.value}\n`)
      }
      done.push({command, ok: true, dryRun})
    } catch (error) {
      done.push({command, ok: false, error: (error as Error).message, dryRun})
    }
  }
  return done
}
