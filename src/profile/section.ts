// A profile folder (written by `ebpfperf profile --out DIR`) read back for `ebpfperf report`: its folded
// stacks drawn as a flame graph inside the report, beside what was profiled and where its results are.
import {existsSync, statSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {BadInputError} from '../util/errors.js'
import {MIB, readInput} from '../util/input.js'
import {bpfFrames, parseFolded, type Folded} from './fold.js'
import {FLAME_LEGEND, flameBlock, flameLibrary} from './flamegraph.js'

export const PROFILE_SCHEMA = 'ebpfperf/profile/v1'
/** profile.json beside stacks.folded: what was profiled and where its results went, for `ebpfperf report`. */
export interface ProfileAbout {
  schema: typeof PROFILE_SCHEMA
  command: string
  when: string
  frequency: number
  samples: number
  bpf: {name: string; samples: number}[]
  /** The suite's results folder, absolute. */
  results: string
}

export interface ProfileView {
  dir: string
  folded: Folded
  samples: number
  bpf: {name: string; samples: number}[]
  /** From profile.json when the folder has one (an older or hand-made folder may hold stacks.folded only). */
  about?: ProfileAbout
  /** The profiled run's results folder, when it exists. */
  results?: string
}

/** Folded stacks are a few MiB even for long runs; far larger is not one. */
const FOLDED_MAX_BYTES = 256 * MIB

/** Whether a path is a folder `ebpfperf profile` wrote (it holds stacks.folded). */
export const isProfileDir = (path: string): boolean => existsSync(join(path, 'stacks.folded')) && statSync(path).isDirectory()

function readAbout(file: string): ProfileAbout | undefined {
  if (!existsSync(file)) return undefined
  const fail = (reason: string) => new BadInputError(`${file}: ${reason}`)
  let doc: Partial<ProfileAbout>
  try {
    doc = JSON.parse(readInput(file, fail, {maxBytes: MIB}).toString('utf8'))
  } catch (error) {
    throw error instanceof BadInputError ? error : fail('not JSON (a truncated or foreign file?)')
  }
  if (doc?.schema !== PROFILE_SCHEMA || typeof doc.command !== 'string' || typeof doc.results !== 'string') throw fail(`not an ebpfperf profile description (expected schema ${PROFILE_SCHEMA})`)
  return doc as ProfileAbout
}

/** A profile folder read: every failure one line naming the file. */
export function loadProfileDir(path: string): ProfileView {
  const dir = resolve(path)
  if (!isProfileDir(dir)) throw new BadInputError(`${path}: no stacks.folded in this folder (give the folder written by ebpfperf profile --out DIR)`)
  const file = join(dir, 'stacks.folded')
  const fail = (reason: string) => new BadInputError(`${file}: ${reason}`)
  const folded = parseFolded(readInput(file, fail, {maxBytes: FOLDED_MAX_BYTES}).toString('utf8'), fail)
  const about = readAbout(join(dir, 'profile.json'))
  const results = about?.results ?? join(dir, 'results')
  return {dir, folded, samples: [...folded.values()].reduce((a, b) => a + b, 0), bpf: bpfFrames(folded), about, results: existsSync(results) ? results : undefined}
}

type Esc = (s: string) => string

function profileBlock(p: ProfileView, i: number, esc: Esc): string {
  const what = p.about ? `<code>${esc(p.about.command)}</code>, ${esc(p.about.when)}, perf record -g on the software clock event cpu-clock at ${p.about.frequency} Hz per CPU` : `stacks from ${esc(p.dir)}`
  const pct = (n: number) => ((100 * n) / Math.max(1, p.samples)).toFixed(1)
  const bpf = p.bpf.length
    ? `<ul>${p.bpf.map((b) => `<li><code>${esc(b.name)}</code>: on the stack in ${b.samples} of ${p.samples} samples (${pct(b.samples)}%)</li>`).join('')}</ul>`
    : '<p><b>No JITed BPF program (bpf_prog_…) in the stacks</b>: the kernel did not publish their symbols (net.core.bpf_jit_kallsyms) or the programs ran too briefly for a sample.</p>'
  const results = p.results ? `<p>The profiled run's results: <code>${esc(p.results)}</code>.</p>` : ''
  return `<section class="profile"><h3>${esc(p.dir)}</h3><p>${what}; ${p.samples} samples.</p>${results}${bpf}${FLAME_LEGEND}${flameBlock(p.folded, `flamegraph-${i}`)}</section>`
}

/** The report's CPU profile section: one flame graph per profile folder. */
export function profileSection(profiles: ProfileView[], esc: Esc): string {
  if (profiles.length === 0) return ''
  return `<h2 id="profiles">CPU profile</h2>
<p>Each box is a function, as wide as its share of the samples; callers below callees. Hover a box for its samples, click it to zoom in. The samples
cover the whole profiled command (loading, verifying and measuring), so the JITed BPF programs' share is of that, not of one test run.</p>
${flameLibrary()}
${profiles.map((p, i) => profileBlock(p, i, esc)).join('\n')}`
}
