// Layer 4 (seed 001's method, with the statistics it lacked): iperf3 UDP with 64-byte payloads and several
// parallel streams, client → server over a veth pair in namespaces of our own (netns/trc.topo.yml), programs
// attached to the server's receive path. Bitrate and transfer mean ± sd per configuration, impact against the
// baseline with Welch's t-test; "no significant difference" where p ≥ 0.05, "too noisy to tell" where the
// baseline's coefficient of variation is above the limit.
import {join} from 'node:path'
import {loadTopology} from '../../topology/model.js'
import {withTopology} from '../../topology/index.js'
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

/** Seed 001's load: UDP, 64-byte datagrams at up to 1 Gbit/s, `streams` parallel streams. */
export function workloadSpec(duration: number, streams: number): Iperf3ClientSpec {
  return {server: SERVER_ADDRESS, port: SERVER_PORT, protocol: 'udp', bitsPerSecond: 1e9, size: 64, seconds: duration, streams}
}

export async function runWorkload(programs: Programs, configs: WorkloadConfig[], opts: WorkloadOptions): Promise<WorkloadLayer> {
  const native = programs.native
  const layer: WorkloadLayer = {rows: [], duration: opts.duration, streams: opts.streams, noisy: false, interrupted: false}
  const rows = new Map<WorkloadConfig, WorkloadRow>()
  for (const c of configs) {
    if (c.loaded) programs.setTarget(c.loaded, 0)
    rows.set(c, {id: c.id, kind: c.kind, body: c.body?.name, stats: c.stats, target: c.target, status: 'ok', bitrate: [], transfer: [], packets: [], bitrateVerdict: '', transferVerdict: '', events: 0, runCnt: 0, received: 0, proof: ''})
  }
  const fail = (c: WorkloadConfig, why: string) => {
    const r = rows.get(c)!
    if (r.status === 'ok') Object.assign(r, {status: 'failed', reason: why})
  }
  const plan = loadTopology(opts.topologyFile ?? TOPOLOGY_FILE(), {dut: 'netns'})
  try {
    await withTopology(plan, async (t, signal) => {
      const aborted = () => signal.aborted || opts.signal?.aborted === true
      const ready = async () => {
        const r = await t.exec('server', ['ss', '-Hltn', `sport = :${SERVER_PORT}`])
        return !r.failed && r.stdout.trim() !== ''
      }
      await startIperf3Server((argv) => t.spawn('server', argv), {port: SERVER_PORT, bind: SERVER_ADDRESS, ready})
      const order = interleaved(configs, opts.repeat, opts.warmup)
      let i = 0
      for (const {config: c, rep, warmup} of order) {
        i++
        if (aborted()) {
          layer.interrupted = true
          break
        }
        const r = rows.get(c)!
        if (r.status === 'failed') continue
        opts.progress?.(`${warmup ? 'warm-up' : `round ${rep + 1}/${opts.repeat}`} (${i}/${order.length}): ${c.id}`)
        // the warm-up runs every configuration with bpf_stats on: proof that each program fires on this path
        const stats = c.stats || (warmup && c.loaded !== undefined)
        const c0 = c.loaded ? programs.counts(c.loaded) : undefined
        const s0 = c.loaded ? programs.stats(c.loaded) : undefined
        let res: Iperf3Result
        const statsFd = c.loaded && stats ? native.enableStats() : -1
        try {
          if (c.loaded) programs.attach(c.loaded, c.target ?? '')
          try {
            res = await runIperf3ClientRetrying((argv) => t.spawn('client', argv), workloadSpec(warmup ? Math.min(opts.duration, 1) : opts.duration, opts.streams), {signal})
          } finally {
            if (c.loaded) programs.detach(c.loaded)
          }
        } catch (error) {
          fail(c, (error as Error).message)
          continue
        } finally {
          if (statsFd >= 0) native.closeFd(statsFd)
        }
        const rx = res.packetsReceived // datagrams the server received (sent − lost)
        let runs = 0
        let events = 0
        if (c.loaded && c0 && s0) {
          runs = programs.stats(c.loaded).runCnt - s0.runCnt
          events = diffCounts(c0, programs.counts(c.loaded)).events
          const isMap = c.body?.builtin === true && c.body.name === 'map'
          if (stats && runs < rx * PROOF_SHARE) fail(c, `program did not fire on the receive path: run_cnt grew by ${runs} for ${rx} datagrams received`)
          if (isMap && events < rx * PROOF_SHARE) fail(c, `the map counted ${events} runs for ${rx} datagrams received`)
        }
        if (warmup) continue
        r.bitrate.push(res.bitsPerSecond / 1e6)
        r.transfer.push(res.bytesReceived / 1e6)
        r.packets.push(rx)
        r.received += rx
        r.events += events
        if (c.stats) r.runCnt += runs
      }
    })
  } catch (error) {
    if (!/^interrupted by/.test((error as Error).message)) throw error
    layer.interrupted = true
  }

  const base = configs.find((c) => !c.loaded)
  const b = base ? rows.get(base)! : undefined
  if (b && b.bitrate.length > 1) {
    const s = summarize(b.bitrate)
    if (s.cv > opts.maxCv) {
      layer.noisy = true
      layer.noisyWhy = `baseline bitrate cv ${(s.cv * 100).toFixed(1)}% > ${(opts.maxCv * 100).toFixed(0)}%`
    }
  }
  for (const c of configs) {
    const r = rows.get(c)!
    if (r.bitrate.length > 0) {
      r.bitrateSummary = summarize(r.bitrate)
      r.transferSummary = summarize(r.transfer)
    } else if (r.status === 'ok') Object.assign(r, {status: 'failed', reason: layer.interrupted ? 'interrupted before a run was counted' : 'no runs'})
    if (c.loaded && b && r.bitrate.length >= 2 && b.bitrate.length >= 2) {
      r.bitrateImpact = welch(b.bitrate, r.bitrate)
      r.transferImpact = welch(b.transfer, r.transfer)
      r.bitrateVerdict = layer.noisy ? `too noisy to tell (${layer.noisyWhy})` : describeImpact(r.bitrateImpact)
      r.transferVerdict = layer.noisy ? 'too noisy to tell' : describeImpact(r.transferImpact)
    } else {
      r.bitrateVerdict = !c.loaded ? 'baseline' : r.status === 'failed' ? `failed: ${r.reason}` : 'not enough samples'
      r.transferVerdict = !c.loaded ? 'baseline' : ''
    }
    r.proof = c.loaded ? `${r.events} map events${c.stats ? `, run_cnt +${r.runCnt}` : ''} for ${r.received} datagrams received; fired in the warm-up with bpf_stats on` : `${r.received} datagrams received`
    layer.rows.push(r)
  }
  return layer
}

/** The workload's configurations: the baseline, then kind × body × stats. */
export function workloadConfigs(items: {kind: TraceKind; body: Body; loaded: Loaded; target: string}[], stats: boolean[]): WorkloadConfig[] {
  const out: WorkloadConfig[] = [{id: 'baseline', stats: false}]
  for (const it of items) for (const s of stats) out.push({id: `${it.kind}/${it.body.name}/stats-${s ? 'on' : 'off'}`, kind: it.kind, body: it.body, stats: s, target: it.target, loaded: it.loaded})
  return out
}
