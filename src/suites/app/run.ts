// The application layer's measurement: nginx in the server's namespace, wrk in the client's, each
// configuration (protocol × size × probe) run in turn and repeated in rotation so that the machine's drift
// falls on every configuration alike. Around each wrk run the probe is attached, and its counters and the
// ring consumer are read: a probe that did not fire on the requests, or a record neither consumed nor counted
// as lost, fails its configuration.
import {join} from 'node:path'
import {loadTopology} from '../../topology/model.js'
import {withTopology, type TopologyHandle} from '../../topology/index.js'
import {projectRoot} from '../../util/paths.js'
import {interleaved} from '../common.js'
import {makeSite, startNginx, cpuNs, HTTP_PORT, HTTPS_PORT, type RunningNginx} from '../../workloads/nginx.js'
import {parseWrk, wrkArgs, type WrkResult} from '../../workloads/wrk.js'
import {AppProbes, diffAppCounts, type AppCounts, type BufferKind, type ProbeName, type ProbeRun, type UserProgram} from './probes.js'
import {checkProof, emptyRow, type AppConfig, type AppRow, type Protocol} from './proof.js'
import {buildGoServer, startGoServer, GO_PORT, type RunningGo} from '../../workloads/goserver.js'

export const APP_TOPOLOGY = (): string => join(projectRoot(), 'netns', 'app.topo.yml')
export const SERVER_ADDRESS = '198.19.60.2'

export interface AppOptions {
  protocols: Protocol[]
  sizes: string[]
  probes: ProbeName[]
  workers: number
  connections: number
  threads: number
  duration: number
  repeat: number
  warmup: number
  capture: number
  /** sslsniff's records: through a ring buffer or a perf buffer. */
  buffer: BufferKind
  /** The pid the in-kernel syscall filter keeps (default: this process, i.e. "another process"). */
  filterPid: number
  user?: UserProgram
  signal?: AbortSignal
  progress?: (line: string) => void
}

export interface AppRun {
  rows: AppRow[]
  libssl?: string
  workers: number[]
  interrupted: boolean
}

export function appConfigs(o: Pick<AppOptions, 'protocols' | 'sizes' | 'probes'> & {buffer?: BufferKind}): AppConfig[] {
  const out: AppConfig[] = []
  for (const protocol of o.protocols)
    for (const size of o.sizes)
      for (const probe of o.probes) if (probeFits(probe, protocol)) out.push({id: `${protocol}/${size}/${probe}`, protocol, size, probe, ...(probe === 'sslsniff' ? {buffer: o.buffer ?? 'ringbuf'} : {})})
  return out
}

/** sslsniff sees TLS only (nginx over HTTPS); the go-* probes are in the Go server only. */
export function probeFits(probe: ProbeName, protocol: Protocol): boolean {
  if (probe === 'sslsniff') return protocol === 'https'
  if (probe.startsWith('go-')) return protocol === 'go'
  return true
}

/** The servers of the run: nginx always, the Go server when a configuration uses it. */
interface Servers {
  nginx: RunningNginx
  go?: RunningGo
}

export async function runApp(o: AppOptions): Promise<AppRun> {
  const configs = appConfigs(o)
  const rows = new Map(configs.map((c) => [c, emptyRow(c)]))
  const out: AppRun = {rows: [...rows.values()], workers: [], interrupted: false}
  const goBinary = o.protocols.includes('go') ? await goServerBinary() : undefined
  const site = await makeSite(o.sizes, SERVER_ADDRESS, o.workers)
  const probes = new AppProbes()
  try {
    await withTopology(loadTopology(APP_TOPOLOGY(), {dut: 'netns'}), async (t, signal) => {
      const servers: Servers = {nginx: await startNginx((argv) => t.spawn('server', argv), site, o.workers, () => listening(t, [HTTP_PORT, HTTPS_PORT]))}
      try {
        if (o.protocols.includes('go')) servers.go = await startGoServer((argv) => t.spawn('server', argv), goBinary!, SERVER_ADDRESS, o.sizes, () => listening(t, [GO_PORT]))
        Object.assign(out, {libssl: servers.nginx.libssl, workers: servers.nginx.workers})
        loadProbes(probes, o, servers)
        out.interrupted = await runRounds(t, servers, probes, configs, rows, o, signal)
      } finally {
        probes.closeAll()
        await servers.go?.stop()
        await servers.nginx.stop()
      }
    })
  } catch (error) {
    if (!/^interrupted by/.test((error as Error).message)) throw error
    out.interrupted = true
  } finally {
    probes.closeAll()
    site.remove()
  }
  return out
}

async function goServerBinary(): Promise<string> {
  const b = await buildGoServer()
  if (!b.path) throw new Error(`--protocols go: ${b.why}`)
  return b.path
}

async function listening(t: TopologyHandle, ports: number[]): Promise<boolean> {
  const r = await t.exec('server', ['ss', '-Hltn', `( ${ports.map((p) => `sport = :${p}`).join(' or ')} )`])
  return !r.failed && r.stdout.trim().split('\n').filter(Boolean).length >= ports.length
}

function loadProbes(probes: AppProbes, o: AppOptions, {nginx, go}: Servers): void {
  if (o.probes.includes('sslsniff')) {
    if (!nginx.libssl) throw new Error(`nginx's worker ${nginx.workers[0]} maps no libssl (see /proc/${nginx.workers[0]}/maps): nginx built without OpenSSL?`)
    probes.loadSslsniff(nginx.libssl, nginx.workers, o.capture, o.buffer)
  }
  const sys = o.probes.filter((p): p is 'syscount' | 'syscount-kfilter' | 'syscount-user' => p.startsWith('syscount'))
  if (sys.length > 0) probes.loadSyscount(sys, o.filterPid)
  const goProbes = o.probes.filter((p): p is 'go-runtime' | 'go-handler' => p.startsWith('go-'))
  if (go && goProbes.length > 0) probes.loadGo(goProbes, go.binary, go.proc.pid!)
  if (o.user) probes.loadUser(o.user, nginx.workers, nginx.libssl)
}

