#!/usr/bin/env node
// Is the accelerator suite's harness what it measures? iperf3 run by hand and through
// `ebpfperf suite accelerator --modes kernel` on the same topology (netns/acc.topo.yml), in alternating
// rounds so that the machine's drift touches both alike; prints both throughputs, their ratio and
// Welch's p per point, and the ratio paired by round (each round's two arms ran back to back, so the
// host's slow drift cancels). Target: the suite within 3% of iperf3 by hand.
//
// By hand means what a user would type: `ip netns exec ebp-acc-client iperf3 -c 198.18.101.1 …` with
// nothing else running. Through the suite adds its latency probe (ping -i 0.02, to a file) and bpf_stats in
// its latency runs only, and its counter reads before and after each run.
// The suite's throughput comes from runs without its latency probe; the probe runs beside the same load in
// extra latency runs, whose throughput is printed against the load runs' too: the probe's own cost, which
// the suite keeps out of its throughput figures. The two arms alternate which goes first.
//
// usage: node bench/accelerator-harness.js [rounds=3] [runs per round=3] [seconds per run=2]
// Needs root and a build (npm run build).
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const rounds = Number(process.argv[2] ?? 3)
const runs = Number(process.argv[3] ?? 3)
const seconds = Number(process.argv[4] ?? 2)
// further arguments go to the suite unchanged (e.g. --probe-interval 0 to see what the latency probe costs)
const extra = process.argv.slice(5)
const {mean, summarize, welch} = await import(join(root, 'dist/results/stats.js'))

const POINTS = [
  {name: 'TCP, MSS default, max', protocol: 'tcp', args: []},
  {name: 'UDP 1460 B, max', protocol: 'udp', args: ['-u', '-b', '0', '-l', '1460']},
]
const SERVER = '198.18.101.1'
const PORT = '5302' // not the suite's 5301: the suite's own server is never in the way
const bin = join(root, 'bin/run.js')

