// What exists now, read from the kernel, as a document (--json) and as a table.
import type {ChalkInstance} from 'chalk'
import type {Plan} from './model.js'
import {observe, type Observed, type VerifyResult} from './index.js'
import {ETHTOOL_K, XDP_MODES, readOffloads, tcFilters} from './kernel.js'
import {PREFIX} from './model.js'

export const STATUS_SCHEMA = 'ebpfperf/topology-status/v1'

export interface LinkStatus {
  ifname: string
  ifindex: number
  mac?: string
  state: string
  up: boolean
  mtu: number
  queues?: {tx?: number; rx?: number}
  addresses: string[]
  xdp?: {mode: string; progId: number; name?: string}
  tc?: {ingress: number; egress: number} // filters attached
  offload?: Record<string, boolean>
}

export interface NodeStatus {
  node: string
  role: string
  netns: string | null
  exists: boolean
  forwarding: {ipv4?: string; ipv6?: string}
  links: LinkStatus[]
  routes: {to: string; via?: string; dev?: string}[]
}

export interface TopologyStatus {
  schema: typeof STATUS_SCHEMA
  topology: string
  file: string
  dut: 'netns' | 'host'
  state: 'up' | 'down' | 'drifted'
  drift: string[]
  nodes: NodeStatus[]
  others: string[] // ebpfperf namespaces of other topologies
  changed?: boolean // set by `up`
  verified?: VerifyResult[] // set by `up`
}

/** The topology as the kernel has it; opts.seen: what observe() just read (read here otherwise). */
export async function topologyStatus(plan: Plan, opts: {details?: boolean; seen?: Observed} = {}): Promise<TopologyStatus> {
  const seen = opts.seen ?? (await observe(plan))
  const nodes = await Promise.all(
    seen.nodes.map(async (s): Promise<NodeStatus> => {
      const n = plan.nodes.find((x) => x.name === s.node)!
      const planned = new Set(plan.links.flatMap((l) => l.ends.filter((e) => e.node === s.node).map((e) => e.ifname)))
      const links = await Promise.all(
        s.links
          .filter((l) => l.ifname !== 'lo' && (s.netns !== null || planned.has(l.ifname)))
          .map(async (l): Promise<LinkStatus> => {
            const xdpProg = l.xdp?.prog ?? l.xdp?.attached?.[0]?.prog
            const out: LinkStatus = {
              ifname: l.ifname,
              ifindex: l.ifindex,
              mac: l.address,
              state: l.operstate,
              up: l.flags.includes('UP'),
              mtu: l.mtu,
              queues: {tx: l.num_tx_queues, rx: l.num_rx_queues},
              addresses: l.addr_info.filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`),
              xdp: l.xdp && xdpProg ? {mode: XDP_MODES[l.xdp.mode] ?? String(l.xdp.mode), progId: xdpProg.id, name: xdpProg.name} : undefined,
            }
            if (opts.details !== false) {
              const [tc, feats] = await Promise.all([tcFilters(s.netns, l.ifname), readOffloads(s.netns, l.ifname)])
              out.tc = {ingress: tc.ingress.length, egress: tc.egress.length}
              if (feats) {
                out.offload = Object.fromEntries(
                  Object.entries(ETHTOOL_K).flatMap(([k, {feature}]) => {
                    const f = feats[feature]
                    return typeof f === 'object' ? [[k, f.active]] : []
                  }),
                )
              }
            }
            return out
          }),
      )
      return {
        node: s.node,
        role: n.role,
        netns: s.netns,
        exists: s.exists,
        forwarding: {ipv4: s.forwarding.v4, ipv6: s.forwarding.v6},
        links,
        routes: s.routes.filter((r) => r.protocol !== 'kernel').map((r) => ({to: r.dst, via: r.gateway, dev: r.dev})),
      }
    }),
  )
  const others = seen.namespaces.filter((n) => n.startsWith(PREFIX) && !plan.nodes.some((x) => x.netns === n))
  return {
    schema: STATUS_SCHEMA,
    topology: plan.name,
    file: plan.file,
    dut: plan.dut,
    state: seen.absent ? 'down' : seen.drift.length > 0 ? 'drifted' : 'up',
    drift: seen.absent ? [] : seen.drift,
    nodes,
    others,
  }
}

export function renderStatus(st: TopologyStatus, c: ChalkInstance): string {
  const out: string[] = []
  const color = st.state === 'up' ? c.green : st.state === 'down' ? c.gray : c.yellow
  const what = st.changed === undefined ? st.state : st.changed ? 'up (created)' : 'already up, nothing changed'
  out.push(c.bold(`topology ${st.topology} (${st.file}, DUT in ${st.dut === 'host' ? 'the host namespace' : 'its own namespace'}): `) + color(what))
  if (st.state !== 'down') {
    const rows = [['node', 'namespace', 'link', 'ifindex', 'mac', 'state', 'mtu', 'xdp', 'addresses']]
    for (const n of st.nodes) {
      if (!n.exists) rows.push([n.node, n.netns ?? 'host', c.red('missing'), '', '', '', '', '', ''])
      for (const l of n.links) {
        rows.push([n.node, n.netns ?? 'host', l.ifname, String(l.ifindex), l.mac ?? '', l.state, String(l.mtu), l.xdp ? `${l.xdp.mode}:${l.xdp.name ?? l.xdp.progId}` : '-', l.addresses.join(' ')])
      }
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].replace(/\u001b\[[0-9;]*m/g, '').length)))
    for (const r of rows) out.push(`  ${r.map((x, i) => x.padEnd(widths[i])).join('  ')}`.trimEnd())
    for (const n of st.nodes.filter((x) => x.exists)) {
      const fwd = n.forwarding.ipv4 === '1' ? `forwarding on (ipv4 ${n.forwarding.ipv4}, ipv6 ${n.forwarding.ipv6})` : 'forwarding off'
      const routes = n.routes.map((r) => `${r.to}${r.via ? ` via ${r.via}` : ''}`).join(', ')
      out.push(`  ${n.node}: ${fwd}${routes ? `; routes ${routes}` : ''}`)
      for (const l of n.links.filter((x) => x.offload || (x.tc && x.tc.ingress + x.tc.egress > 0))) {
        const off = l.offload ? Object.entries(l.offload).map(([k, v]) => `${k} ${v ? 'on' : 'off'}`).join(', ') : ''
        const tc = l.tc && l.tc.ingress + l.tc.egress > 0 ? `; tc filters ingress ${l.tc.ingress}, egress ${l.tc.egress}` : ''
        out.push(c.gray(`    ${l.ifname}: ${off}${tc}`))
      }
    }
  }
  for (const d of st.drift) out.push(c.yellow(`  drift: ${d}`))
  for (const v of st.verified ?? []) {
    const line = `${v.from} → ${v.to} (IPv${v.family}): ${v.ok ? `reply TTL ${v.gotTtl} = 64 − ${64 - v.ttl} forwarding hop(s)` : v.error}`
    out.push(`  ${v.ok ? c.green('✔') : c.red('✘')} ${line}`)
  }
  if (st.others.length > 0) out.push(c.gray(`  other ebpfperf namespaces: ${st.others.join(', ')}`))
  const client = st.nodes.find((n) => n.role === 'client')
  const server = st.nodes.find((n) => n.role === 'server')
  const target = server?.links[0]?.addresses[0]?.split('/')[0]
  if (st.state === 'up' && client?.netns && target) out.push(c.gray(`  try: ip netns exec ${client.netns} ping -c 3 ${target}`))
  return out.join('\n')
}
