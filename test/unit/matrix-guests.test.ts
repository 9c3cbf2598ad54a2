// matrix over guest kernels without booting one: column labels from --kernel, how many guests at once,
// the doctor command a guest runs, and a verifier-rejected program's lines kept per kernel in the table.
import {expect} from 'chai'
import {guestDoctorArgs, guestJobs, parseKernelSpec} from '../../src/matrix/guests.js'
import {buildMatrix, renderMatrix} from '../../src/matrix/table.js'
import type {DoctorReport} from '../../src/doctor/index.js'

const withObject = (release: string, rejectedLog: string[] | undefined, kprobe: 'pass' | 'fail'): DoctorReport =>
  ({
    schema: 'ebpfperf/doctor/v1',
    kernel: {release},
    findings: [],
    verdicts: [],
    objects: [{
      name: 't.bpf.o',
      programs: [
        {name: 'bad', status: rejectedLog ? 'fail' : 'pass', because: rejectedLog ? 'load EACCES: the verifier rejected it' : undefined, live: rejectedLog ? {loaded: false, code: 'EACCES', log: rejectedLog} : {loaded: true}},
        {name: 'kp', status: kprobe, because: kprobe === 'fail' ? 'attach ENOENT: this kernel has no kprobe PMU' : undefined, live: {loaded: true, attached: kprobe === 'pass'}},
      ],
    }],
  }) as unknown as DoctorReport

describe('matrix over guest kernels (no guest booted)', () => {
  it('labels a column by the package without linux-image-, or by LABEL=', () => {
    expect(parseKernelSpec('linux-image-cloud-amd64')).to.deep.equal({label: 'cloud-amd64', kernel: 'linux-image-cloud-amd64'})
    expect(parseKernelSpec('linux-image-6.12-cloud-amd64').label).to.equal('6.12-cloud-amd64')
    expect(parseKernelSpec('old=/boot/vmlinuz-6.1.0-57-amd64')).to.deep.equal({label: 'old', kernel: '/boot/vmlinuz-6.1.0-57-amd64'})
    expect(parseKernelSpec('./debs/linux-image-6.1.0-57-amd64_6.1.192-3_amd64.deb').label).to.equal('6.1.0-57-amd64')
    expect(parseKernelSpec('/k/a=b/vmlinuz')).to.deep.equal({label: 'vmlinuz', kernel: '/k/a=b/vmlinuz'})
  })

  it('boots one guest per CPU while the free memory holds them, and always at least one', () => {
    expect(guestJobs(1024, 2, 22_000)).to.equal(2)
    expect(guestJobs(1024, 8, 3000)).to.equal(2)
    expect(guestJobs(4096, 2, 1000)).to.equal(1)
  })

  it('runs doctor in the guest with its own config, the same profiles, and the objects by absolute path', () => {
    const args = guestDoctorArgs({config: '/cache/boot/config-6.1'}, {objects: ['rel/t.bpf.o'], profiles: ['tracing'], programs: ['kp']})
    expect(args.slice(0, 4)).to.deep.equal(['doctor', '--json', '--kconfig', '/cache/boot/config-6.1'])
    expect(args).to.include.members(['--profile', 'tracing', '--program', 'kp'])
    expect(args[args.indexOf('--object') + 1]).to.equal(`${process.cwd()}/rel/t.bpf.o`)
    expect(guestDoctorArgs({}, {})).to.deep.equal(['doctor', '--json'])
  })

  it('lists programs as rows; a rejected program keeps the verifier\'s last lines per kernel, kernels that agree share them', () => {
    const log = ['0: (b7) r1 = 0', '5: (79) r1 = *(u64 *)(r0 +0)', "R0 invalid mem access 'map_value_or_null'", 'processed 6 insns']
    const m = buildMatrix([
      {label: 'host', report: withObject('6.18', log, 'fail')},
      {label: 'cloud', report: withObject('6.1', log, 'pass')},
      {label: '6.12', report: withObject('6.12', [...log.slice(0, 3), 'processed 7 insns'], 'pass')},
      {label: 'gone', error: 'timeout: the guest did not finish within 600 s (--timeout)'},
    ])
    const kp = m.rows.find((r) => r.key === 'program:t.bpf.o/kp')!
    expect(kp.differs).to.equal(true)
    expect(m.rows[0].key).to.equal('program:t.bpf.o/kp') // the difference first
    const bad = m.rows.find((r) => r.key === 'program:t.bpf.o/bad')!
    expect(bad.differs).to.equal(false)
    expect(Object.values(bad.cells).map((c) => c.log?.at(-1))).to.deep.equal(['processed 6 insns', 'processed 6 insns', 'processed 7 insns'])
    expect(m.exitCode).to.equal(1)
    const text = renderMatrix(m)
    expect(text).to.match(/t\.bpf\.o: kp\s+FAIL\s+pass\s+pass\s+TIMEOUT/)
    expect(text).to.match(/t\.bpf\.o: bad\s+FAIL\s+FAIL\s+FAIL/) // shown though the same everywhere: it is a program
    expect(text).to.match(/verifier rejected t\.bpf\.o: bad:\n  on host, cloud:\n(    \| .*\n){3}    \| processed 6 insns\n  on 6\.12:/)
    expect(text).to.match(/gone: not judged: timeout: /)
  })
})