async function runRounds(t: TopologyHandle, servers: Servers, probes: AppProbes, configs: AppConfig[], rows: Map<AppConfig, AppRow>, o: AppOptions, signal: AbortSignal): Promise<boolean> {
  const order = interleaved(configs, o.repeat, o.warmup)
  for (const [i, {config: c, rep, warmup}] of order.entries()) {
    if (signal.aborted || o.signal?.aborted) return true
    const row = rows.get(c)!
    if (row.status === 'failed') continue
    o.progress?.(`${warmup ? 'warm-up' : `round ${rep + 1}/${o.repeat}`} (${i + 1}/${order.length}): ${c.id}`)
    try {
      const m = await measureOnce(t, servers, probes, c, o, warmup ? Math.min(o.duration, 1) : o.duration, signal)
      const why = checkProof(c, m)
      if (why) throw new Error(why)
      if (!warmup) record(row, m, rep)
    } catch (error) {
      if (signal.aborted || o.signal?.aborted) return true
      Object.assign(row, {status: 'failed', reason: (error as Error).message})
    }
  }
  return false
}

/** A measured run: wrk's figures and the servers' CPU beside what the probe saw. */
export interface Measured extends ProbeRun {
  wrk: WrkResult
  serverCpuNs: number
}

/** The processes serving `c` (whose CPU time counts) and its URL. */
function target(servers: Servers, c: AppConfig): {pids: number[]; url: string} {
  const path = `${SERVER_ADDRESS}:${{http: HTTP_PORT, https: HTTPS_PORT, go: GO_PORT}[c.protocol]}/${c.size}.bin`
  if (c.protocol === 'go') return {pids: [servers.go!.proc.pid!], url: `http://${path}`}
  return {pids: [servers.nginx.master.pid!, ...servers.nginx.workers], url: `${c.protocol}://${path}`}
}

/** run_cnt grown between two readings, by label. */
const runCntDiff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]))

/**
 * One wrk run of `c`. While a probe is attached bpf_stats is on (BPF_ENABLE_STATS, closed after), so the kernel's
 * run_cnt of its programs proves it fired; that adds two clock reads to each program run, part of the probe's cost.
 */
async function measureOnce(t: TopologyHandle, servers: Servers, probes: AppProbes, c: AppConfig, o: AppOptions, seconds: number, signal: AbortSignal): Promise<Measured> {
  const {pids, url} = target(servers, c)
  const probed = c.probe !== 'none'
  const stats = probed ? probes.native.enableStats() : -1
  let got: {consumed: number; matched: number; consumerCpuNs: number; lostReported?: number} = {consumed: 0, matched: 0, consumerCpuNs: 0}
  let text: string
  let r0: Record<string, number> = {}
  let runCnt: Record<string, number> = {}
  const c0 = probes.counts()
  const cpu0 = cpuNs(pids)
  try {
    r0 = probes.runCnt(c.probe)
    if (probed) probes.attach(c.probe, o.filterPid)
    try {
      text = await runWrk(t, wrkArgs({url, threads: o.threads, connections: o.connections, seconds}), seconds, signal)
    } finally {
      if (probed) got = await probes.detach(c.probe)
    }
    runCnt = runCntDiff(r0, probes.runCnt(c.probe))
  } finally {
    if (stats >= 0) probes.native.closeFd(stats)
  }
  const serverCpuNs = cpuNs(pids) - cpu0
  return {wrk: parseWrk(text), serverCpuNs, counts: diffAppCounts(c0, probes.counts()), ...got, runCnt}
}

/** wrk in the client's namespace, stopped when the run is interrupted. */
async function runWrk(t: TopologyHandle, args: string[], seconds: number, signal: AbortSignal): Promise<string> {
  const p = await t.spawn('client', ['wrk', ...args])
  const stop = () => p.kill('SIGTERM')
  signal.addEventListener('abort', stop, {once: true})
  const timer = setTimeout(stop, (seconds + 30) * 1000)
  try {
    const r = await p.done
    if (signal.aborted) throw new Error('interrupted')
    if (r.exitCode !== 0) throw new Error(`wrk exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`)
    return r.stdout
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', stop)
  }
}

function record(row: AppRow, m: Measured, round: number): void {
  row.rps.push(m.wrk.requestsPerSec)
  row.rounds.push(round)
  row.transfer.push(m.wrk.transferPerSec)
  row.p50us.push(m.wrk.latencyUs['50'] ?? Number.NaN)
  row.p99us.push(m.wrk.latencyUs['99'] ?? Number.NaN)
  row.requests += m.wrk.requests
  row.errors += m.wrk.errors
  row.serverCpuNs += m.serverCpuNs
  row.consumerCpuNs += m.consumerCpuNs
  row.consumed += m.consumed
  if (m.lostReported !== undefined) row.lostReported = (row.lostReported ?? 0) + m.lostReported
  row.matched += m.matched
  for (const [k, v] of Object.entries(m.runCnt)) row.runCnt[k] = (row.runCnt[k] ?? 0) + v
  for (const k of Object.keys(row.counts) as (keyof AppCounts)[]) row.counts[k] += m.counts[k]
}
