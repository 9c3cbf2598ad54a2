// Bring a topology up (idempotent, verified, undone newest-first on failure), find it again by asking
// the kernel, and tear it down whatever state it is in.
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, renameSync} from 'node:fs'
import {join} from 'node:path'
import {MARK, PREFIX, type Offload, type Plan, type PlanEnd, type PlanNode, type Reachability} from './model.js'
import {
  ETHTOOL_K,
  FORWARDING,
  hostLinks,
  inNetns,
  killAll,
  listNetns,
  netnsPidsOf,
  ourNetns,
  readNode,
  readSysctls,
  clearStaged,
  deleteNetns,
  ensureNetnsDir,
  makeMarkedNetns,
  writeSysctls,
  NetnsExistsError,
  type IpLink,
  type IpRoute,
} from './kernel.js'
import {run, start, type RunResult, type Started} from '../exec.js'
import {InterruptedError, withSignals} from '../util/signals.js'
import {lockTopology, lockedNames, withLocks} from '../util/lock.js'
import {restoreLeftovers} from '../util/syschanges.js'
import {projectRoot} from '../util/paths.js'
import {BadInputError} from '../util/errors.js'
import {now, span, timed} from '../doctor/timing.js'
import {loadNative} from '../native.js'

export const STATE_DIR = '/run/ebpfperf/topology'
export const PIN_DIR = '/sys/fs/bpf/ebpfperf'
const stateFile = (topo: string) => join(STATE_DIR, `${topo}.json`)
const mark = (topo: string, node: string) => `${MARK}:${topo}:${node}`
const NO_DAD = {'net/ipv6/conf/all/accept_dad': '0', 'net/ipv6/conf/default/accept_dad': '0'}
export const XDP_PASS_OBJECT = () => join(projectRoot(), 'bpf', '.output', 'baseline.bpf.o')

/** Bad input that is only visible in the kernel: a name someone else owns (exit code 2). */
export class CollisionError extends BadInputError {}

interface State {
  topology: string
  file: string
  dut: 'netns' | 'host'
  created: string
  hostLinks?: string[] // host links this topology makes (--dut host)
  hostSysctls?: Record<string, string> // values before --dut host changed them
}

/** Runs fn, recording how long it took as phase `name` (EBPFPERF_TOPOLOGY_TIMING, see fast.ts). */
export async function spanOf<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t = now()
  try {
    return await fn()
  } finally {
    span(name, t)
  }
}

const definedOnly = (r: Record<string, string | undefined>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Record<string, string>

function writeState(s: State): void {
  mkdirSync(STATE_DIR, {recursive: true})
  const tmp = `${stateFile(s.topology)}.tmp`
  writeFileSync(tmp, JSON.stringify(s, null, 2))
  renameSync(tmp, stateFile(s.topology))
}

function readState(topo: string): State | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(topo), 'utf8')) as State
  } catch {
    return undefined
  }
}

// ------------------------------------------------------------------ reading what exists
export interface NodeState {
  node: string
  netns: string | null
  exists: boolean
  mark?: string
  links: IpLink[]
  routes: IpRoute[]
  forwarding: {v4?: string; v6?: string}
}

export interface Observed {
  nodes: NodeState[]
  drift: string[] // empty: the kernel matches the plan
  absent: boolean // nothing of this topology exists
  namespaces: string[] // every named namespace, as listed when observed
}

/** What the kernel has of the plan: one `ip -batch` per node, all at once (see readNode). */
export async function observe(plan: Plan): Promise<Observed> {
  const namespaces = await listNetns()
  const present = new Set(namespaces)
  const nodes = await Promise.all(
    plan.nodes.map(async (n): Promise<NodeState> => {
      const gone: NodeState = {node: n.name, netns: n.netns, exists: false, links: [], routes: [], forwarding: {}}
      if (n.netns !== null && !present.has(n.netns)) return gone
      // gone since it was listed (or a name without a namespace behind it yet): as if it had not been there
      const read = await readNode(n.netns).catch((error: Error) => (n.netns === null ? Promise.reject(error) : undefined))
      if (!read) return gone
      const mine = n.netns === null ? read.links.filter((l) => l.ifalias === mark(plan.name, n.name)) : read.links
      // a namespace's mark is its lo's alias (inspectNetns), read here with its other links
      const lo = n.netns === null ? undefined : read.links.find((l) => l.ifname === 'lo')?.ifalias
      const nsMark = lo?.startsWith(`${MARK}:`) ? lo : undefined
      return {node: n.name, netns: n.netns, exists: true, mark: nsMark, links: mine, routes: read.routes, forwarding: read.forwarding}
    }),
  )
  return {nodes, drift: drift(plan, nodes), absent: nodes.every((s) => (s.netns === null ? s.links.length === 0 : !s.exists)), namespaces}
}