function must(r, what) {
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${(r.stderr || r.stdout || '').split('\n').slice(-3).join(' ')}`)
  return r
}
const ebpfperf = (args) => spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
const inNs = (ns, argv, opts = {}) => spawnSync('ip', ['netns', 'exec', ns, ...argv], {encoding: 'utf8', ...opts})

/** iperf3 by hand: topology up, a server, one warm-up run per point, then `runs` runs per point, down. */
function byHand() {
  // a loaded machine can miss the verification ping once: try again before giving up
  for (let attempt = 1; ; attempt++) {
    const r = ebpfperf(['topology', 'up', 'acc'])
    if (r.status === 0) break
    if (attempt === 3) must(r, 'ebpfperf topology up acc')
    process.stderr.write(`topology up acc failed (${r.stderr.trim().split('\n').pop()}); again\n`)
  }
  const out = Object.fromEntries(POINTS.map((p) => [p.name, []]))
  try {
    must(inNs('ebp-acc-server', ['iperf3', '-s', '-D', '-p', PORT]), 'iperf3 -s -D')
    spawnSync('sleep', ['0.2'])
    for (const p of POINTS) {
      for (let i = -1; i < runs; i++) {
        const r = must(inNs('ebp-acc-client', ['iperf3', '-c', SERVER, '-p', PORT, '--json', '-t', String(seconds), ...p.args], {timeout: (seconds + 20) * 1000}), 'iperf3 -c')
        const end = JSON.parse(r.stdout).end
        if (i >= 0) out[p.name].push(end.sum_received.bits_per_second)
      }
    }
  } finally {
    must(ebpfperf(['topology', 'down', 'acc']), 'ebpfperf topology down acc') // kills the daemon with the namespace
  }
  return out
}

/** The same points through the suite, kernel mode only (the one path iperf3 by hand also takes). */
function throughSuite() {
  const dir = mkdtempSync(join(tmpdir(), 'ebp-acc-bench-'))
  try {
    const r = ebpfperf(['suite', 'accelerator', '--modes', 'kernel', '--protocols', 'tcp,udp', '--rates', 'max', '--repeat', String(runs), '--time', String(seconds), '--json', '--out', dir, ...extra])
    if (r.status !== 0 && r.status !== 1) must(r, 'ebpfperf suite accelerator')
    const doc = JSON.parse(r.stdout)
    const bitrate = (id) => doc.cases.find((c) => c.id === id)
    const ids = {[POINTS[0].name]: 'kernel/tcp/max/default/bitrate', [POINTS[1].name]: 'kernel/udp/max/1460B/bitrate'}
    const out = {}
    for (const [name, id] of Object.entries(ids)) {
      const c = bitrate(id)
      const counted = (c?.extra?.runs ?? []).filter((x) => !x.warmup)
      out[name] = {
        samples: c?.samples ?? [],
        latency: counted.filter((x) => x.latency).map((x) => x.bitsPerSecond),
        harness: counted.filter((x) => !x.latency).map((x) => x.cpu.harnessPercent),
      }
    }
    return out
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

const all = Object.fromEntries(POINTS.map((p) => [p.name, {hand: [], suite: [], latency: [], rounds: [], harness: []}]))
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? ['hand', 'suite'] : ['suite', 'hand'] // alternate who goes first
  const round = {}
  for (const who of order) round[who] = who === 'hand' ? byHand() : throughSuite()
  for (const p of POINTS) {
    const [h, s] = [round.hand[p.name], round.suite[p.name]]
    all[p.name].hand.push(...h)
    all[p.name].suite.push(...s.samples)
    all[p.name].latency.push(...s.latency)
    all[p.name].harness.push(...s.harness)
    // this round's own runs (a suite run that failed leaves its arm shorter; a round without both is not paired)
    if (h.length > 0 && s.samples.length > 0) all[p.name].rounds.push(mean(s.samples) / mean(h))
  }
  process.stderr.write(`round ${i + 1}/${rounds} done\n`)
}

const mbps = (xs) => {
  const s = summarize(xs.map((x) => x / 1e6))
  return `${s.mean.toFixed(0)}±${s.sd.toFixed(0)} Mbit/s (n=${s.n})`
}
/** b / a with the 95% CI from Welch's interval for the difference (relative to a's mean), and whether it is within 3%. */
function ratio(a, b) {
  const w = welch(a, b)
  const base = summarize(a).mean
  const r = summarize(b).mean / base
  const lo = 1 + w.ci95[0] / base
  const hi = 1 + w.ci95[1] / base
  const verdict = lo >= 0.97 && hi <= 1.03 ? 'yes' : Math.abs(r - 1) <= 0.03 ? (w.significant ? 'NO (significant)' : 'yes (point estimate; CI wider than ±3% at this noise)') : w.significant ? 'NO' : 'cannot tell (not significant; CI wider than ±3% at this noise)'
  return `${r.toFixed(3)} (95% CI ${lo.toFixed(3)}–${hi.toFixed(3)}, ${w.significant ? `significant, p=${w.p.toFixed(3)}` : `no significant difference, p=${w.p.toFixed(2)}`})  within 3%: ${verdict}`
}
/** Paired by round (the two arms of a round ran back to back): geometric mean of the per-round ratios, t-based 95% CI. */
function paired(ratios) {
  const logs = ratios.map(Math.log)
  const s = summarize(logs)
  const [lo, hi] = s.ci95.map(Math.exp)
  const verdict = lo >= 0.97 && hi <= 1.03 ? 'yes' : lo > 1.03 || hi < 0.97 ? 'NO' : 'cannot tell at this noise (CI wider than ±3%)'
  return `${Math.exp(s.mean).toFixed(3)} (95% CI ${lo.toFixed(3)}–${hi.toFixed(3)}, ${ratios.length} rounds)  within 3%: ${verdict}`
}
console.log(`iperf3 by hand vs through ebpfperf suite accelerator (kernel mode), acc topology, ${rounds} rounds × ${runs} runs × ${seconds} s`)
console.log(`load on the machine while measuring: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (1/5/15 min)`)
for (const p of POINTS) {
  const {hand, suite, latency} = all[p.name]
  console.log(`${p.name}: by hand ${mbps(hand)}, suite ${mbps(suite)}, the suite's latency runs ${mbps(latency)}`)
  console.log(`  suite / by hand (the target):                        ${ratio(hand, suite)}`)
  console.log(`  suite / by hand, paired by round:                    ${paired(all[p.name].rounds)}`)
  console.log(`  latency runs / load runs (the probe's cost, kept out): ${ratio(suite, latency)}`)
  const h = summarize(all[p.name].harness)
  console.log(`  the suite's own process (all threads) while its load ran: ${h.mean.toFixed(2)}% of one CPU (max ${h.max.toFixed(2)}%, n=${h.n}) — what the harness takes from the load, without the noise of throughput`)
}
