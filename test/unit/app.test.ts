// The application layer without the kernel: wrk's report, nginx's config and sizes, flags to options (bad
// input is one line, exit 2), which runs count (the probe's proof), and the paired comparison with known answers.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'chai'
import {parseWrk, wrkArgs} from '../../src/workloads/wrk.js'
import {nginxConf, parseSize} from '../../src/workloads/nginx.js'
import {appOptions} from '../../src/suites/app/index.js'
import type {AppFlags} from '../../src/suites/app/flags.js'
import {appConfigs} from '../../src/suites/app/run.js'
import {checkProof, emptyRow, type AppRow} from '../../src/suites/app/proof.js'
import {compareToNone} from '../../src/suites/app/analyze.js'
import {appAnswer, appAnswerFromRun, appCases} from '../../src/suites/app/render.js'
import type {RunResult} from '../../src/results/store.js'
import {exitCodeFor} from '../../src/util/errors.js'
import type {WrkResult} from '../../src/workloads/wrk.js'
import {perfPages, type ProbeName} from '../../src/suites/app/probes.js'

const fixture = (f: string) => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'app', f), 'utf8')
const flags = (o: Partial<AppFlags> = {}): AppFlags => ({quick: true, out: 'results', workers: 1, connections: 16, threads: 1, capture: 8192, progress: false, ...o}) as AppFlags
const badInput = (f: () => unknown): string => {
  try {
    f()
  } catch (error) {
    expect(exitCodeFor(error)).to.equal(2)
    return (error as Error).message
  }
  throw new Error('no error')
}

describe('suite app: wrk and nginx', () => {
  it('parses a wrk report: requests/s, transfer/s, latency percentiles in µs, errors', () => {
    const r = parseWrk(fixture('wrk-https-1k.txt'))
    expect(r.requests).to.equal(24504)
    expect(r.seconds).to.equal(2)
    expect(r.requestsPerSec).to.equal(12251.03)
    expect(r.transferPerSec).to.be.closeTo(14.93 * 1024 * 1024, 1)
    expect(r.latencyUs).to.deep.equal({50: 412, 75: 615, 90: 1020, 99: 6640})
    expect(r.errors).to.equal(3 + 4)
  })

  it('refuses text that is not a wrk report, quoting its end', () => {
    expect(() => parseWrk('unable to connect to 198.19.60.2:8443 Connection refused')).to.throw(/not a wrk report.*Connection refused/)
  })

  it('builds wrk argv with --latency and refuses fewer connections than threads', () => {
    expect(wrkArgs({url: 'https://x/1K.bin', threads: 2, connections: 8, seconds: 3})).to.deep.equal(['-t', '2', '-c', '8', '-d', '3s', '--timeout', '5s', '--latency', 'https://x/1K.bin'])
    expect(() => wrkArgs({url: 'u', threads: 4, connections: 2, seconds: 1})).to.throw(/connections/)
  })

  it('reads sizes as bytes and refuses what is not a size', () => {
    expect(parseSize('1K')).to.equal(1024)
    expect(parseSize('256k')).to.equal(262144)
    expect(parseSize('2M')).to.equal(2 << 20)
    expect(parseSize('100')).to.equal(100)
    expect(parseSize('12Q')).to.be.NaN
    expect(parseSize('-1K')).to.be.NaN
  })

  it('writes an nginx config listening on both ports of the address, with the certificate and worker count', () => {
    const c = nginxConf('/tmp/x', '198.19.60.2', 3)
    expect(c).to.match(/worker_processes 3;/)
    expect(c).to.match(/listen 198\.19\.60\.2:8080;/)
    expect(c).to.match(/listen 198\.19\.60\.2:8443 ssl;/)
    expect(c).to.match(/ssl_certificate \/tmp\/x\/cert\.pem;/)
    expect(c).to.match(/pid \/tmp\/x\/nginx\.pid;/)
  })
})

