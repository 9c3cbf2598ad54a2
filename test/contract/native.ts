// The contract of the Native interface (src/native.ts) that the rest of ebpfperf relies on, as mocha tests
// run against any implementation: the fake of test/fakes/native.ts (test/unit/native-fake.test.ts, anywhere)
// and the real addon (test/integration/native-contract.test.ts). `kernel`: also the parts that load programs
// and run them (the real addon needs root for those).
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Native, NativeError, ProbeResult} from '../../src/native.js'
import {tempDir} from '../support/tmp.js'

const XDP = 6

export interface ContractOptions {
  /** Where the built objects are (bpf/.output), or where the fake pretends they are. */
  objects: string
  kernel: boolean
}

function wellFormed(r: ProbeResult): void {
  expect(r.ok).to.be.a('boolean')
  expect(['ok', 'setup', 'load', 'attach']).to.include(r.stage)
  expect(r.stage === 'ok').to.equal(r.ok)
  expect(r.errno === 0).to.equal(r.ok)
  expect(r.code === '').to.equal(r.ok)
  expect(r.message).to.be.a('string').and.not.equal('')
}

function nativeErrorOf(fn: () => unknown): NativeError {
  try {
    fn()
  } catch (error) {
    return error as NativeError
  }
  throw new Error('no error was thrown')
}

export function nativeContract(make: () => Native, opts: ContractOptions): void {
  const baseline = join(opts.objects, 'micro_baseline.bpf.o')
  let native: Native
  before(() => {
    native = make()
  })

  it('libbpfVersion is major.minor', () => {
    expect(native.libbpfVersion()).to.match(/^\d+\.\d+$/)
  })

  it('probes answer a well-formed result, synchronously and through probeAsync', async () => {
    wellFormed(native.probeProgType(XDP))
    wellFormed(native.probeMapType(1))
    wellFormed(await native.probeAsync({op: 'prog', type: XDP}))
  })

  it('an object lists its programs and maps; fds exist only after load', () => {
    const h = native.objectOpen(baseline)
    try {
      const [prog] = native.objectPrograms(h)
      expect(prog).to.deep.include({name: 'micro_baseline', section: 'xdp', type: XDP, typeName: 'BPF_PROG_TYPE_XDP', autoload: true})
      for (const m of native.objectMaps(h)) expect(m.fd).to.equal(-1)
      expect(nativeErrorOf(() => native.objectProgFd(h, 'micro_baseline'))).to.include({code: 'EBADF', errno: 9})
      expect(nativeErrorOf(() => native.objectProgFd(h, 'no_such_program'))).to.include({code: 'ENOENT', errno: 2})
      native.objectSetAutoload(h, 'micro_baseline', false)
      expect(native.objectPrograms(h)[0].autoload).to.equal(false)
    } finally {
      native.objectClose(h)
    }
    expect(() => native.objectPrograms(h)).to.throw(TypeError, /unknown or closed object handle/)
  })

  it('a missing file is ENOENT; a file that is not a BPF object is an errno error too', () => {
    expect(nativeErrorOf(() => native.objectOpen(join(opts.objects, 'no_such_object.bpf.o')))).to.include({code: 'ENOENT', errno: 2})
    const dir = tempDir('contract')
    const text = join(dir, 'not-bpf.o')
    writeFileSync(text, 'not an ELF file\n')
    const e = nativeErrorOf(() => native.objectOpen(text))
    expect(e.errno).to.be.a('number').above(0)
    expect(e.code).to.match(/^E[A-Z0-9]+$/)
  })

  it('bad arguments are TypeErrors', () => {
    expect(() => native.objectPrograms(987654)).to.throw(TypeError)
    expect(() => native.objectOpen(42 as unknown as string)).to.throw(TypeError)
  })

  if (!opts.kernel) return

  it('a loaded program runs: samples, return value, and the bpf_stats proof counts exactly the runs asked for', async () => {
    const h = native.objectOpen(baseline)
    try {
      native.objectLoad(h)
      const fd = native.objectProgFd(h, 'micro_baseline')
      expect(fd).to.be.above(0)
      const r = await native.testRunAsync({progFd: fd, data: Buffer.alloc(64), cpus: [0], samples: 2, repeat: 100, stats: 'proof'})
      expect(r.mode).to.equal('repeat')
      expect(r.cpus).to.have.length(1)
      const [cpu] = r.cpus
      expect(cpu.samples).to.have.length(2)
      for (const s of cpu.samples) expect(s).to.include({repeat: 100, retval: 0})
      expect(cpu.proof?.runCnt).to.equal(cpu.proof?.repeat)
      expect(native.progInfo(fd).runCnt).to.be.a('number')
    } finally {
      native.objectClose(h)
    }
  })
}
