// doctor --object without the kernel: the ELF reader, section meanings, the offline checks against a BTF
// (this machine's vmlinux BTF as the "other kernel"), and bad input.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Btf} from '../../src/kernel/btf.js'
import {ElfFile, coreRelos, definesFunction, objectPrograms} from '../../src/doctor/object-elf.js'
import {sectionInfo} from '../../src/doctor/object-sections.js'
import {coreEvidence, helperEvidence, mapEvidence, targetEvidence, type KernelView} from '../../src/doctor/object-checks.js'
import {readObjects} from '../../src/doctor/object.js'
import {splitLog} from '../../src/doctor/object-live.js'
import {BadInputError} from '../../src/util/errors.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const VMLINUX = '/sys/kernel/btf/vmlinux'

describe('doctor --object, offline parts', function () {
  this.timeout(60_000)
  let fixture: string
  let btf: Btf
  before(function () {
    if (!existsSync(VMLINUX)) this.skip()
    const dir = tempDir('doctor-object')
    fixture = join(dir, 'doctor-object.bpf.o')
    const r = spawnSync('clang', ['-g', '-O2', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(root, 'test/fixtures/object/doctor-object.bpf.c'), '-o', fixture], {encoding: 'utf8'})
    if (r.status !== 0) throw new Error(`clang: ${r.stderr}`)
    btf = Btf.fromFile(VMLINUX)
  })
  const view = (): KernelView => ({live: false, btf, btfPath: VMLINUX})

  it('finds each program, its section, the helpers it calls and the maps it uses', () => {
    const progs = objectPrograms(ElfFile.read(fixture))
    expect(progs.map((p) => `${p.name}@${p.section}`)).to.deep.equal(['good_xdp@xdp', 'rejected_xdp@xdp', 'core_pid@raw_tp/sys_enter', 'core_missing@raw_tp/sys_enter'])
    const good = progs.find((p) => p.name === 'good_xdp')!
    expect(good.helpers).to.deep.equal([1]) // bpf_map_lookup_elem
    expect(good.maps).to.deep.equal(['counts'])
    expect(progs.find((p) => p.name === 'rejected_xdp')!.maps).to.deep.equal(['seen'])
    expect(progs.find((p) => p.name === 'core_pid')!.helpers).to.include.members([35, 113]) // get_current_task, probe_read_kernel
  })

  it('reads the map types from the object\'s BTF and checks them against the kernel\'s enum', () => {
    const [o] = readObjects([fixture])
    expect(o.btf).to.not.equal(undefined)
    const ev = mapEvidence([{name: 'seen', type: 1}, {name: 'future', type: 999}], view())
    expect(ev.map((e) => e.status)).to.deep.equal(['pass', 'fail'])
    expect(ev[1].value).to.match(/newer than this kernel/)
  })

  it('names CO-RE accesses, strips ___flavours, and fails only the field the kernel lacks', () => {
    const [o] = readObjects([fixture])
    const relos = coreRelos(o.elf, (off) => o.btf!.stringAt(off))
    expect(relos.length).to.be.greaterThan(1)
    const ev = coreEvidence(relos, o.btf, view())
    const byWhat = Object.fromEntries(ev.map((e) => [e.what, e.status]))
    expect(byWhat['CO-RE task_struct.pid']).to.equal('pass')
    expect(byWhat['CO-RE task_struct.ebpfperf_no_such_field']).to.equal('fail')
    expect(coreEvidence(relos, o.btf, {live: false})[0].status).to.equal('unknown')
  })

  it('maps section names to types, attach types and targets as libbpf does', () => {
    expect(sectionInfo('fentry/do_getpgid')).to.include({progType: 'tracing', attachType: 'BPF_TRACE_FENTRY', target: 'do_getpgid', trace: 'fentry'})
    expect(sectionInfo('tp_btf/sys_enter')).to.include({progType: 'tracing', attachType: 'BPF_TRACE_RAW_TP', targetKind: 'raw-tracepoint'})
    expect(sectionInfo('tp/syscalls/sys_enter_getpid')).to.include({progType: 'tracepoint', target: 'syscalls/sys_enter_getpid'})
    expect(sectionInfo('kprobe.multi/tcp_*')).to.include({trace: 'kprobe.multi', target: 'tcp_*'})
    expect(sectionInfo('kprobe')).to.include({target: '', defaultTarget: 'do_getpgid'})
    expect(sectionInfo('xdp')).to.include({progType: 'xdp', targetKind: 'none'})
    expect(sectionInfo('not_a_section')).to.equal(undefined)
  })

  it('checks attach targets in the target kernel\'s BTF', () => {
    const k = view()
    expect(targetEvidence(sectionInfo('fentry/do_getpgid')!, 'do_getpgid', k).status).to.equal('pass')
    expect(targetEvidence(sectionInfo('fentry/x')!, 'ebpfperf_no_such_function', k).status).to.equal('fail')
    expect(targetEvidence(sectionInfo('raw_tp/x')!, 'sys_enter', k).status).to.equal('pass')
    expect(targetEvidence(sectionInfo('lsm/x')!, 'file_open', k).status).to.equal('pass')
    expect(targetEvidence(sectionInfo('lsm/x')!, 'no_such_hook', k).status).to.equal('fail')
    // offline, a kprobe target is looked up in BTF and says so
    const kp = targetEvidence(sectionInfo('kprobe/x')!, 'do_getpgid', k)
    expect(kp.status).to.equal('pass')
    expect(kp.value).to.match(/kallsyms is not read offline/)
    expect(targetEvidence(sectionInfo('fentry/x')!, 'do_getpgid', {live: false}).status).to.equal('unknown')
  })

  it('checks uprobe binaries and symbols on this machine', () => {
    const libc = ['/lib/x86_64-linux-gnu/libc.so.6', '/lib/aarch64-linux-gnu/libc.so.6'].find((p) => existsSync(p))
    if (libc) {
      expect(definesFunction(ElfFile.read(libc), 'malloc')).to.equal(true)
      expect(targetEvidence(sectionInfo('uprobe/x')!, `${libc}:malloc`, view()).status).to.equal('pass')
      expect(targetEvidence(sectionInfo('uprobe/x')!, `${libc}:ebpfperf_no_such_symbol`, view()).status).to.equal('fail')
    }
    expect(targetEvidence(sectionInfo('uprobe/x')!, '/no/such/binary:main', view()).value).to.match(/does not exist/)
  })

  it('judges helpers by the kernel\'s enum bpf_func_id', () => {
    const ev = helperEvidence([1, 100000], view())
    expect(ev[0]).to.include({what: 'bpf_map_lookup_elem', status: 'pass'})
    expect(ev[1].status).to.equal('fail')
  })

  it('bad input: not ELF, not BPF, a missing file, an unknown program: one BadInputError each', () => {
    const dir = tempDir('doctor-object-bad')
    const text = join(dir, 'notes.bpf.o')
    writeFileSync(text, 'hello\n')
    expect(() => readObjects([text])).to.throw(BadInputError, /not an ELF file/)
    expect(() => readObjects(['/bin/ls'])).to.throw(BadInputError, /not a BPF object/)
    expect(() => readObjects([join(dir, 'missing.bpf.o')])).to.throw(BadInputError, /no such file/)
    expect(() => readObjects([fixture], ['nope'])).to.throw(BadInputError, /--program nope: no such program .*good_xdp/)
    expect(readObjects([fixture], ['good_xdp'])[0].programs.map((p) => p.name)).to.deep.equal(['good_xdp'])
  })

  it('splits libbpf\'s log into the verifier\'s lines and its own', () => {
    const log = "libbpf: prog 'x': BPF program load failed: Permission denied\nlibbpf: prog 'x': -- BEGIN PROG LOAD LOG --\n0: (b7) r0 = 0\nR0 invalid mem access 'map_value_or_null'\nprocessed 4 insns\n-- END PROG LOAD LOG --\nlibbpf: failed to load object 'o'\n"
    const s = splitLog(log)
    expect(s.verifier).to.deep.equal(['0: (b7) r0 = 0', "R0 invalid mem access 'map_value_or_null'", 'processed 4 insns'])
    expect(s.libbpf).to.deep.equal(['BPF program load failed: Permission denied', "failed to load object 'o'"])
    expect(splitLog("libbpf: prog 'x': BPF program load failed: Operation not permitted\n").verifier).to.deep.equal([])
  })
})
