// A CPU profile of one ebpfperf command: `perf record -g` on a software clock event (a VM often has no
// hardware PMU) follows the command and its threads, where BPF_PROG_TEST_RUN runs the programs; the
// stacks are folded and drawn as a flame graph. JITed programs appear as bpf_prog_<tag>_<name> when the
// kernel publishes their symbols (net.core.bpf_jit_kallsyms=1).
import {mkdirSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {run, start, which} from '../exec.js'
import {readText} from '../kernel/runtime.js'
import {writeAtomic} from '../results/store.js'
import {BadInputError} from '../util/errors.js'
import {bpfFrames, foldedText, foldPerfScript} from './fold.js'
import {flamePage} from './flamegraph.js'
import {PROFILE_SCHEMA, type ProfileAbout} from './section.js'

export interface ProfileOutcome {
  command: string
  exitCode: number // the profiled command's
  samples: number
  bpf: {name: string; samples: number}[]
  files: {perfData: string; folded: string; html: string; about: string; results: string}
  output: {stdout: string; stderr: string}
}


/** Why perf cannot profile BPF programs here (one line), or undefined. */
export async function perfProblem(sysctl = (name: string) => readText(`/proc/sys/${name}`)?.trim()): Promise<string | undefined> {
  const perf = which('perf')
  if (!perf) return 'perf is not installed: apt-get install linux-perf (Debian) or linux-tools-$(uname -r) (Ubuntu)'
  const probe = await run(perf, ['record', '-q', '-e', 'cpu-clock', '-o', '/dev/null', '--', 'true'], {timeoutMs: 30_000})
  if (probe.failed) {
    const why = probe.stderr.split('\n').find((l) => l.trim())?.trim() ?? `exit ${probe.exitCode}`
    return `perf cannot sample here (${why}; kernel.perf_event_paranoid is ${sysctl('kernel/perf_event_paranoid') ?? 'unknown'}): run as root, or lower kernel.perf_event_paranoid`
  }
  const paranoid = sysctl('kernel/perf_event_paranoid')
  if (process.getuid?.() !== 0 && Number(paranoid) > 1) return `kernel.perf_event_paranoid is ${paranoid}: perf would see user space only, not the kernel stacks the BPF programs run in; run as root, or sysctl -w kernel.perf_event_paranoid=1`
  if (sysctl('net/core/bpf_jit_enable') === '0') return 'net.core.bpf_jit_enable is 0: BPF programs are interpreted, so no bpf_prog_ frame can appear; sysctl -w net.core.bpf_jit_enable=1'
  const kallsyms = sysctl('net/core/bpf_jit_kallsyms')
  if (kallsyms !== '1') return `net.core.bpf_jit_kallsyms is ${kallsyms ?? 'missing'}: the kernel does not publish the JITed programs' symbols (bpf_prog_…), so a profile cannot name them; sysctl -w net.core.bpf_jit_kallsyms=1`
  if (sysctl('kernel/kptr_restrict') === '2') return 'kernel.kptr_restrict is 2: kernel symbols are hidden even from root, so the stacks would be addresses; sysctl -w kernel.kptr_restrict=1'
  return undefined
}

/** The ebpfperf words to profile: a suite command, with --out into the profile folder unless given. */
export function profiledArgs(words: string[], out: string): string[] {
  const args = words[0] === 'ebpfperf' ? words.slice(1) : words
  if (args.length === 0) throw new BadInputError('give the command to profile after --, e.g. ebpfperf profile -- suite micro --quick --test hash_1k_read')
  if (args[0] !== 'suite') throw new BadInputError(`${args[0]}: profile runs an ebpfperf suite (ebpfperf profile -- suite micro …)`)
  return args.some((a) => a === '--out' || a.startsWith('--out=')) ? args : [...args, '--out', join(out, 'results')]
}

/** Runs the command under perf record, then folds and draws the stacks into `out`. */
export async function profile(words: string[], opts: {out: string; frequency: number}): Promise<ProfileOutcome> {
  const out = resolve(opts.out)
  const args = profiledArgs(words, out)
  const problem = await perfProblem()
  if (problem) throw new BadInputError(problem)
  mkdirSync(out, {recursive: true})
  const outAt = args.findIndex((a) => a === '--out' || a.startsWith('--out='))
  const results = resolve((args[outAt].startsWith('--out=') ? args[outAt].slice(6) : args[outAt + 1]) ?? join(out, 'results')) // the suite refuses a bare --out
  const files = {perfData: join(out, 'perf.data'), folded: join(out, 'stacks.folded'), html: join(out, 'flamegraph.html'), about: join(out, 'profile.json'), results}
  const perf = which('perf')!
  const self = [process.execPath, process.argv[1]]
  const rec = await (await start(perf, ['record', '-q', '-g', '-e', 'cpu-clock', '-F', String(opts.frequency), '-o', files.perfData, '--', ...self, ...args])).done
  const script = await run(perf, ['script', '--no-inline', '-i', files.perfData, '-F', 'comm,tid,time,ip,sym,dso'], {timeoutMs: 600_000})
  if (script.failed) throw new Error(`perf script -i ${files.perfData}: ${script.stderr.split('\n')[0]}`)
  const folded = foldPerfScript(script.stdout)
  const samples = [...folded.values()].reduce((a, b) => a + b, 0)
  const bpf = bpfFrames(folded)
  const command = `ebpfperf ${args.join(' ')}`
  const when = new Date().toISOString()
  writeAtomic(files.folded, foldedText(folded))
  writeAtomic(files.html, flamePage(folded, {command, samples, bpf, when}))
  const about: ProfileAbout = {schema: PROFILE_SCHEMA, command, when, frequency: opts.frequency, samples, bpf, results}
  writeAtomic(files.about, `${JSON.stringify(about, null, 1)}\n`)
  return {command, exitCode: rec.exitCode, samples, bpf, files, output: {stdout: rec.stdout, stderr: rec.stderr}}
}
