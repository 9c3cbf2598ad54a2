// The suites' object layer against the real kernel: open, load, fds, stats, maps, errors with errno.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'

import {join} from 'node:path'
import {BpfObject, loadNative, type NativeError} from '../../src/native.js'
import {PROG_TYPES} from '../../src/kernel/uapi.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const baseline = join(root, 'bpf/.output/baseline.bpf.o')

describe('native: BPF objects, program stats, maps', function () {
  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: loading programs needs root')
      this.skip()
    }
  })

  it('opens the built baseline object, lists its programs, loads only the chosen one', () => {
    const obj = BpfObject.open(baseline)
    try {
      const progs = obj.programs()
      expect(progs.map((p) => p.name)).to.have.members(['xdp_baseline', 'tc_baseline', 'raw_tp_baseline'])
      expect(progs.find((p) => p.name === 'xdp_baseline')!.type).to.equal(PROG_TYPES.xdp)
      obj.only(['xdp_baseline']).load()
      const fd = obj.progFd('xdp_baseline')
      expect(fd).to.be.greaterThan(2)
      const info = loadNative().progInfo(fd)
      expect(info).to.include({name: 'xdp_baseline', type: PROG_TYPES.xdp, jited: true})
      expect(() => obj.progFd('tc_baseline')).to.throw(/not loaded/).with.property('code', 'EBADF')
      expect(() => obj.progFd('nope')).to.throw(/no program named nope/).with.property('code', 'ENOENT')
    } finally {
      obj.close()
    }
  })

  it('a file that is not BPF ELF is an error with errno and code', () => {
    const f = join(tempDir('obj'), 'x.o')
    writeFileSync(f, 'not an ELF file at all')
    let err: NativeError | undefined
    try {
      BpfObject.open(f)
    } catch (e) {
      err = e as NativeError
    }
    expect(err?.message).to.match(/x\.o: cannot open as a BPF object/)
    expect(err?.errno).to.be.a('number').and.greaterThan(0)
    expect(err?.code).to.match(/^E/)
  })

  it('enableStats hands back an fd without touching the sysctl; progInfo reads the counters', () => {
    const n = loadNative()
    const before = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8')
    const obj = BpfObject.open(baseline).only(['raw_tp_baseline']).load()
    const statsFd = n.enableStats()
    try {
      expect(statsFd).to.be.greaterThan(2)
      expect(readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8')).to.equal(before)
      // loaded but never attached: it has not run
      expect(n.progInfo(obj.progFd('raw_tp_baseline'))).to.include({runCnt: 0, runTimeNs: 0})
    } finally {
      n.closeFd(statsFd)
      obj.close()
    }
  })

  it('map lookup and update on a real map', () => {
    const n = loadNative()
    // a throwaway object with one hash map, built here by clang
    const src = join(tempDir('map'), 'm.bpf.c')
    writeFileSync(src, '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nstruct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");\nSEC("xdp") int x(struct xdp_md *c) { return XDP_PASS; }\nchar LICENSE[] SEC("license") = "GPL";\n')
    const obj = src.replace(/\.c$/, '.o')
    const cc = spawnClang(src, obj)
    expect(cc, 'clang').to.equal(0)
    const o = BpfObject.open(obj).load()
    try {
      const fd = o.mapFd('counts')
      const key = Buffer.alloc(4)
      expect(n.mapLookup(fd, key, 8)).to.equal(null)
      const v = Buffer.alloc(8)
      v.writeBigUInt64LE(42n)
      n.mapUpdate(fd, key, v)
      expect(n.mapLookup(fd, key, 8)!.readBigUInt64LE()).to.equal(42n)
      expect(o.maps()[0]).to.include({name: 'counts', keySize: 4, valueSize: 8, maxEntries: 4})
      expect(n.numPossibleCpus()).to.be.greaterThan(0)
    } finally {
      o.close()
    }
  })
})

function spawnClang(src: string, out: string): number | null {
  return spawnSync('clang', ['-g', '-O2', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', src, '-o', out]).status
}
