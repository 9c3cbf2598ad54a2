/**
 * Pure TypeScript reader for the BPF Type Format (BTF), as described by the
 * kernel's include/uapi/linux/btf.h and Documentation/bpf/btf.rst.
 *
 * Design notes
 * - The type section is kept as one Uint32Array (zero-copy when the data is
 *   little-endian and 4-byte aligned; otherwise a single copy, byte-swapped for
 *   big-endian BTF), and each type is known only by its word offset in
 *   `typeOffsets`. No per-type objects are created while parsing.
 * - Names are decoded lazily. The first few name lookups scan (the name's
 *   offsets in the string section, then the types pointing there); after
 *   that a hash index over the names' bytes (typed arrays only, built once)
 *   answers, decoding only the few names that share the query's hash.
 * - Everything is validated while parsing: header, section bounds, every type's
 *   trailing data, every string offset and every referenced type id. Bad or
 *   truncated input always ends in a BtfError, never a RangeError or a
 *   half-built object.
 * - `fromFile` also accepts ELF files (ELF64 and ELF32, either byte order) and
 *   reads their `.BTF` section, reading only the parts of the file it needs.
 * - Split BTF (kernel module BTF on top of vmlinux) is supported through the
 *   optional `base` argument: ids then continue after the base's last id and
 *   string offsets past the base's string section refer to the split's own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { BadInputError } from '../util/errors.js';
import { describeFsError, inputFileProblem } from '../util/input.js';

export class BtfError extends BadInputError {
  constructor(public file: string, public reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'BtfError';
  }
}

export interface BtfFunc {
  id: number;
  name: string;
  linkage: 'static' | 'global' | 'extern';
  protoId: number;
  /** A trailing `{name: '', typeId: 0}` entry means the function is variadic (`...`), as in libbpf. */
  params: { name: string; typeId: number }[];
}

export interface BtfEnum {
  id: number;
  name: string;
  values: Map<string, bigint>;
}

export interface BtfHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
  littleEndian: boolean;
}

// ---------------------------------------------------------------------------
// Format constants (include/uapi/linux/btf.h)

const BTF_MAGIC = 0xeb9f;
const BTF_VERSION = 1;
const HEADER_MIN = 24; // sizeof(struct btf_header)

export const KIND_INT = 1; // the whole table is kept, used or not, so that it reads as the kernel's enum
const KIND_PTR = 2;
const KIND_ARRAY = 3;
const KIND_STRUCT = 4;
const KIND_UNION = 5;
const KIND_ENUM = 6;
export const KIND_FWD = 7;
const KIND_TYPEDEF = 8;
const KIND_VOLATILE = 9;
const KIND_CONST = 10;
const KIND_RESTRICT = 11;
const KIND_FUNC = 12;
const KIND_FUNC_PROTO = 13;
const KIND_VAR = 14;
const KIND_DATASEC = 15;
export const KIND_FLOAT = 16;
const KIND_DECL_TAG = 17;
const KIND_TYPE_TAG = 18;
const KIND_ENUM64 = 19;
const KIND_MAX = 19;

const KIND_NAMES: readonly string[] = [
  'UNKN', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE',
  'CONST', 'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64',
];

const LINKAGES = ['static', 'global', 'extern'] as const;

/** libbpf's (1.1) btf__load_vmlinux_btf() search list, sysfs first. */
export const VMLINUX_BTF_PATHS = (release: string): string[] => [
  '/sys/kernel/btf/vmlinux',
  `/boot/vmlinux-${release}`,
  `/lib/modules/${release}/vmlinux-${release}`,
  `/lib/modules/${release}/build/vmlinux`,
  `/usr/lib/modules/${release}/kernel/vmlinux`,
  `/usr/lib/debug/boot/vmlinux-${release}`,
  `/usr/lib/debug/boot/vmlinux-${release}.debug`,
  `/usr/lib/debug/lib/modules/${release}/vmlinux`,
];

/**
 * Where is the kernel's BTF? With `explicit`, only that path is considered (no
 * silent fallback: a path that is not a regular file is a BtfError). Otherwise
 * libbpf's list is tried in order and the first readable regular file wins. Only existence/readability is checked; the file
 * is not parsed (entries other than sysfs are usually ELF files with .BTF).
 */
export function findVmlinuxBtf(explicit?: string, release?: string): { path: string | undefined; tried: string[] } {
  if (explicit !== undefined) {
    // a path the user named is read or refused, never skipped: the same guard as every user-named file
    const problem = inputFileProblem(explicit);
    if (problem) throw new BtfError(explicit, problem);
    return { path: explicit, tried: [explicit] };
  }
  const tried: string[] = [];
  for (const p of VMLINUX_BTF_PATHS(release ?? os.release())) {
    tried.push(p);
    try {
      fs.accessSync(p, fs.constants.R_OK);
      if (fs.statSync(p).isFile()) return { path: p, tried };
    } catch {
      // not there or not readable: try the next one
    }
  }
  return { path: undefined, tried };
}

// ---------------------------------------------------------------------------
// Byte sources: a Buffer, or an open file read with pread (so that a 400 MB
// debug vmlinux is not read whole just to reach its .BTF section).