function drift(plan: Plan, nodes: NodeState[]): string[] {
  const out: string[] = []
  const byNode = new Map(nodes.map((s) => [s.node, s]))
  for (const n of plan.nodes) {
    const s = byNode.get(n.name)!
    if (!s.exists) {
      out.push(`namespace ${n.netns} is missing`)
      continue
    }
    if (n.netns !== null && s.mark !== mark(plan.name, n.name)) out.push(`namespace ${n.netns} is not marked as ${mark(plan.name, n.name)}`)
    if (n.forwarding && (s.forwarding.v4 !== '1' || s.forwarding.v6 !== '1')) out.push(`${n.name}: forwarding is off (ipv4 ${s.forwarding.v4}, ipv6 ${s.forwarding.v6})`)
  }
  for (const l of plan.links) {
    for (const e of l.ends) {
      const s = byNode.get(e.node)!
      if (!s.exists) continue
      const link = s.links.find((x) => x.ifname === e.ifname)
      if (!link) {
        out.push(`${e.node}: link ${e.ifname} is missing`)
        continue
      }
      if (!link.flags.includes('UP')) out.push(`${e.node}: ${e.ifname} is down`)
      if (l.mtu !== undefined && link.mtu !== l.mtu) out.push(`${e.node}: ${e.ifname} mtu ${link.mtu}, want ${l.mtu}`)
      for (const a of e.addresses) {
        if (!link.addr_info.some((x) => x.local === a.address && x.prefixlen === a.prefix)) out.push(`${e.node}: ${e.ifname} lacks ${a.cidr}`)
      }
      if (e.xdpPeer && !link.xdp) out.push(`${e.node}: ${e.ifname} has no XDP peer program`)
    }
  }
  for (const r of plan.routes) {
    const s = byNode.get(r.node)!
    if (s.exists && !s.routes.some((x) => x.dst === r.to && x.gateway === r.via)) out.push(`${r.node}: route ${r.to} via ${r.via} is missing`)
  }
  return out
}

// ------------------------------------------------------------------ bringing it up
export interface UpOptions {
  verify?: boolean // default true
  onStep?: (what: string) => void // progress for humans (stderr)
  signal?: AbortSignal // aborted (SIGINT/SIGTERM): undo and stop
}

export interface UpResult {
  plan: Plan
  changed: boolean
  rebuilt: string[] // drift that made `up` rebuild
  verified: VerifyResult[]
  observed: Observed // the kernel's state as `up` left it, read beside the verification (the status print reuses it)
}

export interface VerifyResult extends Reachability {
  ok: boolean
  gotTtl?: number
  error?: string
}

type Undo = {what: string; run: () => Promise<void>}

/** Creates the topology, or leaves a healthy one alone; on failure undoes its own work newest first. */
export async function up(plan: Plan, opts: UpOptions = {}): Promise<UpResult> {
  const step = opts.onStep ?? (() => {})
  const seen = await spanOf('observe', () => observe(plan))
  await checkCollisions(plan, seen)
  let rebuilt: string[] = []
  if (!seen.absent) {
    if (seen.drift.length === 0) {
      const verified = opts.verify === false ? [] : await verify(plan)
      if (verified.every((v) => v.ok)) return {plan, changed: false, rebuilt, verified, observed: seen}
      rebuilt = verified.filter((v) => !v.ok).map((v) => `${v.from} → ${v.to}: ${v.error}`)
    } else {
      rebuilt = seen.drift
    }
    step(`rebuilding: ${rebuilt.join('; ')}`)
    const d = await down({topology: plan.name})
    if (d.errors.length > 0) throw new Error(`could not clear the old topology: ${d.errors.join('; ')}`)
  }

  const undo: Undo[] = []
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new Error('interrupted')
  }
  try {
    await create(plan, undo, step, checkAbort)
    // read back while the pings wait for their replies: both only read, and the status print needs the read
    const [verified, observed] = await Promise.all([opts.verify === false ? [] : spanOf('verify', () => verify(plan)), spanOf('read back', () => observe(plan))])
    checkAbort()
    const bad = verified.filter((v) => !v.ok)
    if (bad.length > 0) throw new Error(`verification failed: ${bad.map((v) => `${v.from} → ${v.to} (${v.error})`).join('; ')}`)
    return {plan, changed: true, rebuilt, verified, observed}
  } catch (error) {
    const errors: string[] = []
    for (const u of undo.reverse()) {
      try {
        await u.run()
      } catch (e) {
        errors.push(`${u.what}: ${(e as Error).message}`)
      }
    }
    if (errors.length > 0) (error as Error).message += ` (and undoing failed: ${errors.join('; ')}; run: ebpfperf topology down)`
    throw error
  }
}

