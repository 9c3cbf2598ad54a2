// Everything doctor knows about the kernel under test, gathered once per run.
import {release as osRelease, machine as osMachine} from 'node:os'
import {Kconfig, discoverKconfig, type KconfigDiscovery} from '../kernel/kconfig.js'
import {Btf, findVmlinuxBtf} from '../kernel/btf.js'
import {SYSCTLS, activeLsms, effectiveCaps, listMounts, lockdownMode, memlockLimit, readSysctl, readText, type MountEntry} from '../kernel/runtime.js'
import {KNOWN_TOOLS, probeTool, type ToolInfo} from '../kernel/tools.js'
import {HELPERS, MAP_TYPES, PROG_TYPES} from '../kernel/uapi.js'
import {loadNative, type AttachKind, type Native, type ProbeResult, type ProbeSpec} from '../native.js'
import type {Profile} from './profile.js'
import {now, span, timed} from './timing.js'

export interface FactsOptions {
  kconfig?: string // --kconfig
  btf?: string // --btf
  live: boolean
  env?: NodeJS.ProcessEnv
  /** The whole picture (every known tool, BTF even if no check names it), as doctor shows; off for preflights. */
  system?: boolean
  /**
   * Hand slow detaches (uprobes, trampolines, tcx: RCU grace periods) to a short-lived process after every
   * probe has answered, instead of waiting for them: doctor's own run. Off for preflights, whose callers
   * go on to count or attach programs and must find the probes' ones gone.
   */
  deferTeardown?: boolean
}

export interface Facts {
  release: string
  machine: string
  live: boolean
  kconfig?: Kconfig
  kconfigDiscovery: KconfigDiscovery
  btf?: Btf
  btfPath?: string
  btfTried: string[]
  libbpf?: string
  nativeError?: string
  /** Memoized live probe; undefined when the native addon is not available. */
  probe(spec: string): ProbeResult | undefined
  sysctls: Map<string, string | undefined>
  mounts: MountEntry[]
  capEff: bigint
  lockdown?: string
  lockdownSource: string
  lsms?: string[]
  lsmSource: string
  memlock?: number
  cmdline?: string
  tools: Map<string, ToolInfo>
}

/** Lets finished probes' callbacks run (the one-at-a-time probes start their next) between long steps. */
const probesTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Reads config and BTF (bad input throws KconfigError/BtfError) and, when live, the running system. */
export async function gatherFacts(opts: FactsOptions, profiles: Profile[]): Promise<Facts> {
  let native: Native | undefined
  let nativeError: string | undefined
  if (opts.live) {
    try {
      native = timed('native addon', loadNative)
    } catch (error) {
      nativeError = (error as Error).message
    }
  }
  // Every probe the profiles name runs now, on the addon's worker pool, while this thread reads the
  // config, BTF and tools; evaluation then reads the results.
  const specs = [...new Set(profiles.flatMap((p) => p.checks.flatMap((c) => c.probe)))]
  const {memo, answered, released} = native ? startProbes(native, specs, opts.deferTeardown === true) : {memo: new Map<string, ProbeResult>(), answered: undefined, released: undefined}
  // every spec a profile names is in memo once `answered` settles (awaited below)
  const probe = (spec: string): ProbeResult | undefined => memo.get(spec)

  const env = opts.env ?? process.env
  const configFrom = now()
  const discovery = discoverKconfig(osRelease(), opts.kconfig, env.EBPFPERF_KCONFIG)
  let kconfig: Kconfig | undefined
  let btf: Btf | undefined
  let btfFound: {path?: string; tried: string[]} = {tried: []}
  try {
    kconfig = discovery.path ? Kconfig.fromFile(discovery.path) : undefined
    span('config', configFrom)
    await probesTurn()
    const btfFrom = now()
    const needBtf = opts.btf !== undefined || opts.system !== false || profiles.some((p) => p.checks.some((c) => c.btf.length > 0))
    if ((opts.live || opts.btf) && needBtf) btfFound = findVmlinuxBtf(opts.btf, opts.live ? osRelease() : kconfig?.kernelVersion)
    // The running kernel's sysfs BTF: mapped by the addon (no 4-KiB reads), and trusted (the kernel checked
    // it at boot; the types' entries are not checked again). Any other BTF is read as a file and checked.
    const mapped = btfFound.path?.startsWith('/sys/kernel/btf/') ? native?.mapFile(btfFound.path) : undefined
    btf = mapped ? Btf.fromBuffer(mapped, btfFound.path!, undefined, {trusted: true}) : btfFound.path ? Btf.fromFile(btfFound.path) : undefined
    span('btf', btfFrom)
    await probesTurn()
  } catch (error) {
    await released // bad input: let the probes finish their own clean-up before the process exits
    throw error
  }
  // Offline, the kernel under test is the one the config describes, not this machine's.
  const release = opts.live ? osRelease() : (kconfig?.kernelVersion ?? 'unknown')

  const toolNames = [...new Set([...(opts.system === false ? [] : KNOWN_TOOLS), ...profiles.flatMap((p) => p.checks.flatMap((c) => c.tool))])]
  const tools = new Map<string, ToolInfo>()
  const toolsFrom = now()
  if (opts.live) for (const t of await Promise.all(toolNames.map((n) => probeTool(n, opts.system !== false)))) tools.set(t.name, t)
  span('tools', toolsFrom)

  const waitFrom = now()
  await answered
  span('probes: main thread waits', waitFrom)
  return {
    release,
    machine: opts.live ? osMachine() : 'unknown',
    live: opts.live,
    kconfig,
    kconfigDiscovery: discovery,
    btf,
    btfPath: btfFound.path,
    btfTried: btfFound.tried,
    libbpf: native?.libbpfVersion(),
    nativeError,
    probe,
    ...timed('system', () => systemFacts(opts.live)),
    tools,
  }
}

