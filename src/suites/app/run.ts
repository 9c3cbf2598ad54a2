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
import {AppProbes, diffAppCounts, type AppCounts, type ProbeName, type UserProgram} from './probes.js'
import {checkProof, emptyRow, type AppConfig, type AppRow} from './proof.js'

export const APP_TOPOLOGY = (): string => join(projectRoot(), 'netns', 'app.topo.yml')
export const SERVER_ADDRESS = '198.19.60.2'

export interface AppOptions {
  protocols: ('http' | 'https')[]
  sizes: string[]
  probes: ProbeName[]
  workers: number
  connections: number
  threads: number
  duration: number
  repeat: number
  warmup: number
  capture: number
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

export function appConfigs(o: Pick<AppOptions, 'protocols' | 'sizes' | 'probes'>): AppConfig[] {
  const out: AppConfig[] = []
  for (const protocol of o.protocols)
    for (const size of o.sizes)
      for (const probe of o.probes) if (!(probe === 'sslsniff' && protocol === 'http')) out.push({id: `${protocol}/${size}/${probe}`, protocol, size, probe})
  return out
}

export async function runApp(o: AppOptions): Promise<AppRun> {
  const configs = appConfigs(o)
  const rows = new Map(configs.map((c) => [c, emptyRow(c)]))
  const out: AppRun = {rows: [...rows.values()], workers: [], interrupted: false}
  const site = await makeSite(o.sizes, SERVER_ADDRESS, o.workers)
  const probes = new AppProbes()
  try {
    await withTopology(loadTopology(APP_TOPOLOGY(), {dut: 'netns'}), async (t, signal) => {
      const nginx = await startNginx((argv) => t.spawn('server', argv), site, o.workers, () => listening(t))
      try {
        Object.assign(out, {libssl: nginx.libssl, workers: nginx.workers})
        loadProbes(probes, o, nginx)
        out.interrupted = await runRounds(t, nginx, probes, configs, rows, o, signal)
      } finally {
        probes.closeAll()
        await nginx.stop()
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

async function listening(t: TopologyHandle): Promise<boolean> {
  const r = await t.exec('server', ['ss', '-Hltn', `( sport = :${HTTP_PORT} or sport = :${HTTPS_PORT} )`])
  return !r.failed && r.stdout.trim().split('\n').filter(Boolean).length >= 2
}

function loadProbes(probes: AppProbes, o: AppOptions, nginx: RunningNginx): void {
  if (o.probes.includes('sslsniff')) {
    if (!nginx.libssl) throw new Error(`nginx's worker ${nginx.workers[0]} maps no libssl (see /proc/${nginx.workers[0]}/maps): nginx built without OpenSSL?`)
    probes.loadSslsniff(nginx.libssl, nginx.workers, o.capture)
  }
  const sys = o.probes.filter((p): p is 'syscount' | 'syscount-kfilter' | 'syscount-user' => p.startsWith('syscount'))
  if (sys.length > 0) probes.loadSyscount(sys, o.filterPid)
  if (o.user) probes.loadUser(o.user, nginx.workers)
}

async function runRounds(t: TopologyHandle, nginx: RunningNginx, probes: AppProbes, configs: AppConfig[], rows: Map<AppConfig, AppRow>, o: AppOptions, signal: AbortSignal): Promise<boolean> {
  const order = interleaved(configs, o.repeat, o.warmup)
  for (const [i, {config: c, rep, warmup}] of order.entries()) {
    if (signal.aborted || o.signal?.aborted) return true
    const row = rows.get(c)!
    if (row.status === 'failed') continue
    o.progress?.(`${warmup ? 'warm-up' : `round ${rep + 1}/${o.repeat}`} (${i + 1}/${order.length}): ${c.id}`)
    try {
      const m = await measureOnce(t, nginx, probes, c, o, warmup ? Math.min(o.duration, 1) : o.duration, signal)
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

export interface Measured {
  wrk: WrkResult
  serverCpuNs: number
  counts: AppCounts
  consumed: number
  matched: number
  consumerCpuNs: number
  runCnt: number
}

async function measureOnce(t: TopologyHandle, nginx: RunningNginx, probes: AppProbes, c: AppConfig, o: AppOptions, seconds: number, signal: AbortSignal): Promise<Measured> {
  const pids = [nginx.master.pid!, ...nginx.workers]
  const port = c.protocol === 'https' ? HTTPS_PORT : HTTP_PORT
  const url = `${c.protocol}://${SERVER_ADDRESS}:${port}/${c.size}.bin`
  const stats = c.probe === 'object' ? probes.native.enableStats() : -1
  const c0 = probes.counts()
  const r0 = c.probe === 'object' ? probes.runCnt('object') : 0
  let got = {consumed: 0, matched: 0, consumerCpuNs: 0}
  const cpu0 = cpuNs(pids)
  let text: string
  try {
    if (c.probe !== 'none') probes.attach(c.probe, o.filterPid)
    try {
      text = await runWrk(t, wrkArgs({url, threads: o.threads, connections: o.connections, seconds}), seconds, signal)
    } finally {
      if (c.probe !== 'none') got = probes.detach(c.probe)
    }
  } finally {
    if (stats >= 0) probes.native.closeFd(stats)
  }
  const serverCpuNs = cpuNs(pids) - cpu0
  const runCnt = c.probe === 'object' ? probes.runCnt('object') - r0 : 0
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
  row.matched += m.matched
  row.runCnt += m.runCnt
  for (const k of Object.keys(row.counts) as (keyof AppCounts)[]) row.counts[k] += m.counts[k]
}
