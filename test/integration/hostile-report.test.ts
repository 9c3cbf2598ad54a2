// A result file that carries script (a metric, a parameter, an id, a suite name with </script>, an <img
// onerror>, U+2028) opened in a real headless Chromium: the text is on the page, no script of it runs.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {validResult} from '../support/hostile.js'
import {CHROMIUM, openFile} from '../support/chromium.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const PAYLOAD = '</script><script>window.__pwned=(window.__pwned||0)+1;document.title="pwned"</script>'
const IMG = '<img src=x onerror="window.__pwned=(window.__pwned||0)+1">'

function hostileResult() {
  const r = validResult('2026-11-01T00:00:00Z', 10, 5)
  // four measured cases of one metric over a numeric parameter: a line chart, one series per mode
  ;[0, 1, 2, 3].forEach((i) => {
    r.cases[i].metric = `ns${PAYLOAD}`
    r.cases[i].params = {mode: i < 2 ? `xdp${PAYLOAD}\u2028` : 'tc', rate: (i % 2) + 1}
  })
  r.cases[4].id = `case${IMG}`
  r.cases[4].status = 'failed'
  r.cases[4].reason = `reason${PAYLOAD}`
  delete r.cases[4].stats
  r.command = `ebpfperf suite micro ${IMG}`
  r.environment.hostname = `host${PAYLOAD}`
  return r
}

describe('hostile report in headless Chromium (item 2)', function () {
  this.timeout(120_000)
  const dir = tempDir('hostile-report')

  it('shows every hostile string as text and runs none of it; the charts still draw', async function () {
    if (!existsSync(CHROMIUM)) {
      console.log('      skipped: Debian chromium is not installed (apt-get install chromium)')
      this.skip()
    }
    const file = join(dir, 'hostile.json')
    writeFileSync(file, JSON.stringify(hostileResult()))
    const out = join(dir, 'hostile.html')
    const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), 'report', file, '-o', out], {encoding: 'utf8'})
    expect(r.status, r.stderr).to.equal(0)
    expect(readFileSync(out, 'utf8').match(/<script\b/gi)).to.have.length(2) // the chart library and our own
    const {page, errors, close} = await openFile(out)
    try {
      const seen = await page.evaluate(() => ({
        pwned: (window as unknown as {__pwned?: number}).__pwned,
        title: document.title,
        text: document.body.innerText,
        scripts: document.scripts.length,
        imgs: document.images.length,
        charts: ((window as unknown as {ebpfperfCharts?: unknown[]}).ebpfperfCharts ?? []).length,
        labels: ((window as unknown as {ebpfperfCharts?: {data: {datasets: {label: string}[]}}[]}).ebpfperfCharts ?? []).flatMap((c) => c.data.datasets.map((d) => d.label)),
      }))
      expect(seen.pwned, 'no script from the result ran').to.equal(undefined)
      expect(seen.title).to.equal('ebpfperf report')
      expect(seen.scripts).to.equal(2)
      expect(seen.imgs).to.equal(0)
      expect(errors).to.deep.equal([])
      // shown as text: the metric in a chart title, the id and reason in the table, the host on top
      for (const text of [`ns${PAYLOAD}`, `case${IMG}`, `reason${PAYLOAD}`, `host${PAYLOAD}`]) expect(seen.text).to.include(text)
      // and handed to the charts intact (a parameter becomes a series label)
      expect(seen.charts).to.be.greaterThan(0)
      expect(seen.labels.join('\n')).to.include(`xdp${PAYLOAD}\u2028`)
    } finally {
      await close()
    }
  })
})