interface Source {
  readonly size: number;
  /** Bytes [pos, pos+len); the caller has checked the range is inside the source. */
  read(pos: number, len: number): Buffer;
}

class BufferSource implements Source {
  constructor(private buf: Buffer) {}
  get size(): number { return this.buf.length; }
  read(pos: number, len: number): Buffer { return this.buf.subarray(pos, pos + len); }
}

class FdSource implements Source {
  constructor(private fd: number, public readonly size: number, private label: string) {}
  read(pos: number, len: number): Buffer {
    const out = Buffer.allocUnsafeSlow(len);
    let done = 0;
    while (done < len) {
      const n = fs.readSync(this.fd, out, done, len - done, pos + done);
      if (n === 0) {
        throw new BtfError(this.label, `truncated: file ended at byte ${pos + done} while reading ${len} bytes at ${pos} (it shrank while being read?)`);
      }
      done += n;
    }
    return out;
  }
}

function isElf(b: Buffer): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

/** Locate the `.BTF` section of an ELF file; returns the section's bytes and its file offset. */
function extractElfBtf(src: Source, label: string): { data: Buffer; fileOffset: number } {
  const size = src.size;
  if (size < 16) throw new BtfError(label, `truncated: ELF identification needs 16 bytes but the file has ${size} bytes`);
  const ident = src.read(0, 16);
  const cls = ident[4];
  const dataEnc = ident[5];
  if (cls !== 1 && cls !== 2) throw new BtfError(label, `not BTF: ELF file with unknown class ${cls} (expected 1 or 2)`);
  if (dataEnc !== 1 && dataEnc !== 2) throw new BtfError(label, `not BTF: ELF file with unknown data encoding ${dataEnc} (expected 1 or 2)`);
  const is64 = cls === 2;
  const le = dataEnc === 1;
  const ehSize = is64 ? 64 : 52;
  if (size < ehSize) throw new BtfError(label, `truncated: ELF${is64 ? 64 : 32} header needs ${ehSize} bytes but the file has ${size} bytes`);
  const eh = src.read(0, ehSize);
  const u16 = (b: Buffer, o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (b: Buffer, o: number): number => {
    const v = le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  const shoff = is64 ? u64(eh, 0x28) : u32(eh, 0x20);
  const shentsize = u16(eh, is64 ? 0x3a : 0x2e);
  let shnum = u16(eh, is64 ? 0x3c : 0x30);
  let shstrndx = u16(eh, is64 ? 0x3e : 0x32);
  const minEnt = is64 ? 64 : 40;
  if (shoff === 0) throw new BtfError(label, 'no .BTF section: the ELF file has no section header table');
  if (shentsize < minEnt) throw new BtfError(label, `bad ELF: section header entry size ${shentsize} is smaller than ${minEnt}`);
  const shdr = (i: number): { name: number; type: number; offset: number; size: number; link: number } => {
    const at = shoff + i * shentsize;
    if (at + minEnt > size) {
      throw new BtfError(label, `truncated: ELF section header ${i} ends at byte ${at + minEnt} but the file has ${size} bytes`);
    }
    const b = src.read(at, minEnt);
    return is64
      ? { name: u32(b, 0), type: u32(b, 4), offset: u64(b, 24), size: u64(b, 32), link: u32(b, 40) }
      : { name: u32(b, 0), type: u32(b, 4), offset: u32(b, 16), size: u32(b, 20), link: u32(b, 24) };
  };
  // Extended numbering: the real counts live in section header 0.
  if (shnum === 0 || shstrndx === 0xffff) {
    const s0 = shdr(0);
    if (shnum === 0) shnum = s0.size;
    if (shstrndx === 0xffff) shstrndx = s0.link;
  }
  if (shnum === 0) throw new BtfError(label, 'no .BTF section: the ELF file has no sections');
  const tableEnd = shoff + shnum * shentsize;
  if (tableEnd > size) {
    throw new BtfError(label, `truncated: ELF section headers end at byte ${tableEnd} but the file has ${size} bytes`);
  }
  if (shstrndx === 0 || shstrndx >= shnum) {
    throw new BtfError(label, `no .BTF section: ELF section-name table index ${shstrndx} is not a valid section (${shnum} sections)`);
  }
  const table = src.read(shoff, shnum * shentsize);
  const secAt = (i: number) => {
    const o = i * shentsize;
    return is64
      ? { name: u32(table, o), type: u32(table, o + 4), offset: u64(table, o + 24), size: u64(table, o + 32) }
      : { name: u32(table, o), type: u32(table, o + 4), offset: u32(table, o + 16), size: u32(table, o + 20) };
  };
  const strSec = secAt(shstrndx);
  if (strSec.offset + strSec.size > size) {
    throw new BtfError(label, `truncated: ELF section-name table ends at byte ${strSec.offset + strSec.size} but the file has ${size} bytes`);
  }
  const names = src.read(strSec.offset, strSec.size);
  const want = Buffer.from('.BTF\0', 'latin1');
  for (let i = 1; i < shnum; i++) {
    const s = secAt(i);
    if (s.name + want.length > names.length || names.compare(want, 0, want.length, s.name, s.name + want.length) !== 0) continue;
    if (s.type === 8 /* SHT_NOBITS */) throw new BtfError(label, `bad ELF: .BTF section (section ${i}) has no data in the file (SHT_NOBITS)`);
    if (s.offset + s.size > size) {
      throw new BtfError(label, `truncated: .BTF section ends at byte ${s.offset + s.size} but the file has ${size} bytes`);
    }
    return { data: src.read(s.offset, s.size), fileOffset: s.offset };
  }
  throw new BtfError(label, `no .BTF section in this ELF file (${shnum} sections)`);
}

const hex = (n: number): string => '0x' + n.toString(16).padStart(4, '0');

// ---------------------------------------------------------------------------
// The hot loop: walk the type section once, recording each type's word offset
// and the largest string offset / type id referenced (checked by the caller).
// A standalone function with no closures so that V8 optimises it early.

const S_ERR = 0, S_ERR_WORD = 1, S_ERR_IDX = 2, S_ERR_ARG = 3;
const S_MAX_STR = 4, S_MAX_STR_WORD = 5, S_MAX_STR_IDX = 6;
const S_MAX_REF = 7, S_MAX_REF_WORD = 8, S_MAX_REF_IDX = 9;
const ERR_SHORT = 1, ERR_KIND = 2, ERR_OVERRUN = 3;
const SCAN = new Float64Array(10);

// Per-kind layout tables (index = kind). Table-driven so that the loop has one
// code path for every kind: a rare kind first met deep into the file (ENUM64,
// TYPE_TAG) then cannot deoptimise the already-compiled loop.
/** Fixed trailing words after the 12-byte btf_type; -1 = unknown kind. */
const FIXED = new Int32Array([-1, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]);
/** Words per vlen entry. */
const PER_VLEN = new Int32Array(32);
PER_VLEN[KIND_STRUCT] = 3; PER_VLEN[KIND_UNION] = 3; PER_VLEN[KIND_ENUM] = 2; PER_VLEN[KIND_FUNC_PROTO] = 2;
PER_VLEN[KIND_DATASEC] = 3; PER_VLEN[KIND_ENUM64] = 3;
/** 1 if the btf_type's size/type word is a type id. */
const SELF_REF = new Int32Array(32);
for (const k of [KIND_PTR, KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_FUNC, KIND_TYPE_TAG,
  KIND_FUNC_PROTO, KIND_VAR, KIND_DECL_TAG]) SELF_REF[k] = 1;
/** 1 if word 0 of each vlen entry is a string offset. */
const ENTRY_NAME = new Int32Array(32);
for (const k of [KIND_STRUCT, KIND_UNION, KIND_ENUM, KIND_FUNC_PROTO, KIND_ENUM64]) ENTRY_NAME[k] = 1;
/** Index of the type id within each vlen entry, or -1. */
const ENTRY_REF = new Int32Array(32).fill(-1);
ENTRY_REF[KIND_STRUCT] = 1; ENTRY_REF[KIND_UNION] = 1; ENTRY_REF[KIND_FUNC_PROTO] = 1; ENTRY_REF[KIND_DATASEC] = 0;

/**
 * Returns the number of types; `r` receives the error (if any) and the maxima. `members` false: the
 * trailing entries (struct members, parameters, ...) are stepped over, not checked (trusted data).
 */
function scanTypes(words: Uint32Array, offsets: Int32Array, r: Float64Array, members: boolean): number {
  const nWords = words.length;
  let count = 0;
  let w = 0;
  let maxStr = 0, maxStrWord = 0, maxStrIdx = 0;
  let maxRef = 0, maxRefWord = 0, maxRefIdx = 0;
  let err = 0, errArg = 0;
  while (w < nWords) {
    if (w + 3 > nWords) { err = ERR_SHORT; break; }
    const nameOff = words[w];
    const info = words[w + 1];
    const kind = (info >>> 24) & 0x1f;
    const fixed = FIXED[kind];
    if (fixed < 0) { err = ERR_KIND; errArg = kind; break; }
    const per = PER_VLEN[kind];
    const start = w + 3 + fixed;
    const end = start + per * (info & 0xffff);
    if (end > nWords) { err = ERR_OVERRUN; errArg = end; break; }
    if (nameOff > maxStr) { maxStr = nameOff; maxStrWord = w; maxStrIdx = count; }
    let ref = SELF_REF[kind] === 1 ? words[w + 2] : 0;
    if (kind === KIND_ARRAY) {
      const t = words[w + 3] > words[w + 4] ? words[w + 3] : words[w + 4];
      if (t > ref) ref = t;
    }
    if (per !== 0 && members) {
      const named = ENTRY_NAME[kind];
      const refAt = ENTRY_REF[kind];
      for (let e = start; e < end; e += per) {
        if (named === 1) {
          const so = words[e];
          if (so > maxStr) { maxStr = so; maxStrWord = w; maxStrIdx = count; }
        }
        if (refAt >= 0) {
          const t = words[e + refAt];
          if (t > ref) ref = t;
        }
      }
    }
    if (ref > maxRef) { maxRef = ref; maxRefWord = w; maxRefIdx = count; }
    offsets[count++] = w;
    w = end;
  }
  r[S_ERR] = err; r[S_ERR_WORD] = w; r[S_ERR_IDX] = count; r[S_ERR_ARG] = errArg;
  r[S_MAX_STR] = maxStr; r[S_MAX_STR_WORD] = maxStrWord; r[S_MAX_STR_IDX] = maxStrIdx;
  r[S_MAX_REF] = maxRef; r[S_MAX_REF_WORD] = maxRefWord; r[S_MAX_REF_IDX] = maxRefIdx;
  return count;
}

// ---------------------------------------------------------------------------

export class Btf {
  readonly header: BtfHeader;
  /** Number of types in this BTF, excluding void (and, for split BTF, excluding the base's types). */
  readonly typeCount: number;
  /** First type id owned by this BTF: 1, or base.lastId + 1 for split BTF. */
  readonly startId: number;
  /** Last valid type id (startId + typeCount - 1). */
  readonly lastId: number;
  readonly base: Btf | undefined;
  readonly label: string;

  /** Type section as 32-bit words in host order. */
  private readonly words: Uint32Array;
  /** Word offset of each own type in `words`; index = id - startId. */
  private readonly offsets: Int32Array;
  /** Own string section. */
  private readonly strings: Buffer;
  /** String offsets below this refer to the base's strings. */
  private readonly strStart: number;
  private readonly strEnd: number;

  private nameCache = new Map<number, string>();
  /**
   * Name index, built lazily, once: an open-addressing hash table from the hash
   * of a type's name to the first type index (id - startId) with that hash, and
   * a chain (`nameNext`) through the other types with the same hash. Typed
   * arrays only; names are decoded only to confirm a lookup's candidates.
   */
  private nameKeys: Uint32Array | undefined; // name hash (never 0); 0 = empty slot
  private scans = 0; // lookups answered by scanning before the index is built
  private nameHeads: Int32Array | undefined;
  private nameNext: Int32Array | undefined;
  private nameShift = 0;

  private constructor(
    label: string, header: BtfHeader, words: Uint32Array, offsets: Int32Array, strings: Buffer, base: Btf | undefined,
  ) {
    this.label = label;
    this.header = header;
    this.words = words;
    this.offsets = offsets;
    this.strings = strings;
    this.base = base;
    this.typeCount = offsets.length;
    this.startId = base ? base.lastId + 1 : 1;
    this.lastId = this.startId + this.typeCount - 1;
    this.strStart = base ? base.strEnd : 0;
    this.strEnd = this.strStart + strings.length;
  }

  /**
   * Parse a raw BTF file (e.g. /sys/kernel/btf/vmlinux) or an ELF file with a
   * `.BTF` section (e.g. /boot/vmlinux-$release). Throws BtfError on any problem.
   */
  static fromFile(path: string, base?: Btf): Btf {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (err) {
      throw new BtfError(path, describeFsError(err));
    }
    try {
      let st: fs.Stats;
      try {
        st = fs.fstatSync(fd);
      } catch (err) {
        throw new BtfError(path, describeFsError(err));
      }
      if (st.isDirectory()) throw new BtfError(path, 'is a directory');
      if (st.isCharacterDevice() || st.isBlockDevice() || st.isSocket()) {
        throw new BtfError(path, `not BTF: a ${st.isSocket() ? 'socket' : 'device'}, not a regular file`);
      }
      if (st.isFile() && st.size >= 4) {
        const src = new FdSource(fd, st.size, path);
        const head = src.read(0, 4);
        if (isElf(head)) {
          const { data, fileOffset } = extractElfBtf(src, path);
          return Btf.parse(data, path, base, fileOffset);
        }
        const m = head.readUInt16LE(0);
        if (m !== BTF_MAGIC && m !== 0x9feb) return Btf.parse(head, path, base, -1); // "not BTF", without reading it all
      }
      return Btf.fromBuffer(fs.readFileSync(fd), path, base);
    } catch (err) {
      if (err instanceof BtfError) throw err;
      throw new BtfError(path, describeFsError(err));
    } finally {
      try { fs.closeSync(fd); } catch { /* ignore */ }
    }
  }

  /** Parse raw BTF bytes, or an ELF image with a `.BTF` section. `label` names the data in errors. */
  static fromBuffer(buf: Buffer, label: string, base?: Btf, opts: { trusted?: boolean } = {}): Btf {
    if (isElf(buf)) {
      const { data, fileOffset } = extractElfBtf(new BufferSource(buf), label);
      return Btf.parse(data, label, base, fileOffset, opts.trusted === true);
    }
    return Btf.parse(buf, label, base, -1, opts.trusted === true);
  }

  /**
   * `elfOffset` is the file offset of the .BTF section when the data came from an ELF file, else -1.
   * trusted: the running kernel's own BTF, which the kernel checked when it loaded it: the header, section
   * bounds and every type's size are still checked, the entries inside the types (member names and type
   * ids, FUNC → FUNC_PROTO) are not (that is ~90% of the work on a vmlinux BTF).
   */
  private static parse(buf: Buffer, label: string, base: Btf | undefined, elfOffset: number, trusted = false): Btf {
    const where = elfOffset >= 0 ? ` of the .BTF section (at file offset ${elfOffset})` : '';
    const fail = (reason: string): never => { throw new BtfError(label, reason); };
    const has = `${where ? 'the .BTF section' : 'the file'} has ${buf.length} bytes`;
    const header = readHeader(buf, where, has, fail);
    const typeStart = header.hdrLen + header.typeOff;
    const strings = checkSections(buf, header, base, has, fail);
    const strLimit = (base ? base.strEnd : 0) + header.strLen; // every string offset must be below this
    const words = typeWords(buf, typeStart, header.typeLen >>> 2, header.littleEndian);
    const startId = base ? base.lastId + 1 : 1;
    const offsets = new Int32Array(Math.floor(words.length / 3) + 1);
    const at = (idx: number, word: number): string => `type #${startId + idx} at byte ${typeStart + word * 4}${where}`;
    const typeCount = scanTypes(words, offsets, SCAN, !trusted);
    checkScan(words, typeStart, at, fail);
    const lastId = startId + typeCount - 1;
    if (SCAN[S_MAX_STR] >= strLimit) {
      fail(`${at(SCAN[S_MAX_STR_IDX], SCAN[S_MAX_STR_WORD])}: string offset ${SCAN[S_MAX_STR]} is outside the string section (${strLimit} bytes${base ? ' including the base' : ''})`);
    }
    if (SCAN[S_MAX_REF] > lastId) {
      fail(`${at(SCAN[S_MAX_REF_IDX], SCAN[S_MAX_REF_WORD])}: refers to type id ${SCAN[S_MAX_REF]} but the last type id is ${lastId}`);
    }
    const own = offsets.subarray(0, typeCount);
    const btf = new Btf(label, header, words, own, strings, base);
    if (!trusted) checkFuncs(btf, words, own, startId, at, fail);
    return btf;
  }

  // -------------------------------------------------------------------------
  // Raw accessors

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id > this.lastId) {
      throw new BtfError(this.label, `type id ${id} is out of range (0..${this.lastId})`);
    }
  }

  /** Owner BTF and word offset of a (valid, non-zero) id. */
  private locate(id: number): { btf: Btf; off: number } {
    let b: Btf = this;
    while (id < b.startId) b = b.base as Btf;
    return { btf: b, off: b.offsets[id - b.startId] };
  }

  /** Numeric kind of an id (0 for void). */
  /** @internal the kind of a type id (base types included); parse checks use it. */
  kindOf(id: number): number {
    if (id === 0) return 0;
    let b: Btf = this;
    while (id < b.startId) b = b.base as Btf;
    return (b.words[b.offsets[id - b.startId] + 1] >>> 24) & 0x1f;
  }

  /** Decode a NUL-terminated string at a (validated) string offset. */
  private str(off: number): string {
    if (off < this.strStart) return (this.base as Btf).str(off);
    let s = this.nameCache.get(off);
    if (s === undefined) {
      const rel = off - this.strStart;
      let end = this.strings.indexOf(0, rel);
      if (end < 0) end = this.strings.length; // cannot happen: last byte is NUL
      s = this.strings.toString('utf8', rel, end);
      this.nameCache.set(off, s);
    }
    return s;
  }

  // -------------------------------------------------------------------------
  // Public API

  /** 'INT', 'PTR', 'STRUCT', 'FUNC', ...; 'VOID' for id 0. */
  kindName(id: number): string {
    this.checkId(id);
    return id === 0 ? 'VOID' : KIND_NAMES[this.kindOf(id)];
  }

  /** The type's name; '' for void and anonymous types. */
  nameOf(id: number): string {
    this.checkId(id);
    if (id === 0) return '';
    const { btf, off } = this.locate(id);
    return btf.str(btf.words[off]);
  }

  /** Ids of all types called `name` (optionally of one kind, e.g. 'STRUCT'), ascending; base types first. */
  findByName(name: string, kind?: string): number[] {
    let k = -1;
    if (kind !== undefined) {
      k = KIND_NAMES.indexOf(kind.toUpperCase());
      if (k <= 0) throw new TypeError(`unknown BTF kind '${kind}' (expected one of ${KIND_NAMES.slice(1).join(', ')})`);
    }
    const out = this.base ? this.base.findByName(name, kind) : [];
    if (name === '') return out;
    for (const i of this.ownIdsNamed(name)) {
      if (k < 0 || ((this.words[this.offsets[i] + 1] >>> 24) & 0x1f) === k) out.push(this.startId + i);
    }
    return out;
  }

  /** A kernel function (BTF_KIND_FUNC) by name, with its prototype's parameters. First match by id. */
  findFunc(name: string): BtfFunc | undefined {
    const id = this.findByName(name, 'FUNC')[0];
    if (id === undefined) return undefined;
    const { btf, off } = this.locate(id);
    const protoId = btf.words[off + 2];
    const linkage = LINKAGES[btf.words[off + 1] & 0xffff] ?? 'static';
    const p = this.locate(protoId);
    const vlen = p.btf.words[p.off + 1] & 0xffff;
    const params: { name: string; typeId: number }[] = [];
    for (let i = 0, e = p.off + 3; i < vlen; i++, e += 2) {
      params.push({ name: p.btf.str(p.btf.words[e]), typeId: p.btf.words[e + 1] });
    }
    return { id, name, linkage, protoId, params };
  }

  /** Values of the ENUM/ENUM64 called `name` (a full definition is preferred over a forward declaration). */
  enumValues(name: string): Map<string, bigint> | undefined {
    return this.findEnum(name)?.values;
  }

  /** Like enumValues, with the type id. */
  findEnum(name: string): BtfEnum | undefined {
    const ids = this.findByName(name).filter((id) => {
      const k = this.kindOf(id);
      return k === KIND_ENUM || k === KIND_ENUM64;
    });
    if (ids.length === 0) return undefined;
    const id = ids.find((i) => this.vlenOf(i) > 0) ?? ids[0];
    const { btf, off } = this.locate(id);
    const w = btf.words;
    const info = w[off + 1];
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const signed = (info & 0x80000000) !== 0; // kind_flag: signed enum (libbpf semantics)
    const values = new Map<string, bigint>();
    if (kind === KIND_ENUM) {
      for (let i = 0, e = off + 3; i < vlen; i++, e += 2) {
        values.set(btf.str(w[e]), BigInt(signed ? w[e + 1] | 0 : w[e + 1]));
      }
    } else {
      for (let i = 0, e = off + 3; i < vlen; i++, e += 3) {
        const v = (BigInt(w[e + 2]) << 32n) | BigInt(w[e + 1]);
        values.set(btf.str(w[e]), signed ? BigInt.asIntN(64, v) : v);
      }
    }
    return { id, name, values };
  }

  /**
   * Members of the STRUCT called `name` (a UNION of that name if there is no
   * such struct). bitsOffset is the member's offset in bits (for bitfields in a
   * kind_flag struct, the bitfield size is stripped off).
   */
  structMembers(name: string): { name: string; typeId: number; bitsOffset: number }[] | undefined {
    let ids = this.findByName(name, 'STRUCT');
    if (ids.length === 0) ids = this.findByName(name, 'UNION');
    if (ids.length === 0) return undefined;
    const id = ids.find((i) => this.vlenOf(i) > 0) ?? ids[0];
    const { btf, off } = this.locate(id);
    const w = btf.words;
    const info = w[off + 1];
    const vlen = info & 0xffff;
    const kflag = (info & 0x80000000) !== 0;
    const out: { name: string; typeId: number; bitsOffset: number }[] = [];
    for (let i = 0, e = off + 3; i < vlen; i++, e += 3) {
      out.push({ name: btf.str(w[e]), typeId: w[e + 1], bitsOffset: kflag ? w[e + 2] & 0xffffff : w[e + 2] });
    }
    return out;
  }

  /** A string of the string section by offset (the names .BTF.ext records point at). */
  stringAt(off: number): string {
    if (off < 0 || off >= this.strEnd) throw new BtfError(this.label, `string offset ${off} is outside the string section`);
    return this.str(off);
  }

  /**
   * One type by id, for walking an object's own BTF (CO-RE accessors, .maps definitions): its kind, name,
   * the type it refers to (PTR, TYPEDEF, modifiers, VAR, FUNC), an ARRAY's element type and count, and
   * the members of a STRUCT/UNION or the variables of a DATASEC.
   */
  typeAt(id: number): { kind: string; name: string; type?: number; nelems?: number; members?: { name: string; type: number }[] } {
    this.checkId(id);
    if (id === 0) return { kind: 'VOID', name: '' };
    const { btf, off } = this.locate(id);
    const w = btf.words;
    const kind = (w[off + 1] >>> 24) & 0x1f;
    const vlen = w[off + 1] & 0xffff;
    const out = { kind: KIND_NAMES[kind], name: btf.str(w[off]) };
    if (kind === KIND_ARRAY) return { ...out, type: w[off + 3], nelems: w[off + 5] };
    if (kind === KIND_STRUCT || kind === KIND_UNION) {
      return { ...out, members: Array.from({ length: vlen }, (_, i) => ({ name: btf.str(w[off + 3 + i * 3]), type: w[off + 4 + i * 3] })) };
    }
    if (kind === KIND_DATASEC) return { ...out, members: Array.from({ length: vlen }, (_, i) => ({ name: '', type: w[off + 3 + i * 3] })) };
    const refers = [KIND_PTR, KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_FUNC, KIND_VAR, KIND_TYPE_TAG].includes(kind);
    return refers ? { ...out, type: w[off + 2] } : out;
  }

  private vlenOf(id: number): number {
    const { btf, off } = this.locate(id);
    return btf.words[off + 1] & 0xffff;
  }

  // -------------------------------------------------------------------------
  // Name index

  private ensureIndex(): void {
    if (this.nameKeys) return;
    let bits = 4;
    while (1 << bits < this.typeCount * 2) bits++;
    const cap = 1 << bits;
    const mask = cap - 1;
    const shift = 32 - bits;
    const keys = new Uint32Array(cap);
    const heads = new Int32Array(cap);
    const next = new Int32Array(this.typeCount).fill(-1);
    const words = this.words;
    const offsets = this.offsets;
    const strings = this.strings;
    const strStart = this.strStart;
    // Walk backwards so that each chain is in ascending id order.
    for (let i = this.typeCount - 1; i >= 0; i--) {
      const so = words[offsets[i]];
      if (so === 0) continue; // anonymous
      const key = so >= strStart ? hashName(strings, so - strStart) : (this.base as Btf).nameHash(so);
      let slot = Math.imul(key, 0x9e3779b1) >>> shift;
      while (keys[slot] !== 0 && keys[slot] !== key) slot = (slot + 1) & mask;
      if (keys[slot] === key) next[i] = heads[slot];
      keys[slot] = key;
      heads[slot] = i;
    }
    this.nameKeys = keys;
    this.nameHeads = heads;
    this.nameNext = next;
    this.nameShift = shift;
  }

  /** String offsets where the NUL-terminated `needle` is a whole string, in the base's strings and these. */
  private stringOffsetsOf(needle: Buffer): number[] {
    const out = this.base ? this.base.stringOffsetsOf(needle) : [];
    const s = this.strings;
    for (let at = s.indexOf(needle); at >= 0; at = s.indexOf(needle, at + 1)) {
      if (at === 0 || s[at - 1] === 0) out.push(this.strStart + at);
    }
    return out;
  }

  /**
   * ownIdsNamed without the index: every own type whose name offset is one of the needle's. The word is
   * found by the engine's native search (a JS loop over ~130k types costs ~10 ms before it is compiled),
   * then kept only where a type starts (a member's or a size word may hold the same number).
   */
  private scanNamed(needle: Buffer): number[] {
    const out: number[] = [];
    for (const so of this.stringOffsetsOf(needle)) {
      for (let w = this.words.indexOf(so); w >= 0; w = this.words.indexOf(so, w + 1)) {
        const i = typeAtWord(this.offsets, w);
        if (i >= 0) out.push(i);
      }
    }
    return out.sort((a, b) => a - b);
  }

  /** Hash of the string at a (validated) string offset. */
  private nameHash(so: number): number {
    return so >= this.strStart ? hashName(this.strings, so - this.strStart) : (this.base as Btf).nameHash(so);
  }

  /** Own type indexes (id - startId) named `name`, ascending. */
  private ownIdsNamed(name: string): number[] {
    const needle = Buffer.from(name + '\0', 'utf8');
    if (needle.indexOf(0) !== needle.length - 1) return []; // a name cannot contain NUL
    // The first few lookups scan (~1 ms: find the name in the string section, then the types that point
    // at it); building the index costs ~35 ms on a vmlinux BTF and pays off only for many lookups.
    if (!this.nameKeys && this.scans < SCANS_BEFORE_INDEX) {
      this.scans++;
      return this.scanNamed(needle);
    }
    this.ensureIndex();
    const key = hashName(needle, 0);
    const keys = this.nameKeys as Uint32Array;
    const mask = keys.length - 1;
    let head = -1;
    for (let slot = Math.imul(key, 0x9e3779b1) >>> this.nameShift; keys[slot] !== 0; slot = (slot + 1) & mask) {
      if (keys[slot] === key) { head = (this.nameHeads as Int32Array)[slot]; break; }
    }
    const out: number[] = [];
    const next = this.nameNext as Int32Array;
    for (let i = head; i >= 0; i = next[i]) {
      if (this.str(this.words[this.offsets[i]]) === name) out.push(i); // same hash is not the same name
    }
    return out;
  }
}

