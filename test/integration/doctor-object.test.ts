// `ebpfperf doctor --object` as a user runs it, on this kernel: the verifier's verdict per program, the
// rejected program's last verifier lines, an attach per tracing program, exit codes and bad input.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {DoctorReport} from '../../src/doctor/index.js'
import {nativeAvailable} from '../../src/native.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const tracing = join(root, 'bpf/.output/tracing.bpf.o')

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}, timeout: 120_000})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

describe('ebpfperf doctor --object (built CLI, real kernel)', function () {
  this.timeout(120_000)
  let fixture: string
  before(function () {
    if (process.getuid?.() !== 0 || !nativeAvailable().ok || !existsSync(tracing)) {
      console.log('      skipped: needs root, the native addon and bpf/.output (npm run build)')
      this.skip()
    }
    fixture = join(tempDir('doctor-object-cli'), 'doctor-object.bpf.o')
    const r = spawnSync('clang', ['-g', '-O2', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(root, 'test/fixtures/object/doctor-object.bpf.c'), '-o', fixture], {encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`clang: ${r.stderr}`)
  })

  it('a verifier-rejected program: exit 1, its verifier lines and the cause; the good ones load with a count', () => {
    const r = cli(['doctor', '--object', fixture, '--json'])
    expect(r.code, r.stderr).to.equal(1)
    const rep = JSON.parse(r.stdout) as DoctorReport
    const progs = Object.fromEntries(rep.objects![0].programs.map((p) => [p.name, p]))
    expect(progs.good_xdp.live!.loaded).to.equal(true)
    expect(progs.good_xdp.live!.insns).to.be.greaterThan(0)
    expect(progs.rejected_xdp.live!.loaded).to.equal(false)
    expect(progs.rejected_xdp.live!.code).to.equal('EACCES')
    expect(progs.rejected_xdp.live!.log!.join('\n')).to.match(/invalid mem access 'map_value_or_null'/)
    expect(progs.core_pid.live).to.include({loaded: true, attached: true})
    expect(progs.core_missing.live!.loaded).to.equal(false)
    const verdict = rep.verdicts.find((v) => v.profile === 'object:doctor-object.bpf.o')!
    expect(verdict.verdict).to.equal('cannot-run')
    expect(verdict.text).to.match(/2 of 4 programs load/)
    expect(verdict.blockers.map((b) => b.check).sort()).to.deep.equal(['core_missing', 'rejected_xdp'])
    // the human view shows the verifier's own words
    const text = cli(['doctor', '--object', fixture, '--program', 'rejected_xdp'])
    expect(text.stdout).to.match(/\| R0 invalid mem access 'map_value_or_null'/)
    expect(text.stdout).to.match(/your object doctor-object\.bpf\.o: 0 of 1 programs/)
  })

  it('the tracing object: raw_tp and uprobe load and attach; every refusal has its errno and a cause', () => {
    const r = cli(['doctor', '--object', tracing, '--json'])
    const rep = JSON.parse(r.stdout) as DoctorReport
    const progs = rep.objects![0].programs
    expect(progs).to.have.length(18)
    for (const name of ['trc_null_rawtp', 'trc_map_rawtp', 'trc_null_uprobe']) expect(progs.find((p) => p.name === name)!.live, name).to.include({loaded: true, attached: true})
    expect(r.code).to.equal(progs.some((p) => p.status === 'fail') ? 1 : 0)
    for (const p of progs.filter((x) => x.status === 'fail')) {
      expect(p.because, p.name).to.match(/^(load|attach) E[A-Z]+: ./)
      const f = rep.findings.find((x) => x.id.startsWith(`${p.name}.`) && x.status === 'fail')!
      expect(f.fixes.length, p.name).to.be.greaterThan(0)
    }
    const fentry = progs.find((p) => p.name === 'trc_null_fentry')!
    if (!fentry.live!.loaded && fentry.live!.code === 'EPERM') {
      const fix = rep.findings.find((x) => x.id === 'trc_null_fentry.load')!.fixes[0].text
      expect(fix).to.match(/refuses BPF trampoline programs/)
      expect(fix).to.match(/lockdown "\w+"|lockdown unknown/)
      expect(fix).to.match(/capabilities held: /)
    }
  })

  it('--no-live judges the object offline against --btf, without root-only steps', () => {
    const r = cli(['doctor', '--object', fixture, '--no-live', '--btf', '/sys/kernel/btf/vmlinux', '--json'])
    const rep = JSON.parse(r.stdout) as DoctorReport
    expect(rep.objects![0].programs.every((p) => p.live === undefined)).to.equal(true)
    expect(rep.findings.find((f) => f.id === 'core_missing.core')!.status).to.equal('fail')
    expect(rep.findings.find((f) => f.id === 'core_pid.core')!.status).to.equal('pass')
    expect(r.code).to.equal(1)
  })

  it('bad input: a non-BPF file or an unknown program is one line and exit 2', () => {
    const dir = tempDir('doctor-object-bad')
    const notes = join(dir, 'notes.txt')
    writeFileSync(notes, 'not an object\n')
    const a = cli(['doctor', '--object', notes])
    expect(a.code).to.equal(2)
    expect(a.stderr.trim().split('\n')).to.have.length(1)
    expect(a.stderr).to.match(/not an ELF file/)
    const b = cli(['doctor', '--object', fixture, '--program', 'nope'])
    expect(b.code).to.equal(2)
    expect(b.stderr).to.match(/--program nope: no such program/)
  })
})
