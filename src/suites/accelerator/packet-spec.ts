// The packet tests' settings from the flags: frame sizes (RFC 2544's set by default), trial length, loss
// tolerance, the frame loss test's rates, the latency test's load, the generator's CPUs and flows. Each
// mistake is one line naming the flag and the fix, before anything is created.
import {availableParallelism, release} from 'node:os'
import {BadInputError, RequirementError} from '../../util/errors.js'
import {minFrameSize} from '../../workloads/pktgen.js'
import type {PacketSpec} from './packets.js'
import {parseRateList} from './rfc2544.js'

export type Load = 'live-frames' | 'iperf3'
export const LOADS: readonly Load[] = ['live-frames', 'iperf3']

/** RFC 2544 §9's frame sizes for Ethernet; RFC 5180 starts IPv6 at 78 (a header 20 bytes longer). */
export const RFC2544_SIZES = [64, 128, 256, 512, 1024, 1280, 1518]

export interface PacketFlags {
  quick?: boolean
  repeat?: number
  warmup?: number
  'latency-runs'?: number
  'frame-sizes'?: string
  'trial-time'?: number
  'loss-tolerance'?: number
  'loss-rates'?: string
  'latency-load'?: number
  'gen-cpus'?: number
  flows?: number
}

export function parseLoads(text: string | undefined): Load[] {
  if (text === undefined) return [...LOADS]
  const loads = text.split(',').map((s) => s.trim())
  for (const l of loads) if (!LOADS.includes(l as Load)) throw new BadInputError(`--load: "${l}" is not a load (live-frames, iperf3, or both: live-frames,iperf3)`)
  return [...new Set(loads)] as Load[]
}

function frameSizes(text: string | undefined, family: 4 | 6, mtu: number, quick: boolean): number[] {
  const min = minFrameSize(family)
  const max = mtu + 18
  const defaults = RFC2544_SIZES.map((s) => Math.max(s, min)).filter((s) => s <= max)
  if (text === undefined) return quick ? [defaults[0]] : [...new Set(defaults)]
  return text.split(',').map((raw) => {
    const s = raw.trim()
    if (!/^\d+$/.test(s)) throw new BadInputError(`--frame-sizes: "${s}" is not a frame size in bytes (write e.g. 64,512,1518)`)
    const n = Number(s)
    if (n < min) throw new BadInputError(`--frame-sizes: ${n} is below the smallest IPv${family} frame the generator can send (${min} bytes with FCS: headers and its 12-byte sequence/timestamp header)`)
    if (n > max) throw new BadInputError(`--frame-sizes: ${n} is above the path's largest frame (${max} bytes: MTU ${mtu} + 14 Ethernet + 4 FCS)`)
    return n
  })
}

/** Live frames (BPF_F_TEST_XDP_LIVE_FRAMES) came with Linux 5.18. */
export function checkLiveFrames(rel = release()): void {
  const [maj, min] = rel.split('.').map((x) => Number.parseInt(x, 10))
  if (maj < 5 || (maj === 5 && min < 18))
    throw new RequirementError(`the packet generator needs BPF_PROG_TEST_RUN with live frames (Linux 5.18 or later); this kernel is ${rel}: run with --load iperf3`)
}

/** queues: the fewest queues of the topology's links (a veth takes each CPU's frames on queue cpu % queues). */
export function buildPacketSpec(f: PacketFlags, family: 4 | 6, mtu: number, queues = 1): PacketSpec {
  const quick = f.quick ?? false
  const tol = f['loss-tolerance'] ?? 0
  if (!(tol >= 0 && tol <= 100)) throw new BadInputError(`--loss-tolerance ${tol}: out of range (a percentage from 0 to 100)`)
  const load = f['latency-load'] ?? 90
  if (!(load >= 0 && load <= 100)) throw new BadInputError(`--latency-load ${load}: out of range (a percentage of the throughput from 0 to 100; 0 = no latency test)`)
  const trial = f['trial-time'] ?? (quick ? 0.3 : 0.5)
  if (!(trial >= 0.05 && trial <= 60)) throw new BadInputError(`--trial-time ${trial}: out of range (seconds from 0.05 to 60)`)
  const cpus = f['gen-cpus'] ?? 1
  if (cpus > availableParallelism()) throw new BadInputError(`--gen-cpus ${cpus}: this machine has ${availableParallelism()} CPUs`)
  // two generator CPUs on one veth queue share its ring, which overflows: one queue per generator CPU
  if (cpus > queues) throw new BadInputError(`--gen-cpus ${cpus}: the topology's links have ${queues} queue(s); give every link \`queues: ${cpus}\` (or more) in the topology file`)
  let lossRates
  try {
    const text = f['loss-rates'] ?? (quick ? '' : '100%,90%,80%')
    lossRates = text.trim() === '' ? [] : parseRateList('--loss-rates', text)
  } catch (error) {
    throw new BadInputError((error as Error).message)
  }
  return {
    sizes: frameSizes(f['frame-sizes'], family, mtu, quick),
    trialMs: Math.round(trial * 1000),
    repeat: f.repeat ?? 5,
    warmup: f.warmup ?? 1,
    tolerance: tol / 100,
    maxSteps: quick ? 4 : 8,
    lossRates,
    latencyLoad: load / 100,
    latencyRuns: f['latency-runs'] ?? (quick ? 1 : 2),
    cpus: Array.from({length: cpus}, (_, i) => i),
    flows: f.flows ?? 4,
  }
}
