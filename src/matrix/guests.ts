// Matrix columns from guest kernels: each --kernel that is not "host" is booted with `ebpfperf vm`
// (a vmlinuz, a .deb or a Debian package fetched with apt-get download) and runs `doctor --json` inside,
// with the objects given (the guest sees the host's / read-only, so the object paths are shipped as they are).
// Guests run a few at a time (bounded by the CPUs and the free memory), each bounded by its own timeout; a
// guest that fails becomes a column that says why, and the other columns still report.
import {availableParallelism, freemem} from 'node:os'
import {resolve} from 'node:path'
import type {DoctorReport} from '../doctor/index.js'
import {labelDocument, runInGuest, VmError, type VmLabel} from '../vm/index.js'
import type {MatrixColumn} from './table.js'

export interface GuestSpec {
  label: string
  kernel: string
}

export interface GuestOptions {
  objects?: string[]
  profiles?: string[]
  programs?: string[]
  timeoutS: number
  memoryMb: number
  jobs?: number
  signal?: AbortSignal
  onStep?: (line: string) => void
}

/** "[LABEL=]KERNEL" → a guest column; the default label is the package name without "linux-image-". */
export function parseKernelSpec(spec: string): GuestSpec {
  const eq = spec.indexOf('=')
  if (eq > 0 && !spec.slice(0, eq).includes('/')) return {label: spec.slice(0, eq), kernel: spec.slice(eq + 1)}
  const base = spec.replace(/^.*\//, '').replace(/\.deb$/, '').replace(/_.*$/, '')
  return {label: base.replace(/^linux-image-/, '') || spec, kernel: spec}
}

/** How many guests at once: one per CPU, as many as the free memory holds (QEMU's own overhead counted), at least one. */
export function guestJobs(memoryMb: number, cpus = availableParallelism(), freeMb = freemem() / 2 ** 20): number {
  return Math.max(1, Math.min(cpus, Math.floor(freeMb / (memoryMb + 256))))
}

/** The doctor command a guest runs: JSON, the guest's own config, and the same profiles, objects and programs as the host column. */
export function guestDoctorArgs(kernel: {config?: string}, o: Pick<GuestOptions, 'objects' | 'profiles' | 'programs'>): string[] {
  return [
    'doctor', '--json',
    ...(kernel.config ? ['--kconfig', kernel.config] : []),
    ...(o.profiles ?? []).flatMap((p) => ['--profile', p]),
    ...(o.objects ?? []).flatMap((f) => ['--object', resolve(f)]),
    ...(o.programs ?? []).flatMap((p) => ['--program', p]),
  ]
}

const oneLine = (s: string) => s.split('\n').map((l) => l.trim()).find(Boolean) ?? ''

/** One guest → one column: its doctor report labelled with the guest kernel, or an error naming what failed. */
export async function guestColumn(g: GuestSpec, o: GuestOptions): Promise<MatrixColumn & {vm?: VmLabel; console?: string[]}> {
  const step = (l: string) => o.onStep?.(`${g.label}: ${l}`)
  try {
    const r = await runInGuest({kernel: g.kernel, args: (k) => guestDoctorArgs(k, o), copyBack: false, timeoutS: o.timeoutS, memoryMb: o.memoryMb, cpus: 1, signal: o.signal, onStep: step})
    step(`done in ${(r.vm.timings.totalMs / 1000).toFixed(1)} s (boot ${((r.vm.timings.bootMs ?? 0) / 1000).toFixed(1)} s, doctor ${((r.vm.timings.commandMs ?? 0) / 1000).toFixed(1)} s, ${r.vm.accel})`)
    let doc: DoctorReport | undefined
    try {
      doc = JSON.parse(r.stdout) as DoctorReport
    } catch {
      doc = undefined
    }
    if (doc?.schema !== 'ebpfperf/doctor/v1') {
      return {label: g.label, vm: r.vm, console: r.console, error: `failed: doctor in the guest (${r.vm.kernel.release}) printed no report (exit ${r.exitCode}${oneLine(r.stderr) ? `: ${oneLine(r.stderr)}` : ''})`}
    }
    return {label: g.label, vm: r.vm, report: labelDocument(doc, r.vm) as DoctorReport}
  } catch (error) {
    if (o.signal?.aborted) throw error
    const msg = (error as Error).message
    const kind = error instanceof VmError ? (/did not finish within/.test(msg) ? 'timeout' : /^--kernel /.test(msg) ? 'no-kernel' : 'no-boot') : 'failed'
    return {label: g.label, error: `${kind}: ${msg}`, console: error instanceof VmError ? error.consoleTail : undefined}
  }
}

/** Every guest, `jobs` at a time, in the order given. */
export async function guestColumns(guests: GuestSpec[], o: GuestOptions): Promise<(MatrixColumn & {vm?: VmLabel; console?: string[]})[]> {
  const out: Awaited<ReturnType<typeof guestColumn>>[] = Array.from({length: guests.length})
  let next = 0
  const worker = async () => {
    while (next < guests.length) {
      const i = next++
      out[i] = await guestColumn(guests[i], o)
    }
  }
  await Promise.all(Array.from({length: Math.min(guests.length, o.jobs ?? guestJobs(o.memoryMb))}, worker))
  return out
}
