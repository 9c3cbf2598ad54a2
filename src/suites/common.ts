// What every suite shares: doctor's gate, the run document, interleaved repetitions, saving results.
import {Flags} from '@oclif/core'
import {gatherFacts} from '../doctor/facts.js'
import {buildReport, type DoctorReport} from '../doctor/index.js'
import {loadProfile} from '../doctor/profile.js'
import type {Verdict} from '../doctor/evaluate.js'
import {fingerprint} from '../results/fingerprint.js'
import {RESULT_SCHEMA, saveResult, type CaseResult, type RunResult} from '../results/store.js'
import {summarize} from '../results/stats.js'
import {PrivilegeError, RequirementError} from '../util/errors.js'
import {checkOutputDir} from '../util/output.js'
import {effectiveCaps, hasCap} from '../kernel/runtime.js'
import {loadNative} from '../native.js'

/** Enough privilege to run a suite at all (CAP_SYS_ADMIN or CAP_BPF). */
function maySuite(): boolean {
  const eff = effectiveCaps()
  return hasCap('CAP_SYS_ADMIN', eff) || hasCap('CAP_BPF', eff)
}

/** Not root (no CAP_SYS_ADMIN or CAP_BPF) → PrivilegeError (exit 3): checked before a suite changes anything. */
export function requireSuitePrivilege(suite: string): void {
  if (!maySuite()) throw new PrivilegeError(`suite ${suite} needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN): run it with sudo`)
}

/** Flags every `suite` command takes. */
export const suiteFlags = {
  quick: Flags.boolean({description: 'a small grid that finishes in under a minute (CI, first contact)'}),
  repeat: Flags.integer({min: 1, max: 1000, description: 'repetitions per case (interleaved across configurations)'}),
  // checked while the flags are parsed, before any measuring: a file or device there is refused (exit 2);
  // its permissions only for a user suiteGate lets through (anyone else hears "needs root", exit 3)
  out: Flags.string({default: async () => checkOutputDir('results', '--out results', {writable: maySuite()}), defaultHelp: 'results', parse: async (dir) => checkOutputDir(dir, dir, {writable: maySuite()}), description: 'directory for the result files (JSON + CSV)'}),
}

export interface Gate {
  report: DoctorReport
  verdict: Verdict
  /** Why a case of this suite is skipped here (doctor's words), by case name from the profile. */
  skipped: Map<string, string>
}

/**
 * Doctor's verdict for the suite's profile, live. Cannot run → RequirementError (exit 4) with the
 * blockers; not root → PrivilegeError (exit 3). Otherwise the cases the kernel cannot run, with reasons.
 */
export async function suiteGate(profileName: string): Promise<Gate> {
  requireSuitePrivilege(profileName)
  const profile = loadProfile(profileName)
  const report = buildReport(await gatherFacts({live: true, system: false}, [profile]), [profile])
  const verdict = report.verdicts[0]
  if (verdict.verdict === 'cannot-run') throw new RequirementError(`${verdict.text} (see: ebpfperf doctor --profile ${profileName})`)
  return {report, verdict, skipped: new Map(verdict.skipped.map((s) => [s.case, s.because]))}
}

/** A run document with the environment fingerprint; cases are added as they are measured. */
export async function newRun(suite: string, argv: string[]): Promise<RunResult> {
  let libbpf: string | undefined
  try {
    libbpf = loadNative().libbpfVersion()
  } catch {
    // no addon: the fingerprint says so by leaving it out
  }
  return {
    schema: RESULT_SCHEMA,
    suite,
    started: new Date().toISOString(),
    complete: false,
    command: ['ebpfperf', 'suite', suite, ...argv].join(' '),
    environment: await fingerprint({libbpf}),
    cases: [],
  }
}

/** A finished case: samples plus their summary (a case with no samples is failed, never "ok"). */
export function measuredCase(c: Omit<CaseResult, 'stats' | 'status'> & {status?: CaseResult['status']}): CaseResult {
  if (c.samples.length === 0) return {...c, status: c.status === 'skipped' ? 'skipped' : 'failed', reason: c.reason ?? 'no samples'}
  return {...c, status: c.status ?? 'ok', stats: summarize(c.samples)}
}

/**
 * Repetition order for configurations A, B, C: warm-up rounds first (not counted), then A B C A B C …
 * so that drift over the run touches every configuration alike.
 */
export function interleaved<T>(configs: T[], repeat: number, warmup = 1): {config: T; rep: number; warmup: boolean}[] {
  const out: {config: T; rep: number; warmup: boolean}[] = []
  for (let w = 0; w < warmup; w++) for (const config of configs) out.push({config, rep: -1 - w, warmup: true})
  for (let rep = 0; rep < repeat; rep++) for (const config of configs) out.push({config, rep, warmup: false})
  return out
}

/** Marks the run finished (or not, when interrupted) and writes JSON + CSV atomically. */
export function finishRun(run: RunResult, outDir: string, csv: string, complete: boolean): {json: string; csv: string} {
  run.finished = new Date().toISOString()
  run.complete = complete
  return saveResult(run, outDir, csv)
}
