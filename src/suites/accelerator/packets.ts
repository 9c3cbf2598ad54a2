// The accelerator's packet tests (RFC 2544) with the in-kernel generator: frames leave the client's port
// from bpf/gen.bpf.c, cross the DUT in each mode, and the sink on the server's port counts them. A
// `generator` path (the sink on the DUT's own ingress, no forwarding) is measured beside the modes in
// every round: it shows how fast the generator alone goes, and, with everything on one CPU, its cost per
// frame is what the other paths spend outside the DUT. Every trial proves what carried the frames.
import type {Native} from '../../native.js'
import {RequirementError} from '../../util/errors.js'
import {attachXdp, detachXdp, XDP_PASS_OBJECT} from '../../topology/index.js'
import {inNetns, ipJson} from '../../topology/kernel.js'
import {PacketGen, type FrameSpec, type Trial} from '../../workloads/pktgen.js'
import {diffSlots, readKernelForwarding, verdicts} from './counters.js'
import type {FastPath} from './fastpath.js'
import type {ModeInfo} from './report.js'
import type {Roles} from './index.js'
import type {Mode} from './spec.js'
import {resolveRate, searchThroughput, ppsForBits, type RateText, type Throughput} from './rfc2544.js'

export interface PacketSpec {
  /** frame sizes with FCS (RFC 2544's set by default) */
  sizes: number[]
  trialMs: number
  repeat: number
  warmup: number
  /** loss tolerated in the throughput test, a fraction */
  tolerance: number
  maxSteps: number
  /** frame loss rate test: offered rates */
  lossRates: RateText[]
  /** latency test at this share of each mode's throughput (0: none) */
  latencyLoad: number
  latencyRuns: number
  cpus: number[]
  flows: number
}

/** One path the packets take: a mode of the suite, or the generator alone (`generator`). */
export interface PacketPath {
  info: Omit<ModeInfo, 'mode'> & {mode: Mode | 'generator'}
  fastPath?: FastPath
}

export const GENERATOR_PATH: PacketPath['info'] = {mode: 'generator', label: 'generator → sink (no DUT)', params: {}}

/** What proves a trial measured its path. */
export interface Proof {
  /** the generator program's own count equals the frames the test runs sent */
  generatorCounted: boolean
  /** frames the DUT forwarded by its own counters (fast path verdicts, or the kernel's ForwDatagrams) */
  dutForwarded?: number
  from: 'fast path verdicts' | 'kernel forwarding' | 'none'
  /** the kernel forwarded frames in a fast-path mode (it should not) */
  kernelForwarded?: number
  problem?: string
}

export interface PacketRound {
  rep: number
  warmup: boolean
  throughput: Throughput
  proof: Proof
}

export interface PacketBucket {
  size: number
  path: PacketPath
  rounds: PacketRound[]
  latency: Trial[]
  loss: {rate: RateText; pps: number; trial: Trial}[]
  errors: string[]
}

/** The pieces of the topology the generator needs (from the acc topology's roles). */
export interface PacketEnds {
  clientNetns: string
  clientPort: string
  dutNetns: string
  dutIngress: string
  serverNetns: string
  serverPort: string
  frame: Omit<FrameSpec, 'size'>
}

async function macOf(netns: string, ifname: string): Promise<string> {
  const [link] = await ipJson<{address: string}[]>(netns, ['link', 'show', ifname])
  return link.address
}

/** The ports and addresses: client → DUT ingress → … → server. */
export async function packetEnds(roles: Roles, family: 4 | 6): Promise<PacketEnds> {
  const [clientPort] = roles.clientPorts
  const [dutIngress] = roles.dutPorts
  const serverPort = roles.serverPorts[0]
  const clientNetns = roles.clientNetns ?? ''
  const dutNetns = roles.dutNetns ?? ''
  const serverNetns = roles.serverNetns ?? ''
  const dstMac = await macOf(dutNetns, dutIngress)
  const srcMac = await macOf(clientNetns, clientPort)
  const frame = {family, srcMac, dstMac, srcIp: roles.clientAddress, dstIp: roles.serverAddress}
  return {clientNetns, clientPort, dutNetns, dutIngress, serverNetns, serverPort, frame}
}

/**
 * The group's setup and its undo: the sink replaces the server port's XDP pass program, and the DUT's
 * ingress gets GRO (a veth takes frames transmitted into it by XDP only with GRO or an XDP program on
 * it; kernel and tc modes have none). Both are put back as they were.
 */
