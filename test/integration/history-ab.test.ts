// Performance CI as a new user tries it, on the real kernel, in a scratch git repository: a plain run pushed
// from the first commit, then an A/B run from the second (A: the first commit's build, B: this one's, whose
// helper does ~20% more work) pushed too; compare --history git:perf-results gates the A/B run by its
// pairs (exit 1), prints the issue naming both commits, and the branch holds two commits in the layout.
// The same build on both sides passes.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {copyFileSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {nativeAvailable} from '../../src/native.js'
import {git} from '../support/git.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const shipped = join(root, 'bpf/.output')
const TEST = ['--quick', '--test', 'helper_get_prandom_u32', '--cpus', '0', '--no-progress']

describe('history with an A/B run: compare --history gates the second commit against the first (real kernel)', function () {
  this.timeout(300_000)
  const dir = tempDir('histab')
  const work = join(dir, 'work')
  const ebpfperf = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {cwd: work, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  const commits: string[] = []

  before(function () {
    if (process.getuid?.() !== 0 || !nativeAvailable().ok) {
      console.log('      skipped: needs root and npm run build (the suite runs BPF programs)')
      this.skip()
    }
    git(dir, 'init', '-q', work)
    git(work, 'config', 'user.email', 'dev@example.org')
    git(work, 'config', 'user.name', 'dev')
  })

  const commit = (text: string) => {
    git(work, 'commit', '-q', '--allow-empty', '-m', text)
    commits.push(git(work, 'rev-parse', 'HEAD'))
  }
  /** An A/B run from this commit against the previous commit's build (the shipped objects); B from `suite`. */
  const abRun = (out: string, suite: string[]) => ebpfperf('suite', 'micro', ...TEST, ...suite, '--repeat', '16', '--ab-base', shipped, '--ab-commit', commits.at(-2)!, '--out', out)

  it('a regression injected in the second commit: gated (exit 1), the issue names both commits, two commits on perf-results', () => {
    commit('first')
    const first = ebpfperf('suite', 'micro', ...TEST, '--out', join(dir, 'r1'))
    expect(first.status, first.stderr).to.equal(0)
    expect(ebpfperf('history', 'push', join(dir, 'r1')).status).to.equal(0)
    commit('second: a slower helper')
    // the second commit's build: the shipped suite file beside a helper object doing ~20% more work
    const build = join(dir, 'build2')
    mkdirSync(build)
    copyFileSync(join(root, 'profiles/micro/default.suite.yml'), join(build, 'default.suite.yml'))
    copyFileSync(join(shipped, 'regress/micro_helpers.bpf.o'), join(build, 'micro_helpers.bpf.o'))
    // the gate misses a 20% change in a few percent of trials on a busy host (docs/gate.md): one more trial then
    let ab = abRun(join(dir, 'r2'), ['--suite', join(build, 'default.suite.yml')])
    let out = join(dir, 'r2')
    if (ab.status === 0) [ab, out] = [abRun(join(dir, 'r2b'), ['--suite', join(build, 'default.suite.yml')]), join(dir, 'r2b')]
    expect(ab.status, ab.stderr).to.equal(1)
    expect(ebpfperf('history', 'push', out).status).to.equal(0)

    const [c1, c2] = commits.map((c) => c.slice(0, 12))
    const cmp = ebpfperf('compare', '--history', 'git:perf-results')
    expect(cmp.status, cmp.stderr).to.equal(1)
    expect(cmp.stdout).to.include(`History: newest micro run is an A/B run (base ${c1} → candidate ${c2}): gated pair by pair; 1 earlier run(s) are context, not gated.`)
    expect(cmp.stdout).to.match(/micro\/helper_get_prandom_u32 .* regression ✘ gate/)
    const issue = ebpfperf('compare', '--history', 'git:perf-results', '--format', 'issue')
    expect(issue.status).to.equal(1)
    const [title, blank, ...body] = issue.stdout.split('\n')
    expect(title).to.match(new RegExp(`^Performance regression: micro/helper_get_prandom_u32 \\+\\d+\\.\\d% at ${c2}$`))
    expect(blank).to.equal('')
    expect(body.join('\n')).to.include(`Commits: base ${c1} → candidate ${c2}`).and.include('fails the gate')

    const log = git(work, 'log', '--format=%s', '--name-only', 'perf-results')
    expect(log).to.match(new RegExp(`^ebpfperf history: 1 run\\(s\\) of ${c2}\n\nmicro/[^/]+/[^/]+/\\d{4}/\\d{2}/${c2}-\\d{8}T\\d{9}Z\\.json\nebpfperf history: 1 run\\(s\\) of ${c1}\n\n\\.ebpfperf-history\nmicro/[^/]+/[^/]+/\\d{4}/\\d{2}/${c1}-\\d{8}T\\d{9}Z\\.json$`))
    expect(git(work, 'rev-list', '--count', 'perf-results')).to.equal('2')
  })

  it('the same build on both sides (no regression): compare --history passes (exit 0)', () => {
    commit('third: nothing changed')
    // an unchanged build fails the gate at most 5% of the time (docs/gate.md): a false alarm gets one more trial
    let r = 1
    for (let trial = 0; trial < 2 && r !== 0; trial++) {
      expect(abRun(join(dir, `r3-${trial}`), []).status).to.be.oneOf([0, 1])
      expect(ebpfperf('history', 'push', join(dir, `r3-${trial}`)).status).to.equal(0)
      r = ebpfperf('compare', '--history', 'git:perf-results').status ?? -1
    }
    expect(r).to.equal(0)
  })
})
