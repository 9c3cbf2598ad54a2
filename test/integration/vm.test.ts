// ebpfperf vm against a real guest: Debian's cloud kernel (kprobes on, fprobe off) under QEMU, booted a few
// times (the package is downloaded once into /var/cache/ebpfperf/kernels and reused). Guest runs are
// functional checks: nothing here looks at timings. After every test: no QEMU, no virtiofsd, no temp folder.
import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {DoctorReport} from '../../src/doctor/index.js'
import type {VmLabel} from '../../src/vm/index.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const KERNEL = process.env.EBPFPERF_TEST_KERNEL ?? 'linux-image-cloud-amd64'

function cli(args: string[], opts: {env?: NodeJS.ProcessEnv; cwd?: string} = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1', ...opts.env}, cwd: opts.cwd ?? root, timeout: 280_000})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

const pgrep = (args: string[]) => spawnSync('pgrep', args, {encoding: 'utf8'}).stdout.trim()
/** Running QEMU processes, polled for up to 5 s: one killed as the CLI exits is a zombie until init reaps it. */
function qemuLeft(): string {
  const running = () => spawnSync('ps', ['-eo', 'pid=,stat=,comm='], {encoding: 'utf8'}).stdout.split('\n').filter((l) => /^\s*\d+\s+[^Z\s]\S*\s+qemu-system/.test(l)).join('\n')
  const until = Date.now() + 5000
  while (running() && Date.now() < until) spawnSync('sleep', ['0.1'])
  return running()
}
const vmTemps = () => readdirSync(tmpdir()).filter((n) => n.startsWith('ebpfperf-vm-'))
const probe = (r: DoctorReport, what: string) => r.findings.flatMap((f) => f.evidence).find((e) => e.what === what)

describe('ebpfperf vm (boots a guest kernel under QEMU)', function () {
  // a guest under software emulation (TCG) boots and runs a suite in about a minute on a busy 2-core
  // machine; this is a hang guard, not a speed target (cli() itself gives up after 280 s)
  this.timeout(300_000)
  let tempsBefore: string[]

  before(function () {
    const why = process.getuid?.() !== 0 ? 'needs root (virtiofsd shares the host\'s /)'
      : !existsSync('/usr/bin/qemu-system-x86_64') ? 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)'
      : spawnSync('apt-cache', ['show', '--no-all-versions', KERNEL]).status !== 0 ? `${KERNEL} is not in the apt index`
      : undefined
    if (why) {
      console.log(`      skipped: ${why}`)
      this.skip()
    }
    tempsBefore = vmTemps()
  })

  afterEach(function () {
    if (this.currentTest?.isPending()) return
    expect(qemuLeft(), 'a QEMU process was left behind').to.equal('')
    expect(pgrep(['-a', '-x', 'virtiofsd']), 'a virtiofsd process was left behind').to.equal('')
    expect(vmTemps().filter((t) => !tempsBefore.includes(t)), 'a temporary folder was left behind').to.deep.equal([])
  })

  it('vm doctor: kprobe and kretprobe attach in the guest where the host cannot; the document is labelled with the guest kernel', () => {
    const host = JSON.parse(cli(['doctor', '--json']).stdout) as DoctorReport
    const r = cli(['vm', 'doctor', '--kernel', KERNEL, '--json'])
    expect([0, 1], r.stderr).to.include(r.code)
    const guest = JSON.parse(r.stdout) as DoctorReport & {vm: VmLabel}
    expect(guest.schema).to.equal('ebpfperf/doctor/v1')
    expect(guest.kernel.release).to.equal(guest.vm.kernel.release) // the probes really ran in the guest
    expect(guest.kernel.release).not.to.equal(host.kernel.release)
    expect(guest.vm.emulated).to.equal(guest.vm.accel === 'tcg')
    if (guest.vm.emulated) expect(r.stderr).to.include('not comparable with the host')
    expect(guest.config.path).to.equal(guest.vm.kernel.config) // --kconfig from the package's /boot/config-*
    expect(guest.config.path).to.match(/\/boot\/config-/)

    for (const what of ['attach:kprobe', 'attach:kretprobe']) {
      expect(probe(guest, what)?.status, `${what} in the guest: ${probe(guest, what)?.value}`).to.equal('pass')
      if (probe(host, what)?.status === 'pass') console.log(`      note: ${what} passes on this host too`)
      else expect(probe(host, what)?.status, `${what} on the host`).to.equal('fail')
    }
    expect(guest.findings.find((f) => f.id === 'tr-kprobe')?.status).to.equal('pass')
    // the rest follow the guest's own config: kprobe.multi needs CONFIG_FPROBE
    const fprobe = readFileSync(guest.vm.kernel.config!, 'utf8').match(/^CONFIG_FPROBE=y$/m)
    expect(probe(guest, 'attach:kprobe.multi')?.status).to.equal(fprobe ? 'pass' : 'fail')
    const rest = ['attach:fentry', 'attach:fexit', 'attach:kprobe.multi', 'attach:lsm'].map((w) => `${w} ${probe(guest, w)?.status}${probe(guest, w)?.code ? ` (${probe(guest, w)?.code})` : ''}`)
    console.log(`      guest ${guest.kernel.release} (${guest.vm.accel}): ${rest.join(', ')}`)
  })

  it('vm run: a failing guest command gives its own exit code, stdout and stderr; --json output is the guest document, labelled', () => {
    const dir = tempDir('vmrun')
    try {
      // a profile whose required check cannot pass: doctor exits 1 (not 2, which would look like a vm failure)
      writeFileSync(join(dir, 'impossible.profile.yml'), 'schema: ebpfperf/profile/v1\nname: impossible\ntitle: Impossible\nchecks:\n  - id: imp-none\n    title: an option no kernel has\n    required: true\n    kconfig: [EBPFPERF_NO_SUCH_OPTION]\n')
      const r = cli(['vm', 'run', '--kernel', KERNEL, '--', 'doctor', '--profile', './impossible.profile.yml', '--json'], {cwd: dir})
      expect(r.code, r.stderr).to.equal(1)
      expect(r.stderr).to.match(/the guest command `ebpfperf doctor --profile \.\/impossible\.profile\.yml --json` exited 1/)
      expect(r.stderr).to.include('guest console (last lines)')
      const doc = JSON.parse(r.stdout) as DoctorReport & {vm: VmLabel}
      expect(doc.findings.map((f) => [f.id, f.status])).to.deep.equal([['imp-none', 'fail']])
      expect(doc.vm.exitCode).to.equal(1)
      expect(doc.vm.command).to.deep.equal(['ebpfperf', 'doctor', '--profile', './impossible.profile.yml', '--json'])
      expect(doc.kernel.release).to.equal(doc.vm.kernel.release)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('vm run: files the guest command writes under its folder come back to the host; nothing else on the host changes', () => {
    const dir = tempDir('vmrun')
    try {
      const result = {
        schema: 'ebpfperf/result/v1', suite: 'micro', started: new Date().toISOString(), complete: true, command: 'test',
        environment: {kernel: {release: 'x'}, machine: 'x86_64', hostname: 'h', cpu: {model: 'c', count: 1}, virtualized: true, jit: {}, versions: {ebpfperf: '0.1.0', node: '20'}},
        cases: [{id: 'a', params: {}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status: 'ok', samples: [1, 2, 3], stats: {n: 3, mean: 2, sd: 1, ci95: [1, 3], halfWidth: 1, cv: 0.5, median: 2, min: 1, max: 3}}],
      }
      writeFileSync(join(dir, 'run.json'), JSON.stringify(result))
      const r = cli(['vm', 'run', '--kernel', KERNEL, '--', 'report', 'run.json', '-o', 'out/report.html'], {cwd: dir})
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.include('wrote') // the guest's stdout, streamed back
      expect(readFileSync(join(dir, 'out/report.html'), 'utf8')).to.match(/<html/i)
      expect(r.stderr).to.include(`brought back 1 file: ${join(dir, 'out/report.html')}`)
      expect(readdirSync(dir).sort()).to.deep.equal(['out', 'run.json'])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('suite tracing in the guest: the kprobe case runs, proves its program fired, and its result file comes back labelled', function () {
    if (!existsSync(join(root, 'dist/commands/suite/tracing.js'))) {
      console.log('      skipped: the tracing suite is not built (npm run build:ts)')
      this.skip()
    }
    const dir = tempDir('vmtrc')
    try {
      const r = cli(['vm', 'run', '--kernel', KERNEL, '--', 'suite', 'tracing', '--quick', '--attach', 'kprobe', '--body', 'null', '--layers', 'event', '--out', 'results'], {cwd: dir})
      expect(r.code, `${r.stderr.split('\n').slice(-25).join('\n')}\n${r.stdout.split('\n').slice(-15).join('\n')}`).to.equal(0)
      const files = readdirSync(join(dir, 'results')).filter((f) => f.endsWith('.json'))
      expect(files).to.have.length(1)
      const run = JSON.parse(readFileSync(join(dir, 'results', files[0]), 'utf8')) as {suite: string; complete: boolean; environment: {kernel: {release: string}}; vm: VmLabel; cases: {id: string; status: string; extra?: {runCnt?: number; triggers?: number}}[]}
      expect(run.suite).to.equal('tracing')
      expect(run.complete).to.equal(true)
      expect(run.environment.kernel.release).to.equal(run.vm.kernel.release) // measured in the guest
      expect(run.vm.emulated).to.equal(run.vm.accel === 'tcg')
      const kprobe = run.cases.find((c) => c.id === 'event/kprobe/null/stats-on')
      expect(kprobe?.status, JSON.stringify(kprobe)).to.equal('ok')
      expect(kprobe!.extra!.runCnt).to.be.greaterThan(0)
      expect(kprobe!.extra!.runCnt).to.equal(kprobe!.extra!.triggers) // every trigger ran the program
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('SIGTERM while the guest runs: exit 143, QEMU stopped, temporary files removed', async () => {
    const child = spawn(process.execPath, [bin, 'vm', 'run', '--kernel', KERNEL, '--', 'doctor'], {env: {...process.env, NO_COLOR: '1'}})
    let stderr = ''
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)))
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`the guest never reached its init: ${stderr}`)), 120_000)
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
        if (stderr.includes('reached its init')) {
          clearTimeout(t)
          res()
        }
      })
    })
    expect(pgrep(['-f', 'qemu-system-x86_64'])).not.to.equal('') // it was running
    child.kill('SIGTERM')
    expect(await exited).to.equal(143)
    expect(stderr).to.match(/interrupted by SIGTERM/)
  })

  it('bad input exits 2 with one clear line: unknown package, missing vmlinuz, a guest that does not finish in time, QEMU missing', () => {
    const unknown = cli(['vm', 'doctor', '--kernel', 'linux-image-no-such-flavour-amd64'])
    expect(unknown.code).to.equal(2)
    expect(unknown.stderr).to.match(/--kernel linux-image-no-such-flavour-amd64: no such package/)

    const missing = cli(['vm', 'run', '--kernel', '/nonexistent/vmlinuz-6.1', '--', 'doctor'])
    expect(missing.code).to.equal(2)
    expect(missing.stderr).to.match(/--kernel \/nonexistent\/vmlinuz-6\.1: no such file/)

    const slow = cli(['vm', 'doctor', '--kernel', KERNEL, '--timeout', '2'])
    expect(slow.code).to.equal(2)
    expect(slow.stderr).to.match(/the guest did not finish within 2 s \(--timeout\)/)

    const noQemu = cli(['vm', 'doctor', '--kernel', KERNEL], {env: {PATH: '/usr/sbin:/sbin'}})
    expect(noQemu.code).to.equal(2)
    expect(noQemu.stderr).to.match(/QEMU is not installed: apt-get install qemu-system-x86/)
  })
})
