// ebpfperf profile on the real kernel: perf records a quick micro run, the folded stacks hold the JITed
// program's bpf_prog_ frame, and headless Chromium shows the flame graph d3-flame-graph draws (screenshot kept in
// test/.artifacts/profile.png), on its own page and inside `ebpfperf report` of the profile folder. Bad input (no command, not a suite, no perf): one line, exit 2.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {nativeAvailable} from '../../src/native.js'
import {perfProblem} from '../../src/profile/run.js'
import type {Page} from 'playwright-core'
import {CHROMIUM, openFile, screenshot} from '../support/chromium.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {encoding: 'utf8', env: {...env, NO_COLOR: '1'}})

/**
 * The graph `id` as d3-flame-graph drew it, polled (every 100 ms, up to 10 s) until the JITed program's frame
 * has its width: the library sets widths in a transition. JITed programs are the frames whose datum is of
 * libtype jit, not kernel functions such as bpf_prog_load. A string, not a function: tsx would wrap the
 * inner arrow in a helper the page does not have.
 */
async function drawnGraph(page: Page, id: string): Promise<{frames: number; graph?: DOMRect; bpf: string[]; bpfBox?: DOMRect; bpfFill?: string}> {
  const look = `(() => {
    const box = (el) => (el ? el.getBoundingClientRect().toJSON() : undefined)
    const frames = [...document.querySelectorAll('#${id} svg g.frame')]
    const bpf = frames.filter((g) => d3.select(g).datum().data.libtype === 'jit' && (g.getAttribute('name') || '').startsWith('bpf_prog_'))
    const rect = bpf.length ? bpf[0].querySelector('rect') : undefined
    return {frames: frames.length, graph: box(document.querySelector('#${id} svg')), bpf: bpf.map((g) => g.getAttribute('name')), bpfBox: box(rect), bpfFill: rect && getComputedStyle(rect).fill}
  })()`
  const deadline = Date.now() + 10_000
  for (;;) {
    const seen = (await page.evaluate(look)) as Awaited<ReturnType<typeof drawnGraph>>
    if ((seen.bpfBox && seen.bpfBox.width > 0) || Date.now() > deadline) return seen
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('ebpfperf profile (real kernel, perf, headless Chromium)', function () {
  this.timeout(300_000)
  const dir = tempDir('profile')

  it('records a micro run: a bpf_prog_ frame in the folded stacks, the flame graph drawn in Chromium', async function () {
    const problem = await perfProblem()
    if (process.getuid?.() !== 0 || !nativeAvailable().ok || problem || !existsSync(CHROMIUM)) {
      console.log(`      skipped: needs root, npm run build, Debian chromium and perf that can sample (${problem ?? 'ok'})`)
      this.skip()
    }
    const out = join(dir, 'prof')
    const r = cli(['profile', '--out', out, '--', 'suite', 'micro', '--quick', '--test', 'baseline', '--cpus', '0', '--no-progress'])
    expect(r.status, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/profile: \d+ samples; BPF programs: bpf_prog_[0-9a-f]{16}_micro_baseline in \d+\.\d%/)
    expect(readdirSync(join(out, 'results')).some((f) => f.endsWith('.json'))).to.equal(true)
    const folded = readFileSync(join(out, 'stacks.folded'), 'utf8').trim().split('\n')
    const bpf = folded.filter((l) => /;bpf_prog_[0-9a-f]{16}_micro_baseline_\[bpf\]( |;)/.test(l))
    expect(bpf, 'a stack through the JITed program').to.not.be.empty
    // the program ran inside the suite's bpf() syscall (the test run), whether or not perf resolved the kernel frames between
    expect(bpf.some((l) => /;syscall;|_\[k\];/.test(l)), bpf[0]).to.equal(true)
    const html = join(out, 'flamegraph.html')
    const {page, errors, close} = await openFile(html)
    try {
      const seen = await drawnGraph(page, 'flamegraph')
      expect(errors).to.deep.equal([])
      expect(seen.frames).to.be.greaterThan(10)
      expect(seen.graph!.width).to.equal(1200)
      expect(seen.bpf[0]).to.match(/^bpf_prog_[0-9a-f]{16}_micro_baseline$/)
      expect(seen.bpfBox!.width).to.be.greaterThan(0)
      expect(seen.bpfFill).to.equal('rgb(70, 130, 230)')
      const shot = await screenshot(page, 'profile')
      expect(statSync(shot).size).to.be.greaterThan(10_000)
    } finally {
      await close()
    }
  })

  it('report of the profile folder: the flame graph inside the report, a bpf_prog_ frame drawn (screenshot)', async function () {
    const out = join(dir, 'prof')
    if (!existsSync(join(out, 'stacks.folded')) || !existsSync(CHROMIUM)) {
      console.log('      skipped: the profile above did not run')
      this.skip()
    }
    expect(JSON.parse(readFileSync(join(out, 'profile.json'), 'utf8'))).to.include({schema: 'ebpfperf/profile/v1', results: join(out, 'results')})
    const html = join(dir, 'report.html')
    const r = cli(['report', out, '-o', html])
    expect(r.status, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/\(1 run\(s\), 1 flame graph\(s\)\)/)
    // the same as a flag beside result paths (one value per --profile: the results stay results)
    const flag = cli(['report', '--profile', out, join(out, 'results'), '-o', join(dir, 'flag.html')])
    expect([flag.status, flag.stderr]).to.deep.equal([0, ''])
    expect(flag.stdout).to.match(/\(1 run\(s\), 1 flame graph\(s\)\)/)
    const {page, errors, close} = await openFile(html)
    try {
      const seen = await drawnGraph(page, 'flamegraph-0')
      expect(errors).to.deep.equal([])
      expect(await page.locator('#profiles ~ .profile h3').count(), 'a heading per profile').to.equal(1)
      expect(seen.frames).to.be.greaterThan(10)
      expect(seen.bpf[0]).to.match(/^bpf_prog_[0-9a-f]{16}_micro_baseline$/)
      expect(seen.bpfBox!.width).to.be.greaterThan(0)
      expect(seen.bpfBox!.height).to.be.greaterThan(0)
      expect(seen.bpfFill).to.equal('rgb(70, 130, 230)')
      expect(await page.evaluate('window.ebpfperfCharts.length'), 'the profiled run\'s own charts are there too').to.be.greaterThan(0)
      // the search box finds the program by name: the library highlights its frame
      await page.fill('#flamegraph-0-search', '_micro_baseline')
      expect(await page.locator('#flamegraph-0-details').textContent()).to.match(/^search: [1-9]\d* of \d+ total samples/)
      await page.locator('#flamegraph-0').scrollIntoViewIfNeeded()
      const shot = join(dir, 'report-flame.png')
      await page.screenshot({path: shot, fullPage: true})
      const png = readFileSync(shot)
      expect(png.subarray(0, 8).toString('hex'), 'a PNG signature').to.equal('89504e470d0a1a0a')
      expect(png.length).to.be.greaterThan(10_000)
    } finally {
      await close()
    }
  })

  it('bad input: no command, not a suite, perf missing: one line, exit 2, nothing written', () => {
    const out = join(dir, 'bad')
    const none = cli(['profile', '--out', out])
    expect([none.status, none.stderr]).to.deep.equal([2, 'ebpfperf: give the command to profile after --, e.g. ebpfperf profile -- suite micro --quick --test hash_1k_read\n'])
    const notSuite = cli(['profile', '--out', out, '--', 'topology', 'up'])
    expect([notSuite.status, notSuite.stderr]).to.deep.equal([2, 'ebpfperf: topology: profile runs an ebpfperf suite (ebpfperf profile -- suite micro …)\n'])
    const noPerf = cli(['profile', '--out', out, '--', 'suite', 'micro', '--quick'], {...process.env, PATH: join(dir, 'empty-path')})
    expect(noPerf.status).to.equal(2)
    expect(noPerf.stderr).to.match(/^ebpfperf: perf is not installed: apt-get install linux-perf/)
    expect(existsSync(out)).to.equal(false)
  })
})
