// The micro suite against the real kernel: the BPF_PROG_TEST_RUN runner (return values, run_cnt, pinning,
// BPF_F_TEST_RUN_ON_CPU), failing tests (wrong return value, verifier rejection) next to passing ones,
// ring buffer and perf buffer accounting (also when events are lost), and the built CLI end to end.
// Figures are not asserted (a shared machine); what must hold whatever the speed is.
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, readdirSync, readFileSync} from 'node:fs'

import {join} from 'node:path'
import {BpfObject, loadNative, nativeAvailable} from '../../src/native.js'
import {defaultSuiteFile, loadSuite, onlineCpus, type BufferTest, type RunTest} from '../../src/suites/micro/spec.js'
import {runTests} from '../../src/suites/micro/runner.js'
import {runBufferTest} from '../../src/suites/micro/buffers.js'
import {ipv4UdpPacket} from '../../src/suites/micro/packet.js'
import type {RunResult} from '../../src/results/store.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const out = join(root, 'bpf/.output')
const fixtures = join(root, 'test/fixtures/micro')
const bin = join(root, 'bin/run.js')
const online = onlineCpus()

function clang(src: string, obj: string, defines: string[] = []): void {
  const multiarch = spawnSync('gcc', ['-print-multiarch'], {encoding: 'utf8'}).stdout.trim() || 'x86_64-linux-gnu'
  const r = spawnSync('clang', ['-g', '-O2', '-target', 'bpf', '-D__TARGET_ARCH_x86', `-I/usr/include/${multiarch}`, `-I${join(root, 'bpf')}`, ...defines, '-c', src, '-o', obj], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`clang ${src}: ${r.stderr}`)
}

function needKernel(ctx: Mocha.Context) {
  if (process.getuid?.() !== 0) {
    console.log('      skipped: BPF_PROG_TEST_RUN needs root')
    ctx.skip()
  }
  if (!existsSync(join(out, 'micro_baseline.bpf.o')) || !nativeAvailable().ok) {
    console.log('      skipped: needs make -C bpf and the native addon (npm run build)')
    ctx.skip()
  }
}

