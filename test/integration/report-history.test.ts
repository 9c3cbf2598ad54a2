// Performance CI tried as a new user would, on the real kernel, in a scratch git repository: two suite runs
// pushed to the results branch from two commits, compare --history on the branch (reported, not gated),
// git log showing the two commits in the layout, the report's history drawn in headless Chromium with two
// points per case, and a regression injected as a slowed program caught by the A/B gate, whose issue text
// is printed.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {release} from 'node:os'
import {join} from 'node:path'
import {nativeAvailable} from '../../src/native.js'
import {CHROMIUM, openFile} from '../support/chromium.js'
import {git} from '../support/git.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')

describe('performance CI as a new user: history branch, compare, report history, issue text (real kernel)', function () {
  this.timeout(300_000)
  const dir = tempDir('walk')
  const repo = join(dir, 'repo')
  const commits: string[] = []
  const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], {cwd: repo, encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  const suite = (out: string, ...more: string[]) => cli('suite', 'micro', '--quick', '--test', 'baseline', '--test', 'hash_1k_read', '--cpus', '0', '--no-progress', '--out', out, ...more)

  before(function () {
    if (process.getuid?.() !== 0 || !nativeAvailable().ok) {
      console.log('      skipped: needs root and npm run build (the suite runs BPF programs)')
      this.skip()
    }
    git(dir, 'init', '-q', repo)
    for (const [k, v] of [['user.email', 'dev@example.org'], ['user.name', 'dev']]) git(repo, 'config', k, v)
  })

  it('two commits, one suite run each, pushed: git log perf-results shows two commits in the layout', () => {
    for (const n of [1, 2]) {
      writeFileSync(join(repo, 'prog.bpf.c'), `// version ${n}\n`)
      git(repo, 'add', '.')
      git(repo, 'commit', '-q', '-m', `version ${n}`)
      commits.push(git(repo, 'rev-parse', 'HEAD').slice(0, 12))
      const run = suite(join(dir, `run${n}`))
      expect(run.status, run.stderr).to.equal(0)
      const push = cli('history', 'push', join(dir, `run${n}`))
      expect(push.status, push.stderr).to.equal(0)
    }
    const log = git(repo, 'log', '--format=%s', '--name-only', 'perf-results').split('\n').filter(Boolean)
    const kernel = release().replace(/[^\w.+-]/g, '_').replace(/\./g, '\\.')
    const path = (c: string) => new RegExp(`^micro/[^/]+/${kernel}/\\d{4}/\\d{2}/${c}-\\d{8}T\\d{9}Z\\.json$`)
    expect(log).to.have.length(5) // two subjects and their files, the first commit with the marker
    expect(log[0]).to.equal(`ebpfperf history: 1 run(s) of ${commits[1]}`)
    expect(log[1]).to.match(path(commits[1]))
    expect(log[2]).to.equal(`ebpfperf history: 1 run(s) of ${commits[0]}`)
    expect(log.slice(3).sort()).to.satisfy((xs: string[]) => xs[0] === '.ebpfperf-history' && path(commits[0]).test(xs[1]))
    expect(git(repo, 'status', '--porcelain')).to.equal('') // the work tree untouched
  })

  it('compare --history git:perf-results: the second run against the first, reported and not gated; no issue, and why', () => {
    const r = cli('compare', '--history', 'git:perf-results', '--json')
    expect(r.status, r.stderr).to.equal(0)
    const cmp = JSON.parse(r.stdout)
    expect(cmp).to.include({method: 'history', gated: false, exitCode: 0})
    expect(cmp.candidate).to.match(new RegExp(`^git:perf-results:micro/.*/${commits[1]}-`))
    expect(cmp.base).to.have.length(1).and.to.satisfy((b: string[]) => b[0].includes(`/${commits[0]}-`))
    expect(cmp.cases.map((c: {label: string}) => c.label)).to.deep.equal(['micro/baseline', 'micro/hash_1k_read'])
    const issue = cli('compare', '--history', 'git:perf-results', '--format', 'issue')
    expect([issue.status, issue.stdout]).to.deep.equal([0, ''])
    expect(issue.stderr).to.match(/^no issue: no significant regression \(2 too noisy to tell; one earlier run has no run-to-run spread, so history cannot tell yet\)\n$/)
  })

  it('report --history git:perf-results: each case with two points over the two commits, labelled as never gating', async function () {
    if (!existsSync(CHROMIUM)) this.skip()
    const html = join(dir, 'history.html')
    const r = spawnSync(process.execPath, [bin, 'report', '--history', 'git:perf-results', '--repo', repo, '-o', html], {cwd: dir, encoding: 'utf8'}) // the branch of another repository
    expect(r.status, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/\(1 run\(s\), history of 2 run\(s\) from git:perf-results\)/)
    const {page, errors, close} = await openFile(html)
    try {
      const seen = (await page.evaluate(`(() => ({
        heading: document.querySelector('#history').textContent,
        context: document.querySelector('.context').innerText,
        header: [...document.querySelectorAll('table.history th')].map((th) => th.innerText.split('\\n')[0]),
        trends: window.ebpfperfCharts.filter((c) => c.canvas.id.startsWith('h')).map((c) => {
          const meta = c.getDatasetMeta(0)
          return {title: c.canvas.closest('.trend').querySelector('h4').textContent, labels: c.data.labels, points: meta.data.filter((p, i) => c.data.datasets[0].data[i] !== null && Number.isFinite(p.y)).length}
        }),
      }))()`)) as {heading: string; context: string; header: string[]; trends: {title: string; labels: string[]; points: number}[]}
      expect(errors).to.deep.equal([])
      expect(seen.heading).to.equal('History: context, never a gate')
      expect(seen.context).to.match(/never sets an exit code/).and.match(/moved by \d+(\.\d)?% in the median case/)
      expect(seen.header).to.deep.equal(['case', commits[0].slice(0, 9), commits[1].slice(0, 9), 'spread', 'newest vs earlier (not gated)'])
      expect(seen.trends.map((t) => t.title)).to.deep.equal(['micro/baseline', 'micro/hash_1k_read'])
      for (const t of seen.trends) expect([t.points, t.labels], t.title).to.deep.equal([2, commits.map((c) => c.slice(0, 9))])
    } finally {
      await close()
    }
  })

  it('an injected regression (bpf/regress: the prandom helper test\'s program slowed) fails the A/B gate and prints the issue text', () => {
    const ab = join(dir, 'ab')
    const run = cli('suite', 'micro', '--quick', '--test', 'helper_get_prandom_u32', '--cpus', '0', '--ab', join(root, 'bpf/.output/regress'), '--no-progress', '--out', ab)
    expect(run.status, `${run.stdout}\n${run.stderr}`).to.equal(1)
    const file = join(ab, readdirSync(ab).find((f) => f.endsWith('.json'))!)
    const r = cli('compare', file, '--format', 'issue')
    expect(r.status, r.stderr).to.equal(1)
    const [title, blank, ...body] = r.stdout.split('\n')
    expect(title).to.match(/^Performance regression: micro\/helper_get_prandom_u32 \+\d+\.\d%$/)
    expect(blank).to.equal('')
    expect(body.join('\n')).to.include('<!-- ebpfperf:case=micro/helper_get_prandom_u32 -->').and.match(/fails the gate/).and.include('ebpfperf profile --out profile-helper_get_prandom_u32 -- suite micro')
    expect(readFileSync(file, 'utf8')).to.include('"variant": "B"')
  })
})