const SCANS_BEFORE_INDEX = 8;

/** The index of the type starting at word `w` (offsets ascend), or -1 when no type starts there. */
function typeAtWord(offsets: Int32Array, w: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid] < w) lo = mid + 1;
    else if (offsets[mid] > w) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/** FNV-1a over the NUL-terminated bytes at `pos`, never 0 (0 marks an empty hash slot). */
function hashName(buf: Buffer, pos: number): number {
  let h = 0x811c9dc5;
  for (let c = buf[pos]; c !== 0 && c !== undefined; c = buf[++pos]) {
    h = Math.imul(h ^ c, 0x01000193);
  }
  h >>>= 0;
  return h === 0 ? 1 : h;
}

type Fail = (reason: string) => never;

/** The magic (either byte order), version and header fields, checked. */
function readHeader(buf: Buffer, where: string, has: string, fail: Fail): BtfHeader {
  const n = buf.length;
  if (n === 0) fail(`not BTF: ${where ? '.BTF section' : 'file'} is empty (0 bytes)`);
  if (n < 2) {
    if (buf[0] === 0x9f || buf[0] === 0xeb) fail(`truncated: the BTF header needs ${HEADER_MIN} bytes but ${has}`);
    fail(`not BTF: bad magic byte 0x${buf[0].toString(16).padStart(2, '0')} and only 1 byte`);
  }
  const m = buf.readUInt16LE(0);
  let le: boolean;
  if (m === BTF_MAGIC) le = true;
  else if (m === 0x9feb) le = false;
  else return fail(`not BTF: bad magic ${hex(buf.readUInt16BE(0))} (expected 0xeb9f)`);
  if (n < HEADER_MIN) fail(`truncated: the BTF header needs ${HEADER_MIN} bytes but ${has}`);
  const r32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const header: BtfHeader = {
    magic: BTF_MAGIC, version: buf[2], flags: buf[3], hdrLen: r32(4), typeOff: r32(8), typeLen: r32(12), strOff: r32(16), strLen: r32(20), littleEndian: le,
  };
  if (header.version !== BTF_VERSION) fail(`unsupported BTF version ${header.version} (expected ${BTF_VERSION})`);
  if (header.hdrLen < HEADER_MIN) fail(`bad header: hdr_len ${header.hdrLen} is smaller than ${HEADER_MIN}`);
  if (header.hdrLen > n) fail(`truncated: the BTF header (hdr_len ${header.hdrLen}) ends at byte ${header.hdrLen} but ${has}`);
  for (let i = HEADER_MIN; i < header.hdrLen; i++) {
    if (buf[i] !== 0) fail(`unsupported BTF header: hdr_len ${header.hdrLen} with non-zero unknown header byte at ${i}`);
  }
  return header;
}