/** A namespace or host link with one of our names that the kernel says we did not make. */
async function checkCollisions(plan: Plan, seen: Observed): Promise<void> {
  for (const n of plan.nodes) {
    const ns = seen.nodes.find((x) => x.node === n.name)
    if (n.netns === null || !ns?.exists) continue
    // ebpfperf names a namespace only once it is marked: an unmarked one, even empty, is someone else's
    if (!ns.mark) throw new CollisionError(`namespace ${n.netns} exists and was not created by ebpfperf (no ${MARK} mark): rename the topology or remove it yourself`)
    if (ns.mark !== mark(plan.name, n.name)) throw new CollisionError(`namespace ${n.netns} belongs to ${ns.mark}, not ${mark(plan.name, n.name)}`)
  }
  const hostEnds = plan.links.flatMap((l) => l.ends.filter((e) => e.netns === null))
  if (hostEnds.length === 0) return
  const links = await hostLinks()
  for (const e of hostEnds) {
    const l = links.find((x) => x.ifname === e.ifname)
    if (l && l.ifalias !== mark(plan.name, e.node)) throw new CollisionError(`host link ${e.ifname} exists and was not created by this topology (alias ${JSON.stringify(l.ifalias ?? '')}): choose another ifname`)
  }
}

async function create(plan: Plan, undo: Undo[], step: (s: string) => void, checkAbort: () => void): Promise<void> {
  // The state file comes first, so that a crash at any later point leaves `down` what it needs: the
  // host links about to be made (marked only a moment after they exist) and the host sysctls to restore.
  const hostLinksPlanned = plan.links.flatMap((l) => l.ends).filter((e) => e.netns === null).map((e) => e.ifname)
  const hostForwarding = plan.nodes.some((n) => n.forwarding && n.netns === null)
  const saved = hostForwarding ? definedOnly(await readSysctls(null, [FORWARDING.v4, FORWARDING.v6])) : undefined
  writeState({topology: plan.name, file: plan.file, dut: plan.dut, created: new Date().toISOString(), hostLinks: hostLinksPlanned, hostSysctls: saved})
  undo.push({what: 'remove the state file', run: async () => rmSync(stateFile(plan.name), {force: true})})

  const namespaces = plan.nodes.filter((n) => n.netns !== null)
  step(`namespaces ${namespaces.map((n) => n.netns).join(', ')}`)
  await ensureNetnsDir()
  // Each is marked before it is named, and set before any link exists: no IPv6 duplicate address detection
  // (links inherit "default"; tentative link-local addresses would hold neighbour discovery back for a
  // second), and forwarding where asked. Only the ones made are undone (a name taken meanwhile is not ours).
  const made = timed('namespaces', () => makeMarkedNetns(
    namespaces.map((n) => ({netns: n.netns!, mark: mark(plan.name, n.name), sysctls: {...NO_DAD, ...(n.forwarding ? {[FORWARDING.v4]: '1', [FORWARDING.v6]: '1'} : {})}})),
  ))
  for (const m of made) if (!m.error) undo.push({what: `ip netns del ${m.netns}`, run: async () => deleteNetns(m.netns)})
  const failed = made.find((m) => m.error)?.error
  if (failed) throw failed instanceof NetnsExistsError ? new CollisionError(`${failed.message}: another process made it; rename the topology or remove it yourself`) : failed
  checkAbort()

  // veth pairs, created directly in their namespaces (never visible in the host's unless --dut host).
  // Each end in a namespace gets an ifindex of its own (100, 101, …): two fresh namespaces would give
  // both ends ifindex 2, and a veth whose ifindex equals its peer's gets its carrier change queued by
  // the kernel's linkwatch for up to a second instead of at once.
  const native = loadNative()
  const end = (e: PlanEnd, index: number, queues?: number) => ({netns: e.netns, ifname: e.ifname, index: e.netns === null ? 0 : index, queues})
  step(`links ${plan.links.map((l) => `${l.ends[0].ifname}↔${l.ends[1].ifname}`).join(', ')}`)
  for (const ifname of hostLinksPlanned) undo.push({what: `ip link del ${ifname}`, run: () => deleteHostLink(ifname)})
  timed('links', () => plan.links.forEach((l, i) => native.netnsVethAdd(end(l.ends[0], 100 + 2 * i, l.queues), end(l.ends[1], 101 + 2 * i, l.queues))))

  // per node: mark links, mtu, addresses, up, then routes (system calls on a thread inside the node)
  timed('addresses and routes', () => plan.nodes.forEach((n) => configureNode(plan, n)))

  if (saved) {
    undo.push({what: `restore host ${Object.keys(saved).join(', ')}`, run: () => writeSysctls(null, saved)})
    step(`host forwarding on (was ipv4 ${saved[FORWARDING.v4]}, ipv6 ${saved[FORWARDING.v6]})`)
    await writeSysctls(null, {[FORWARDING.v4]: '1', [FORWARDING.v6]: '1'})
  }

  const ends = plan.links.flatMap((l) => l.ends.map((e) => ({e, offload: l.offload})))
  await Promise.all(ends.filter(({offload}) => Object.keys(offload).length > 0).map(({e, offload}) => setOffloads(e, offload)))
  const peers = ends.filter(({e}) => e.xdpPeer).map(({e}) => e)
  if (peers.length > 0) step(`XDP peer programs on ${peers.map((e) => e.ifname).join(', ')}`)
  await Promise.all(peers.map((e) => attachXdp(e.netns, e.ifname, XDP_PASS_OBJECT(), 'xdp', 'native')))
}

