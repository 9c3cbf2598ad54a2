#!/usr/bin/env node
// Boot figures of `ebpfperf vm` with a trivial guest command (`ebpfperf --version`): host wall time from
// QEMU's start to the guest's init ("boot to userspace"), the guest kernel's own uptime at that point, the
// command, and the total — under TCG (software emulation) and under KVM (where KVM starts a guest at all).
// Usage: node bench/vm-boot.js [runs=3] [kernel=linux-image-cloud-amd64]. Needs root and qemu-system-x86.
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const runs = Number(process.argv[2] ?? 3)
const kernel = process.argv[3] ?? 'linux-image-cloud-amd64'

function once(accel) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), 'vm', 'run', '--kernel', kernel, '--accel', accel, '--timeout', '120', '--json', '--', '--version'], {encoding: 'utf8'})
  const wall = Number(process.hrtime.bigint() - t0) / 1e6
  let doc
  try {
    doc = JSON.parse(r.stdout)
  } catch {
    doc = undefined
  }
  if (!doc?.vm) return {ok: false, why: r.stderr.split('\n').filter((l) => l.startsWith('ebpfperf:')).pop() ?? `exit ${r.status}`}
  return {ok: doc.exitCode === 0, why: `guest exit ${doc.exitCode}`, t: {...doc.vm.timings, wallMs: wall}}
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (xs) => (xs.length ? `median ${(median(xs) / 1000).toFixed(2).padStart(6)} s  min ${(Math.min(...xs) / 1000).toFixed(2)}  max ${(Math.max(...xs) / 1000).toFixed(2)}` : 'n/a')
console.log(`kernel ${kernel}, guest command \`ebpfperf --version\`, ${runs} run(s) per accelerator (the package is downloaded on first use)`)
once('tcg') // warm-up: the package cache, the page cache
for (const accel of ['tcg', 'kvm']) {
  const ok = []
  for (let i = 0; i < runs; i++) {
    const r = once(accel)
    if (!r.ok) {
      console.log(`${accel.toUpperCase()}: failed: ${r.why}`)
      break
    }
    ok.push(r.t)
  }
  if (ok.length === 0) continue
  console.log(`${accel.toUpperCase()}:`)
  console.log(`  boot to userspace (QEMU start → guest init)  ${fmt(ok.map((t) => t.bootMs))}`)
  console.log(`  guest kernel uptime at init                  ${fmt(ok.map((t) => t.guestInitUptimeMs))}`)
  console.log(`  ready to run (host / mounted, fs set up)     ${fmt(ok.map((t) => t.readyMs))}`)
  console.log(`  guest command (node + oclif, --version)      ${fmt(ok.map((t) => t.commandMs))}`)
  console.log(`  QEMU start → QEMU exit                       ${fmt(ok.map((t) => t.totalMs))}`)
  console.log(`  whole \`ebpfperf vm run\` (host wall)          ${fmt(ok.map((t) => t.wallMs))}`)
}
console.log('(TCG timings are software emulation: functional figures for this tool, never comparable with host timings)')
