// `ebpfperf suite accelerator`: the same iperf3 traffic through the DUT with kernel forwarding (the
// baseline) and with eBPF fast paths (built-in XDP and TC forwarders, or the user's object), over a grid
// of rates, sizes and protocols, repeated with the modes interleaved; every run proves which path carried
// the traffic. The topology comes up first and goes down on every way out; an interrupted sweep keeps
// its samples in a result file marked incomplete.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {loadNative, type Native} from '../../native.js'
import {withTopology, type TopologyHandle} from '../../topology/index.js'
import {loadTopology, type Plan, type PlanEnd} from '../../topology/model.js'
import type {RunResult} from '../../results/store.js'
import {interleaved, type Gate} from '../common.js'
import {resultLine, type RunContext, type SavedFiles, type SuiteContext, type SuiteDefinition} from '../suite.js'
import {BadInputError} from '../../util/errors.js'
import {which} from '../../exec.js'
import {startIperf3Server, formatRate, type Spawner} from '../../workloads/iperf3.js'
import {fillDevmaps, FastPath, loadBuiltin, loadUserObject, describeObject, type DutPort, type Hook, type LoadedObject, type TcAttach} from './fastpath.js'
import {measureRun, type RunSample} from './measure.js'
import {buildCases, conclusions, csvOf, loadRuns, renderTable, tableRows, type Bucket, type ModeInfo} from './report.js'
import {mean} from '../../results/stats.js'
import {buildSpec, pointLabel, totalRuns, type AccelSpec, type Mode, type Point, type RawFlags} from './spec.js'
import type {AccelFlags} from './flags.js'
import {Eta, runSteps} from '../progress.js'
import {PacketGen} from '../../workloads/pktgen.js'
import {GENERATOR_PATH, packetEnds, measureFrameSize, preparePackets, type PacketBucket, type PacketPath} from './packets.js'
import {packetAnswer, packetCases, packetCsv, packetTable} from './packet-report.js'
import {checkLiveFrames} from './packet-spec.js'

export {buildSpec} from './spec.js'
export const IPERF3_PORT = 5301

/** Topology roles the suite needs, found in the plan. */
export interface Roles {
  client: string
  server: string
  dut: string
  dutNetns: string | null
  clientNetns: string | null
  serverNetns: string | null
  /** the DUT's ports, the one facing the client first */
  dutPorts: string[]
  clientPorts: string[]
  serverPorts: string[]
  serverAddress: string
  clientAddress: string
}

export function findRoles(plan: Plan, family: 4 | 6): Roles {
  const byRole = (role: string) => plan.nodes.filter((n) => n.role === role)
  const [client] = byRole('client')
  const [server] = byRole('server')
  const duts = byRole('dut')
  const where = `--topology ${plan.file}`
  if (!client || !server) throw new BadInputError(`${where}: the accelerator needs a node with role client and one with role server`)
  if (duts.length !== 1) throw new BadInputError(`${where}: the accelerator needs exactly one node with role dut (found ${duts.length})`)
  const ends = plan.links.flatMap((l) => l.ends)
  const addr = (node: string) => ends.filter((e: PlanEnd) => e.node === node).flatMap((e) => e.addresses).find((a) => a.family === family)?.address
  const serverAddress = addr(server.name)
  const clientAddress = addr(client.name)
  if (!serverAddress || !clientAddress) throw new BadInputError(`${where}: client and server need IPv${family} addresses for --family ${family}`)
  const ports = (node: string) => ends.filter((e) => e.node === node).map((e) => e.ifname)
  // the ports on the client's link to the DUT first: the packet generator sends over it
  const clientLink = plan.links.find((l) => l.ends.some((e) => e.node === client.name) && l.ends.some((e) => e.node === duts[0].name))
  const first = (node: string) => {
    const mine = clientLink?.ends.find((e) => e.node === node)?.ifname
    return ports(node).sort((a, b) => Number(b === mine) - Number(a === mine))
  }
  const dutPorts = first(duts[0].name)
  return {
    client: client.name, server: server.name, dut: duts[0].name,
    dutNetns: duts[0].netns, clientNetns: client.netns, serverNetns: server.netns,
    dutPorts, clientPorts: first(client.name), serverPorts: ports(server.name), serverAddress, clientAddress,
  }
}

