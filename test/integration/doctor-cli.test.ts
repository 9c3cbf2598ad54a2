// The built binary, run as a user would: exit codes, --json, bad input, privilege, colour, --fix.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'

import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import {loadNative} from '../../src/native.js'
import {runProbe} from '../../src/doctor/facts.js'
import type {DoctorReport} from '../../src/doctor/index.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const fx = (f: string) => join(root, 'test/fixtures', f)

// Unprivileged = root's uid with every capability dropped (bounding set cleared before exec), so the
// test does not depend on other users being able to read the checkout.
function cli(args: string[], opts: {env?: NodeJS.ProcessEnv; unprivileged?: boolean} = {}) {
  const env = {...process.env, NO_COLOR: '1', ...opts.env}
  const drop = ['setpriv', '--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', '--']
  const argv = [...(opts.unprivileged ? drop : []), process.execPath, bin, ...args]
  const r = spawnSync(argv[0], argv.slice(1), {env, encoding: 'utf8', timeout: 120_000})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

const isRoot = process.getuid?.() === 0
const mounted = (fstype: string) => readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[2] === fstype)

describe('ebpfperf doctor (built CLI)', function () {
  let report: DoctorReport
  let live: {code: number | null; stdout: string; stderr: string}

  before(function () {
    if (!isRoot) {
      console.log('      skipped: live doctor tests need root')
      this.skip()
    }
    live = cli(['doctor', '--json'])
    report = JSON.parse(live.stdout) as DoctorReport
  })

  it('--json prints exactly one versioned JSON document and exits 0 when nothing required fails', () => {
    expect(report.schema).to.equal('ebpfperf/doctor/v1')
    expect(live.code).to.equal(report.exitCode)
    expect(report.findings).to.not.be.empty
    expect(report.findings.every((f) => ['pass', 'fail', 'warn', 'unknown', 'skip'].includes(f.status) && f.evidence.length > 0)).to.equal(true)
    expect(report.profiles.map((p) => p.name)).to.include.members(['kernel-config', 'accelerator', 'tracing', 'micro'])
  })

  it('reports every seed option with the value the running kernel\'s config really has', function () {
    if (report.config.path !== '/proc/config.gz') this.skip()
    const text = gunzipSync(readFileSync('/proc/config.gz')).toString()
    const seed = report.findings.filter((f) => f.profile === 'kernel-config')
    expect(seed).to.have.length(24)
    for (const f of seed) {
      for (const e of f.evidence.filter((x) => x.kind === 'kconfig')) {
        const name = e.what.replace(/ \(any of \d+\)$/, '')
        const line = text.split('\n').find((l) => l.startsWith(`${name}=`) || l === `# ${name} is not set`)
        if (line) expect(e.value, name).to.equal(line)
        else expect(e.value, name).to.match(/absent from the config/)
      }
    }
  })

  it('every probe in the report agrees with the same probe run directly through the addon', () => {
    const native = loadNative()
    for (const f of report.findings) {
      for (const e of f.evidence.filter((x) => x.kind === 'probe')) {
        const direct = runProbe(native, e.what)
        expect(e.status, `${f.id} ${e.what}`).to.equal(direct.ok ? 'pass' : 'fail')
        if (!direct.ok) expect(e.code, e.what).to.equal(direct.code)
      }
    }
  })

  it('flags a config/probe disagreement for fentry exactly when the config allows it and the kernel refuses', () => {
    const fentry = report.findings.find((f) => f.id === 'tr-fentry')!
    const probe = fentry.evidence.find((e) => e.what === 'attach:fentry')!
    const configOk = fentry.evidence.filter((e) => e.kind === 'kconfig').every((e) => e.status === 'pass')
    if (configOk && probe.status === 'fail') {
      expect(fentry.disagreement).to.match(/config allows it .* but the kernel refused/)
      expect(fentry.status).to.equal('warn')
    } else {
      expect(fentry.disagreement).to.equal(undefined)
    }
  })

  it('reports kprobes as missing with a fix when the kernel has none, and the tracing verdict skips them', function () {
    const kp = report.findings.find((f) => f.id === 'KPROBES')!
    const probe = kp.evidence.find((e) => e.what === 'attach:kprobe')!
    const tracing = report.verdicts.find((v) => v.suite === 'tracing')!
    if (probe.status === 'pass') {
      expect(tracing.skipped.map((s) => s.case)).to.not.include('kprobe')
      return
    }
    expect(kp.status).to.equal('warn')
    expect(kp.fixes.map((x) => x.text).join('\n')).to.match(/CONFIG_KPROBES=y|does not exist|refused/)
    expect(tracing.verdict).to.equal('runs-with-skips')
    expect(tracing.skipped.map((s) => s.case)).to.include.members(['kprobe', 'kretprobe'])
  })

  it('the fast path (no oclif) prints what the full CLI prints, and steps aside for what it does not take', () => {
    const full = cli(['doctor', '--json'], {env: {EBPFPERF_FULL_CLI: '1'}})
    const strip = (doc: string) => doc.replace(/\n {2}"generated": "[^"]*",/, '')
    expect(full.code).to.equal(live.code)
    expect(strip(live.stdout)).to.equal(strip(full.stdout))
    expect(cli(['doctor', '-v']).stdout).to.equal(cli(['doctor', '-v'], {env: {EBPFPERF_FULL_CLI: '1'}}).stdout)
    const help = cli(['doctor', '--help'])
    expect(help.code).to.equal(0)
    expect(help.stdout).to.match(/USAGE[\s\S]*--no-live/)
    const unknown = cli(['doctor', '--no-such-flag'])
    expect(unknown.code).to.equal(2)
    expect(unknown.stderr).to.equal('ebpfperf: Nonexistent flag: --no-such-flag (see: ebpfperf doctor --help)\n')
  })

  it('a report larger than a pipe holds reaches a reader that starts late, whole; a reader that stops early ends the run quietly', () => {
    // the fast path ends the process at once when done: only after stdout is written out
    const late = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" doctor --json | (sleep 1; cat)`], {encoding: 'utf8', timeout: 120_000})
    expect(late.stdout.length).to.be.greaterThan(65536)
    expect(JSON.parse(late.stdout).schema).to.equal('ebpfperf/doctor/v1')
    const early = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" doctor --json | head -c 10`], {encoding: 'utf8', timeout: 120_000})
    expect(early.stderr).to.equal('')
  })

  it("oclif's own parse errors are one line naming the flag, exit 2, on every command (no usage dump)", () => {
    const cases: [string[], RegExp][] = [
      [['suite', 'micro', '--target-ms', '0'], /^ebpfperf: --target-ms: Expected an integer greater than or equal to 1 but received: 0 \(see: ebpfperf suite micro --help\)$/],
      [['suite', 'accelerator', '--repeat', 'x'], /^ebpfperf: --repeat: Expected an integer but received: x \(see: ebpfperf suite accelerator --help\)$/],
      [['suite', 'micro', '--cpus'], /^ebpfperf: Flag --cpus expects a value \(see: ebpfperf suite micro --help\)$/],
      [['topology', 'up', 'a', 'b'], /^ebpfperf: Unexpected argument: b \(see: ebpfperf topology up --help\)$/],
    ]
    for (const [args, re] of cases) {
      const r = cli(args)
      expect(r.code, args.join(' ')).to.equal(2)
      expect(r.stdout, args.join(' ')).to.equal('')
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).to.have.length(1)
      expect(r.stderr.trimEnd(), args.join(' ')).to.match(re)
    }
  })

  it('the human output is grouped, ends with the verdicts, and honours NO_COLOR', () => {
    const plain = cli(['doctor'])
    expect(plain.code).to.equal(report.exitCode)
    expect(plain.stdout).to.not.match(/\u001b\[/)
    for (const g of ['Basic', 'BTF', 'Cgroup', 'Network', 'kprobes', 'kprobe multi', 'kprobe override', 'Tracepoints', 'LSM', 'Verdicts', 'System']) expect(plain.stdout).to.include(g)
    expect(plain.stdout).to.match(/suite tracing (runs|cannot run)/)
    const coloured = cli(['doctor', '--profile', 'micro'], {env: {NO_COLOR: '', FORCE_COLOR: '1'}})
    expect(coloured.stdout).to.match(/\u001b\[/)
  })

  it('--profile takes a user file and limits the report to it', () => {
    const r = cli(['doctor', '--json', '--profile', fx('profiles/user.profile.yml')])
    const doc = JSON.parse(r.stdout) as DoctorReport
    expect(doc.profiles.map((p) => p.name)).to.deep.equal(['my-xdp-lb'])
    expect(doc.verdicts[0].suite).to.equal('my-xdp-lb')
  })

  it('--fix --dry-run prints the safe commands and changes nothing', () => {
    const before = readFileSync('/proc/self/mounts', 'utf8')
    const r = cli(['doctor', '--fix', '--dry-run', '--profile', 'tracing'])
    expect(readFileSync('/proc/self/mounts', 'utf8')).to.equal(before)
    if (!mounted('tracefs')) expect(r.stderr).to.include('(dry run) mount -t tracefs nodev /sys/kernel/tracing')
  })

  it('--fix mounts tracefs when it is missing, and the tracepoint probe then passes', function () {
    if (mounted('tracefs')) {
      console.log('      skipped: tracefs is already mounted here, nothing to fix')
      this.skip()
    }
    const before = new Set(['tracefs', 'securityfs', 'bpf', 'debugfs'].filter(mounted))
    try {
      const r = cli(['doctor', '--fix', '--json', '--profile', 'tracing'])
      expect(r.stderr).to.include('+ mount -t tracefs nodev /sys/kernel/tracing')
      expect(mounted('tracefs')).to.equal(true)
      const doc = JSON.parse(r.stdout) as DoctorReport
      const tp = doc.findings.find((f) => f.id === 'tr-tracepoint')!
      expect(tp.evidence.find((e) => e.kind === 'mount')!.status).to.equal('pass')
    } finally {
      // put back what --fix mounted (tracefs, and securityfs for the lockdown mode behind fentry's EPERM)
      for (const [fs, where] of [['tracefs', '/sys/kernel/tracing'], ['securityfs', '/sys/kernel/security']]) {
        if (!before.has(fs) && mounted(fs)) spawnSync('umount', [where])
      }
    }
  })
})

describe('ebpfperf doctor: bad input, privilege, offline', () => {
  const tmp = tempDir('cli')
  const notBtf = join(tmp, 'random.btf')
  writeFileSync(notBtf, Buffer.alloc(4096, 7))
  const cases: [string, string[], RegExp][] = [
    ['a truncated config.gz', ['--kconfig', fx('kconfig/truncated.config.gz')], /truncated\.config\.gz: corrupt or truncated gzip/],
    ['a file that is not a kernel config', ['--kconfig', fx('kconfig/not-a-config.txt')], /not-a-config\.txt: not a kernel config/],
    ['a directory as config', ['--kconfig', tmp], /is a directory/],
    ['a missing config', ['--kconfig', join(tmp, 'nope')], /nope: no such file/],
    ['a non-BTF --btf', ['--btf', notBtf], /random\.btf: not BTF/],
    ['an unknown profile', ['--profile', 'nosuch'], /nosuch: no such profile/],
    ['a malformed profile', ['--profile', fx('profiles/malformed.profile.yml')], /malformed YAML/],
  ]
  for (const [what, args, re] of cases) {
    it(`${what}: one line naming the input, exit 2, nothing changed (fast path and full CLI alike)`, () => {
      for (const env of [{}, {EBPFPERF_FULL_CLI: '1'}]) {
        const before = readFileSync('/proc/self/mounts', 'utf8')
        const r = cli(['doctor', '--no-live', ...args], {env})
        expect(r.code).to.equal(2)
        expect(r.stderr).to.match(re)
        expect(r.stderr).to.match(/^ebpfperf: [^\n]+\n$/) // exactly one line
        expect(r.stdout).to.equal('')
        expect(readFileSync('/proc/self/mounts', 'utf8')).to.equal(before)
      }
    })
  }

  it('under --json too, bad input is one stderr line, exit 2, and nothing on stdout', () => {
    const r = cli(['doctor', '--no-live', '--json', '--kconfig', fx('kconfig/truncated.config.gz')])
    expect(r.code).to.equal(2)
    expect(r.stdout).to.equal('')
    expect(r.stderr).to.match(/^ebpfperf: .*truncated\.config\.gz: corrupt or truncated gzip[^\n]*\n$/)
  })

  it('--no-live judges another kernel offline from --kconfig without privilege', function () {
    if (!isRoot) this.skip()
    const cfg = fx('kconfig/config-6.1-sample.gz')
    const r = cli(['doctor', '--no-live', '--json', '--kconfig', cfg], {unprivileged: true})
    expect(r.stderr).to.equal('')
    const doc = JSON.parse(r.stdout) as DoctorReport
    expect(doc.kernel).to.include({live: false, release: '6.1.0'})
    expect(doc.system).to.equal(undefined)
    const lsm = doc.findings.find((f) => f.id === 'BPF_LSM')!
    expect(lsm.evidence[0].value).to.equal('# CONFIG_BPF_LSM is not set')
    const probes = doc.findings.flatMap((f) => f.evidence.filter((e) => e.kind === 'probe'))
    expect(probes).to.not.be.empty
    expect(probes.every((e) => e.status === 'skip')).to.equal(true)
  })

  it('without privilege, live probes refuse with exit 3 and say how to proceed', function () {
    if (!isRoot) this.skip()
    const r = cli(['doctor'], {unprivileged: true})
    expect(r.code).to.equal(3)
    expect(r.stderr).to.match(/live probes need root.*--no-live/)
  })
})
