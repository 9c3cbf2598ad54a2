// A BPF ELF object read without libbpf, so that `doctor --object --no-live` can judge it for another
// kernel: its programs (function symbols in executable sections), the helpers and kfuncs each calls,
// the maps each references, and the CO-RE relocations in .BTF.ext. Also reads symbols of user-space
// ELF files (uprobe targets). Only little-endian ELF64 (every BPF target clang emits on x86/arm64).
import {BadInputError} from '../util/errors.js'
import {readInput} from '../util/input.js'

export interface ElfSection {
  index: number
  name: string
  type: number
  flags: number
  offset: number
  size: number
  link: number
  info: number
}

export interface ElfSymbol {
  name: string
  value: number
  size: number
  type: number // STT_*
  bind: number // STB_*
  shndx: number
}

export interface ObjectProgram {
  name: string
  section: string
  /** helper ids called (BPF_CALL with src_reg 0) */
  helpers: number[]
  /** kernel functions called (BPF_CALL with src_reg 2, named by the relocation's extern symbol) */
  kfuncs: string[]
  /** symbols of .maps (or legacy "maps") referenced by ld_imm64 relocations */
  maps: string[]
  /** first instruction index within the section, and count */
  insnOff: number
  insnCount: number
}

export interface CoreRelo {
  section: string
  insnOff: number
  typeId: number
  access: string
  kind: number
}

export const SHT_SYMTAB = 2
export const SHT_REL = 9
export const SHT_DYNSYM = 11
const SHF_EXECINSTR = 0x4
const STT_FUNC = 2
const BPF_JMP_CALL = 0x85

export class ElfFile {
  readonly sections: ElfSection[]
  private readonly names: Map<string, ElfSection>

  constructor(
    readonly path: string,
    readonly buf: Buffer,
  ) {
    if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new BadInputError(`${path}: not an ELF file (no \\x7fELF magic): pass a BPF object built with clang -target bpf`)
    if (buf[4] !== 2 || buf[5] !== 1) throw new BadInputError(`${path}: only little-endian 64-bit ELF objects are read (this one is ${buf[4] === 1 ? '32-bit' : 'big-endian'})`)
    const shoff = Number(buf.readBigUInt64LE(0x28))
    const shentsize = buf.readUInt16LE(0x3a)
    const shnum = buf.readUInt16LE(0x3c)
    const shstrndx = buf.readUInt16LE(0x3e)
    if (shoff + shnum * shentsize > buf.length || shentsize < 64) throw new BadInputError(`${path}: truncated ELF (section headers past the end of the file)`)
    const raw = Array.from({length: shnum}, (_, i) => {
      const o = shoff + i * shentsize
      return {
        index: i,
        nameOff: buf.readUInt32LE(o),
        type: buf.readUInt32LE(o + 4),
        flags: Number(buf.readBigUInt64LE(o + 8)),
        offset: Number(buf.readBigUInt64LE(o + 0x18)),
        size: Number(buf.readBigUInt64LE(o + 0x20)),
        link: buf.readUInt32LE(o + 0x28),
        info: buf.readUInt32LE(o + 0x2c),
      }
    })
    for (const s of raw) if (s.type !== 8 && s.offset + s.size > buf.length) throw new BadInputError(`${path}: truncated ELF (section ${s.index} past the end of the file)`)
    const strtab = raw[shstrndx]
    this.sections = raw.map((s) => ({...s, name: strtab ? cstr(buf, strtab.offset + s.nameOff) : ''}))
    this.names = new Map(this.sections.map((s) => [s.name, s]))
  }

  /** maxBytes: a user-space binary (a uprobe's) may be far larger than any BPF object */
  static read(path: string, maxBytes?: number): ElfFile {
    return new ElfFile(path, readInput(path, (reason) => new BadInputError(`${path}: ${reason}`), maxBytes ? {maxBytes} : {}))
  }

  section(name: string): ElfSection | undefined {
    return this.names.get(name)
  }

  data(s: ElfSection): Buffer {
    return this.buf.subarray(s.offset, s.offset + s.size)
  }

  /** The symbols of the first section of this type (SHT_SYMTAB, or SHT_DYNSYM for shared libraries). */
  symbols(type = SHT_SYMTAB): ElfSymbol[] {
    const tab = this.sections.find((s) => s.type === type)
    if (!tab) return []
    const str = this.sections[tab.link]
    const out: ElfSymbol[] = []
    for (let o = tab.offset; o + 24 <= tab.offset + tab.size; o += 24) {
      const info = this.buf[o + 4]
      out.push({
        name: str ? cstr(this.buf, str.offset + this.buf.readUInt32LE(o)) : '',
        type: info & 0xf,
        bind: info >> 4,
        shndx: this.buf.readUInt16LE(o + 6),
        value: Number(this.buf.readBigUInt64LE(o + 8)),
        size: Number(this.buf.readBigUInt64LE(o + 16)),
      })
    }
    return out
  }
}