/** Which modes run here, how, and which are skipped (doctor's words). */
export function resolveModes(spec: AccelSpec, gate: Pick<Gate, 'skipped'>, object?: {path: string; program: string; hook: Hook}): {modes: ModeInfo[]; tcAttach: TcAttach; notes: string[]} {
  const sk = gate.skipped
  const notes: string[] = []
  const xdpSkip = spec.xdpMode === 'native' ? sk.get('xdp') : sk.get('xdp --xdp-mode generic')
  const tcAttach: TcAttach = spec.tcAttach === 'auto' ? (sk.has('tc via tcx links') ? 'clsact' : 'tcx') : spec.tcAttach
  if (spec.tcAttach === 'auto' && tcAttach === 'clsact') notes.push(`tc: no tcx on this kernel (${sk.get('tc via tcx links')}): attaching with clsact`)
  if (spec.tcAttach === 'tcx' && sk.has('tc via tcx links')) notes.push(`tc: --tc-attach tcx asked, but doctor says ${sk.get('tc via tcx links')}`)
  const tcSkip = sk.get('tc')
  const modes: ModeInfo[] = []
  for (const m of spec.modes) {
    if (m === 'kernel') modes.push({mode: m, label: 'kernel', params: {}})
    if (m === 'xdp') modes.push({mode: m, label: `xdp (${spec.xdpMode})`, params: {xdpMode: spec.xdpMode}, skipped: xdpSkip})
    if (m === 'tc') modes.push({mode: m, label: `tc (${tcAttach})`, params: {tcAttach}, skipped: tcSkip})
    if (m === 'object' && object) {
      const how = object.hook === 'xdp' ? spec.xdpMode : tcAttach
      modes.push({
        mode: m,
        label: `${describeObject({path: object.path} as LoadedObject, object.program)} (${object.hook} ${how})`,
        params: {object: describeObject({path: object.path} as LoadedObject, object.program), hook: object.hook, ...(object.hook === 'xdp' ? {xdpMode: spec.xdpMode} : {tcAttach})},
        skipped: object.hook === 'xdp' ? xdpSkip : tcSkip,
      })
    }
  }
  if (spec.points.length === 0) return {modes, tcAttach, notes}
  if (!spec.progStats) notes.push('fast-path ns per packet: off (--no-prog-stats)')
  else if (sk.has('fast-path ns per packet')) notes.push(`fast-path ns per packet: unavailable (${sk.get('fast-path ns per packet')})`)
  else if (spec.latencyRuns > 0) notes.push('fast-path ns per packet: from the runs with bpf_stats on, the latency runs (it adds two clock reads to every BPF program run, so the throughput runs go without it, but for a fast path with no accel_stats map, whose run_cnt proves it carried the traffic)')
  else notes.push('fast-path ns per packet: bpf_stats on during the load runs (there are no latency runs), so their throughput and CPU include its cost')
  return {modes, tcAttach, notes}
}

export interface AccelOutcome {
  run: RunResult
  buckets: Bucket[]
  packets: PacketBucket[]
  /** one generator CPU: 1 / rate is the cost per frame */
  oneCpu: boolean
  files: SavedFiles
  cpus: number
}

/** What the loads need on this machine: iperf3 installed; a kernel with live frames for the generator. */
export function checkTools(spec?: Pick<AccelSpec, 'loads'>): void {
  const loads = spec?.loads ?? ['iperf3']
  if (loads.includes('iperf3') && !which('iperf3')) throw new BadInputError('iperf3 is not installed (or not on PATH): apt-get install iperf3 (or run --load live-frames)')
  if (loads.includes('live-frames')) checkLiveFrames()
}

/** The packet tests' number flags (strings, so that 0.5 and 99.9 are accepted), as numbers. */
function packetFlags(f: Record<string, unknown>): RawFlags {
  const out: Record<string, unknown> = {...f}
  for (const k of ['trial-time', 'loss-tolerance', 'latency-load']) {
    const v = f[k]
    if (v === undefined) continue
    if (typeof v !== 'string' || !/^\d+(\.\d+)?%?$/.test(v.trim())) throw new BadInputError(`--${k} ${String(v)}: not a number`)
    out[k] = Number(v.trim().replace(/%$/, ''))
  }
  return out as RawFlags
}

/** A sweep: the spec from the flags, then (plan) the objects loaded and the modes that run here, then what was measured. */
export interface AccelState {
  spec: AccelSpec
  topology: Plan
  native?: Native
  roles?: Roles
  /** Every object loaded (the user's, the built-in forwarders): closed on every way out. */
  objects: LoadedObject[]
  user?: LoadedObject & {hook: Hook; program: string}
  builtin?: LoadedObject
  modes: ModeInfo[]
  tcAttach: TcAttach
  buckets: Bucket[]
  packets: PacketBucket[]
  bpfStats?: StatsSwitch
}

