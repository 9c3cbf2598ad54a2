// Every user-named file goes through one guarded reader: a missing path, a folder, a device, a named pipe
// nobody writes, a file far too large and a gzip bomb are each one line naming the file, exit code 2, soon.
import {expect} from 'chai'
import {closeSync, mkdirSync, openSync, ftruncateSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Kconfig} from '../../src/kernel/kconfig.js'
import {Btf, findVmlinuxBtf} from '../../src/kernel/btf.js'
import {loadTopology} from '../../src/topology/model.js'
import {loadSuite} from '../../src/suites/micro/spec.js'
import {loadProfile} from '../../src/doctor/profile.js'
import {loadResult} from '../../src/results/store.js'
import {resolveTargets} from '../../src/suites/tracing/targets.js'
import {BpfObject, _useNative} from '../../src/native.js'
import {gunzipInput, readInput, readInputHead} from '../../src/util/input.js'
import {makeFifo, writeGzipBomb} from '../support/hostile.js'
import {tempDir} from '../support/tmp.js'
import {FakeNative} from '../fakes/native.js'

const dir = tempDir('hostile-files')
const missing = join(dir, 'no-such-file')
const folder = join(dir, 'a-folder')
mkdirSync(folder)
const fifo = makeFifo(join(dir, 'a-fifo'))
// 5 GiB that occupy no disk (sparse): refused from its size, never read
const huge = join(dir, 'huge')
const fd = openSync(huge, 'w')
ftruncateSync(fd, 5 * 1024 ** 3)
closeSync(fd)
const BAD_PATHS: [string, string, RegExp][] = [
  ['a missing path', missing, /no such file/],
  ['a folder', folder, /is a directory, not a regular file/],
  ['/dev/zero', '/dev/zero', /is a character device, not a regular file/],
  ['a named pipe nobody writes to', fifo, /is a named pipe, not a regular file/],
  ['a 5 GiB file', huge, /larger than \d+ MiB, too large|not BTF: bad magic/], // BTF is read by pread: its magic refuses it
]

/** Runs `load`, which must throw a bad-input error (exit code 2) whose one-line message names `path`. */
function expectRefused(load: () => unknown, path: string, reason: RegExp): void {
  const t0 = Date.now()
  let error: (Error & {exitCode?: number}) | undefined
  try {
    load()
  } catch (e) {
    error = e as Error & {exitCode?: number}
  }
  expect(error, 'expected a refusal').to.be.instanceOf(Error)
  expect(error!.exitCode, error!.message).to.equal(2)
  expect(error!.message).to.not.include('\n')
  expect(error!.message).to.include(path)
  expect(error!.message).to.match(reason)
  expect(Date.now() - t0, 'refused without reading').to.be.lessThan(2000)
}

