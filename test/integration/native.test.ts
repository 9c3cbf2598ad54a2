// Contract tests for src/native.ts against the real kernel (no mocks).
// Needs root and a built addon (npm run build:native).
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync} from 'node:fs'
import {constants, tmpdir} from 'node:os'
import {join} from 'node:path'

import {
  ATTACH_KINDS,
  NativeLoadError,
  _loadNativeFrom,
  _nativeCandidatePaths,
  loadNative,
  nativeAvailable,
  type AttachKind,
  type Native,
  type ProbeResult,
} from '../../src/native.js'

const BPF_PROG_TYPE_XDP = 6
const BPF_MAP_TYPE_RINGBUF = 27
const BPF_FUNC_xdp_adjust_head = 44
// kprobe-only helper; the verifier rejects it for XDP ("program of this type cannot use helper")
const BPF_FUNC_override_return = 58

const KPROBE_PMU = '/sys/bus/event_source/devices/kprobe'
const TRACEFS = '/sys/kernel/tracing'

const show = (r: ProbeResult) => JSON.stringify(r)

/** Invariants every ProbeResult must satisfy. */
function expectWellFormed(r: ProbeResult): void {
  expect(r, 'result').to.be.an('object')
  expect(r.ok, show(r)).to.be.a('boolean')
  expect(['ok', 'setup', 'load', 'attach'], show(r)).to.include(r.stage)
  expect(r.errno, show(r)).to.be.a('number')
  expect(r.code, show(r)).to.be.a('string')
  expect(r.message, show(r)).to.be.a('string').and.not.empty
  expect(r.message, show(r)).not.to.include('\n')
  if (r.detail !== undefined) expect(r.detail, show(r)).to.be.a('string').and.not.empty
  if (r.ok) {
    expect(r.stage, show(r)).to.equal('ok')
    expect(r.errno, show(r)).to.equal(0)
    expect(r.code, show(r)).to.equal('')
  } else {
    expect(r.stage, show(r)).not.to.equal('ok')
    expect(r.errno, show(r)).to.be.greaterThan(0)
    expect(r.code, show(r)).to.match(/^E[A-Z0-9]+$/)
    // errno and code name the same error (Node knows all but kernel-internal ones like ENOTSUPP=524)
    const known = (constants.errno as Record<string, number>)[r.code]
    if (known !== undefined) expect(known, `${r.code} vs errno ${r.errno}`).to.equal(r.errno)
  }
}

function expectOk(r: ProbeResult): void {
  expectWellFormed(r)
  expect(r.ok, show(r)).to.equal(true)
}

function expectFailure(r: ProbeResult, stage: ProbeResult['stage'], code: string): void {
  expectWellFormed(r)
  expect(r.ok, show(r)).to.equal(false)
  expect(r.stage, show(r)).to.equal(stage)
  expect(r.code, show(r)).to.equal(code)
}

function cgroup2Mount(): string | undefined {
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [, dir, fstype] = line.split(' ')
    if (fstype === 'cgroup2' && dir) return dir.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
  }
  return undefined
}

function tracefsMounted(): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => {
      const [, dir, fstype] = l.split(' ')
      return fstype === 'tracefs' && (dir === TRACEFS || dir === '/sys/kernel/debug/tracing')
    })
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
}

function hostLinks(): string[] {
  return run('ip', ['-o', 'link'])
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter(Boolean)
}