describe('suite app: flags', () => {
  it('--quick: HTTPS at two sizes, none and sslsniff', () => {
    const o = appOptions(flags())
    expect(o.protocols).to.deep.equal(['https'])
    expect(o.sizes).to.have.length(2)
    expect(o.probes).to.deep.equal(['none', 'sslsniff'])
  })

  it('adds none when not named, and never runs sslsniff over plain HTTP', () => {
    const o = appOptions(flags({protocols: 'http,https', probes: 'sslsniff,syscount'}))
    expect(o.probes).to.deep.equal(['none', 'sslsniff', 'syscount'])
    const ids = appConfigs(o).map((c) => c.id)
    expect(ids).to.include('https/1K/sslsniff')
    expect(ids).to.include('http/1K/syscount')
    expect(ids.filter((i) => i.startsWith('http/') && i.endsWith('sslsniff'))).to.deep.equal([])
  })

  it('bad input is one line naming the flag (exit 2)', () => {
    expect(badInput(() => appOptions(flags({sizes: '1K,12Q'})))).to.match(/^--sizes 12Q: not a size/)
    expect(badInput(() => appOptions(flags({probes: 'sslsnif'})))).to.match(/^--probes sslsnif: unknown probe/)
    expect(badInput(() => appOptions(flags({protocols: 'quic'})))).to.match(/^--protocols quic/)
    expect(badInput(() => appOptions(flags({protocols: 'http', probes: 'sslsniff'})))).to.match(/sslsniff needs --protocols https/)
    expect(badInput(() => appOptions(flags({capture: 9000})))).to.match(/^--capture 9000/)
    expect(badInput(() => appOptions(flags({program: 'p'})))).to.match(/give --object FILE too/)
    expect(badInput(() => appOptions(flags({object: '/nonexistent.bpf.o', program: 'p', uprobe: 'SSL_write'})))).to.match(/^--object \/nonexistent\.bpf\.o: no such file/)
    expect(badInput(() => appOptions(flags({'filter-pid': 2 ** 30})))).to.match(/--filter-pid \d+: no such process/)
    expect(badInput(() => appOptions(flags({buffer: 'pipe'})))).to.equal('--buffer pipe: expected ringbuf or perf')
    expect(badInput(() => appOptions(flags({protocols: 'http', probes: 'syscount', buffer: 'perf'})))).to.match(/--buffer .*--probes sslsniff/)
  })

  it('--buffer perf goes to the sslsniff configurations only (ringbuf by default)', () => {
    expect(appConfigs(appOptions(flags())).map((c) => c.buffer)).to.deep.equal([undefined, 'ringbuf', undefined, 'ringbuf'])
    expect(appConfigs(appOptions(flags({buffer: 'perf'}))).filter((c) => c.probe === 'sslsniff').map((c) => c.buffer)).to.deep.equal(['perf', 'perf'])
    // the perf buffer gets the ring buffer's 32 MiB in all, a power of two pages per CPU
    expect([1, 2, 3, 4].map((n) => perfPages(n))).to.deep.equal([8192, 4096, 2048, 2048])
  })
})

const wrk = (requests: number, errors = 0): WrkResult => ({requests, seconds: 1, requestsPerSec: requests, transferPerSec: 0, bytes: 0, latencyUs: {}, errors})
const counts = (o: Partial<AppRow['counts']> = {}) => ({entries: 0, returns: 0, produced: 0, lost: 0, bytes: 0, mine: 0, ...o})
const ssl = (read: number, write: number) => ({'uprobe SSL_read': read, 'uprobe SSL_write': write, 'uretprobe SSL_read': read, 'uretprobe SSL_write': write})
const cfg = (probe: ProbeName, size = '1K') => ({id: `https/${size}/${probe}`, protocol: 'https' as const, size, probe})

