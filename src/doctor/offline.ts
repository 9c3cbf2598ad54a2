// Another host's inputs, saved to files and judged here: its /proc/cmdline (--cmdline) and its
// `sysctl -a` (--sysctl); with --kconfig and --btf they are everything doctor reads of a kernel. Read
// before anything is probed, so that bad input changes nothing.
import {BadInputError} from '../util/errors.js'
import {readInput} from '../util/input.js'
import {readSysctl} from '../kernel/runtime.js'
import {cmdlineFindings, parseSysctlDump, sysctlFindings, type JudgedFinding} from './cmdline.js'
import type {Facts} from './facts.js'

export interface OfflineInputs {
  cmdline?: {text: string; source: string}
  sysctls?: {values: Map<string, string>; source: string}
}

export function readOfflineInputs(cmdlineFile?: string, sysctlFile?: string): OfflineInputs {
  const out: OfflineInputs = {}
  if (cmdlineFile) {
    const text = readInput(cmdlineFile, (r) => new BadInputError(`--cmdline ${cmdlineFile}: ${r}`), {maxBytes: 64 * 1024}).toString('utf8')
    if (!text.trim() || text.includes('\0')) throw new BadInputError(`--cmdline ${cmdlineFile}: not a kernel command line (save one with: cat /proc/cmdline > FILE)`)
    out.cmdline = {text: text.trim(), source: cmdlineFile}
  }
  if (sysctlFile) {
    const values = parseSysctlDump(readInput(sysctlFile, (r) => new BadInputError(`--sysctl ${sysctlFile}: ${r}`)).toString('utf8'))
    if (values.size === 0) throw new BadInputError(`--sysctl ${sysctlFile}: no "name = value" lines (save them with: sysctl -a > FILE)`)
    out.sysctls = {values, source: sysctlFile}
  }
  return out
}

/** Puts the saved inputs into the facts (they outrank this machine's), so the profiles' checks judge them. */
export function applyOfflineInputs(facts: Facts, inputs: OfflineInputs): void {
  if (inputs.cmdline) facts.cmdline = inputs.cmdline.text
  if (inputs.sysctls) for (const [k, v] of inputs.sysctls.values) facts.sysctls.set(k, v)
}

/** The command-line and sysctl findings: from the files, or live from this machine. */
export function judgedFindings(facts: Facts, inputs: OfflineInputs): JudgedFinding[] {
  const out: JudgedFinding[] = []
  const cmdline = inputs.cmdline ?? (facts.live && facts.cmdline ? {text: facts.cmdline, source: '/proc/cmdline'} : undefined)
  if (cmdline) out.push(...cmdlineFindings(cmdline.text, cmdline.source, facts.kconfig))
  if (inputs.sysctls) out.push(...sysctlFindings(inputs.sysctls.values, inputs.sysctls.source))
  else if (facts.live) {
    const live = new Map<string, string | undefined>(facts.sysctls)
    for (const n of ['kernel.ftrace_enabled', 'kernel.kptr_restrict']) live.set(n, readSysctl(n).value)
    out.push(...sysctlFindings(live, '/proc/sys'))
  }
  return out
}
