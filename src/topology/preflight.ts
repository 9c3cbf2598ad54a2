// Before touching the kernel: doctor's `topology` profile must say the machine can do it.
import {gatherFacts} from '../doctor/facts.js'
import {buildReport} from '../doctor/index.js'
import {loadProfile} from '../doctor/profile.js'
import {effectiveCaps, hasCap} from '../kernel/runtime.js'
import {PrivilegeError, RequirementError} from '../util/errors.js'

/** Checked before anything else is done (the topology's lock file, doctor's probes). */
export function requireTopologyPrivilege(command: string): void {
  const eff = effectiveCaps()
  if (!hasCap('CAP_NET_ADMIN', eff) || !hasCap('CAP_SYS_ADMIN', eff)) {
    throw new PrivilegeError(`${command} needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN to create and remove namespaces and links): run it with sudo`)
  }
}

export async function preflight(): Promise<void> {
  const profile = loadProfile('topology')
  const report = buildReport(await gatherFacts({live: true, system: false}, [profile]), [profile])
  const verdict = report.verdicts[0]
  if (verdict.verdict === 'cannot-run') {
    const fixes = report.findings.filter((f) => f.required && f.status === 'fail').flatMap((f) => f.fixes.map((x) => x.command ?? x.text))
    throw new RequirementError(`${verdict.text}${fixes.length > 0 ? ` — fix: ${fixes.join('; ')}` : ''} (ebpfperf doctor --profile topology)`)
  }
}