/** The topology, the spec and the tools it needs; bad input throws before anything exists. */
function accelFromFlags(flags: AccelFlags): AccelState {
  const topology = loadTopology(flags.topology ?? 'acc')
  const spec = buildSpec(packetFlags(flags), topology)
  checkTools(spec)
  return {spec, topology, objects: [], modes: [], tcAttach: 'tcx', buckets: [], packets: []}
}

/** Objects loaded before anything is created (the user's first: its mistakes are the user's), the modes resolved. */
function planAccel(s: AccelState, gate: Gate, ctx: SuiteContext): void {
  const spec = s.spec
  const native = (s.native ??= loadNative())
  s.roles = findRoles(s.topology, spec.family)
  if (spec.object) s.objects.push((s.user = loadUserObject(spec.object.path, {program: spec.object.program, hook: spec.object.hook}, native)))
  const user = s.user && {path: s.user.path, program: s.user.program, hook: s.user.hook}
  const {modes, tcAttach, notes} = resolveModes(spec, gate, user)
  Object.assign(s, {modes, tcAttach})
  for (const m of modes.filter((x) => x.skipped)) notes.push(`${m.label}: skipped (${m.skipped})`)
  const hooks = modes.filter((m) => !m.skipped).flatMap((m): Hook[] => (m.mode === 'xdp' ? ['xdp'] : m.mode === 'tc' ? ['tc'] : []))
  if (hooks.length > 0) s.objects.push((s.builtin = loadBuiltin(hooks, native)))
  for (const n of notes) ctx.note(`  ${n}`)
  s.buckets = spec.points.flatMap((point) => modes.map((mode) => ({point, mode, runs: [], errors: []})))
  if (spec.progStats && !gate.skipped.has('fast-path ns per packet')) s.bpfStats = new StatsSwitch(native)
}

/** The topology up, the fast paths ready on the DUT's ports, the packet tests then the iperf3 sweep; all down after. */
async function runAccel(s: AccelState, ctx: RunContext): Promise<void> {
  const spec = s.spec
  const native = s.native!
  const roles = s.roles!
  const active = s.modes.filter((m) => !m.skipped)
  await withTopology(s.topology, async (t, signal) => {
    const ports: DutPort[] = roles.dutPorts.map((ifname) => ({ifname, ifindex: native.netnsIfindex(roles.dutNetns, ifname)}))
    for (const o of s.objects) for (const n of fillDevmaps(native, o, roles.dutNetns, ports)) ctx.note(`  ${n}`)
    const how = {xdpMode: spec.xdpMode, tcAttach: s.tcAttach}
    const paths = new Map<Mode, FastPath>()
    const fastPath = (o: LoadedObject, hook: Hook, prog: string) => new FastPath(native, hook, prog, o.obj.progFd(prog), o.statsFd, roles.dutNetns, ports, how)
    for (const [hook, prog] of Object.entries(s.builtin?.programs ?? {}) as [Hook, string][]) paths.set(hook, fastPath(s.builtin!, hook, prog))
    if (s.user) paths.set('object', fastPath(s.user, s.user.hook, s.user.program))
    try {
      if (spec.packets) {
        s.packets = packetBuckets(spec, active, paths)
        await packetGroup({native, roles, spec, buckets: s.packets, signal, progress: ctx.progress})
      }
      if (spec.points.length > 0) await sweep(t, signal, spec, roles, active, s.buckets, paths, {progress: ctx.progress}, s.bpfStats)
    } finally {
      for (const fp of paths.values()) fp.detach()
      s.bpfStats?.set(false)
    }
  })
}

/** `suite accelerator`: kernel forwarding against eBPF fast paths through the DUT. */
export const acceleratorSuite: SuiteDefinition<AccelFlags, AccelState, AccelOutcome> = {
  name: 'accelerator',
  validate: accelFromFlags,
  plan: planAccel,
  run: runAccel,
  teardown(s) {
    s.bpfStats?.set(false)
    for (const o of s.objects.splice(0)) o.obj.close()
  },
  // a run that stopped before its first measurement (e.g. the topology did not come up) leaves no file
  measured: (s) => s.buckets.some((b) => b.runs.length > 0 || b.errors.length > 0) || s.packets.some((b) => b.rounds.length > 0 || b.errors.length > 0),
  results(s) {
    const oneCpu = (s.spec.packets?.cpus.length ?? 1) === 1
    const beside: Record<string, string> = s.packets.length > 0 ? {'-frames.csv': packetCsv(s.packets)} : {}
    return {cases: [...packetCases(s.packets, {oneCpu}), ...buildCases(s.buckets, s.spec)], csv: csvOf(s.buckets), beside}
  },
  report: (s, run, files) => ({run, buckets: s.buckets, packets: s.packets, oneCpu: (s.spec.packets?.cpus.length ?? 1) === 1, files, cpus: run.environment.cpu.count}),
  render(o, paint) {
    const out = packetAnswer(o.packets).map((line) => paint.head(line))
    if (o.packets.length > 0) out.push(`\n${packetTable(o.packets, {color: paint.color, oneCpu: o.oneCpu})}`)
    if (o.buckets.length > 0) out.push(`\n${renderTable(tableRows(o.buckets), {color: paint.color})}`)
    for (const line of conclusions(o.buckets, o.cpus)) out.push(`\n${line}`)
    return [...out, `\n${resultLine(o.files)}`]
  },
  json: (o) => o.run,
}

