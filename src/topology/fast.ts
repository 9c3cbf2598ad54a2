// `ebpfperf topology up|down` without oclif: loading oclif and its command tree costs several times what
// `down` itself takes, and `up` is meant to take half a second. bin/run.js calls topologyFast() for
// `topology up|down …`; it takes the options the commands define (src/commands/topology/{up,down}.ts,
// same names, same output, same exit codes) and returns false for anything else (--help, an unknown or
// malformed option, a second positional), which the full CLI then handles.
import {parseArgs, type ParseArgsConfig} from 'node:util'
import {loadTopology, type Plan} from './model.js'
import {lockTopology} from '../util/lock.js'
import {downLocked, spanOf, upLocked, type DownResult, type UpResult} from './index.js'
import {span, timed, writeTiming} from '../doctor/timing.js'
import {preflight, requireTopologyPrivilege} from './preflight.js'
import {renderStatus, topologyStatus, type TopologyStatus} from './status.js'
import {makeChalk} from '../doctor/render.js'
import {errorLine, exitCodeFor} from '../util/errors.js'
// bin/run.js ends a finished fast command with it
export {exitNowIfLoaded} from '../native.js'

type Values = Record<string, string | boolean | undefined>

/** The options and the file argument when the fast path can take them, else undefined. */
export function fastTopologyArgs(sub: string | undefined, argv: string[]): {sub: 'up' | 'down'; file?: string; values: Values} | undefined {
  if (sub !== 'up' && sub !== 'down') return undefined
  const options: ParseArgsConfig['options'] = sub === 'up' ? {json: {type: 'boolean'}, dut: {type: 'string'}, verify: {type: 'boolean'}} : {json: {type: 'boolean'}, all: {type: 'boolean'}}
  let noVerify = false
  const rest = argv.filter((a) => !(sub === 'up' && a === '--no-verify' && (noVerify = true)))
  try {
    const {values, positionals} = parseArgs({args: rest, options, strict: true, allowPositionals: true})
    if (positionals.length > 1 || positionals.some((p) => p.startsWith('-'))) return undefined
    const v = values as Values
    if (noVerify && v.verify !== undefined) return undefined // --verify and --no-verify together
    if (v.dut !== undefined && v.dut !== 'netns' && v.dut !== 'host') return undefined // the full CLI names the choices
    return {sub, file: positionals[0], values: {...v, verify: noVerify ? false : (v.verify ?? true)}}
  } catch {
    return undefined // unknown option, missing value: the full CLI says what is wrong
  }
}

/** Runs `topology up|down` for argv (after "topology") and returns true, or false (nothing done) for the full CLI. */
export async function topologyFast(argv: string[]): Promise<boolean> {
  const a = fastTopologyArgs(argv[0], argv.slice(1))
  if (!a) return false
  span('start-up (node, this bundle)', 0)
  try {
    const io = plainIo(a.values.json === true)
    const result =
      a.sub === 'up'
        ? await topologyUpCommand(a.file, {dut: a.values.dut as string | undefined, verify: a.values.verify !== false}, io)
        : await topologyDownCommand(a.file, {all: a.values.all === true}, io)
    if (a.values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  } catch (error) {
    process.stderr.write(`${errorLine((error as Error).message)}\n`)
    process.exitCode = exitCodeFor(error)
  }
  // where the time went, for bench/topology-up-down.js (doctor's recorder: preflight's doctor phases show too)
  writeTiming({EBPFPERF_DOCTOR_TIMING: process.env.EBPFPERF_TOPOLOGY_TIMING})
  return true
}

/** Where a command's lines go: notes to stderr (also under --json), the rest to stdout. */
export interface CommandIo {
  note(line: string): void
  log(line: string): void
  json: boolean
}

const plainIo = (json: boolean): CommandIo => ({note: (l) => process.stderr.write(`${l}\n`), log: (l) => process.stdout.write(`${l}\n`), json})

/** `topology up` (src/commands/topology/up.ts and the fast path): brings it up, prints and returns the status. */
export async function topologyUpCommand(file: string | undefined, o: {dut?: string; verify: boolean}, io: CommandIo): Promise<TopologyStatus> {
  const plan = timed('topology file', () => loadTopology(file, {dut: (o.dut as 'netns' | 'host' | undefined) ?? 'netns'}))
  requireTopologyPrivilege('topology up') // before the lock file is opened beside the machine check
  // the machine check and the topology's lock at once (upLocked shares this hold); a failed check is the error
  const [pre, lock] = await Promise.allSettled([spanOf('preflight (doctor --profile topology)', () => preflight()), spanOf('lock', () => lockTopology(plan.name))])
  if (pre.status === 'rejected' || lock.status === 'rejected') {
    if (lock.status === 'fulfilled') await lock.value.release()
    throw pre.status === 'rejected' ? pre.reason : (lock as PromiseRejectedResult).reason
  }
  try {
    return await upHeld(plan, o, io)
  } finally {
    await lock.value.release()
  }
}

async function upHeld(plan: Plan, o: {verify: boolean}, io: CommandIo): Promise<TopologyStatus> {
  const t0 = performance.now()
  // the status is read and printed inside up's signal handling: an interrupt before it is printed removes the topology
  const read = async (result: UpResult) => ({st: {...(await spanOf('status', () => topologyStatus(plan, {details: false, seen: result.observed}))), changed: result.changed, verified: result.verified}, rebuilt: result.rebuilt})
  const print = ({st, rebuilt}: {st: TopologyStatus; rebuilt: string[]}) => {
    if (rebuilt.length > 0) io.note(`rebuilt because: ${rebuilt.join('; ')}`)
    if (!io.json) io.log(`${renderStatus(st, makeChalk())}\n  (${Math.round(performance.now() - t0)} ms)`)
  }
  return (await upLocked(plan, {verify: o.verify, onStep: (s) => io.note(`  ${s}`)}, read, print)).st
}

/** `topology down` (src/commands/topology/down.ts and the fast path); exit code 1 when something could not be removed. */
export async function topologyDownCommand(file: string | undefined, o: {all: boolean}, io: CommandIo): Promise<DownResult> {
  requireTopologyPrivilege('topology down')
  const topology = o.all ? undefined : timed('topology file', () => loadTopology(file).name)
  const res = await spanOf('down (lock held)', () => downLocked({topology, all: o.all}))
  if (!io.json) {
    const lines = [...res.removed.map((r) => `removed ${r}`), ...res.restored.map((r) => `restored ${r}`)]
    io.log(lines.length > 0 ? lines.join('\n') : `nothing to remove${topology ? ` for topology ${topology}` : ''}`)
    for (const l of res.leftAlone) io.log(`left alone: ${l}`)
  }
  for (const e of res.errors) io.note(`ebpfperf: ${e}`)
  if (res.errors.length > 0) process.exitCode = 1
  return res
}