function cstr(buf: Buffer, off: number): string {
  if (off >= buf.length) return ''
  const end = buf.indexOf(0, off)
  return buf.toString('utf8', off, end < 0 ? buf.length : end)
}

/** The programs of a BPF object, with what each calls and references. */
export function objectPrograms(elf: ElfFile): ObjectProgram[] {
  if (elf.buf.readUInt16LE(0x12) !== 247) throw new BadInputError(`${elf.path}: an ELF file but not a BPF object (e_machine ${elf.buf.readUInt16LE(0x12)}, not EM_BPF 247)`)
  const syms = elf.symbols()
  const relocs = new Map<number, Map<number, string>>() // section index → insn byte offset → symbol name
  for (const r of elf.sections.filter((s) => s.type === SHT_REL)) {
    const m = new Map<number, string>()
    for (let o = r.offset; o + 16 <= r.offset + r.size; o += 16) {
      const sym = syms[Number(elf.buf.readBigUInt64LE(o + 8) >> 32n)]
      if (sym) m.set(Number(elf.buf.readBigUInt64LE(o)), sym.name || elf.sections[sym.shndx]?.name || '')
    }
    relocs.set(r.info, m)
  }
  const mapSecs = new Set(elf.sections.filter((s) => s.name === '.maps' || s.name === 'maps').map((s) => s.index))
  const mapNames = new Set(syms.filter((s) => mapSecs.has(s.shndx)).map((s) => s.name))
  const out: ObjectProgram[] = []
  for (const sym of syms) {
    const sec = elf.sections[sym.shndx]
    if (sym.type !== STT_FUNC || !sec || !(sec.flags & SHF_EXECINSTR) || sec.name === '.text') continue
    const rel = relocs.get(sec.index) ?? new Map<number, string>()
    const p: ObjectProgram = {name: sym.name, section: sec.name, helpers: [], kfuncs: [], maps: [], insnOff: sym.value / 8, insnCount: sym.size / 8}
    for (let i = 0; i < p.insnCount; i++) {
      const at = sec.offset + sym.value + i * 8
      const code = elf.buf[at]
      const src = elf.buf[at + 1] >> 4
      const target = rel.get(sym.value + i * 8)
      if (code === BPF_JMP_CALL && src === 0 && !p.helpers.includes(elf.buf.readInt32LE(at + 4))) p.helpers.push(elf.buf.readInt32LE(at + 4))
      else if (code === BPF_JMP_CALL && src === 2 && target && !p.kfuncs.includes(target)) p.kfuncs.push(target)
      else if (code === 0x18 && target && mapNames.has(target) && !p.maps.includes(target)) p.maps.push(target)
    }
    out.push(p)
  }
  return out
}

/** CO-RE relocation records of .BTF.ext (libbpf's bpf_core_relo), by section name. */
export function coreRelos(elf: ElfFile, strings: (off: number) => string): CoreRelo[] {
  const ext = elf.section('.BTF.ext')
  if (!ext) return []
  const d = elf.data(ext)
  if (d.length < 32 || d.readUInt16LE(0) !== 0xeb9f) return []
  const hdrLen = d.readUInt32LE(4)
  if (hdrLen < 32) return [] // an older .BTF.ext without CO-RE records
  const off = hdrLen + d.readUInt32LE(24)
  const len = d.readUInt32LE(28)
  if (len === 0 || off + len > d.length) return []
  const recSize = d.readUInt32LE(off)
  const out: CoreRelo[] = []
  for (let o = off + 4; o + 8 <= off + len; ) {
    const section = strings(d.readUInt32LE(o))
    const n = d.readUInt32LE(o + 4)
    o += 8
    for (let i = 0; i < n && o + recSize <= off + len; i++, o += recSize) {
      out.push({section, insnOff: d.readUInt32LE(o), typeId: d.readUInt32LE(o + 4), access: strings(d.readUInt32LE(o + 8)), kind: d.readUInt32LE(o + 12)})
    }
  }
  return out
}

/** Does this ELF file (an executable or shared library) define the function `name`? */
export function definesFunction(elf: ElfFile, name: string): boolean {
  return [...elf.symbols(SHT_SYMTAB), ...elf.symbols(SHT_DYNSYM)].some((s) => s.name === name && s.type === STT_FUNC && s.shndx !== 0)
}
