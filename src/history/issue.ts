// The text of an issue for the regressions a comparison found: a title line, a blank line, a markdown
// body. Each case carries a hidden marker (<!-- ebpfperf:case=… -->) so a CI workflow can find the open
// issue of a case and update it instead of opening a duplicate.
import {dirname} from 'node:path'
import {renderComparison} from '../results/compare-render.js'
import type {CaseComparison, Comparison} from '../results/compare.js'
import {loadResult, type RunResult} from '../results/store.js'
import {fmtNum, fmtPct} from '../results/table.js'
import {abCommits} from './gate.js'
import {commitOfFile, parseHistoryPath} from './layout.js'

/** The hidden marker of a case: stable across runs (suite, id and the parameters that tell it apart). */
export const caseMarker = (c: {label: string}): string => `<!-- ebpfperf:case=${c.label.replace(/-{2,}/g, '-').replace(/>/g, '')} -->`

/** The cases an issue is about: significant regressions (gated or not) and failed candidate cases. */
export const issueCases = (cmp: Comparison): CaseComparison[] => cmp.cases.filter((c) => c.verdict === 'regression' || (c.gate && c.verdict === 'failed'))

const ci = (r: [number, number] | undefined) => (r && Number.isFinite(r[0]) ? `[${fmtPct(r[0])}, ${fmtPct(r[1])}]` : 'none')
const side = (s: {n: number; mean: number; sd: number}, unit: string, what: string) => `${fmtNum(s.mean)} ${unit} (sd ${fmtNum(s.sd)}, ${s.n} ${what})`

function caseSection(c: CaseComparison, cmp: Comparison): string[] {
  const what = cmp.method === 'paired A/B' ? 'samples' : 'samples over the runs'
  const limit = fmtPct(cmp.threshold).slice(1)
  const corrected = `corrected for the ${cmp.cases.length} cases: ${ci(c.gateCi)}`
  const outcome = c.gate ? `fails the gate (larger than ${limit}, significant with the interval ${corrected})` : cmp.gated ? `does not fail the gate (not larger than ${limit}, or not significant with the interval ${corrected})` : 'reported, not gated'
  return [
    caseMarker(c),
    `### ${c.label}`,
    '',
    `- Base: ${side(c.base, c.unit, what)}`,
    `- Candidate: ${side(c.candidate, c.unit, what)}`,
    `- Change: ${Number.isFinite(c.relative) ? fmtPct(c.relative) : 'none'}, 95% CI ${ci(c.relativeCi95)}, p ${Number.isFinite(c.p) ? (c.p < 0.001 ? '< 0.001' : c.p.toFixed(3)) : 'none'} (${c.higherIsBetter ? 'higher' : 'lower'} ${c.metric} is better)`,
    `- Verdict: **${c.verdict}**, ${outcome}${c.note ? ` (${c.note})` : ''}`,
    '',
  ]
}

const shortCommit = (file: string) => commitOfFile(file) ?? 'not recorded'

/** The candidate's commit and the Commits section: an A/B run names both of its sides, else the runs' file names do. */
function commitLines(cmp: Comparison, run: RunResult, candidate: string): {candidate: string; lines: string[]} {
  if (cmp.method !== 'paired A/B') {
    const commit = shortCommit(candidate)
    return {candidate: commit, lines: [`- Candidate: ${commit} (${candidate})`, `- Base: ${[...new Set(cmp.base.map(shortCommit))].join(', ')} (${cmp.base.length} run(s))`]}
  }
  const c = abCommits(run, candidate)
  const from = (side: 'base' | 'candidate') => run.ab?.[side].from ?? (side === 'base' ? 'A' : 'B')
  const lines = [`Commits: base ${c.base} → candidate ${c.candidate} (both measured in one A/B run, ${candidate})`, '', `- Base (A): ${c.base}, objects from ${from('base')}`, `- Candidate (B): ${c.candidate}, objects from ${from('candidate')}`]
  return {candidate: c.candidate, lines}
}

