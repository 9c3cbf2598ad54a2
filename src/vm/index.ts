// `ebpfperf vm` as a library: boot another kernel under QEMU (KVM when it works, else TCG) on the host's own
// userspace (the host's / over virtiofs, read-only, under a tmpfs overlay), run one ebpfperf command inside
// as root, and bring its exit code, stdout, stderr and result files back. QEMU, virtiofsd and the temporary
// folder are removed on every path: success, failure, timeout, SIGINT/SIGTERM (the caller's AbortSignal).
import {existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, closeSync, readdirSync, rmSync, statSync, writeFileSync, copyFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, relative, resolve} from 'node:path'
import {StringDecoder} from 'node:string_decoder'
import {start, type RunResult, type Started} from '../exec.js'
import {projectRoot} from '../util/paths.js'
import {VmError} from './errors.js'
import {MARK, MODPROBE_WRAPPER, commandScript, guestEnv, initScript} from './guest.js'
import {buildInitramfs, findStaticBusybox, planModules} from './initramfs.js'
import {kernelCacheDir, resolveKernel, type GuestKernel} from './kernel.js'
import {kvmDevice, qemuArgs, qemuBinary, qemuVersion, readKvmMemo, virtiofsdArgs, virtiofsdBinary, writeKvmMemo, type Accel} from './qemu.js'

export {VmError}
export type {GuestKernel, Accel}

export const EMULATED_NOTE = 'software emulation (QEMU TCG): a functional check only; its timings are not comparable with the host\'s'

export interface VmOptions {
  kernel: string // vmlinuz file, .deb, or Debian package name
  args: string[] | ((kernel: GuestKernel) => string[]) // the ebpfperf command to run inside (without "ebpfperf")
  timeoutS?: number // whole guest run (boot + command); default 300
  accel?: 'auto' | Accel
  memoryMb?: number
  cpus?: number
  append?: string // extra kernel command line
  modulesDir?: string // modules of a vmlinuz file kernel
  cwd?: string
  copyBack?: boolean // bring back the files the command wrote under its cwd and --out (default true)
  cacheDir?: string
  kvmDeadlineS?: number // how long a KVM attempt may take to reach the guest's init before TCG is used
  colour?: boolean
  signal?: AbortSignal
  onStep?: (line: string) => void
  onStdout?: (chunk: string) => void // streamed while the guest runs (omit to only collect)
  onStderr?: (chunk: string) => void
}

export interface VmLabel {
  kernel: {input: string; release: string; version: string; vmlinuz: string; config?: string; modules?: string; package?: {name: string; version: string; cached: boolean}}
  accel: Accel
  emulated: boolean
  note?: string
  kvm?: string // why KVM was not used
  timings: {bootMs?: number; readyMs?: number; commandMs?: number; totalMs: number; guestInitUptimeMs?: number}
  command: string[]
  exitCode: number
}

export interface VmRunResult {
  vm: VmLabel
  exitCode: number
  stdout: string
  stderr: string
  files: string[] // brought back, as host paths
  console: string[] // the guest console's last lines
}

// ---------------------------------------------------------------- helpers
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1bc|\x1b\(B|\r/g

/** The last lines of a console log, without terminal escapes and blank lines. */
export function consoleTail(path: string, lines = 15): string[] {
  let text = ''
  try {
    const size = statSync(path).size
    const fd = openSync(path, 'r')
    const buf = Buffer.alloc(Math.min(size, 16_384))
    readSync(fd, buf, 0, buf.length, size - buf.length)
    closeSync(fd)
    text = buf.toString('utf8')
  } catch {
    return []
  }
  return text.replace(ANSI, '').split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '').slice(-lines)
}

/** Reads what was appended to a file since the last call. */
class Follower {
  private offset = 0
  private readonly decoder = new StringDecoder('utf8')
  constructor(readonly path: string) {}
  read(): string {
    let fd: number
    try {
      fd = openSync(this.path, 'r')
    } catch {
      return ''
    }
    try {
      const chunks: Buffer[] = []
      const buf = Buffer.alloc(65_536)
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset)
        if (n <= 0) break
        this.offset += n
        chunks.push(Buffer.from(buf.subarray(0, n)))
      }
      return chunks.length ? this.decoder.write(Buffer.concat(chunks)) : ''
    } finally {
      closeSync(fd)
    }
  }
}

/** Folders whose new files come back: the command's cwd, and every --out/-o value (never "/"). */
export function copyBackRoots(args: string[], cwd: string): string[] {
  const roots = new Set<string>([cwd])
  args.forEach((a, i) => {
    const m = /^--out=(.+)$/.exec(a)
    const v = m ? m[1] : (a === '--out' || a === '-o') && i + 1 < args.length ? args[i + 1] : undefined
    if (v) roots.add(resolve(cwd, v))
  })
  return [...roots].filter((r) => r !== '/')
}

function walkFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...walkFiles(p))
    else if (e.isFile()) out.push(p)
  }
  return out
}

/** Adds the guest label to an ebpfperf JSON document (doctor report, suite result) so it is never mistaken for a host run. */
export function labelDocument(doc: unknown, vm: VmLabel): unknown {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return doc
  return {...(doc as Record<string, unknown>), vm}
}

// ---------------------------------------------------------------- the run
interface Ctx {
  opts: VmOptions
  kernel: GuestKernel
  qemu: string
  virtiofsd: string
  tmp: string
  share: string
  initramfs: string
  live: Set<Started>
  timeoutMs: number
}

type Boot = {kind: 'done'; exitCode: number; timings: VmLabel['timings']; console: string[]; stdout: string; stderr: string} | {kind: 'no-init'; reason: string}

async function stop(p: Started, live: Set<Started>): Promise<void> {
  let ended = false
  void p.done.then(() => (ended = true))
  p.kill('SIGTERM')
  for (let i = 0; i < 30 && !ended; i++) await sleep(100)
  if (!ended) {
    p.kill('SIGKILL')
    await Promise.race([p.done, sleep(2000)])
  }
  live.delete(p)
}

async function stopAll(live: Set<Started>): Promise<void> {
  await Promise.all([...live].map((p) => stop(p, live)))
}

/** What QEMU said on stderr, in one line: its first error line if any, else its last line. */
const firstLine = (r?: RunResult) => {
  const lines = (r?.stderr ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !/terminating on signal/.test(l))
  return lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? ''
}

async function boot(ctx: Ctx, accel: Accel, initDeadlineMs?: number): Promise<Boot> {
  const {opts, share, tmp, live} = ctx
  for (const f of ['stdout', 'stderr', 'rc', 'status', 'files']) rmSync(join(share, f), {recursive: true, force: true})
  const socket = join(tmp, `vfs-${accel}.sock`)
  const consolePath = join(tmp, `console-${accel}.log`)
  rmSync(socket, {force: true})

  await startVirtiofsd(ctx, socket)
  const t0 = performance.now()
  const machine = {memoryMb: opts.memoryMb ?? 1024, cpus: opts.cpus ?? 2, append: opts.append}
  const q = await start(ctx.qemu, qemuArgs({accel, vmlinuz: ctx.kernel.vmlinuz, initramfs: ctx.initramfs, socket, console: consolePath, ...machine}))
  live.add(q)
  let qExit: RunResult | undefined
  void q.done.then((r) => (qExit = r))

  const con = new Follower(consolePath)
  const out = new Follower(join(share, 'stdout'))
  const err = new Follower(join(share, 'stderr'))
  let conText = ''
  let stdout = ''
  let stderr = ''
  const timings: VmLabel['timings'] = {totalMs: 0}
  const uptime = (re: RegExp) => {
    const m = re.exec(conText)
    return m ? Math.round(Number(m[1]) * 1000) : undefined
  }
  const pump = () => {
    conText += con.read()
    const o = out.read()
    const e = err.read()
    stdout += o
    stderr += e
    if (o) opts.onStdout?.(o)
    if (e) opts.onStderr?.(e)
    const now = Math.round(performance.now() - t0)
    if (timings.bootMs === undefined && conText.includes(`${MARK} init`)) {
      timings.bootMs = now
      timings.guestInitUptimeMs = uptime(new RegExp(`${MARK} init (\\d+\\.\\d+)`))
      opts.onStep?.(`guest kernel reached its init after ${(now / 1000).toFixed(1)} s (guest uptime ${((timings.guestInitUptimeMs ?? 0) / 1000).toFixed(1)} s)`)
    }
    if (timings.readyMs === undefined && conText.includes(`${MARK} start`)) timings.readyMs = now
  }

  for (;;) {
    pump()
    if (qExit) break
    if (opts.signal?.aborted) throw new Error('the guest was stopped')
    const elapsed = performance.now() - t0
    if (initDeadlineMs !== undefined && timings.bootMs === undefined && elapsed > initDeadlineMs) {
      return {kind: 'no-init', reason: `the guest printed nothing from its init within ${Math.round(initDeadlineMs / 1000)} s`}
    }
    if (elapsed > ctx.timeoutMs) {
      const phase = timings.bootMs === undefined ? 'the kernel never reached its init' : timings.readyMs === undefined ? 'it booted but never started the command' : 'the command was still running'
      const tail = consoleTail(consolePath)
      throw new VmError(`the guest did not finish within ${Math.round(ctx.timeoutMs / 1000)} s (--timeout): ${phase}; QEMU was stopped${tail.length ? '' : ' (the guest console was still empty)'}`, tail)
    }
    await sleep(100)
  }
  if (opts.signal?.aborted) throw new Error('the guest was stopped') // a terminal's Ctrl-C reaches QEMU too
  await sleep(50)
  pump()
  timings.totalMs = Math.round(performance.now() - t0)
  const tail = consoleTail(consolePath)
  if (initDeadlineMs !== undefined && timings.bootMs === undefined) {
    return {kind: 'no-init', reason: `QEMU exited ${qExit.exitCode}${firstLine(qExit) ? `: ${firstLine(qExit)}` : ''}`}
  }
  const exitCode = commandExit(share, conText, qExit, timings, tail)
  return {kind: 'done', exitCode, timings, console: tail, stdout, stderr}
}

