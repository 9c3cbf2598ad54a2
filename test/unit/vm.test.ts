// ebpfperf vm without booting anything: the initramfs archive, module planning, kernel images, the guest
// scripts, bringing files back, and doctor --compare on two saved reports.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {cpioNewc, isStaticElf, planModules} from '../../src/vm/initramfs.js'
import {bzImageVersion, resolveKernel} from '../../src/vm/kernel.js'
import {commandScript, guestEnv, initScript, shq} from '../../src/vm/guest.js'
import {bringBack, consoleTail, copyBackRoots, labelDocument, type VmLabel} from '../../src/vm/index.js'
import {qemuArgs} from '../../src/vm/qemu.js'
import {VmError} from '../../src/vm/errors.js'
import {compareDoctorFiles, compareDoctorReports, loadDoctorReport, renderDoctorComparison} from '../../src/doctor/compare.js'
import {makeChalk} from '../../src/doctor/render.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const fx = (f: string) => join(root, 'test/fixtures/vm', f)
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p))

/** A minimal bzImage-shaped file: "HdrS" at 0x202 and a kernel_version pointer at 0x20e. */
function fakeBzImage(version: string): Buffer {
  const b = Buffer.alloc(0x1000)
  b.write('HdrS', 0x202, 'latin1')
  b.writeUInt16LE(0x300, 0x20e)
  b.write(`${version}\0`, 0x300 + 0x200, 'latin1')
  return b
}

const label: VmLabel = {kernel: {input: 'k', release: '6.1.0-test', version: '6.1.0-test #1', vmlinuz: '/x'}, accel: 'tcg', emulated: true, timings: {totalMs: 1}, command: ['ebpfperf', 'x'], exitCode: 0}

