// Layer 4: iperf3 UDP with 64-byte payloads and several parallel streams, client → server over a veth pair in
// namespaces of our own (netns/trc.topo.yml), programs attached to the server's receive path. Bitrate and
// transfer mean ± sd per configuration, impact against the baseline with Welch's t-test; "no significant
// difference" where p ≥ 0.05, "too noisy to tell" where the baseline's coefficient of variation is above the limit.
import {join} from 'node:path'
import {loadTopology} from '../../topology/model.js'
import {withTopology, type TopologyHandle} from '../../topology/index.js'
import {describeImpact, summarize, welch, type Summary, type Welch} from '../../results/stats.js'
import {projectRoot} from '../../util/paths.js'
import {interleaved} from '../common.js'
import {runIperf3ClientRetrying, startIperf3Server, type Iperf3ClientSpec, type Iperf3Result} from '../../workloads/iperf3.js'
import type {TraceKind} from '../../native.js'
import {diffCounts, type Body, type Loaded, type Programs} from './programs.js'

export const TOPOLOGY_FILE = (): string => join(projectRoot(), 'netns', 'trc.topo.yml')
export const SERVER_ADDRESS = '198.19.50.2'
export const SERVER_PORT = 5350

export interface WorkloadConfig {
  id: string
  kind?: TraceKind
  body?: Body
  stats: boolean
  target?: string
  loaded?: Loaded
}

export interface WorkloadRow {
  id: string
  kind?: TraceKind
  body?: string
  stats: boolean
  target?: string
  status: 'ok' | 'failed'
  reason?: string
  /** Received bitrate, Mbit/s, one per run. */
  bitrate: number[]
  /** Received bytes, MB, one per run. */
  transfer: number[]
  packets: number[]
  bitrateSummary?: Summary
  transferSummary?: Summary
  bitrateImpact?: Welch
  transferImpact?: Welch
  bitrateVerdict: string
  transferVerdict: string
  /** Program runs seen (map events, and run_cnt in stats-on runs) against datagrams received. */
  events: number
  runCnt: number
  received: number
  proof: string
}

export interface WorkloadLayer {
  rows: WorkloadRow[]
  duration: number
  streams: number
  noisy: boolean
  noisyWhy?: string
  interrupted: boolean
}

export interface WorkloadOptions {
  repeat: number
  warmup: number
  duration: number
  streams: number
  maxCv: number
  signal?: AbortSignal
  progress?: (line: string) => void
  topologyFile?: string
}

/** Every datagram the server receives passes its receive path at least once; allow 10% for the datagrams iperf3 counts at the edges of the run. */
export const PROOF_SHARE = 0.9

/** The load: UDP, 64-byte datagrams at up to 1 Gbit/s, `streams` parallel streams. */
export function workloadSpec(duration: number, streams: number): Iperf3ClientSpec {
  return {server: SERVER_ADDRESS, port: SERVER_PORT, protocol: 'udp', bitsPerSecond: 1e9, size: 64, seconds: duration, streams}
}

/** What one run of the workload carries from step to step. */
interface WorkloadRun {
  programs: Programs
  configs: WorkloadConfig[]
  opts: WorkloadOptions
  layer: WorkloadLayer
  rows: Map<WorkloadConfig, WorkloadRow>
}

/** One iperf3 run of a configuration: the client's figures and what the program counted meanwhile. */
interface IperfRun {
  res: Iperf3Result
  /** Datagrams the server received (sent − lost). */
  rx: number
  runs: number
  events: number
}

/**
 * The workload, in bootstrap.c's order: open (a row per configuration, counters counting every process),
 * bring up the namespaces and the iperf3 server, measure interleaved runs, tear down (withTopology), judge.
 */
