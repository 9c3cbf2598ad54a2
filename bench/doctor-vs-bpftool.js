#!/usr/bin/env node
// Wall time of `ebpfperf doctor --json` beside `bpftool feature probe`, same machine, same run,
// interleaved (A B A B …) so drift hits both. Prints medians, min/max, and the ratio. Needs root.
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.argv[2] ?? 5)
const cmds = {
  'ebpfperf doctor --json': [process.execPath, join(root, 'bin/run.js'), 'doctor', '--json'],
  'bpftool feature probe': ['bpftool', 'feature', 'probe'],
}
const times = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]))

function once(argv) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(argv[0], argv.slice(1), {encoding: 'utf8', maxBuffer: 64 << 20})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`)
  if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.split('\n')[0]}`)
  return ms
}

for (const argv of Object.values(cmds)) once(argv) // warm-up: page cache, JIT of node itself
for (let i = 0; i < runs; i++) for (const [k, argv] of Object.entries(cmds)) times[k].push(once(argv))

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(`runs: ${runs} each, interleaved, after one warm-up`)
for (const [k, xs] of Object.entries(times)) {
  console.log(`${k.padEnd(26)} median ${median(xs).toFixed(0).padStart(6)} ms   min ${Math.min(...xs).toFixed(0)}  max ${Math.max(...xs).toFixed(0)}`)
}
const [a, b] = Object.values(times).map(median)
console.log(`ratio doctor / bpftool: ${(a / b).toFixed(2)} (target: ≤ 1.00)`)