/** virtiofsd sharing the host's / with the guest, its socket there (or why not). */
async function startVirtiofsd(ctx: Ctx, socket: string): Promise<void> {
  const vfsd = await start(ctx.virtiofsd, virtiofsdArgs(socket))
  ctx.live.add(vfsd)
  let vfsdExit: RunResult | undefined
  void vfsd.done.then((r) => (vfsdExit = r))
  for (let i = 0; i < 250 && !existsSync(socket); i++) {
    if (vfsdExit) throw new VmError(`virtiofsd (sharing the host's / with the guest) exited at once: ${firstLine(vfsdExit) || `exit code ${vfsdExit.exitCode}`}`)
    await sleep(20)
  }
  if (!existsSync(socket)) throw new VmError('virtiofsd did not create its socket within 5 s')
}

/** The guest command's exit code from the shared folder (and its duration into timings), or why there is none. */
function commandExit(share: string, conText: string, qExit: RunResult, timings: VmLabel['timings'], tail: string[]): number {
  const rcFile = join(share, 'rc')
  if (!existsSync(rcFile)) {
    const guestError = /EBPFPERF-VM: error: (.*)/.exec(conText.replace(ANSI, ''))?.[1]
    const qemuSays = firstLine(qExit)
    const why = guestError
      ? `the guest could not run the command: ${guestError}`
      : timings.bootMs === undefined
        ? `the guest kernel did not boot to its init (QEMU exited ${qExit.exitCode}${qemuSays ? `: ${qemuSays}` : ''})`
        : `the guest stopped before the command finished (QEMU exited ${qExit.exitCode}${qemuSays ? `: ${qemuSays}` : ''}; a kernel panic or an out-of-memory kill: see the console, or raise --memory)`
    throw new VmError(why, tail)
  }
  const exitCode = Number(readFileSync(rcFile, 'utf8').trim())
  const status = existsSync(join(share, 'status')) ? readFileSync(join(share, 'status'), 'utf8') : ''
  const s = /start (\d+\.\d+)/.exec(status)
  const e = /end (\d+\.\d+)/.exec(status)
  if (s && e) timings.commandMs = Math.round((Number(e[1]) - Number(s[1])) * 1000)
  return Number.isFinite(exitCode) ? exitCode : 1
}

/** Brings back the files the guest wrote under the copy-back roots (they arrive under share/files/<host path>). */
export function bringBack(share: string, vm: VmLabel): string[] {
  const base = join(share, 'files')
  const out: string[] = []
  for (const f of walkFiles(base)) {
    const dest = `/${relative(base, f)}`
    mkdirSync(dirname(dest), {recursive: true})
    if (dest.endsWith('.json')) {
      let text = readFileSync(f, 'utf8')
      try {
        const doc = JSON.parse(text) as {schema?: unknown}
        if (typeof doc?.schema === 'string' && doc.schema.startsWith('ebpfperf/')) text = `${JSON.stringify(labelDocument(doc, vm), null, 2)}\n`
      } catch {
        // not JSON after all: copied as it is
      }
      writeFileSync(dest, text)
    } else {
      copyFileSync(f, dest)
    }
    out.push(dest)
  }
  return out
}

