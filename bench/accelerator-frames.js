#!/usr/bin/env node
// Does XDP forward more 64-byte frames than the kernel here, and is it the DUT that was measured? One run
// of `ebpfperf suite accelerator --load live-frames` at 64 B with the generator alone, kernel forwarding
// and the built-in XDP forwarder interleaved round by round; prints the generator's rate, each path's
// throughput, the XDP/kernel ratio paired by round with its 95% CI, the DUT's own ns per frame per mode
// (the path's cost less the generator's, same round: generator, DUT and sink share one CPU), and the XDP
// paper's figures beside them. Targets on this machine: ratio ≥ 2× with the CI's low end above 1.5×;
// kernel ÷ XDP DUT cost ≥ 3×; the generator alone ≥ 1.5× the best path.
//
// usage: node bench/accelerator-frames.js [rounds=10] [trial seconds=0.5] [extra suite flags…]
// Needs root and a build (npm run build).
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const rounds = Number(process.argv[2] ?? 10)
const trial = process.argv[3] ?? '0.5'
const extra = process.argv.slice(4)
const {pairedLogRatio, summarize} = await import(join(root, 'dist/results/stats.js'))

// The XDP paper (Høiland-Jørgensen et al., CoNEXT 2018), Fig. 5: packet forwarding on one core.
const PAPER = {kernel: 1.74e6, xdp: 5.36e6}

const out = mkdtempSync(join(tmpdir(), 'ebp-bench-frames-'))
try {
  const args = ['suite', 'accelerator', '--load', 'live-frames', '--modes', 'kernel,xdp', '--frame-sizes', '64', '--repeat', String(rounds), '--trial-time', trial, '--latency-load', '0', '--loss-rates', '', '--json', '--out', out, ...extra]
  const started = Date.now()
  const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
  if (r.status !== 0) throw new Error(`ebpfperf ${args.join(' ')} exited ${r.status}: ${r.stderr.split('\n').slice(-4).join(' ')}`)
  const doc = JSON.parse(r.stdout)
  const find = (id) => doc.cases.find((c) => c.id === id)
  const [gen, kernel, xdp] = ['generator', 'kernel', 'xdp'].map((m) => find(`frames/${m}/64B/throughput`))
  for (const c of [gen, kernel, xdp]) if (c.status !== 'ok') throw new Error(`${c.id}: ${c.status} (${c.reason})`)
  const mpps = (c) => {
    const s = summarize(c.samples.map((x) => x / 1e6))
    return `${s.mean.toFixed(2)} Mpps (95% CI ${s.ci95[0].toFixed(2)}–${s.ci95[1].toFixed(2)}, n = ${s.n})`
  }
  console.log(`ebpfperf ${args.slice(0, -3).join(' ')}  (${((Date.now() - started) / 1000).toFixed(0)} s, ${doc.environment.kernel.release}, ${doc.environment.cpu.model}, ${doc.environment.cpu.count} CPUs)`)
  console.log(`generator alone (sink on the DUT's ingress): ${mpps(gen)}`)
  console.log(`kernel forwarding:                            ${mpps(kernel)}`)
  console.log(`XDP forwarding (xdp_fwd):                     ${mpps(xdp)}`)

  const ratio = pairedLogRatio(kernel.samples, xdp.samples)
  const [lo, hi] = ratio.relativeCi.map((v) => 1 + v)
  console.log(`XDP / kernel, paired by round: ${(1 + ratio.relative).toFixed(2)}× (95% CI ${lo.toFixed(2)}–${hi.toFixed(2)}×)   target ≥ 2× with CI low end > 1.5×: ${1 + ratio.relative >= 2 && lo > 1.5 ? 'met' : 'NOT met'}`)
  console.log(`  the XDP paper, one core, separate generator: kernel 1.74, XDP 5.36 Mpps = ${(PAPER.xdp / PAPER.kernel).toFixed(1)}×`)

  const dut = (m) => summarize(find(`frames/${m}/64B/dut_ns_per_frame`).samples)
  const [dk, dx] = [dut('kernel'), dut('xdp')]
  const costRatio = pairedLogRatio(find('frames/xdp/64B/dut_ns_per_frame').samples, find('frames/kernel/64B/dut_ns_per_frame').samples)
  console.log(`DUT's own ns per frame (path − generator, same round): kernel ${dk.mean.toFixed(0)} ± ${dk.halfWidth.toFixed(0)}, XDP ${dx.mean.toFixed(0)} ± ${dx.halfWidth.toFixed(0)} (95% CI half-widths)`)
  console.log(`  kernel ÷ XDP per round: ${(1 + costRatio.relative).toFixed(2)}× (95% CI ${(1 + costRatio.relativeCi[0]).toFixed(2)}–${(1 + costRatio.relativeCi[1]).toFixed(2)}×)   target ≥ 3×: ${1 + costRatio.relative >= 3 ? 'met' : 'NOT met'}`)
  console.log(`  the XDP paper: kernel ${(1e9 / PAPER.kernel).toFixed(0)} ns, XDP ${(1e9 / PAPER.xdp).toFixed(0)} ns per packet per core (whole forwarding, no generator on the core)`)

  const best = Math.max(summarize(kernel.samples).mean, summarize(xdp.samples).mean)
  const headroom = summarize(gen.samples).mean / best
  console.log(`generator alone ÷ best path: ${headroom.toFixed(2)}×   target ≥ 1.5×: ${headroom >= 1.5 ? 'met' : 'NOT met (generator-bound)'}`)
  const files = readdirSync(out)
  console.log(`raw: ${files.length} result files (JSON, CSV, -frames.csv) in a temporary folder, removed`)
} finally {
  rmSync(out, {recursive: true, force: true})
}