describe('micro: the BPF_PROG_TEST_RUN runner (real kernel)', function () {
  this.timeout(120_000)
  before(function () {
    needKernel(this)
  })

  it('baseline returns its expected value on every CPU, and run_cnt grows by repeat × samples', async () => {
    const n = loadNative()
    const obj = BpfObject.open(join(out, 'micro_baseline.bpf.o')).load()
    try {
      const fd = obj.progFd('micro_baseline')
      const before = n.progInfo(fd).runCnt
      const r = await n.testRunAsync({progFd: fd, data: ipv4UdpPacket(64), cpus: online, samples: 4, repeat: 5000, stats: 'samples', warmup: false})
      expect(n.progInfo(fd).runCnt - before).to.equal(5000 * 4 * online.length)
      expect(r.cpus.map((c) => c.cpu)).to.deep.equal(online)
      for (const c of r.cpus) {
        expect(c.samples).to.have.length(4)
        for (const s of c.samples) {
          expect(s).to.include({retval: 0, repeat: 5000, runCnt: 5000})
          expect(s.kernelNs).to.be.greaterThan(0)
        }
      }
      // the suite's way: calibrated, samples without bpf_stats, then one proof run with it
      const p = await n.testRunAsync({progFd: fd, data: ipv4UdpPacket(64), cpus: [online[0]], samples: 3, targetNs: 2e6})
      const c = p.cpus[0]
      expect(c.repeat).to.be.greaterThan(1000) // a 2-instruction program: thousands of runs fill 2 ms
      expect(c.proof?.runCnt).to.equal(c.proof?.repeat)
      expect(c.proof?.repeat).to.equal(c.repeat)
    } finally {
      obj.close()
    }
  })

  it('runs per sample: each run timed by the kernel; XDP held in the dispatcher by a link that is gone afterwards', async () => {
    const n = loadNative()
    const obj = BpfObject.open(join(out, 'micro_baseline.bpf.o')).load()
    const xdpLinks = (progId: number) => {
      const r = spawnSync('bpftool', ['-j', 'link', 'show'], {encoding: 'utf8'})
      return (JSON.parse(r.stdout || '[]') as {type: string; prog_id: number}[]).filter((l) => l.type === 'xdp' && l.prog_id === progId).length
    }
    try {
      const fd = obj.progFd('micro_baseline')
      const id = n.progInfo(fd).id
      const before = n.progInfo(fd).runCnt
      const r = await n.testRunAsync({progFd: fd, data: ipv4UdpPacket(64), cpus: [online[0]], samples: 3, repeat: 2000, runs: 8, stats: 'samples', warmup: false})
      expect(r).to.include({runsPerSample: 8, dispatcherHold: true})
      expect(n.progInfo(fd).runCnt - before).to.equal(2000 * 8 * 3)
      for (const s of r.cpus[0].samples) {
        expect(s).to.include({retval: 0, repeat: 16_000, runCnt: 16_000})
        expect(s.runNs).to.have.length(8)
        expect(s.kernelNs).to.be.closeTo(s.runNs!.reduce((a, b) => a + b, 0) / 8, 1e-9)
      }
      // while a call runs, the program has an XDP link (in a namespace of its own); afterwards none
      const pending = n.testRunAsync({progFd: fd, data: ipv4UdpPacket(64), cpus: [online[0]], samples: 40, targetNs: 20e6, runs: 4, stats: 'off'})
      let settled = false
      void pending.finally(() => (settled = true))
      let seen = 0
      for (let i = 0; i < 50 && !settled && seen === 0; i++) {
        seen = xdpLinks(id)
        await new Promise((r) => setTimeout(r, 10))
      }
      await pending
      expect(seen, 'an XDP link holding the program during the call').to.equal(1)
      expect(xdpLinks(id), 'no link left').to.equal(0)
      const unheld = await n.testRunAsync({progFd: fd, data: ipv4UdpPacket(64), cpus: [online[0]], samples: 1, repeat: 100, runs: 2, holdDispatcher: false, stats: 'off', warmup: false})
      expect(unheld.dispatcherHold).to.equal(false)
      expect(unheld.dispatcherHoldError).to.equal(undefined)
      // unheld, every run pays the dispatcher updates: a sample falls back to one run
      expect(unheld).to.include({runsFallback: true, runsPerSample: 1})
      expect(unheld.cpus[0].samples[0].runNs).to.have.length(1)
    } finally {
      obj.close()
    }
  })

  it('map, tail call and helper programs of the shipped suite pass on every CPU (fill, read, update, delete+insert)', async () => {
    const names = ['hash_1k_read', 'hash_1k_update', 'hash_1k_delins', 'lru_hash_1k_update', 'lru_hash_1k_read', 'lpm_1k_read', 'lpm_1k_delins', 'pcpu_array_1k_update', 'hash_of_maps_lookup', 'tail_call_one', 'tail_call_chain8', 'helper_xdp_adjust_head', 'helper_ktime_get_ns']
    const suite = loadSuite(defaultSuiteFile(), {tests: names, samples: 2, targetMs: 2})
    const res = await runTests(suite.tests as RunTest[], {native: loadNative(), targetNs: suite.targetNs})
    for (const o of res) {
      expect(o.status, `${o.test.name}: ${o.reason}`).to.equal('ok')
      expect(o.cpus.map((c) => c.cpu)).to.deep.equal(online)
      for (const c of o.cpus) {
        // a missing proof must fail here, not compare undefined with undefined
        expect(c.proof, `${o.test.name} on CPU ${c.cpu}: no bpf_stats proof`).to.not.equal(undefined)
        expect(c.proof!.expected, o.test.name).to.be.greaterThan(0)
        expect(c.proof!.runCnt, o.test.name).to.equal(c.proof!.expected)
      }
    }
    expect(res.map((o) => o.test.name)).to.have.members(names)
  })

  it('raw_tp with BPF_F_TEST_RUN_ON_CPU runs on the CPU asked for (it returns bpf_get_smp_processor_id)', async () => {
    const suite = loadSuite(defaultSuiteFile(), {tests: ['rawtp_get_smp_processor_id'], samples: 2, targetMs: 2})
    const [o] = await runTests(suite.tests as RunTest[], {native: loadNative(), targetNs: suite.targetNs})
    expect(o.status, o.reason).to.equal('ok')
    expect(o.onCpuFlag).to.equal(true)
    expect(o.mode).to.equal('call')
    expect(o.cpus).to.not.be.empty
    for (const c of o.cpus) {
      expect(c.nsPerRun).to.not.be.empty
      expect(c.nsPerRun.every((x) => x > 0)).to.equal(true)
    }
  })

  it('a wrong return value fails that test; the next test still runs and passes', async () => {
    const suite = loadSuite(join(fixtures, 'wrong-return.suite.yml'))
    const res = await runTests(suite.tests as RunTest[], {native: loadNative(), targetNs: suite.targetNs})
    expect(res.map((o) => [o.test.name, o.status])).to.deep.equal([
      ['expects_one', 'failed'],
      ['expects_zero', 'ok'],
    ])
    expect(res[0].reason).to.match(/^returned 0, expected 1 \(CPU \d+, calibration run 1\)/)
  })

  it('a program the verifier rejects fails with the log\'s last lines; the others pass', async () => {
    const dir = tempDir('micro')
    clang(join(fixtures, 'reject.bpf.c'), join(dir, 'reject.bpf.o'))
    copyFileSync(join(fixtures, 'reject.suite.yml'), join(dir, 'reject.suite.yml'))
    const suite = loadSuite(join(dir, 'reject.suite.yml'))
    const res = await runTests(suite.tests as RunTest[], {native: loadNative(), targetNs: suite.targetNs})
    expect(res.map((o) => [o.test.name, o.status])).to.deep.equal([
      ['good_before', 'ok'],
      ['rejected', 'failed'],
      ['good_after', 'ok'],
    ])
    expect(res[1].reason).to.match(/^load failed: /)
    expect(res[1].verifierLog).to.match(/invalid access to packet|R\d+ .*packet/)
  })
})

