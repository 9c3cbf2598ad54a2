// The tracing suite against the real kernel: programs fire (run_cnt and the map count the triggers), skipped
// cases carry doctor's reasons, bad input exits 2 and leaves no program or link behind, an interrupt keeps
// the samples. Speed figures are not asserted here (bench/tracing-precision.js prints them).
import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync} from 'node:fs'

import {join} from 'node:path'
import {loadNative, type Native, type TraceError} from '../../src/native.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const OBJ = join(root, 'bpf/.output/tracing.bpf.o')
const TRACEFS = '/sys/kernel/tracing'

function cli(args: string[], timeout = 240_000) {
  const r = spawnSync(process.execPath, [bin, 'suite', 'tracing', ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}, timeout})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}
const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], {encoding: 'utf8'})
const tracefsMounted = () => readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[2] === 'tracefs')
/** Our programs still loaded in the kernel (every built-in body is named trc_…). */
const ourProgs = () => (JSON.parse(sh('bpftool prog show -j').stdout || '[]') as {id: number; name?: string}[]).filter((p) => p.name?.startsWith('trc_'))
/** Programs are freed after an RCU grace period once their last fd closes: wait up to 3 s for them to go. */
async function progsLeft() {
  for (let i = 0; i < 60 && ourProgs().length > 0; i++) await new Promise((res) => setTimeout(res, 50))
  return ourProgs()
}
const links = () => (JSON.parse(sh('bpftool link show -j').stdout || '[]') as {id: number; prog_id: number}[])
const ourNetns = () => sh('ip netns list').stdout.split('\n').filter((l) => l.startsWith('ebp-trc-'))
const results = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))

interface Case {
  id: string
  status: string
  reason?: string
  samples: number[]
  params: Record<string, string>
  extra?: Record<string, unknown>
}

