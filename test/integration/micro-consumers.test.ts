// suite micro --consumers against the real kernel: the shipped consumers (C/libbpf, Python/BCC,
// Go/cilium-ebpf, Node/addon) drain ring and perf buffer tests with every event accounted for; broken
// consumers (lossy, never ready, garbage, over-counting, missing, exiting early) each fail their case in
// one line naming them, and leave no pinned map and no process behind. Figures are not asserted.
import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {nativeAvailable} from '../../src/native.js'
import {defaultSuiteFile, loadSuite, type BufferTest} from '../../src/suites/micro/spec.js'
import {prepareConsumers, selectConsumers} from '../../src/suites/micro/consumers.js'
import {runConsumers, type ConsumerOutcome} from '../../src/suites/micro/consumers-suite.js'
import {findMount} from '../../src/kernel/runtime.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const gate = {skipped: new Map<string, string>()}

function needKernel(ctx: Mocha.Context) {
  if (process.getuid?.() !== 0) {
    console.log('      skipped: needs root')
    ctx.skip()
  }
  if (!existsSync(join(root, 'bpf/.output/micro_buffers.bpf.o')) || !nativeAvailable().ok || !existsSync(join(root, 'dist/native.js'))) {
    console.log('      skipped: needs npm run build (addon, BPF objects, dist/)')
    ctx.skip()
  }
}

/** The selected buffer tests with fewer events (the accounting holds whatever the count). */
function suiteOf(names: string[], events: number, samples: number) {
  const suite = loadSuite(defaultSuiteFile(), {tests: names, samples})
  for (const t of suite.tests as BufferTest[]) t.events = events
  return suite
}

/** Pins this process left under bpffs/ebpfperf (the folder is removed when empty). */
function pinsLeft(): string[] {
  const bpffs = findMount('bpffs')?.target
  const dir = bpffs ? join(bpffs, 'ebpfperf') : undefined
  return dir && existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(`${process.pid}-`)) : []
}

function processesMatching(marker: string): string[] {
  const r = spawnSync('pgrep', ['-af', marker], {encoding: 'utf8'})
  return r.stdout.split('\n').filter((l) => l && !l.includes('pgrep'))
}

async function cConsumer(): Promise<string> {
  const [c] = selectConsumers('c')
  await prepareConsumers([c])
  if (!c.argv) throw new Error(`the C consumer cannot be built here: ${c.skip}`)
  return c.argv[0]
}

describe('micro --consumers: shipped consumers drain ring and perf buffers, every event counted (real kernel)', function () {
  this.timeout(600_000)
  before(function () {
    needKernel(this)
  })

  it('c, python, go, node: every sample accounted for, or skipped naming the package; no pin or process left', async () => {
    const suite = suiteOf(['ringbuf_output_64b_one', 'perfbuf_output_64b_all'], 20_000, 2)
    const defs = selectConsumers('c,python,go,node,rust')
    const out = await runConsumers(suite, defs, {argv: [], outDir: tempDir('consumers'), gate})
    const by = (id: string) => out.outcomes.filter((o) => o.consumer.id === id)
    for (const o of out.outcomes) {
      if (o.consumer.id === 'rust') expect(o.status).to.equal('skipped')
      else if (o.status === 'skipped') expect(o.reason).to.match(/apt-get install|npm run build/)
      else {
        expect(o.status, `${o.test.name} × ${o.consumer.id}: ${o.reason}`).to.equal('ok')
        expect(o.samples).to.have.length(2)
        for (const s of o.samples) {
          expect(s.produced).to.equal(o.test.events * o.test.producers.length)
          expect(s.consumed + s.lost).to.equal(s.produced)
          expect(s.cpuNsPerEvent).to.be.above(0)
        }
      }
    }
    expect(by('c').every((o) => o.status === 'ok'), 'the C consumer must run wherever the suite builds').to.equal(true)
    expect(by('node').every((o) => o.status === 'ok')).to.equal(true)
    expect(pinsLeft()).to.deep.equal([])
    expect(processesMatching('ebpfperf-consumer|consumers/python/consumer.py|consumers/node/consumer.mjs')).to.deep.equal([])
  })
})

