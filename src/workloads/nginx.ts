// nginx as the application under test: a site of static files of given sizes, served over HTTP and HTTPS
// (a self-signed certificate made at run time), one master and N workers started in a namespace of our own,
// and the facts a tracer needs about it: the workers' pids, the libssl they map, their CPU time.
import {chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {run, type RunResult, type Started} from '../exec.js'

export const HTTP_PORT = 8080
export const HTTPS_PORT = 8443

export interface Site {
  dir: string
  conf: string
  /** URL path per size name, e.g. 1K → /1K.bin */
  paths: Record<string, string>
}

/** Bytes of a size given as 1K, 16K, 1M or a plain number; NaN when it is not a size. */
export function parseSize(s: string): number {
  const m = /^(\d+)([KkMm]?)$/.exec(s.trim())
  if (!m) return Number.NaN
  return Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]) ? 1024 : 1024 * 1024)
}

export function nginxConf(dir: string, address: string, workers: number): string {
  return `worker_processes ${workers};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  types { application/octet-stream bin; }
  server {
    listen ${address}:${HTTP_PORT};
    listen ${address}:${HTTPS_PORT} ssl;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    root ${dir}/www;
  }
}
`
}

/** A fresh folder with the files, a certificate and nginx.conf; remove() deletes it. */
export async function makeSite(sizes: string[], address: string, workers: number): Promise<Site & {remove(): void}> {
  const dir = mkdtempSync(join(tmpdir(), 'ebpfperf-app-'))
  const remove = () => rmSync(dir, {recursive: true, force: true})
  try {
    chmodSync(dir, 0o755) // nginx's workers run as its unprivileged user and must read the files
    mkdirSync(join(dir, 'www'))
    mkdirSync(join(dir, 'tmp'))
    const paths: Record<string, string> = {}
    for (const s of sizes) {
      writeFileSync(join(dir, 'www', `${s}.bin`), Buffer.alloc(parseSize(s), 0x61))
      paths[s] = `/${s}.bin`
    }
    const cert = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=ebpfperf-app',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], {timeoutMs: 20000})
    if (cert.failed) throw new Error(`openssl could not make the test certificate: ${cert.stderr.trim().split('\n').pop()}`)
    const conf = join(dir, 'nginx.conf')
    writeFileSync(conf, nginxConf(dir, address, workers))
    return {dir, conf, paths, remove}
  } catch (error) {
    remove()
    throw error
  }
}

/** Children of `pid` (scanning /proc: no CONFIG_PROC_CHILDREN needed). */
export function childPids(pid: number): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d))
    } catch {
      // gone while we looked
    }
  }
  return out
}

/** The libssl file a process maps (from /proc/PID/maps), or undefined. */
export function mappedLibssl(pid: number): string | undefined {
  let maps: string
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8')
  } catch {
    return undefined
  }
  return /\s(\/\S*\/libssl\.so[\w.]*)$/m.exec(maps)?.[1]
}

/** User + system CPU time of the processes, in ns (clock ticks of 10 ms on Linux). */
export function cpuNs(pids: number[]): number {
  let ticks = 0
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8')
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
      ticks += Number(rest[11]) + Number(rest[12])
    } catch {
      // gone: its time is lost, the case's proof says so through the worker count
    }
  }
  return ticks * 1e7
}

export interface RunningNginx {
  master: Started
  workers: number[]
  libssl?: string
  stop(): Promise<void>
}

/**
 * Starts nginx with `spawn` (in the server's namespace) and waits, bounded, until both ports listen and the
 * workers are up. Any failure stops what was started.
 */
export async function startNginx(spawn: (argv: string[]) => Promise<Started>, site: Site, workers: number, listening: () => Promise<boolean>, timeoutMs = 15000): Promise<RunningNginx> {
  const master = await spawn(['nginx', '-c', site.conf, '-p', site.dir])
  let exited = false
  void master.done.then(() => (exited = true))
  const stop = async () => {
    if (!exited) master.kill('SIGTERM')
    const r = await Promise.race([master.done, new Promise<undefined>((res) => setTimeout(res, 5000))])
    if (r === undefined && master.pid) {
      for (const p of [...childPids(master.pid), master.pid]) try { process.kill(p, 'SIGKILL') } catch { /* gone */ }
      await master.done
    }
  }
  let w: number[] = []
  const ready = async () => (w = master.pid ? childPids(master.pid) : []).length >= workers && (await listening())
  try {
    await untilReady(master, ready, timeoutMs, {
      exited: (r) => `nginx exited at start (${r.exitCode}): ${(r.stderr || readTail(join(site.dir, 'error.log'))).trim().split('\n').pop()}`,
      late: `nginx did not listen on ports ${HTTP_PORT} and ${HTTPS_PORT} within ${timeoutMs / 1000} s (is a port in use? see ${site.dir}/error.log)`,
    })
  } catch (error) {
    await stop()
    throw error
  }
  return {master, workers: w, libssl: mappedLibssl(w[0]), stop}
}

/** Polls `ready` every 50 ms until it holds; throws `why.exited` when the process ends first, `why.late` after timeoutMs. */
export async function untilReady(proc: Started, ready: () => Promise<boolean>, timeoutMs: number, why: {exited: (r: RunResult) => string; late: string}): Promise<void> {
  let ended: RunResult | undefined
  void proc.done.then((r) => (ended = r))
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (ended) throw new Error(why.exited(ended))
    if (await ready()) return
    if (Date.now() > deadline) throw new Error(why.late)
    await new Promise((res) => setTimeout(res, 50))
  }
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-400)
  } catch {
    return ''
  }
}
