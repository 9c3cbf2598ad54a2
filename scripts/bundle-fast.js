#!/usr/bin/env node
// Build step: dist/doctor/fast.js and everything it imports as one file (dist/doctor/fast.bundle.js, with
// chunks for what it loads on demand), which
// bin/run.js loads for a plain `ebpfperf doctor`: one file parses and links about twice as fast as the
// ~40 modules it is made of, and doctor is meant to take no longer than `bpftool feature probe`.
// Likewise dist/topology/fast.bundle.js for `topology up|down` (meant to take half a second and less).
// The native addon and js-yaml stay outside (loaded at run time by path / on first use).
import {buildSync} from 'esbuild'
import {dirname, join} from 'node:path'
import {rmSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
for (const dir of ['doctor', 'topology']) {
  rmSync(join(root, `dist/${dir}/chunks`), {recursive: true, force: true}) // chunks of earlier builds
  buildSync({
  entryPoints: {'fast.bundle': join(root, `dist/${dir}/fast.js`)},
  outdir: join(root, `dist/${dir}`),
  // what the fast path imports only on demand (doctor's terminal renderer, --object's ELF reader) goes
  // to chunks of its own, with the node modules it needs (node:tty, node:child_process) loaded with it
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['js-yaml'],
  // CommonJS dependencies inside an ES module bundle need a require()
  banner: {js: "import {createRequire as __ebpCreateRequire} from 'node:module';const require = __ebpCreateRequire(import.meta.url);"},
  logLevel: 'warning',
})
}
