#!/usr/bin/env node
// The micro suite's baseline figure beside `bpftool prog run PINNED data_in FILE repeat N` on the same
// loaded program (bpf/.output/micro_baseline.bpf.o, loaded and pinned by bpftool under
// /sys/fs/bpf/ebpfperf/, opened by ebpfperf with bpf_obj_get), same CPU, same repeat count, same input,
// in the same run, interleaved (ebpfperf, bpftool, ebpfperf, …) so drift hits both. Prints both figures
// with their 95% CI, the ratio (target: within 5%), and the coefficient of variation of the suite's
// baseline samples (target: under 2%). Needs root and the builds (npm run build).
// The suite takes a sample as `runs` test runs (20 in the shipped suite) and reports their interquartile
// mean. Each interleaved round alternates `runs` single test runs of the suite's runner with `runs`
// invocations of `bpftool prog run`, all at the suite's repeat count, so both spread over the same
// stretch of time, and reduces each side the same way. The plain means of both are printed beside it.
// The suite's sample set is taken `trials` times (one load, as the suite's baseline test runs), and the CV
// of each is printed: the host's speed drifts over tens of milliseconds, so one CV alone says little.
// --series N: also N consecutive suite samples (~10 ms each) in order, to see how the host's speed moves.
//   node bench/micro-vs-bpftool.js [--cpu 0] [--rounds 10] [--samples 10] [--runs 20] [--trials 5] [--series 0]
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {microBench, numberArg} from './micro-common.js'

const cpu = numberArg('cpu', 0)
const rounds = numberArg('rounds', 10)
const samples = numberArg('samples', 10)
const runs = numberArg('runs', 20)
const trials = numberArg('trials', 5)
const series = numberArg('series', 0)

const {object, native, dist, die} = await microBench('micro-vs-bpftool', 'micro_baseline.bpf.o')
if (spawnSync('bpftool', ['version']).status !== 0) die('bpftool not found (apt-get install bpftool)')
const {ipv4UdpPacket} = await dist('suites/micro/packet.js')
const {summarize, interquartileMean, mean} = await dist('results/stats.js')
const {sampleNsPerRun} = await dist('suites/micro/runner.js')

// bpffs at /sys/fs/bpf (mounted here if it is not; unmounted again only if it was ours and is empty)
const mounts = readFileSync('/proc/mounts', 'utf8')
let mountedHere = false
if (!mounts.split('\n').some((l) => l.split(' ')[1] === '/sys/fs/bpf' && l.split(' ')[2] === 'bpf')) {
  const m = spawnSync('mount', ['-t', 'bpf', 'bpffs', '/sys/fs/bpf'], {encoding: 'utf8'})
  if (m.status !== 0) die(`cannot mount bpffs at /sys/fs/bpf: ${m.stderr.trim()}`)
  mountedHere = true
  console.error('mounted bpffs at /sys/fs/bpf (unmounted again at the end if still empty)')
}
const pinDir = '/sys/fs/bpf/ebpfperf'
const madeDir = !existsSync(pinDir)
mkdirSync(pinDir, {recursive: true})
const pin = join(pinDir, `micro-bench-${process.pid}`)
const dataFile = join(tmpdir(), `ebp-micro-bench-${process.pid}.bin`)
const data = ipv4UdpPacket(64)
writeFileSync(dataFile, data)

let fd = -1
function cleanup() {
  if (fd >= 0) native.closeFd(fd)
  fd = -1
  rmSync(pin, {force: true})
  rmSync(dataFile, {force: true})
  try {
    if (madeDir && readdirSync(pinDir).length === 0) rmdirSync(pinDir)
    // maps.debug / progs.debug: the kernel's bpf_preload iterators, present in every bpffs
    if (mountedHere && readdirSync('/sys/fs/bpf').every((f) => f === 'maps.debug' || f === 'progs.debug')) spawnSync('umount', ['/sys/fs/bpf'])
  } catch {
    // left for `ebpfperf topology down`, which removes pins under /sys/fs/bpf/ebpfperf/
  }
}
process.on('SIGINT', () => {
  cleanup()
  process.exit(130)
})

