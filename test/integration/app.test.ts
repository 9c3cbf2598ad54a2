// suite app on the real kernel with Debian's nginx, wrk and openssl: the sslsniff probe fires on every
// request and every record is accounted for; the in-kernel syscall filter keeps only the target pid's
// syscalls; bad input starts nothing; an interrupted run leaves no nginx, wrk, namespace or mount behind.
import {expect} from 'chai'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {copyFileSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {nativeAvailable} from '../../src/native.js'
import {which} from '../../src/exec.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const cli = (args: string[], timeout = 240_000) => spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', timeout, env: {...process.env, NO_COLOR: '1'}})
const SMALL = ['--duration', '1', '--repeat', '2', '--connections', '8']

/** What a run may leave: app processes, its namespaces, tracefs mounted by it. */
function leftovers() {
  const procs = spawnSync('pgrep', ['-af', 'ebpfperf-app-|wrk -t'], {encoding: 'utf8'}).stdout.trim()
  const ns = spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'}).stdout.split('\n').filter((l) => l.startsWith('ebp-app'))
  return {procs, ns, tracefs: readFileSync('/proc/self/mounts', 'utf8').includes(' tracefs ')}
}

interface CaseJson {id: string; status: string; reason?: string; samples: number[]; extra: {requests: number; consumed: number; counts: Record<string, number>; runCnt: Record<string, number>; proof: string; verdict?: string}}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

