// ebpfperf profile on the real kernel: perf records a quick micro run, the folded stacks hold the JITed
// program's bpf_prog_ frame, and headless Chromium shows the flame graph (screenshot kept in
// test/.artifacts/profile.png), on its own page and inside `ebpfperf report` of the profile folder. Bad input (no command, not a suite, no perf): one line, exit 2.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {nativeAvailable} from '../../src/native.js'
import {perfProblem} from '../../src/profile/run.js'
import {openFile} from '../support/chromium.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const CHROMIUM = '/usr/bin/chromium'
const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {encoding: 'utf8', env: {...env, NO_COLOR: '1'}})

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
    const {chromium} = await import('playwright-core')
    const browser = await chromium.launch({executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync']})
    try {
      const page = await browser.newPage({viewport: {width: 1280, height: 900}})
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(String(e)))
      page.on('request', (req) => !req.url().startsWith('file:') && errors.push(`network request: ${req.url()}`))
      await page.goto(`file://${html}`)
      // a string, not a function: tsx would wrap the inner arrow in a helper the page does not have
      const seen = (await page.evaluate(`(() => {
        const box = (el) => (el ? el.getBoundingClientRect().toJSON() : undefined)
        const bpfFrame = document.querySelector('#flamegraph g.bpf')
        return {
          frames: document.querySelectorAll('#flamegraph g.frame').length,
          graph: box(document.querySelector('#flamegraph')),
          bpf: bpfFrame ? bpfFrame.getAttribute('data-name') : undefined,
          bpfBox: box(bpfFrame),
          bpfFill: bpfFrame ? getComputedStyle(bpfFrame.querySelector('rect')).fill : undefined,
        }
      })()`)) as {frames: number; graph?: DOMRect; bpf?: string; bpfBox?: DOMRect; bpfFill?: string}
      expect(errors).to.deep.equal([])
      expect(seen.frames).to.be.greaterThan(10)
      expect(seen.graph!.width).to.equal(1200)
      expect(seen.bpf).to.match(/^bpf_prog_[0-9a-f]{16}_micro_baseline$/)
      expect(seen.bpfBox!.width).to.be.greaterThan(0)
      expect(seen.bpfFill).to.equal('rgb(70, 130, 230)')
      const shot = join(root, 'test/.artifacts/profile.png')
      mkdirSync(join(root, 'test/.artifacts'), {recursive: true})
      await page.screenshot({path: shot, fullPage: true})
      expect(statSync(shot).size).to.be.greaterThan(10_000)
    } finally {
      await browser.close()
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
      const seen = (await page.evaluate(`(() => {
        const graph = document.querySelector('#profiles ~ .profile svg.flamegraph')
        const frames = graph ? [...graph.querySelectorAll('g.frame')] : []
        // JITed programs (class bpf), not kernel functions such as bpf_prog_load
        const bpf = frames.filter((g) => g.classList.contains('bpf') && (g.getAttribute('data-name') || '').startsWith('bpf_prog_'))
        const r = bpf.length ? bpf[0].querySelector('rect').getBoundingClientRect() : undefined
        return {frames: frames.length, bpf: bpf.map((g) => g.getAttribute('data-name')), width: r && r.width, height: r && r.height,
          fill: bpf.length ? getComputedStyle(bpf[0].querySelector('rect')).fill : undefined, charts: window.ebpfperfCharts.length}
      })()`)) as {frames: number; bpf: string[]; width?: number; height?: number; fill?: string; charts: number}
      expect(errors).to.deep.equal([])
      expect(seen.frames).to.be.greaterThan(10)
      expect(seen.bpf[0]).to.match(/^bpf_prog_[0-9a-f]{16}_micro_baseline$/)
      expect(seen.width).to.be.greaterThan(0)
      expect(seen.height).to.be.greaterThan(0)
      expect(seen.fill).to.equal('rgb(70, 130, 230)')
      expect(seen.charts, 'the profiled run\'s own charts are there too').to.be.greaterThan(0)
      await page.locator('#flamegraph-0 g.bpf').first().scrollIntoViewIfNeeded()
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
