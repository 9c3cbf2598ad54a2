// What the micro benches share: the repository root, `--name N` options, the checks before they start
// (root, the built BPF object, the built dist/), and the built modules they measure with.
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** The number after `--name` on the command line, or dflt. */
export function numberArg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : dflt
}

/** One line `BENCH: message` on stderr, exit 2. */
export function dieFor(bench) {
  return (msg) => {
    console.error(`${bench}: ${msg}`)
    process.exit(2)
  }
}

/** Checks root and the builds, then loads the addon: {object (path of bpf/.output/OBJECT), native, dist (import from dist/), die}. */
export async function microBench(bench, objectName) {
  const die = dieFor(bench)
  if (process.getuid?.() !== 0) die('needs root (BPF_PROG_TEST_RUN)')
  const object = join(root, 'bpf/.output', objectName)
  if (!existsSync(object)) die(`${object} is missing: run make -C bpf`)
  if (!existsSync(join(root, 'dist/native.js'))) die('dist/ is missing: run npm run build:ts')
  const dist = (path) => import(join(root, 'dist', path))
  const {loadNative} = await dist('native.js')
  return {object, native: loadNative(), dist, die}
}
