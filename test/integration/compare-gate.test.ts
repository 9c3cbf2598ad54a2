// The compare gate end to end on the real kernel, as the README says to gate: `suite micro --ab` of one
// build against itself passes (exit 0), against a build whose helper_prandom does ~20% more work
// (bpf/regress) fails naming that case (exit 1), and the A/B result compares again to the same verdict.
// Bad A/B input: one line, exit 2, before anything is measured.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync} from 'node:fs'
import {join} from 'node:path'
import {nativeAvailable} from '../../src/native.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const shipped = join(root, 'bpf/.output')
const slow = join(shipped, 'regress/micro_helpers.bpf.o')
const fixtures = join(root, 'test/fixtures/micro')
const tests = ['--test', 'helper_get_prandom_u32', '--test', 'array_1k_read']

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

/** An object folder: every shipped object, some replaced (file name → object path). */
function objectFolder(dir: string, replace: Record<string, string>): string {
  mkdirSync(dir)
  for (const f of readdirSync(shipped).filter((x) => x.endsWith('.bpf.o'))) symlinkSync(replace[f] ?? join(shipped, f), join(dir, f))
  return dir
}

describe('compare gate: suite micro --ab (real kernel)', function () {
  this.timeout(180_000)
  const dir = tempDir('gate')
  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: BPF_PROG_TEST_RUN needs root')
      this.skip()
    }
    if (!existsSync(slow) || !nativeAvailable().ok) {
      console.log('      skipped: needs npm run build (bpf/.output/regress and the native addon)')
      this.skip()
    }
  })

  it('one build against itself: no regression, exit 0; the A/B result compares again to the same verdict', () => {
    const r = cli(['suite', 'micro', '--quick', ...tests, '--ab', shipped, '--out', join(dir, 'aa'), '--no-progress'])
    expect(r.code, r.stdout + r.stderr).to.equal(0)
    expect(r.stdout).to.match(/Method: paired A\/B/).and.match(/No significant regression beyond 5(\.0)?%/)
    const file = readdirSync(join(dir, 'aa')).find((f) => f.endsWith('.json'))!
    // the result holds both sides, every sample of each in a pair with a recorded order
    const run = JSON.parse(readFileSync(join(dir, 'aa', file), 'utf8'))
    for (const variant of ['A', 'B']) {
      const cs = run.cases.filter((c: {params: {variant: string}}) => c.params.variant === variant)
      expect(cs.length, variant).to.be.greaterThan(0)
      for (const c of cs) {
        expect(c.samples).to.have.length(12)
        expect(c.extra.order).to.have.length(12)
        for (const o of c.extra.order) expect(o).to.be.oneOf(['AB', 'BA'])
      }
    }
    const again = cli(['compare', join(dir, 'aa', file), '--json'])
    expect(again.code).to.equal(0)
    const cmp = JSON.parse(again.stdout)
    expect(cmp.method).to.equal('paired A/B')
    expect(cmp.cases.map((c: {id: string}) => c.id)).to.include.members(['helper_get_prandom_u32', 'array_1k_read'])
    expect(cmp.runs.base).to.equal(12) // pairs a case (the default)
  })

  it('the build whose helper_prandom does ~20% more work: exit 1 naming that case, and only that one', () => {
    const cand = objectFolder(join(dir, 'slow'), {'micro_helpers.bpf.o': slow})
    // 16 pairs (not the default 12): a narrower CI, so a spell of the host rarely hides the 20%
    const r = cli(['suite', 'micro', '--quick', ...tests, '--ab', cand, '--repeat', '16', '--out', join(dir, 'ab'), '--no-progress'])
    expect(r.code, r.stdout + r.stderr).to.equal(1)
    expect(r.stdout).to.match(/micro\/helper_get_prandom_u32 cpu=\d+ .* regression ✘ gate/)
    expect(r.stdout).to.match(/regression\(s\) beyond 5(\.0)?%: micro\/helper_get_prandom_u32/)
    expect(r.stdout).not.to.match(/micro\/array_1k_read .*✘ gate/)
  })

  it('B from a suite file (tests matched by name): its regressed helper_get_prandom_u32 fails the gate', () => {
    const r = cli(['suite', 'micro', '--quick', ...tests, '--ab', join(fixtures, 'ab-regress.suite.yml'), '--repeat', '16', '--out', join(dir, 'ab-suite'), '--no-progress'])
    expect(r.code, r.stdout + r.stderr).to.equal(1)
    expect(r.stdout).to.match(/regression\(s\) beyond 5(\.0)?%: micro\/helper_get_prandom_u32/)
  })

  const bad: [string, () => string[], RegExp][] = [
    ['a suite file whose test of that name runs another program', () => ['--ab', join(fixtures, 'ab-other-program.suite.yml')], /test helper_get_prandom_u32 runs program helper_prandom in A but helper_ktime in B: A\/B programs must match by name/],
    ['an object folder without an object the tests use', () => ['--ab', join(dir, 'empty-objects')], /micro_map_array\.bpf\.o \(test array_1k_read\) is not there: the folder needs every object the selected tests use/],
    ['an object whose programs do not match by name', () => ['--ab', objectFolder(join(dir, 'renamed'), {'micro_helpers.bpf.o': join(shipped, 'micro_baseline.bpf.o')})], /has no program helper_prandom \(test helper_get_prandom_u32\): A\/B programs must match by name/],
    ['too few pairs for the confidence', () => ['--ab', shipped, '--repeat', '3'], /3 pairs a case are too few .* give --repeat 5 or more/],
    ['no such folder', () => ['--ab', join(dir, 'nowhere')], /--ab .*nowhere: no such file or folder/],
  ]
  for (const [what, args, re] of bad) {
    it(`bad A/B input, ${what}: one line, exit 2, no result written`, () => {
      mkdirSync(join(dir, 'empty-objects'), {recursive: true})
      const out = join(dir, `bad-${what.length}`)
      const r = cli(['suite', 'micro', '--quick', ...tests, ...args(), '--out', out, '--no-progress'])
      expect(r.code, r.stderr).to.equal(2)
      expect(r.stderr).to.match(re).and.match(/^ebpfperf: [^\n]+\n$/)
      expect(existsSync(out) ? readdirSync(out) : []).to.deep.equal([])
    })
  }
})