describe('suite app: the probe proof', () => {
  it('sslsniff counts when it fired on every request and every record is consumed or lost', () => {
    expect(checkProof(cfg('sslsniff'), {wrk: wrk(100), counts: counts({entries: 300, returns: 300, produced: 200, lost: 10}), consumed: 190, runCnt: ssl(150, 150)})).to.equal(undefined)
  })

  it('fails a run whose records do not add up, naming the counts', () => {
    expect(checkProof(cfg('sslsniff'), {wrk: wrk(100), counts: counts({returns: 300, produced: 200, lost: 10}), consumed: 189, runCnt: {}})).to.match(/produced 200 ≠ consumed 189 \+ lost 10/)
    expect(checkProof(cfg('syscount-user'), {wrk: wrk(100), counts: counts({entries: 500, produced: 500}), consumed: 450, runCnt: {}})).to.match(/produced 500/)
  })

  it('fails a probe that fired less than once per request, and a run with errors or no request', () => {
    expect(checkProof(cfg('sslsniff'), {wrk: wrk(100), counts: counts({returns: 99}), consumed: 0, runCnt: {}})).to.match(/fired 99 times for 100 requests/)
    expect(checkProof(cfg('syscount'), {wrk: wrk(100), counts: counts({entries: 10}), consumed: 0, runCnt: {}})).to.match(/did not fire/)
    expect(checkProof(cfg('none'), {wrk: wrk(0), counts: counts(), consumed: 0, runCnt: {}})).to.match(/no request/)
    expect(checkProof(cfg('none'), {wrk: wrk(100, 5), counts: counts(), consumed: 0, runCnt: {}})).to.match(/5 errors/)
    expect(checkProof(cfg('object'), {wrk: wrk(100), counts: counts(), consumed: 0, runCnt: {}})).to.match(/did not run/)
  })

  it('perf buffer: lost is what the lost callback reported, and must be the failed outputs the programs counted', () => {
    const perf = {...cfg('sslsniff'), buffer: 'perf' as const}
    const k = counts({entries: 300, returns: 300, produced: 200, lost: 10})
    expect(checkProof(perf, {wrk: wrk(100), counts: k, consumed: 190, lostReported: 10, runCnt: ssl(150, 150)})).to.equal(undefined)
    expect(checkProof(perf, {wrk: wrk(100), counts: k, consumed: 190, lostReported: 0, runCnt: ssl(150, 150)})).to.match(/produced 200 ≠ consumed 190 \+ lost 0 \(perf buffer lost callback\)/)
    expect(checkProof(perf, {wrk: wrk(100), counts: {...k, lost: 9}, consumed: 190, lostReported: 10, runCnt: ssl(150, 150)})).to.match(/lost callback reported 10 records, the programs saw 9/)
  })

  it('fails a probe whose programs the kernel did not run (bpf_stats run_cnt), or ran a different number of times than they counted', () => {
    const k = counts({entries: 300, returns: 300, produced: 200, lost: 10})
    expect(checkProof(cfg('sslsniff'), {wrk: wrk(100), counts: k, consumed: 190, runCnt: {}})).to.match(/sslsniff did not run .*run_cnt \+0/)
    expect(checkProof(cfg('sslsniff'), {wrk: wrk(100), counts: k, consumed: 190, runCnt: ssl(150, 149)})).to.match(/run_cnt of the uprobes is 299 but the programs counted 300/)
    expect(checkProof(cfg('syscount'), {wrk: wrk(100), counts: counts({entries: 500}), consumed: 0, runCnt: {'tracepoint raw_syscalls/sys_enter': 500}})).to.equal(undefined)
    expect(checkProof(cfg('syscount'), {wrk: wrk(100), counts: counts({entries: 500}), consumed: 0, runCnt: {'tracepoint raw_syscalls/sys_enter': 0}})).to.match(/did not run/)
    expect(checkProof(cfg('object'), {wrk: wrk(100), counts: counts(), consumed: 0, runCnt: {'p (uprobe SSL_write)': 100}})).to.equal(undefined)
  })
})

