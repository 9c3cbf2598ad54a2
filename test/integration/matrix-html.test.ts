// matrix --html in a real headless Chromium: the page built from this host's matrix (the tracing object judged
// live) loads offline without errors and its table renders with the host column and a row per program.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Matrix} from '../../src/matrix/table.js'
import {nativeAvailable} from '../../src/native.js'
import {CHROMIUM, openFile} from '../support/chromium.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const tracing = join(root, 'bpf/.output/tracing.bpf.o')

describe('ebpfperf matrix --html (host, headless Chromium)', function () {
  this.timeout(120_000)

  it('writes a page whose table renders with the host column, programs as rows, differences first', async function () {
    const why = process.getuid?.() !== 0 ? 'needs root (live probes)'
      : !nativeAvailable().ok || !existsSync(tracing) ? 'needs the native addon and bpf/.output (npm run build)'
      : !existsSync(CHROMIUM) ? 'Debian chromium is not installed (apt-get install chromium)'
      : undefined
    if (why) {
      console.log(`      skipped: ${why}`)
      return this.skip()
    }
    const out = join(tempDir('matrix-html'), 'matrix.html')
    const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), 'matrix', '--kernel', 'host', '--object', tracing, '--html', out, '--json'], {encoding: 'utf8'})
    expect(r.status, r.stderr).to.be.oneOf([0, 1]) // 1: fentry cannot load on this kernel
    const m = JSON.parse(r.stdout) as Matrix
    expect(readFileSync(out, 'utf8')).to.not.match(/<script|<link|src=/i)
    const {page, errors, close} = await openFile(out)
    try {
      const seen = await page.evaluate(`(() => {
        const t = document.querySelector('table.matrix');
        const rows = [...t.querySelectorAll('tbody tr[data-key]')];
        return {
          columns: [...t.querySelectorAll('thead th[data-column]')].map((th) => th.dataset.column),
          width: t.getBoundingClientRect().width,
          keys: rows.map((tr) => tr.dataset.key),
          cells: rows.map((tr) => tr.querySelectorAll('td.v').length),
          statuses: rows.map((tr) => tr.querySelector('td.v').dataset.status),
          hostHead: t.querySelector('thead th[data-column="host"]').innerText,
        };
      })()`) as {columns: string[]; width: number; keys: string[]; cells: number[]; statuses: string[]; hostHead: string}
      expect(errors).to.deep.equal([])
      expect(seen.columns).to.deep.equal(['host'])
      expect(seen.hostHead).to.include(m.columns[0].kernel!)
      expect(seen.width).to.be.greaterThan(200)
      expect(seen.keys).to.deep.equal(m.rows.map((x) => x.key)) // the matrix's order: differences first
      expect(seen.keys.filter((k) => k.startsWith('program:tracing.bpf.o/')).length).to.be.greaterThan(5)
      expect(seen.cells.every((n) => n === 1)).to.equal(true)
      expect(seen.statuses).to.deep.equal(m.rows.map((x) => x.cells.host.status))
    } finally {
      await close()
    }
  })
})