type SweepArgs = [TopologyHandle, AbortSignal, AccelSpec, Roles, ModeInfo[], Bucket[], Map<Mode, FastPath>, {progress: boolean}, StatsSwitch?]

/** The iperf3 runs, with a scratch folder for the latency probe's output that goes on every way out. */
async function sweep(...args: SweepArgs): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'ebpfperf-acc-'))
  try {
    await iperf3Sweep(scratch, ...args)
  } finally {
    rmSync(scratch, {recursive: true, force: true})
  }
}

async function iperf3Sweep(scratch: string, ...[t, signal, spec, roles, active, buckets, paths, opts, bpfStats]: SweepArgs): Promise<void> {
  const client: Spawner = (argv) => t.spawn(roles.client, argv)
  const server: Spawner = (argv) => t.spawn(roles.server, argv)
  const ready = async () => {
    const r = await t.exec(roles.server, ['ss', '-Hltn', `sport = :${IPERF3_PORT}`])
    return !r.failed && r.stdout.trim() !== ''
  }
  let srv = await startIperf3Server(server, {port: IPERF3_PORT, ready})
  let serverGone = false
  void srv.done.then(() => (serverGone = true))

  const ctx = {
    client,
    dutNetns: roles.dutNetns,
    iperf: {server: roles.serverAddress, port: IPERF3_PORT, seconds: spec.end.seconds, bytes: spec.end.bytes, streams: spec.streams, connectTimeoutMs: 3000},
    probeTarget: roles.serverAddress,
    probeIntervalMs: spec.probeIntervalMs,
    probeFile: join(scratch, 'probe.txt'),
    signal,
  }
  const total = totalRuns(spec, active.length)
  const eta = new Eta(total)
  const pointRuns = (point: Point) => async (show: (line: string) => void) => {
    const update = (what: string) => show(`${pointLabel(point)} — ${what} · ${eta.completed}/${total} runs · ETA ${eta}`)
    // the load runs (warm-up first), then the latency runs: the same load with the probe beside it
    const schedule = [
      ...interleaved(active, spec.repeat, spec.warmup).map((s) => ({...s, latency: false})),
      ...interleaved(active, spec.latencyRuns, 0).map((s) => ({...s, latency: true})),
    ]
    for (const [i, step] of schedule.entries()) {
      signal.throwIfAborted()
      const what = step.warmup ? 'warm-up' : step.latency ? `latency ${step.rep + 1}/${spec.latencyRuns}` : `rep ${step.rep + 1}/${spec.repeat}`
      update(`${what} · ${step.config.label} (${i + 1}/${schedule.length})`)
      if (serverGone) {
        srv = await startIperf3Server(server, {port: IPERF3_PORT, ready})
        serverGone = false
        void srv.done.then(() => (serverGone = true))
      }
      const bucket = buckets.find((b) => b.point === point && b.mode === step.config)!
      const t0 = performance.now()
      try {
        const fp = paths.get(step.config.mode)
        const stats = bpfStats !== undefined && statsDuring(step, spec.latencyRuns, fp && {verdictCounters: fp.statsFd !== undefined})
        bpfStats?.set(stats)
        const s: RunSample = await measureRun(ctx, point, step.config.mode, step.rep, fp, step.latency, stats)
        bucket.runs.push(s)
      } catch (error) {
        if (signal.aborted) throw error
        if (error instanceof BadInputError) throw error
        bucket.errors.push(`${what}: ${(error as Error).message}`)
      }
      eta.ran((performance.now() - t0) / 1000)
    }
    return summaryLine(point, buckets)
  }
  try {
    await runSteps(spec.points.map((point) => ({title: pointLabel(point), run: pointRuns(point)})), {enabled: opts.progress, signal, live: 'title'})
  } catch (error) {
    if (signal.aborted) throw new Error(`the sweep stopped after ${eta.completed} of ${total} runs`)
    throw error
  }
}