type SystemFacts = Pick<Facts, 'sysctls' | 'mounts' | 'capEff' | 'lockdown' | 'lockdownSource' | 'lsms' | 'lsmSource' | 'memlock' | 'cmdline'>

/** The running system's sysctls, mounts, capabilities, lockdown, LSMs and limits (empty offline). */
function systemFacts(live: boolean): SystemFacts {
  const mounts = live ? listMounts() : []
  const lockdown = lockdownMode(mounts)
  const lsm = activeLsms(mounts)
  return {
    sysctls: new Map(live ? Object.keys(SYSCTLS).map((n) => [n, readSysctl(n).value] as [string, string | undefined]) : []),
    mounts,
    capEff: live ? effectiveCaps() : 0n,
    lockdown: live ? lockdown.mode : undefined,
    lockdownSource: lockdown.source,
    lsms: live ? lsm.list : undefined,
    lsmSource: lsm.source,
    memlock: live ? memlockLimit() : undefined,
    cmdline: live ? readText('/proc/cmdline') : undefined,
  }
}

// Probes that patch kernel text (kprobes, trampolines) go one at a time: run together they can stall a
// small machine for minutes (seen as soft lockups in a 2-vCPU emulated guest); the others overlap.
const PATCHES_TEXT = /^attach:(kprobe|kretprobe|kprobe\.multi|fentry|fexit|lsm)$/
// Of those, the ones that need the vmlinux BTF (the addon maps and walks it on the first) go first, so
// that the read overlaps this thread's own work instead of waiting for a turn.
const NEEDS_BTF = /^attach:(lsm|fentry|fexit)$/

/**
 * Starts every probe; `answered` settles once all have answered (each answer is in `memo` by then),
 * `released` once the deferred teardowns are handed off. With deferTeardown, attachments whose detach waits for RCU
 * grace periods (a uprobe: 120-150 ms here, one after another) stay attached until every probe has
 * answered, then go to a teardown process together.
 */
function startProbes(native: Native, specs: string[], deferTeardown: boolean): {memo: Map<string, ProbeResult>; answered: Promise<unknown>; released: Promise<unknown>} {
  const memo = new Map<string, ProbeResult>()
  const probeOne = async (s: string) => {
    memo.set(s, await native.probeAsync(parseProbeSpec(s), {deferTeardown}))
  }
  const from = now()
  const serial = specs.filter((s) => PATCHES_TEXT.test(s)).sort((a, b) => Number(NEEDS_BTF.test(b)) - Number(NEEDS_BTF.test(a)))
  // an async loop, not a chain of then(): its first probe starts now, not at this thread's first await
  const oneAtATime = (async () => {
    for (const s of serial) await probeOne(s)
    span('probes: one at a time', from)
  })()
  const parallel = Promise.all(specs.filter((s) => !PATCHES_TEXT.test(s)).map(probeOne)).then(() => span('probes: parallel', from))
  const answered = Promise.all([parallel, oneAtATime])
  // the hand-off forks on the worker pool while this thread evaluates
  const released = answered.finally(() => {
    const at = now()
    return native.releaseProbes().finally(() => span('probes: teardown hand-off', at))
  })
  released.catch(() => {}) // awaited only on bad input; the addon's exit waits for it (native.ts exitNowIfLoaded)
  return {memo, answered, released}
}

/** "prog:xdp", "map:ringbuf", "helper:xdp:bpf_fib_lookup", "attach:fentry" → the addon's probe. */
export function parseProbeSpec(spec: string): ProbeSpec {
  const [op, ...rest] = spec.split(':')
  const arg = rest.join(':')
  switch (op) {
    case 'prog':
      return {op, type: PROG_TYPES[arg]}
    case 'map':
      return {op, type: MAP_TYPES[arg]}
    case 'helper': {
      const [prog, helper] = arg.split(':')
      return {op, progType: PROG_TYPES[prog], helperId: HELPERS[helper]}
    }
    case 'attach':
      return {op, kind: arg as AttachKind}
    default:
      throw new Error(`unknown probe "${spec}"`)
  }
}

/** One probe, synchronously. */
export function runProbe(native: Native, spec: string): ProbeResult {
  const p = parseProbeSpec(spec)
  switch (p.op) {
    case 'prog':
      return native.probeProgType(p.type)
    case 'map':
      return native.probeMapType(p.type)
    case 'helper':
      return native.probeHelper(p.progType, p.helperId)
    case 'attach':
      return native.probeAttach(p.kind, p.target)
  }
}
