// Talking to the kernel about namespaces and links: the addon's system calls to make them (no process), iproute2's
// JSON to read them back, ethtool, sysctls.
// Everything here asks the kernel; nothing trusts a state file.
import {mkdirSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {run, runChecked, type RunResult} from '../exec.js'
import {MARK, PREFIX} from './model.js'
import {loadNative, type LinkName} from '../native.js'

/** Runs argv inside a namespace (null: the host's). */
export function inNetns(netns: string | null, argv: string[], opts: {timeoutMs?: number; input?: string} = {}): Promise<RunResult> {
  return netns === null ? run(argv[0], argv.slice(1), opts) : run('ip', ['netns', 'exec', netns, ...argv], opts)
}

export const nsArgs = (netns: string | null) => (netns === null ? [] : ['-n', netns])

export async function ipJson<T>(netns: string | null, args: string[]): Promise<T> {
  const r = await runChecked('ip', [...nsArgs(netns), '-j', ...args])
  return (r.stdout.trim() === '' ? [] : JSON.parse(r.stdout)) as T
}

export interface IpLink {
  ifindex: number
  ifname: string
  ifalias?: string
  operstate: string
  flags: string[]
  mtu: number
  address?: string
  link_netnsid?: number
  num_tx_queues?: number
  num_rx_queues?: number
  linkinfo?: {info_kind?: string}
  xdp?: {mode: number; prog?: {id: number; name?: string}; attached?: {mode: number; prog: {id: number; name?: string}}[]}
  addr_info: {family: 'inet' | 'inet6'; local: string; prefixlen: number; scope?: string}[]
}

export interface IpRoute {
  dst: string
  gateway?: string
  dev?: string
  protocol?: string
  flags?: string[]
}

export const XDP_MODES: Record<number, string> = {1: 'native', 2: 'generic', 3: 'offload', 4: 'multi'}

export async function readLinks(netns: string | null): Promise<IpLink[]> {
  return ipJson<IpLink[]>(netns, ['-d', 'addr', 'show'])
}

export async function readRoutes(netns: string | null): Promise<IpRoute[]> {
  const [v4, v6] = await Promise.all([ipJson<IpRoute[]>(netns, ['route', 'show']), ipJson<IpRoute[]>(netns, ['-6', 'route', 'show'])])
  return [...v4, ...v6]
}

export const FORWARDING = {v4: 'net/ipv4/ip_forward', v6: 'net/ipv6/conf/all/forwarding'} as const

/** A node as the kernel has it: its links (with details), the routes of its main table, whether it forwards. */
export interface NodeRead {
  links: IpLink[]
  routes: IpRoute[]
  forwarding: {v4?: string; v6?: string} // '1' | '0', as the sysctls read
}

/**
 * readLinks, readRoutes and the forwarding sysctls of a namespace in one `ip -batch` process instead of
 * four (each process costs tens of ms on a busy machine). Forwarding comes from netconf's "all" entry, the
 * value net.ipv4.ip_forward and net.ipv6.conf.all.forwarding set. Each command prints one JSON array
 * (or none when empty); the rows say which command they came from.
 */
export async function readNode(netns: string | null): Promise<NodeRead> {
  const r = await run('ip', [...nsArgs(netns), '-j', '-d', '-batch', '-'], {input: 'addr show\nroute show table all\nnetconf show\n'})
  if (r.failed) throw new Error(`ip${netns ? ` -n ${netns}` : ''} -batch (addr, route, netconf show): ${r.stderr.split('\n')[0] || `exit ${r.exitCode}`}`)
  const rows = r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => JSON.parse(l) as Record<string, unknown>[])
  const all = (family: string) => rows.find((x) => x.interface === 'all' && x.family === family && !('ifindex' in x))?.forwarding
  const flag = (v: unknown) => (typeof v === 'boolean' ? (v ? '1' : '0') : undefined)
  return {
    links: rows.filter((x) => 'ifindex' in x && 'addr_info' in x) as unknown as IpLink[],
    // with -d every route names its table; the main table is what `ip route show` and `ip -6 route show` list
    routes: rows.filter((x) => 'dst' in x && (x.table ?? 'main') === 'main') as unknown as IpRoute[],
    forwarding: {v4: flag(all('inet')), v6: flag(all('inet6'))},
  }
}

