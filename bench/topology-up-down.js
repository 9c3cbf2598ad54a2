#!/usr/bin/env node
// Wall time of `ebpfperf topology up` (verified) and `topology down` for the default topology, beside the
// same topology made by hand with `ip` (3 namespaces, 2 veth pairs, addresses, routes, one ping each way
// and family, no checks) in the same run, interleaved: CLI up, CLI down, by-hand up, by-hand down, …
// Also the library calls alone (no process start-up). Needs root and a build (npm run build).
// Usage: node bench/topology-up-down.js [runs]   (hold the kernel lock: flock /tmp/ebp-kernel.lock …)
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.argv[2] ?? 5)
const {loadTopology} = await import(join(root, 'dist/topology/model.js'))
const {up, down} = await import(join(root, 'dist/topology/index.js'))

// where the CLI's time goes: each run writes its phases (EBPFPERF_TOPOLOGY_TIMING, src/topology/fast.ts)
const tmp = mkdtempSync(join(os.tmpdir(), 'ebp-bench-topology-'))
const timingFile = join(tmp, 'timing.json')
const phases = {up: new Map(), down: new Map()}

function cli(args) {
  rmSync(timingFile, {force: true})
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {encoding: 'utf8', env: {...process.env, EBPFPERF_TOPOLOGY_TIMING: timingFile}})
  if (r.status !== 0) throw new Error(`ebpfperf ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  const wall = Number(process.hrtime.bigint() - t0) / 1e6
  const t = JSON.parse(readFileSync(timingFile, 'utf8'))
  for (const [name, p] of [...Object.entries(t.phases), ['exit (after the last step)', {start: t.end, ms: wall - t.end}]]) {
    const m = phases[args[1]]
    if (!m.has(name)) m.set(name, {start: [], ms: []})
    m.get(name).start.push(p.start)
    m.get(name).ms.push(p.ms)
  }
  return wall
}

// the by-hand topology: names of its own (ebp-hand-*), the default topology's addresses; what a careful hand
// does too, as the CLI does: no IPv6 duplicate address detection in the namespaces (a tentative link-local
// address holds the DUT's neighbour discovery back ~2 s), an ifindex of its own per veth end (equal ones
// delay the carrier up to a second), and pings that retry within a bound
const HAND_UP = `set -e
nodad='echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'
for n in cli dut srv; do ip netns add ebp-hand-$n; done
ip netns exec ebp-hand-cli sh -c "$nodad"
ip netns exec ebp-hand-srv sh -c "$nodad"
ip netns exec ebp-hand-dut sh -c "$nodad; echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv6/conf/all/forwarding"
ip link add ebp-cli0 netns ebp-hand-cli index 100 type veth peer ebp-dut0 netns ebp-hand-dut index 101
ip link add ebp-dut1 netns ebp-hand-dut index 102 type veth peer ebp-srv0 netns ebp-hand-srv index 103
ip -n ebp-hand-dut -batch - <<EOF
link set lo up
addr add 198.18.0.254/24 dev ebp-dut0
addr add 2001:2:0:1::fe/64 dev ebp-dut0 nodad
addr add 198.18.1.254/24 dev ebp-dut1
addr add 2001:2:0:2::fe/64 dev ebp-dut1 nodad
link set ebp-dut0 up
link set ebp-dut1 up
EOF
ip -n ebp-hand-cli -batch - <<EOF
link set lo up
addr add 198.18.0.1/24 dev ebp-cli0
addr add 2001:2:0:1::1/64 dev ebp-cli0 nodad
link set ebp-cli0 up
route add default via 198.18.0.254
route add default via 2001:2:0:1::fe
EOF
ip -n ebp-hand-srv -batch - <<EOF
link set lo up
addr add 198.18.1.1/24 dev ebp-srv0
addr add 2001:2:0:2::1/64 dev ebp-srv0 nodad
link set ebp-srv0 up
route add default via 198.18.1.254
route add default via 2001:2:0:2::fe
EOF
p='ping -n -c 1 -i 0.2 -w 5'
ip netns exec ebp-hand-cli $p -4 198.18.1.1 >/dev/null
ip netns exec ebp-hand-cli $p -6 2001:2:0:2::1 >/dev/null
ip netns exec ebp-hand-srv $p -4 198.18.0.1 >/dev/null
ip netns exec ebp-hand-srv $p -6 2001:2:0:1::1 >/dev/null`
const HAND_DOWN = 'for n in cli dut srv; do ip netns del ebp-hand-$n; done'

function sh(script) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync('sh', ['-c', script], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`by-hand script exited ${r.status}: ${r.stderr}`)
  return Number(process.hrtime.bigint() - t0) / 1e6
}

async function timed(fn) {
  const t0 = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t0) / 1e6
}

const t = {'cli up (verified)': [], 'cli down': [], 'by hand up (ip script)': [], 'by hand down': [], 'library up (verified)': [], 'library down': []}
const target = {'cli up (verified)': 500, 'cli down': 300}
const plan = loadTopology(undefined)
const load = [os.loadavg()[0]]
await down({all: false, topology: plan.name})
spawnSync('sh', ['-c', `${HAND_DOWN} 2>/dev/null`])
try {
  for (let i = 0; i < runs; i++) {
    t['cli up (verified)'].push(cli(['topology', 'up']))
    t['cli down'].push(cli(['topology', 'down']))
    t['by hand up (ip script)'].push(sh(HAND_UP))
    t['by hand down'].push(sh(HAND_DOWN))
    t['library up (verified)'].push(await timed(() => up(plan)))
    t['library down'].push(await timed(() => down({topology: plan.name})))
  }
} finally {
  await down({all: false, topology: plan.name})
  spawnSync('sh', ['-c', `${HAND_DOWN} 2>/dev/null`])
}
load.push(os.loadavg()[0])
rmSync(tmp, {recursive: true, force: true})
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(`default topology (netns/dut.topo.yml), ${runs} runs each, interleaved; loadavg (1 min) ${load[0].toFixed(2)} before, ${load[1].toFixed(2)} after, on ${os.availableParallelism()} CPUs`)
for (const [k, xs] of Object.entries(t)) {
  console.log(`${k.padEnd(24)} median ${median(xs).toFixed(0).padStart(5)} ms   min ${Math.min(...xs).toFixed(0)}  max ${Math.max(...xs).toFixed(0)}${target[k] ? `   target ≤ ${target[k]} ms` : ''}`)
}
for (const [cmd, m] of Object.entries(phases)) {
  console.log(`where \`topology ${cmd}\` spends its time (medians, ms since its process started; spans may overlap):`)
  for (const [name, p] of [...m].sort((x, y) => median(x[1].start) - median(y[1].start))) {
    console.log(`  ${name.padEnd(36)} at ${median(p.start).toFixed(0).padStart(5)}  takes ${median(p.ms).toFixed(0).padStart(5)}`)
  }
}
const [cu, cd, hu, hd] = Object.values(t).map(median)
console.log(`ratio CLI / by hand: up ${(cu / hu).toFixed(1)}×, down ${(cd / hd).toFixed(1)}×`)