export async function runWorkload(programs: Programs, configs: WorkloadConfig[], opts: WorkloadOptions): Promise<WorkloadLayer> {
  const run = openWorkloadRun(programs, configs, opts)
  const plan = loadTopology(opts.topologyFile ?? TOPOLOGY_FILE(), {dut: 'netns'})
  try {
    await withTopology(plan, (t, signal) => measureWorkload(run, t, signal))
  } catch (error) {
    if (!/^interrupted by/.test((error as Error).message)) throw error
    run.layer.interrupted = true
  }
  judgeWorkload(run)
  return run.layer
}

function openWorkloadRun(programs: Programs, configs: WorkloadConfig[], opts: WorkloadOptions): WorkloadRun {
  const layer: WorkloadLayer = {rows: [], duration: opts.duration, streams: opts.streams, noisy: false, interrupted: false}
  const rows = new Map<WorkloadConfig, WorkloadRow>()
  for (const c of configs) {
    // target 0: the receive path runs in whichever process the datagram arrives, so the counters count them all
    if (c.loaded) programs.setTarget(c.loaded, 0)
    rows.set(c, {id: c.id, kind: c.kind, body: c.body?.name, stats: c.stats, target: c.target, status: 'ok', bitrate: [], transfer: [], packets: [], bitrateVerdict: '', transferVerdict: '', events: 0, runCnt: 0, received: 0, proof: ''})
  }
  return {programs, configs, opts, layer, rows}
}

/** The first failure of a configuration is its reason; it takes no further runs. */
function failRow(run: WorkloadRun, c: WorkloadConfig, why: string): void {
  const r = run.rows.get(c)!
  if (r.status === 'ok') Object.assign(r, {status: 'failed', reason: why})
}

/** The iperf3 server in its namespace, waited for until it listens. */
async function startServer(t: TopologyHandle): Promise<void> {
  const ready = async () => {
    const r = await t.exec('server', ['ss', '-Hltn', `sport = :${SERVER_PORT}`])
    return !r.failed && r.stdout.trim() !== ''
  }
  await startIperf3Server((argv) => t.spawn('server', argv), {port: SERVER_PORT, bind: SERVER_ADDRESS, ready})
}

/** Interleaved runs (warm-up first, not counted) inside the topology; a configuration that fails takes no further runs. */
async function measureWorkload(run: WorkloadRun, t: TopologyHandle, signal: AbortSignal): Promise<void> {
  const {opts} = run
  await startServer(t)
  const order = interleaved(run.configs, opts.repeat, opts.warmup)
  for (const [i, {config: c, rep, warmup}] of order.entries()) {
    if (signal.aborted || opts.signal?.aborted === true) {
      run.layer.interrupted = true
      break
    }
    const r = run.rows.get(c)!
    if (r.status === 'failed') continue
    opts.progress?.(`${warmup ? 'warm-up' : `round ${rep + 1}/${opts.repeat}`} (${i + 1}/${order.length}): ${c.id}`)
    const got = await runOnce(run, t, signal, c, warmup)
    if (!got || warmup) continue
    r.bitrate.push(got.res.bitsPerSecond / 1e6)
    r.transfer.push(got.res.bytesReceived / 1e6)
    r.packets.push(got.rx)
    r.received += got.rx
    r.events += got.events
    if (c.stats) r.runCnt += got.runs
  }
}

/**
 * One iperf3 run with c's program attached (none for the baseline), checked against what the server received.
 * The warm-up runs every configuration with bpf_stats on: proof that each program fires on this path.
 * undefined when the run failed (the row says why).
 */
