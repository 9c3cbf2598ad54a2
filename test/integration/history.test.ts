// history push|pull|list and compare --history git: against real git repositories (a bare "remote" and
// clones of it): runs land at the layout's paths without touching the work tree, parallel pushes both
// land, a branch that is not a results branch and a rejected push are refused in one line with exit 2.
import {expect} from 'chai'
import {execFile, spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {RESULT_SCHEMA, type RunResult} from '../../src/results/store.js'
import {summarize} from '../../src/results/stats.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const env = {...process.env, NO_COLOR: '1', GIT_CONFIG_NOSYSTEM: '1'}

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', env, cwd})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, {encoding: 'utf8', cwd, env})
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`)
  return r.stdout.trim()
}

/** A micro result whose case `baseline` has samples around `mean` (±1%). */
function result(dir: string, started: string, mean: number): string {
  const samples = Array.from({length: 10}, (_, i) => mean * (1 + ((i % 5) - 2) * 0.005))
  const run: RunResult = {
    schema: RESULT_SCHEMA,
    suite: 'micro',
    started,
    complete: true,
    command: 'ebpfperf suite micro --quick --test baseline',
    environment: {kernel: {release: '6.18.0-test'}, machine: 'x86_64', hostname: 'runner', cpu: {model: 'cpu', count: 2}, virtualized: true, jit: {enable: '1', harden: '0'}, versions: {ebpfperf: '0.1.0', node: '20'}},
    cases: [{id: 'baseline', params: {cpu: 0}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status: 'ok', samples, stats: summarize(samples)}],
  }
  const file = join(dir, `micro-${started.replace(/[-:.]/g, '')}.json`)
  writeFileSync(file, JSON.stringify(run))
  return file
}

describe('history: results in a git branch', function () {
  this.timeout(60_000)
  const dir = tempDir('history')
  const remote = join(dir, 'remote.git')
  const [a, b] = [join(dir, 'a'), join(dir, 'b')]
  const runs = join(dir, 'runs')
  const commits: string[] = []

  before(() => {
    mkdirSync(runs)
    git(dir, 'init', '-q', '--bare', remote)
    git(dir, 'init', '-q', a)
    for (const [k, v] of [['user.email', 'dev@example.org'], ['user.name', 'dev']]) git(a, 'config', k, v)
    for (const n of [1, 2]) {
      writeFileSync(join(a, 'code.c'), `int v = ${n};\n`)
      git(a, 'add', 'code.c')
      git(a, 'commit', '-q', '-m', `code ${n}`)
      commits.push(git(a, 'rev-parse', 'HEAD'))
    }
    git(a, 'remote', 'add', 'origin', remote)
    git(a, 'push', '-q', 'origin', 'HEAD:refs/heads/main')
    git(dir, 'clone', '-q', remote, b)
  })

  it('push: the first run creates the orphan branch, at the layout path, without touching the work tree', () => {
    writeFileSync(join(a, 'code.c'), 'int v = 3; /* uncommitted */\n')
    const before = {head: git(a, 'rev-parse', 'HEAD'), status: git(a, 'status', '--porcelain'), index: git(a, 'ls-files', '--stage')}
    const r = cli(['history', 'push', result(runs, '2026-12-01T10:00:00.000Z', 100), '--commit', commits[0]], a)
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/1 run\(s\) added to perf-results/)
    expect(git(a, 'ls-tree', '-r', '--name-only', 'perf-results').split('\n')).to.deep.equal(['.ebpfperf-history', `micro/runner/6.18.0-test/2026/12/${commits[0].slice(0, 12)}-20261201T100000000Z.json`])
    expect(git(a, 'rev-list', '--max-parents=0', 'perf-results')).to.equal(git(a, 'rev-parse', 'perf-results')) // orphan
    expect({head: git(a, 'rev-parse', 'HEAD'), status: git(a, 'status', '--porcelain'), index: git(a, 'ls-files', '--stage')}).to.deep.equal(before)
    expect(git(a, 'symbolic-ref', 'HEAD')).to.match(/refs\/heads\/(master|main)/)
    git(a, 'checkout', '-q', '--', 'code.c')
  })

  it('push --remote: on top of the remote branch; the same run again adds nothing', () => {
    const file = result(runs, '2026-12-01T11:00:00.000Z', 101)
    const r = cli(['history', 'push', file, '--remote', 'origin'], a) // commit: HEAD
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/and pushed to origin/)
    expect(git(remote, 'rev-parse', 'perf-results')).to.equal(git(a, 'rev-parse', 'perf-results'))
    expect(git(a, 'log', '--format=%s', 'perf-results').split('\n')).to.have.length(2)
    const again = cli(['history', 'push', file, '--remote', 'origin'], a)
    expect(again.code, again.stderr).to.equal(0)
    expect(again.stdout).to.match(/^0 run\(s\) added/)
    expect(again.stderr).to.match(/already there/)
  })

  it('two jobs pushing at the same moment from two clones: both runs land (the rejected one retries)', async () => {
    const run = promisify(execFile)
    const push = (cwd: string, file: string) => run(process.execPath, [bin, 'history', 'push', file, '--remote', 'origin', '--commit', commits[1]], {cwd, env})
    const outs = await Promise.all([push(a, result(runs, '2026-12-02T09:00:00.000Z', 99)), push(b, result(runs, '2026-12-02T09:00:01.000Z', 100))])
    expect(outs.map((o) => o.stdout).join('')).to.match(/pushed to origin[\s\S]*pushed to origin/)
    const files = git(remote, 'ls-tree', '-r', '--name-only', 'perf-results').split('\n')
    expect(files.filter((f) => f.endsWith('.json'))).to.have.length(4)
  })

  it('pull --out and list: the local branch catches up with the remote, files copied in the layout', () => {
    const out = join(dir, 'pulled')
    const r = cli(['history', 'pull', '--out', out], a)
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/4 result file\(s\) copied/)
    expect(statSync(join(out, 'micro/runner/6.18.0-test/2026/12')).isDirectory()).to.equal(true)
    const list = cli(['history', 'list', 'micro', '--json'], a)
    expect(list.code, list.stderr).to.equal(0)
    const rows = JSON.parse(list.stdout) as {commit: string; time: string}[]
    expect(rows.map((x) => x.time)).to.deep.equal([...rows.map((x) => x.time)].sort())
    expect(rows.map((x) => x.commit)).to.include(commits[0].slice(0, 12))
  })

  it('compare --history git:perf-results: the newest run against the earlier ones, named by branch path', () => {
    cli(['history', 'push', result(runs, '2026-12-03T09:00:00.000Z', 160), '--remote', 'origin'], a)
    const r = cli(['compare', '--history', 'git:perf-results', '--format', 'json'], a)
    expect(r.code, r.stderr).to.equal(0)
    const cmp = JSON.parse(r.stdout)
    expect(cmp.method).to.equal('history')
    expect(cmp.base).to.have.length(4)
    expect(cmp.candidate).to.match(/^git:perf-results:micro\/runner\/6\.18\.0-test\/2026\/12\/[0-9a-f]{12}-20261203T090000000Z\.json$/)
    expect(cmp.cases[0].verdict).to.equal('regression')
    expect(cmp.cases[0].relative).to.be.closeTo(0.6, 0.05)
  })

  it('compare --format issue on the branch: the title, a marker per case, the commits and the command to compare again', () => {
    const r = cli(['compare', '--history', 'git:perf-results', '--format', 'issue'], a)
    expect(r.code, r.stderr).to.equal(0)
    const [title, , ...body] = r.stdout.split('\n')
    expect(title).to.equal(`Performance regression: micro/baseline +60.0% at ${commits[1].slice(0, 12)}`)
    expect(body.join('\n')).to.include('<!-- ebpfperf:case=micro/baseline -->').and.include('ebpfperf compare --history git:perf-results:micro/runner/6.18.0-test\n')
    expect(body.join('\n')).to.include(`- Candidate: ${commits[1].slice(0, 12)} (git:perf-results:micro/runner/`)
  })

  it('bad input: not a repository, a branch that is not a results branch, a rejected push: one line, exit 2', () => {
    const file = result(runs, '2026-12-04T09:00:00.000Z', 100)
    const notRepo = cli(['history', 'list'], runs)
    expect([notRepo.code, notRepo.stderr]).to.deep.equal([2, `ebpfperf: .: not a git repository (run inside one, or give --repo DIR)\n`])
    git(a, 'branch', 'notes')
    const foreign = cli(['history', 'push', file, '--branch', 'notes'], a)
    expect(foreign.code).to.equal(2)
    expect(foreign.stderr).to.match(/^ebpfperf: branch notes exists and is not an ebpfperf results branch .*\n$/)
    const hook = join(remote, 'hooks/pre-receive')
    writeFileSync(hook, '#!/bin/sh\necho "results are frozen" >&2\nexit 1\n')
    chmodSync(hook, 0o755)
    const [localBefore, remoteBefore] = [git(a, 'rev-parse', 'perf-results'), git(remote, 'rev-parse', 'perf-results')]
    const rejected = cli(['history', 'push', file, '--remote', 'origin', '--retries', '1'], a)
    expect(rejected.code).to.equal(2)
    expect(rejected.stderr).to.match(/^ebpfperf: push of perf-results to origin rejected 2 times \(.*pre-receive hook declined\)\): nothing was changed on origin; try again\n$/)
    expect([git(a, 'rev-parse', 'perf-results'), git(remote, 'rev-parse', 'perf-results')]).to.deep.equal([localBefore, remoteBefore])
    expect(readFileSync(hook, 'utf8')).to.match(/frozen/)
  })
})
