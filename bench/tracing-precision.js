#!/usr/bin/env node
// Precision of the tracing suite's per-event figures: runs `ebpfperf suite tracing --layers event` (tracepoint,
// raw tracepoint, uprobe, uretprobe; null and map bodies; bpf_stats off and on) and prints each figure with its
// 95% confidence interval against the target: half-width within 5% of the figure or 2 ns, whichever is larger.
// Needs root and a build (npm run build). Mounts tracefs for the run when it is not mounted (and unmounts it).
//   node bench/tracing-precision.js [--quick] [--repeat N] [other suite flags]
import {spawnSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = mkdtempSync(join(tmpdir(), 'ebp-trc-bench-'))
const args = ['suite', 'tracing', '--layers', 'event', '--attach', 'tracepoint,raw_tracepoint,uprobe,uretprobe', '--mount-tracefs', '--json', '--out', out, ...process.argv.slice(2)]
const t0 = Date.now()
const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {encoding: 'utf8', maxBuffer: 64 << 20})
if (r.status !== 0 && r.status !== 1) {
  process.stderr.write(r.stderr)
  process.exit(r.status ?? 1)
}
const report = JSON.parse(r.stdout)
const ev = report.event
const pad = (s, n) => String(s).padEnd(n)
console.log(`ebpfperf ${args.join(' ')}  (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
const b = ev.baselines
console.log(`trigger thread on CPU ${ev.cpu}${ev.realtime ? ' (SCHED_FIFO)' : ''}; baselines: getpgid ${b.syscall?.summary.mean.toFixed(1) ?? '-'} ns, trigger function ${b.uprobe?.summary.mean.toFixed(1) ?? '-'} ns`)
console.log(`${pad('configuration', 30)} ${pad('ns added', 10)} ${pad('95% CI ±', 9)} ${pad('limit', 7)} ${pad('n', 4)} met`)
let met = 0
let all = 0
for (const row of ev.rows) {
  if (row.status !== 'ok' || !row.added) {
    console.log(`${pad(row.id, 30)} ${row.status}: ${row.reason ?? ''}`)
    continue
  }
  const s = row.added
  const limit = Math.max(0.05 * Math.abs(s.mean), 2)
  const ok = s.halfWidth <= limit
  all++
  if (ok) met++
  console.log(`${pad(row.id, 30)} ${pad(s.mean.toFixed(1), 10)} ${pad(s.halfWidth.toFixed(1), 9)} ${pad(limit.toFixed(1), 7)} ${pad(s.n, 4)} ${ok ? 'yes' : 'NO'}${row.contaminated ? `  (${row.contaminated} samples left out: another process had bpf_stats on)` : ''}`)
}
for (const c of ev.statsCost) console.log(`${pad(`bpf_stats cost ${c.kind}/${c.body}`, 30)} ${pad(c.summary?.mean.toFixed(1) ?? '-', 10)} ${pad(c.summary?.halfWidth.toFixed(1) ?? '-', 9)} ${c.verdict}`)
console.log(`${met} of ${all} per-event figures meet the target (half-width ≤ max(5%, 2 ns))`)
for (const s of report.skipped) console.log(`skipped ${s.what}: ${s.reason}`)
