// Turns facts about a kernel into findings (status, evidence, fix) and findings into per-suite verdicts.
import type {Check, Profile} from './profile.js'
import type {Facts} from './facts.js'
import {MOUNTS, SYSCTLS, findMount, hasCap, type MountKind} from '../kernel/runtime.js'
import type {KconfigOption} from '../kernel/kconfig.js'
import {moduleState, unknownOption} from '../kernel/kconfig.js'

export type Status = 'pass' | 'fail' | 'warn' | 'unknown' | 'skip'
export type EvidenceKind = 'kconfig' | 'probe' | 'btf' | 'sysctl' | 'mount' | 'cap' | 'tool' | 'lsm' | 'memlock'

export interface Evidence {
  kind: EvidenceKind
  what: string // CONFIG_KPROBES, attach:fentry, func:udp_recvmsg, tracefs, CAP_BPF, iperf3 …
  status: Status
  value: string // what was seen, in words
  source: string // file (and line), probe, path
  errno?: number
  code?: string
  stage?: string
}

export type FixAction =
  | {type: 'mount'; fstype: string; target: string}
  | {type: 'sysctl'; name: string; path: string; value: string}

export interface Fix {
  text: string
  command?: string // what the user can run (shown verbatim)
  action?: FixAction // present only for fixes `--fix` may apply (safe runtime changes)
}

export interface Finding {
  profile: string
  id: string
  group: string
  title: string
  required: boolean
  cases: string[]
  status: Status
  summary: string
  evidence: Evidence[]
  fixes: Fix[]
  note?: string
  disagreement?: string
}

export type VerdictKind = 'runs' | 'runs-with-skips' | 'cannot-run' | 'unknown'

export interface Verdict {
  profile: string
  suite?: string
  verdict: VerdictKind
  text: string
  skipped: {case: string; because: string}[]
  blockers: {check: string; because: string}[]
}

const RANK: Record<Status, number> = {pass: 0, skip: 1, warn: 2, unknown: 3, fail: 4}
const worst = (xs: Status[]): Status => xs.reduce<Status>((a, b) => (RANK[b] > RANK[a] ? b : a), 'pass')

// ------------------------------------------------------------------ evidence
function kconfigValue(o: KconfigOption): string {
  switch (o.state) {
    case 'y':
    case 'm':
    case 'value':
      return `CONFIG_${o.name}=${o.value}`
    case 'not-set':
      return `# CONFIG_${o.name} is not set`
    case 'absent':
      return `CONFIG_${o.name} absent from the config (its dependencies are off, or this kernel has no such option)`
    default:
      return `CONFIG_${o.name}: unknown (no kernel config found)`
  }
}

function kconfigEvidence(name: string, check: Check, f: Facts, fixes: Fix[]): Evidence {
  const o = f.kconfig ? f.kconfig.get(name) : unknownOption(name)
  const source = f.kconfig ? `${f.kconfig.file}${o.line ? `:${o.line}` : ''}` : 'no config'
  const ev: Evidence = {kind: 'kconfig', what: `CONFIG_${name}`, status: 'pass', value: kconfigValue(o), source}
  if (o.state === 'unknown') ev.status = 'unknown'
  else if (o.state === 'not-set' || o.state === 'absent') {
    ev.status = 'fail'
    fixes.push({text: check.fix ?? `rebuild the kernel with CONFIG_${name}=y, or boot a kernel that has it (a kernel config cannot be changed at run time)`})
  } else if (o.state === 'm') {
    const mod = check.module[name]
    if (!mod) ev.value += ' (module; its name is not known to this profile)'
    else if (f.live) {
      const m = moduleState(mod, f.release)
      if (m.loaded || m.builtin) ev.value += ` (module ${mod} ${m.loaded ? 'loaded' : 'built in'})`
      else {
        ev.status = m.available ? 'warn' : 'fail'
        ev.value += ` (module ${mod} ${m.available ? 'installed but not loaded' : 'not installed for this kernel'})`
        fixes.push(m.available ? {text: `load the module`, command: `modprobe ${mod}`} : {text: `install the kernel's modules package, then: modprobe ${mod}`})
      }
    }
  }
  return ev
}

function probeEvidence(spec: string, f: Facts): Evidence {
  if (!f.live) return {kind: 'probe', what: spec, status: 'skip', value: 'not probed (--no-live)', source: 'live probe'}
  const r = f.probe(spec)
  if (!r) return {kind: 'probe', what: spec, status: 'unknown', value: 'not probed: the native addon is not loaded (see the header)', source: 'live probe'}
  return {
    kind: 'probe',
    what: spec,
    status: r.ok ? 'pass' : 'fail',
    value: r.ok ? r.message : `${r.message}${r.detail ? ` [${r.detail}]` : ''}`,
    source: 'live probe',
    ...(r.ok ? {} : {errno: r.errno, code: r.code, stage: r.stage}),
  }
}

