// Topology files: load, validate (shipped JSON Schema, then meaning), and resolve into a plan of
// kernel objects with their final names.
import {BlockList, SocketAddress, isIPv4} from 'node:net'
import {readFileSync} from 'node:fs'
import {basename, join} from 'node:path'
import {readYaml, shippedJson} from '../util/input.js'
import {projectRoot} from '../util/paths.js'
import {validate, type JsonSchema} from '../util/schema.js'
import {BadInputError} from '../util/errors.js'

export const TOPOLOGY_SCHEMA = 'ebpfperf/topology/v1'
/** Every namespace and host link ebpfperf creates starts with this. */
export const PREFIX = 'ebp-'
/** Written into the kernel (lo's alias in a namespace, ifalias of a host link) to mark what we own. */
export const MARK = 'ebpfperf'

export class TopologyError extends BadInputError {
  constructor(readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`)
    this.name = 'TopologyError'
  }
}

export type Family = 4 | 6
export interface Address {
  cidr: string // as written: 198.18.0.1/24
  address: string
  prefix: number
  family: Family
}

export interface PlanNode {
  name: string
  role: 'client' | 'server' | 'dut' | 'router'
  netns: string | null // null: the host's own namespace (--dut host)
  forwarding: boolean
}

export interface PlanEnd {
  node: string
  netns: string | null
  ifname: string
  addresses: Address[]
  xdpPeer: boolean
}

export interface Offload {
  tx?: boolean
  rx?: boolean
  gro?: boolean
  gso?: boolean
  tso?: boolean
}

export interface PlanLink {
  ends: [PlanEnd, PlanEnd]
  mtu?: number
  queues?: number
  offload: Offload
}

export interface PlanRoute {
  node: string
  netns: string | null
  to: string // 'default' or a prefix
  via: string
  family: Family
}

export interface Reachability {
  from: string // node
  fromNetns: string | null
  to: string // address
  toNode: string
  family: Family
  ttl: number // expected TTL / hop limit of the reply: 64 minus the forwarding hops
}

export interface Plan {
  name: string
  file: string
  dut: 'netns' | 'host'
  nodes: PlanNode[]
  links: PlanLink[]
  routes: PlanRoute[]
  reachability: Reachability[]
}

export const BENCH_V4 = '198.18.0.0/15'
export const BENCH_V6 = '2001:2::/48'

export const DEFAULT_TOPOLOGY = () => join(projectRoot(), 'netns', 'dut.topo.yml')
let schemaCache: JsonSchema | undefined
const schema = (): JsonSchema => (schemaCache ??= JSON.parse(readFileSync(join(projectRoot(), 'netns', 'topology.schema.json'), 'utf8')) as JsonSchema)

export const netnsName = (topo: string, node: string) => `${PREFIX}${topo}-${node}`

/** A name of a shipped topology (dut, direct, twohop) or a path. */
export function resolveTopologyFile(nameOrFile?: string): string {
  if (!nameOrFile) return DEFAULT_TOPOLOGY()
  if (/^[a-z0-9]+$/.test(nameOrFile)) return join(projectRoot(), 'netns', `${nameOrFile}.topo.yml`)
  return nameOrFile
}

export function loadTopology(nameOrFile: string | undefined, opts: {dut?: 'netns' | 'host'} = {}): Plan {
  const file = resolveTopologyFile(nameOrFile)
  const doc = shippedJson(file, 'netns') ?? readYaml(file, (reason) => new TopologyError(file, reason))
  return planTopology(doc, file, opts)
}

interface RawEnd {
  node: string
  ifname?: string
  addresses: string[]
  xdp_peer?: boolean
}
interface RawDoc {
  name: string
  nodes: {name: string; role?: PlanNode['role']; forwarding?: boolean}[]
  links: {endpoints: RawEnd[]; mtu?: number; queues?: number; offload?: Offload}[]
  routes?: {node: string; to: string; via: string}[]
}

const bench = new BlockList()
bench.addSubnet('198.18.0.0', 15, 'ipv4')
bench.addSubnet('2001:2::', 48, 'ipv6')

// net.isIPv6's first call compiles a large regular expression (~10 ms of a ~20 ms topology load);
// SocketAddress checks with the system's address parser (inet_pton) at once
function isIPv6(address: string): boolean {
  try {
    new SocketAddress({address, family: 'ipv6'})
    return true
  } catch {
    return false
  }
}

export function parseAddress(cidr: string): Address | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr)
  if (!m) return undefined
  const family: Family | undefined = isIPv4(m[1]) ? 4 : isIPv6(m[1]) ? 6 : undefined
  const prefix = Number(m[2])
  if (!family || prefix > (family === 4 ? 32 : 128)) return undefined
  return {cidr, address: m[1], prefix, family}
}

const ipType = (f: Family) => (f === 4 ? 'ipv4' : 'ipv6')
const inBench = (address: string, f: Family) => bench.check(address, ipType(f))
function inSubnet(address: string, net: Address): boolean {
  const b = new BlockList()
  b.addSubnet(net.address, net.prefix, ipType(net.family))
  return b.check(address, ipType(net.family))
}
const sameAddress = (a: Address, b: Address) => a.family === b.family && inSubnet(a.address, {...b, prefix: b.family === 4 ? 32 : 128})

/** Schema first (shape), then meaning: names, addresses, subnets, routes. Every error names the field. */
export function planTopology(doc: unknown, file: string, opts: {dut?: 'netns' | 'host'} = {}): Plan {
  const shapeError = validate(doc, schema())
  if (shapeError) throw new TopologyError(file, shapeError)
  const d = doc as RawDoc
  const fail = (where: string, what: string): never => {
    throw new TopologyError(file, `${where}: ${what}`)
  }
  const dutMode = opts.dut ?? 'netns'

  const nodes = new Map<string, PlanNode>()
  d.nodes.forEach((n, i) => {
    if (nodes.has(n.name)) fail(`nodes[${i}].name`, `duplicate node "${n.name}"`)
    const role = n.role ?? 'router'
    nodes.set(n.name, {name: n.name, role, netns: dutMode === 'host' && role === 'dut' ? null : netnsName(d.name, n.name), forwarding: n.forwarding ?? (role === 'dut' || role === 'router')})
  })
  const duts = [...nodes.values()].filter((n) => n.role === 'dut')
  if (dutMode === 'host' && duts.length !== 1) fail('nodes', `--dut host needs exactly one node with role dut (found ${duts.length})`)

  const ifnames = new Map<string, string>() // netns|host + ifname -> where
  const all: {addr: Address; where: string}[] = []
  const links: PlanLink[] = d.links.map((l, i) => {
    const ends = l.endpoints.map((e, j): PlanEnd => {
      const where = `links[${i}].endpoints[${j}]`
      const node = nodes.get(e.node) ?? fail(`${where}.node`, `unknown node "${e.node}" (nodes: ${[...nodes.keys()].join(', ')})`)
      const ifname = e.ifname ?? `${PREFIX}${e.node}${i}`
      if (ifname.length > 15) fail(`${where}.ifname`, `"${ifname}" is longer than 15 characters (the kernel's IFNAMSIZ); set ifname`)
      const key = `${node.netns ?? 'host'}/${ifname}`
      if (ifnames.has(key)) fail(`${where}.ifname`, `"${ifname}" is used twice in node ${e.node} (also at ${ifnames.get(key)})`)
      ifnames.set(key, where)
      const addresses = e.addresses.map((a, k) => {
        const addr = parseAddress(a) ?? fail(`${where}.addresses[${k}]`, `"${a}" is not an address with a prefix length (198.18.0.1/24, 2001:2::1/64)`)
        if (!inBench(addr.address, addr.family)) fail(`${where}.addresses[${k}]`, `${a} is outside the benchmarking ranges ${BENCH_V4} and ${BENCH_V6} (RFC 2544 / RFC 5180)`)
        const dup = all.find((x) => sameAddress(x.addr, addr))
        if (dup) fail(`${where}.addresses[${k}]`, `duplicate address ${addr.address} (also at ${dup.where})`)
        all.push({addr, where: `${where}.addresses[${k}]`})
        return addr
      })
      return {node: e.node, netns: node.netns, ifname, addresses, xdpPeer: e.xdp_peer ?? false}
    }) as [PlanEnd, PlanEnd]
    if (ends[0].node === ends[1].node) fail(`links[${i}]`, `both ends are on node ${ends[0].node}`)
    // every address must share a subnet with an address of the same family on the other end
    for (const [j, e] of ends.entries()) {
      const other = ends[1 - j]
      for (const [k, a] of e.addresses.entries()) {
        const peers = other.addresses.filter((b) => b.family === a.family)
        if (peers.length > 0 && !peers.some((b) => inSubnet(b.address, a) && inSubnet(a.address, b))) {
          fail(`links[${i}].endpoints[${j}].addresses[${k}]`, `${a.cidr} is outside every subnet on this link (the other end has ${peers.map((b) => b.cidr).join(', ')})`)
        }
      }
    }
    return {ends, mtu: l.mtu, queues: l.queues, offload: l.offload ?? {}}
  })

  const routes: PlanRoute[] = (d.routes ?? []).map((r, i) => {
    const where = `routes[${i}]`
    const node = nodes.get(r.node) ?? fail(`${where}.node`, `unknown node "${r.node}"`)
    const family: Family = isIPv4(r.via) ? 4 : isIPv6(r.via) ? 6 : fail(`${where}.via`, `"${r.via}" is not an IP address`)
    let to = r.to
    if (to === 'default6' || to === 'default') {
      if ((to === 'default6') !== (family === 6)) fail(`${where}.to`, `${to} does not match the ${family === 4 ? 'IPv4' : 'IPv6'} gateway ${r.via}`)
      if (node.netns === null) fail(`${where}.to`, 'a default route in the host namespace would take over the host\'s traffic: name the benchmarking prefix instead')
      to = 'default'
    } else {
      const p = parseAddress(to) ?? fail(`${where}.to`, `"${to}" is neither default, default6 nor a prefix`)
      if (p.family !== family) fail(`${where}.to`, `${to} and the gateway ${r.via} are of different families`)
      if (!inBench(p.address, p.family)) fail(`${where}.to`, `${to} is outside the benchmarking ranges`)
    }
    const own = links.flatMap((l) => l.ends.filter((e) => e.node === r.node).flatMap((e) => e.addresses))
    if (!own.some((a) => a.family === family && inSubnet(r.via, a))) fail(`${where}.via`, `${r.via} is not in any subnet of node ${r.node}`)
    return {node: r.node, netns: node.netns, to, via: r.via, family}
  })

  const plan: Plan = {name: d.name, file: basename(file), dut: dutMode, nodes: [...nodes.values()], links, routes, reachability: []}
  plan.reachability = reachability(plan)
  return plan
}

