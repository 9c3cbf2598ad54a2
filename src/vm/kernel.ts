// The guest kernel named by --kernel: a vmlinuz (bzImage) file, a .deb, or a Debian package name that is
// fetched once with `apt-get download`, unpacked with `dpkg-deb -x` (modules included) into the cache,
// and indexed with `depmod -b` so that the guest can load modules on demand.
import {existsSync, mkdirSync, openSync, readdirSync, readSync, closeSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, mkdtempSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {run, which} from '../exec.js'
import {describeFsError} from '../util/input.js'
import {VmError} from './errors.js'

export const DEFAULT_KERNEL_CACHE = '/var/cache/ebpfperf/kernels'
export const kernelCacheDir = (env: NodeJS.ProcessEnv = process.env) => env.EBPFPERF_KERNEL_CACHE || DEFAULT_KERNEL_CACHE

export interface GuestKernel {
  input: string // what --kernel said
  source: 'file' | 'deb' | 'package'
  vmlinuz: string
  release: string // `uname -r` inside the guest, from the bzImage header
  version: string // the full version string of the image
  modulesDir?: string // …/lib/modules/<release>, with modules.dep
  config?: string // …/boot/config-<release>
  package?: {name: string; version: string; requested: string; cached: boolean}
}

/** The kernel version string a bzImage carries in its setup header ("6.1.0-56-cloud-amd64 (debian-kernel@…) #1 SMP …"). */
export function bzImageVersion(path: string, label = path): string {
  let fd: number
  try {
    if (statSync(path).isDirectory()) throw new VmError(`--kernel ${label}: is a directory, not a kernel image`)
    fd = openSync(path, 'r')
  } catch (error) {
    if (error instanceof VmError) throw error
    throw new VmError(`--kernel ${label}: ${describeFsError(error)}`)
  }
  try {
    const head = Buffer.alloc(0x400)
    readSync(fd, head, 0, head.length, 0)
    if (head.toString('latin1', 0x202, 0x206) !== 'HdrS') {
      throw new VmError(`--kernel ${label}: not an x86 bzImage (no "HdrS" setup header): pass a vmlinuz file, a linux-image .deb, or a Debian kernel package name such as linux-image-cloud-amd64`)
    }
    const ptr = head.readUInt16LE(0x20e)
    const buf = Buffer.alloc(256)
    readSync(fd, buf, 0, buf.length, ptr + 0x200)
    const version = buf.toString('latin1').split('\0')[0].trim()
    if (!/^\d+\.\d+/.test(version)) throw new VmError(`--kernel ${label}: the bzImage carries no readable kernel version`)
    return version
  } finally {
    closeSync(fd)
  }
}

/** Where the modules and the config of an unpacked tree (or an installed kernel) live, for a release. */
function companions(root: string | undefined, vmlinuz: string, release: string): {modulesDir?: string; config?: string} {
  const candidatesMod = [root && join(root, 'lib/modules', release), root && join(root, 'usr/lib/modules', release), join(dirname(vmlinuz), '../lib/modules', release), `/lib/modules/${release}`]
  const candidatesCfg = [root && join(root, 'boot', `config-${release}`), join(dirname(vmlinuz), `config-${release}`), `/boot/config-${release}`]
  const modulesDir = candidatesMod.find((p): p is string => Boolean(p) && existsSync(join(p as string, 'modules.dep')))
  const config = candidatesCfg.find((p): p is string => Boolean(p) && existsSync(p as string))
  return {modulesDir: modulesDir && resolve(modulesDir), config: config && resolve(config)}
}

export interface ResolveOptions {
  cacheDir?: string
  modulesDir?: string // for a vmlinuz file: where its modules are
  onStep?: (line: string) => void
}

export async function resolveKernel(spec: string, opts: ResolveOptions = {}): Promise<GuestKernel> {
  if (!spec) throw new VmError('--kernel is empty: pass a vmlinuz file, a linux-image .deb, or a Debian kernel package name (e.g. linux-image-cloud-amd64)')
  const looksLikePath = spec.includes('/') || spec.startsWith('.') || existsSync(spec)
  if (spec.endsWith('.deb') && looksLikePath) return fromDeb(spec, opts)
  if (looksLikePath) return fromFile(spec, opts)
  if (!/^[a-z0-9][a-z0-9+.-]+$/.test(spec)) throw new VmError(`--kernel ${spec}: neither an existing file nor a valid Debian package name`)
  return fromPackage(spec, opts)
}

function fromFile(spec: string, opts: ResolveOptions): GuestKernel {
  const vmlinuz = resolve(spec)
  const version = bzImageVersion(vmlinuz, spec)
  const release = version.split(/\s+/)[0]
  const found = companions(undefined, vmlinuz, release)
  let modulesDir = found.modulesDir
  if (opts.modulesDir) {
    modulesDir = resolve(opts.modulesDir)
    if (!existsSync(join(modulesDir, 'modules.dep'))) throw new VmError(`--modules ${opts.modulesDir}: no modules.dep there (run \`depmod -b ROOT ${release}\` on the tree that holds lib/modules/${release})`)
  }
  return {input: spec, source: 'file', vmlinuz, release, version, modulesDir, config: found.config}
}

/** Unpacks a .deb into dir (atomically: a half-unpacked tree is never used) and indexes its modules. */
async function unpack(deb: string, dir: string, onStep?: (line: string) => void): Promise<void> {
  const parent = dirname(dir)
  mkdirSync(parent, {recursive: true})
  const tmp = mkdtempSync(join(parent, `.unpack-${basename(dir)}-`))
  try {
    onStep?.(`unpacking ${basename(deb)}`)
    const x = await run('dpkg-deb', ['-x', deb, tmp], {timeoutMs: 300_000})
    if (x.failed) throw new VmError(`dpkg-deb -x ${deb}: ${x.stderr || `exit code ${x.exitCode}`}`)
    const boot = join(tmp, 'boot')
    const images = existsSync(boot) ? readdirSync(boot).filter((f) => /^vmlinuz-/.test(f)) : []
    if (images.length === 0) throw new VmError(`${basename(deb)} holds no /boot/vmlinuz-*: it is not a kernel image package (try linux-image-cloud-amd64)`)
    // merged /usr layouts ship usr/lib/modules; depmod -b looks in lib/modules
    if (!existsSync(join(tmp, 'lib')) && existsSync(join(tmp, 'usr/lib/modules'))) symlinkSync('usr/lib', join(tmp, 'lib'))
    for (const rel of existsSync(join(tmp, 'lib/modules')) ? readdirSync(join(tmp, 'lib/modules')) : []) {
      const depmod = which('depmod')
      if (!depmod) throw new VmError('depmod is missing: apt-get install kmod')
      const r = await run(depmod, ['-b', tmp, rel], {timeoutMs: 120_000})
      if (r.failed) throw new VmError(`depmod -b ${tmp} ${rel}: ${r.stderr || `exit code ${r.exitCode}`}`)
    }
    writeFileSync(join(tmp, '.ebpfperf-complete'), `${new Date().toISOString()} ${deb}\n`)
    try {
      renameSync(tmp, dir)
    } catch (error) {
      if (!existsSync(join(dir, '.ebpfperf-complete'))) throw error // someone else finished first: use theirs
    }
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}

function fromTree(dir: string, input: string, source: GuestKernel['source'], pkg?: GuestKernel['package']): GuestKernel {
  const images = readdirSync(join(dir, 'boot')).filter((f) => /^vmlinuz-/.test(f)).sort()
  const vmlinuz = join(dir, 'boot', images[images.length - 1])
  const version = bzImageVersion(vmlinuz, input)
  const release = version.split(/\s+/)[0]
  return {input, source, vmlinuz, release, version, ...companions(dir, vmlinuz, release), package: pkg}
}

async function fromDeb(spec: string, opts: ResolveOptions): Promise<GuestKernel> {
  const deb = resolve(spec)
  if (!existsSync(deb)) throw new VmError(`--kernel ${spec}: no such file (check the path)`)
  const f = await run('dpkg-deb', ['-f', deb, 'Package', 'Version'])
  if (f.failed) throw new VmError(`--kernel ${spec}: not a Debian package (${f.stderr.split('\n')[0]})`)
  const fields = Object.fromEntries(f.stdout.split('\n').map((l) => l.split(/:\s*/, 2)))
  const name = fields.Package ?? basename(deb, '.deb')
  const version = fields.Version ?? 'unknown'
  const dir = join(opts.cacheDir ?? kernelCacheDir(), `${name}_${version.replace(/:/g, '%3a')}`)
  const cached = existsSync(join(dir, '.ebpfperf-complete'))
  if (!cached) await unpack(deb, dir, opts.onStep)
  return fromTree(dir, spec, 'deb', {name, version, requested: spec, cached})
}

interface AptShow {
  package: string
  version: string
  depends: string[]
}

async function aptShow(name: string): Promise<AptShow | undefined> {
  const r = await run('apt-cache', ['show', '--no-all-versions', name], {timeoutMs: 60_000})
  if (r.failed || !r.stdout.trim()) return undefined
  const field = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(r.stdout)?.[1]?.trim()
  const pkg = field('Package')
  const version = field('Version')
  if (!pkg || !version) return undefined
  const depends = (field('Depends') ?? '').split(',').map((d) => d.trim().split(/[\s|(]/)[0]).filter(Boolean)
  return {package: pkg, version, depends}
}

async function fromPackage(name: string, opts: ResolveOptions): Promise<GuestKernel> {
  if (!which('apt-cache') || !which('apt-get')) throw new VmError(`--kernel ${name}: fetching a kernel package needs apt (Debian/Ubuntu); pass a vmlinuz file or a .deb instead`)
  let info = await aptShow(name)
  if (!info) throw new VmError(`--kernel ${name}: no such package in the apt index (check the name, e.g. linux-image-cloud-amd64, or run \`apt-get update\`); or pass a vmlinuz file`)
  // a meta-package (linux-image-cloud-amd64) depends on the versioned image package that holds the kernel
  // (linux-image-6.12-cloud-amd64 is a meta-package too: a kernel package's name carries a full release, 6.12.117+deb12-…)
  const versioned = /^linux-image-\d+\.\d+\.\d+/
  for (let depth = 0; depth < 3 && !versioned.test(info.package); depth++) {
    const next = info.depends.find((d) => versioned.test(d))
    if (!next) break
    const nextInfo = await aptShow(next)
    if (!nextInfo) break
    info = nextInfo
  }
  const cacheDir = opts.cacheDir ?? kernelCacheDir()
  const dir = join(cacheDir, `${info.package}_${info.version.replace(/:/g, '%3a')}`)
  const cached = existsSync(join(dir, '.ebpfperf-complete'))
  if (!cached) {
    try {
      mkdirSync(cacheDir, {recursive: true})
    } catch (error) {
      throw new VmError(`kernel cache ${cacheDir}: ${describeFsError(error)} (set EBPFPERF_KERNEL_CACHE to a writable folder)`)
    }
    const dl = mkdtempSync(join(cacheDir, `.download-${info.package}-`))
    try {
      opts.onStep?.(`downloading ${info.package} ${info.version} (apt-get download) into ${cacheDir}`)
      const r = await run('env', ['-C', dl, 'apt-get', 'download', '-q', `${info.package}=${info.version}`], {timeoutMs: 600_000})
      const debs = readdirSync(dl).filter((f) => f.endsWith('.deb'))
      if (r.failed || debs.length === 0) {
        const why = r.stderr.split('\n').filter((l) => /^E:/.test(l)).join('; ') || r.stderr.split('\n').filter(Boolean).pop() || `exit code ${r.exitCode}`
        throw new VmError(`--kernel ${name}: apt-get download ${info.package}=${info.version} failed: ${why}`)
      }
      await unpack(join(dl, debs[0]), dir, opts.onStep)
    } finally {
      rmSync(dl, {recursive: true, force: true})
    }
  }
  return fromTree(dir, name, 'package', {name: info.package, version: info.version, requested: name, cached})
}