function btfEvidence(spec: string, f: Facts, fixes: Fix[]): Evidence {
  const source = f.btfPath ?? 'no BTF'
  if (spec === 'vmlinux') {
    if (f.btf) return {kind: 'btf', what: 'vmlinux BTF', status: 'pass', value: `${f.btf.typeCount} types`, source}
    fixes.push({text: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (or pass --btf FILE for offline checks)'})
    return {kind: 'btf', what: 'vmlinux BTF', status: 'fail', value: `not found (tried ${f.btfTried.join(', ')})`, source}
  }
  const name = spec.slice('func:'.length)
  if (!f.btf) return {kind: 'btf', what: spec, status: 'unknown', value: 'no vmlinux BTF to look in', source}
  const fn = f.btf.findFunc(name)
  if (fn) return {kind: 'btf', what: spec, status: 'pass', value: `${name}(${fn.params.map((p) => p.name).join(', ')}) [id ${fn.id}]`, source}
  fixes.push({text: `${name} is not a traceable function in this kernel (renamed, inlined or compiled out): pick another target`})
  return {kind: 'btf', what: spec, status: 'fail', value: `function ${name} not in BTF`, source}
}

function runtimeEvidence(check: Check, f: Facts, fixes: Fix[]): Evidence[] {
  const out: Evidence[] = []
  const offline = (kind: EvidenceKind, what: string): Evidence => ({kind, what, status: 'skip', value: 'not checked (--no-live: this machine is not the kernel under test)', source: '-'})
  if (check.sysctl) {
    const {name, want, set} = check.sysctl
    const info = SYSCTLS[name]
    if (!f.live && !f.sysctls.has(name)) out.push(offline('sysctl', name)) // offline: judged from a saved `sysctl -a` (--sysctl) when given
    else {
      const v = f.sysctls.get(name)
      const meaning = v === undefined ? '' : info.meaning[v] ? ` (${info.meaning[v]})` : ''
      const ok = v !== undefined && (!want || want.includes(v))
      out.push({kind: 'sysctl', what: name, status: v === undefined ? 'fail' : ok ? 'pass' : 'warn', value: v === undefined ? 'not present' : `${v}${meaning}`, source: info.path})
      if (!ok && set !== undefined) fixes.push({text: `set ${name}`, command: `sysctl -w ${name}=${set}`, action: {type: 'sysctl', name, path: info.path, value: set}})
    }
  }
  if (check.mount) {
    if (!f.live) out.push(offline('mount', check.mount))
    else {
      const found = findMount(check.mount, f.mounts)
      out.push({kind: 'mount', what: check.mount, status: found ? 'pass' : 'fail', value: found ? `mounted at ${found.target}` : 'not mounted', source: '/proc/self/mounts'})
      if (!found) fixes.push(mountFix(check.mount, `mount ${check.mount}`))
    }
  }
  for (const cap of check.cap) {
    if (!f.live) out.push(offline('cap', cap))
    else {
      const ok = hasCap(cap, f.capEff)
      out.push({kind: 'cap', what: cap, status: ok ? 'pass' : 'fail', value: ok ? 'in the effective set' : 'missing from the effective set', source: '/proc/self/status CapEff'})
      if (!ok) fixes.push({text: 'run as root (sudo ebpfperf …) or grant the capability'})
    }
  }
  for (const t of check.tool) {
    if (!f.live) out.push(offline('tool', t))
    else {
      const info = f.tools.get(t)
      const ok = Boolean(info?.path)
      out.push({kind: 'tool', what: t, status: ok ? 'pass' : 'fail', value: ok ? `${info!.path}${info!.version ? ` ${info!.version}` : ''}` : 'not found on PATH', source: 'PATH'})
      if (!ok) fixes.push({text: `install ${t}`, command: `apt-get install -y ${info?.package ?? t}`})
    }
  }
  if (check.lsm) out.push(lsmEvidence(check.lsm, f, fixes))
  if (check.memlock !== undefined) {
    if (!f.live) out.push(offline('memlock', 'RLIMIT_MEMLOCK'))
    else {
      const limit = f.memlock
      const memcg = releaseAtLeast(f.release, 5, 11)
      const ok = memcg || (limit !== undefined && limit >= check.memlock)
      const shown = limit === undefined ? 'unknown' : limit === Number.POSITIVE_INFINITY ? 'unlimited' : `${Math.round(limit / 1024)} KiB`
      out.push({kind: 'memlock', what: 'RLIMIT_MEMLOCK', status: ok ? 'pass' : 'warn', value: `${shown}${memcg ? ' (kernel ≥ 5.11 charges BPF memory to the cgroup, not memlock)' : ''}`, source: '/proc/self/limits'})
      if (!ok) fixes.push({text: 'raise the locked-memory limit for the run', command: 'ulimit -l unlimited'})
    }
  }
  return out
}

/** The fix for a missing mount; `--fix` may apply it only where mounting there is safe. */
function mountFix(kind: MountKind, text: string): Fix {
  const m = MOUNTS[kind]
  return {text, command: m.fix, ...(m.safe ? {action: {type: 'mount' as const, fstype: m.fstype, target: m.where}} : {})}
}

function lsmEvidence(lsm: string, f: Facts, fixes: Fix[]): Evidence {
  if (f.live && f.lsms) {
    const ok = f.lsms.includes(lsm)
    if (!ok) fixes.push({text: `add ${lsm} to the active LSMs: boot with lsm=${[...f.lsms, lsm].join(',')}`})
    return {kind: 'lsm', what: `lsm:${lsm}`, status: ok ? 'pass' : 'fail', value: `active LSMs: ${f.lsms.join(',')}`, source: f.lsmSource}
  }
  const cmdline = /(?:^|\s)lsm=(\S+)/.exec(f.cmdline ?? '')?.[1] // offline: from --cmdline FILE
  const list = cmdline ?? f.kconfig?.get('LSM').value?.replace(/"/g, '')
  if (list === undefined) return {kind: 'lsm', what: `lsm:${lsm}`, status: 'unknown', value: 'active LSM list unknown (securityfs not mounted and no CONFIG_LSM)', source: f.lsmSource}
  const ok = list.split(',').includes(lsm)
  if (!ok) fixes.push({text: `boot with lsm=${list},${lsm}`})
  return {kind: 'lsm', what: `lsm:${lsm}`, status: ok ? 'pass' : 'fail', value: `${cmdline ? 'lsm= on the command line' : 'CONFIG_LSM default'}: ${list}`, source: cmdline ? '/proc/cmdline' : 'kernel config'}
}

// ------------------------------------------------------------------ one check
export function evaluateCheck(profile: string, check: Check, f: Facts): Finding {
  const fixes: Fix[] = []
  const kconf = check.kconfig.map((o) => kconfigEvidence(o, check, f, fixes))
  let anyStatus: Status | undefined
  if (check.kconfigAny.length > 0) {
    const anyFixes: Fix[] = []
    const any = check.kconfigAny.map((o) => kconfigEvidence(o, check, f, anyFixes))
    anyStatus = any.some((e) => e.status === 'pass') ? 'pass' : worst(any.map((e) => e.status))
    if (anyStatus !== 'pass') fixes.push({text: `rebuild the kernel with one of ${check.kconfigAny.map((o) => `CONFIG_${o}`).join(', ')}`})
    kconf.push(...any.map((e) => ({...e, what: `${e.what} (any of ${check.kconfigAny.length})`})))
  }
  const configStatus = worst([...check.kconfig.map((_, i) => kconf[i].status), ...(anyStatus ? [anyStatus] : [])])
  const probes = check.probe.map((p) => probeEvidence(p, f))
  const others = [...check.btf.map((b) => btfEvidence(b, f, fixes)), ...runtimeEvidence(check, f, fixes)]
  const live = probes.filter((e) => e.status !== 'skip')

  let status: Status
  let disagreement: string | undefined
  const othersStatus = worst(others.map((e) => e.status))
  if (live.length > 0) {
    // A live probe outranks the config file.
    const probeStatus = worst(live.map((e) => e.status))
    const refused = live.find((e) => e.status === 'fail' && e.stage !== 'setup') // 'setup': our preparation failed, not the kernel
    if (kconf.length > 0 && configStatus === 'pass' && refused) {
      const failed = refused
      disagreement = `the config allows it (${kconf.filter((e) => e.status === 'pass').map((e) => e.value).join(', ')}) but the kernel refused: ${failed.what} ${failed.stage ?? ''} failed with ${failed.code ?? 'an error'}`
      fixes.push({text: refusalAdvice(failed, f)})
      if (!f.lockdown && f.live && !findMount('securityfs', f.mounts)) fixes.push(mountFix('securityfs', 'mount securityfs to see the lockdown mode and the active LSMs'))
    } else if (kconf.length > 0 && configStatus === 'fail' && probeStatus === 'pass') {
      disagreement = `the config says it is missing (${kconf.filter((e) => e.status === 'fail').map((e) => e.value).join(', ')}) but the live probe succeeded: is ${f.kconfig?.file} the config of the running kernel?`
      fixes.length = 0
    }
    status = worst([probeStatus, othersStatus])
    if (probeStatus === 'pass') status = worst([othersStatus, ...kconf.filter((e) => e.status === 'warn').map((e) => e.status)])
  } else {
    const parts = [...(kconf.length > 0 ? [configStatus] : []), ...probes.map((e) => e.status), ...others.map((e) => e.status)].filter((s) => s !== 'skip')
    status = parts.length > 0 ? worst(parts) : 'skip'
  }
  if (status === 'fail' && !check.required) status = 'warn'

  const evidence = [...kconf, ...probes, ...others]
  return {
    profile,
    id: check.id,
    group: check.group,
    title: check.title,
    required: check.required,
    cases: check.cases,
    status,
    summary: summarize(status, evidence, check),
    evidence,
    fixes: dedupeFixes(fixes),
    note: check.note,
    disagreement,
  }
}

function refusalAdvice(e: Evidence, f: Facts): string {
  const lockdown = f.lockdown ? `lockdown is "${f.lockdown}"` : 'lockdown mode unknown (securityfs not mounted)'
  if (e.code === 'EPERM' || e.code === 'EACCES') {
    return `the kernel refuses this program type although it is configured: ${lockdown}; check LSM policies (SELinux/AppArmor/BPF LSM), that you run as root with CAP_SYS_ADMIN/CAP_BPF/CAP_PERFMON, and whether this is a sandboxed or hardened kernel (then use another kernel: ebpfperf vm)`
  }
  if (e.code === 'ENOENT' || e.code === 'ESRCH') return `the attach point does not exist in this kernel (${e.value})`
  if (e.code === 'EOPNOTSUPP' || e.code === 'ENOTSUPP' || e.code === 'EINVAL') return `this kernel does not support it in this form (${e.value}); a newer kernel may`
  return `the kernel refused: ${e.value}`
}

function dedupeFixes(fixes: Fix[]): Fix[] {
  const seen = new Set<string>()
  return fixes.filter((x) => {
    const k = x.command ?? x.text
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

function summarize(status: Status, evidence: Evidence[], check: Check): string {
  const bad = evidence.filter((e) => e.status === 'fail' || e.status === 'unknown' || e.status === 'warn')
  if (status === 'pass') return evidence.map((e) => (e.kind === 'kconfig' ? e.value : `${e.what} ok`)).slice(0, 3).join('; ')
  if (status === 'skip') return 'not checked'
  const first = bad.map((e) => (e.kind === 'kconfig' ? e.value : `${e.what}: ${e.code ? `${e.code} at ${e.stage}` : e.value}`))
  const cases = check.cases.length > 0 && status !== 'unknown' ? ` → skipped: ${check.cases.join(', ')}` : ''
  return `${first.slice(0, 2).join('; ')}${cases}`
}

// ------------------------------------------------------------------ verdicts
export function verdictFor(profile: Profile, findings: Finding[]): Verdict {
  const mine = findings.filter((x) => x.profile === profile.name)
  const blockers = mine.filter((x) => x.required && x.status === 'fail').map((x) => ({check: x.id, because: x.summary}))
  const unknown = mine.filter((x) => x.required && x.status === 'unknown')
  const skipped = mine
    .filter((x) => !x.required && (x.status === 'warn' || x.status === 'fail' || x.status === 'unknown'))
    .flatMap((x) => x.cases.map((c) => ({case: c, because: x.summary.replace(/ → skipped:.*$/, '')})))
  const name = profile.suite ? `suite ${profile.suite}` : profile.title
  if (blockers.length > 0) {
    return {profile: profile.name, suite: profile.suite, verdict: 'cannot-run', text: `${name} cannot run: ${blockers.map((b) => `${b.check} (${b.because})`).join('; ')}`, skipped, blockers}
  }
  if (unknown.length > 0) {
    return {profile: profile.name, suite: profile.suite, verdict: 'unknown', text: `${name}: cannot tell (${unknown.map((u) => u.id).join(', ')} unknown: no config and no live probe)`, skipped, blockers}
  }
  if (skipped.length > 0) {
    const uniq = [...new Set(skipped.map((s) => s.case))]
    return {profile: profile.name, suite: profile.suite, verdict: 'runs-with-skips', text: `${name} runs with these cases skipped: ${uniq.join(', ')}`, skipped, blockers}
  }
  return {profile: profile.name, suite: profile.suite, verdict: 'runs', text: `${name} runs: every case`, skipped, blockers}
}

/** Whether a kernel release ("6.1.0-18-amd64", "5.10.209") is major.minor or later; false when unreadable. */
export function releaseAtLeast(release: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release)
  if (!m) return false
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor)
}
