// Kernel build configuration: where to find it, how to read it, what an option's value means.
import {existsSync, readFileSync} from 'node:fs'
import {MIB, gunzipInput, isGzip, readInput} from '../util/input.js'
import {BadInputError} from '../util/errors.js'

/** y, m, a string/number value, "is not set", not in the file at all, or no config to ask. */
export type KconfigState = 'y' | 'm' | 'value' | 'not-set' | 'absent' | 'unknown'

export interface KconfigOption {
  name: string // without the CONFIG_ prefix
  state: KconfigState
  value?: string // raw right-hand side for y/m/value
  line?: number // 1-based line in the (decompressed) file
}

export class KconfigError extends BadInputError {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`)
    this.name = 'KconfigError'
  }
}

export interface KconfigCandidate {
  path: string
  via: string // why this path was considered: "--kconfig", "EBPFPERF_KCONFIG", "running kernel"
}

export interface KconfigDiscovery {
  path?: string
  via?: string
  tried: {path: string; via: string; result: string}[]
}

/** The search order, shown to the user as it is tried. */
export function kconfigCandidates(release: string, explicit?: string, env?: string): KconfigCandidate[] {
  if (explicit) return [{path: explicit, via: '--kconfig'}]
  if (env) return [{path: env, via: 'EBPFPERF_KCONFIG'}]
  return [
    '/proc/config.gz',
    `/boot/config-${release}`,
    `/lib/modules/${release}/config`,
    `/usr/lib/modules/${release}/config`,
    '/boot/config',
  ].map((path) => ({path, via: 'running kernel'}))
}

/**
 * Walks the candidates; the first that exists wins. An explicit path that does not exist is bad
 * input (KconfigError), a missing default is simply recorded as tried.
 */
export function discoverKconfig(release: string, explicit?: string, env?: string): KconfigDiscovery {
  const tried: KconfigDiscovery['tried'] = []
  for (const c of kconfigCandidates(release, explicit, env)) {
    if (c.via !== 'running kernel') {
      return {path: c.path, via: c.via, tried: [{...c, result: 'given'}]}
    }
    if (existsSync(c.path)) {
      tried.push({...c, result: 'found'})
      return {path: c.path, via: c.via, tried}
    }
    tried.push({...c, result: 'not found'})
  }
  return {tried}
}

const OPTION = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/
const NOT_SET = /^# CONFIG_([A-Za-z0-9_]+) is not set$/

/** A kernel config is ~300 KiB (all options set: ~1 MiB); the cap applies to it raw and inflated. */
const KCONFIG_MAX_BYTES = 16 * MIB

export class Kconfig {
  private constructor(
    readonly file: string,
    private readonly entries: Map<string, {value?: string; line: number}>,
    readonly header: string | undefined,
  ) {}

  /**
   * Reads a plain or gzip-compressed config; anything else is a KconfigError naming the file. A named pipe
   * is read too (`--kconfig <(ssh host cat /proc/config.gz)`), up to the same cap.
   */
  static fromFile(path: string): Kconfig {
    return Kconfig.fromBuffer(readInput(path, (reason) => new KconfigError(path, reason), {maxBytes: KCONFIG_MAX_BYTES, fifo: true}), path)
  }

  static fromBuffer(buf: Buffer, label: string): Kconfig {
    let text: string
    if (isGzip(buf)) {
      text = gunzipInput(buf, (reason) => new KconfigError(label, reason), KCONFIG_MAX_BYTES).toString('utf8')
    } else {
      if (buf.includes(0)) throw new KconfigError(label, 'not a kernel config: binary data (expected text or gzip)')
      text = buf.toString('utf8')
    }

    const entries = new Map<string, {value?: string; line: number}>()
    let header: string | undefined
    const lines = text.split('\n')
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trimEnd()
      if (line === '') continue
      const m = OPTION.exec(line)
      if (m) {
        entries.set(m[1], {value: m[2], line: i + 1})
        continue
      }
      const n = NOT_SET.exec(line)
      if (n) {
        entries.set(n[1], {line: i + 1})
        continue
      }
      if (line.startsWith('#')) {
        const h = /^# Linux\/\S+ (\S+) Kernel Configuration/.exec(line)
        if (h) header = h[1]
        continue
      }
      const shown = line.length > 40 ? `${line.slice(0, 40)}…` : line
      throw new KconfigError(label, `not a kernel config: line ${i + 1} ("${shown}") is neither CONFIG_X=… nor a comment`)
    }
    if (entries.size === 0) throw new KconfigError(label, 'not a kernel config: no CONFIG_ lines')
    return new Kconfig(label, entries, header)
  }

  get size(): number {
    return this.entries.size
  }

  /** The kernel version named in the file's header comment, when present. */
  get kernelVersion(): string | undefined {
    return this.header
  }

  get(name: string): KconfigOption {
    const bare = name.replace(/^CONFIG_/, '')
    const e = this.entries.get(bare)
    if (!e) return {name: bare, state: 'absent'}
    if (e.value === undefined) return {name: bare, state: 'not-set', line: e.line}
    const state: KconfigState = e.value === 'y' ? 'y' : e.value === 'm' ? 'm' : 'value'
    return {name: bare, state, value: e.value, line: e.line}
  }

  /** Every option and its value, sorted by name (two copies of a config compare equal this way). */
  entriesSorted(): [string, string | undefined][] {
    return [...this.entries].map(([k, v]) => [k, v.value] as [string, string | undefined]).sort(([a], [b]) => (a < b ? -1 : 1))
  }
}

/** Used when no config was found: every option is unknown, never "not set". */
export const unknownOption = (name: string): KconfigOption => ({name: name.replace(/^CONFIG_/, ''), state: 'unknown'})

export interface ModuleState {
  loaded: boolean
  builtin: boolean
  available: boolean // a .ko exists for this kernel
}

/** Whether a module for an =m option is loaded, built in, or at least installed. */
export function moduleState(module: string, release: string): ModuleState {
  const alt = module.replace(/-/g, '_')
  let loaded = existsSync(`/sys/module/${alt}/initstate`)
  try {
    loaded ||= readFileSync('/proc/modules', 'utf8').split('\n').some((l) => l.split(' ')[0] === alt)
  } catch {
    // no /proc/modules: a kernel without module support
  }
  let builtin = false
  let available = false
  for (const base of [`/lib/modules/${release}`, `/usr/lib/modules/${release}`]) {
    try {
      const list = readFileSync(`${base}/modules.builtin`, 'utf8')
      builtin ||= list.split('\n').some((l) => l.endsWith(`/${module}.ko`) || l.endsWith(`/${alt}.ko`))
    } catch {
      // not installed
    }
    try {
      const dep = readFileSync(`${base}/modules.dep`, 'utf8')
      available ||= new RegExp(`/(${module}|${alt})\\.ko(\\.[gx]z|\\.zst)?:`).test(dep)
    } catch {
      // not installed
    }
  }
  return {loaded, builtin, available}
}
