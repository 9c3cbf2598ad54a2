#!/usr/bin/env node
// Probes run on libuv's worker pool and mostly wait for the kernel: let them all run at once.
process.env.UV_THREADPOOL_SIZE ??= '16'
// a reader that stopped early (`ebpfperf doctor --json | head`) is not an error worth a stack trace
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error
  process.exit(0)
})

// A plain `ebpfperf doctor …` goes straight to the library (src/doctor/fast.ts, bundled by
// the build): loading oclif costs about as long as doctor's own work. What the fast path does not take
// (--help, --fix, --compare, bad options) falls through to the full CLI; EBPFPERF_FULL_CLI=1 always does.
// (a build without the bundle, e.g. tsc alone, takes the full CLI too)
// `topology up|down` likewise (src/topology/fast.ts).
const [cmd, ...rest] = process.argv.slice(2)
const fastPaths = {
  doctor: async () => (await import('../dist/doctor/fast.bundle.js').catch(() => undefined))?.doctorFast,
  topology: async () => (['up', 'down'].includes(rest[0]) ? (await import('../dist/topology/fast.bundle.js').catch(() => undefined))?.topologyFast : undefined),
}
const fast = !process.env.EBPFPERF_FULL_CLI && Object.hasOwn(fastPaths, cmd) ? await fastPaths[cmd]() : undefined
if (!fast || !(await fast(rest))) {
  const [{execute}, {fileURLToPath}] = await Promise.all([import('@oclif/core'), import('node:url')])
  // no user-installed oclif plugins (ebpfperf has none to install): oclif would otherwise read
  // ~/.local/share/ebpfperf/package.json and print a two-line warning where HOME is unreadable (setpriv, sudo -u)
  await execute({loadOptions: {root: fileURLToPath(new URL('.', import.meta.url)), userPlugins: false}})
}
