// The CLI against a hostile but careful user: each bad input is one line on stderr naming it, exit code 2,
// quickly and in little memory; no device is replaced, no temporary file is left, nothing is measured first.
import {expect} from 'chai'
import {spawnSync, type SpawnSyncReturns} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ONE_LINE, makeFifo, validResult, writeGzipBomb} from '../support/hostile.js'
import {mutate, prng} from '../support/fuzz.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const BIN = join(root, 'bin/run.js')
const dir = tempDir('hostile-cli')

interface Ran {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}
function cli(args: string[], opts: {prefix?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string} = {}): Ran {
  const t0 = Date.now()
  const [cmd, ...pre] = opts.prefix ?? [process.execPath]
  const r: SpawnSyncReturns<string> = spawnSync(cmd, [...pre, ...(opts.prefix ? [process.execPath] : []), BIN, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd ?? dir,
    env: {...process.env, NO_COLOR: '1', ...opts.env},
    timeout: opts.timeoutMs ?? 30_000,
  })
  return {code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0}
}
/** Exit code 2 and one line on stderr naming `name`. */
const badInput = (r: Ran, name: string | RegExp) => {
  expect(r.code, r.stderr).to.equal(2)
  expect(r.stderr).to.match(ONE_LINE(name))
}
const put = (name: string, text: string) => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
const good = put('good.json', JSON.stringify(validResult()))