describe('vm: initramfs', () => {
  it('writes a newc cpio that busybox cpio lists and extracts with the same names, modes and contents', function () {
    if (!busybox) {
      console.log('      skipped: no busybox to read the archive back')
      this.skip()
    }
    const dir = tempDir('cpio')
    try {
      const archive = cpioNewc([
        {name: 'bin', type: 'dir'},
        {name: 'bin/hello', type: 'file', mode: 0o755, data: '#!/bin/sh\necho hi\n'},
        {name: 'bin/odd', type: 'file', data: Buffer.from([0, 1, 2, 3, 4])}, // length not a multiple of 4
        {name: 'bin/link', type: 'symlink', data: 'hello'},
        {name: 'dev', type: 'dir'},
        {name: 'dev/console', type: 'chardev', rdev: [5, 1]},
      ])
      writeFileSync(join(dir, 'a.cpio'), archive)
      const list = spawnSync(busybox!, ['cpio', '-t', '-F', join(dir, 'a.cpio')], {encoding: 'utf8'})
      expect(list.stdout.split('\n').filter(Boolean)).to.deep.equal(['bin', 'bin/hello', 'bin/odd', 'bin/link', 'dev', 'dev/console'])
      mkdirSync(join(dir, 'x'))
      const ext = spawnSync(busybox!, ['cpio', '-i', '-d', '-F', join(dir, 'a.cpio')], {cwd: join(dir, 'x'), encoding: 'utf8'})
      expect(ext.status, ext.stderr).to.equal(0)
      expect(readFileSync(join(dir, 'x/bin/hello'), 'utf8')).to.equal('#!/bin/sh\necho hi\n')
      expect([...readFileSync(join(dir, 'x/bin/odd'))]).to.deep.equal([0, 1, 2, 3, 4])
      expect(spawnSync('stat', ['-c', '%a %F', join(dir, 'x/bin/hello'), join(dir, 'x/bin/link')], {encoding: 'utf8'}).stdout.trim().split('\n')).to.deep.equal(['755 regular file', '777 symbolic link'])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('tells a static ELF (what the initramfs can run) from a dynamically linked one', function () {
    expect(isStaticElf(process.execPath)).to.equal(false) // node needs its libc
    if (busybox && spawnSync('file', ['-L', busybox], {encoding: 'utf8'}).stdout.includes('statically linked')) expect(isStaticElf(busybox)).to.equal(true)
  })

  it('plans module loads from modules.dep with dependencies first, built-ins and missing ones apart', () => {
    const plan = planModules(fx('modules/6.1.0-test'), ['virtio_pci', 'virtiofs', 'overlay', 'no_such_mod'])
    const names = plan.load.map((m) => m.name)
    expect(names).to.have.members(['virtio_ring', 'virtio', 'virtio_pci_legacy_dev', 'virtio_pci_modern_dev', 'virtio_pci', 'fuse', 'virtiofs'])
    expect(names.indexOf('virtio_ring')).to.be.lessThan(names.indexOf('virtio'))
    expect(names.indexOf('virtio')).to.be.lessThan(names.indexOf('virtio_pci'))
    expect(names.indexOf('fuse')).to.be.lessThan(names.indexOf('virtiofs'))
    expect(names.filter((n) => n === 'virtio')).to.have.length(1) // shared dependency loaded once
    expect(plan.builtin).to.deep.equal(['overlay'])
    expect(plan.missing).to.deep.equal(['no_such_mod'])
    expect(existsSync(plan.load[0].path)).to.equal(true)
  })

  it('puts busybox, /init, /dev/console and the modules (decompressed from .gz/.xz/.zst) into the initramfs', async function () {
    if (!busybox || !isStaticElf(busybox)) {
      console.log('      skipped: needs a static busybox (apt-get install busybox-static)')
      this.skip()
    }
    const dir = tempDir('ird')
    try {
      const load = [{name: 'plain', path: join(dir, 'plain.ko')}]
      writeFileSync(load[0].path, 'plain module\n')
      for (const [tool, ext] of [['gzip', 'gz'], ['xz', 'xz'], ['zstd', 'zst']]) {
        writeFileSync(join(dir, `${ext}mod.ko`), `${ext} module\n`)
        if (spawnSync(tool, ['-q', join(dir, `${ext}mod.ko`)]).status !== 0) continue // tool missing: that format is not tested
        load.push({name: `${ext}mod`, path: join(dir, `${ext}mod.ko.${ext}`)})
      }
      const {buildInitramfs} = await import('../../src/vm/initramfs.js')
      writeFileSync(join(dir, 'i.cpio'), await buildInitramfs({busybox: busybox!, init: '#!/bin/busybox sh\necho hi\n', modprobe: '#!/bin/busybox sh\n', modules: {load, builtin: [], missing: []}}))
      mkdirSync(join(dir, 'x'))
      const ext = spawnSync(busybox!, ['cpio', '-i', '-d', '-F', join(dir, 'i.cpio')], {cwd: join(dir, 'x'), encoding: 'utf8'})
      expect(ext.status, ext.stderr).to.equal(0)
      expect(readFileSync(join(dir, 'x/init'), 'utf8')).to.match(/^#!\/bin\/busybox sh/)
      expect(readFileSync(join(dir, 'x/bin/busybox')).equals(readFileSync(busybox!))).to.equal(true)
      // from the listing, not the extracted tree: only root may create the device node when extracting
      const list = spawnSync(busybox!, ['cpio', '-t', '-v', '-F', join(dir, 'i.cpio')], {encoding: 'utf8'}).stdout
      expect(list).to.match(/^c\S+ .* dev\/console$/m)
      for (const m of load) expect(readFileSync(join(dir, `x/lib/modules/${m.name}.ko`), 'utf8'), m.name).to.equal(m.name === 'plain' ? 'plain module\n' : `${m.name.replace(/mod$/, '')} module\n`)
      expect(load.length).to.be.greaterThan(1)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('without a modules folder assumes everything is built in (the guest reports a failed mount)', () => {
    expect(planModules(undefined)).to.deep.equal({load: [], builtin: [], missing: ['virtio_pci', 'virtiofs', 'overlay']})
  })
})

describe('vm: kernel images', () => {
  const dir = tempDir('vmk')
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('reads the release from a bzImage header and finds its modules given with --modules', async () => {
    writeFileSync(join(dir, 'vmlinuz-test'), fakeBzImage('6.1.0-test (someone@example) #1 SMP PREEMPT'))
    expect(bzImageVersion(join(dir, 'vmlinuz-test'))).to.equal('6.1.0-test (someone@example) #1 SMP PREEMPT')
    const k = await resolveKernel(join(dir, 'vmlinuz-test'), {modulesDir: fx('modules/6.1.0-test')})
    expect(k).to.include({source: 'file', release: '6.1.0-test', modulesDir: fx('modules/6.1.0-test')})
  })

  it('refuses a file that is not a kernel, a missing file, a folder and a bad --modules, each with the input named', async () => {
    writeFileSync(join(dir, 'notakernel'), 'hello\n')
    writeFileSync(join(dir, 'vmlinuz-ok'), fakeBzImage('6.1.0-x #1'))
    const cases: [string, {modulesDir?: string}, RegExp][] = [
      [join(dir, 'notakernel'), {}, /notakernel: not an x86 bzImage/],
      [join(dir, 'missing/vmlinuz'), {}, /missing\/vmlinuz: no such file/],
      [dir, {}, /is a directory/],
      ['Not A Package!', {}, /neither an existing file nor a valid Debian package name/],
      [join(dir, 'vmlinuz-ok'), {modulesDir: dir}, /--modules .*: no modules.dep there/],
    ]
    for (const [spec, opts, re] of cases) {
      const err = await resolveKernel(spec, opts).then(() => undefined, (e: unknown) => e)
      expect(err, spec).to.be.instanceOf(VmError)
      expect((err as VmError).message, spec).to.match(re)
      expect((err as VmError).exitCode).to.equal(2)
    }
  })
})

describe('vm: guest scripts', () => {
  it('quotes every word of the command so that sh runs exactly the argv given, in the given folder, with the env', function () {
    const dir = mkdtempSync(join(tmpdir(), "ebp-vm q'd "))
    try {
      const argv = ['/bin/sh', '-c', 'printf "%s|" "$@"; printf "%s|%s" "$PWD" "$EBP_T"', 'sh', "it's", 'a b', '$HOME', '`x`', '"q"']
      const script = commandScript({cwd: dir, env: {EBP_T: "v'1 $x", 'BAD-NAME': 'skipped'}, argv})
      const r = spawnSync('/bin/sh', ['-c', script], {encoding: 'utf8'})
      expect(r.stdout).to.equal(`it's|a b|$HOME|\`x\`|"q"|${dir}|v'1 $x`)
      expect(script).not.to.include('BAD-NAME')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('generates an init that sh parses, mounts what doctor needs and copies back only the roots given', () => {
    const init = initScript({modules: ['virtio', 'virtiofs'], share: '/tmp/ebpfperf-vm-x/share', modulesDir: '/cache/lib/modules/6.1', config: '/cache/boot/config-6.1', roots: ["/work/it's", '/tmp/out'], hostname: 'ebpfperf-vm'})
    const sh = busybox ?? '/bin/sh'
    const r = spawnSync(sh, busybox ? ['sh', '-n', '-c', init] : ['-n', '-c', init], {encoding: 'utf8'})
    expect(r.status, r.stderr).to.equal(0)
    for (const fs of ['tracefs', 'debugfs', 'bpf', 'securityfs', 'cgroup2', 'virtiofs', 'overlay']) expect(init).to.match(new RegExp(`\\b${fs}\\b`))
    expect(init).to.include("for root in '/work/it'\\''s' '/tmp/out'")
    expect(init).to.include('mount -o remount,bind,ro /mnt/host')
    expect(init).to.include('/proc/sys/kernel/modprobe')
    expect(initScript({modules: [], share: '/s', roots: [], hostname: 'h'})).not.to.include('for root in')
  })

  it('brings back files from the cwd and --out folders, never "/"', () => {
    expect(copyBackRoots(['suite', 'tracing', '--out', 'results', '-o', '/abs/r.html', '--out=x/y'], '/work/p')).to.deep.equal(['/work/p', '/work/p/results', '/abs/r.html', '/work/p/x/y'])
    expect(copyBackRoots(['doctor'], '/')).to.deep.equal([])
  })

  it('passes colour and ebpfperf settings into the guest, not the host cache location', () => {
    const env = guestEnv({PATH: '/usr/bin', EBPFPERF_KCONFIG: '/k', EBPFPERF_KERNEL_CACHE: '/c', SECRET: 'x', NO_COLOR: '1'}, {EBPFPERF_VM: 'tcg'}, true)
    expect(env).to.include({PATH: '/usr/bin', EBPFPERF_KCONFIG: '/k', NO_COLOR: '1', EBPFPERF_VM: 'tcg', HOME: '/root'})
    expect(env).not.to.have.any.keys('EBPFPERF_KERNEL_CACHE', 'SECRET', 'FORCE_COLOR')
    expect(guestEnv({}, {}, true).FORCE_COLOR).to.equal('1')
    expect(shq("a'b")).to.equal("'a'\\''b'")
  })

  it('starts QEMU without a reboot, with the host root over vhost-user-fs and memory it can share', () => {
    const a = qemuArgs({accel: 'tcg', vmlinuz: '/k', initramfs: '/i', socket: '/s', console: '/c', memoryMb: 512, cpus: 2, append: 'lsm=bpf'})
    const at = (f: string) => a[a.indexOf(f) + 1]
    expect(a).to.include('-no-reboot')
    expect(at('-accel')).to.equal('tcg')
    expect(at('-cpu')).to.equal('max')
    expect(at('-object')).to.equal('memory-backend-memfd,id=mem,size=512M,share=on')
    expect(at('-append')).to.match(/^console=ttyS0 .*panic=-1.* lsm=bpf$/)
    expect(a.join(' ')).to.include('vhost-user-fs-pci,chardev=vfs')
    const k = qemuArgs({accel: 'kvm', vmlinuz: '/k', initramfs: '/i', socket: '/s', console: '/c', memoryMb: 512, cpus: 1})
    expect(k[k.indexOf('-cpu') + 1]).to.equal('host')
  })

  it('shows the console\'s last lines without terminal escapes', () => {
    const dir = tempDir('con')
    writeFileSync(join(dir, 'c.log'), '\x1bc\x1b[?7l\x1b[2JSeaBIOS\r\n\n' + Array.from({length: 30}, (_, i) => `line ${i}`).join('\n') + '\n')
    const tail = consoleTail(join(dir, 'c.log'), 3)
    rmSync(dir, {recursive: true, force: true})
    expect(tail).to.deep.equal(['line 27', 'line 28', 'line 29'])
    expect(consoleTail('/nonexistent/console.log')).to.deep.equal([])
  })
})

describe('vm: results coming back', () => {
  it('copies guest files to their host paths and labels ebpfperf JSON documents with the guest kernel', () => {
    const tmp = tempDir('back')
    try {
      const dest = join(tmp, 'results')
      const share = join(tmp, 'share')
      mkdirSync(join(share, 'files', dest, 'sub'), {recursive: true})
      writeFileSync(join(share, 'files', dest, 'run.json'), JSON.stringify({schema: 'ebpfperf/result/v1', suite: 'tracing', cases: []}))
      writeFileSync(join(share, 'files', dest, 'other.json'), '{"schema":"someone/else"}')
      writeFileSync(join(share, 'files', dest, 'sub', 'log.txt'), 'hello')
      const files = bringBack(share, label)
      expect(files.sort()).to.deep.equal([join(dest, 'other.json'), join(dest, 'run.json'), join(dest, 'sub/log.txt')])
      const run = JSON.parse(readFileSync(join(dest, 'run.json'), 'utf8'))
      expect(run.suite).to.equal('tracing')
      expect(run.vm).to.include({accel: 'tcg', emulated: true})
      expect(run.vm.kernel.release).to.equal('6.1.0-test')
      expect(readFileSync(join(dest, 'other.json'), 'utf8')).to.equal('{"schema":"someone/else"}')
      expect(readFileSync(join(dest, 'sub/log.txt'), 'utf8')).to.equal('hello')
      expect(labelDocument([1], label)).to.deep.equal([1])
    } finally {
      rmSync(tmp, {recursive: true, force: true})
    }
  })
})

describe('doctor --compare', () => {
  function cli(args: string[]) {
    const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
    return {code: r.status, stdout: r.stdout, stderr: r.stderr}
  }

  it('lists the findings whose status differs, with the evidence that changed, and the verdicts side by side', () => {
    const c = compareDoctorReports(loadDoctorReport(fx('doctor-host.json')), loadDoctorReport(fx('doctor-cloud-guest.json')), ['host', 'guest'])
    expect(c.a.label).to.match(/\(live\)$/)
    expect(c.b.label).to.match(/cloud-amd64 \(QEMU TCG guest\)$/)
    const kp = c.differences.find((d) => d.id === 'tr-kprobe')!
    expect(kp).to.include({profile: 'tracing', a: 'warn', b: 'pass'})
    expect(kp.evidence).to.deep.include({what: 'attach:kprobe', a: 'fail (ENOENT)', b: 'pass'})
    expect(c.differences.map((d) => d.id)).to.have.members(['tr-kprobe', 'tr-kretprobe', 'tr-fentry', 'tr-fexit'])
    expect(c.same).to.equal(11) // 15 tracing findings, 4 differ
    const v = c.verdicts.find((x) => x.profile === 'tracing')!
    expect(v.onlyASkipped).to.have.members(['kprobe', 'kretprobe', 'fentry', 'fexit'])
    expect(v.onlyBSkipped).to.deep.equal([])
    const text = renderDoctorComparison(c, makeChalk({NO_COLOR: '1'}))
    expect(text).to.match(/tr-kprobe\s+warn\s+pass/)
    expect(text).to.include('attach:kprobe: fail (ENOENT) → pass')
    expect(text).to.include('skipped only in A: kprobe, kretprobe, fentry, fexit')
  })

  it('a report compared with itself has no differences', () => {
    const r = loadDoctorReport(fx('doctor-host.json'))
    const c = compareDoctorReports(r, r)
    expect(c.differences).to.deep.equal([])
    expect(renderDoctorComparison(c, makeChalk({NO_COLOR: '1'}))).to.include('Findings: all 15 have the same status')
  })

  it('the CLI prints the comparison (or one JSON document) and exits 0', () => {
    const human = cli(['doctor', '--compare', fx('doctor-host.json'), fx('doctor-cloud-guest.json')])
    expect(human.code, human.stderr).to.equal(0)
    expect(human.stdout).to.match(/tr-fentry\s+warn\s+pass/)
    const json = cli(['doctor', '--json', '--compare', fx('doctor-host.json'), fx('doctor-cloud-guest.json')])
    expect(json.code).to.equal(0)
    expect(JSON.parse(json.stdout).schema).to.equal('ebpfperf/doctor-comparison/v1')
  })

  it('bad input: one file, a missing file, not JSON, not a doctor report — exit 2 with the file named', () => {
    const dir = tempDir('dcmp')
    writeFileSync(join(dir, 'bad.json'), '{oops')
    writeFileSync(join(dir, 'result.json'), JSON.stringify({schema: 'ebpfperf/result/v1'}))
    const cases: [string[], RegExp][] = [
      [[fx('doctor-host.json')], /exactly two saved doctor reports \(got 1\)/],
      [[fx('doctor-host.json'), join(dir, 'nope.json')], /nope\.json: no such file/],
      [[join(dir, 'bad.json'), fx('doctor-host.json')], /bad\.json: not JSON/],
      [[fx('doctor-host.json'), join(dir, 'result.json')], /result\.json: not a doctor report \(schema "ebpfperf\/result\/v1"/],
    ]
    for (const [files, re] of cases) {
      expect(() => compareDoctorFiles(files)).to.throw(re)
      const r = cli(['doctor', '--compare', ...files])
      expect(r.code, files.join(' ')).to.equal(2)
      expect(r.stderr).to.match(re)
    }
    rmSync(dir, {recursive: true, force: true})
  })
})
