#!/usr/bin/env node
// Wall time of `ebpfperf doctor --json` beside `bpftool feature probe`, same machine, same run,
// interleaved (A B A B …) so drift hits both. Prints medians, min/max, and the ratio. Needs root.
// Doctor hands slow detaches to a short-lived `ebp-teardown` process and exits (docs/doctor.md: How long it
// takes); the next command starts only once that process is gone, so it never runs beside the teardown,
// and how long the teardown went on after doctor's exit is printed too.
// Where doctor's time goes: each run writes its phases (EBPFPERF_DOCTOR_TIMING, src/doctor/timing.ts);
// the medians are printed in start order, with "exit" (from doctor's last step to its process ending, as
// this process sees it), so that a regression shows in the phase that grew.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import os, {loadavg, tmpdir} from 'node:os'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.argv[2] ?? 5)
const cmds = {
  'ebpfperf doctor --json': [process.execPath, join(root, 'bin/run.js'), 'doctor', '--json'],
  'bpftool feature probe': ['bpftool', 'feature', 'probe'],
}
const times = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]))
const lingered = []
const tmp = mkdtempSync(join(tmpdir(), 'ebp-bench-doctor-'))
const timingFile = join(tmp, 'timing.json')
/** Per phase: its start and duration in each run (ms since doctor's process start). */
const phases = new Map()
const load = [loadavg()]

// a live ebp-teardown (a zombie has finished: it waits only for init to reap it)
const teardownRunning = () =>
  readdirSync('/proc').some((p) => {
    try {
      if (!/^\d+$/.test(p)) return false
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8') // "pid (comm) state …"
      return stat.includes('(ebp-teardown) ') && stat.split(') ')[1]?.[0] !== 'Z'
    } catch {
      return false // gone meanwhile
    }
  })

/** Waits (up to 5 s) until no ebp-teardown process is left; returns how long that took. */
function waitTeardown() {
  const t0 = process.hrtime.bigint()
  const pause = new Int32Array(new SharedArrayBuffer(4))
  while (teardownRunning() && Number(process.hrtime.bigint() - t0) < 5e9) Atomics.wait(pause, 0, 0, 10) // 10 ms, no process
  return Number(process.hrtime.bigint() - t0) / 1e6
}

function once(argv) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(argv[0], argv.slice(1), {encoding: 'utf8', maxBuffer: 64 << 20, env: {...process.env, EBPFPERF_DOCTOR_TIMING: timingFile}})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`)
  if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.split('\n')[0]}`)
  return ms
}

// warm-up: page cache, JIT of node itself
for (const argv of Object.values(cmds)) {
  once(argv)
  waitTeardown()
}
for (let i = 0; i < runs; i++) {
  for (const [k, argv] of Object.entries(cmds)) {
    rmSync(timingFile, {force: true})
    const wall = once(argv)
    times[k].push(wall)
    const ms = waitTeardown()
    if (k.startsWith('ebpfperf')) {
      lingered.push(ms)
      notePhases(JSON.parse(readFileSync(timingFile, 'utf8')), wall)
    }
  }
}

function notePhases(t, wall) {
  for (const [name, p] of [...Object.entries(t.phases), ['exit (after the last step)', {start: t.end, ms: wall - t.end}]]) {
    if (!phases.has(name)) phases.set(name, {start: [], ms: []})
    phases.get(name).start.push(p.start)
    phases.get(name).ms.push(p.ms)
  }
}
load.push(loadavg())
rmSync(tmp, {recursive: true, force: true})

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(`runs: ${runs} each, interleaved, after one warm-up; loadavg (1 min) ${load[0][0].toFixed(2)} before, ${load[1][0].toFixed(2)} after, on ${os.availableParallelism()} CPUs`)
for (const [k, xs] of Object.entries(times)) {
  console.log(`${k.padEnd(26)} median ${median(xs).toFixed(0).padStart(6)} ms   min ${Math.min(...xs).toFixed(0)}  max ${Math.max(...xs).toFixed(0)}`)
}
console.log(`ebp-teardown went on after doctor exited: median ${median(lingered).toFixed(0)} ms (max ${Math.max(...lingered).toFixed(0)}); the next command waited for it`)
console.log(`where doctor's time goes (medians, ms since its process started; the probes run on worker threads beside the rest):`)
for (const [name, p] of [...phases].sort((x, y) => median(x[1].start) - median(y[1].start))) {
  console.log(`  ${name.padEnd(30)} at ${median(p.start).toFixed(0).padStart(4)}  takes ${median(p.ms).toFixed(0).padStart(4)}`)
}
const [a, b] = Object.values(times).map(median)
console.log(`ratio doctor / bpftool: ${(a / b).toFixed(2)} (target: ≤ 1.00)`)