function configureNode(plan: Plan, n: PlanNode): void {
  const alias = mark(plan.name, n.name)
  const ends = plan.links.flatMap((l) => l.ends.filter((e) => e.node === n.name).map((e) => ({ifname: e.ifname, alias, mtu: l.mtu, addresses: e.addresses.map((a) => a.cidr)})))
  const routes = plan.routes.filter((r) => r.node === n.name).map((r) => ({to: r.to, via: r.via}))
  try {
    loadNative().netnsConfigure(n.netns, ends, routes)
  } catch (error) {
    throw new Error(`${n.netns ?? 'host'}: ${(error as Error).message}`)
  }
}

async function setOffloads(e: PlanEnd, o: Offload): Promise<void> {
  const args = Object.entries(o).flatMap(([k, v]) => (v === undefined ? [] : [ETHTOOL_K[k].set, v ? 'on' : 'off']))
  const r = await inNetns(e.netns, ['ethtool', '-K', e.ifname, ...args])
  if (r.failed) throw new Error(`ethtool -K ${e.ifname} ${args.join(' ')}: ${r.stderr || `exit ${r.exitCode}`}`)
}

/** Attaches an XDP program from an object file to a node's interface (iproute2's loader). */
export async function attachXdp(netns: string | null, ifname: string, object: string, section: string, mode: 'native' | 'generic'): Promise<void> {
  if (!existsSync(object)) throw new Error(`${object} is missing: run npm run build:bpf`)
  const r = await run('ip', [...(netns ? ['-n', netns] : []), 'link', 'set', 'dev', ifname, mode === 'native' ? 'xdpdrv' : 'xdpgeneric', 'obj', object, 'sec', section])
  if (r.failed) throw new Error(`attaching ${object} (${section}) to ${ifname}: ${r.stderr.split('\n')[0] || `exit ${r.exitCode}`}`)
}

export async function detachXdp(netns: string | null, ifname: string): Promise<void> {
  await run('ip', [...(netns ? ['-n', netns] : []), 'link', 'set', 'dev', ifname, 'xdp', 'off'])
}

/** Pings each way, both families, all at once, and checks the reply's TTL proves the DUT routed it. */
export async function verify(plan: Plan): Promise<VerifyResult[]> {
  const probes = plan.reachability
  // a request every 0.2 s until the first reply or 5 s: a carrier or neighbour entry that comes up late on a
  // busy machine costs one interval, not a failed verification
  const replies = await loadNative().netnsPingAsync(
    probes.map((p) => ({netns: p.fromNetns, family: p.family, address: p.to})),
    5000,
    200,
  )
  return probes.map((p, i): VerifyResult => {
    const {ttl, error} = replies[i]
    if (ttl === undefined) return {...p, ok: false, error: error ?? 'no reply'}
    return ttl === p.ttl ? {...p, ok: true, gotTtl: ttl} : {...p, ok: false, gotTtl: ttl, error: `reply TTL ${ttl}, expected ${p.ttl}: the path is not what the file describes`}
  })
}

