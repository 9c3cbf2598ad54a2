#!/usr/bin/env node
// Probes run on libuv's worker pool and mostly wait for the kernel: let them all run at once.
process.env.UV_THREADPOOL_SIZE ??= '16'

// A plain `ebpfperf doctor …` goes straight to the library (src/doctor/fast.ts, bundled into one file by
// the build): loading oclif costs about as long as doctor's own work. What the fast path does not take
// (--help, --fix, --compare, bad options) falls through to the full CLI; EBPFPERF_FULL_CLI=1 always does.
// (a build without the bundle, e.g. tsc alone, takes the full CLI too)
const fast = process.argv[2] === 'doctor' && !process.env.EBPFPERF_FULL_CLI && (await import('../dist/doctor/fast.bundle.js').catch(() => undefined))?.doctorFast
if (!fast || !(await fast(process.argv.slice(3)))) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
