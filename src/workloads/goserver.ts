// The Go case of the application layer: apps/goserver (net/http, GET /<size>.bin), built offline with
// Debian's golang-go into a cache of ours and started in the server's namespace beside nginx.
import {existsSync, mkdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {run, which, type Started} from '../exec.js'
import {projectRoot} from '../util/paths.js'
import {parseSize, untilReady} from './nginx.js'

export const GO_PORT = 8081
const SOURCE = () => join(projectRoot(), 'apps', 'goserver', 'main.go')
const CACHE = '/var/cache/ebpfperf/go'

/** The server's binary, built when missing or older than its source; golang-go missing → undefined and why. */
export async function buildGoServer(): Promise<{path?: string; why?: string}> {
  const go = which('go')
  if (!go) return {why: 'go not found: apt-get install -y golang-go'}
  const out = join(CACHE, 'goserver')
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(SOURCE()).mtimeMs) return {path: out}
  mkdirSync(CACHE, {recursive: true})
  const env = `GO111MODULE=off GOFLAGS= GOCACHE=${CACHE}/build GOPATH=${CACHE}/path`
  const r = await run('sh', ['-c', `cd "${join(projectRoot(), 'apps', 'goserver')}" && ${env} "${go}" build -o "${out}" .`], {timeoutMs: 300_000})
  if (r.failed) return {why: `building apps/goserver failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`}
  return {path: out}
}

export interface RunningGo {
  proc: Started
  binary: string
  stop(): Promise<void>
}

/** Starts the server with `spawn` and waits, bounded, until it listens; a failure stops it. */
export async function startGoServer(
  spawn: (argv: string[]) => Promise<Started>, binary: string, address: string, sizes: string[], listening: () => Promise<boolean>, timeoutMs = 15000,
): Promise<RunningGo> {
  const proc = await spawn([binary, '-listen', `${address}:${GO_PORT}`, '-sizes', sizes.map((s) => `${s}=${parseSize(s)}`).join(',')])
  let exited = false
  void proc.done.then(() => (exited = true))
  const stop = async () => {
    if (!exited) proc.kill('SIGTERM')
    await proc.done
  }
  try {
    await untilReady(proc, listening, timeoutMs, {exited: (r) => `the Go server exited at start: ${r.stderr.trim().split('\n').pop()}`, late: `the Go server did not listen on port ${GO_PORT} within ${timeoutMs / 1000} s`})
  } catch (error) {
    await stop()
    throw error
  }
  return {proc, binary, stop}
}