export async function runInGuest(opts: VmOptions): Promise<VmRunResult> {
  const qemu = qemuBinary()
  const virtiofsd = virtiofsdBinary()
  const busybox = findStaticBusybox()
  if (process.getuid?.() !== 0) throw new VmError('ebpfperf vm needs root: virtiofsd shares the host\'s / with the guest (run it with sudo)')
  const cacheDir = opts.cacheDir ?? kernelCacheDir()
  const kernel = await resolveKernel(opts.kernel, {cacheDir, modulesDir: opts.modulesDir, onStep: opts.onStep})
  const cwd = opts.cwd ?? process.cwd()
  const args = typeof opts.args === 'function' ? opts.args(kernel) : opts.args
  const argv = [process.execPath, join(projectRoot(), 'bin/run.js'), ...args]
  const timeoutMs = (opts.timeoutS ?? 300) * 1000

  const live = new Set<Started>()
  const onExit = () => {
    for (const p of live) if (p.pid) try { process.kill(p.pid, 'SIGKILL') } catch { /* gone */ }
  }
  process.on('exit', onExit)
  const tmp = mkdtempSync(join(tmpdir(), 'ebpfperf-vm-'))
  try {
    const share = join(tmp, 'share')
    mkdirSync(share)
    const modules = planModules(kernel.modulesDir)
    const roots = opts.copyBack === false ? [] : copyBackRoots(args, cwd)
    const init = initScript({modules: modules.load.map((m) => m.name), share, modulesDir: kernel.modulesDir, config: kernel.config, roots, hostname: 'ebpfperf-vm'})
    const initramfs = join(tmp, 'initramfs.cpio')
    writeFileSync(initramfs, await buildInitramfs({busybox, init, modprobe: MODPROBE_WRAPPER, modules}))
    const ctx: Ctx = {opts, kernel, qemu, virtiofsd, tmp, share, initramfs, live, timeoutMs}

    // KVM when it works; it may exist and still not start a guest (nested virtualization): then TCG
    let accel: Accel = opts.accel === 'kvm' ? 'kvm' : 'tcg'
    let kvmWhy: string | undefined
    const qv = await qemuVersion(qemu)
    if (opts.accel === undefined || opts.accel === 'auto') {
      const dev = kvmDevice()
      const memo = dev.ok ? readKvmMemo(cacheDir, qv) : undefined
      if (!dev.ok) kvmWhy = dev.reason
      else if (memo && !memo.ok) kvmWhy = `KVM failed on this host before (${memo.when.slice(0, 10)}: ${memo.reason}); --accel kvm tries again`
      else accel = 'kvm'
    }
    const env = (a: Accel) => guestEnv(process.env, {EBPFPERF_VM: a, EBPFPERF_VM_EMULATED: a === 'tcg' ? '1' : '0', EBPFPERF_VM_KERNEL: kernel.release}, opts.colour ?? false)
    writeFileSync(join(share, 'cmd.sh'), commandScript({cwd, env: env(accel), argv}))
    opts.onStep?.(`booting ${kernel.release} under QEMU ${qv} with ${accel === 'kvm' ? 'KVM' : 'TCG (software emulation)'}${kernel.package ? ` — ${kernel.package.name} ${kernel.package.version}${kernel.package.cached ? ' (cached)' : ''}` : ''}`)
    let result = await boot(ctx, accel, accel === 'kvm' && opts.accel !== 'kvm' ? (opts.kvmDeadlineS ?? 20) * 1000 : undefined)
    if (result.kind === 'no-init') {
      await stopAll(live)
      if (opts.accel === 'kvm') throw new VmError(`--accel kvm: ${result.reason}`, consoleTail(join(tmp, 'console-kvm.log')))
      kvmWhy = `KVM did not start the guest (${result.reason})`
      writeKvmMemo(cacheDir, qv, false, result.reason)
      opts.onStep?.(`${kvmWhy}: falling back to TCG (software emulation)`)
      accel = 'tcg'
      writeFileSync(join(share, 'cmd.sh'), commandScript({cwd, env: env(accel), argv}))
      result = await boot(ctx, 'tcg')
    } else if (accel === 'kvm') {
      writeKvmMemo(cacheDir, qv, true, 'booted a guest')
    }
    if (result.kind !== 'done') throw new VmError('the guest did not start') // unreachable: TCG has no init deadline
    const vm: VmLabel = {
      kernel: {
        input: kernel.input, release: kernel.release, version: kernel.version, vmlinuz: kernel.vmlinuz, config: kernel.config, modules: kernel.modulesDir,
        package: kernel.package && {name: kernel.package.name, version: kernel.package.version, cached: kernel.package.cached},
      },
      accel,
      emulated: accel === 'tcg',
      note: accel === 'tcg' ? EMULATED_NOTE : undefined,
      kvm: kvmWhy,
      timings: result.timings,
      command: ['ebpfperf', ...args],
      exitCode: result.exitCode,
    }
    const files = bringBack(share, vm)
    return {vm, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, files, console: result.console}
  } finally {
    await stopAll(live)
    process.off('exit', onExit)
    rmSync(tmp, {recursive: true, force: true})
  }
}