describe('micro: ring buffer and perf buffer account for every event (real kernel)', function () {
  this.timeout(180_000)
  before(function () {
    needKernel(this)
  })

  const check = (o: Awaited<ReturnType<typeof runBufferTest>>, t: BufferTest) => {
    expect(o.status, o.reason).to.equal('ok')
    expect(o.samples).to.have.length(t.samples)
    for (const s of o.samples) {
      expect(s.produced).to.equal(t.events * t.producers.length)
      expect(s.consumed + s.lost).to.equal(s.produced)
      expect(s.latency.p50).to.be.greaterThan(0)
    }
  }

  it('ring buffer output / reserve-commit and perf buffer, one producer and one per CPU', async () => {
    const names = ['ringbuf_output_64b_one', 'ringbuf_reserve_64b_all', 'perfbuf_output_64b_one', 'perfbuf_output_64b_all', 'ringbuf_reserve_256b_one']
    const suite = loadSuite(defaultSuiteFile(), {tests: names, samples: 2})
    for (const t of suite.tests as BufferTest[]) {
      const small = {...t, events: 20_000}
      check(await runBufferTest(small, loadNative()), small)
    }
  })

  it('paced producers: every event delivered', async () => {
    const suite = loadSuite(defaultSuiteFile(), {tests: ['ringbuf_reserve_64b_paced100k'], samples: 2})
    const t = {...(suite.tests[0] as BufferTest), events: 5000}
    const o = await runBufferTest(t, loadNative())
    check(o, t)
  })

  it('with one page of buffer, events are lost — and still each one is counted (ring: the program; perf: the lost callback)', async () => {
    const dir = tempDir('micro')
    const obj = join(dir, 'micro_buffers_tiny.bpf.o')
    clang(join(root, 'bpf/micro_buffers.bpf.c'), obj, ['-DMICRO_RINGBUF_BYTES=4096'])
    const suite = loadSuite(defaultSuiteFile(), {tests: ['ringbuf_reserve_64b_all', 'perfbuf_output_64b_all', 'ringbuf_output_256b_one'], samples: 2})
    let lostSomewhere = 0
    for (const t0 of suite.tests as BufferTest[]) {
      const t = {...t0, objectPath: obj, ringBytes: 4096, events: 50_000}
      const o = await runBufferTest(t, loadNative())
      check(o, t)
      const lost = o.samples.reduce((a, s) => a + s.lost, 0)
      lostSomewhere += lost
      if (t.mechanism === 'perfbuf') expect(o.perfPages).to.equal(1)
    }
    // 50k events in bursts of 1000 into one 4 KiB page: the consumer cannot keep up every time
    expect(lostSomewhere).to.be.greaterThan(0)
  })
})

