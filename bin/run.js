#!/usr/bin/env node
// CommonJS (bin/package.json): an ES module entry would start Node's ES module loader (~10 ms) before
// the fast paths below, which need none of it; the full CLI (oclif) is imported as an ES module.
const {readFileSync, renameSync, rmSync, writeFileSync} = require('node:fs')
const {createRequire} = require('node:module')
const {dirname, join} = require('node:path')
const {Script} = require('node:vm')

// Probes run on libuv's worker pool and mostly wait for the kernel: let them all run at once.
process.env.UV_THREADPOOL_SIZE ??= '16'
// a reader that stopped early (`ebpfperf doctor --json | head`) is not an error worth a stack trace
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error
  process.exit(0)
})

const root = join(__dirname, '..')

// A plain `ebpfperf doctor …` goes straight to the library (src/doctor/fast.ts, bundled by the build):
// loading oclif costs about as long as doctor's own work. What the fast path does not take (--help, --fix,
// --compare, bad options) falls through to the full CLI; EBPFPERF_FULL_CLI=1 always does.
// (a build without the bundle, e.g. tsc alone, takes the full CLI too)
// `topology up|down` likewise (src/topology/fast.ts).
async function main() {
  const [cmd, ...rest] = process.argv.slice(2)
  const fastPaths = {
    doctor: () => loadFast('doctor', 'doctorFast'),
    topology: () => (['up', 'down'].includes(rest[0]) ? loadFast('topology', 'topologyFast') : undefined),
  }
  const fast = !process.env.EBPFPERF_FULL_CLI && Object.hasOwn(fastPaths, cmd) ? fastPaths[cmd]() : undefined
  if (fast && (await fast.run(rest))) {
    fast.saveCodeCache()
    // done: once stdout and stderr are written out (to a pipe, a write can wait for its reader), the
    // process ends without thread joins or heap teardown (through the addon when the run loaded it)
    await Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write('', resolve))))
    await fast.exitNowIfLoaded(process.exitCode ?? 0)
    process.exit()
  }
  const {execute} = await import('@oclif/core')
  // no user-installed oclif plugins (ebpfperf has none to install): oclif would otherwise read
  // ~/.local/share/ebpfperf/package.json and print a two-line warning where HOME is unreadable (setpriv, sudo -u)
  await execute({loadOptions: {root, userPlugins: false}})
}

/**
 * The fast path of dist/DIR/fast.bundle.cjs (its `entry`, its exit, and saveCodeCache), compiled with the V8
 * code cache kept beside it (the functions a run compiled, written after the first run: ~20 ms of each later
 * start-up). undefined: no bundle.
 */
function loadFast(dir, entry) {
  const file = join(root, 'dist', dir, 'fast.bundle.cjs')
  let source
  try {
    source = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  const cacheFile = `${file.slice(0, -'.cjs'.length)}.${process.version}.cache`
  let cachedData
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    // the first run makes it
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {filename: file, cachedData})
  const module = {exports: {}}
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file))
  const stale = !cachedData || script.cachedDataRejected
  const {[entry]: run, exitNowIfLoaded} = module.exports
  return {run, exitNowIfLoaded, saveCodeCache: () => stale && saveCodeCache(script, cacheFile)}
}

/** Writes a script's code cache (whole or not at all; never in the way of the run). */
function saveCodeCache(script, cacheFile) {
  const tmp = `${cacheFile}.${process.pid}`
  try {
    writeFileSync(tmp, script.createCachedData())
    renameSync(tmp, cacheFile)
  } catch {
    rmSync(tmp, {force: true}) // a read-only install: run without the cache
  }
}

main()