export async function preparePackets(gen: PacketGen, e: PacketEnds): Promise<() => Promise<void>> {
  const gro = await inNetns(e.dutNetns, ['ethtool', '-k', e.dutIngress])
  const groWasOn = /generic-receive-offload: on/.test(gro.stdout)
  await detachXdp(e.serverNetns, e.serverPort)
  const sink = gen.attachSink(e.serverNetns, e.serverPort)
  if (!groWasOn) await inNetns(e.dutNetns, ['ethtool', '-K', e.dutIngress, 'gro', 'on'])
  return async () => {
    gen.closeLink(sink)
    if (!groWasOn) await inNetns(e.dutNetns, ['ethtool', '-K', e.dutIngress, 'gro', 'off'])
    await attachXdp(e.serverNetns, e.serverPort, XDP_PASS_OBJECT(), 'xdp', 'native')
  }
}

/** Attaches what the path needs on the DUT; returns the detach. */
function attachPath(gen: PacketGen, p: PacketPath, e: PacketEnds): () => void {
  if (p.info.mode === GENERATOR_PATH.mode) {
    const link = gen.attachSink(e.dutNetns, e.dutIngress)
    return () => gen.closeLink(link)
  }
  p.fastPath?.attach()
  return () => p.fastPath?.detach()
}

export interface PacketContext {
  native: Native
  gen: PacketGen
  ends: PacketEnds
  spec: PacketSpec
  signal: AbortSignal
}

function trialFn(c: PacketContext, size: number) {
  return (pps: number, stamp: boolean) =>
    c.gen.trial({netns: c.ends.clientNetns, ifname: c.ends.clientPort, frame: {...c.ends.frame, size}, pps, durationMs: c.spec.trialMs, cpus: c.spec.cpus, flows: c.spec.flows, stamp}, c.signal)
}

/** Runs the throughput search on one path, bracketed by the counters that prove what carried it. */
export async function throughputRound(c: PacketContext, b: PacketBucket, rep: number, warmup: boolean): Promise<PacketRound> {
  const detach = attachPath(c.gen, b.path, c.ends)
  try {
    const fp = b.path.fastPath
    const k0 = await readKernelForwarding(c.ends.dutNetns)
    const v0 = fp?.counters()
    const throughput = await searchThroughput(trialFn(c, b.size), {tolerance: c.spec.tolerance, maxSteps: c.spec.maxSteps, resolution: 0.01}, c.signal)
    const k1 = await readKernelForwarding(c.ends.dutNetns)
    const v1 = fp?.counters()
    const kernel = k1.v4 - k0.v4 + (k1.v6 - k0.v6)
    const proof = prove(b.path, throughput.trials, kernel, v0 && v1 ? verdicts(diffSlots(v0, v1)).forwarded : undefined)
    if (b.path.info.mode === GENERATOR_PATH.mode && throughput.trials.every((t) => t.sent > 0 && t.received === 0)) throw refusedTransmit(c.ends)
    return {rep, warmup, throughput, proof}
  } finally {
    detach()
  }
}

/** Sums over the trials of a search: every frame the sink counted must have been forwarded by the path's own count. */
export function prove(path: PacketPath, trials: Trial[], kernelForwarded: number, fastForwarded: number | undefined): Proof {
  const generatorCounted = trials.every((t) => t.genCounted === t.sent)
  const received = trials.reduce((a, t) => a + t.received, 0)
  const base: Proof = {generatorCounted, from: 'none'}
  if (!generatorCounted) base.problem = 'the generator program counted other frames than the test runs sent'
  if (path.info.mode === GENERATOR_PATH.mode) return base
  if (path.info.mode === 'kernel') {
    const ok = kernelForwarded >= received
    return {...base, from: 'kernel forwarding', dutForwarded: kernelForwarded, problem: base.problem ?? (ok ? undefined : `the sink counted ${received} frames but the DUT's kernel forwarded ${kernelForwarded}`)}
  }
  if (fastForwarded === undefined) {
    const ok = kernelForwarded < received * 0.01
    return {...base, from: 'kernel forwarding', kernelForwarded, problem: base.problem ?? (ok ? undefined : `the DUT's kernel forwarded ${kernelForwarded} of ${received} frames: the fast path did not carry them`)}
  }
  const ok = fastForwarded >= received && kernelForwarded < received * 0.01
  const problem = ok ? undefined : `the sink counted ${received} frames; the fast path forwarded ${fastForwarded} and the kernel ${kernelForwarded}`
  return {...base, from: 'fast path verdicts', dutForwarded: fastForwarded, kernelForwarded, problem: base.problem ?? problem}
}

