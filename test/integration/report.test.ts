// The report page in a real headless Chromium: loads offline without console errors, charts draw, the answer
// comes first, modes stand side by side per frame size, and axes read in human units (Mpps, Gbit/s, µs).
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'

import {join} from 'node:path'
import {RESULT_SCHEMA, type CaseResult, type RunResult} from '../../src/results/store.js'
import {summarize} from '../../src/results/stats.js'
import {tempDir} from '../support/tmp.js'
import {appCases} from '../../src/suites/app/render.js'
import {emptyRow} from '../../src/suites/app/proof.js'
import type {ProbeName} from '../../src/suites/app/probes.js'
import {measuredCase} from '../../src/suites/common.js'
import {CHROMIUM, openFile, screenshot} from '../support/chromium.js'

const root = new URL('../..', import.meta.url).pathname
const env = {kernel: {release: '6.18.0'}, machine: 'x86_64', hostname: 'h', cpu: {model: 'cpu', count: 2}, virtualized: true, jit: {enable: '1', harden: '0'}, versions: {ebpfperf: '0.1.0', node: '20'}}
const mk = (id: string, mean: number, params: CaseResult['params'], extra?: CaseResult['extra'], metric = 'bits_per_second', unit = 'bit/s'): CaseResult => {
  const samples = [0.98, 1, 1.01, 0.99, 1.02].map((f) => f * mean)
  return {id, params, metric, unit, higherIsBetter: true, status: 'ok', samples, stats: summarize(samples), extra}
}
const run = (suite: string, started: string, cases: CaseResult[]): RunResult => ({schema: RESULT_SCHEMA, suite, started, complete: true, command: `ebpfperf suite ${suite}`, environment: env as RunResult['environment'], cases})

