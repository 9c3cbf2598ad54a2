// One way to write an output: a path that exists and is not a regular file is never replaced, a folder
// that cannot be one is refused before any work, and no temporary file outlives a failed write.
import {expect} from 'chai'
import {mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {checkOutputDir, checkOutputFile, writeOutput} from '../../src/util/output.js'
import {writeAtomic} from '../../src/results/store.js'
import {suiteFlags} from '../../src/suites/common.js'
import {makeFifo} from '../support/hostile.js'
import {tempDir} from '../support/tmp.js'

const dir = tempDir('hostile-out')
const refused = (fn: () => unknown): Error & {exitCode?: number} => {
  try {
    fn()
  } catch (error) {
    return error as Error & {exitCode?: number}
  }
  throw new Error('expected a refusal')
}

describe('hostile outputs: one writer that never replaces what is not a regular file', () => {
  it('a character device (/dev/null) is refused and stays the device', () => {
    const before = statSync('/dev/null')
    const e = refused(() => writeAtomic('/dev/null', '<html>'))
    expect(e.exitCode).to.equal(2)
    expect(e.message).to.equal('/dev/null: is a character device, not a regular file; it is never replaced (name a file)')
    const after = statSync('/dev/null')
    expect(after.isCharacterDevice()).to.equal(true)
    expect([after.ino, after.rdev]).to.deep.equal([before.ino, before.rdev])
    expect(readdirSync('/dev').filter((f) => f.startsWith('null.'))).to.deep.equal([])
  })

  it('a folder is refused in one line and no FOLDER.<pid>.tmp is left', () => {
    const out = join(dir, 'a-folder')
    mkdirSync(out)
    const e = refused(() => writeOutput(out, 'x'))
    expect(e.exitCode).to.equal(2)
    expect(e.message).to.match(/a-folder: is a directory, not a regular file/)
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).to.deep.equal([])
  })

  it('a named pipe is refused without opening it (an open would wait for a reader)', () => {
    const p = makeFifo(join(dir, 'pipe'))
    expect(refused(() => writeOutput(p, 'x')).message).to.match(/is a named pipe/)
  })

  it('a regular file is replaced whole; a path under a file is refused; nothing temporary is left', () => {
    const out = join(dir, 'report.html')
    writeFileSync(out, 'old')
    writeOutput(out, 'new')
    expect(readFileSync(out, 'utf8')).to.equal('new')
    const under = join(out, 'x.html')
    expect(refused(() => writeOutput(under, 'x')).message).to.match(/report\.html is a regular file, not a folder/)
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).to.deep.equal([])
  })

  it('a failed write (a folder we cannot write) leaves no temporary file and says why in one line', () => {
    // /proc stands for a folder no one, root included, can create files in
    const e = refused(() => writeOutput('/proc/ebp-x.html', 'x'))
    expect(e.exitCode).to.equal(2)
    expect(e.message).to.not.include('\n')
  })

  it('output folders: a file, a device or a path under a file is refused; a new folder is fine', () => {
    const file = join(dir, 'results-file')
    writeFileSync(file, '')
    expect(refused(() => checkOutputDir(file, `--out ${file}`)).message).to.equal(`--out ${file}: is a regular file, not a folder (name a folder, or remove the file)`)
    expect(refused(() => checkOutputDir('/dev/null')).message).to.match(/is a character device, not a folder/)
    expect(refused(() => checkOutputDir(join(file, 'sub'))).message).to.match(/results-file is a regular file, not a folder/)
    expect(checkOutputDir(join(dir, 'new', 'deeper'))).to.equal(join(dir, 'new', 'deeper'))
    expect(checkOutputFile(join(dir, 'new', 'r.html'))).to.equal(join(dir, 'new', 'r.html'))
  })

  it("every suite's --out is checked while its flags are parsed (before measuring)", async () => {
    const file = join(dir, 'out-file')
    writeFileSync(file, 'keep')
    const out = suiteFlags.out as unknown as {parse: (v: string) => Promise<string>; default: () => Promise<string>}
    const e = await out.parse(file).then(
      () => undefined,
      (error: Error & {exitCode?: number}) => error,
    )
    expect(e?.exitCode).to.equal(2)
    expect(e!.message).to.match(/out-file: is a regular file, not a folder/)
    expect(readFileSync(file, 'utf8')).to.equal('keep')
    expect(await out.parse(join(dir, 'fresh'))).to.equal(join(dir, 'fresh'))
  })
})
