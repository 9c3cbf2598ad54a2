#!/usr/bin/env node
// Build step: dist/doctor/fast.js and everything it imports as one CommonJS file (dist/doctor/fast.bundle.cjs),
// which bin/run.js loads for a plain `ebpfperf doctor`: one file parses and links about twice as fast as the
// ~40 modules it is made of, and doctor is meant to take no longer than `bpftool feature probe`.
// Likewise dist/topology/fast.bundle.cjs for `topology up|down` (meant to take half a second and less).
// CommonJS, not an ES module: bin/run.js compiles it with V8's code cache (see loadFast there), and what the
// fast path needs only sometimes (the terminal renderer and its node:tty, node:child_process) is required
// where it is first used instead of at load. The native addon and js-yaml stay outside (loaded at run time).
import {buildSync} from 'esbuild'
import {readdirSync, rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
for (const dir of ['doctor', 'topology']) {
  const out = join(root, 'dist', dir)
  // a code cache belongs to the bundle it was made from: the new bundle makes its own on its first run
  for (const f of readdirSync(out)) if (f.startsWith('fast.bundle.') && f.endsWith('.cache')) rmSync(join(out, f))
  buildSync({
    entryPoints: [join(out, 'fast.js')],
    outfile: join(out, 'fast.bundle.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['js-yaml'],
    // the modules find the package (profiles, the addon) from their own URL; bundled, from the bundle's
    define: {'import.meta.url': '__ebpBundleUrl'},
    banner: {js: "const __ebpBundleUrl = require('node:url').pathToFileURL(__filename).href;"},
    logLevel: 'warning',
  })
}
