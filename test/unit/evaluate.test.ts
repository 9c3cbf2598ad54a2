// Findings and verdicts from fixture facts: a config file, recorded probe results, a described system.
import {expect} from 'chai'
import {Kconfig} from '../../src/kernel/kconfig.js'
import {evaluateCheck, releaseAtLeast, verdictFor} from '../../src/doctor/evaluate.js'
import {buildReport} from '../../src/doctor/index.js'
import {loadProfile, parseProfile, type Check} from '../../src/doctor/profile.js'
import type {Facts} from '../../src/doctor/facts.js'
import type {ProbeResult} from '../../src/native.js'

const fx = (f: string) => new URL(`../fixtures/${f}`, import.meta.url).pathname
const ok = (message = 'ok'): ProbeResult => ({ok: true, stage: 'ok', errno: 0, code: '', message})
const refused = (stage: ProbeResult['stage'], code: string, errno: number): ProbeResult => ({ok: false, stage, errno, code, message: `${stage} failed: ${code}`})

function facts(over: Partial<Facts> & {probes?: Record<string, ProbeResult>} = {}): Facts {
  const probes = over.probes ?? {}
  return {
    release: '6.1.0',
    machine: 'x86_64',
    live: true,
    kconfig: Kconfig.fromFile(fx('kconfig/config-6.1-sample')),
    kconfigDiscovery: {path: fx('kconfig/config-6.1-sample'), via: '--kconfig', tried: []},
    btfTried: [],
    probe: (spec: string) => probes[spec] ?? ok(),
    sysctls: new Map([['net.core.bpf_jit_enable', '1'], ['kernel.bpf_stats_enabled', '0']]),
    mounts: [{source: 'bpffs', target: '/sys/fs/bpf', fstype: 'bpf'}],
    capEff: (1n << 39n) | (1n << 38n) | (1n << 12n) | (1n << 21n),
    lockdownSource: 'securityfs not mounted',
    lsmSource: 'securityfs not mounted',
    tools: new Map([['iperf3', {name: 'iperf3', package: 'iperf3', path: '/usr/bin/iperf3', version: '3.12'}]]),
    ...over,
  }
}

const check = (c: Partial<Check>): Check => ({id: 'c', group: 'g', title: 't', required: false, cases: ['case-a'], kconfig: [], kconfigAny: [], module: {}, probe: [], btf: [], cap: [], tool: [], ...c})