/** Latency at spec.latencyLoad of the path's throughput (stamped frames). */
export async function latencyTrial(c: PacketContext, b: PacketBucket, throughputPps: number): Promise<Trial> {
  const detach = attachPath(c.gen, b.path, c.ends)
  try {
    return await trialFn(c, b.size)(throughputPps * c.spec.latencyLoad, true)
  } finally {
    detach()
  }
}

/** Frame loss at each asked rate (percentages of the generator's own maximum at this size). */
export async function lossTrials(c: PacketContext, b: PacketBucket, generatorMax: number): Promise<void> {
  const detach = attachPath(c.gen, b.path, c.ends)
  try {
    for (const rate of c.spec.lossRates) {
      c.signal.throwIfAborted()
      const pps = 'bps' in rate ? ppsForBits(rate.bps, b.size) : resolveRate(rate, generatorMax)
      b.loss.push({rate, pps, trial: await trialFn(c, b.size)(pps, false)})
    }
  } finally {
    detach()
  }
}

/** Round r visits the paths rotated by r, so no path always runs first after an idle moment or last. */
export function rotated<T>(xs: T[], r: number): T[] {
  const k = xs.length === 0 ? 0 : ((r % xs.length) + xs.length) % xs.length
  return [...xs.slice(k), ...xs.slice(0, k)]
}

/** The rounds that count (warm-up left out). */
export const counted = (b: PacketBucket) => b.rounds.filter((r) => !r.warmup)
const meanOf = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, x) => a + x, 0) / xs.length)
export const throughputs = (b: PacketBucket) => counted(b).map((r) => r.throughput.pps)

/**
 * One frame size: throughput rounds (warm-up first, then `repeat` rounds, every path once a round), then
 * latency runs at a share of each path's throughput, then frame loss at the asked rates. A path whose
 * trial fails keeps the error and the sweep goes on; an abort stops it (what was measured stays).
 */
export async function measureFrameSize(c: PacketContext, here: PacketBucket[], update: (what: string) => void): Promise<void> {
  const size = here[0]?.size
  for (let rep = -c.spec.warmup; rep < c.spec.repeat; rep++) {
    for (const b of rotated(here, rep)) {
      c.signal.throwIfAborted()
      update(`${rep < 0 ? 'warm-up' : `round ${rep + 1}/${c.spec.repeat}`} · ${b.path.info.label}`)
      await guarded(c, b, async () => b.rounds.push(await throughputRound(c, b, rep, rep < 0)))
    }
  }
  for (let run = 0; c.spec.latencyLoad > 0 && run < c.spec.latencyRuns; run++) {
    for (const b of rotated(here, run)) {
      const pps = meanOf(throughputs(b))
      update(`latency ${run + 1}/${c.spec.latencyRuns} · ${b.path.info.label}`)
      if (pps > 0) await guarded(c, b, async () => b.latency.push(await latencyTrial(c, b, pps)))
    }
  }
  const generator = here.find((b) => b.path.info.mode === GENERATOR_PATH.mode)
  const max = meanOf(generator ? throughputs(generator) : here.flatMap(throughputs))
  for (const b of c.spec.lossRates.length > 0 && max > 0 ? here : []) {
    update(`frame loss at ${size} B · ${b.path.info.label}`)
    await guarded(c, b, () => lossTrials(c, b, max))
  }
}

/** Not one frame crossed a single link: the port does not transmit XDP frames (driver, or no XDP/GRO on its peer). */
function refusedTransmit(e: PacketEnds): RequirementError {
  return new RequirementError(`${e.clientPort} in ${e.clientNetns || 'this namespace'} refused XDP transmit: none of the generator's frames reached the sink on ${e.dutIngress} (a veth needs GRO or an XDP program on its peer; a NIC needs ndo_xdp_xmit): run with --load iperf3`)
}

async function guarded(c: PacketContext, b: PacketBucket, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn()
  } catch (error) {
    if (c.signal.aborted || error instanceof RequirementError) throw error
    b.errors.push((error as Error).message)
  }
}
