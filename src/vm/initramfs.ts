// The guest's tiny initramfs: a static busybox, the few kernel modules needed to reach the host's root
// (virtio PCI, virtiofs, overlayfs, with their dependencies from modules.dep), and the generated /init.
// Written as a newc cpio archive by this module itself, so no cpio tool and no root-owned files are needed.
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import {run} from '../exec.js'
import {VmError} from './errors.js'

export interface CpioEntry {
  name: string // without a leading slash
  type: 'dir' | 'file' | 'symlink' | 'chardev'
  mode?: number // permission bits
  data?: Buffer | string // file content or symlink target
  rdev?: [number, number] // chardev major, minor
}

const TYPE_BITS = {dir: 0o040000, file: 0o100000, symlink: 0o120000, chardev: 0o020000}
const pad4 = (n: number) => (4 - (n % 4)) % 4

/** A newc ("070701") cpio archive of the entries, ending with the TRAILER!!! record. */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = []
  const hex = (n: number) => n.toString(16).padStart(8, '0')
  let ino = 1
  const add = (name: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0], nlink = 1) => {
    const nameBuf = Buffer.from(`${name}\0`)
    const fields = [ino++, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0]
    const header = Buffer.from(`070701${fields.map(hex).join('')}`, 'ascii')
    parts.push(header, nameBuf, Buffer.alloc(pad4(header.length + nameBuf.length)), data, Buffer.alloc(pad4(data.length)))
  }
  for (const e of entries) {
    const perm = e.mode ?? (e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : e.type === 'chardev' ? 0o600 : 0o644)
    const data = e.type === 'file' || e.type === 'symlink' ? (Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '')) : Buffer.alloc(0)
    add(e.name.replace(/^\/+/, ''), TYPE_BITS[e.type] | perm, data, e.rdev, e.type === 'dir' ? 2 : 1)
  }
  add('TRAILER!!!', 0, Buffer.alloc(0))
  return Buffer.concat(parts)
}

/** True when the ELF file has no program interpreter (PT_INTERP), i.e. it runs without a libc on disk. */
export function isStaticElf(path: string): boolean {
  const b = readFileSync(path)
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false // ELF64 only
  const phoff = Number(b.readBigUInt64LE(0x20))
  const phentsize = b.readUInt16LE(0x36)
  const phnum = b.readUInt16LE(0x38)
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false
  return true
}

/** The static busybox the initramfs runs (Debian: busybox-static), or a VmError saying how to get one. */
export function findStaticBusybox(candidates = [process.env.EBPFPERF_VM_BUSYBOX, '/bin/busybox', '/usr/bin/busybox'].filter(Boolean) as string[]): string {
  for (const p of candidates) if (existsSync(p) && isStaticElf(p)) return p
  const dynamic = candidates.find((p) => existsSync(p))
  throw new VmError(`${dynamic ? `${dynamic} is linked dynamically and cannot run in the guest's initramfs` : 'no busybox found'}: install the static one with \`apt-get install busybox-static\``)
}

export const GUEST_MODULES = ['virtio_pci', 'virtiofs', 'overlay']

export interface ModulePlan {
  load: {name: string; path: string}[] // in load order (dependencies first)
  builtin: string[]
  missing: string[]
}

const modName = (path: string) => basename(path).replace(/\.ko(\.(xz|gz|zst))?$/, '').replace(/-/g, '_')

/** Which .ko files to insmod, in order, for `wanted` and their dependencies (from modules.dep / modules.builtin). */
export function planModules(modulesDir: string | undefined, wanted = GUEST_MODULES): ModulePlan {
  const plan: ModulePlan = {load: [], builtin: [], missing: []}
  if (!modulesDir || !existsSync(join(modulesDir, 'modules.dep'))) {
    plan.missing.push(...wanted) // built in, we hope: the guest says so if the mount fails
    return plan
  }
  const deps = new Map<string, {path: string; deps: string[]}>()
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line)
    if (m) deps.set(modName(m[1]), {path: m[1], deps: m[2].split(/\s+/).filter(Boolean).map(modName)})
  }
  const builtinFile = join(modulesDir, 'modules.builtin')
  const builtin = new Set(existsSync(builtinFile) ? readFileSync(builtinFile, 'utf8').split('\n').filter(Boolean).map(modName) : [])
  const seen = new Set<string>()
  const visit = (name: string) => {
    if (seen.has(name)) return
    seen.add(name)
    const d = deps.get(name)
    if (!d) {
      if (builtin.has(name)) plan.builtin.push(name)
      else plan.missing.push(name)
      return
    }
    for (const x of d.deps) visit(x)
    plan.load.push({name, path: join(modulesDir, d.path)})
  }
  for (const w of wanted) visit(w.replace(/-/g, '_'))
  return plan
}

/** A module's bytes, decompressed (busybox insmod takes plain .ko files). */
async function moduleBytes(path: string): Promise<Buffer> {
  if (path.endsWith('.ko')) return readFileSync(path)
  if (path.endsWith('.gz')) return gunzipSync(readFileSync(path))
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : undefined
  if (!tool) throw new VmError(`${path}: unknown module compression`)
  // xz/zstd write binary to stdout: go through a temporary file so no bytes are re-encoded
  const dir = mkdtempSync(join(tmpdir(), 'ebpfperf-ko-'))
  try {
    const out = join(dir, 'm.ko')
    const r = await run('sh', ['-c', `${tool} -dc "$1" > "$2"`, 'sh', path, out])
    if (r.failed) throw new VmError(`cannot decompress ${path} with ${tool} (apt-get install ${tool === 'xz' ? 'xz-utils' : 'zstd'}): ${r.stderr}`)
    return readFileSync(out)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

export interface InitramfsInput {
  busybox: string
  init: string // the /init script
  modprobe: string // the /sbin/ebp-modprobe wrapper
  modules: ModulePlan
}

export async function buildInitramfs(input: InitramfsInput): Promise<Buffer> {
  const entries: CpioEntry[] = ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'mnt', 'tmp', 'lib', 'lib/modules'].map((name) => ({name, type: 'dir'}))
  entries.push({name: 'dev/console', type: 'chardev', rdev: [5, 1]}, {name: 'dev/null', type: 'chardev', mode: 0o666, rdev: [1, 3]})
  entries.push({name: 'bin/busybox', type: 'file', mode: 0o755, data: readFileSync(input.busybox)})
  entries.push({name: 'bin/sh', type: 'symlink', data: 'busybox'})
  entries.push({name: 'init', type: 'file', mode: 0o755, data: input.init})
  entries.push({name: 'sbin/ebp-modprobe', type: 'file', mode: 0o755, data: input.modprobe})
  for (const m of input.modules.load) entries.push({name: `lib/modules/${m.name}.ko`, type: 'file', data: await moduleBytes(m.path)})
  return cpioNewc(entries)
}