function row(probe: ProbeName, rps: number[], rounds = rps.map((_, i) => i)): AppRow {
  return {...emptyRow(cfg(probe)), rps, rounds, requests: 1000}
}

describe('suite app: the change against none', () => {
  it('pairs samples by round, so drift that moves both does not hide a steady 20% drop', () => {
    // the machine's speed moves by ±40% between rounds; the probe always costs 20%
    const base = [1000, 1400, 600, 1200, 800]
    const cmp = compareToNone([row('none', base), row('sslsniff', base.map((x) => x * 0.8))])
    expect(cmp).to.have.length(1)
    expect(cmp[0].change).to.be.closeTo(-0.2, 1e-9)
    expect(cmp[0].significant).to.equal(true)
    expect(cmp[0].pairs).to.equal(5)
    expect(appAnswer([row('none', base), row('sslsniff', base.map((x) => x * 0.8))])[0]).to.match(/sslsniff on nginx over HTTPS: requests\/s -20\.0% at 1K \(95% CI -20\.0% to -20\.0%\)/)
  })

  it('says no change where the ratios scatter around 1', () => {
    const cmp = compareToNone([row('none', [1000, 1000, 1000, 1000]), row('syscount', [1100, 900, 1050, 950])])
    expect(cmp[0].significant).to.equal(false)
    expect(cmp[0].ci[0]).to.be.below(0)
    expect(cmp[0].ci[1]).to.be.above(0)
    expect(appAnswer([row('none', [1000, 1000, 1000, 1000]), row('syscount', [1100, 900, 1050, 950])])[0]).to.match(/no change told from noise at 1K/)
  })

  it('uses only rounds both measured, and makes no claim from fewer than two', () => {
    const cmp = compareToNone([row('none', [1000, 1200, 900], [0, 1, 2]), row('sslsniff', [500, 450], [1, 2])])
    expect(cmp[0].pairs).to.equal(2)
    expect(compareToNone([row('none', [1000, 1200], [0, 1]), row('sslsniff', [500], [1])])).to.deep.equal([])
  })

  it('writes one case per configuration with the comparison beside its samples', () => {
    const {cases, csv} = appCases([row('none', [1000, 1100, 900]), row('sslsniff', [500, 550, 450])])
    expect(cases.map((c) => c.id)).to.deep.equal(['app/https/1K/none', 'app/https/1K/sslsniff'])
    expect(cases[1].extra?.verdict).to.match(/^-50\.0%/)
    expect(csv.split('\n')[0]).to.match(/^case,protocol,size,probe/)
    // the report rebuilds the same answer from the saved cases
    const run = {cases: cases.map((c) => ({...c, status: 'ok'}))} as unknown as RunResult
    expect(appAnswerFromRun(run)).to.deep.equal(appAnswer([row('none', [1000, 1100, 900]), row('sslsniff', [500, 550, 450])]))
  })
})

describe('suite app: the Go server case', () => {
  it('runs go-* probes on the Go server only, and refuses them without it', () => {
    const o = appOptions(flags({protocols: 'https,go', probes: 'sslsniff,go-runtime,go-handler,syscount'}))
    const ids = appConfigs(o).map((c) => c.id)
    expect(ids).to.include.members(['go/1K/go-runtime', 'go/1K/go-handler', 'go/1K/syscount', 'https/1K/sslsniff', 'https/1K/syscount'])
    expect(ids.filter((i) => /^https\/.*go-/.test(i) || /^go\/.*sslsniff/.test(i))).to.deep.equal([])
    expect(badInput(() => appOptions(flags({protocols: 'https', probes: 'go-runtime'})))).to.match(/need --protocols go/)
  })

  it('by default runs only the probes some protocol fits', () => {
    const o = appOptions(flags({quick: false, protocols: 'http,https'}))
    expect(o.probes).to.deep.equal(['none', 'sslsniff', 'syscount', 'syscount-kfilter', 'syscount-user'])
  })
})
