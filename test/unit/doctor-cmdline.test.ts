// The command line and sysctls judged with desired, actual and decision, from files saved on another host.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {cmdlineFindings, parseCmdline, parseSysctlDump, sysctlFindings} from '../../src/doctor/cmdline.js'
import {readOfflineInputs} from '../../src/doctor/offline.js'
import {Kconfig} from '../../src/kernel/kconfig.js'
import {BadInputError} from '../../src/util/errors.js'
import type {DoctorReport} from '../../src/doctor/index.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname

describe('doctor: command line and sysctls', function () {
  this.timeout(60_000)
  it('parses parameters (bare flags, quotes) and stops at init\'s arguments', () => {
    const p = parseCmdline('BOOT_IMAGE=/vmlinuz lsm="lockdown,bpf" nomodule quiet -- --init-flag=1')
    expect(p.get('lsm')).to.equal('lockdown,bpf')
    expect(p.get('nomodule')).to.equal('')
    expect(p.has('--init-flag')).to.equal(false)
  })

  it('judges lsm=, lockdown=, mitigations= and nomodule against the config', () => {
    const dir = tempDir('cmdline')
    const cfg = join(dir, 'config')
    writeFileSync(cfg, 'CONFIG_LSM="lockdown,yama,bpf"\nCONFIG_NET_CLS_BPF=m\n')
    const k = Kconfig.fromFile(cfg)
    const by = (text: string) => Object.fromEntries(cmdlineFindings(text, 'x', k).map((f) => [f.id, f]))
    const hard = by('lsm=lockdown,yama lockdown=confidentiality mitigations=off nomodule')
    expect(hard['cmdline.lsm']).to.include({decision: 'warn', actual: 'lsm=lockdown,yama', desired: 'contains bpf'})
    expect(hard['cmdline.lockdown'].decision).to.equal('warn')
    expect(hard['cmdline.mitigations'].decision).to.equal('warn')
    expect(hard['cmdline.nomodule']).to.include({decision: 'fail', status: 'fail'})
    expect(hard['cmdline.nomodule'].fixes[0].text).to.match(/CONFIG_NET_CLS_BPF/)
    const plain = by('quiet')
    expect(plain['cmdline.lsm']).to.include({decision: 'pass'})
    expect(plain['cmdline.lsm'].actual).to.match(/CONFIG_LSM default: lockdown,yama,bpf/)
    expect(plain['cmdline.nomodule'].decision).to.equal('pass')
    for (const f of Object.values(plain)) expect(f.required).to.equal(false)
  })

  it('judges a saved `sysctl -a`; an absent key is unknown, not a pass', () => {
    const v = parseSysctlDump('net.core.bpf_jit_enable = 0\nkernel.bpf_stats_enabled = 1\nsysctl: permission denied on key x\n')
    const f = Object.fromEntries(sysctlFindings(v, 'f').map((x) => [x.id, x]))
    expect(f['net.core.bpf_jit_enable']).to.include({decision: 'fail', actual: '0 (JIT off: programs run in the interpreter)', desired: '1'})
    expect(f['kernel.bpf_stats_enabled'].decision).to.equal('warn')
    expect(f['kernel.ftrace_enabled'].decision).to.equal('unknown')
  })

  it('bad input: an empty or binary cmdline, a sysctl file without settings: one line each', () => {
    const dir = tempDir('cmdline-bad')
    writeFileSync(join(dir, 'empty'), '\n')
    writeFileSync(join(dir, 'junk'), 'hello world\n')
    expect(() => readOfflineInputs(join(dir, 'empty'))).to.throw(BadInputError, /--cmdline .*not a kernel command line/)
    expect(() => readOfflineInputs(undefined, join(dir, 'junk'))).to.throw(BadInputError, /--sysctl .*sysctl -a > FILE/)
    expect(() => readOfflineInputs(join(dir, 'missing'))).to.throw(BadInputError, /no such file/)
  })

  it('the CLI offline: JSON findings carry desired, actual and decision; the profiles\' sysctl checks read the file', () => {
    const dir = tempDir('cmdline-cli')
    writeFileSync(join(dir, 'cmdline'), 'lsm=lockdown,bpf mitigations=off\n')
    writeFileSync(join(dir, 'sysctl'), 'net.core.bpf_jit_enable = 0\n')
    const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), 'doctor', '--no-live', '--profile', 'kernel-config', '--cmdline', join(dir, 'cmdline'), '--sysctl', join(dir, 'sysctl'), '--json'], {encoding: 'utf8'})
    const rep = JSON.parse(r.stdout) as DoctorReport
    const f = rep.findings.find((x) => x.id === 'cmdline.mitigations') as unknown as {desired: string; actual: string; decision: string}
    expect(f).to.include({actual: 'mitigations=off', decision: 'warn'})
    const jit = rep.findings.find((x) => x.id === 'BPF_JIT')!
    expect(jit.evidence.find((e) => e.kind === 'sysctl')).to.include({status: 'warn'})
  })
})