function bpftoolRun(repeat) {
  const r = spawnSync('taskset', ['-c', String(cpu), 'bpftool', 'prog', 'run', 'pinned', pin, 'data_in', dataFile, 'repeat', String(repeat)], {encoding: 'utf8'})
  const m = /Return value: (\d+), duration(?: \(average\))?: (\d+)ns/.exec(r.stdout)
  if (r.status !== 0 || !m) throw new Error(`bpftool prog run failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}`)
  return {retval: Number(m[1]), ns: Number(m[2])}
}

try {
  const load = spawnSync('bpftool', ['prog', 'load', object, pin], {encoding: 'utf8'})
  if (load.status !== 0) throw new Error(`bpftool prog load: ${load.stderr.trim().split('\n').pop()}`)
  const xlated = spawnSync('bpftool', ['prog', 'dump', 'xlated', 'pinned', pin], {encoding: 'utf8'}).stdout
  const insns = xlated.split('\n').filter((l) => /^\s*\d+: \(/.test(l)).length
  fd = native.objGet(pin)

  // the suite's runner, as `suite micro` runs the baseline: ~10 ms per sample in `runs` test runs
  const suite = await native.testRunAsync({progFd: fd, data, cpus: [cpu], samples, targetNs: 10e6, runs})
  const c = suite.cpus[0]
  const repeat = c.repeat
  const suiteNs = c.samples.map((s) => sampleNsPerRun('repeat', s))
  const proofOk = c.proof && c.proof.runCnt === c.proof.repeat
  const trialCv = [summarize(suiteNs).cv]
  for (let t = 1; t < trials; t++) {
    const again = await native.testRunAsync({progFd: fd, data, cpus: [cpu], samples, repeat, runs, stats: 'off'})
    trialCv.push(summarize(again.cpus[0].samples.map((s) => sampleNsPerRun('repeat', s))).cv)
  }

  // interleaved rounds: a test run of the suite's runner, a bpftool prog run, … (`runs` of each)
  const ours = []
  const theirs = []
  const oursPlain = []
  const theirsPlain = []
  bpftoolRun(repeat) // warm-up
  for (let i = 0; i < rounds; i++) {
    const a = []
    const b = []
    for (let k = 0; k < runs; k++) {
      const r = await native.testRunAsync({progFd: fd, data, cpus: [cpu], samples: 1, repeat, runs: 1, stats: 'off', warmup: false})
      a.push(sampleNsPerRun('repeat', r.cpus[0].samples[0]))
      const x = bpftoolRun(repeat)
      if (x.retval !== 0) throw new Error(`bpftool: the baseline returned ${x.retval}`)
      b.push(x.ns)
    }
    ours.push(interquartileMean(a))
    oursPlain.push(mean(a))
    theirs.push(interquartileMean(b))
    theirsPlain.push(mean(b))
  }

  const S = summarize(suiteNs)
  const A = summarize(ours)
  const B = summarize(theirs)
  const fmt = (s) => `${s.mean.toFixed(2)} ns ± ${s.halfWidth.toFixed(2)} (n=${s.n}, min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)})`
  console.log(`program: micro_baseline from ${object}, ${insns} instructions (bpftool prog dump xlated), pinned at ${pin}`)
  console.log(`CPU ${cpu}, 64-byte IPv4/UDP packet, ${runs} test runs of repeat ${repeat} per sample (calibrated to ~10 ms a sample)${suite.dispatcherHold ? ', ebpfperf holding the program in the XDP dispatcher' : ` (not held in the XDP dispatcher: ${suite.dispatcherHoldError})`}`)
  console.log(`ebpfperf runner, suite samples:  ${fmt(S)}  CV ${(S.cv * 100).toFixed(2)}% (target < 2%)  bpf_stats proof: ${proofOk ? `run_cnt +${c.proof.runCnt} = repeat × runs` : 'FAILED'}`)
  const under = trialCv.filter((x) => x < 0.02).length
  console.log(`CV of the suite's ${samples} samples in ${trials} trials: ${trialCv.map((x) => `${(x * 100).toFixed(2)}%`).join(', ')}; median ${(summarize(trialCv).median * 100).toFixed(2)}%, under 2% in ${under} of ${trials}`)
  console.log(`ebpfperf runner, interleaved:    ${fmt(A)}  (plain mean of the runs: ${mean(oursPlain).toFixed(2)} ns)`)
  console.log(`bpftool prog run, interleaved:   ${fmt(B)}  (plain mean of the runs: ${mean(theirsPlain).toFixed(2)} ns)`)
  console.log(`CV over the interleaved rounds: ebpfperf ${(A.cv * 100).toFixed(2)}%, bpftool ${(B.cv * 100).toFixed(2)}% (bpftool's is the noise floor of this machine for the same program, CPU, repeat count and estimator)`)
  const ratio = A.mean / B.mean
  // what the XDP dispatcher hold saves: a sample of `runs` test runs held and not (alternating); the wall
  // time of the runs inside the call, and of the whole call (which makes and releases the hold once)
  const wall = {held: [], unheld: [], heldCall: [], unheldCall: []}
  for (let k = 0; k < 5; k++) {
    for (const hold of [true, false]) {
      const t0 = performance.now()
      const r = await native.testRunAsync({progFd: fd, data, cpus: [cpu], samples: 1, repeat, runs, holdDispatcher: hold, stats: 'off', warmup: false})
      const call = performance.now() - t0
      const s = r.cpus[0].samples[0]
      wall[hold ? 'held' : 'unheld'].push(s.wallNs / 1e6 / s.runNs.length)
      wall[hold ? 'heldCall' : 'unheldCall'].push(call)
    }
  }
  const med = (xs) => summarize(xs).median
  console.log(`a test run of repeat ${repeat} (~${((repeat * A.mean) / 1e6).toFixed(2)} ms timed by the kernel), wall time, medians of 5: held in the dispatcher ${med(wall.held).toFixed(2)} ms per run (a call of ${runs} runs: ${med(wall.heldCall).toFixed(1)} ms, making and releasing the hold included); not held ${med(wall.unheld).toFixed(2)} ms per run (unheld, the runner takes one run per sample: the call ${med(wall.unheldCall).toFixed(1)} ms)`)
  if (series > 0) {
    const sr = await native.testRunAsync({progFd: fd, data, cpus: [cpu], samples: series, repeat, runs, stats: 'off'})
    const xs = sr.cpus[0].samples.map((s) => sampleNsPerRun('repeat', s))
    const seriesMs = sr.cpus[0].samples.reduce((a, s) => a + s.wallNs, 0) / 1e6
    console.log(`${series} consecutive samples over ${seriesMs.toFixed(0)} ms (ns per run, in order): ${xs.map((x) => x.toFixed(0)).join(' ')}`)
  }
  console.log(`ratio ebpfperf / bpftool: ${ratio.toFixed(3)} (${Math.abs(ratio - 1) <= 0.05 ? 'within' : 'NOT within'} 5%); plain means: ${(mean(oursPlain) / mean(theirsPlain)).toFixed(3)}`)
  if (suite.cpus[0].samples.some((s) => s.runCnt > 0)) console.log('note: bpf_stats was on during the samples (another process or the sysctl): both figures include its cost')
  console.log('note: both figures are the kernel\'s test-run timer (integer ns per iteration, truncated), on a shared machine')
} catch (error) {
  console.error(`micro-vs-bpftool: ${error.message}`)
  process.exitCode = 1
} finally {
  cleanup()
}