describe('suite app (nginx + wrk, real kernel)', function () {
  this.timeout(600_000)
  let out: string
  let initial: ReturnType<typeof leftovers>
  before(function () {
    const missing = ['nginx', 'wrk', 'openssl'].filter((t) => !which(t))
    if (process.getuid?.() !== 0 || !nativeAvailable().ok || missing.length > 0) {
      console.log(`      skipped: needs root, the addon and ${missing.join(', ') || 'nginx, wrk, openssl'} (apt-get install -y nginx-light wrk openssl)`)
      this.skip()
    }
    out = tempDir('ebp-app-')
    initial = leftovers()
  })
  afterEach(() => {
    expect(leftovers()).to.deep.equal(initial)
  })

  it('--quick: sslsniff fires on every request over HTTPS (bpf_stats run_cnt = SSL calls counted), produced = consumed + lost, the change has a CI', () => {
    const r = cli(['suite', 'app', '--quick', ...SMALL, '--out', out, '--json'])
    expect(r.status, r.stderr).to.equal(0)
    const cases = (JSON.parse(r.stdout) as {run: {cases: CaseJson[]}}).run.cases
    expect(cases.map((c) => c.id).sort()).to.deep.equal(['app/https/128K/none', 'app/https/128K/sslsniff', 'app/https/1K/none', 'app/https/1K/sslsniff'])
    for (const c of cases.filter((x) => x.id.endsWith('sslsniff'))) {
      const k = c.extra.counts
      expect(c.status, c.reason).to.equal('ok')
      expect(c.samples).to.have.length(2)
      expect(k.returns).to.be.at.least(c.extra.requests)
      expect(c.extra.consumed).to.equal(k.produced - k.lost)
      expect(k.produced).to.be.greaterThan(0)
      // the kernel's run_cnt of the SSL_read/SSL_write uprobes and uretprobes is what the programs counted, ≥ 1 per request
      const run = c.extra.runCnt
      expect(Object.keys(run).sort()).to.deep.equal(['uprobe SSL_read', 'uprobe SSL_write', 'uretprobe SSL_read', 'uretprobe SSL_write'])
      expect(run['uprobe SSL_read'] + run['uprobe SSL_write']).to.equal(k.entries)
      expect(run['uretprobe SSL_read'] + run['uretprobe SSL_write']).to.equal(k.returns)
      expect(run['uprobe SSL_write']).to.be.at.least(c.extra.requests)
      expect(c.extra.proof).to.match(/^run_cnt uprobe SSL_read \+\d+/)
      expect(c.extra.verdict).to.be.a('string')
    }
  })

  it('--buffer perf: sslsniff\'s records through a perf buffer; produced = consumed + lost as the lost callback reported it, run_cnt = SSL calls', () => {
    const r = cli(['suite', 'app', '--quick', '--sizes', '1K', '--buffer', 'perf', ...SMALL, '--out', out, '--json'])
    expect(r.status, r.stderr).to.equal(0)
    const c = (JSON.parse(r.stdout) as {run: {cases: CaseJson[]}}).run.cases.find((x) => x.id === 'app/https/1K/sslsniff')!
    const e = c.extra as CaseJson['extra'] & {buffer: string; lostReported: number}
    expect(c.status, c.reason).to.equal('ok')
    expect(e.buffer).to.equal('perf')
    expect(e.counts.produced).to.be.at.least(e.requests)
    expect(e.consumed + e.lostReported).to.equal(e.counts.produced)
    expect(e.lostReported).to.equal(e.counts.lost)
    expect(e.runCnt['uprobe SSL_read'] + e.runCnt['uprobe SSL_write']).to.equal(e.counts.entries)
    expect(e.runCnt['uretprobe SSL_write']).to.be.at.least(e.requests)
    expect(e.proof).to.match(/lost \(perf buffer, lost callback\)/)
  })

  it('syscount-kfilter keeps only the target pid: none of a sleeping process, some of a writing one', () => {
    const sleeper = spawn('sleep', ['600'])
    const writer = spawn('yes', [], {stdio: 'ignore'}) // a write(2) after another
    try {
      const mine = (pid: number) => {
        const r = cli(['suite', 'app', '--quick', '--sizes', '1K', '--probes', 'syscount-kfilter', '--filter-pid', String(pid), ...SMALL, '--out', out, '--json'])
        expect(r.status, r.stderr).to.equal(0)
        const c = (JSON.parse(r.stdout) as {run: {cases: CaseJson[]}}).run.cases.find((x) => x.id.endsWith('syscount-kfilter'))!
        expect(c.extra.counts.entries).to.be.at.least(c.extra.requests)
        return c.extra.counts
      }
      expect(mine(sleeper.pid!).mine).to.equal(0)
      const w = mine(writer.pid!)
      expect(w.mine).to.be.greaterThan(0)
      expect(w.mine).to.be.below(w.entries)
    } finally {
      for (const p of [sleeper, writer]) p.kill('SIGKILL')
    }
  })

  it('the Go server: go-handler counts at least one call per request, go-runtime many', function () {
    if (!which('go')) {
      console.log('      skipped: go not found (apt-get install -y golang-go)')
      this.skip()
    }
    const r = cli(['suite', 'app', '--protocols', 'go', '--sizes', '1K', '--probes', 'go-handler,go-runtime', ...SMALL, '--out', out, '--json'])
    expect(r.status, r.stderr).to.equal(0)
    const cases = (JSON.parse(r.stdout) as {run: {cases: CaseJson[]}}).run.cases
    const get = (p: string) => cases.find((c) => c.id === `app/go/1K/${p}`)!
    for (const p of ['go-handler', 'go-runtime']) expect(get(p).status, get(p).reason).to.equal('ok')
    expect(get('go-handler').extra.counts.entries).to.be.at.least(get('go-handler').extra.requests)
    expect(get('go-runtime').extra.counts.entries).to.be.greaterThan(get('go-runtime').extra.requests)
  })

  it('your tracer: --object with --uprobe SYMBOL in nginx\'s libssl runs and is proven by run_cnt; a program that does not fit is exit 2', () => {
    const obj = join(out, 'mine.bpf.o')
    copyFileSync(join(root, 'bpf/.output/app.bpf.o'), obj)
    const r = cli(['suite', 'app', '--quick', '--sizes', '1K', '--probes', 'none', '--object', obj, '--program', 'app_count_entry', '--uprobe', 'SSL_write', ...SMALL, '--out', out, '--json'])
    expect(r.status, r.stderr).to.equal(0)
    const c = (JSON.parse(r.stdout) as {run: {cases: CaseJson[]}}).run.cases.find((x) => x.id === 'app/https/1K/object')!
    expect(c.status, c.reason).to.equal('ok')
    expect(sum(Object.values(c.extra.runCnt))).to.be.at.least(c.extra.requests)
    const bad = cli(['suite', 'app', '--quick', '--sizes', '1K', '--object', obj, '--program', 'app_sys_all', '--uprobe', 'SSL_write', ...SMALL, '--out', out])
    expect(bad.status, bad.stderr).to.equal(2)
    // one error line (after doctor's verdict note), naming the program and the fix
    expect(bad.stderr.trim().split('\n').filter((l) => l.startsWith('ebpfperf:'))).to.have.length(1)
    expect(bad.stderr).to.match(/app_sys_all .* cannot attach as uprobe.*give --uprobe or --tracepoint/)
  })

  it('bad input is one line and exit 2, and starts nothing', () => {
    for (const [args, re] of [[['--sizes', '1K,12Q'], /--sizes 12Q: not a size/], [['--probes', 'nope'], /--probes nope: unknown probe/], [['--buffer', 'pipe'], /--buffer pipe: expected ringbuf or perf/]] as const) {
      const r = cli(['suite', 'app', '--quick', ...args, '--out', out])
      expect(r.status).to.equal(2)
      expect(r.stderr.trim().split('\n')).to.have.length(1)
      expect(r.stderr).to.match(re)
    }
  })

  it('SIGTERM while wrk runs: exit 143, samples kept, no nginx or wrk left', async () => {
    const child: ChildProcess = spawn(process.execPath, [bin, 'suite', 'app', '--quick', '--duration', '3', '--out', out], {stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += d))
    const ended = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    const deadline = Date.now() + 180_000
    while (!/round 1\/3/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(stderr).to.match(/round 1\/3/)
    child.kill('SIGTERM')
    expect(await ended).to.equal(143)
    expect(stderr).to.match(/samples taken so far are in \S+\.json/)
  })
})
