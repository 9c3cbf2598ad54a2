import {expect} from 'chai'
import {listBuiltinProfiles, loadProfile, parseProfile, ProfileError, resolveProfile} from '../../src/doctor/profile.js'

const fx = (f: string) => new URL(`../fixtures/profiles/${f}`, import.meta.url).pathname

describe('profiles', () => {
  it('ships the seed table and one profile per suite, all valid', () => {
    expect(listBuiltinProfiles()).to.include.members(['kernel-config', 'accelerator', 'tracing', 'micro'])
    for (const n of listBuiltinProfiles()) expect(loadProfile(n).checks.length, n).to.be.greaterThan(0)
  })
  it('every suite profile has required checks and optional cases', () => {
    for (const n of ['accelerator', 'tracing', 'micro']) {
      const p = loadProfile(n)
      expect(p.suite).to.equal(n)
      expect(p.checks.some((c) => c.required), n).to.equal(true)
      expect(p.checks.some((c) => !c.required && c.cases.length > 0), n).to.equal(true)
    }
  })
  it('loads a user profile by path', () => {
    const p = loadProfile(fx('user.profile.yml'))
    expect(p).to.include({name: 'my-xdp-lb', suite: 'my-xdp-lb'})
    expect(p.checks[0]).to.include({id: 'lb-xdp', required: true})
  })
  const bad: [string, RegExp][] = [
    ['bad-key.profile.yml', /bad-key\.profile\.yml: checks\[0\]\.kconfg: unknown key/],
    ['malformed.profile.yml', /malformed\.profile\.yml: malformed YAML: .*\(line \d+\)/],
    ['missing.profile.yml', /missing\.profile\.yml: no such file/],
  ]
  for (const [file, re] of bad) {
    it(`rejects ${file} with one line naming the file`, () => {
      expect(() => loadProfile(fx(file))).to.throw(ProfileError, re).with.property('message').that.does.not.include('\n')
    })
  }
  it('rejects an unknown profile name and lists the shipped ones', () => {
    expect(() => loadProfile('nosuch')).to.throw(ProfileError, /nosuch: no such profile \(shipped profiles: .*tracing/)
  })
  it('validates probes, capabilities, mounts and sysctls by name', () => {
    const base = {schema: 'ebpfperf/profile/v1', name: 'x'}
    const cases: [object, RegExp][] = [
      [{id: 'a', probe: ['prog:nosuch']}, /unknown program type "nosuch"/],
      [{id: 'a', probe: ['attach:warp']}, /unknown attach kind "warp"/],
      [{id: 'a', probe: ['helper:xdp:bpf_nosuch']}, /unknown helper "bpf_nosuch"/],
      [{id: 'a', probe: ['xdp']}, /is not prog:TYPE/],
      [{id: 'a', cap: ['CAP_FLY']}, /unknown capability/],
      [{id: 'a', mount: 'nfs'}, /mount: expected one of/],
      [{id: 'a', sysctl: {name: 'vm.swappiness'}}, /unknown sysctl/],
      [{id: 'a'}, /names no evidence/],
      [{id: 'a', kconfig: 'BPF'}, /expected a list of strings/],
    ]
    for (const [c, re] of cases) expect(() => parseProfile({...base, checks: [c]}, 'inline.yml'), re.source).to.throw(ProfileError, re)
    expect(() => parseProfile({...base, schema: 'v0', checks: [{id: 'a', kconfig: ['BPF']}]}, 'f')).to.throw(/schema: expected "ebpfperf\/profile\/v1"/)
    expect(() => parseProfile({...base, checks: [{id: 'a', kconfig: ['BPF']}, {id: 'a', kconfig: ['BPF']}]}, 'f')).to.throw(/duplicate id/)
  })
})

describe('doctor flags: one table for the oclif command and the fast path', () => {
  it('the oclif command declares exactly the table\'s flags, with the same kind, char, multiple and texts', async () => {
    const {DOCTOR_FLAGS} = await import('../../src/doctor/flags.js')
    const {default: Doctor} = await import('../../src/commands/doctor.js')
    const flags = Doctor.flags as Record<string, {type: string; char?: string; multiple?: boolean; allowNo?: boolean; default?: unknown; description?: string}>
    expect(Object.keys(flags).sort()).to.deep.equal(Object.keys(DOCTOR_FLAGS).sort())
    for (const [name, spec] of Object.entries(DOCTOR_FLAGS) as [string, {type: string; char?: string; multiple?: boolean; allowNo?: boolean; default?: boolean; description: string}][]) {
      const f = flags[name]
      expect(f.type === 'boolean' ? 'boolean' : 'string', name).to.equal(spec.type)
      expect(f.char, name).to.equal(spec.char)
      expect(Boolean(f.multiple), name).to.equal(Boolean(spec.multiple))
      expect(Boolean(f.allowNo), name).to.equal(Boolean(spec.allowNo))
      expect(f.description, name).to.equal(spec.description)
      if (spec.default !== undefined) expect(f.default, name).to.equal(spec.default)
    }
  })

  it('the fast path takes the common options and leaves the rest to the full CLI', async () => {
    const {fastDoctorArgs} = await import('../../src/doctor/fast.js')
    expect(fastDoctorArgs([])).to.deep.equal({json: false, profile: undefined, kconfig: undefined, btf: undefined, live: true, verbose: false})
    expect(fastDoctorArgs(['--json', '-p', 'micro', '--profile=tracing', '--no-live', '--kconfig', 'k', '-v'])).to.deep.include({json: true, profile: ['micro', 'tracing'], kconfig: 'k', live: false, verbose: true})
    for (const argv of [['--help'], ['-h'], ['--fix'], ['--fix', '--dry-run'], ['--compare', 'a', 'b'], ['--bogus'], ['extra'], ['--kconfig'], ['--live', '--no-live'], ['--']]) {
      expect(fastDoctorArgs(argv), argv.join(' ')).to.equal(undefined)
    }
  })

  it('the shipped profiles read from the build\'s JSON copies equal their YAML', async () => {
    const yaml = (await import('js-yaml')).default
    const {readFileSync} = await import('node:fs')
    const {shippedJson} = await import('../../src/util/input.js')
    for (const name of listBuiltinProfiles()) {
      const file = resolveProfile(name)
      const json = shippedJson(file, 'profiles')
      expect(json, `${name}: dist/profiles/ has a current JSON copy (npm run build:ts)`).to.not.equal(undefined)
      expect(parseProfile(json, file), name).to.deep.equal(parseProfile(yaml.load(readFileSync(file, 'utf8')), file))
      expect(loadProfile(name), name).to.deep.equal(parseProfile(json, file))
    }
  })
})