describe('hostile CLI input: one line, exit code 2, nothing touched', function () {
  this.timeout(120_000)

  describe('item 1, 14: outputs', () => {
    it('report -o /dev/null: refused, the device stays', () => {
      const before = statSync('/dev/null')
      const r = cli(['report', good, '-o', '/dev/null'])
      badInput(r, '/dev/null: is a character device, not a regular file')
      const after = statSync('/dev/null')
      expect(after.isCharacterDevice() && after.ino === before.ino && after.rdev === before.rdev).to.equal(true)
    })

    it('report -o FOLDER: one line, exit 2, no FOLDER.<pid>.tmp left', () => {
      const out = join(dir, 'out-folder')
      mkdirSync(out)
      badInput(cli(['report', good, '-o', out]), 'out-folder: is a directory, not a regular file')
      expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).to.deep.equal([])
    })

    for (const suite of ['micro', 'tracing', 'accelerator']) {
      it(`suite ${suite} --out naming a file: refused before anything is measured`, () => {
        const file = put(`out-${suite}`, 'keep')
        const r = cli(['suite', suite, '--quick', '--out', file])
        badInput(r, new RegExp(`--out: ${file}: is a regular file, not a folder`))
        expect(r.ms, 'refused while parsing the flags').to.be.lessThan(10_000)
        expect(r.stdout).to.equal('')
      })
    }

    it('suite micro with a file named "results" in the working folder (the default --out): refused up front', () => {
      const cwd = tempDir('hostile-cwd')
      writeFileSync(join(cwd, 'results'), '')
      const r = spawnSync(process.execPath, [BIN, 'suite', 'micro', '--quick'], {encoding: 'utf8', cwd})
      expect(r.status, r.stderr).to.equal(2)
      expect(r.stderr).to.match(ONE_LINE('--out results: is a regular file, not a folder'))
    })
  })

  describe('items 6, 7: malformed result files', () => {
    const cases: [string, string, string][] = [
      ['"cases": [null]', JSON.stringify({...validResult(), cases: [null]}), '$.cases[0]: expected an object, got null'],
      ['a case without samples', JSON.stringify({...validResult(), cases: [{...validResult().cases[0], samples: undefined}]}), '$.cases[0].samples: expected a list'],
      ['an Infinity sample', JSON.stringify(validResult()).replace(/"samples":\[[\d.e+-]+/, '"samples":[1e999'), '$.cases[0].samples[0]: expected a finite number'],
      ['a NaN sample (null)', JSON.stringify(validResult()).replace(/"samples":\[[\d.e+-]+/, '"samples":[null'), '$.cases[0].samples[0]: expected a finite number, got null'],
      ['higherIsBetter as a string', JSON.stringify(validResult()).replace('"higherIsBetter":false', '"higherIsBetter":"no"'), '$.cases[0].higherIsBetter: expected true or false, got "no"'],
    ]
    for (const [what, text, reason] of cases) {
      it(`${what}: compare and report both exit 2 naming the file and the field (never 1, the regression code)`, () => {
        const f = put(`bad-${what.replace(/\W+/g, '_')}.json`, text)
        badInput(cli(['compare', good, f]), `${f}: not a valid result: ${reason}`)
        badInput(cli(['report', f, '-o', join(dir, 'r.html')]), `${f}: not a valid result: ${reason}`)
        badInput(cli(['compare', f, good]), reason)
      })
    }
  })

  describe('fuzzed result files through the CLI (the in-process fuzzer covers many more)', () => {
    const SEED = Number(process.env.EBPFPERF_FUZZ_SEED ?? 14)
    it(`report on 12 mutated result files (seed ${SEED}): each exits 0 or 2 with one line, never 1 or a stack`, () => {
      const r = prng(SEED)
      const seed = JSON.stringify(validResult())
      for (let i = 0; i < 12; i++) {
        const f = put(`fuzz-${i}.json`, mutate(seed, 'json', r))
        const out = cli(['report', f, '-o', join(dir, `fuzz-${i}.html`)])
        const what = `#${i} ${readFileSync(f, 'utf8').slice(0, 200)}`
        if (out.code === 0) continue
        expect(out.code, `${what}\n${out.stderr}`).to.equal(2)
        expect(out.stderr, what).to.match(ONE_LINE('fuzz-'))
      }
    })
  })

  describe('items 8, 12: files that are not files', () => {
    const fifo = makeFifo(join(dir, 'fifo'))
    const topoDir = join(dir, 'a.topo.yml')
    mkdirSync(topoDir)
    const suiteWithInput = put('input-zero.suite.yml', 'schema: ebpfperf/micro-suite/v1\nname: x\ndefaults: {samples: 2, cpus: all, input: {file: /dev/zero}}\ntests:\n  - {name: baseline, object: micro_baseline.bpf.o, program: micro_baseline, type: xdp, expect: 0}\n')
    const runs: [string, string[], string][] = [
      ['--kconfig /dev/zero', ['doctor', '--no-live', '--kconfig', '/dev/zero'], '/dev/zero: is a character device, not a regular file'],
      ['--btf FIFO', ['doctor', '--no-live', '--btf', fifo], 'fifo: is a named pipe, not a regular file'],
      ['--btf missing', ['doctor', '--no-live', '--btf', join(dir, 'no-btf')], 'no-btf: no such file'],
      ['--btf a folder', ['doctor', '--no-live', '--btf', dir], 'is a directory, not a regular file'],
      ['--btf /dev/zero', ['doctor', '--no-live', '--btf', '/dev/zero'], '/dev/zero: is a character device'],
      ['compare /dev/zero', ['compare', '/dev/zero', good], '/dev/zero: is a character device'],
      ['report FIFO', ['report', fifo, '-o', join(dir, 'x.html')], 'is a named pipe, not a regular file'],
      ['topology up /dev/zero', ['topology', 'up', '/dev/zero'], '/dev/zero: is a character device'],
      ['topology up a folder', ['topology', 'up', topoDir], 'a.topo.yml: is a directory'],
      ['suite micro --suite /dev/zero', ['suite', 'micro', '--suite', '/dev/zero'], '/dev/zero: is a character device'],
      ["a suite's input.file /dev/zero", ['suite', 'micro', '--suite', suiteWithInput], 'file: /dev/zero: is a character device'],
      ['doctor --profile /dev/zero', ['doctor', '--no-live', '--profile', '/dev/zero'], '/dev/zero: is a character device'],
    ]
    for (const [what, args, reason] of runs) {
      it(`${what}: one line, exit 2, within seconds`, () => {
        const r = cli(args, {timeoutMs: 20_000})
        badInput(r, reason)
        expect(r.ms).to.be.lessThan(10_000)
      })
    }

    it('--kconfig <(endless zeros): a named pipe is read by intent, and refused at its cap', () => {
      const r = cli([], {prefix: ['bash', '-c', `exec "$0" "$1" doctor --no-live --kconfig <(cat /dev/zero)`]})
      badInput(r, /\/dev\/fd\/\d+: larger than 16 MiB, too large for this input/)
      expect(r.ms).to.be.lessThan(10_000)
    })

    it('a 9 MiB gzip bomb as --kconfig: exit 2 within seconds and under 300 MB of memory', function () {
      if (!existsSync('/usr/bin/time')) {
        console.log('      skipped: /usr/bin/time is not installed (apt-get install time), which measures the peak memory')
        this.skip()
      }
      const bomb = join(dir, 'config.gz')
      writeGzipBomb(bomb, 9)
      const r = cli(['doctor', '--no-live', '--kconfig', bomb], {prefix: ['/usr/bin/time', '-f', 'maxrss_kb=%M']})
      const [line, usage] = [r.stderr.split('\n')[0], /maxrss_kb=(\d+)/.exec(r.stderr)]
      expect(r.code, r.stderr).to.equal(2)
      expect(line).to.match(/^ebpfperf: .*config\.gz: gzip data inflates to more than 16 MiB/)
      expect(r.ms).to.be.lessThan(10_000)
      expect(Number(usage![1]) * 1024).to.be.lessThan(300 * 1024 * 1024)
    })
  })

  describe('item 11: --uprobe binary that is not ELF', () => {
    for (const bin of ['/etc/passwd', '/dev/zero']) {
      it(`--uprobe ${bin}:main: one line, exit 2`, () => {
        const r = cli(['suite', 'tracing', '--quick', '--layers', 'workload', '--attach', 'uprobe', '--uprobe', `${bin}:main`], {timeoutMs: 60_000})
        badInput(r, new RegExp(`--uprobe ${bin}:main: binary ${bin} is (not an ELF|a character device)`))
      })
    }
  })

  describe('item 15: profiles', () => {
    it('an unknown top-level key: one line, exit 2', () => {
      const p = put('extra.profile.yml', 'schema: ebpfperf/profile/v1\nname: x\nrequirements: []\nchecks:\n  - {id: c, kconfig: [BPF]}\n')
      badInput(cli(['doctor', '--no-live', '--profile', p]), 'extra.profile.yml: requirements: unknown key')
    })
  })

  describe('item 17: an unprivileged user whose HOME is unreadable', () => {
    for (const args of [['suite', 'micro', '--quick'], ['suite', 'tracing', '--quick'], ['topology', 'up']]) {
      it(`${args.join(' ')} under setpriv --reuid nobody: the exit-3 line and nothing else`, function () {
        if (process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv')) {
          console.log('      skipped: needs root and setpriv (util-linux) to become nobody')
          this.skip()
        }
        // a checkout under a private folder (mktemp -d is 0700) cannot be run by nobody at all
        const readable = spawnSync('/usr/bin/setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', 'test', '-r', BIN])
        if (readable.status !== 0) {
          console.log(`      skipped: nobody cannot read ${BIN} (the checkout's folders are not world-readable)`)
          this.skip()
        }
        const home = tempDir('hostile-home')
        chmodSync(home, 0o700) // root's: nobody cannot read it
        const cwd = tempDir('hostile-nobody')
        chmodSync(cwd, 0o755) // nobody cannot write its results here either: still the privilege line, exit 3
        const r = cli(args, {prefix: ['/usr/bin/setpriv', '--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups'], env: {HOME: home}, cwd})
        expect(r.code, r.stderr).to.equal(3)
        expect(r.stderr).to.match(ONE_LINE(/needs root/))
      })
    }
  })
})