/** Reads sysctls (paths under /proc/sys) as seen from inside a namespace. */
export async function readSysctls(netns: string | null, paths: string[]): Promise<Record<string, string | undefined>> {
  if (netns === null) return Object.fromEntries(paths.map((p) => [p, readProcSys(p)]))
  const r = await inNetns(netns, ['sh', '-c', paths.map((p) => `cat /proc/sys/${p} 2>/dev/null || echo -`).join('; ')])
  const values = r.stdout.split('\n')
  return Object.fromEntries(paths.map((p, i) => [p, values[i] === '-' || values[i] === undefined ? undefined : values[i].trim()]))
}

function readProcSys(p: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${p}`, 'utf8').trim()
  } catch {
    return undefined
  }
}

export async function writeSysctls(netns: string | null, values: Record<string, string>): Promise<void> {
  const script = Object.entries(values)
    .map(([p, v]) => `echo ${v} > /proc/sys/${p}`)
    .join(' && ')
  const r = await inNetns(netns, ['sh', '-c', script])
  if (r.failed) throw new Error(`setting ${Object.keys(values).join(', ')}${netns ? ` in ${netns}` : ''}: ${r.stderr || `exit ${r.exitCode}`}`)
}

/** Where `ip netns` names namespaces (a bind mount of each, one file per name). */
const NETNS_DIR = '/run/netns'

/** Namespaces being made wait here, unnamed, until they carry their mark (the name comes last). */
export const STAGING_DIR = '/run/ebpfperf/staging'

/** /run/netns as `ip netns add` leaves it: a shared mount, so names made later show in every mount namespace. */
export async function ensureNetnsDir(): Promise<void> {
  mkdirSync(STAGING_DIR, {recursive: true})
  const shared = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === '/run/netns' && / shared:\d+/.test(l))
  if (shared) return // as it stays once made: no process to spawn
  const r = await run('sh', ['-c', 'mkdir -p /run/netns && { mount --make-shared /run/netns 2>/dev/null || { mount --bind /run/netns /run/netns && mount --make-shared /run/netns; }; }'])
  if (r.failed) throw new Error(`preparing /run/netns: ${r.stderr || `exit ${r.exitCode}`}`)
}

/**
 * Makes namespaces already marked as ours (their sysctls set, lo up with the mark as its alias), each named
 * only once marked (see netnsMake in native/src/net/netns_topology.cc). A name taken meanwhile: NetnsExistsError.
 */
export function makeMarkedNetns(specs: {netns: string; mark: string; sysctls: Record<string, string>}[]): {netns: string; error?: Error}[] {
  const native = loadNative()
  return specs.map(({netns, mark, sysctls}) => {
    try {
      native.netnsMake(STAGING_DIR, netns, mark, sysctls)
      return {netns}
    } catch (error) {
      const e = error as NodeJS.ErrnoException
      return {netns, error: e.code === 'EEXIST' ? new NetnsExistsError(netns) : new Error(`making namespace ${netns}: ${e.message}`)}
    }
  })
}

export class NetnsExistsError extends Error {
  constructor(readonly netns: string) {
    super(`namespace ${netns} appeared while it was being made`)
  }
}

/** Drops staged namespaces whose names start with prefix (left by a crash before they were named). */
export async function clearStaged(prefix: string): Promise<string[]> {
  let names: string[]
  try {
    names = readdirSync(STAGING_DIR).filter((n) => n.startsWith(prefix))
  } catch {
    return []
  }
  for (const n of names) deleteNetns(join(STAGING_DIR, n))
  return names
}

/** `ip netns del` without the process: a name under /run/netns, or a staged binding's path. Already gone is fine. */
export function deleteNetns(nameOrPath: string): void {
  try {
    loadNative().netnsDelete(nameOrPath)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

/** The named namespaces: the entries of /run/netns, what `ip netns list` lists (read here without a process). */
export async function listNetns(): Promise<string[]> {
  try {
    return readdirSync(NETNS_DIR).sort()
  } catch {
    return []
  }
}

/** What the kernel says about a namespace with our prefix: its mark and whether anything lives in it. */
export interface NetnsInfo {
  name: string
  mark?: string // "ebpfperf:<topo>:<node>"
  empty: boolean // nothing but lo
}

export async function inspectNetns(name: string): Promise<NetnsInfo> {
  let links: LinkName[] = []
  try {
    links = loadNative().netnsLinks(name)
  } catch {
    // gone since it was listed
  }
  const lo = links.find((l) => l.ifname === 'lo')
  return {name, mark: lo?.ifalias?.startsWith(`${MARK}:`) ? lo.ifalias : undefined, empty: links.every((l) => l.ifname === 'lo')}
}

export async function ourNetns(topo?: string): Promise<NetnsInfo[]> {
  const names = (await listNetns()).filter((n) => n.startsWith(topo ? `${PREFIX}${topo}-` : PREFIX))
  return Promise.all(names.map((n) => inspectNetns(n)))
}

/** The host's links with our prefix, names and aliases. */
export async function hostLinks(): Promise<LinkName[]> {
  return loadNative()
    .netnsLinks(null)
    .filter((l) => l.ifname.startsWith(PREFIX))
}

/** The processes in each namespace, found as `ip netns pids` does (same nsfs inode), in one pass over /proc, no process. */
export async function netnsPidsOf(names: string[]): Promise<Map<string, number[]>> {
  const byInode = new Map<string, string>()
  for (const n of names) {
    try {
      const st = statSync(join(NETNS_DIR, n))
      byInode.set(`${st.dev}:${st.ino}`, n)
    } catch {
      // gone: no processes
    }
  }
  const out = new Map<string, number[]>(names.map((n) => [n, []]))
  if (byInode.size === 0) return out
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const st = statSync(`/proc/${d}/ns/net`)
      const n = byInode.get(`${st.dev}:${st.ino}`)
      if (n) out.get(n)!.push(Number(d))
    } catch {
      // exited meanwhile
    }
  }
  return out
}

/** SIGTERM, a short grace period, then SIGKILL; processes already gone are fine. */
export async function killAll(pids: number[], graceMs = 1000): Promise<void> {
  // a zombie (exited, not yet reaped by its parent) counts as gone
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    } catch {
      return false
    }
  }
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL')
}

export interface EthtoolFeatures {
  [feature: string]: {active: boolean; fixed: boolean | null; requested: boolean | null} | string
}

export async function readOffloads(netns: string | null, ifname: string): Promise<EthtoolFeatures | undefined> {
  const r = await inNetns(netns, ['ethtool', '--json', '-k', ifname])
  if (r.failed) return undefined
  return (JSON.parse(r.stdout) as EthtoolFeatures[])[0]
}

/** ethtool -K names for our offload keys. */
export const ETHTOOL_K: Record<string, {set: string; feature: string}> = {
  tx: {set: 'tx', feature: 'tx-checksumming'},
  rx: {set: 'rx', feature: 'rx-checksumming'},
  gro: {set: 'gro', feature: 'generic-receive-offload'},
  gso: {set: 'gso', feature: 'generic-segmentation-offload'},
  tso: {set: 'tso', feature: 'tcp-segmentation-offload'},
}

export async function tcFilters(netns: string | null, ifname: string): Promise<{ingress: unknown[]; egress: unknown[]}> {
  const get = async (dir: string) => {
    const r = await run('tc', [...nsArgs(netns), '-j', 'filter', 'show', 'dev', ifname, dir])
    return r.failed || r.stdout.trim() === '' ? [] : (JSON.parse(r.stdout) as unknown[])
  }
  const [ingress, egress] = await Promise.all([get('ingress'), get('egress')])
  return {ingress, egress}
}