describe('doctor evaluation', () => {
  it('config =y and a successful probe pass', () => {
    const f = evaluateCheck('p', check({kconfig: ['BPF_SYSCALL'], probe: ['prog:xdp']}), facts())
    expect(f.status).to.equal('pass')
    expect(f.evidence[0]).to.include({kind: 'kconfig', status: 'pass', value: 'CONFIG_BPF_SYSCALL=y'})
    expect(f.disagreement).to.equal(undefined)
  })

  it('config says yes but the kernel says EPERM: the probe wins and the disagreement is explained', () => {
    const f = evaluateCheck('p', check({kconfig: ['DEBUG_INFO_BTF', 'DYNAMIC_FTRACE_WITH_DIRECT_CALLS'], probe: ['attach:fentry']}), facts({probes: {'attach:fentry': refused('load', 'EPERM', 1)}}))
    expect(f.status).to.equal('warn') // optional check: a failure downgrades to warn, cases skipped
    expect(f.disagreement).to.match(/config allows it .*CONFIG_DEBUG_INFO_BTF=y.* but the kernel refused: attach:fentry load failed with EPERM/)
    expect(f.fixes.map((x) => x.text).join(' ')).to.match(/lockdown/)
    const required = evaluateCheck('p', check({required: true, kconfig: ['DEBUG_INFO_BTF'], probe: ['attach:fentry']}), facts({probes: {'attach:fentry': refused('load', 'EPERM', 1)}}))
    expect(required.status).to.equal('fail')
  })

  it('config says not set but the probe works: pass, and the config is questioned', () => {
    const f = evaluateCheck('p', check({kconfig: ['BPF_LSM'], probe: ['attach:lsm']}), facts())
    expect(f.status).to.equal('pass')
    expect(f.disagreement).to.match(/config of the running kernel/)
  })

  it('without a config and offline an option is unknown, never "not set"', () => {
    const f = evaluateCheck('p', check({kconfig: ['KPROBES'], probe: ['attach:kprobe']}), facts({kconfig: undefined, live: false}))
    expect(f.status).to.equal('unknown')
    expect(f.evidence[0].value).to.match(/unknown/).and.not.match(/not set/)
    expect(f.evidence[1]).to.include({status: 'skip'})
  })

  it('=m is judged by the module (unknown module name says so)', () => {
    const f = evaluateCheck('p', check({kconfig: ['NET_ACT_BPF']}), facts({live: false}))
    expect(f.evidence[0].value).to.match(/=m \(module; its name is not known/)
  })

  it('kconfig_any passes when one alternative is set and shows both values', () => {
    const f = evaluateCheck('p', check({kconfigAny: ['HAVE_CBPF_JIT', 'HAVE_EBPF_JIT']}), facts())
    expect(f.status).to.equal('pass')
    expect(f.evidence.map((e) => e.status)).to.deep.equal(['fail', 'pass'])
  })

  it('a missing mount gives a safe fix with the mount command', () => {
    const f = evaluateCheck('p', check({mount: 'tracefs'}), facts())
    expect(f.status).to.equal('warn')
    expect(f.fixes[0]).to.deep.include({command: 'mount -t tracefs nodev /sys/kernel/tracing', action: {type: 'mount', fstype: 'tracefs', target: '/sys/kernel/tracing'}})
  })

  it('a sysctl outside the wanted values gives a sysctl fix; capabilities and tools are checked', () => {
    const f = evaluateCheck('p', check({sysctl: {name: 'net.core.bpf_jit_enable', want: ['1'], set: '1'}, cap: ['CAP_BPF'], tool: ['iperf3', 'nosuchtool']}), facts({sysctls: new Map([['net.core.bpf_jit_enable', '0']])}))
    expect(f.evidence.find((e) => e.kind === 'sysctl')).to.include({status: 'warn', value: '0 (JIT off: programs run in the interpreter)'})
    expect(f.evidence.find((e) => e.kind === 'cap')).to.include({status: 'pass'})
    expect(f.evidence.find((e) => e.what === 'nosuchtool')).to.include({status: 'fail'})
    expect(f.fixes.map((x) => x.command)).to.include.members(['sysctl -w net.core.bpf_jit_enable=1', 'apt-get install -y nosuchtool'])
  })

  it('the LSM list falls back to CONFIG_LSM when securityfs is not mounted', () => {
    const f = evaluateCheck('p', check({lsm: 'bpf'}), facts({cmdline: 'quiet'}))
    expect(f.evidence[0]).to.include({status: 'fail', source: 'kernel config'})
    const g = evaluateCheck('p', check({lsm: 'bpf'}), facts({lsms: ['lockdown', 'bpf'], lsmSource: '/sys/kernel/security/lsm'}))
    expect(g.evidence[0]).to.include({status: 'pass'})
  })

  it('verdicts: runs / runs with skips / cannot run', () => {
    const p = loadProfile(fx('profiles/user.profile.yml'))
    const good = facts({probes: {}})
    // BPF_LSM is not set in the fixture config: the optional case is skipped
    const r1 = buildReport(good, [p])
    expect(r1.verdicts[0]).to.include({verdict: 'runs-with-skips'})
    expect(r1.verdicts[0].skipped.map((s) => s.case)).to.deep.equal(['audit'])
    expect(r1.exitCode).to.equal(0)
    const r2 = buildReport(facts({probes: {'prog:xdp': refused('load', 'EINVAL', 22)}}), [p])
    expect(r2.verdicts[0]).to.include({verdict: 'cannot-run'})
    expect(r2.exitCode).to.equal(1)
    const all = parseProfile({schema: 'ebpfperf/profile/v1', name: 'x', suite: 'x', checks: [{id: 'a', required: true, kconfig: ['BPF']}]}, 'inline')
    expect(verdictFor(all, buildReport(good, [all]).findings).verdict).to.equal('runs')
  })

  it('the seed profile covers every option of the seed table, grouped as there', () => {
    const p = loadProfile('kernel-config')
    expect(p.checks).to.have.length(24)
    expect([...new Set(p.checks.map((c) => c.group))]).to.deep.equal(['Basic', 'BTF', 'Cgroup', 'Network', 'kprobes', 'kprobe multi', 'kprobe override', 'Tracepoints', 'LSM'])
    const named = p.checks.flatMap((c) => [...c.kconfig, ...c.kconfigAny])
    for (const o of ['BPF_SYSCALL', 'BPF_JIT', 'HAVE_BPF_JIT', 'HAVE_EBPF_JIT', 'HAVE_CBPF_JIT', 'MODULES', 'BPF', 'DEBUG_INFO_BTF', 'DEBUG_INFO_BTF_MODULES', 'BPF_UNPRIV_DEFAULT_OFF', 'CGROUP_BPF', 'BPFILTER', 'NET_CLS_BPF', 'NET_ACT_BPF', 'BPF_STREAM_PARSER', 'KPROBE_EVENTS', 'KPROBES', 'HAVE_KPROBES', 'HAVE_REGS_AND_STACK_ACCESS_API', 'FPROBE', 'BPF_KPROBE_OVERRIDE', 'TRACEPOINTS', 'HAVE_SYSCALL_TRACEPOINTS', 'BPF_LSM']) {
      expect(named, o).to.include(o)
    }
  })
})

describe('doctor: kernel release comparison', () => {
  it('compares major.minor of a release, distribution suffixes and all', () => {
    expect(releaseAtLeast('5.11.0', 5, 11)).to.equal(true)
    expect(releaseAtLeast('6.1.0-18-amd64', 5, 11)).to.equal(true)
    expect(releaseAtLeast('5.10.209-1', 5, 11)).to.equal(false)
    expect(releaseAtLeast('4.19.0', 5, 11)).to.equal(false)
    expect(releaseAtLeast('5.9', 5, 11)).to.equal(false)
    expect(releaseAtLeast('unknown', 5, 11)).to.equal(false)
  })
})
