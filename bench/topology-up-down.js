#!/usr/bin/env node
// Wall time of `ebpfperf topology up` and `topology down` for the default topology, over repeated runs:
// the whole CLI (what a user waits for) and the library calls alone (without Node/oclif start-up).
// Needs root and a build (npm run build).
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.argv[2] ?? 5)
const {loadTopology} = await import(join(root, 'dist/topology/model.js'))
const {up, down} = await import(join(root, 'dist/topology/index.js'))

function cli(args) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`ebpfperf ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return Number(process.hrtime.bigint() - t0) / 1e6
}

async function timed(fn) {
  const t0 = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t0) / 1e6
}

const t = {'cli up': [], 'cli down': [], 'library up (verified)': [], 'library down': []}
const plan = loadTopology(undefined)
await down({all: false, topology: plan.name})
for (let i = 0; i < runs; i++) {
  t['cli up'].push(cli(['topology', 'up']))
  t['cli down'].push(cli(['topology', 'down']))
  t['library up (verified)'].push(await timed(() => up(plan)))
  t['library down'].push(await timed(() => down({topology: plan.name})))
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(`default topology (netns/dut.topo.yml), ${runs} runs each`)
for (const [k, xs] of Object.entries(t)) {
  console.log(`${k.padEnd(24)} median ${median(xs).toFixed(0).padStart(5)} ms   min ${Math.min(...xs).toFixed(0)}  max ${Math.max(...xs).toFixed(0)}   target < 1000 ms`)
}
