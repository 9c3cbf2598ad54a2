// Requirement profiles: YAML files naming what a suite (or a user's program) needs and which evidence proves it.
import {existsSync, readdirSync} from 'node:fs'
import {basename, join} from 'node:path'
import {readYaml, shippedJson} from '../util/input.js'
import {HELPERS, MAP_TYPES, PROG_TYPES} from '../kernel/uapi.js'
import {CAPS, MOUNTS, SYSCTLS, type CapName, type MountKind} from '../kernel/runtime.js'
import {ATTACH_KINDS} from '../native.js'
import {projectRoot} from '../util/paths.js'
import {BadInputError} from '../util/errors.js'

export const PROFILE_SCHEMA = 'ebpfperf/profile/v1'

export class ProfileError extends BadInputError {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`)
    this.name = 'ProfileError'
  }
}

export interface SysctlRequirement {
  name: string
  want?: string[] // acceptable values; absent: just needs to be readable
  set?: string // the value `--fix` writes when it is not acceptable
}

export interface Check {
  id: string
  group: string
  title: string
  required: boolean
  cases: string[] // what is skipped when this check does not pass
  note?: string
  fix?: string // replaces the generic "rebuild the kernel with CONFIG_X=y" advice
  kconfig: string[] // all of these
  kconfigAny: string[] // at least one of these
  module: Record<string, string> // option -> module name, for =m
  probe: string[] // prog:T, map:T, helper:PROGTYPE:NAME, attach:KIND
  btf: string[] // 'vmlinux' or 'func:NAME'
  sysctl?: SysctlRequirement
  mount?: MountKind
  cap: CapName[]
  tool: string[]
  lsm?: string
  memlock?: number // bytes wanted
}

export interface Profile {
  name: string
  title: string
  suite?: string
  file: string
  checks: Check[]
}

export const BUILTIN_PROFILE_DIR = () => join(projectRoot(), 'profiles')

export function listBuiltinProfiles(): string[] {
  const dir = BUILTIN_PROFILE_DIR()
  if (!existsSync(dir)) return []
  // the seed table first, then the suites in alphabetical order
  return readdirSync(dir)
    .filter((f) => f.endsWith('.profile.yml'))
    .map((f) => f.replace(/\.profile\.yml$/, ''))
    .sort((a, b) => (a === 'kernel-config' ? -1 : b === 'kernel-config' ? 1 : a < b ? -1 : a > b ? 1 : 0)) // not localeCompare: its first call sets up ICU (~20 ms)
}

/** A name of a shipped profile, or a path to the user's own file. */
export function resolveProfile(nameOrFile: string): string {
  if (/[/\\]/.test(nameOrFile) || nameOrFile.endsWith('.yml') || nameOrFile.endsWith('.yaml')) return nameOrFile
  const file = join(BUILTIN_PROFILE_DIR(), `${nameOrFile}.profile.yml`)
  if (!existsSync(file)) {
    throw new ProfileError(nameOrFile, `no such profile (shipped profiles: ${listBuiltinProfiles().join(', ')}; or give a path to a *.profile.yml file)`)
  }
  return file
}

export function loadProfile(nameOrFile: string): Profile {
  const file = resolveProfile(nameOrFile)
  // a shipped profile from the build's JSON copy (dist/profiles/) while it is newer than the YAML
  const doc = shippedJson(file, 'profiles') ?? readYaml(file, (reason) => new ProfileError(file, reason))
  return parseProfile(doc, file)
}

const PROBE = /^(prog|map|attach|helper):(.+)$/
const TOP_KEYS = new Set(['schema', 'name', 'title', 'suite', 'checks'])
const KNOWN_KEYS = new Set(['id', 'group', 'title', 'required', 'cases', 'note', 'fix', 'kconfig', 'kconfig_any', 'module', 'probe', 'btf', 'sysctl', 'mount', 'cap', 'tool', 'lsm', 'memlock'])

/** Validates a parsed document; every error names the file and the field. */
export function parseProfile(doc: unknown, file: string): Profile {
  const fail = (where: string, what: string): never => {
    throw new ProfileError(file, `${where}: ${what}`)
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) fail('document', 'expected a mapping with schema, name and checks')
  const d = doc as Record<string, unknown>
  for (const k of Object.keys(d)) if (!TOP_KEYS.has(k)) fail(k, `unknown key (known: ${[...TOP_KEYS].join(', ')})`)
  if (d.schema !== PROFILE_SCHEMA) fail('schema', `expected "${PROFILE_SCHEMA}", got ${JSON.stringify(d.schema)}`)
  if (typeof d.name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(d.name)) fail('name', 'expected a lower-case name ([a-z0-9._-])')
  if (!Array.isArray(d.checks) || d.checks.length === 0) fail('checks', 'expected a non-empty list')
  for (const k of ['title', 'suite']) if (d[k] !== undefined && typeof d[k] !== 'string') fail(k, 'expected a string')
  const strings = (v: unknown, where: string): string[] => {
    if (v === undefined) return []
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) return fail(where, 'expected a list of strings')
    return v as string[]
  }
  const ids = new Set<string>()
  const checks = (d.checks as unknown[]).map((raw, i): Check => {
    const where = `checks[${i}]`
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return fail(where, 'expected a mapping')
    const c = raw as Record<string, unknown>
    for (const k of Object.keys(c)) if (!KNOWN_KEYS.has(k)) fail(`${where}.${k}`, `unknown key (known: ${[...KNOWN_KEYS].join(', ')})`)
    if (typeof c.id !== 'string' || c.id === '') fail(`${where}.id`, 'expected a string')
    const id = c.id as string
    if (ids.has(id)) fail(`${where}.id`, `duplicate id "${id}"`)
    ids.add(id)
    const at = `checks[${id}]`
    const probe = strings(c.probe, `${at}.probe`)
    for (const p of probe) validateProbe(p, (what) => fail(`${at}.probe`, what))
    const btf = strings(c.btf, `${at}.btf`)
    for (const b of btf) if (b !== 'vmlinux' && !/^func:\w+$/.test(b)) fail(`${at}.btf`, `"${b}" is neither vmlinux nor func:NAME`)
    const cap = strings(c.cap, `${at}.cap`)
    for (const x of cap) if (!(x in CAPS)) fail(`${at}.cap`, `unknown capability "${x}" (known: ${Object.keys(CAPS).join(', ')})`)
    if (c.mount !== undefined && !(typeof c.mount === 'string' && c.mount in MOUNTS)) fail(`${at}.mount`, `expected one of ${Object.keys(MOUNTS).join(', ')}`)
    let sysctl: SysctlRequirement | undefined
    if (c.sysctl !== undefined) {
      const s = c.sysctl as Record<string, unknown>
      if (!s || typeof s !== 'object' || typeof s.name !== 'string') fail(`${at}.sysctl`, 'expected {name, want?, set?}')
      if (!(s.name as string in SYSCTLS)) fail(`${at}.sysctl.name`, `unknown sysctl "${s.name}" (known: ${Object.keys(SYSCTLS).join(', ')})`)
      sysctl = {name: s.name as string, want: s.want === undefined ? undefined : strings(s.want, `${at}.sysctl.want`), set: s.set === undefined ? undefined : String(s.set)}
    }
    const module: Record<string, string> = {}
    if (c.module !== undefined) {
      if (!c.module || typeof c.module !== 'object' || Array.isArray(c.module)) fail(`${at}.module`, 'expected a mapping OPTION: module_name')
      for (const [k, v] of Object.entries(c.module as object)) module[k] = String(v)
    }
    if (c.memlock !== undefined && typeof c.memlock !== 'number') fail(`${at}.memlock`, 'expected a number of bytes')
    const check: Check = {
      id,
      group: typeof c.group === 'string' ? c.group : 'General',
      title: typeof c.title === 'string' ? c.title : id,
      required: c.required === true,
      cases: strings(c.cases, `${at}.cases`),
      note: typeof c.note === 'string' ? c.note : undefined,
      fix: typeof c.fix === 'string' ? c.fix : undefined,
      kconfig: strings(c.kconfig, `${at}.kconfig`).map((o) => o.replace(/^CONFIG_/, '')),
      kconfigAny: strings(c.kconfig_any, `${at}.kconfig_any`).map((o) => o.replace(/^CONFIG_/, '')),
      module,
      probe,
      btf,
      sysctl,
      mount: c.mount as MountKind | undefined,
      cap: cap as CapName[],
      tool: strings(c.tool, `${at}.tool`),
      lsm: typeof c.lsm === 'string' ? c.lsm : undefined,
      memlock: c.memlock as number | undefined,
    }
    const evidence = check.kconfig.length + check.kconfigAny.length + probe.length + btf.length + cap.length + check.tool.length
    if (evidence === 0 && !sysctl && !check.mount && !check.lsm && check.memlock === undefined) fail(at, 'names no evidence (kconfig, probe, btf, sysctl, mount, cap, tool, lsm or memlock)')
    return check
  })
  return {name: d.name as string, title: typeof d.title === 'string' ? d.title : (d.name as string), suite: typeof d.suite === 'string' ? d.suite : undefined, file: basename(file), checks}
}

function validateProbe(p: string, fail: (what: string) => never): void {
  const m = PROBE.exec(p)
  if (!m) fail(`"${p}" is not prog:TYPE, map:TYPE, helper:PROGTYPE:NAME or attach:KIND`)
  const [, kind, arg] = m!
  if (kind === 'prog' && !(arg in PROG_TYPES)) fail(`unknown program type "${arg}"`)
  if (kind === 'map' && !(arg in MAP_TYPES)) fail(`unknown map type "${arg}"`)
  if (kind === 'attach' && !(ATTACH_KINDS as readonly string[]).includes(arg)) fail(`unknown attach kind "${arg}" (known: ${ATTACH_KINDS.join(', ')})`)
  if (kind === 'helper') {
    const [prog, helper] = arg.split(':')
    if (!(prog in PROG_TYPES)) fail(`unknown program type "${prog}" in "${p}"`)
    if (!helper || !(helper in HELPERS)) fail(`unknown helper "${helper}" in "${p}"`)
  }
}
