// Hostile inputs shared by the hostile-* tests: a valid result document to break, a gzip bomb, a named pipe.
import {execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {gzipSync} from 'node:zlib'
import {RESULT_SCHEMA, type RunResult} from '../../src/results/store.js'
import {summarize} from '../../src/results/stats.js'

export const ENV = {kernel: {release: '6.18.0'}, machine: 'x86_64', hostname: 'h', cpu: {model: 'cpu', count: 2}, virtualized: true, jit: {enable: '1', harden: '0'}, versions: {ebpfperf: '0.1.0', node: '20'}}

/** A well-formed result with `n` cases whose samples sit around `mean`. */
export function validResult(started = '2026-11-01T00:00:00Z', mean = 10, n = 2): RunResult {
  const cases = Array.from({length: n}, (_, i) => {
    const samples = [0.99, 1, 1.01, 1.02, 0.98].map((f) => f * mean * (i + 1))
    return {id: `case${i}`, params: {cpu: i}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status: 'ok' as const, samples, stats: summarize(samples)}
  })
  return {schema: RESULT_SCHEMA, suite: 'micro', started, complete: true, command: 'ebpfperf suite micro --quick', environment: structuredClone(ENV) as RunResult['environment'], cases}
}

/**
 * A gzip bomb of about `mib` MiB that inflates ~1000-fold: one 64 MiB run of zeros compressed once, its gzip
 * member repeated (gunzip reads concatenated members as one stream), so building it costs a fraction of a second.
 */
export function writeGzipBomb(path: string, mib = 9): number {
  const member = gzipSync(Buffer.alloc(64 * 1024 * 1024), {level: 9})
  const copies = Math.ceil((mib * 1024 * 1024) / member.length)
  writeFileSync(path, Buffer.concat(Array.from({length: copies}, () => member)))
  return copies * member.length
}

/** A named pipe at `path` (mkfifo), nobody writing to it: a reader that opens it would wait forever. */
export function makeFifo(path: string): string {
  execFileSync('mkfifo', [path])
  return path
}

/** One line on stderr, `ebpfperf: …`, naming `name` (no stack trace, no second line). */
export const ONE_LINE = (name: string | RegExp) => new RegExp(`^ebpfperf: [^\\n]*${typeof name === 'string' ? name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') : name.source}[^\\n]*\\n$`)
