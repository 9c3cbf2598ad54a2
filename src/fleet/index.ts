// fleet doctor: the bundled doctor run on every inventory host over OpenSSH, all hosts at once; each host
// ends as a report, or as one line saying why not (unreachable, refused, no root, doctor failed).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {DoctorReport} from '../doctor/index.js'
import type {InventoryHost} from './inventory.js'
import {makeBundle, remoteDoctorCommand} from './bundle.js'
import {closeMaster, ssh} from './ssh.js'

export type HostOutcome = 'reported' | 'unreachable' | 'refused' | 'no-root' | 'failed'

export interface HostResult {
  name: string
  address: string
  outcome: HostOutcome
  why?: string
  report?: DoctorReport
  seconds: number
}

function firstLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).find((l) => l && !/^Warning: Permanently added/.test(l)) ?? ''
}

/** What an ssh failure (exit 255) means, in one line. */
export function classifySshFailure(stderr: string): {outcome: HostOutcome; why: string} {
  const line = firstLine(stderr)
  if (/Permission denied|Too many authentication failures|Host key verification failed/.test(stderr)) return {outcome: 'refused', why: `ssh refused: ${line}`}
  return {outcome: 'unreachable', why: line || 'ssh could not connect'}
}

async function oneHost(h: InventoryHost, runDir: string, bundle: Buffer, doctorArgs: string[], timeoutMs: number): Promise<HostResult> {
  const t0 = Date.now()
  const base = {name: h.name, address: `${h.user}@${h.host}:${h.port}`}
  const done = (r: Omit<HostResult, 'name' | 'address' | 'seconds'>): HostResult => ({...base, ...r, seconds: Math.round((Date.now() - t0) / 100) / 10})
  const probe = await ssh(h, runDir, 'id -u', {timeoutMs: 15_000})
  if (probe.timedOut) return done({outcome: 'unreachable', why: 'no answer within 15 s'})
  if (probe.code === 255) return done(classifySshFailure(probe.stderr))
  if (probe.stdout.trim() !== '0') return done({outcome: 'no-root', why: `logged in as uid ${probe.stdout.trim()}: doctor's live probes need root (set ansible_user=root, or run with --no-live)`})
  const r = await ssh(h, runDir, remoteDoctorCommand(doctorArgs), {input: bundle, timeoutMs})
  if (r.timedOut) return done({outcome: 'failed', why: `doctor did not finish within ${timeoutMs / 1000} s`})
  if (r.code === 255) return done(classifySshFailure(r.stderr))
  try {
    const report = JSON.parse(r.stdout) as DoctorReport
    if (report.schema !== 'ebpfperf/doctor/v1') throw new Error('not a doctor report')
    return done({outcome: 'reported', report})
  } catch {
    const why = r.code === 3 ? 'doctor needs root there' : r.code === 97 || r.code === 98 ? 'could not unpack the bundle into /tmp' : firstLine(r.stderr) || `doctor exited ${r.code}`
    return done({outcome: r.code === 3 ? 'no-root' : 'failed', why})
  }
}

/** Runs doctor on every host at once; the local temporary folder (bundle, sockets, known_hosts) is removed after. */
export async function fleetDoctor(hosts: InventoryHost[], doctorArgs: string[], timeoutMs = 180_000): Promise<HostResult[]> {
  const runDir = mkdtempSync(join(tmpdir(), 'ebp-fleet-'))
  try {
    const bundle = makeBundle(runDir)
    const results = await Promise.all(hosts.map((h) => oneHost(h, runDir, bundle, doctorArgs, timeoutMs)))
    await Promise.all(hosts.map((h) => closeMaster(h, runDir)))
    return results
  } finally {
    rmSync(runDir, {recursive: true, force: true})
  }
}