describe('micro --consumers: a broken consumer fails its case in one line and leaves nothing behind (real kernel)', function () {
  this.timeout(300_000)
  before(function () {
    needKernel(this)
  })

  it('a lossy consumer (drops every 10th event) fails with the count; the CLI exits 1 naming it', async () => {
    const c = await cConsumer()
    const out = tempDir('consumers-lossy')
    const r = spawnSync(process.execPath, [bin, 'suite', 'micro', '--test', 'ringbuf_output_64b_one', '--repeat', '2', '--consumer', `lossy=${c} --drop-every 10`, '--out', out], {encoding: 'utf8', timeout: 240_000})
    expect(r.status, r.stderr).to.equal(1)
    const failed = r.stdout.split('\n').filter((l) => l.startsWith('FAILED'))
    expect(failed).to.have.length(1)
    expect(failed[0]).to.match(/^FAILED ringbuf_output_64b_one × lossy: sample 1: consumer lossy: CPU \d+: produced (\d+) ≠ consumed (\d+) \+ lost (\d+) \((\d+) unaccounted for\)$/)
    const [, produced, consumed, lost, missing] = /produced (\d+) ≠ consumed (\d+) \+ lost (\d+) \((\d+)/.exec(failed[0])!.map(Number)
    expect(missing).to.equal(produced - consumed - lost)
    expect(missing).to.equal(Math.floor((consumed + missing) / 10)) // every 10th of the events it was handed
    expect(pinsLeft()).to.deep.equal([])
  })

  const broken: [string, string, RegExp][] = [
    ['never-ready', `sh -c 'sleep 77.1'`, /did not say "ready" within 2 s/],
    ['garbage', `sh -c 'echo hello there; sleep 77.2'`, /printed "hello there" before "ready"/],
    ['early-exit', `sh -c 'echo ready; exit 0'`, /exited \(code 0\) before "done"/],
    ['missing', '/nonexistent/ebpfperf-consumer', /could not be started \(\/nonexistent\/ebpfperf-consumer: ENOENT\)/],
  ]
  it('never ready, garbage, an early exit, a missing command: each one line naming the consumer; no process or pin left', async () => {
    const suite = suiteOf(['ringbuf_output_64b_one'], 5_000, 2)
    const defs = selectConsumers(undefined, broken.map(([name, cmd]) => `${name}=${cmd}`))
    const out = await runConsumers(suite, defs, {argv: [], outDir: tempDir('consumers-broken'), gate, readyMs: 2000})
    for (const [name, , why] of broken) {
      const o = out.outcomes.find((x) => x.consumer.id === name) as ConsumerOutcome
      expect(o.status, name).to.equal('failed')
      expect(o.reason).to.match(new RegExp(`^sample 1: consumer ${name}: `))
      expect(o.reason).to.match(why)
      expect(o.reason).to.not.include('\n')
    }
    expect(processesMatching('^(sh -c )?sleep 77')).to.deep.equal([])
    expect(pinsLeft()).to.deep.equal([])
  })

  it('a consumer that over-counts fails saying it reported more events than were produced', async () => {
    const c = await cConsumer()
    const suite = suiteOf(['ringbuf_output_64b_one'], 5_000, 1)
    // the C consumer's report with one event more on the first CPU (a shell loop: it passes each line on at once)
    const cmd = `sh -c '${c} | { d=; while IFS= read -r l; do set -- $l; if [ "$1" = cpu ] && [ -z "$d" ]; then l="cpu $2 $(($3 + 1)) $4"; d=1; fi; printf "%s\\n" "$l"; done; }'`
    const out = await runConsumers(suite, selectConsumers(undefined, [`over=${cmd}`]), {argv: [], outDir: tempDir('consumers-over'), gate})
    const o = out.outcomes[0]
    expect(o.status).to.equal('failed')
    expect(o.reason).to.match(/^sample 1: consumer over: reported 1 more events than CPU \d+ produced \(consumed 5001 \+ lost 0 > produced 5000\)$/)
    expect(processesMatching('ebpfperf-consumer-c')).to.deep.equal([])
    expect(pinsLeft()).to.deep.equal([])
  })
})

describe('micro --consumers: Ctrl-C while a consumer runs (real kernel)', function () {
  this.timeout(120_000)
  before(function () {
    needKernel(this)
  })

  it('SIGINT: exit 130, the consumer process group killed, no pin left', async () => {
    const child = spawn(process.execPath, [bin, 'suite', 'micro', '--test', 'ringbuf_output_64b_one', '--repeat', '2', '--consumer', `stuck=sh -c 'sleep 88.3'`, '--out', tempDir('consumers-int')], {stdio: ['ignore', 'pipe', 'pipe']})
    let err = ''
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    const deadline = Date.now() + 60_000
    while (processesMatching('^(sh -c )?sleep 88[.]3').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(processesMatching('^(sh -c )?sleep 88[.]3'), err).to.not.deep.equal([])
    child.kill('SIGINT')
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    expect(code, err).to.equal(130)
    expect(processesMatching('^(sh -c )?sleep 88[.]3')).to.deep.equal([])
    const bpffs = findMount('bpffs')?.target
    const dir = bpffs ? join(bpffs, 'ebpfperf') : ''
    expect(dir && existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(`${child.pid}-`)) : []).to.deep.equal([])
  })
})