describe('suite tracing (real kernel)', function () {
  this.timeout(300_000)
  let mountedByUs = false

  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: the tracing suite needs root')
      this.skip()
    }
    if (!existsSync(OBJ)) throw new Error(`${OBJ} missing: npm run build:bpf`)
  })
  after(() => {
    if (mountedByUs) sh(`umount ${TRACEFS}`)
  })
  afterEach(async () => {
    expect(await progsLeft(), 'programs left loaded').to.deep.equal([])
  })

  describe('native trace layer', () => {
    let n: Native
    before(() => {
      n = loadNative()
    })
    afterEach(() => {
      n.traceCloseAll()
      n.triggerStop()
    })

    const ncpu = () => n.numPossibleCpus()
    const setTarget = (fd: number, tid: number) => {
      const v = Buffer.alloc(40 * ncpu())
      for (let c = 0; c < ncpu(); c++) v.writeUInt32LE(tid, c * 40 + 32)
      n.mapUpdate(fd, Buffer.alloc(4), v, 0)
    }
    const mine = (fd: number) => {
      const b = n.mapLookup(fd, Buffer.alloc(4), 40 * ncpu())!
      let m = 0n
      for (let c = 0; c < ncpu(); c++) m += b.readBigUInt64LE(c * 40 + 8)
      return Number(m)
    }

    it('a raw tracepoint program runs once per getpgid of the pinned trigger thread, then leaves no link', async () => {
      const {tid, cpu} = n.triggerStart(0)
      expect(cpu).to.equal(0)
      const l = n.traceLoad(OBJ, 'trc_map_rawtp', 'raw_tracepoint')
      const counts = l.maps.find((m) => m.name === 'trc_counts')!
      setTarget(counts.fd, tid)
      const stats = n.enableStats()
      try {
        const before = n.progInfo(l.progFd).runCnt
        expect(n.traceAttach(l.handle, 'sys_enter')).to.equal('sys_enter')
        expect(links().some((k) => k.prog_id === l.progId)).to.equal(true)
        const r = await n.triggerRun('syscall', 10_000, 10)
        expect(r.chunkNs).to.have.length(10)
        expect(r.cpuBefore).to.equal(0)
        n.traceDetach(l.handle)
        // every trigger ran the program; a few more syscalls of the thread's own bookkeeping may too
        expect(mine(counts.fd)).to.be.within(10_000, 10_064)
        expect(n.progInfo(l.progFd).runCnt - before).to.be.at.least(10_000)
        expect(links().some((k) => k.prog_id === l.progId), 'link after detach').to.equal(false)
      } finally {
        n.closeFd(stats)
      }
    })

    it('a uprobe on trigger function N fires for N only; the twin (0) is the unprobed baseline', async () => {
      const {tid} = n.triggerStart(0)
      const l = n.traceLoad(OBJ, 'trc_map_uprobe', 'uprobe')
      const counts = l.maps.find((m) => m.name === 'trc_counts')!
      setTarget(counts.fd, tid)
      const t = n.triggerTarget(3)
      expect(t.symbol).to.equal('ebpfperf_trace_target_3')
      n.traceAttach(l.handle, `${t.path}:0x${t.offset.toString(16)}`)
      await n.triggerRun('uprobe', 500, 5, 3)
      expect(mine(counts.fd)).to.equal(500)
      await n.triggerRun('uprobe', 100_000, 5, 0)
      await n.triggerRun('uprobe', 1000, 5, 4)
      expect(mine(counts.fd)).to.equal(500)
    })

    it('names the bad input: no such program, a type that does not fit, a BTF target that does not exist, a missing uprobe symbol', () => {
      const err = (f: () => unknown) => {
        try {
          f()
        } catch (error) {
          return error as TraceError
        }
        throw new Error('no error')
      }
      const e1 = err(() => n.traceLoad(OBJ, 'nope', 'tracepoint'))
      expect(e1.missingProgram).to.equal(true)
      expect(e1.message).to.match(/has no program named nope \(it has: trc_null_tp/)
      const e2 = err(() => n.traceLoad(OBJ, 'trc_null_tp', 'uprobe'))
      expect(e2.typeMismatch).to.equal(true)
      expect(e2.message).to.match(/BPF_PROG_TYPE_TRACEPOINT .* cannot attach as uprobe/)
      const e3 = err(() => n.traceLoad(OBJ, 'trc_null_fentry', 'fentry', 'no_such_function_ebp'))
      expect(e3.missingTarget).to.equal(true)
      const l = n.traceLoad(OBJ, 'trc_null_uprobe', 'uprobe')
      const e4 = err(() => n.traceAttach(l.handle, '/bin/true:no_such_symbol_ebp'))
      expect(e4.attachFailed).to.equal(true)
      expect(e4.code).to.equal('ENOENT')
      expect(n.traceOpenHandles().filter((h) => h.attached)).to.deep.equal([])
    })
  })

  describe('the command', () => {
    it('without tracefs, skips the tracepoint cases with doctor\'s reason and fix, and measures the rest', function () {
      if (tracefsMounted()) {
        console.log('      skipped: tracefs is mounted (by someone else): cannot check the unmounted case')
        this.skip()
      }
      const out = tempDir('trc')
      const r = cli(['--quick', '--no-mount-tracefs', '--layers', 'event,scenarios', '--attach', 'tracepoint,raw_tracepoint', '--body', 'null', '--stats', 'on', '--out', out])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/SKIPPED\n {2}tracepoint: .*tracefs.*ebpfperf doctor --fix/)
      const [doc] = results(out)
      const cases = doc.cases as Case[]
      expect(cases.find((c) => c.id === 'skipped/all/tracepoint')?.reason).to.match(/tracefs: not mounted/)
      expect(cases.find((c) => c.id === 'skipped/scenarios/syscall tracepoint scenarios')?.reason).to.match(/tracefs/)
      expect(cases.find((c) => c.id === 'event/raw_tracepoint/null/stats-on')?.status).to.equal('ok')
      expect(tracefsMounted(), 'the suite mounted nothing').to.equal(false)
    })

    it('by default mounts a missing tracefs for the run, measures tracepoint, and unmounts it after', function () {
      if (tracefsMounted()) {
        console.log('      skipped: tracefs is mounted (by someone else): cannot check the mount-for-the-run case')
        this.skip()
      }
      const out = tempDir('trc')
      const r = cli(['--quick', '--layers', 'event', '--attach', 'tracepoint', '--body', 'null', '--stats', 'off', '--out', out])
      expect(r.code, r.stderr).to.equal(0)
      expect(r.stdout).to.match(/mounted tracefs on \/sys\/kernel\/tracing for the run; unmounted after/)
      const [doc] = results(out)
      expect((doc.cases as Case[]).find((c) => c.id === 'event/tracepoint/null/stats-off')?.status).to.equal('ok')
      expect(tracefsMounted(), 'put back as it was').to.equal(false)
    })

    it('--quick measures tracepoint, raw tracepoint, uprobe and uretprobe, proves each program fired, and skips the rest with reasons', function () {
      if (!tracefsMounted()) {
        const m = sh(`mount -t tracefs nodev ${TRACEFS}`)
        expect(m.status, m.stderr).to.equal(0)
        mountedByUs = true
      }
      const out = tempDir('trc')
      const r = cli(['--quick', '--layers', 'event,scenarios', '--out', out])
      expect(r.code, r.stderr).to.equal(0)
      for (const t of ['PER-EVENT COST', 'COST OF bpf_stats', 'GLOBAL SYSCALL TRACEPOINT', 'Results: ']) expect(r.stdout).to.include(t)
      const [doc] = results(out)
      expect(doc.schema).to.equal('ebpfperf/result/v1')
      expect(doc.complete).to.equal(true)
      expect(readdirSync(out).some((f) => f.endsWith('.csv'))).to.equal(true)
      const cases = doc.cases as Case[]
      for (const kind of ['tracepoint', 'raw_tracepoint', 'uprobe', 'uretprobe']) {
        for (const body of ['null', 'map']) {
          for (const stats of ['off', 'on']) {
            const c = cases.find((x) => x.id === `event/${kind}/${body}/stats-${stats}`)
            expect(c, `${kind}/${body}/${stats}`).to.not.equal(undefined)
            if (stats === 'off' && c!.status === 'skipped') {
              // another process kept bpf_stats on for the whole run (the suite names it): nothing to measure
              expect(c!.reason).to.match(/every stats-off sample ran with bpf_stats on: another process/)
              console.log(`      note: ${c!.id} skipped: ${c!.reason}`)
              continue
            }
            expect(c!.status, `${c!.id}: ${c!.reason}`).to.equal('ok')
            const x = c!.extra as {triggers: number; runCnt: number; mapTriggerEvents: number; contaminatedSamplesLeftOut: number}
            // stats-off samples that ran with bpf_stats on (another process turned them on) are left out, and counted
            expect(c!.samples.length + x.contaminatedSamplesLeftOut).to.be.at.least(20)
            expect(x.triggers).to.be.greaterThan(0)
            // proof: with bpf_stats on, run_cnt grew by at least the triggers; the map body counted each trigger
            if (stats === 'on') expect(x.runCnt, c!.id).to.be.at.least(x.triggers)
            if (body === 'map') expect(x.mapTriggerEvents, c!.id).to.be.within(x.triggers, x.triggers + 64 * (c!.samples.length + x.contaminatedSamplesLeftOut))
          }
        }
        const progCost = cases.find((x) => x.id === `prog-cost/${kind}/map`)?.samples
        expect(progCost, `prog-cost/${kind}/map`).to.not.be.empty
        expect(progCost!.every((v) => v > 0)).to.equal(true)
      }
      // every kind the kernel cannot attach is skipped with a reason, never measured
      const skipped = cases.filter((c) => c.status === 'skipped')
      for (const s of skipped) expect(s.reason, s.id).to.be.a('string').and.not.equal('')
      const measured = new Set(cases.filter((c) => c.id.startsWith('event/') && c.status === 'ok').map((c) => c.params.kind))
      for (const k of ['kprobe', 'kretprobe', 'kprobe.multi', 'fentry', 'fexit']) expect(measured.has(k) || skipped.some((s) => s.id === `skipped/all/${k}`), k).to.equal(true)
      // seed 003: the untraced process pays; the programs saw its syscalls
      const kf = cases.find((c) => c.id === 'scenario/kernel-filter')!
      const uf = cases.find((c) => c.id === 'scenario/user-filter')!
      expect(kf.status).to.equal('ok')
      expect(uf.status).to.equal('ok')
      expect((kf.extra as {events: number}).events).to.be.greaterThan(0)
      expect((uf.extra as {events: number; dropped: number}).events).to.be.greaterThan(0)
      expect(tracefsMounted(), 'left as it was').to.equal(true)
    })

    it('the workload layer runs iperf3 in its own namespaces, proves the programs fired on the receive path, and tears down', function () {
      const out = tempDir('trc')
      const r = cli(['--layers', 'workload', '--attach', 'raw_tracepoint,uprobe', '--body', 'map', '--stats', 'off', '--repeat', '2', '--duration', '1', '--json', '--out', out])
      expect(r.code, r.stderr).to.equal(0)
      const doc = JSON.parse(r.stdout) as {run: {cases: Case[]}; workload: {rows: {id: string; events: number; received: number; bitrate: number[]}[]}}
      const rows = doc.workload.rows
      expect(rows.map((x) => x.id)).to.deep.equal(['baseline', 'raw_tracepoint/map/stats-off', 'uprobe/map/stats-off'])
      for (const x of rows) expect(x.bitrate).to.have.length(2)
      for (const x of rows.slice(1)) expect(x.events, x.id).to.be.at.least(0.9 * x.received)
      expect(r.stderr).to.not.match(/teardown/)
      expect(ourNetns()).to.deep.equal([])
    })

    it('bpf_stats kept on by another process: stats-off samples are left out and the case says who, instead of a false figure', () => {
      const n = loadNative()
      const fd = n.enableStats() // this test process is the "other process"
      try {
        const out = tempDir('trc')
        const r = cli(['--layers', 'event', '--attach', 'raw_tracepoint', '--body', 'null', '--stats', 'off', '--repeat', '3', '--out', out])
        expect(r.code, r.stderr).to.equal(0)
        const c = (results(out)[0].cases as Case[]).find((x) => x.id === 'event/raw_tracepoint/null/stats-off')!
        expect(c.status).to.equal('skipped')
        expect(c.reason).to.match(new RegExp(`every stats-off sample ran with bpf_stats on: another process kept them on \\(pid ${process.pid} `))
        expect(c.samples).to.deep.equal([])
        expect(r.stdout).to.match(/cannot tell: every stats-off sample ran with bpf_stats on/)
      } finally {
        n.closeFd(fd)
      }
    })

    const bad: [string, string[], RegExp][] = [
      ['an object that does not exist', ['--object', '/nonexistent/x.bpf.o'], /--object \/nonexistent\/x\.bpf\.o: no such file/],
      ['an object without the named program', ['--object', OBJ, '--program', 'nope'], /--program nope: .* has no program named nope/],
      ['a program type that does not match the attach type', ['--object', OBJ, '--program', 'trc_null_tp', '--attach', 'uprobe'], /cannot attach as uprobe/],
      ['a kernel function in neither BTF nor kallsyms', ['--kfunc', 'no_such_function_ebp'], /--kfunc no_such_function_ebp: no such kernel function/],
      ['a raw tracepoint BTF does not know', ['--raw-tracepoint', 'no_such_tp_ebp'], /--raw-tracepoint no_such_tp_ebp: no such raw tracepoint/],
      ['a uprobe binary that does not exist', ['--uprobe', '/nonexistent/bin:main'], /--uprobe \/nonexistent\/bin:main: binary \/nonexistent\/bin does not exist/],
      ['a uprobe symbol that does not exist', ['--uprobe', '/bin/true:no_such_symbol_ebp', '--layers', 'workload', '--attach', 'uprobe'], /--uprobe \/bin\/true:no_such_symbol_ebp: no such attach target/],
    ]
    for (const [what, args, msg] of bad) {
      it(`bad input: ${what} → one line, exit 2, no program or link left`, async () => {
        const linksBefore = links().length
        const r = cli(['--quick', ...args])
        expect(r.code, r.stderr).to.equal(2)
        const lines = r.stderr.split('\n').filter((l) => l.startsWith('ebpfperf: '))
        expect(lines).to.have.length(1)
        expect(lines[0]).to.match(msg)
        expect(r.stdout).to.equal('')
        expect(await progsLeft()).to.deep.equal([])
        expect(links().length).to.be.at.most(linksBefore)
        expect(ourNetns()).to.deep.equal([])
      })
    }

    it('SIGINT stops, detaches everything and keeps the samples so far (complete: false)', async () => {
      const out = tempDir('trc')
      const p = spawn(process.execPath, [bin, 'suite', 'tracing', '--layers', 'event', '--attach', 'raw_tracepoint,uprobe', '--repeat', '200', '--out', out], {stdio: ['ignore', 'pipe', 'pipe']})
      let err = ''
      p.stderr.on('data', (d: Buffer) => (err += d.toString()))
      const closed = new Promise<number | null>((res) => p.on('close', res))
      // interrupt once the per-event layer is under way (its progress line appears), at most 20 s in
      const start = Date.now()
      while (!/round \d+\/200/.test(err) && Date.now() - start < 20_000 && p.exitCode === null) await new Promise((res) => setTimeout(res, 200))
      p.kill('SIGINT')
      const code = await closed
      expect(code, err).to.equal(130)
      expect(err).to.match(/interrupted by SIGINT/)
      const [doc] = results(out)
      expect(doc.complete).to.equal(false)
      expect((doc.cases as Case[]).some((c) => c.samples.length > 0)).to.equal(true)
      expect(await progsLeft()).to.deep.equal([])
    })
  })
})