/** The type and string sections inside the data, apart, well formed; returns the string section. */
function checkSections(buf: Buffer, header: BtfHeader, base: Btf | undefined, has: string, fail: Fail): Buffer {
  const typeStart = header.hdrLen + header.typeOff;
  const typeEnd = typeStart + header.typeLen;
  const strStartB = header.hdrLen + header.strOff;
  const strEndB = strStartB + header.strLen;
  if (typeEnd > buf.length) fail(`truncated: type section ends at byte ${typeEnd} but ${has}`);
  if (strEndB > buf.length) fail(`truncated: string section ends at byte ${strEndB} but ${has}`);
  if (header.typeLen > 0 && header.strLen > 0 && typeStart < strEndB && strStartB < typeEnd) {
    fail(`bad header: type section [${typeStart}, ${typeEnd}) overlaps string section [${strStartB}, ${strEndB})`);
  }
  if (header.typeLen % 4 !== 0) fail(`bad header: type_len ${header.typeLen} is not a multiple of 4`);
  const strings = buf.subarray(strStartB, strEndB);
  if (!base) {
    if (header.strLen === 0) fail('bad string section: it is empty (it must start with an empty string)');
    if (strings[0] !== 0) fail('bad string section: it does not start with an empty string (byte 0 is not NUL)');
  }
  if (header.strLen > 0 && strings[header.strLen - 1] !== 0) fail(`bad string section: last byte (at ${strEndB - 1}) is not NUL`);
  return strings;
}

