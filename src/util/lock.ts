// One run at a time per topology: an flock(2) on /run/ebpfperf/locks/<name>.lock, taken through the native
// addon (Node has no flock) on a file this process keeps open. The kernel lets go when the file is closed or
// the process dies (kill -9 included); the fd is close-on-exec, so no child started meanwhile inherits it.
import {closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {loadNative} from '../native.js'
import {BadInputError} from './errors.js'

export const LOCK_DIR = '/run/ebpfperf/locks'

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
  else held.set(name, {fd: acquire(name, waitMs), users: 1})
  try {
    await held.get(name)!.fd
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

/** The holds of this process: one open lock file per name, shared by every user in the process. */
const held = new Map<string, {fd: Promise<number>; users: number}>()

async function letGo(name: string): Promise<void> {
  const h = held.get(name)
  if (!h || --h.users > 0) return
  held.delete(name)
  release(name, await h.fd)
}

async function acquire(name: string, waitMs: number): Promise<number> {
  mkdirSync(LOCK_DIR, {recursive: true})
  const native = loadNative()
  const fd = openSync(lockFile(name), 'a') // libuv opens with O_CLOEXEC
  const deadline = performance.now() + waitMs
  try {
    while (!native.tryLock(fd)) {
      if (performance.now() >= deadline) throw new TopologyBusyError(`topology ${name} is in use by ${holder(name)}: wait for it to finish, or stop it`)
      await sleep(10) // a holder that was just killed lets go within a moment
    }
  } catch (error) {
    closeSync(fd)
    throw error
  }
  writeFileSync(ownerFile(name), JSON.stringify({pid: process.pid, since: new Date().toISOString()}))
  return fd
}

function release(name: string, fd: number): void {
  try {
    if (JSON.parse(readFileSync(ownerFile(name), 'utf8')).pid === process.pid) rmSync(ownerFile(name), {force: true})
  } catch {
    // no owner file
  }
  closeSync(fd)
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