/** The packet tests' buckets: per frame size, the generator alone and every mode that runs here. */
function packetBuckets(spec: AccelSpec, active: ModeInfo[], paths: Map<Mode, FastPath>): PacketBucket[] {
  const list: PacketPath[] = [{info: GENERATOR_PATH}, ...active.map((m) => ({info: m, fastPath: paths.get(m.mode)}))]
  return spec.packets!.sizes.flatMap((size) => list.map((path) => ({size, path, rounds: [], latency: [], loss: [], errors: []})))
}

/** The RFC 2544 packet tests: the generator and the sink set up around the DUT, each frame size in turn. */
async function packetGroup(g: {native: Native; roles: Roles; spec: AccelSpec; buckets: PacketBucket[]; signal: AbortSignal; progress: boolean}): Promise<void> {
  const ps = g.spec.packets!
  const ends = await packetEnds(g.roles, g.spec.family)
  const gen = new PacketGen(g.native)
  const paths = g.buckets.length / ps.sizes.length
  const total = ps.sizes.length * paths * (ps.warmup + ps.repeat + ps.latencyRuns + (ps.lossRates.length > 0 ? 1 : 0))
  const eta = new Eta(total)
  const sizeRounds = (size: number) => async (show: (line: string) => void) => {
    const here = g.buckets.filter((b) => b.size === size)
    let last = performance.now()
    // each step announced ends the one before it: that one's time feeds the ETA
    await measureFrameSize({native: g.native, gen, ends, spec: ps, signal: g.signal}, here, (what) => {
      const now = performance.now()
      eta.ran((now - last) / 1000)
      last = now
      show(`${size} B frames (RFC 2544, live frames) — ${what} · ${eta.completed}/${total} runs · ETA ${eta}`)
    })
    return `${size} B frames: ${here.map((b) => `${b.path.info.mode} ${(mean(b.rounds.filter((r) => !r.warmup).map((r) => r.throughput.pps)) / 1e6).toFixed(2)} Mpps`).join(' · ')}`
  }
  try {
    const undo = await preparePackets(gen, ends)
    try {
      await runSteps(ps.sizes.map((size) => ({title: `${size} B frames (RFC 2544, live frames)`, run: sizeRounds(size)})), {enabled: g.progress, signal: g.signal, live: 'title'})
    } finally {
      await undo()
    }
  } finally {
    gen.close()
  }
}

/**
 * bpf_stats (the fast path's ns per packet) is on only in the runs that are not measuring throughput: it
 * adds two clock reads to every run of every BPF program, the XDP peers on the client and server links
 * included (~90–130 ns a run measured here), which would tax the eBPF modes' throughput and CPU. So it
 * is on during the latency runs (of every mode, kernel included: the XDP peers pay it alike, so RTTs
 * compare), and during the load runs of a fast path only when there are no latency runs or when it has
 * no verdict counters (then run_cnt is the proof that it carried the traffic). fastPath: undefined for
 * the kernel mode. Exported for tests.
 */
export function statsDuring(step: {latency: boolean}, latencyRuns: number, fastPath: {verdictCounters: boolean} | undefined): boolean {
  if (step.latency) return true
  return fastPath !== undefined && (latencyRuns === 0 || !fastPath.verdictCounters)
}

/** BPF_ENABLE_STATS held while on: set(true) opens the fd, set(false) closes it (the kernel's previous state returns). */
class StatsSwitch {
  private fd: number | undefined
  constructor(private readonly native: Native) {}
  set(on: boolean): void {
    if (on && this.fd === undefined) this.fd = this.native.enableStats()
    else if (!on && this.fd !== undefined) {
      this.native.closeFd(this.fd)
      this.fd = undefined
    }
  }
}

function summaryLine(point: Point, buckets: Bucket[]): string {
  const parts = buckets
    .filter((b) => b.point === point && !b.mode.skipped)
    .map((b) => {
      const runs = loadRuns(b)
      if (runs.length === 0) return `${b.mode.mode} —`
      const m = mean(runs.map((r) => r.bitsPerSecond))
      const bad = runs.some((r) => r.problem) || b.errors.length > 0 ? ' ✗' : ''
      return `${b.mode.mode} ${formatRate(m)}${bad}`
    })
  return `${pointLabel(point)}: ${parts.join(' · ')}`
}
