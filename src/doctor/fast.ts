// `ebpfperf doctor` without oclif: loading oclif costs about as long as doctor's own work (~0.1 s of a
// ~0.2 s run), and doctor is the command people run first and scripts run often. bin/run.js calls
// doctorFast() for `doctor …`; it takes the common options (DOCTOR_FLAGS, the same table the oclif command
// is built from) and returns false for anything else (--help, --fix, --compare, an unknown or malformed
// option), which the full CLI then handles. Output, exit codes and errors are the command's own.
import {performance} from 'node:perf_hooks'
import {parseArgs, type ParseArgsConfig} from 'node:util'
import {DOCTOR_FLAGS, type FlagSpec} from './flags.js'
import {runDoctor} from './index.js'
import {errorLine, exitCodeFor} from '../util/errors.js'
import {span, timed, writeTiming} from './timing.js'
// bin/run.js ends a finished fast command with it
export {exitNowIfLoaded} from '../native.js'

/** The parseArgs options for the fast path's flags (every --no-X form handled before parsing). */
function parseOptions(): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = {json: {type: 'boolean'}}
  for (const [name, f] of Object.entries(DOCTOR_FLAGS) as [string, FlagSpec][]) {
    if (f.fullCliOnly) continue
    out[name] = {type: f.type, ...(f.char ? {short: f.char} : {}), ...(f.multiple ? {multiple: true} : {})}
  }
  return out
}

/** The options when the fast path can take `argv` (doctor's arguments), else undefined. */
export function fastDoctorArgs(argv: string[]): {json: boolean; profile?: string[]; kconfig?: string; btf?: string; live: boolean; verbose: boolean} | undefined {
  const noForms = new Set((Object.entries(DOCTOR_FLAGS) as [string, FlagSpec][]).filter(([, f]) => f.allowNo && !f.fullCliOnly).map(([n]) => `--no-${n}`))
  const negated = new Set<string>()
  const rest: string[] = []
  for (const a of argv) {
    if (a === '--') return undefined
    if (noForms.has(a)) negated.add(a.slice(5))
    else rest.push(a)
  }
  let values: Record<string, string | boolean | string[] | undefined>
  try {
    ;({values} = parseArgs({args: rest, options: parseOptions(), strict: true, allowPositionals: false}) as {values: Record<string, string | boolean | string[] | undefined>})
  } catch {
    return undefined // unknown option, missing value, a positional: the full CLI says what is wrong
  }
  for (const n of negated) if (values[n] !== undefined) return undefined // --live and --no-live together
  return {
    json: values.json === true,
    profile: values.profile as string[] | undefined,
    kconfig: values.kconfig as string | undefined,
    btf: values.btf as string | undefined,
    live: negated.has('live') ? false : ((values.live as boolean | undefined) ?? DOCTOR_FLAGS.live.default),
    verbose: values.verbose === true,
  }
}

/** Runs doctor for `argv` and returns true, or returns false (nothing done) when the full CLI must. */
export async function doctorFast(argv: string[]): Promise<boolean> {
  // start-up: node's own bootstrap, then loading bin/run.js and this bundle
  const booted = performance.nodeTiming.bootstrapComplete
  span('start-up: node', 0, booted)
  span('start-up: modules', booted)
  const flags = fastDoctorArgs(argv)
  if (!flags) return false
  try {
    const report = await runDoctor({profiles: flags.profile, kconfig: flags.kconfig, btf: flags.btf, live: flags.live})
    // as oclif's --json prints a command's result, and its log() a line
    // (a write to a pipe or file is synchronous on Linux: the phase includes it)
    // the terminal renderer (and chalk, which loads node:tty) only when it is used
    const render = flags.json ? undefined : (await import('./render.js')).renderReport
    timed('output', () => process.stdout.write(render ? `${render(report, {verbose: flags.verbose})}\n` : `${JSON.stringify(report, null, 2)}\n`))
    process.exitCode = report.exitCode
  } catch (error) {
    process.stderr.write(`${errorLine((error as Error).message)}\n`)
    process.exitCode = exitCodeFor(error)
  }
  writeTiming()
  return true
}
