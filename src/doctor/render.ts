// The human view of a doctor report: grouped tables, evidence, fixes, verdicts. Honours NO_COLOR.
import {Chalk, type ChalkInstance} from 'chalk'
import type {DoctorReport} from './index.js'
import type {Finding, Status, Verdict} from './evaluate.js'

export function makeChalk(env: NodeJS.ProcessEnv = process.env, tty = Boolean(process.stdout.isTTY)): ChalkInstance {
  const off = env.NO_COLOR !== undefined && env.NO_COLOR !== ''
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0'
  return new Chalk({level: off ? 0 : forced || tty ? 1 : 0})
}

const MARK: Record<Status, string> = {pass: '✔', fail: '✘', warn: '!', unknown: '?', skip: '-'}

export interface RenderOptions {
  verbose?: boolean // show evidence of passing checks too
  chalk?: ChalkInstance
}

export function renderReport(r: DoctorReport, opts: RenderOptions = {}): string {
  const c = opts.chalk ?? makeChalk()
  const paint: Record<Status, (s: string) => string> = {pass: c.green, fail: c.red, warn: c.yellow, unknown: c.magenta, skip: c.gray}
  const out: string[] = []
  const k = r.kernel
  out.push(c.bold(`ebpfperf doctor — kernel ${k.release}${k.machine === 'unknown' ? '' : ` (${k.machine})`}${k.live ? '' : ' — offline (--no-live)'}`))
  const cfg = r.config
  out.push(`  config   ${cfg.path ? `${cfg.path} (${cfg.via}, ${cfg.options} options${cfg.kernelVersion ? `, says ${cfg.kernelVersion}` : ''})` : c.magenta('none found: every option is reported as unknown, never as "not set"')}`)
  out.push(c.gray(`           searched: ${cfg.tried.map((t) => `${t.path} (${t.result})`).join(', ')}`))
  out.push(`  BTF      ${r.btf.path ? `${r.btf.path} (${r.btf.types} types)` : c.magenta(`none (tried ${r.btf.tried.join(', ') || 'nothing: pass --btf FILE'})`)}`)
  if (k.live) out.push(`  probes   live, libbpf ${k.libbpf ?? c.red(`unavailable: ${k.nativeError}`)}; lockdown ${k.lockdown ?? `unknown (${k.lockdownSource})`}`)
  if (r.system) out.push('', ...renderSystem(r, c))

  for (const p of r.profiles) {
    out.push('', c.bold(`${p.title}`) + c.gray(`  [${p.file}]`))
    const mine = r.findings.filter((f) => f.profile === p.name)
    for (const group of [...new Set(mine.map((f) => f.group))]) {
      out.push(`  ${c.underline(group)}`)
      for (const f of mine.filter((x) => x.group === group)) out.push(...renderFinding(f, paint, c, opts.verbose ?? false))
    }
  }

  out.push('', c.bold('Verdicts'))
  for (const v of r.verdicts) out.push(`  ${renderVerdict(v, c)}`)
  const s = r.summary
  out.push('', `${s.pass} passed, ${s.fail} failed, ${s.warn} warnings, ${s.unknown} unknown, ${s.skip} not checked`)
  return out.join('\n')
}

function renderFinding(f: Finding, paint: Record<Status, (s: string) => string>, c: ChalkInstance, verbose: boolean): string[] {
  const lines = [`    ${paint[f.status](`${MARK[f.status]} ${f.status.padEnd(7)}`)} ${f.id.padEnd(30)} ${f.title}${f.required ? c.gray(' (required)') : ''}`]
  const show = verbose || f.status !== 'pass'
  const ev = show ? f.evidence : f.evidence.filter((e) => e.kind === 'kconfig' || e.kind === 'probe')
  for (const e of ev) {
    const where = e.kind === 'kconfig' ? c.gray(` (${e.source})`) : ''
    const text = e.kind === 'kconfig' ? e.value : `${e.what}: ${e.value}`
    lines.push(`                ${paint[e.status](MARK[e.status])} ${text}${where}`)
  }
  if (f.status === 'pass') return lines
  if (f.disagreement) lines.push(c.yellow(`                disagreement: ${f.disagreement}`))
  if (f.cases.length > 0 && f.status !== 'skip') lines.push(`                skipped: ${f.cases.join(', ')}`)
  for (const x of f.fixes) lines.push(c.cyan(`                fix: ${x.command ? `${x.command}  # ${x.text}` : x.text}`))
  if (f.note) lines.push(c.gray(`                note: ${f.note}`))
  return lines
}

function renderSystem(r: DoctorReport, c: ChalkInstance): string[] {
  const s = r.system!
  const out = [c.bold('System')]
  for (const x of s.sysctls) out.push(`  ${x.name.padEnd(34)} ${x.value ?? c.magenta('absent')}${x.meaning ? c.gray(`  ${x.meaning}`) : ''}`)
  out.push(`  ${'mounts'.padEnd(34)} ${Object.entries(s.mounts).map(([k, v]) => (v ? `${k} ${v}` : c.yellow(`${k} not mounted`))).join(', ')}`)
  out.push(`  ${'capabilities'.padEnd(34)} ${Object.entries(s.capabilities).map(([k, v]) => (v ? k : c.red(`no ${k}`))).join(' ')}`)
  out.push(`  ${'lockdown'.padEnd(34)} ${s.lockdown ?? c.magenta(`unknown (${r.kernel.lockdownSource})`)}`)
  out.push(`  ${'active LSMs'.padEnd(34)} ${s.lsms?.join(',') ?? c.magenta('unknown (securityfs not mounted)')}`)
  out.push(`  ${'ulimit -l'.padEnd(34)} ${s.memlockBytes === undefined ? '?' : s.memlockBytes === 'unlimited' ? 'unlimited' : `${Math.round(s.memlockBytes / 1024)} KiB`}`)
  out.push(`  ${'tools'.padEnd(34)} ${s.tools.map((t) => (t.path ? `${t.name} ${t.version ?? ''}`.trim() : c.yellow(`${t.name} missing (apt-get install ${t.package})`))).join(', ')}`)
  return out
}

function renderVerdict(v: Verdict, c: ChalkInstance): string {
  const color = v.verdict === 'runs' ? c.green : v.verdict === 'runs-with-skips' ? c.yellow : v.verdict === 'cannot-run' ? c.red : c.magenta
  const lines = [color(v.text)]
  const byCase = new Map<string, string>()
  for (const s of v.skipped) if (!byCase.has(s.case)) byCase.set(s.case, s.because)
  if (v.verdict === 'runs-with-skips') for (const [k, why] of byCase) lines.push(c.gray(`      - ${k}: ${why}`))
  return lines.join('\n')
}