async function runOnce(run: WorkloadRun, t: TopologyHandle, signal: AbortSignal, c: WorkloadConfig, warmup: boolean): Promise<IperfRun | undefined> {
  const {programs, opts} = run
  const stats = c.stats || (warmup && c.loaded !== undefined)
  const c0 = c.loaded ? programs.counts(c.loaded) : undefined
  const s0 = c.loaded ? programs.stats(c.loaded) : undefined
  let res: Iperf3Result
  const statsFd = c.loaded && stats ? programs.native.enableStats() : -1
  try {
    if (c.loaded) programs.attach(c.loaded, c.target ?? '')
    try {
      res = await runIperf3ClientRetrying((argv) => t.spawn('client', argv), workloadSpec(warmup ? Math.min(opts.duration, 1) : opts.duration, opts.streams), {signal})
    } finally {
      if (c.loaded) programs.detach(c.loaded)
    }
  } catch (error) {
    failRow(run, c, (error as Error).message)
    return undefined
  } finally {
    if (statsFd >= 0) programs.native.closeFd(statsFd)
  }
  const rx = res.packetsReceived
  if (!c.loaded || !c0 || !s0) return {res, rx, runs: 0, events: 0}
  const runs = programs.stats(c.loaded).runCnt - s0.runCnt
  const events = diffCounts(c0, programs.counts(c.loaded)).events
  const isMap = c.body?.builtin === true && c.body.name === 'map'
  if (stats && runs < rx * PROOF_SHARE) failRow(run, c, `program did not fire on the receive path: run_cnt grew by ${runs} for ${rx} datagrams received`)
  if (isMap && events < rx * PROOF_SHARE) failRow(run, c, `the map counted ${events} runs for ${rx} datagrams received`)
  return {res, rx, runs, events}
}

/** Figures and verdicts: each configuration's bitrate and transfer against the baseline (Welch), unless the baseline was too noisy. */
function judgeWorkload(run: WorkloadRun): void {
  const {layer, opts} = run
  const base = run.configs.find((c) => !c.loaded)
  const b = base ? run.rows.get(base)! : undefined
  if (b && b.bitrate.length > 1) {
    const s = summarize(b.bitrate)
    if (s.cv > opts.maxCv) {
      layer.noisy = true
      layer.noisyWhy = `baseline bitrate cv ${(s.cv * 100).toFixed(1)}% > ${(opts.maxCv * 100).toFixed(0)}%`
    }
  }
  for (const c of run.configs) {
    const r = run.rows.get(c)!
    if (r.bitrate.length > 0) {
      r.bitrateSummary = summarize(r.bitrate)
      r.transferSummary = summarize(r.transfer)
    } else if (r.status === 'ok') Object.assign(r, {status: 'failed', reason: layer.interrupted ? 'interrupted before a run was counted' : 'no runs'})
    judgeImpact(layer, c, r, b)
    r.proof = c.loaded ? `${r.events} map events${c.stats ? `, run_cnt +${r.runCnt}` : ''} for ${r.received} datagrams received; fired in the warm-up with bpf_stats on` : `${r.received} datagrams received`
    layer.rows.push(r)
  }
}

function judgeImpact(layer: WorkloadLayer, c: WorkloadConfig, r: WorkloadRow, b: WorkloadRow | undefined): void {
  if (c.loaded && b && r.bitrate.length >= 2 && b.bitrate.length >= 2) {
    r.bitrateImpact = welch(b.bitrate, r.bitrate)
    r.transferImpact = welch(b.transfer, r.transfer)
    r.bitrateVerdict = layer.noisy ? `too noisy to tell (${layer.noisyWhy})` : describeImpact(r.bitrateImpact)
    r.transferVerdict = layer.noisy ? 'too noisy to tell' : describeImpact(r.transferImpact)
  } else {
    r.bitrateVerdict = !c.loaded ? 'baseline' : r.status === 'failed' ? `failed: ${r.reason}` : 'not enough samples'
    r.transferVerdict = !c.loaded ? 'baseline' : ''
  }
}

/** The workload's configurations: the baseline, then kind × body × stats. */
export function workloadConfigs(items: {kind: TraceKind; body: Body; loaded: Loaded; target: string}[], stats: boolean[]): WorkloadConfig[] {
  const out: WorkloadConfig[] = [{id: 'baseline', stats: false}]
  for (const it of items) for (const s of stats) out.push({id: `${it.kind}/${it.body.name}/stats-${s ? 'on' : 'off'}`, kind: it.kind, body: it.body, stats: s, target: it.target, loaded: it.loaded})
  return out
}
