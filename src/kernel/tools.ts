// The user-space tools the suites drive, and their versions.
import {readFileSync, realpathSync} from 'node:fs'
import {run, which} from '../exec.js'
import {readText} from './runtime.js'

export interface ToolInfo {
  name: string
  package: string // Debian package that provides it
  path?: string
  version?: string
  /** Where the version came from: the dpkg package that owns the file, or the tool's own --version. */
  versionFrom?: string
}

const TOOLS: Record<string, {package: string; args: string[]; pattern: RegExp}> = {
  iperf3: {package: 'iperf3', args: ['--version'], pattern: /iperf (\S+)/},
  ip: {package: 'iproute2', args: ['-V'], pattern: /iproute2-([\w.]+)/},
  tc: {package: 'iproute2', args: ['-V'], pattern: /iproute2-([\w.]+)/},
  ethtool: {package: 'ethtool', args: ['--version'], pattern: /ethtool version (\S+)/},
  clang: {package: 'clang', args: ['--version'], pattern: /clang version (\S+)/},
  bpftool: {package: 'bpftool', args: ['version'], pattern: /bpftool v?(\S+)/},
  ping: {package: 'iputils-ping', args: ['-V'], pattern: /iputils[- ](\S+)/},
}

export const KNOWN_TOOLS = Object.keys(TOOLS)

/**
 * Where a tool is and (unless `version` is false, which runs nothing) its version: from dpkg's database
 * when a package of that name owns the file (no process started: doctor stays fast), else from running it.
 */
export async function probeTool(name: string, version = true): Promise<ToolInfo> {
  const t = TOOLS[name] ?? {package: name, args: ['--version'], pattern: /(\d+\.\d+(?:\.\d+)?)/}
  const path = which(name)
  if (!path || !version) return {name, package: t.package, path}
  const fromDpkg = dpkgVersion(t.package, path)
  if (fromDpkg) return {name, package: t.package, path, version: fromDpkg.version, versionFrom: `dpkg (${fromDpkg.package})`}
  const r = await run(path, t.args, {timeoutMs: 5000})
  const m = t.pattern.exec(`${r.stdout}\n${r.stderr}`)
  return {name, package: t.package, path, version: m?.[1], versionFrom: m ? `${name} ${t.args.join(' ')}` : undefined}
}

const DPKG = '/var/lib/dpkg'

/**
 * The upstream version of the Debian package that owns `path` (or the file it links to), among the
 * packages named `pkg` or `pkg-*` (clang → clang-14). undefined: no dpkg database, or no such package owns it.
 */
export function dpkgVersion(pkg: string, path: string, root = DPKG): {package: string; version: string} | undefined {
  const db = dpkgDb(root)
  if (!db) return undefined
  const installed = packagesNamed(db, pkg)
    .map((n) => ({n, stanza: stanzaOf(db, n)}))
    .filter((x): x is {n: string; stanza: string} => x.stanza !== undefined && /^Status: .* installed$/m.test(x.stanza))
  const listOf = (n: string, stanza: string): Set<string> => {
    const key = `${root}/${n}`
    let l = lists.get(key)
    if (!l) {
      const arch = /^Architecture: (\S+)$/m.exec(stanza)?.[1]
      l = new Set((readText(`${root}/info/${n}.list`) ?? readText(`${root}/info/${n}:${arch}.list`) ?? '').split('\n'))
      lists.set(key, l)
    }
    return l
  }
  // the file itself first (clang → /usr/lib/llvm-14/bin/clang, clang-14's), then the name on PATH;
  // usrmerge: dpkg may list /bin/ip for /usr/bin/ip
  const real = safeRealpath(path)
  for (const p of [...new Set([real, path].filter((x): x is string => Boolean(x)))]) {
    const variants = [p, p.replace(/^\/usr\/(s?bin)\//, '/$1/')]
    for (const {n, stanza} of installed) {
      const list = listOf(n, stanza)
      if (!variants.some((v) => list.has(v))) continue
      const v = /^Version: (\S+)$/m.exec(stanza)?.[1]
      if (v) return {package: n, version: upstreamVersion(v)}
    }
  }
  return undefined
}

const dbs = new Map<string, string | null>()
/** The files each package installed (info/NAME.list), by `${root}/${name}`: read once per process. */
const lists = new Map<string, Set<string>>()
/**
 * dpkg's status file, read once per process, as one byte per character: the fields read here are ASCII,
 * and decoding the whole file as UTF-8 (package descriptions, ~0.7 MB) would take most of doctor's tools step.
 */
function dpkgDb(root: string): string | undefined {
  if (!dbs.has(root)) {
    let status: string | null = null
    try {
      status = readFileSync(`${root}/status`).toString('latin1')
    } catch {
      // no dpkg here
    }
    dbs.set(root, status)
  }
  return dbs.get(root) ?? undefined
}

/** The package names in `status` that are `pkg` or start with `pkg-`, in file order. */
function packagesNamed(status: string, pkg: string): string[] {
  const out: string[] = []
  const field = `Package: ${pkg}`
  for (let at = status.startsWith(field) ? 0 : status.indexOf(`\n${field}`); at >= 0; at = status.indexOf(`\n${field}`, at + 1)) {
    const from = at === 0 && status.startsWith(field) ? field.length : at + 1 + field.length
    const end = status.indexOf('\n', from)
    const name = pkg + status.slice(from, end < 0 ? undefined : end)
    if (name === pkg || name.startsWith(`${pkg}-`)) out.push(name)
  }
  return out
}

function stanzaOf(status: string, pkg: string): string | undefined {
  const at = status.indexOf(`\nPackage: ${pkg}\n`)
  const start = at >= 0 ? at + 1 : status.startsWith(`Package: ${pkg}\n`) ? 0 : -1
  if (start < 0) return undefined
  const end = status.indexOf('\n\n', start)
  return status.slice(start, end < 0 ? undefined : end)
}

/** "1:14.0.6-12" → "14.0.6", "3.12-1+deb12u2" → "3.12": no epoch, no Debian revision. */
export function upstreamVersion(v: string): string {
  const noEpoch = v.replace(/^\d+:/, '')
  const dash = noEpoch.lastIndexOf('-')
  return dash > 0 ? noEpoch.slice(0, dash) : noEpoch
}

function safeRealpath(p: string): string | undefined {
  try {
    return realpathSync(p)
  } catch {
    return undefined
  }
}
