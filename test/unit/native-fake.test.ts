// The Native contract (test/contract/native.ts) against the fake (test/fakes/native.ts), so that unit tests
// built on the fake test what the real addon does; the same contract runs against the addon in
// test/integration/native-contract.test.ts.
import {expect} from 'chai'
import {join} from 'node:path'
import {nativeContract} from '../contract/native.js'
import {FakeNative, catalogEntry, recordedCatalog} from '../fakes/native.js'

const root = new URL('../..', import.meta.url).pathname

describe('native contract: the fake', () => {
  nativeContract(() => new FakeNative(), {objects: join(root, 'bpf/.output'), kernel: true})

  it('finds objects by their path under bpf/.output, the longest match first', () => {
    const catalog = recordedCatalog()
    expect(catalogEntry(catalog, '/x/bpf/.output/regress/micro_helpers.bpf.o')).to.equal(catalog['regress/micro_helpers.bpf.o'])
    expect(catalogEntry(catalog, '/x/bpf/.output/micro_helpers.bpf.o')).to.equal(catalog['micro_helpers.bpf.o'])
    expect(catalogEntry(catalog, '/x/not_recorded.bpf.o')).to.equal(undefined)
  })

  it('what needs a live kernel rejects with ENOSYS instead of pretending', async () => {
    const fake = new FakeNative()
    expect(() => fake.traceLoad()).to.throw(/ENOSYS/)
    let error: unknown
    await fake.genRunAsync().catch((e: unknown) => (error = e))
    expect(error).to.include({code: 'ENOSYS'})
  })
})