describe('ebpfperf suite micro (built CLI)', function () {
  this.timeout(240_000)
  before(function () {
    needKernel(this)
    if (!existsSync(join(root, 'dist/commands/suite/micro.js'))) {
      console.log('      skipped: the CLI is not built (npm run build:ts)')
      this.skip()
    }
  })

  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], {env: {...process.env, NO_COLOR: '1'}, encoding: 'utf8', timeout: 230_000})
    return {code: r.status, stdout: r.stdout, stderr: r.stderr}
  }

  it('--quick --json: one JSON document on stdout, JSON + bpf_performance CSV + buffers CSV in --out', () => {
    const dir = tempDir('micro-out')
    const r = cli(['suite', 'micro', '--quick', '--json', '--out', dir])
    expect(r.code, r.stderr.slice(-2000)).to.equal(0)
    const doc = JSON.parse(r.stdout) as RunResult
    expect(doc.schema).to.equal('ebpfperf/result/v1')
    expect(doc.suite).to.equal('micro')
    expect(doc.complete).to.equal(true)
    const base = doc.cases.filter((c) => c.id === 'baseline')
    expect(base.map((c) => c.params.cpu)).to.deep.equal(online)
    for (const c of base) {
      expect(c.status).to.equal('ok')
      expect(c.samples).to.have.length(3)
      expect(c.stats!.mean).to.be.greaterThan(0)
    }
    expect(doc.cases.filter((c) => c.status === 'failed').map((c) => `${c.id}: ${c.reason}`)).to.deep.equal([])
    const files = readdirSync(dir).sort()
    expect(files).to.have.length(3)
    const stem = files.find((f) => f.endsWith('.json'))!.replace(/\.json$/, '')
    expect(files).to.deep.equal([`${stem}-buffers.csv`, `${stem}.csv`, `${stem}.json`].sort())
    const csv = readFileSync(join(dir, `${stem}.csv`), 'utf8').trim().split('\n')
    expect(csv[0]).to.equal(['Timestamp', 'Test', 'Average Duration (ns)', ...online.map((c) => `CPU ${c} Duration (ns)`), 'Ops Per Run'].join(','))
    expect(csv.some((l) => l.split(',')[1] === 'baseline')).to.equal(true)
    const bufs = readFileSync(join(dir, `${stem}-buffers.csv`), 'utf8').trim().split('\n')
    expect(bufs[0]).to.match(/^Timestamp,Test,Mechanism,Producers,/)
    expect(bufs.length).to.be.greaterThan(1)
  })

  const badFiles = ['missing-object', 'missing-program', 'wrong-type', 'unknown-map-kind', 'bad-cpu', 'repeat-zero', 'repeat-absurd']
  it(`bad suite files exit 2 with one line naming the test and field, writing nothing (${badFiles.join(', ')})`, () => {
    const dir = tempDir('micro-bad')
    for (const f of badFiles) {
      const r = cli(['suite', 'micro', '--suite', join(fixtures, `${f}.suite.yml`), '--out', dir])
      expect(r.code, `${f}: ${r.stderr}`).to.equal(2)
      const lines = r.stderr.trim().split('\n')
      expect(lines, f).to.have.length(1)
      expect(lines[0]).to.match(/^ebpfperf: suite .*: test "[a-z_]+" \(tests\[1\]\): (object|program|type|maps\[0\]\.kind|cpus|repeat): /)
      expect(r.stdout).to.equal('')
    }
    const cpu = cli(['suite', 'micro', '--cpus', '0,4095', '--out', dir])
    expect(cpu.code).to.equal(2)
    expect(cpu.stderr.trim()).to.match(/^ebpfperf: --cpus: CPU 4095 does not exist/)
    expect(readdirSync(dir)).to.deep.equal([])
  })
})