/** The type section as host-order words: a view where the data is little-endian and aligned, else a copy. */
function typeWords(buf: Buffer, typeStart: number, nWords: number, le: boolean): Uint32Array {
  const absStart = buf.byteOffset + typeStart;
  if (le && absStart % 4 === 0) return new Uint32Array(buf.buffer, absStart, nWords);
  const copy = Buffer.allocUnsafeSlow(nWords * 4);
  buf.copy(copy, 0, typeStart, typeStart + nWords * 4);
  if (!le) copy.swap32();
  return new Uint32Array(copy.buffer, copy.byteOffset, nWords);
}

/** What scanTypes found wrong, in words. */
function checkScan(words: Uint32Array, typeStart: number, at: (idx: number, word: number) => string, fail: Fail): void {
  const errWord = SCAN[S_ERR_WORD], errIdx = SCAN[S_ERR_IDX];
  const end = typeStart + words.length * 4;
  switch (SCAN[S_ERR]) {
    case 0: return;
    case ERR_SHORT:
      fail(`truncated: ${at(errIdx, errWord)} needs 12 bytes but the type section ends at byte ${end}`);
      break;
    case ERR_KIND:
      fail(`${at(errIdx, errWord)}: unknown kind ${SCAN[S_ERR_ARG]} (info 0x${words[errWord + 1].toString(16)}); this reader knows kinds 1..${KIND_MAX}`);
      break;
    default: {
      const kind = (words[errWord + 1] >>> 24) & 0x1f;
      fail(`truncated: ${at(errIdx, errWord)} (${KIND_NAMES[kind]}, vlen ${words[errWord + 1] & 0xffff}) ends at byte ${typeStart + SCAN[S_ERR_ARG] * 4} but the type section ends at byte ${end}`);
    }
  }
}

/** FUNC must point at a FUNC_PROTO (kernel verifier rule; findFunc relies on it) with a known linkage. */
function checkFuncs(btf: Btf, words: Uint32Array, own: Int32Array, startId: number, at: (idx: number, word: number) => string, fail: Fail): void {
  for (let i = 0; i < own.length; i++) {
    const o = own[i];
    const info = words[o + 1];
    if (((info >>> 24) & 0x1f) !== KIND_FUNC) continue;
    const proto = words[o + 2];
    const pk = proto >= startId ? (words[own[proto - startId] + 1] >>> 24) & 0x1f : btf.kindOf(proto);
    if (pk !== KIND_FUNC_PROTO) fail(`${at(i, o)}: FUNC refers to type id ${proto}, ${pk === 0 ? 'void' : `a ${KIND_NAMES[pk]}`}, not a FUNC_PROTO`);
    if ((info & 0xffff) > 2) fail(`${at(i, o)}: FUNC has unknown linkage ${info & 0xffff}`);
  }
}