// ------------------------------------------------------------------ tearing down
export interface DownOptions {
  topology?: string // a topology's name; undefined with all
  all?: boolean
}

export interface DownResult {
  removed: string[]
  restored: string[] // system changes of killed runs put back (--all)
  leftAlone: string[] // looked like ours by name but the kernel says otherwise
  errors: string[]
}

async function deleteHostLink(ifname: string): Promise<void> {
  const r = await run('ip', ['link', 'del', ifname])
  if (r.failed && !/Cannot find device|does not exist/.test(r.stderr)) throw new Error(r.stderr.trim())
}

/**
 * Removes what ebpfperf made, found by asking the kernel: processes in our namespaces, the namespaces
 * (their links go with them), marked host links, pins, and the host sysctls --dut host changed.
 * "Already gone" is success; errors are collected and the rest still runs.
 */
export async function down(opts: DownOptions): Promise<DownResult> {
  const res: DownResult = {removed: [], restored: [], leftAlone: [], errors: []}
  const topo = opts.all ? undefined : opts.topology
  const want = topo ? `${MARK}:${topo}:` : `${MARK}:`
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn()
      res.removed.push(what)
    } catch (error) {
      res.errors.push(`${what}: ${(error as Error).message}`)
    }
  }

  // host links are listed before the namespaces go: after, the kernel's teardown of those namespaces (it holds
  // the lock every link dump waits for) would be this command's wait too
  const t0 = now()
  const [spaces, links] = await Promise.all([ourNetns(topo), hostLinks().catch(() => [])])
  span('read marks and host links', t0)
  // ours only when marked: ebpfperf names a namespace after marking it (a crash before leaves it staged)
  for (const ns of spaces.filter((x) => !x.mark?.startsWith(want))) res.leftAlone.push(`namespace ${ns.name} (${ns.mark ?? 'not marked by ebpfperf'})`)
  const doomed = spaces.filter((x) => x.mark?.startsWith(want)).map((x) => x.name)
  const pidsIn = await netnsPidsOf(doomed)
  await Promise.all(doomed.map(async (ns) => (pidsIn.get(ns)!.length > 0 ? attempt(`processes ${pidsIn.get(ns)!.join(' ')} in ${ns}`, () => killAll(pidsIn.get(ns)!)) : undefined)))
  const states = (topo ? [topo] : listStates()).map((t) => ({t, s: readState(t)}))
  const planned = new Set(states.flatMap(({s}) => s?.hostLinks ?? []))
  // host links before the namespaces: a veth whose peer's namespace is being torn down may still be listed
  for (const l of links) {
    // ours: marked, or named in a state file and not marked by anyone (a crash right after creating it)
    if (l.ifalias?.startsWith(want) || (planned.has(l.ifname) && !l.ifalias)) await attempt(`host link ${l.ifname}`, () => deleteHostLink(l.ifname))
    else if (!topo) res.leftAlone.push(`host link ${l.ifname} (${l.ifalias ? `alias ${l.ifalias}` : 'not marked by ebpfperf'})`)
  }
  const t1 = now()
  await Promise.all(doomed.map((ns) => attempt(`namespace ${ns}`, async () => deleteNetns(ns))))
  span('delete namespaces', t1)
  for (const n of await clearStaged(topo ? `${PREFIX}${topo}-` : PREFIX)) res.removed.push(`staged namespace ${n}`)
  const pins = topo ? join(PIN_DIR, topo) : PIN_DIR
  if (existsSync(pins)) await attempt(`pins under ${pins}`, async () => rmSync(pins, {recursive: true, force: true}))

  if (opts.all) await restoreRunChanges(res)
  for (const {t, s} of states) {
    if (s?.hostSysctls && Object.keys(s.hostSysctls).length > 0) {
      await attempt(`host sysctls restored (${Object.entries(s.hostSysctls).map(([k, v]) => `${k}=${v}`).join(', ')})`, () => writeSysctls(null, s.hostSysctls!))
    }
    if (s) rmSync(stateFile(t), {force: true})
  }
  return res
}

/** The mounts and sysctls of runs that were killed (see util/syschanges), put back. */
async function restoreRunChanges(res: DownResult): Promise<void> {
  const r = await restoreLeftovers()
  res.restored.push(...r.restored)
  res.errors.push(...r.errors)
}