/** fds of this process, with bpf/perf objects called out. */
function ourFds(): {count: number; bpf: string[]} {
  const fds = readdirSync('/proc/self/fd')
  const bpf: string[] = []
  for (const fd of fds) {
    let target = ''
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`)
    } catch {
      continue // the directory fd readdirSync used
    }
    if (/bpf|perf_event/.test(target)) bpf.push(`${fd} -> ${target}`)
  }
  return {count: fds.length, bpf}
}

describe('native addon (src/native.ts) against the running kernel', function () {
  let native: Native

  before(function () {
    const available = nativeAvailable()
    if (!available.ok) throw available.error // a contract test without the addon is a failure, not a skip
    native = loadNative()
  })

  /** The kernel probes need root; the loading tests do not. */
  function requireRoot(this: Mocha.Context): void {
    if (process.getuid?.() !== 0) {
      console.log('      skipping kernel probes: they need root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN, CAP_SYS_ADMIN)')
      this.skip()
    }
  }

  describe('loading', function () {
    it('loadNative() is cached and nativeAvailable() agrees', function () {
      expect(loadNative()).to.equal(native)
      expect(nativeAvailable()).to.deep.equal({ok: true})
    })

    it('searches $EBPFPERF_NATIVE, then native/build/Release, then native/build/Debug', function () {
      const paths = _nativeCandidatePaths({EBPFPERF_NATIVE: '/nonexistent/ebpfperf-test.node'})
      expect(paths).to.have.length(3)
      expect(paths[0]).to.equal('/nonexistent/ebpfperf-test.node')
      expect(paths[1]).to.match(/\/native\/build\/Release\/ebpfperf_native\.node$/)
      expect(paths[2]).to.match(/\/native\/build\/Debug\/ebpfperf_native\.node$/)
      expect(_nativeCandidatePaths({})).to.deep.equal(paths.slice(1))
      // a bad $EBPFPERF_NATIVE falls through to the built addon
      expect(_loadNativeFrom(paths).libbpfVersion()).to.equal(native.libbpfVersion())
    })

    it('NativeLoadError lists every tried path with its reason and the fix', function () {
      const dir = mkdtempSync(join(tmpdir(), 'ebpfperf-native-test-'))
      try {
        const missing = join(dir, 'missing.node')
        const garbage = join(dir, 'garbage.node')
        const impostor = join(dir, 'impostor.cjs')
        writeFileSync(garbage, 'this is not an ELF shared object\n')
        writeFileSync(impostor, 'module.exports = {libbpfVersion() { return "0.0" }}\n')
        let caught: unknown
        try {
          _loadNativeFrom([missing, garbage, impostor])
        } catch (error) {
          caught = error
        }
        expect(caught).to.be.instanceOf(NativeLoadError)
        const err = caught as NativeLoadError
        expect(err).to.be.instanceOf(Error)
        expect(err.name).to.equal('NativeLoadError')
        expect(err.tried).to.deep.equal([missing, garbage, impostor])
        expect(err.message).to.include(`${missing}: not found`)
        expect(err.message).to.include(`${garbage}: cannot load`)
        expect(err.message).to.match(/impostor\.cjs: loaded, but it is not the ebpfperf addon \(missing probeProgType/)
        expect(err.message).to.include('run: npm run build:native')
      } finally {
        rmSync(dir, {recursive: true, force: true})
      }
    })

    it('throws TypeError for bad argument types', function () {
      const n = native as unknown as Record<string, (...args: unknown[]) => unknown>
      expect(() => n.probeProgType('6')).to.throw(TypeError)
      expect(() => n.probeProgType(-1)).to.throw(TypeError)
      expect(() => n.probeProgType(1.5)).to.throw(TypeError)
      expect(() => n.probeMapType()).to.throw(TypeError)
      expect(() => n.probeHelper(BPF_PROG_TYPE_XDP)).to.throw(TypeError)
      expect(() => n.probeAttach('warp-drive')).to.throw(TypeError, /unknown attach kind/)
      expect(() => n.probeAttach(42)).to.throw(TypeError)
      expect(() => n.probeAttach('xdp', 42)).to.throw(TypeError)
    })
  })

  describe('libbpf probes', function () {
    before(requireRoot)

    it('libbpfVersion() matches pkg-config --modversion libbpf (major.minor)', function () {
      let modversion: string
      try {
        modversion = run('pkg-config', ['--modversion', 'libbpf']).trim()
      } catch (error) {
        console.log(`      skipping: pkg-config libbpf unavailable (${(error as Error).message.split('\n')[0]})`)
        this.skip()
      }
      expect(native.libbpfVersion()).to.equal(modversion.split('.').slice(0, 2).join('.'))
    })

    it('probeProgType(BPF_PROG_TYPE_XDP) is ok', function () {
      const r = native.probeProgType(BPF_PROG_TYPE_XDP)
      expectOk(r)
      expect(r.message).to.include('BPF_PROG_TYPE_XDP')
    })

    it('probeProgType(9999) fails with an errno', function () {
      const r = native.probeProgType(9999)
      expectWellFormed(r)
      expect(r.ok).to.equal(false)
      expect(r.errno).to.be.greaterThan(0)
    })

    it('probeMapType(BPF_MAP_TYPE_RINGBUF) is ok, probeMapType(9999) is not', function () {
      const r = native.probeMapType(BPF_MAP_TYPE_RINGBUF)
      expectOk(r)
      expect(r.message).to.include('BPF_MAP_TYPE_RINGBUF')
      const bad = native.probeMapType(9999)
      expectWellFormed(bad)
      expect(bad.ok).to.equal(false)
    })

    it('probeHelper(XDP, bpf_xdp_adjust_head) is ok', function () {
      expectOk(native.probeHelper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_adjust_head))
    })

    it('probeHelper(XDP, bpf_override_return) is rejected by the verifier', function () {
      // libbpf 1.1 alone calls this "supported": it does not know the 6.x verifier wording
      const r = native.probeHelper(BPF_PROG_TYPE_XDP, BPF_FUNC_override_return)
      expectFailure(r, 'load', 'EINVAL')
      expect(r.detail, show(r)).to.match(/override_return/)
    })

    it('probeHelper with an unknown helper id is rejected', function () {
      const r = native.probeHelper(BPF_PROG_TYPE_XDP, 9999)
      expectFailure(r, 'load', 'EINVAL')
    })
  })

  describe('probeAttach', function () {
    before(requireRoot)

    for (const kind of ['raw_tracepoint', 'uprobe', 'uretprobe', 'uprobe.multi', 'xdp', 'xdp.native', 'tc', 'tcx', 'cgroup'] as const) {
      it(`${kind} loads and attaches`, function () {
        const r = native.probeAttach(kind)
        expectOk(r)
        expect(r.message, show(r)).to.match(/^attached via /)
        expect(r.detail, show(r)).to.be.a('string')
      })
    }

    it('tcx reports the link it used', function () {
      const r = native.probeAttach('tcx')
      expectOk(r)
      expect(r.message).to.equal('attached via bpf_link_create(BPF_TCX_INGRESS)')
      expect(r.detail).to.equal('lo in a private netns')
    })

    it('tc and tcx also attach on egress', function () {
      expectOk(native.probeAttach('tc', 'egress'))
      const r = native.probeAttach('tcx', 'egress')
      expectOk(r)
      expect(r.message).to.include('BPF_TCX_EGRESS')
    })

    for (const kind of ['kprobe', 'kretprobe'] as const) {
      it(`${kind} fails at stage 'attach' with ENOENT when there is no kprobe PMU`, function () {
        if (existsSync(KPROBE_PMU)) {
          console.log(`      skipping: ${KPROBE_PMU} exists on this kernel (CONFIG_KPROBES is set)`)
          this.skip()
        }
        const r = native.probeAttach(kind)
        expectFailure(r, 'attach', 'ENOENT')
        expect(r.message).to.include(KPROBE_PMU)
      })
    }

    it('kprobe.multi reports a real errno when it cannot attach', function () {
      const r = native.probeAttach('kprobe.multi')
      expectWellFormed(r)
      if (!r.ok) {
        expect(['load', 'attach'], show(r)).to.include(r.stage)
        expect(r.message, show(r)).to.include('BPF_TRACE_KPROBE_MULTI')
      }
    })

    for (const kind of ['fentry', 'fexit'] as const) {
      it(`${kind} either attaches or fails to load with EPERM`, function () {
        const r = native.probeAttach(kind)
        expectWellFormed(r)
        if (!r.ok) {
          expect(r.stage, show(r)).to.equal('load')
          expect(r.errno, show(r)).to.equal(constants.errno.EPERM)
          expect(r.code, show(r)).to.equal('EPERM')
          expect(r.message, show(r)).to.include('BPF_PROG_TYPE_TRACING')
        }
        expect(r.detail, show(r)).to.match(/bpf_fentry_test1|do_getpgid/)
      })
    }

    it('lsm returns a well-formed result naming its hook', function () {
      const r = native.probeAttach('lsm')
      expectWellFormed(r)
      if (!r.ok) expect(['load', 'attach'], show(r)).to.include(r.stage)
      expect(`${r.message} ${r.detail ?? ''}`).to.include('bpf_lsm_file_open')
    })

    it('deferred teardown: a uprobe.multi link stays until releaseProbes(), then a teardown process detaches it', async function () {
      const bpfLinks = () => (JSON.parse(execFileSync('bpftool', ['-j', 'link', 'list'], {encoding: 'utf8'}) || '[]') as unknown[]).length
      const before = bpfLinks()
      const r = await native.probeAsync({op: 'attach', kind: 'uprobe.multi'}, {deferTeardown: true})
      expectOk(r)
      expect(bpfLinks(), 'still attached after the probe answered').to.equal(before + 1)
      const rel = await native.releaseProbes()
      expect(rel.error).to.equal(undefined)
      expect(rel.fds).to.equal(2) // the link and its program
      expect(rel.pid).to.be.greaterThan(0)
      const deadline = Date.now() + 10_000
      while (bpfLinks() > before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(bpfLinks(), 'detached by the teardown process').to.equal(before)
      expect(await native.releaseProbes()).to.deep.equal({fds: 0, pid: 0})
    })

    it('mapFile maps the sysfs BTF read-only (the same bytes as reading it) and gives undefined for what it cannot map', function () {
      const path = '/sys/kernel/btf/vmlinux'
      if (!existsSync(path)) {
        console.log(`      skipping: ${path} does not exist`)
        this.skip()
      }
      const mapped = native.mapFile(path)
      if (!mapped) {
        console.log('      skipping: this kernel does not allow mapping its BTF (before 6.16); doctor reads it instead')
        this.skip()
      }
      expect(mapped.equals(readFileSync(path))).to.equal(true)
      expect(native.mapFile('/nonexistent/ebp')).to.equal(undefined)
      expect(native.mapFile('/proc/self/status')).to.equal(undefined) // size 0: not mappable
    })

    describe('targets', function () {
      it('uprobe accepts an explicit "<path>:<offset>" target', function () {
        const first = native.probeAttach('uprobe')
        expectOk(first)
        const again = native.probeAttach('uprobe', first.detail)
        expectOk(again)
        expect(again.detail).to.equal(first.detail)
        expectOk(native.probeAttach('uprobe.multi', first.detail))
      })

      it('malformed or missing targets fail at stage setup', function () {
        expectFailure(native.probeAttach('uprobe', 'no-offset-here'), 'setup', 'EINVAL')
        expectFailure(native.probeAttach('uprobe', '/nonexistent/binary:0x10'), 'setup', 'ENOENT')
        expectFailure(native.probeAttach('kprobe', 'ebpfperf_no_such_function'), 'setup', 'ENOENT')
        expectFailure(native.probeAttach('fentry', 'ebpfperf_no_such_function'), 'setup', 'ENOENT')
        expectFailure(native.probeAttach('raw_tracepoint', 'ebpfperf_no_such_tp'), 'attach', 'ENOENT')
        expectFailure(native.probeAttach('xdp', 'eth0'), 'setup', 'EINVAL')
        expectFailure(native.probeAttach('tc', 'sideways'), 'setup', 'EINVAL')
      })

      it('cgroup attaches to a caller-given cgroup directory and leaves it in place', function () {
        const mount = cgroup2Mount()
        if (!mount) {
          console.log('      skipping: no cgroup2 mount')
          this.skip()
        }
        const dir = join(mount, `ebp-test-${process.pid}`)
        mkdirSync(dir)
        try {
          const r = native.probeAttach('cgroup', dir)
          expectOk(r)
          expect(r.detail).to.equal(dir)
          expect(existsSync(dir), 'caller-given cgroup directory must not be removed').to.equal(true)
        } finally {
          rmdirSync(dir)
        }
      })
    })

    describe('tracepoint', function () {
      let mountedByUs = false

      after(function () {
        if (mountedByUs) run('umount', [TRACEFS])
      })

      it("fails at stage 'setup' while tracefs is not mounted, attaches once it is", function () {
        if (!tracefsMounted()) {
          const r = native.probeAttach('tracepoint')
          expectFailure(r, 'setup', 'ENOENT')
          expect(r.message).to.equal('tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)')
          try {
            run('mount', ['-t', 'tracefs', 'nodev', TRACEFS])
            mountedByUs = true
          } catch (error) {
            console.log(`      skipping the success path: cannot mount tracefs (${(error as Error).message.split('\n')[0]})`)
            this.skip()
          }
        }
        const r = native.probeAttach('tracepoint')
        expectOk(r)
        expect(r.detail).to.equal('syscalls/sys_enter_getppid')
        expectOk(native.probeAttach('tracepoint', 'syscalls:sys_exit_getppid'))
        expectFailure(native.probeAttach('tracepoint', 'ebpfperf/no_such_event'), 'setup', 'ENOENT')
      })
    })
  })

  describe('cleanliness', function () {
    before(requireRoot)

    it('every kind returns a well-formed result and nothing leaks (fds, links, cgroups, netns)', function () {
      const mount = cgroup2Mount()
      const netnsBefore = run('ip', ['netns', 'list'])
      const ownNetns = readlinkSync('/proc/self/ns/net')
      const linksBefore = hostLinks()
      // warm up once so lazily-opened fds (libbpf feature probes, ...) are already there
      for (const kind of ATTACH_KINDS) native.probeAttach(kind)
      const fdsBefore = ourFds()

      const timings: string[] = []
      for (const kind of ATTACH_KINDS) {
        const start = process.hrtime.bigint()
        const r = native.probeAttach(kind as AttachKind)
        const ms = Number(process.hrtime.bigint() - start) / 1e6
        expectWellFormed(r)
        timings.push(`${kind.padEnd(15)} ${ms.toFixed(1).padStart(7)} ms  ${r.ok ? 'ok' : `${r.stage} ${r.code}`}`)
      }
      console.log(`      probe timings:\n${timings.map((t) => `        ${t}`).join('\n')}`)

      const fdsAfter = ourFds()
      expect(fdsAfter.bpf, 'bpf/perf fds left open').to.deep.equal(fdsBefore.bpf)
      expect(fdsAfter.count, 'fd count').to.equal(fdsBefore.count)
      expect(readlinkSync('/proc/self/ns/net'), 'main thread network namespace').to.equal(ownNetns)
      expect(hostLinks().filter((l) => l.startsWith('ebp-')), 'ebp- links in the host').to.deep.equal([])
      expect(hostLinks()).to.deep.equal(linksBefore)
      expect(run('ip', ['netns', 'list']), 'ip netns list').to.equal(netnsBefore)
      if (mount) expect(readdirSync(mount).filter((d) => d.startsWith('ebp-probe-')), `ebp-probe-* in ${mount}`).to.deep.equal([])
    })
  })
})
