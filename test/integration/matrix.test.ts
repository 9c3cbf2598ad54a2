// ebpfperf matrix over real kernels: this host and two Debian kernels booted under QEMU (6.1 cloud and 6.12
// cloud, fetched once with apt-get download into the kernel cache), the tracing object and a test object with a
// program the verifier rejects. Guests are functional checks: nothing here looks at timings. The CLI runs with
// its own TMPDIR so that its QEMU processes and temporary folders can be told from anyone else's.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Matrix, MatrixRow} from '../../src/matrix/table.js'
import {nativeAvailable} from '../../src/native.js'
import {resolveKernel} from '../../src/vm/kernel.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const tracing = join(root, 'bpf/.output/tracing.bpf.o')
const GUESTS = [process.env.EBPFPERF_TEST_KERNEL ?? 'linux-image-cloud-amd64', process.env.EBPFPERF_TEST_KERNEL_612 ?? 'linux-image-6.12-cloud-amd64']
const LABELS = ['host', ...GUESTS.map((g) => g.replace(/^linux-image-/, ''))]

describe('ebpfperf matrix (host + guest kernels under QEMU)', function () {
  // two guests at once under software emulation took ~40 s each on this busy 2-vCPU machine: a hang guard only
  this.timeout(360_000)
  let fixture: string
  let tmp: string

  before(async function () {
    const why = process.getuid?.() !== 0 ? 'needs root (virtiofsd shares the host\'s /, live probes)'
      : !existsSync('/usr/bin/qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)'
      : !nativeAvailable().ok || !existsSync(tracing) ? 'needs the native addon and bpf/.output (npm run build)'
      : undefined
    if (why) {
      console.log(`      skipped: ${why}`)
      return this.skip()
    }
    // the kernels are fetched here, once (cached afterwards); only that may skip the tests
    for (const k of GUESTS) {
      try {
        await resolveKernel(k)
      } catch (error) {
        console.log(`      skipped: the kernel package ${k} cannot be fetched: ${(error as Error).message}`)
        return this.skip()
      }
    }
    fixture = join(tempDir('matrix-obj'), 'doctor-object.bpf.o')
    const cc = spawnSync('clang', ['-g', '-O2', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(root, 'test/fixtures/object/doctor-object.bpf.c'), '-o', fixture], {encoding: 'utf8'})
    if (cc.status !== 0) throw new Error(`clang: ${cc.stderr}`)
  })

  beforeEach(() => {
    tmp = join(tempDir('matrix'), 'tmp')
    mkdirSync(tmp)
  })

  afterEach(function () {
    if (this.currentTest?.isPending()) return
    expect(spawnSync('pgrep', ['-af', tmp], {encoding: 'utf8'}).stdout.trim(), 'a QEMU or virtiofsd was left behind').to.equal('')
    expect(readdirSync(tmp), 'a temporary folder was left behind').to.deep.equal([])
  })

  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [bin, 'matrix', ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1', TMPDIR: tmp}, timeout: 340_000})
    return {code: r.status, stdout: r.stdout, stderr: r.stderr}
  }

  it('one table: kprobe attaches and fentry loads in the guests, not on this host; differences first; the rejected program\'s verifier lines on every kernel', () => {
    const r = cli(['--kernel', 'host', ...GUESTS.flatMap((g) => ['--kernel', g]), '--object', tracing, '--object', fixture, '--json'])
    expect(r.code, r.stderr).to.equal(1)
    const m = JSON.parse(r.stdout) as Matrix
    expect(m.columns.map((c) => c.label)).to.deep.equal(LABELS)
    expect(m.columns.every((c) => c.kernel && !c.error), JSON.stringify(m.columns.map((c) => c.error))).to.equal(true)
    expect(new Set(m.columns.map((c) => c.kernel)).size).to.equal(3) // three kernels really judged
    expect(m.columns.slice(1).every((c) => c.vm?.kernel.release === c.kernel)).to.equal(true)
    const row = (key: string): MatrixRow => m.rows.find((x) => x.key === key)!
    const cell = (key: string, label: string) => row(key).cells[label]
    const firstSame = m.rows.findIndex((x) => !x.differs)
    expect(m.rows.slice(firstSame).every((x) => !x.differs), 'differences first').to.equal(true)
    for (const p of ['trc_null_kprobe', 'trc_map_kretp', 'trc_null_fentry', 'trc_map_fexit']) {
      const key = `program:tracing.bpf.o/${p}`
      for (const g of LABELS.slice(1)) expect(cell(key, g).status, `${p} in ${g}: ${cell(key, g).reason}`).to.equal('pass')
      expect(m.rows.indexOf(row(key))).to.be.lessThan(firstSame)
    }
    if (existsSync('/sys/bus/event_source/devices/kprobe')) console.log('      note: this host has a kprobe PMU: the host column is not asserted')
    else {
      expect(cell('program:tracing.bpf.o/trc_null_kprobe', 'host').reason).to.match(/^attach ENOENT: this kernel has no kprobe PMU/)
      expect(cell('program:tracing.bpf.o/trc_null_fentry', 'host').reason).to.match(/^load EPERM/)
    }
    const rejected = row('program:doctor-object.bpf.o/rejected_xdp')
    for (const l of LABELS) {
      expect(rejected.cells[l].status, l).to.equal('fail')
      expect(rejected.cells[l].log?.join('\n'), l).to.match(/invalid mem access 'map_value_or_null'/)
    }
    expect(cell('program:doctor-object.bpf.o/good_xdp', LABELS[2]).status).to.equal('pass')
  })

  it('a guest that cannot run and one that runs out of time: their columns say why, the others still report (exit 1); nothing judged is exit 2', () => {
    const notKernel = join(tmp, '..', 'not-a-kernel')
    writeFileSync(notKernel, 'plain text\n')
    const r = cli(['--kernel', 'host', '--kernel', `cloud=${GUESTS[0]}`, '--kernel', `broken=${notKernel}`, '--object', fixture])
    expect(r.code, r.stderr).to.equal(1)
    expect(r.stdout).to.match(/^check\s+host\s+cloud\s+broken\s*$/m)
    expect(r.stdout).to.match(/doctor-object\.bpf\.o: good_xdp\s+pass\s+pass\s+NO-KERNEL/)
    // the verifier's last lines under each kernel's name (kernels whose logs are identical share one block)
    const section = r.stdout.split('verifier rejected doctor-object.bpf.o: rejected_xdp:\n')[1]?.split(/\n(?! )/)[0] ?? ''
    const blocks = section.split(/\n(?= {2}on )/).map((b) => ({on: /^ {2}on (.*):/.exec(b)?.[1].split(', ') ?? [], text: b}))
    for (const l of ['host', 'cloud']) expect(blocks.find((b) => b.on.includes(l))?.text, `${l} in:\n${section}`).to.match(/\n {4}\| .*invalid mem access 'map_value_or_null'/)
    expect(r.stdout).to.match(/broken: not judged: no-kernel: --kernel .*not-a-kernel: not an x86 bzImage/)
    const slow = cli(['--kernel', GUESTS[0], '--object', fixture, '--timeout', '2'])
    expect(slow.code, slow.stderr).to.equal(2)
    expect(slow.stderr).to.match(/not judged: timeout: the guest did not finish within 2 s/)
  })

  it('bad input before any guest boots: not a BPF object, a program not in it (one line, exit 2)', () => {
    const notElf = join(tmp, '..', 'x.bpf.o')
    writeFileSync(notElf, 'not elf')
    for (const args of [['--object', notElf], ['--object', fixture, '--program', 'no_such_prog']]) {
      const r = cli(['--kernel', GUESTS[0], ...args])
      expect(r.code, r.stderr).to.equal(2)
      expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1)
      expect(r.stderr).not.to.match(/booting/)
    }
  })
})
