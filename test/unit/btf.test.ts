import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Btf, BtfError, VMLINUX_BTF_PATHS, findVmlinuxBtf } from '../../src/kernel/btf.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

// ---------------------------------------------------------------------------
// Helpers

/** A tiny BTF writer: types are given as words; strings are added on demand. */
class BtfWriter {
  private strs: Buffer[] = [Buffer.from([0])];
  private strLen = 1;
  private strMap = new Map<string, number>();
  private words: number[] = [];
  count = 0;

  constructor(private strBase = 0, firstString = true) {
    if (!firstString) { this.strs = []; this.strLen = 0; }
  }

  /** Offset of `s` (deduplicated); '' is offset 0 of a base BTF. */
  str(s: string): number {
    if (s === '') return 0; // offset 0 is the empty string (the base's, for split BTF)
    let off = this.strMap.get(s);
    if (off === undefined) {
      off = this.strBase + this.strLen;
      const b = Buffer.from(s + '\0', 'utf8');
      this.strs.push(b);
      this.strLen += b.length;
      this.strMap.set(s, off);
    }
    return off;
  }

  /** Adds a type and returns its index within this writer (1-based). */
  type(name: string | number, kind: number, vlen: number, sizeOrType: number, extra: number[] = [], kflag = false): number {
    const nameOff = typeof name === 'number' ? name : this.str(name);
    this.words.push(nameOff, ((kflag ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0, sizeOrType >>> 0, ...extra.map((x) => x >>> 0));
    return ++this.count;
  }

  build(littleEndian = true): Buffer {
    const types = Buffer.alloc(this.words.length * 4);
    this.words.forEach((w, i) => (littleEndian ? types.writeUInt32LE(w, i * 4) : types.writeUInt32BE(w, i * 4)));
    const strings = Buffer.concat(this.strs);
    const hdr = Buffer.alloc(24);
    const w16 = (v: number, o: number) => (littleEndian ? hdr.writeUInt16LE(v, o) : hdr.writeUInt16BE(v, o));
    const w32 = (v: number, o: number) => (littleEndian ? hdr.writeUInt32LE(v, o) : hdr.writeUInt32BE(v, o));
    w16(0xeb9f, 0);
    hdr[2] = 1; // version
    hdr[3] = 0; // flags
    w32(24, 4); // hdr_len
    w32(0, 8); // type_off
    w32(types.length, 12); // type_len
    w32(types.length, 16); // str_off
    w32(strings.length, 20); // str_len
    return Buffer.concat([hdr, types, strings]);
  }
}

const K = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
};

/** INT, STRUCT with 2 members, ENUM, FUNC_PROTO with 1 param, FUNC. */
function minimalBlob(littleEndian = true): Buffer {
  const w = new BtfWriter();
  w.type('int', K.INT, 0, 4, [(1 << 24) | 32]); // 1: signed 32-bit int
  w.type('pair', K.STRUCT, 2, 8, [w.str('a'), 1, 0, w.str('b'), 1, 32]); // 2
  w.type('color', K.ENUM, 3, 4, [w.str('RED'), 1, w.str('GREEN'), 2, w.str('NEG'), -5], true); // 3: signed enum
  w.type('', K.FUNC_PROTO, 1, 1, [w.str('x'), 1]); // 4: int (*)(int x)
  w.type('add_one', K.FUNC, 1, 4); // 5: global
  return w.build(littleEndian);
}

/** One type of every kind (1..19), plus a few extras exercising flags and odd string offsets. */
function allKindsBlob(littleEndian = true): { blob: Buffer; kinds: string[]; names: string[] } {
  const w = new BtfWriter();
  const longName = w.str('prefix_suffix'); // "suffix" is reachable at longName + 7
  w.type('int', K.INT, 0, 4, [(1 << 24) | 32]); // 1
  w.type('', K.PTR, 0, 1); // 2
  w.type('', K.ARRAY, 0, 0, [1, 1, 16]); // 3: int[16]
  w.type('flags', K.STRUCT, 3, 8, [w.str('lo'), 1, (4 << 24) | 0, w.str('hi'), 1, (4 << 24) | 4, w.str('rest'), 1, 32], true); // 4: bitfields
  w.type('either', K.UNION, 2, 4, [w.str('i'), 1, 0, w.str('p'), 2, 0]); // 5
  w.type('uenum', K.ENUM, 2, 4, [w.str('U_BIG'), 0xfffffffb, w.str('U_ONE'), 1]); // 6: unsigned enum
  w.type('fwd_s', K.FWD, 0, 0); // 7: struct forward
  w.type(longName + 7, K.TYPEDEF, 0, 1); // 8: typedef int suffix (name points into another string)
  w.type('', K.VOLATILE, 0, 1); // 9
  w.type('', K.CONST, 0, 1); // 10
  w.type('', K.RESTRICT, 0, 2); // 11
  w.type('', K.FUNC_PROTO, 3, 1, [w.str('a'), 1, w.str('b'), 2, 0, 0]); // 12: int (int a, int *b, ...)
  w.type('vfn', K.FUNC, 2, 12); // 13: extern
  w.type('counter', K.VAR, 0, 1, [1]); // 14: global var
  w.type('.data', K.DATASEC, 1, 4, [14, 0, 4]); // 15
  w.type('double', K.FLOAT, 0, 8); // 16
  w.type('tagged', K.DECL_TAG, 0, 4, [-1]); // 17: tag on struct flags
  w.type('user', K.TYPE_TAG, 0, 1); // 18
  w.type('big', K.ENUM64, 3, 8, [w.str('B_MAX'), 0xffffffff, 0xffffffff, w.str('B_HI'), 0, 1, w.str('B_NEG'), 0xfffffffe, 0xffffffff], true); // 19: signed
  w.type('ubig', K.ENUM64, 1, 8, [w.str('UB_MAX'), 0xffffffff, 0xffffffff]); // 20: unsigned
  w.type('fwd_e', K.ENUM, 0, 4); // 21: enum forward declaration...
  w.type('fwd_e', K.ENUM, 1, 4, [w.str('FE_A'), 7]); // 22: ...and its definition
  w.type('static_fn', K.FUNC, 0, 12); // 23: static
  const kinds = ['INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE', 'CONST', 'RESTRICT',
    'FUNC_PROTO', 'FUNC', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64', 'ENUM64', 'ENUM', 'ENUM', 'FUNC'];
  const names = ['int', '', '', 'flags', 'either', 'uenum', 'fwd_s', 'suffix', '', '', '', '', 'vfn', 'counter', '.data',
    'double', 'tagged', 'user', 'big', 'ubig', 'fwd_e', 'fwd_e', 'static_fn'];
  return { blob: w.build(littleEndian), kinds, names };
}

interface ElfSection { name: string; type: number; data: Buffer; align?: number }

/** A minimal relocatable ELF (32 or 64 bit, either byte order) holding the given sections. */
function buildElf(sections: ElfSection[], opts: { is64?: boolean; littleEndian?: boolean } = {}): Buffer {
  const is64 = opts.is64 ?? true;
  const le = opts.littleEndian ?? true;
  const ehSize = is64 ? 64 : 52;
  const shEnt = is64 ? 64 : 40;
  const all: ElfSection[] = [...sections];
  const shstrNames = ['', ...all.map((s) => s.name), '.shstrtab'];
  const shstrtab = Buffer.from(shstrNames.join('\0') + '\0', 'latin1');
  all.push({ name: '.shstrtab', type: 3, data: shstrtab });
  const nameOffs: number[] = [];
  let acc = 0;
  for (const n of shstrNames) { nameOffs.push(acc); acc += Buffer.byteLength(n, 'latin1') + 1; }
  const chunks: Buffer[] = [];
  let pos = ehSize;
  const placed: { off: number; size: number }[] = [];
  for (const s of all) {
    const align = s.align ?? 4;
    const pad = (align - (pos % align)) % align;
    if (pad) chunks.push(Buffer.alloc(pad));
    pos += pad;
    placed.push({ off: pos, size: s.data.length });
    chunks.push(s.data);
    pos += s.data.length;
  }
  const pad = (8 - (pos % 8)) % 8;
  if (pad) chunks.push(Buffer.alloc(pad));
  pos += pad;
  const shoff = pos;
  const shnum = all.length + 1;
  const sh = Buffer.alloc(shnum * shEnt);
  const u16 = (b: Buffer, v: number, o: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const u32 = (b: Buffer, v: number, o: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const u64 = (b: Buffer, v: number, o: number) => (le ? b.writeBigUInt64LE(BigInt(v), o) : b.writeBigUInt64BE(BigInt(v), o));
  all.forEach((s, i) => {
    const o = (i + 1) * shEnt;
    const nameOff = i === all.length - 1 ? nameOffs[nameOffs.length - 1] : nameOffs[i + 1];
    u32(sh, nameOff, o);
    u32(sh, s.type, o + 4);
    if (is64) {
      u64(sh, placed[i].off, o + 24);
      u64(sh, placed[i].size, o + 32);
      u64(sh, s.align ?? 4, o + 48);
    } else {
      u32(sh, placed[i].off, o + 16);
      u32(sh, placed[i].size, o + 20);
      u32(sh, s.align ?? 4, o + 32);
    }
  });
  const eh = Buffer.alloc(ehSize);
  eh.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1], 0);
  u16(eh, 1, 16); // ET_REL
  u16(eh, 247, 18); // EM_BPF
  u32(eh, 1, 20); // EV_CURRENT
  if (is64) {
    u64(eh, shoff, 40);
    u16(eh, ehSize, 52);
    u16(eh, shEnt, 58);
    u16(eh, shnum, 60);
    u16(eh, shnum - 1, 62);
  } else {
    u32(eh, shoff, 32);
    u16(eh, ehSize, 40);
    u16(eh, shEnt, 46);
    u16(eh, shnum, 48);
    u16(eh, shnum - 1, 50);
  }
  return Buffer.concat([eh, ...chunks, sh]);
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectBtfError(fn: () => unknown, label: string, re: RegExp): BtfError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a BtfError to be thrown').to.be.instanceOf(BtfError);
  const err = caught as BtfError;
  expect(err.file).to.equal(label);
  expect(err.message.startsWith(`${label}: `), err.message).to.equal(true);
  expect(err.message, 'one line').to.not.include('\n');
  expect(err.message).to.match(re);
  return err;
}

const bpftool = (() => {
  const r = spawnSync('bpftool', ['version'], { encoding: 'utf8' });
  return r.status === 0;
})();

/** `bpftool -j btf dump file <file>` parsed, or undefined when bpftool is missing. */
function bpftoolDump(file: string, base?: string): { id: number; kind: string; name: string; [k: string]: unknown }[] {
  const args = ['-j', 'btf', 'dump', 'file', file];
  if (base) args.unshift('-B', base);
  const r = spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`bpftool ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout).types;
}

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ebpfperf-btf-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------

describe('btf: hand-built minimal blob', () => {
  for (const le of [true, false]) {
    describe(le ? 'little-endian' : 'big-endian', () => {
      const blob = minimalBlob(le);
      const btf = Btf.fromBuffer(blob, 'mini');

      it('header', () => {
        expect(btf.header).to.deep.equal({
          magic: 0xeb9f, version: 1, flags: 0, hdrLen: 24, typeOff: 0, typeLen: 120, strOff: 120,
          strLen: blob.length - 24 - 120, littleEndian: le,
        });
      });

      it('types, kinds and names', () => {
        expect(btf.typeCount).to.equal(5);
        expect([0, 1, 2, 3, 4, 5].map((i) => btf.kindName(i))).to.deep.equal(['VOID', 'INT', 'STRUCT', 'ENUM', 'FUNC_PROTO', 'FUNC']);
        expect([0, 1, 2, 3, 4, 5].map((i) => btf.nameOf(i))).to.deep.equal(['', 'int', 'pair', 'color', '', 'add_one']);
      });

      it('findFunc', () => {
        expect(btf.findFunc('add_one')).to.deep.equal({
          id: 5, name: 'add_one', linkage: 'global', protoId: 4, params: [{ name: 'x', typeId: 1 }],
        });
        expect(btf.findFunc('int')).to.equal(undefined); // exists, but not a FUNC
        expect(btf.findFunc('x')).to.equal(undefined); // a parameter name, not a type
        expect(btf.findFunc('no_such_fn_xyz')).to.equal(undefined);
      });

      it('findByName', () => {
        expect(btf.findByName('int')).to.deep.equal([1]);
        expect(btf.findByName('pair', 'STRUCT')).to.deep.equal([2]);
        expect(btf.findByName('pair', 'UNION')).to.deep.equal([]);
        expect(btf.findByName('add_one', 'func')).to.deep.equal([5]);
        expect(btf.findByName('a')).to.deep.equal([]); // member names are not types
        expect(btf.findByName('')).to.deep.equal([]);
        expect(btf.findByName('in')).to.deep.equal([]); // prefix of a name
        expect(btf.findByName('nt')).to.deep.equal([]); // suffix: a string, but no type uses that offset
        expect(() => btf.findByName('int', 'BOGUS')).to.throw(TypeError, /unknown BTF kind 'BOGUS'/);
      });

      it('enumValues', () => {
        expect(btf.enumValues('color')).to.deep.equal(new Map([['RED', 1n], ['GREEN', 2n], ['NEG', -5n]]));
        expect(btf.findEnum('color')?.id).to.equal(3);
        expect(btf.enumValues('pair')).to.equal(undefined);
        expect(btf.enumValues('nope')).to.equal(undefined);
      });

      it('structMembers', () => {
        expect(btf.structMembers('pair')).to.deep.equal([
          { name: 'a', typeId: 1, bitsOffset: 0 },
          { name: 'b', typeId: 1, bitsOffset: 32 },
        ]);
        expect(btf.structMembers('int')).to.equal(undefined);
        expect(btf.structMembers('nope')).to.equal(undefined);
      });

      it('rejects out-of-range ids with a BtfError', () => {
        expectBtfError(() => btf.kindName(6), 'mini', /type id 6 is out of range \(0\.\.5\)/);
        expectBtfError(() => btf.nameOf(-1), 'mini', /out of range/);
      });

      it('every truncated prefix is a BtfError saying truncated', () => {
        for (let n = 0; n < blob.length; n++) {
          const cut = Buffer.from(blob.subarray(0, n));
          expectBtfError(() => Btf.fromBuffer(cut, `mini[:${n}]`), `mini[:${n}]`, n === 0 ? /empty/ : /truncated/);
        }
      });
    });
  }

  it('findByName ignores words that only hold the number of a name\'s offset', () => {
    const w = new BtfWriter();
    const target = w.str('target');
    w.type('int', K.INT, 0, 4, [(1 << 24) | 32]); // 1
    w.type('holder', K.STRUCT, 1, target, [w.str('m'), 1, target]); // 2: size and member offset equal target's offset
    w.type('target', K.TYPEDEF, 0, 1); // 3
    w.type('target', K.STRUCT, 0, 0); // 4: same name, another kind
    const btf = Btf.fromBuffer(w.build(), 'collide');
    expect(btf.findByName('target')).to.deep.equal([3, 4]);
    expect(btf.findByName('target', 'STRUCT')).to.deep.equal([4]);
  });

  it('big-endian and little-endian parse to the same result', () => {
    const a = Btf.fromBuffer(minimalBlob(true), 'le');
    const b = Btf.fromBuffer(minimalBlob(false), 'be');
    const view = (x: Btf) => ({
      count: x.typeCount,
      types: Array.from({ length: x.typeCount + 1 }, (_, i) => [x.kindName(i), x.nameOf(i)]),
      fn: x.findFunc('add_one'),
      en: [...(x.enumValues('color') ?? [])],
      st: x.structMembers('pair'),
      hdr: { ...x.header, littleEndian: undefined },
    });
    expect(view(b)).to.deep.equal(view(a));
  });

  it('parses from an unaligned buffer (copy path)', () => {
    const blob = minimalBlob();
    const backing = Buffer.alloc(blob.length + 1);
    blob.copy(backing, 1);
    const btf = Btf.fromBuffer(backing.subarray(1), 'unaligned');
    expect(btf.findFunc('add_one')?.params).to.deep.equal([{ name: 'x', typeId: 1 }]);
  });

  it('bpftool agrees with the hand-built blob', function () {
    if (!bpftool) return this.skip();
    for (const le of [true, false]) {
      const f = path.join(tmp, `mini-${le ? 'le' : 'be'}.btf`);
      fs.writeFileSync(f, minimalBlob(le));
      const types = bpftoolDump(f);
      const btf = Btf.fromFile(f);
      expect(types.map((t) => [t.id, t.kind, t.name])).to.deep.equal(
        [1, 2, 3, 4, 5].map((i) => [i, btf.kindName(i), btf.nameOf(i) || '(anon)']),
      );
    }
  });
});

describe('btf: every kind', () => {
  for (const le of [true, false]) {
    it(`trailing data of every kind (${le ? 'LE' : 'BE'})`, () => {
      const { blob, kinds, names } = allKindsBlob(le);
      const btf = Btf.fromBuffer(blob, 'kinds');
      expect(btf.typeCount).to.equal(kinds.length);
      const ids = kinds.map((_, i) => i + 1);
      expect(ids.map((i) => btf.kindName(i))).to.deep.equal(kinds);
      expect(ids.map((i) => btf.nameOf(i))).to.deep.equal(names);
      // bitfields in a kind_flag struct: the bitfield size is stripped from the offset
      expect(btf.structMembers('flags')).to.deep.equal([
        { name: 'lo', typeId: 1, bitsOffset: 0 },
        { name: 'hi', typeId: 1, bitsOffset: 4 },
        { name: 'rest', typeId: 1, bitsOffset: 32 },
      ]);
      expect(btf.structMembers('either')).to.deep.equal([
        { name: 'i', typeId: 1, bitsOffset: 0 },
        { name: 'p', typeId: 2, bitsOffset: 0 },
      ]);
      expect(btf.enumValues('uenum')).to.deep.equal(new Map([['U_BIG', 4294967291n], ['U_ONE', 1n]]));
      expect(btf.enumValues('big')).to.deep.equal(new Map([['B_MAX', -1n], ['B_HI', 1n << 32n], ['B_NEG', -2n]]));
      expect(btf.enumValues('ubig')).to.deep.equal(new Map([['UB_MAX', 0xffffffffffffffffn]]));
      expect(btf.enumValues('fwd_e')).to.deep.equal(new Map([['FE_A', 7n]])); // definition, not the forward decl
      expect(btf.findByName('fwd_e')).to.deep.equal([21, 22]);
      expect(btf.findByName('suffix', 'TYPEDEF')).to.deep.equal([8]);
      expect(btf.findByName('prefix_suffix')).to.deep.equal([]);
      expect(btf.findFunc('vfn')).to.deep.equal({
        id: 13, name: 'vfn', linkage: 'extern', protoId: 12,
        params: [{ name: 'a', typeId: 1 }, { name: 'b', typeId: 2 }, { name: '', typeId: 0 }],
      });
      expect(btf.findFunc('static_fn')?.linkage).to.equal('static');
    });
  }

  it('bpftool agrees on the every-kind blob', function () {
    if (!bpftool) return this.skip();
    const { blob } = allKindsBlob();
    const f = path.join(tmp, 'kinds.btf');
    fs.writeFileSync(f, blob);
    const btf = Btf.fromFile(f);
    const types = bpftoolDump(f);
    expect(types.map((t) => [t.id, t.kind, t.name])).to.deep.equal(
      Array.from({ length: btf.typeCount }, (_, i) => [i + 1, btf.kindName(i + 1), btf.nameOf(i + 1) || '(anon)']),
    );
  });
});

describe('btf: validation', () => {
  /** Minimal blob with one 32-bit word of the type section replaced. */
  const patchType = (wordIndex: number, value: number): Buffer => {
    const b = minimalBlob();
    b.writeUInt32LE(value >>> 0, 24 + wordIndex * 4);
    return b;
  };

  it('random 4 KB is not BTF', () => {
    const r = rng(42);
    const buf = Buffer.alloc(4096);
    for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(r() * 256);
    if ((buf[0] === 0x9f && buf[1] === 0xeb) || (buf[0] === 0xeb && buf[1] === 0x9f) || buf[0] === 0x7f) buf[0] = 0;
    expectBtfError(() => Btf.fromBuffer(buf, 'random'), 'random', /^random: not BTF: bad magic 0x[0-9a-f]{4} \(expected 0xeb9f\)$/);
  });

  it('unknown kind names the type index and byte offset', () => {
    // Type words: INT 0..3, STRUCT 4..12 (members at 7..9, 10..12), ENUM 13..21, FUNC_PROTO 22..26, FUNC 27..29.
    // Type #2 (the struct) starts at word 4 => byte 24 + 16 = 40; its info word is word 5.
    const b = patchType(5, (25 << 24) | 2);
    expectBtfError(() => Btf.fromBuffer(b, 'x'), 'x', /type #2 at byte 40: unknown kind 25/);
    expectBtfError(() => Btf.fromBuffer(patchType(5, 0), 'x'), 'x', /type #2 at byte 40: unknown kind 0/);
  });

  it('vlen that runs past the type section', () => {
    const b = patchType(5, (K.STRUCT << 24) | 200);
    expectBtfError(() => Btf.fromBuffer(b, 'x'), 'x', /truncated: type #2 at byte 40 \(STRUCT, vlen 200\) ends at byte 2452 but the type section ends at byte 144/);
  });

  it('string offsets outside the string section', () => {
    expectBtfError(() => Btf.fromBuffer(patchType(0, 9999), 'x'), 'x', /type #1 at byte 24: string offset 9999 is outside the string section/);
    // member name of the struct (member 0 name at word 7)
    expectBtfError(() => Btf.fromBuffer(patchType(7, 1 << 20), 'x'), 'x', /type #2 at byte 40: string offset 1048576 is outside/);
    // enum value name (ENUM value 1 name at word 18)
    expectBtfError(() => Btf.fromBuffer(patchType(18, 5000), 'x'), 'x', /type #3 at byte 76: string offset 5000 is outside/);
  });

  it('type ids past the last type', () => {
    // member 1 type (word 11)
    expectBtfError(() => Btf.fromBuffer(patchType(11, 77), 'x'), 'x', /type #2 at byte 40: refers to type id 77 but the last type id is 5/);
    // FUNC_PROTO return type (word 24)
    expectBtfError(() => Btf.fromBuffer(patchType(24, 6), 'x'), 'x', /type #4 at byte 112: refers to type id 6 but the last type id is 5/);
  });

  it('FUNC must point at a FUNC_PROTO', () => {
    // FUNC is type #5 at word 27 (byte 132); its type word is 29
    expectBtfError(() => Btf.fromBuffer(patchType(29, 2), 'x'), 'x', /type #5 at byte 132: FUNC refers to type id 2, a STRUCT, not a FUNC_PROTO/);
  });

  it('header problems', () => {
    const v = minimalBlob();
    v[2] = 2;
    expectBtfError(() => Btf.fromBuffer(v, 'x'), 'x', /unsupported BTF version 2 \(expected 1\)/);
    const h = minimalBlob();
    h.writeUInt32LE(8, 4);
    expectBtfError(() => Btf.fromBuffer(h, 'x'), 'x', /hdr_len 8 is smaller than 24/);
    const t = minimalBlob();
    t.writeUInt32LE(5 * 1024 * 1024, 12);
    expectBtfError(() => Btf.fromBuffer(t, 'x'), 'x', /^x: truncated: type section ends at byte 5242904 but the file has \d+ bytes$/);
    const o = minimalBlob();
    o.writeUInt32LE(100, 16); // string section starts inside the type section
    o.writeUInt32LE(8, 20);
    expectBtfError(() => Btf.fromBuffer(o, 'x'), 'x', /overlaps string section/);
    const s = minimalBlob();
    s[s.length - 1] = 0x41;
    expectBtfError(() => Btf.fromBuffer(s, 'x'), 'x', /last byte .* is not NUL/);
  });

  it('random corruption: parse succeeds or throws BtfError, and a parsed result never throws', () => {
    const r = rng(7);
    const sources = [minimalBlob(), minimalBlob(false), allKindsBlob().blob];
    let parsed = 0;
    for (let round = 0; round < 3000; round++) {
      const b = Buffer.from(sources[round % sources.length]);
      const flips = 1 + Math.floor(r() * 4);
      for (let f = 0; f < flips; f++) {
        const pos = Math.floor(r() * b.length);
        b[pos] = r() < 0.5 ? Math.floor(r() * 256) : b[pos] ^ (1 << Math.floor(r() * 8));
      }
      let btf: Btf | undefined;
      try {
        btf = Btf.fromBuffer(b, 'fuzz');
      } catch (e) {
        expect(e, String(e)).to.be.instanceOf(BtfError);
        continue;
      }
      parsed++;
      for (let id = 0; id <= btf.typeCount; id++) {
        btf.kindName(id);
        const name = btf.nameOf(id);
        if (name) {
          btf.findByName(name);
          btf.findFunc(name);
          btf.enumValues(name);
          btf.structMembers(name);
        }
      }
    }
    expect(parsed).to.be.greaterThan(100);
  });
});

describe('btf: split BTF', () => {
  it('ids and strings continue after the base', function () {
    const baseBlob = minimalBlob();
    const base = Btf.fromBuffer(baseBlob, 'base');
    const strBase = base.header.strLen;
    const w = new BtfWriter(strBase, false);
    const pairOff = (() => { const i = baseBlob.indexOf(Buffer.from('\0pair\0')); return i + 1 - 24 - base.header.typeLen; })();
    w.type('', K.PTR, 0, 2); // 6: struct pair *
    w.type('mod_fn', K.FUNC_PROTO, 0, 0); // 7 (named proto is odd but legal for the parser)
    w.type('', K.FUNC_PROTO, 2, 1, [w.str('p'), 6, pairOff, 1]); // 8: int (struct pair *p, int pair)
    w.type('mod_fn', K.FUNC, 1, 8); // 9
    w.type('add_one', K.FUNC, 0, 4); // 10: same name as a base FUNC, base proto
    const blob = w.build();
    const split = Btf.fromBuffer(blob, 'split', base);
    expect(split.startId).to.equal(6);
    expect(split.typeCount).to.equal(5);
    expect(split.lastId).to.equal(10);
    expect(split.kindName(2)).to.equal('STRUCT');
    expect(split.nameOf(9)).to.equal('mod_fn');
    expect(split.findFunc('mod_fn')).to.deep.equal({
      id: 9, name: 'mod_fn', linkage: 'global', protoId: 8, params: [{ name: 'p', typeId: 6 }, { name: 'pair', typeId: 1 }],
    });
    expect(split.findByName('add_one')).to.deep.equal([5, 10]);
    expect(split.findFunc('add_one')?.id).to.equal(5);
    expect(split.structMembers('pair')?.length).to.equal(2);
    expect(split.findByName('mod_fn')).to.deep.equal([7, 9]);
    // Without its base it does not parse
    expectBtfError(() => Btf.fromBuffer(blob, 'split'), 'split', /string section/);
    if (bpftool) {
      const bf = path.join(tmp, 'base.btf');
      const sf = path.join(tmp, 'split.btf');
      fs.writeFileSync(bf, baseBlob);
      fs.writeFileSync(sf, blob);
      const types = bpftoolDump(sf, bf);
      expect(types.map((t) => [t.id, t.kind, t.name])).to.deep.equal(
        [6, 7, 8, 9, 10].map((i) => [i, split.kindName(i), split.nameOf(i) || '(anon)']),
      );
      expect(Btf.fromFile(sf, Btf.fromFile(bf)).findFunc('mod_fn')?.params.length).to.equal(2);
    } else {
      this.test!.title += ' (bpftool cross-check skipped: bpftool not found)';
    }
  });
});

describe('btf: ELF files', () => {
  const variants = [
    { is64: true, littleEndian: true },
    { is64: true, littleEndian: false },
    { is64: false, littleEndian: true },
    { is64: false, littleEndian: false },
  ];
  for (const v of variants) {
    it(`finds .BTF in an ELF${v.is64 ? 64 : 32} ${v.littleEndian ? 'LE' : 'BE'} file`, () => {
      const elf = buildElf([
        { name: '.text', type: 1, data: Buffer.alloc(16, 0x90) },
        { name: '.BTF.ext', type: 1, data: Buffer.alloc(8) }, // not to be confused with .BTF
        { name: '.BTF', type: 1, data: minimalBlob(v.littleEndian) },
      ], v);
      const f = path.join(tmp, `mini-${v.is64 ? 64 : 32}-${v.littleEndian ? 'le' : 'be'}.o`);
      fs.writeFileSync(f, elf);
      const btf = Btf.fromFile(f);
      expect(btf.header.littleEndian).to.equal(v.littleEndian);
      expect(btf.findFunc('add_one')?.params).to.deep.equal([{ name: 'x', typeId: 1 }]);
      expect(Btf.fromBuffer(elf, 'elf-buf').enumValues('color')?.get('NEG')).to.equal(-5n);
    });
  }

  it('bpftool reads the same .BTF from the test ELF', function () {
    if (!bpftool) return this.skip();
    const f = path.join(tmp, 'bpftool.o');
    fs.writeFileSync(f, buildElf([{ name: '.BTF', type: 1, data: minimalBlob() }]));
    expect(bpftoolDump(f).map((t) => t.name)).to.deep.equal(['int', 'pair', 'color', '(anon)', 'add_one']);
  });

  it('ELF without .BTF → "no .BTF section"', () => {
    const f = path.join(tmp, 'nobtf.o');
    fs.writeFileSync(f, buildElf([{ name: '.text', type: 1, data: Buffer.alloc(16) }, { name: '.BTF.ext', type: 1, data: Buffer.alloc(8) }]));
    expectBtfError(() => Btf.fromFile(f), f, /no \.BTF section/);
  });

  it('a system ELF binary without .BTF → "no .BTF section"', function () {
    const bin = ['/bin/true', '/usr/bin/true'].find((p) => fs.existsSync(p));
    if (!bin) return this.skip();
    const head = fs.readFileSync(bin).subarray(0, 4);
    if (head.toString('latin1') !== '\x7fELF') return this.skip();
    expectBtfError(() => Btf.fromFile(bin), bin, /no \.BTF section/);
  });

  it('truncated ELF files', () => {
    const elf = buildElf([{ name: '.BTF', type: 1, data: minimalBlob() }]);
    for (const n of [10, 40, elf.length - 10]) {
      const f = path.join(tmp, `trunc-${n}.o`);
      fs.writeFileSync(f, elf.subarray(0, n));
      expectBtfError(() => Btf.fromFile(f), f, /truncated/);
      expectBtfError(() => Btf.fromBuffer(elf.subarray(0, n), 'buf'), 'buf', /truncated/);
    }
    // .BTF data cut short while the section headers are intact: point .BTF past the end
    const bad = Buffer.from(elf);
    const shoff = Number(bad.readBigUInt64LE(40));
    const btfSh = shoff + 64; // section 1 is .BTF
    bad.writeBigUInt64LE(BigInt(bad.length), btfSh + 24);
    expectBtfError(() => Btf.fromBuffer(bad, 'buf'), 'buf', /truncated: \.BTF section ends at byte \d+ but the file has \d+ bytes/);
  });

  it('an ELF .BTF section with a broken BTF blob says so', () => {
    const blob = minimalBlob();
    blob.writeUInt32LE(9999, 24);
    const elf = buildElf([{ name: '.BTF', type: 1, data: blob }]);
    expectBtfError(() => Btf.fromBuffer(elf, 'e'), 'e', /type #1 at byte 24 of the \.BTF section \(at file offset \d+\): string offset 9999/);
  });

  it('a real clang-built BPF object, if clang is available', function () {
    const cc = spawnSync('clang', ['--version'], { encoding: 'utf8' });
    if (cc.status !== 0) return this.skip();
    const src = path.join(tmp, 'prog.c');
    const obj = path.join(tmp, 'prog.o');
    fs.writeFileSync(src, [
      'enum colour { C_RED = 1, C_BLUE = -3 };',
      'struct point { int x; int y; unsigned flag : 1; };',
      'int counter;',
      '__attribute__((noinline)) int add(struct point *p, enum colour c) { return p->x + p->y + c + counter; }',
      '__attribute__((section("xdp"), used)) int prog(void *ctx) { struct point p = {1, 2, 0}; return add(&p, C_BLUE); }',
    ].join('\n'));
    const r = spawnSync('clang', ['-O2', '-g', '-target', 'bpf', '-c', src, '-o', obj], { encoding: 'utf8' });
    if (r.status !== 0) return this.skip();
    const btf = Btf.fromFile(obj);
    expect(btf.findFunc('add')?.params.map((p) => p.name)).to.deep.equal(['p', 'c']);
    // clang >= 15 marks signed enums with kind_flag; older clang does not, and (like libbpf/bpftool) we then
    // read the value as unsigned.
    const blue = btf.enumValues('colour')?.get('C_BLUE');
    expect(blue === -3n || blue === 4294967293n, String(blue)).to.equal(true);
    expect(btf.structMembers('point')?.map((m) => [m.name, m.bitsOffset])).to.deep.equal([['x', 0], ['y', 32], ['flag', 64]]);
    if (bpftool) {
      const types = bpftoolDump(obj);
      expect(types.length).to.equal(btf.typeCount);
      expect(types.map((t) => [t.kind, t.name])).to.deep.equal(types.map((t) => [btf.kindName(t.id), btf.nameOf(t.id) || '(anon)']));
    }
  });
});

describe('btf: file errors', () => {
  it('a directory', () => {
    expectBtfError(() => Btf.fromFile(tmp), tmp, /is a directory/);
  });

  it('a missing file', () => {
    const p = path.join(tmp, 'does-not-exist');
    expectBtfError(() => Btf.fromFile(p), p, /^.*: no such file \(check the path\)$/);
  });

  it('an unreadable file (read without the capabilities that let root read anything)', function () {
    const p = path.join(tmp, 'unreadable.btf');
    fs.writeFileSync(p, minimalBlob());
    fs.chmodSync(p, 0o000);
    const mod = new URL('../../src/kernel/btf.ts', import.meta.url).pathname;
    const script = `import('${mod}').then(({Btf}) => { try { Btf.fromFile(${JSON.stringify(p)}) } catch (e) { console.log(e.message) } })`;
    const drop = process.getuid?.() === 0 ? ['setpriv', '--inh-caps=-all', '--bounding-set=-all', '--'] : [];
    const argv = [...drop, process.execPath, '--import', 'tsx', '-e', script];
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    expect(r.stdout.trim()).to.equal(`${p}: permission denied (run as a user who can read it)`);
  });

  it('an empty file', () => {
    const p = path.join(tmp, 'empty.btf');
    fs.writeFileSync(p, '');
    expectBtfError(() => Btf.fromFile(p), p, /not BTF: file is empty/);
  });
});

describe('btf: vmlinux search list', () => {
  it("matches libbpf's list", () => {
    expect(VMLINUX_BTF_PATHS('6.1.0-x')).to.deep.equal([
      '/sys/kernel/btf/vmlinux',
      '/boot/vmlinux-6.1.0-x',
      '/lib/modules/6.1.0-x/vmlinux-6.1.0-x',
      '/lib/modules/6.1.0-x/build/vmlinux',
      '/usr/lib/modules/6.1.0-x/kernel/vmlinux',
      '/usr/lib/debug/boot/vmlinux-6.1.0-x',
      '/usr/lib/debug/boot/vmlinux-6.1.0-x.debug',
      '/usr/lib/debug/lib/modules/6.1.0-x/vmlinux',
    ]);
  });

  it('an explicit path is the only candidate, and one that is not a regular file is refused', () => {
    const missing = path.join(tmp, 'nope');
    expect(() => findVmlinuxBtf(missing)).to.throw(BtfError, /nope: no such file/);
    const f = path.join(tmp, 'explicit.btf');
    fs.writeFileSync(f, minimalBlob());
    expect(findVmlinuxBtf(f)).to.deep.equal({ path: f, tried: [f] });
    expect(() => findVmlinuxBtf(tmp)).to.throw(BtfError, /is a directory, not a regular file/);
    expect(() => findVmlinuxBtf('/dev/zero')).to.throw(BtfError, /is a character device/);
  });

  it('the default search finds sysfs first', function () {
    if (!fs.existsSync(VMLINUX)) {
      this.test!.title += ` (skipped: ${VMLINUX} missing)`;
      return this.skip();
    }
    expect(findVmlinuxBtf(undefined, 'no-such-release')).to.deep.equal({ path: VMLINUX, tried: [VMLINUX] });
  });

  it('reports every path tried when nothing is found', function () {
    const r = findVmlinuxBtf(undefined, 'no-such-release');
    if (r.path === VMLINUX) {
      console.log(`      skipped: ${VMLINUX} exists here, so the search stops at it (covered above)`);
      return this.skip();
    }
    expect(r.tried).to.deep.equal(VMLINUX_BTF_PATHS('no-such-release'));
  });
});

describe('btf: live /sys/kernel/btf/vmlinux', function () {
  let btf: Btf;
  let raw: Buffer;

  before(function () {
    if (!fs.existsSync(VMLINUX)) {
      console.log(`      (skipping live vmlinux tests: ${VMLINUX} does not exist on this machine)`);
      return this.skip();
    }
    try {
      raw = fs.readFileSync(VMLINUX);
    } catch (e) {
      console.log(`      (skipping live vmlinux tests: cannot read ${VMLINUX}: ${(e as Error).message})`);
      return this.skip();
    }
    btf = Btf.fromFile(VMLINUX);
  });

  it('typeCount matches the last id bpftool reports, and every kind and name agrees', function () {
    if (!bpftool) {
      console.log('      (bpftool not found: skipping the type-count cross-check)');
      return this.skip();
    }
    const types = bpftoolDump(VMLINUX);
    expect(btf.typeCount).to.equal(types[types.length - 1].id);
    expect(types.length).to.equal(btf.typeCount);
    for (const t of types) {
      if (btf.kindName(t.id) !== t.kind || (btf.nameOf(t.id) || '(anon)') !== t.name) {
        expect([t.id, btf.kindName(t.id), btf.nameOf(t.id) || '(anon)']).to.deep.equal([t.id, t.kind, t.name]);
      }
    }
    // Enum values agree for the enums doctor relies on
    for (const name of ['bpf_func_id', 'bpf_prog_type', 'bpf_map_type', 'bpf_attach_type']) {
      const t = types.find((x) => x.name === name && (x.kind === 'ENUM' || x.kind === 'ENUM64'));
      expect(t, name).to.not.equal(undefined);
      const vals = (t as unknown as { values: { name: string; val: number | string }[] }).values;
      expect([...(btf.enumValues(name) ?? [])]).to.deep.equal(vals.map((v) => [v.name, BigInt(v.val)]));
    }
  });

  it('findFunc', () => {
    const f = btf.findFunc('udp_recvmsg');
    expect(f).to.not.equal(undefined);
    expect(f!.name).to.equal('udp_recvmsg');
    expect(btf.kindName(f!.id)).to.equal('FUNC');
    expect(btf.kindName(f!.protoId)).to.equal('FUNC_PROTO');
    expect(f!.params.length).to.be.greaterThan(0);
    expect(f!.params[0].name).to.equal('sk');
    expect(btf.findFunc('no_such_fn_xyz')).to.equal(undefined);
  });

  it('name lookups agree whether answered by scanning (the first few) or by the index', () => {
    const names = ['udp_recvmsg', 'task_struct', 'sk_buff', 'int', 'bpf_attach_type', 'no_such_name_xyz', 'u32', 'xdp_md']
    for (let id = 1; id <= btf.typeCount; id += 9973) if (btf.nameOf(id)) names.push(btf.nameOf(id))
    const scanned = Btf.fromFile(VMLINUX)
    const indexed = Btf.fromFile(VMLINUX)
    for (let i = 0; i < 8; i++) indexed.findByName(`warm_up_${i}`) // uses up the scans: what follows is indexed
    for (const name of names.slice(0, 8)) expect(scanned.findByName(name), name).to.deep.equal(indexed.findByName(name))
    expect(scanned.findByName('udp_recvmsg', 'FUNC')).to.have.length(1)
    for (const name of names) expect(scanned.findByName(name), name).to.deep.equal(indexed.findByName(name))
  });

  it('trusted (the running kernel\'s own BTF): same types and answers; a truncated copy still fails', () => {
    const raw = fs.readFileSync(VMLINUX)
    const t = Btf.fromBuffer(raw, VMLINUX, undefined, { trusted: true })
    expect(t.typeCount).to.equal(btf.typeCount)
    for (const name of ['udp_recvmsg', 'task_struct', 'xdp_md']) expect(t.findByName(name), name).to.deep.equal(btf.findByName(name))
    expect(t.findFunc('udp_recvmsg')).to.deep.equal(btf.findFunc('udp_recvmsg'))
    expect(() => Btf.fromBuffer(raw.subarray(0, raw.length >> 1), 'half', undefined, { trusted: true })).to.throw(BtfError, /truncated/)
  });

  it('enums', () => {
    expect(btf.enumValues('bpf_func_id')?.get('BPF_FUNC_map_lookup_elem')).to.equal(1n);
    const attach = btf.enumValues('bpf_attach_type');
    expect(attach?.get('BPF_TCX_INGRESS')).to.equal(46n);
    expect(attach?.get('BPF_TRACE_UPROBE_MULTI')).to.equal(48n);
    expect(btf.enumValues('bpf_prog_type')?.get('BPF_PROG_TYPE_XDP')).to.equal(6n);
    expect(btf.enumValues('bpf_map_type')?.get('BPF_MAP_TYPE_HASH')).to.equal(1n);
  });

  it('structMembers', () => {
    const m = btf.structMembers('task_struct');
    expect(m).to.not.equal(undefined);
    expect(m!.length).to.be.greaterThan(10);
    expect(m!.some((x) => x.name === 'pid')).to.equal(true);
  });

  it('truncated copies → BtfError "truncated"', () => {
    const { hdrLen, typeOff, typeLen, strOff, strLen } = btf.header;
    const cuts: [string, number][] = [
      ['10 bytes', 10],
      ['middle of the header', 12],
      ['middle of the type section', hdrLen + typeOff + Math.floor(typeLen / 2)],
      ['just before the end of the string section', hdrLen + strOff + strLen - 1],
    ];
    for (const [what, n] of cuts) {
      const label = `vmlinux cut at ${n} (${what})`;
      expectBtfError(() => Btf.fromBuffer(raw.subarray(0, n), label), label, /truncated/);
    }
    const mid = hdrLen + typeOff + Math.floor(typeLen / 2);
    expectBtfError(() => Btf.fromBuffer(raw.subarray(0, mid), 'v'), 'v',
      new RegExp(`^v: truncated: type section ends at byte ${hdrLen + typeOff + typeLen} but the file has ${mid} bytes$`));
    // and through a file on disk
    const f = path.join(tmp, 'vmlinux-truncated');
    fs.writeFileSync(f, raw.subarray(0, 4096));
    expectBtfError(() => Btf.fromFile(f), f, /truncated: type section ends at byte \d+ but the file has 4096 bytes/);
  });

  it('a vmlinux-like ELF with the live BTF as .BTF', () => {
    const f = path.join(tmp, 'vmlinux.elf');
    fs.writeFileSync(f, buildElf([{ name: '.text', type: 1, data: Buffer.alloc(64) }, { name: '.BTF', type: 1, data: raw }]));
    const e = Btf.fromFile(f);
    expect(e.typeCount).to.equal(btf.typeCount);
    expect(e.findFunc('udp_recvmsg')).to.deep.equal(btf.findFunc('udp_recvmsg'));
  });

  it('parses quickly', () => {
    const t0 = performance.now();
    const b = Btf.fromFile(VMLINUX);
    const t1 = performance.now();
    b.findFunc('udp_recvmsg');
    const t2 = performance.now();
    console.log(`      parse ${(t1 - t0).toFixed(1)} ms, first lookup (builds the name index) ${(t2 - t1).toFixed(1)} ms, ${b.typeCount} types`);
    expect(t1 - t0).to.be.lessThan(200);
  });
});