/** Every topology name ebpfperf may hold something of: lock files, state files, marks in namespaces. */
async function knownTopologies(): Promise<string[]> {
  const marked = (await ourNetns()).flatMap((n) => (n.mark ? [n.mark.split(':')[1]] : []))
  return [...new Set([...lockedNames(), ...listStates(), ...marked])]
}

/** down() holding the topology's lock (with all: every topology's; one in use refuses the whole command). */
export async function downLocked(opts: DownOptions): Promise<DownResult> {
  const names = opts.all ? await knownTopologies() : [opts.topology!]
  return withLocks(names, () => down(opts))
}

/**
 * `topology up` whole: its lock, then up(), read() (the status) and print() under one set of signal handlers.
 * A signal before print() removes what this call made; print() is synchronous, so none can come during it.
 */
export async function upLocked<T>(plan: Plan, opts: UpOptions, read: (r: UpResult) => Promise<T>, print: (t: T) => void): Promise<T> {
  const lock = await lockTopology(plan.name)
  try {
    const {result, signal} = await withSignals(async (abort) => {
      const r = await up(plan, {...opts, signal: abort})
      try {
        const out = abort.aborted ? undefined : await read(r)
        if (!abort.aborted) {
          print(out!)
          return {shown: true, out}
        }
      } catch (error) {
        if (!abort.aborted) throw error
      }
      if (r.changed) await down({topology: plan.name})
      return {shown: false, out: undefined}
    })
    if (signal && !result.shown) throw new InterruptedError(signal, `topology ${plan.name} was being brought up`)
    return result.out as T
  } finally {
    await lock.release()
  }
}

function listStates(): string[] {
  if (!existsSync(STATE_DIR)) return []
  return readdirSync(STATE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''))
}

// ------------------------------------------------------------------ the API suites use
export interface TopologyHandle {
  plan: Plan
  netns(node: string): string | null
  /** Runs a command inside a node's namespace and waits for it. */
  exec(node: string, argv: string[], opts?: {timeoutMs?: number; input?: string}): Promise<RunResult>
  /** Starts a long-running command inside a node (an iperf3 server); stopped at teardown at the latest. */
  spawn(node: string, argv: string[]): Promise<Started>
  attachXdp(node: string, ifname: string, object: string, section: string, mode?: 'native' | 'generic'): Promise<void>
  detachXdp(node: string, ifname: string): Promise<void>
}

/**
 * Brings the topology up, runs fn, and tears everything down on every way out: return, throw, SIGINT,
 * SIGTERM (a signal aborts `signal` for fn, then teardown runs and the error says which signal).
 */
export async function withTopology<T>(plan: Plan, fn: (t: TopologyHandle, signal: AbortSignal) => Promise<T>, opts: UpOptions = {}): Promise<T> {
  const lock = await lockTopology(plan.name)
  try {
    return await withTopologyHeld(plan, fn, opts)
  } finally {
    await lock.release()
  }
}

async function withTopologyHeld<T>(plan: Plan, fn: (t: TopologyHandle, signal: AbortSignal) => Promise<T>, opts: UpOptions): Promise<T> {
  const {result, signal} = await withSignals(async (abort) => {
    const started: Started[] = []
    const nodeNs = (node: string) => {
      const n = plan.nodes.find((x) => x.name === node)
      if (!n) throw new Error(`no node ${node} in topology ${plan.name}`)
      return n.netns
    }
    const handle: TopologyHandle = {
      plan,
      netns: nodeNs,
      exec: (node, argv, o) => inNetns(nodeNs(node), argv, o),
      async spawn(node, argv) {
        const ns = nodeNs(node)
        const p = await start(ns === null ? argv[0] : 'ip', ns === null ? argv.slice(1) : ['netns', 'exec', ns, ...argv])
        started.push(p)
        return p
      },
      attachXdp: (node, ifname, object, section, mode = 'native') => attachXdp(nodeNs(node), ifname, object, section, mode),
      detachXdp: (node, ifname) => detachXdp(nodeNs(node), ifname),
    }
    try {
      await up(plan, {...opts, signal: abort})
      return await fn(handle, abort)
    } finally {
      for (const p of started) p.kill('SIGTERM')
      await Promise.all(started.map((p) => Promise.race([p.done, new Promise((r) => setTimeout(r, 2000))])))
      const d = await down({topology: plan.name})
      if (d.errors.length > 0) process.stderr.write(`ebpfperf: teardown of ${plan.name}: ${d.errors.join('; ')}\n`)
    }
  })
  if (signal) throw new Error(`interrupted by ${signal}; topology ${plan.name} was torn down`)
  return result
}
