// Changes a run makes to the machine (a sysctl, a mount), each recorded under /run/ebpfperf/changes BEFORE it
// is made, so that after a kill -9 `topology down --all` (or `ebpfperf cleanup`) can undo it. A normal way
// out undoes the change and removes its record; a leftover is undone only once its process is gone.
import {mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {run} from '../exec.js'

export const CHANGES_DIR = '/run/ebpfperf/changes'

export type Change = {kind: 'sysctl'; path: string; from: string; to: string} | {kind: 'mount'; fstype: string; target: string}

interface ChangeRecord {
  pid: number
  pidStart: string // the process's start time: a reused pid is not the owner
  made: string
  change: Change
}

/** A change in force: undo() puts back what was there and drops the record (idempotent). */
export interface Made {
  what: string
  undo(): Promise<void>
}

let seq = 0

function startTime(pid: number): string | undefined {
  try {
    // field 22 of /proc/PID/stat, counted after the command name (which may hold spaces)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

function record(change: Change): string {
  mkdirSync(CHANGES_DIR, {recursive: true})
  const file = join(CHANGES_DIR, `${process.pid}-${Date.now()}-${seq++}.json`)
  const rec: ChangeRecord = {pid: process.pid, pidStart: startTime(process.pid) ?? '', made: new Date().toISOString(), change}
  writeFileSync(`${file}.tmp`, JSON.stringify(rec))
  renameSync(`${file}.tmp`, file)
  return file
}

export const describe = (c: Change) => (c.kind === 'sysctl' ? `${c.path.replace(/^\/proc\/sys\//, '').replace(/\//g, '.')}=${c.from}` : `${c.fstype} on ${c.target}`)

/** Writes a sysctl (a /proc/sys path), recorded first. Throws as the write did (the record is then dropped). */
export function setSysctl(path: string, value: string): Made {
  const from = readFileSync(path, 'utf8').trim()
  const change: Change = {kind: 'sysctl', path, from, to: value}
  const file = record(change)
  try {
    writeFileSync(path, value)
  } catch (error) {
    rmSync(file, {force: true})
    throw error
  }
  return made(change, file)
}

/** Mounts a filesystem, recorded first. */
export async function mountFs(fstype: string, target: string): Promise<Made> {
  const change: Change = {kind: 'mount', fstype, target}
  const file = record(change)
  const r = await run('mount', ['-t', fstype, 'nodev', target])
  if (r.failed) {
    rmSync(file, {force: true})
    throw new Error(`mounting ${fstype} on ${target}: ${r.stderr || `exit ${r.exitCode}`}`)
  }
  return made(change, file)
}

function made(change: Change, file: string): Made {
  let done = false
  return {
    what: describe(change),
    async undo() {
      if (done) return
      done = true
      await undo(change)
      rmSync(file, {force: true})
    },
  }
}

/** Puts back what a change replaced, unless the machine is no longer in the state the change left it in. */
async function undo(c: Change): Promise<'restored' | 'already'> {
  if (c.kind === 'sysctl') {
    if (readFileSync(c.path, 'utf8').trim() !== c.to) return 'already'
    writeFileSync(c.path, c.from)
    return 'restored'
  }
  if (!isMounted(c.fstype, c.target)) return 'already'
  const r = await run('umount', [c.target])
  if (r.failed) throw new Error(`umount ${c.target}: ${r.stderr || `exit ${r.exitCode}`}`)
  return 'restored'
}

function isMounted(fstype: string, target: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => {
      const [, where, type] = l.split(' ')
      return where === target && type === fstype
    })
}

export interface Restored {
  restored: string[]
  unchanged: string[] // the machine had already gone back (or on)
  errors: string[]
  running: number // records of processes still alive: theirs to undo
}

/** Undoes the recorded changes of every process that is gone (a crash, a kill -9), newest first. */
export async function restoreLeftovers(): Promise<Restored> {
  const out: Restored = {restored: [], unchanged: [], errors: [], running: 0}
  let files: string[] = []
  try {
    files = readdirSync(CHANGES_DIR).filter((f) => f.endsWith('.json'))
  } catch {
    return out
  }
  const recs = files.flatMap((f) => {
    try {
      return [{file: join(CHANGES_DIR, f), rec: JSON.parse(readFileSync(join(CHANGES_DIR, f), 'utf8')) as ChangeRecord}]
    } catch {
      rmSync(join(CHANGES_DIR, f), {force: true}) // a record cut short: its change was never made
      return []
    }
  })
  for (const {file, rec} of recs.sort((a, b) => b.rec.made.localeCompare(a.rec.made))) {
    if (startTime(rec.pid) === rec.pidStart) {
      out.running++
      continue
    }
    try {
      const how = await undo(rec.change)
      out[how === 'restored' ? 'restored' : 'unchanged'].push(describe(rec.change))
      rmSync(file, {force: true})
    } catch (error) {
      out.errors.push(`${describe(rec.change)}: ${(error as Error).message}`)
    }
  }
  return out
}