describe('hostile files: one guarded reader for every user-named file', () => {
  // the suite files' objects are read through the fake addon: these checks need no addon and no root
  before(() => _useNative(new FakeNative()))
  after(() => _useNative(undefined))
  const suiteWithInput = (file: string) => {
    const p = join(dir, `input-${Math.random().toString(36).slice(2)}.suite.yml`)
    writeFileSync(p, `schema: ebpfperf/micro-suite/v1\nname: x\ndefaults: {samples: 2, cpus: all, input: {file: ${JSON.stringify(file)}}}\ntests:\n  - {name: baseline, object: micro_baseline.bpf.o, program: micro_baseline, type: xdp, expect: 0}\n`)
    return p
  }
  const readers: [string, (p: string) => unknown][] = [
    ['--kconfig', (p) => Kconfig.fromFile(p)],
    ['--btf', (p) => Btf.fromFile(findVmlinuxBtf(p).path!)],
    ['a topology file', (p) => loadTopology(p)],
    ['--suite', (p) => loadSuite(p, {}, [0])],
    ["a suite's input.file", (p) => loadSuite(suiteWithInput(p), {}, [0])],
    ['a profile', (p) => loadProfile(p.includes('/') ? p : `./${p}`)],
    ['a result file (compare, report)', (p) => loadResult(p)],
  ]
  for (const [input, read] of readers) {
    describe(input, () => {
      for (const [what, path, reason] of BAD_PATHS) {
        if (input === '--kconfig' && path === fifo) continue // read by intent: below
        it(`${what}: refused`, () => expectRefused(() => read(path), path, reason))
      }
    })
  }

  it('--kconfig from a named pipe (process substitution) is read, up to its cap', async function () {
    this.timeout(20_000)
    const config = new URL('../fixtures/kconfig/config-6.1-sample.gz', import.meta.url).pathname
    const {spawn} = await import('node:child_process')
    const feed = (source: string) => spawn('sh', ['-c', `cat ${source} > ${fifo}`], {stdio: 'ignore'})
    const writer = feed(config)
    expect(Kconfig.fromFile(fifo).get('BPF_SYSCALL').state).to.equal('y')
    await new Promise((done) => writer.once('exit', done))
    const endless = feed('/dev/zero')
    try {
      expectRefused(() => Kconfig.fromFile(fifo), fifo, /larger than 16 MiB/)
    } finally {
      endless.kill()
    }
  })

  it('a named pipe is read only where the caller allows it, still capped', () => {
    expectRefused(() => readInput(fifo, (r) => Object.assign(new Error(`${fifo}: ${r}`), {exitCode: 2})), fifo, /named pipe/)
  })

  it('a --uprobe binary that is not ELF (a text file, /dev/zero) is refused with its flag', async () => {
    const text = join(dir, 'passwd-like')
    writeFileSync(text, 'root:x:0:0:root:/root:/bin/bash\n')
    for (const [bin, reason] of [[text, /is not an ELF executable or shared library/], ['/dev/zero', /is a character device/], [folder, /is a directory/]] as const) {
      const error = await resolveTargets([], {uprobe: `${bin}:main`}, undefined, {workload: false}).then(
        () => undefined,
        (e: Error & {exitCode?: number}) => e,
      )
      expect(error?.exitCode, String(error)).to.equal(2)
      expect(error!.message).to.match(new RegExp(`^--uprobe ${bin}:main: binary ${bin}`))
      expect(error!.message).to.match(reason)
    }
    // an ELF binary passes the check
    await resolveTargets([], {uprobe: `${process.execPath}:main`}, undefined, {workload: false})
  })

  it("a BPF object that is a named pipe or a device (--object, a suite's object:) is refused before libbpf opens it", () => {
    for (const [path, reason] of [[fifo, /is a named pipe/], ['/dev/zero', /is a character device/]] as const) {
      expectRefused(() => BpfObject.open(path), path, reason)
      const suite = join(dir, `object-${path.replace(/\W/g, '')}.suite.yml`)
      writeFileSync(suite, `schema: ebpfperf/micro-suite/v1\nname: x\ntests:\n  - {name: t, object: ${path}, program: p, type: xdp, expect: 0}\n`)
      expectRefused(() => loadSuite(suite, {}, [0]), path, reason)
    }
  })

  it('readInputHead reads only the head of a huge file', () => {
    expect(readInputHead(huge, 4, (r) => new Error(r))).to.deep.equal(Buffer.alloc(4))
  })

  it('a 9 MiB gzip bomb as --kconfig: refused after inflating at most the cap, in little time and memory', function () {
    this.timeout(30_000)
    const bomb = join(dir, 'bomb.gz')
    const size = writeGzipBomb(bomb, 9)
    expect(size).to.be.greaterThan(9 * 1024 * 1024)
    const rss0 = process.memoryUsage().rss
    const t0 = Date.now()
    expect(() => Kconfig.fromFile(bomb)).to.throw(/bomb\.gz: gzip data inflates to more than 16 MiB/)
    expect(Date.now() - t0).to.be.lessThan(5000)
    expect(process.memoryUsage().rss - rss0).to.be.lessThan(256 * 1024 * 1024)
  })

  it('gunzipInput: corrupt data is a reason, not a crash', () => {
    expect(() => gunzipInput(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), (r) => new Error(r))).to.throw(/corrupt or truncated gzip data/)
  })

  it('Btf.fromFile keeps refusing a device on its own', () => {
    expect(() => Btf.fromFile('/dev/zero')).to.throw(/device/)
  })
})
