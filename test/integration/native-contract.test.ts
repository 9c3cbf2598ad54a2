// The Native contract (test/contract/native.ts) against the real addon — the same tests the fake passes in
// test/unit/native-fake.test.ts — and the fake's recorded object catalog against what libbpf reads from the
// built objects now. EBPFPERF_RECORD_OBJECTS=1 rewrites the catalog (test/fakes/objects.json) instead.
import {expect} from 'chai'
import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {loadNative, nativeAvailable, type Native} from '../../src/native.js'
import {nativeContract} from '../contract/native.js'
import {CATALOG_FILE, RECORD_HINT, recordedCatalog, type CatalogEntry} from '../fakes/native.js'

const root = new URL('../..', import.meta.url).pathname
const out = join(root, 'bpf/.output')
const isRoot = process.getuid?.() === 0

function builtObjects(): string[] {
  const top = readdirSync(out).filter((f) => f.endsWith('.bpf.o'))
  const regress = existsSync(join(out, 'regress')) ? readdirSync(join(out, 'regress')).filter((f) => f.endsWith('.bpf.o')).map((f) => `regress/${f}`) : []
  return [...top, ...regress].sort()
}

function read(native: Native, path: string): CatalogEntry {
  const h = native.objectOpen(path)
  try {
    return {programs: native.objectPrograms(h), maps: native.objectMaps(h)}
  } finally {
    native.objectClose(h)
  }
}

describe('native contract: the real addon', function () {
  before(function () {
    if (!nativeAvailable().ok || !existsSync(join(out, 'micro_baseline.bpf.o'))) {
      console.log('      skipped: needs the native addon and the built BPF objects (npm run build)')
      this.skip()
    }
  })

  describe(`the contract${isRoot ? '' : ' (without the kernel parts: not root)'}`, () => {
    nativeContract(() => loadNative(), {objects: out, kernel: isRoot})
  })

  it('the fake\'s recorded catalog is what libbpf reads from every built object', () => {
    const native = loadNative()
    const now = Object.fromEntries(builtObjects().map((f) => [f, read(native, join(out, f))]))
    if (process.env.EBPFPERF_RECORD_OBJECTS) {
      writeFileSync(CATALOG_FILE, `${JSON.stringify(now, null, 1)}\n`)
      console.log(`      recorded ${Object.keys(now).length} objects in ${CATALOG_FILE}`)
    }
    expect(recordedCatalog(), `test/fakes/objects.json is out of date: ${RECORD_HINT}`).to.deep.equal(now)
  })
})
