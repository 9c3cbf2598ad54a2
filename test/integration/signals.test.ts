// Interrupted runs leave nothing `topology down --all` cannot remove: SIGINT, SIGTERM and SIGKILL at random
// moments of `topology up` and of each suite (small settings), then `topology down --all`, then the machine
// is as it was: no ebp- namespace, host link, staged namespace, mount or pin, the sysctls a run changes back
// at their values, no change record left. A handled signal (SIGINT/SIGTERM) ends the command with 130/143;
// one that killed it by the default action must have come before it changed anything. And two runs on one
// topology: the second is refused, not let loose on the first one's namespaces.
import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {nativeAvailable} from '../../src/native.js'
import {CHANGES_DIR, setSysctl, type Made} from '../../src/util/syschanges.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], {encoding: 'utf8'})
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGKILL']
const HANDLED: Record<string, number> = {SIGINT: 130, SIGTERM: 143}
const STATS = '/proc/sys/kernel/bpf_stats_enabled'

/** What a run may change on the machine, read from the kernel and /run/ebpfperf. */
function machine() {
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : [])
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n')
  return {
    namespaces: list('/run/netns').filter((n) => n.startsWith('ebp-')),
    hostLinks: (JSON.parse(sh('ip -j link show').stdout) as {ifname: string}[]).map((l) => l.ifname).filter((n) => n.startsWith('ebp-')),
    staged: list('/run/ebpfperf/staging'),
    changes: list(CHANGES_DIR),
    mounts: mounts.filter((l) => /tracefs|ebp|ebpfperf/.test(l)).map((l) => l.split(' ').slice(0, 3).join(' ')),
    pins: list('/sys/fs/bpf/ebpfperf'),
    sysctls: ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding', 'kernel/bpf_stats_enabled'].map((p) => `${p}=${readFileSync(`/proc/sys/${p}`, 'utf8').trim()}`),
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Starts argv, sends sig after delayMs (unless it ended), waits for the end. */
async function interrupt(argv: string[], sig: NodeJS.Signals, delayMs: number) {
  const child = spawn(process.execPath, [bin, ...argv], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.on('data', (d) => (stdout += d))
  const ended = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((r) => child.on('exit', (code, signal) => r({code, signal})))
  const first = await Promise.race([ended, sleep(delayMs).then(() => undefined)])
  if (!first) child.kill(sig)
  // a handled signal runs the clean-up; if that ever hangs, the second signal is the way out, then kill -9
  const end = await Promise.race([ended, sleep(60_000).then(() => undefined)])
  if (!end) child.kill('SIGKILL')
  return {...(end ?? (await ended)), stdout, stderr, sentAfterEnd: Boolean(first)}
}

// Every trial: a signal (each in turn) at a random moment within the span a run takes.
const SEED = Number(process.env.EBP_SIGNAL_SEED ?? Date.now() % 100_000)
let state = SEED
const random = () => ((state = (state * 48_271) % 2_147_483_647) / 2_147_483_647)

describe(`interrupted runs leave nothing behind (real kernel; EBP_SIGNAL_SEED=${SEED})`, function () {
  this.timeout(150_000)
  let clean: ReturnType<typeof machine>
  let statsOn: Made | undefined
  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root')
      this.skip()
    }
    // bpf_stats on, so that the tracing suite has a sysctl to change (it turns it off for its samples);
    // recorded like a run's change, so that down --all puts it back should this test be killed
    statsOn = setSysctl(STATS, '1')
    clean = machine()
  })
  after(async () => {
    await statsOn?.undo()
  })

  /** argv's last line when it succeeds (up's status ends with its time): a signal after it changes nothing. */
  async function trial(argv: string[], sig: NodeJS.Signals, spanMs: number, done?: RegExp) {
    const delay = Math.round(200 + random() * spanMs)
    const r = await interrupt(argv, sig, delay)
    const what = `${argv.slice(0, 2).join(' ')}: ${sig} after ${delay} ms → ${r.signal ?? `exit ${r.code}`}\n${r.stderr}`
    const finished = done?.test(r.stdout) ?? false
    if (r.signal && sig !== 'SIGKILL' && !finished) {
      // died by the default action: only allowed before the first change to the machine
      expect(machine(), `${what}: killed by ${r.signal} with changes made`).to.deep.equal(clean)
    } else if (!r.sentAfterEnd && sig !== 'SIGKILL' && !finished) {
      expect([HANDLED[sig], 2], what).to.include(r.code) // 2: the signal came while the input was being refused
    }
    const d = spawnSync(process.execPath, [bin, 'topology', 'down', '--all'], {encoding: 'utf8'})
    expect(d.status, `${what}\ndown --all: ${d.stdout}${d.stderr}`).to.equal(0)
    expect(machine(), what).to.deep.equal(clean)
  }

  it('topology up', async () => {
    for (let i = 0; i < 6; i++) await trial(['topology', 'up'], SIGNALS[i % 3], 1500, /\(\d+ ms\)\n$/)
  })

  it('suite tracing (mounts tracefs, turns bpf_stats off, brings up its topology)', async function () {
    if (!nativeAvailable().ok) this.skip()
    const out = tempDir('signals-tracing')
    const argv = ['suite', 'tracing', '--quick', '--attach', 'tracepoint', '--body', 'null', '--layers', 'event,workload', '--repeat', '2', '--duration', '1', '--streams', '1', '--out', out]
    for (let i = 0; i < 3; i++) await trial(argv, SIGNALS[i % 3], 8000)
  })

  it('kill -9 of tracing once it mounted tracefs and turned bpf_stats off: down --all puts both back', async function () {
    if (!nativeAvailable().ok) this.skip()
    const tracefs = () => readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[2] === 'tracefs')
    if (tracefs()) {
      console.log('      skipped: tracefs is mounted here, so the suite does not mount it')
      this.skip()
    }
    const out = tempDir('signals-tracing-k9')
    const child = spawn(process.execPath, [bin, 'suite', 'tracing', '--quick', '--attach', 'tracepoint', '--body', 'null', '--layers', 'event', '--repeat', '50', '--out', out], {stdio: 'ignore'})
    const records = () => (existsSync(CHANGES_DIR) ? readdirSync(CHANGES_DIR).filter((f) => f.endsWith('.json') && f.startsWith(`${child.pid}-`)).length : 0)
    const end = Date.now() + 30_000
    while (!(records() === 2 && readFileSync(STATS, 'utf8').trim() === '0') && Date.now() < end && child.exitCode === null) await sleep(5)
    child.kill('SIGKILL')
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.on('exit', r)))
    expect([tracefs(), readFileSync(STATS, 'utf8').trim()], 'the run had made both changes when it was killed').to.deep.equal([true, '0'])
    const d = spawnSync(process.execPath, [bin, 'topology', 'down', '--all'], {encoding: 'utf8'})
    expect(d.status, d.stderr).to.equal(0)
    expect(d.stdout).to.match(/restored tracefs on \/sys\/kernel\/tracing/)
    expect(d.stdout).to.match(/restored kernel\.bpf_stats_enabled=1/)
    expect(machine()).to.deep.equal(clean)
  })

  it('two runs on one topology: the second is refused (exit 2) before measuring, naming the first, which completes', async function () {
    if (!nativeAvailable().ok) this.skip()
    const argv = (out: string) => [bin, 'suite', 'tracing', '--quick', '--attach', 'tracepoint', '--body', 'null', '--layers', 'workload', '--repeat', '2', '--duration', '1', '--streams', '1', '--out', out]
    const first = spawn(process.execPath, argv(tempDir('signals-first')), {stdio: 'ignore'})
    const firstEnd = new Promise<number | null>((r) => first.on('exit', r))
    const owner = '/run/ebpfperf/locks/trc.owner'
    const end = Date.now() + 30_000
    while (!(existsSync(owner) && readFileSync(owner, 'utf8').includes(`"pid":${first.pid},`)) && Date.now() < end && first.exitCode === null) await sleep(20)
    const secondOut = join(tempDir('signals-second'), 'out')
    const second = spawnSync(process.execPath, argv(secondOut), {encoding: 'utf8', timeout: 60_000})
    expect(second.status, second.stderr).to.equal(2)
    expect(second.stderr).to.match(new RegExp(`ebpfperf: topology trc is in use by pid ${first.pid} \\(node bin/run\\.js suite tracing .*\\): wait for it to finish, or stop it`))
    expect(existsSync(secondOut) ? readdirSync(secondOut) : [], 'no result: refused before measuring').to.deep.equal([])
    expect(await firstEnd).to.equal(0)
    expect(machine()).to.deep.equal(clean)
  })

  it('suite micro', async function () {
    if (!nativeAvailable().ok) this.skip()
    const out = tempDir('signals-micro')
    for (let i = 0; i < 3; i++) await trial(['suite', 'micro', '--quick', '--repeat', '2', '--out', out], SIGNALS[(i + 1) % 3], 3000)
  })

  it('suite accelerator (iperf3 load)', async function () {
    if (!nativeAvailable().ok || !sh('command -v iperf3').stdout.trim()) this.skip()
    const out = tempDir('signals-acc')
    const argv = ['suite', 'accelerator', '--quick', '--load', 'iperf3', '--modes', 'kernel,xdp', '--repeat', '1', '--warmup', '0', '--out', out]
    for (let i = 0; i < 3; i++) await trial(argv, SIGNALS[(i + 2) % 3], 6000)
  })
})