describe('ebpfperf report (headless Chromium)', function () {
  this.timeout(120_000)
  const dir = tempDir('report')
  const ppsOf: Record<string, number> = {generator: 9e6, kernel: 1.2e6, xdp: 3e6, tc: 1.3e6}
  const acc = (scale: number) =>
    run('accelerator', `2026-11-0${scale === 1 ? 1 : 2}T00:00:00Z`, [
      // iperf3 goodput: modes at three offered rates, in bit/s
      ...['kernel', 'xdp', 'tc'].flatMap((mode, m) => [100, 500, 900].map((rate) => mk(`${mode}/udp/${rate}M`, rate * 1e7 * (0.9 + 0.03 * m) * scale, {mode, rate}))),
      mk('xdp/latency', 40_000, {mode: 'xdp'}, {latency: {p50: 30_000, p95: 60_000, p99: 90_000, unit: 'ns'}}, 'rtt', 'ns'),
      // live frames: throughput per mode and frame size, XDP against the kernel as the suite records it
      ...Object.entries(ppsOf).flatMap(([mode, pps]) =>
        [64, 1518].map((size) =>
          mk(`frames/${mode}/${size}B/throughput`, pps * scale, {mode, frame_size: size, load: 'live-frames'}, {generatorPps: ppsOf.generator, ...(mode === 'xdp' ? {vsKernel: {ratio: 2.5, ratioCi95: [2.2, 2.8], significant: true}} : {})}, 'throughput_frames_per_second', 'frame/s'),
        ),
      ),
    ])
  writeFileSync(join(dir, 'a.json'), JSON.stringify(acc(1)))
  mkdirSync(join(dir, 'new'))
  writeFileSync(join(dir, 'new', 'b.json'), JSON.stringify(acc(0.8)))

  it('writes one self-contained page that renders every chart without console errors', async function () {
    if (!existsSync(CHROMIUM)) {
      console.log('      skipped: Debian chromium is not installed (apt-get install chromium)')
      this.skip()
    }
    const out = join(dir, 'report.html')
    const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), 'report', join(dir, 'new'), '--compare', join(dir, 'a.json'), '-o', out], {encoding: 'utf8'})
    expect(r.status, r.stderr).to.equal(0)
    const html = readFileSync(out, 'utf8')
    expect(html).to.not.match(/<script[^>]+src=|<link[^>]+href=|https?:\/\/cdn/i) // nothing fetched from outside
    const {page, errors, close} = await openFile(out)
    try {
      const drawn = await page.evaluate(() =>
        [...document.querySelectorAll('canvas')].map((c) => {
          const ctx = (c as HTMLCanvasElement).getContext('2d')!
          const {data} = ctx.getImageData(0, 0, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height)
          let ink = 0
          for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++
          return {id: c.id, ink}
        }),
      )
      expect(errors).to.deep.equal([])
      expect(drawn.map((d) => d.id)).to.include.members(['comparison', 'r0-0'])
      for (const d of drawn) expect(d.ink, `canvas ${d.id}`).to.be.greaterThan(1000)
      const seen = await page.evaluate(() => ({
        firstHeading: document.querySelector('h2')?.textContent,
        answer: (document.querySelector('.answer') as HTMLElement | null)?.innerText ?? '',
        charts: (window as unknown as {ebpfperfCharts: {config: {type: string}; data: {labels: unknown[]; datasets: {label: string}[]}; options: {scales: {y: {title: {text: string}}}}; scales: {y: {ticks: {label: string}[]}}}[]}).ebpfperfCharts.map((c) => ({
          type: c.config.type,
          labels: c.data.labels.map(String),
          series: c.data.datasets.map((d) => d.label),
          yTitle: c.options.scales.y.title.text,
          ticks: c.scales.y.ticks.map((t) => String(t.label)),
        })),
      }))
      // the answer first, as strong as the recorded ratio
      expect(seen.firstHeading).to.equal('Answer')
      expect(seen.answer).to.include('At 64 B: XDP forwarded 2.5× (95% CI 2.2×–2.8×) the frames of kernel forwarding')
      // modes side by side per frame size, in Mpps
      const frames = seen.charts.find((c) => c.yTitle.startsWith('throughput frames per second'))!
      expect(frames.type).to.equal('bar')
      expect(frames.labels).to.deep.equal(['64 B', '1518 B'])
      expect(frames.series).to.deep.equal(['generator', 'kernel', 'xdp', 'tc'])
      expect(frames.yTitle).to.equal('throughput frames per second (Mpps)')
      const goodput = seen.charts.find((c) => c.yTitle.startsWith('bits per second'))!
      expect(goodput.yTitle).to.equal('bits per second (Gbit/s)')
      // no axis prints raw base units (6,000,000,000)
      for (const c of seen.charts) for (const t of c.ticks) expect(t.replace(/[,.]/g, ''), `${c.yTitle}: tick ${t}`).to.not.match(/\d{5}/)
      const shot = await screenshot(page, 'report')
      expect(statSync(shot).size).to.be.greaterThan(10_000)
    } finally {
      await close()
    }
  })

  it('an app run: requests/s against response size, a line per probe with a point per size', async function () {
    if (!existsSync(CHROMIUM)) {
      console.log('      skipped: Debian chromium is not installed (apt-get install chromium)')
      this.skip()
    }
    // the cases as the suite writes them (appCases), five rounds each; each probe costs its share at every size
    const sizes = ['1K', '16K', '128K']
    const cost: Record<string, number> = {none: 1, sslsniff: 0.6, syscount: 0.95}
    const rows = sizes.flatMap((size, i) =>
      Object.entries(cost).map(([probe, f]) => {
        const rps = [1, 1.02, 0.98, 1.01, 0.99].map((x) => (12_000 / (i + 1)) * f * x)
        return {...emptyRow({id: `https/${size}/${probe}`, protocol: 'https', size, probe: probe as ProbeName}), rps, rounds: [0, 1, 2, 3, 4], requests: 50_000}
      }),
    )
    const appDir = join(dir, 'app')
    mkdirSync(appDir)
    writeFileSync(join(appDir, 'app.json'), JSON.stringify(run('app', '2026-12-02T00:00:00Z', appCases(rows).cases.map(({failed, ...c}) => measuredCase({...c, status: failed ? 'failed' : undefined})))))
    const out = join(dir, 'app.html')
    const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), 'report', appDir, '-o', out], {encoding: 'utf8'})
    expect(r.status, r.stderr).to.equal(0)
    const {page, errors, close} = await openFile(out)
    try {
      // a string, not a function: tsx's __name helper is not in the page
      const seen = (await page.evaluate(`(() => ({
        answer: document.querySelector('.answer')?.innerText ?? '',
        charts: window.ebpfperfCharts.map((c) => ({type: c.config.type, labels: c.data.labels.map(String), xTitle: c.options.scales.x.title.text, yTitle: c.options.scales.y.title.text,
          series: c.data.datasets.map((d) => ({label: d.label, points: d.data.filter((v) => typeof v === 'number' && v > 0).length}))})),
        ink: [...document.querySelectorAll('canvas')].map((c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n }),
      }))()`)) as {answer: string; charts: {type: string; labels: string[]; xTitle: string; yTitle: string; series: {label: string; points: number}[]}[]; ink: number[]}
      expect(errors).to.deep.equal([])
      const rps = seen.charts.find((c) => c.yTitle.startsWith('requests per second'))!
      expect(rps, JSON.stringify(seen.charts.map((c) => c.yTitle))).to.not.equal(undefined)
      expect(rps.type).to.equal('line')
      expect(rps.xTitle).to.equal('size (B)')
      expect(rps.labels).to.deep.equal(['1024', '16384', '131072'])
      expect(rps.series).to.deep.equal(Object.keys(cost).map((label) => ({label, points: sizes.length})))
      for (const n of seen.ink) expect(n).to.be.greaterThan(1000)
      expect(seen.answer).to.match(/sslsniff on nginx over HTTPS: requests\/s -40\.0% at 1K/)
    } finally {
      await close()
    }
  })

  it('bad input: a folder with no results is one line, exit 2', () => {
    const empty = tempDir('empty')
    const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), 'report', empty, '-o', join(dir, 'x.html')], {encoding: 'utf8'})
    expect(r.status).to.equal(2)
    expect(r.stderr).to.match(/^ebpfperf: .*no ebpfperf result files in this folder\n$/)
  })
})
