// One run at a time per topology: an flock(2) on /run/ebpfperf/locks/<name>.lock, held by a small `flock`
// child whose stdin is our pipe. Node cannot call flock itself; the child lets go when we close the pipe or
// when we die (kill -9 included: the kernel closes the pipe, `cat` sees EOF, flock exits).
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {BadInputError} from './errors.js'

export const LOCK_DIR = '/run/ebpfperf/locks'
const BUSY = 75 // flock -E: the lock was held by someone else for the whole wait

/** Another process holds the topology (exit 2: bad input, not a failed measurement). */
export class TopologyBusyError extends BadInputError {}

export interface HeldLock {
  name: string
  release(): Promise<void>
}

const lockFile = (name: string) => join(LOCK_DIR, `${encodeURIComponent(name)}.lock`)
const ownerFile = (name: string) => join(LOCK_DIR, `${encodeURIComponent(name)}.owner`)

/** Names of every topology a lock was ever taken for (their lock files stay; they are empty). */
export function lockedNames(): string[] {
  try {
    return readdirSync(LOCK_DIR)
      .filter((f) => f.endsWith('.lock'))
      .map((f) => decodeURIComponent(f.slice(0, -'.lock'.length)))
  } catch {
    return []
  }
}

/** Who holds a topology, as "pid N (command)", read from the owner file the holder wrote. */
export function holder(name: string): string {
  let pid = NaN
  try {
    pid = Number(JSON.parse(readFileSync(ownerFile(name), 'utf8')).pid)
  } catch {
    return 'another process'
  }
  let cmd = ''
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).map((a) => a.replace(/^.*\/(bin\/run\.js|node)$/, '$1')).join(' ')
  } catch {
    // gone meanwhile
  }
  return `pid ${pid}${cmd ? ` (${cmd})` : ''}`
}

/**
 * Takes the lock of topology `name`, waiting up to waitMs (a holder that was just killed needs a moment to
 * let go). Busy: TopologyBusyError naming the holder.
 */
export async function lockTopology(name: string, waitMs = 1000): Promise<HeldLock> {
  // this process already holds it (a suite that locked early, then withTopology): share that hold
  const mine = held.get(name)
  if (mine) mine.users++
  else held.set(name, {child: acquire(name, waitMs), users: 1})
  try {
    await held.get(name)!.child
  } catch (error) {
    held.delete(name)
    throw error
  }
  let released = false
  return {
    name,
    release: async () => {
      if (released) return
      released = true
      await letGo(name)
    },
  }
}

/** The holds of this process: one flock child per name, shared by every user in the process. */
const held = new Map<string, {child: Promise<ChildProcess>; users: number}>()

async function letGo(name: string): Promise<void> {
  const h = held.get(name)
  if (!h || --h.users > 0) return
  held.delete(name)
  await release(name, await h.child)
}

async function acquire(name: string, waitMs: number): Promise<ChildProcess> {
  mkdirSync(LOCK_DIR, {recursive: true})
  const child = spawn('flock', ['-w', String(waitMs / 1000), '-E', String(BUSY), lockFile(name), 'sh', '-c', 'echo held; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // its own process group: a Ctrl-C meant for us must not release the lock mid-cleanup
  })
  const got = await new Promise<number | 'held'>((resolve) => {
    child.stdout!.once('data', () => resolve('held'))
    child.once('error', () => resolve(-1))
    child.once('exit', (code) => resolve(code ?? -1))
  })
  if (got !== 'held') {
    if (got === BUSY) throw new TopologyBusyError(`topology ${name} is in use by ${holder(name)}: wait for it to finish, or stop it`)
    throw new Error(`locking topology ${name} (${lockFile(name)}): flock exited with ${got}`)
  }
  writeFileSync(ownerFile(name), JSON.stringify({pid: process.pid, since: new Date().toISOString()}))
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as {unref?: () => void})?.unref?.()
  child.unref()
  return child
}

async function release(name: string, child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  try {
    if (JSON.parse(readFileSync(ownerFile(name), 'utf8')).pid === process.pid) rmSync(ownerFile(name), {force: true})
  } catch {
    // no owner file
  }
  const gone = new Promise((r) => child.once('exit', r))
  child.ref() // unreferenced while held; waiting for its exit must keep node running
  child.stdin!.end()
  await gone
}

/** Runs fn holding the lock of every name (all or none: a busy one releases those taken). */
export async function withLocks<T>(names: string[], fn: () => Promise<T>): Promise<T> {
  const held: HeldLock[] = []
  try {
    for (const n of [...new Set(names)].sort()) held.push(await lockTopology(n))
    return await fn()
  } finally {
    for (const h of held.reverse()) await h.release()
  }
}