/** Client → server and server → client, each family, with the TTL the reply must arrive with. */
function reachability(plan: Plan): Reachability[] {
  const adj = new Map<string, Set<string>>()
  for (const l of plan.links) {
    const [a, b] = l.ends
    ;(adj.get(a.node) ?? adj.set(a.node, new Set()).get(a.node)!).add(b.node)
    ;(adj.get(b.node) ?? adj.set(b.node, new Set()).get(b.node)!).add(a.node)
  }
  const hops = (from: string, to: string): number | undefined => {
    const dist = new Map([[from, 0]])
    const queue = [from]
    while (queue.length > 0) {
      const n = queue.shift()!
      for (const m of adj.get(n) ?? []) {
        if (dist.has(m)) continue
        dist.set(m, dist.get(n)! + 1)
        queue.push(m)
      }
    }
    const d = dist.get(to)
    return d === undefined ? undefined : d - 1 // forwarding nodes in between
  }
  const addrs = (node: string) => plan.links.flatMap((l) => l.ends.filter((e) => e.node === node).flatMap((e) => e.addresses))
  const out: Reachability[] = []
  const clients = plan.nodes.filter((n) => n.role === 'client')
  const servers = plan.nodes.filter((n) => n.role === 'server')
  for (const c of clients) {
    for (const s of servers) {
      const h = hops(c.name, s.name)
      if (h === undefined) continue
      for (const [from, to] of [[c, s], [s, c]] as const) {
        for (const fam of [4, 6] as Family[]) {
          const dst = addrs(to.name).find((a) => a.family === fam)
          if (dst && addrs(from.name).some((a) => a.family === fam)) out.push({from: from.name, fromNetns: from.netns, to: dst.address, toNode: to.name, family: fam, ttl: 64 - h})
        }
      }
    }
  }
  return out
}