/** The suite command narrowed to one case (micro: --test ID), without --out, for profiling it. */
export function caseCommand(run: RunResult, c: CaseComparison): string {
  const words = run.command.split(/\s+/).filter(Boolean)
  const kept: string[] = []
  for (let i = 0; i < words.length; i++) {
    if (words[i] === '--out' || (run.suite === 'micro' && words[i] === '--test')) i++
    else if (!/^--(out|test)=/.test(words[i]) || (run.suite !== 'micro' && words[i].startsWith('--test='))) kept.push(words[i])
  }
  if (run.suite === 'micro') kept.push('--test', c.id)
  return kept.join(' ')
}

function environmentLines(run: RunResult): string[] {
  const e = run.environment
  return [
    `- Kernel ${e.kernel.release}${e.kernel.configHash ? ` (config ${e.kernel.configHash})` : ''}; JIT enable ${e.jit.enable ?? '?'}, harden ${e.jit.harden ?? '?'}, kallsyms ${e.jit.kallsyms ?? '?'}`,
    `- Machine ${e.hostname}: ${e.cpu.count}× ${e.cpu.model}${e.virtualized ? ', virtualized' : ''}`,
    `- ebpfperf ${e.versions.ebpfperf}, node ${e.versions.node}${e.versions.libbpf ? `, libbpf ${e.versions.libbpf}` : ''}${e.versions.clang ? `, clang ${e.versions.clang}` : ''}`,
  ]
}

/** The command that compares again: the branch folder when the candidate came from one. */
function compareCommand(cmp: Comparison, candidate: string): string {
  const p = parseHistoryPath(candidate.replace(/^git:[^:]+:/, ''))
  if (p && candidate.startsWith('git:')) return `ebpfperf compare --history ${candidate.split(':').slice(0, 2).join(':')}:${p.suite}/${p.machine}/${p.kernel}`
  if (cmp.method === 'history') return `ebpfperf compare --history ${dirname(candidate)}`
  if (cmp.method === 'paired A/B') return `ebpfperf compare ${candidate}`
  return `ebpfperf compare ${cmp.base.join(' ')} -- ${cmp.candidate.split(', ').join(' ')}`
}

/**
 * Title and body of an issue for the regressions in `cmp`; '' when there is none. `file` names the
 * comparison's candidate file as it can still be read (a copy out of a results branch), `label` as shown.
 */
export function issueText(cmp: Comparison, read: {file: string; label?: (file: string) => string}): string {
  const cases = issueCases(cmp)
  if (cases.length === 0) return ''
  const run = loadResult(read.file)
  const label = read.label ?? ((f: string) => f)
  const candidate = label(read.file)
  const commits = commitLines(cmp, run, candidate)
  const commit = commits.candidate
  const first = cases[0]
  const title = `Performance regression${cases.length > 1 ? ` in ${cases.length} cases` : ''}: ${first.label} ${Number.isFinite(first.relative) ? fmtPct(first.relative) : first.verdict}${cases.length > 1 ? ' and more' : ''}${commit === 'not recorded' ? '' : ` at ${commit}`}`
  const body = [
    `ebpfperf found ${cases.length} significant regression(s) in suite ${run.suite} (method: ${cmp.method}; ${cmp.gated ? `gate: ${cmp.regressions} case(s) beyond ${fmtPct(cmp.threshold).slice(1)}` : 'not gated'}).`,
    '',
    ...cases.flatMap((c) => caseSection(c, cmp)),
    '## Commits',
    '',
    ...commits.lines,
    '',
    '## Environment (candidate run)',
    '',
    ...environmentLines(run),
    '',
    '## Reproduce',
    '',
    '```sh',
    `git checkout ${commit === 'not recorded' ? '<the candidate commit>' : commit}`,
    run.command.replace(/\s--out(=|\s+)\S+/, ''),
    compareCommand(cmp, candidate),
    '```',
    '',
    '## Profile the regressed case (CPU flame graph, bpf_prog_ frames included)',
    '',
    '```sh',
    ...cases.filter((c, i) => cases.findIndex((x) => x.id === c.id) === i).map((c) => `ebpfperf profile --out profile-${c.id.replace(/[^\w.-]/g, '_')} -- ${caseCommand(run, c).replace(/^ebpfperf\s+/, '')}`),
    '```',
    '',
    '<details><summary>Every case compared</summary>',
    '',
    renderComparison(cmp, 'markdown'),
    '',
    '</details>',
  ]
  return [title, '', ...body].join('\n')
}
