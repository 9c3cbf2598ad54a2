// The answer first for `suite micro`: per group of tests (the baseline program call, tail calls, maps,
// helpers) the cheapest and the dearest ns per operation, each buffer mechanism's best delivery rate, and the
// consumer processes of a --consumers run in the order the run can tell them apart.
// Built from the run's result cases (so the report can print it too); figures are the per-CPU means the table
// shows, averaged over the CPUs, and only of tests that passed.
import type {CaseResult, RunResult} from '../../results/store.js'
import {fmtQuantity, fmtRange} from '../../results/units.js'

interface TestFigure {
  name: string
  group: string
  ns: number
  cpus: number
  /** The 95% CI, when the test ran on one CPU (else each CPU has its own, in the table). */
  ci?: [number, number]
}

/** ns per op per test, from its per-CPU cases (tests with a group: buffer producers and latencies have none). */
function testFigures(cases: CaseResult[]): TestFigure[] {
  const byTest = new Map<string, CaseResult[]>()
  for (const c of cases) if (c.metric === 'ns_per_op' && typeof c.extra?.group === 'string') byTest.set(c.id, [...(byTest.get(c.id) ?? []), c])
  return [...byTest].flatMap(([name, cs]) => {
    const means = cs.map((c) => c.stats?.mean).filter((m): m is number => m !== undefined && Number.isFinite(m))
    if (cs.some((c) => c.status !== 'ok') || means.length === 0) return []
    const ns = means.reduce((a, m) => a + m, 0) / means.length
    const one = cs.length === 1 && cs[0].stats!.ci95.every(Number.isFinite) ? cs[0].stats!.ci95 : undefined
    return [{name, group: cs[0].extra!.group as string, ns, ci: one, cpus: means.length}]
  })
}

const figure = (t: TestFigure) => `${fmtQuantity(t.ns, 'ns')}${t.ci ? ` (95% CI ${fmtRange(t.ci[0], t.ci[1], 'ns')})` : ''}`

function groupPart(group: string, tests: TestFigure[]): string {
  if (tests.length === 1) return `${group}${tests[0].name === group ? '' : ` (${tests[0].name})`} ${figure(tests[0])}`
  const sorted = [...tests].sort((a, b) => a.ns - b.ns)
  const [low, high] = [sorted[0], sorted[sorted.length - 1]]
  return `${group} ${figure(low)} (${low.name}) to ${figure(high)} (${high.name})`
}

function bufferPart(cases: CaseResult[]): string[] {
  const best = new Map<string, CaseResult>()
  for (const c of cases.filter((x) => x.metric === 'delivered_events_per_second' && x.status === 'ok' && x.stats && x.params.consumer === undefined)) {
    const m = String(c.params.mechanism)
    if (!best.has(m) || best.get(m)!.stats!.mean < c.stats!.mean) best.set(m, c)
  }
  const names: Record<string, string> = {ringbuf: 'ring buffer', perfbuf: 'perf buffer'}
  return [...best].map(([m, c]) => `${names[m] ?? m} up to ${fmtQuantity(c.stats!.mean, 'event/s')} (${c.id})`)
}

/** Per buffer test, its consumer processes fastest first, tiers (what the run cannot tell apart) joined by commas, parted by `>`. */
function consumerPart(cases: CaseResult[]): string[] {
  const byTest = new Map<string, CaseResult[]>()
  for (const c of cases.filter((x) => x.params.consumer !== undefined && x.status === 'ok' && x.stats)) byTest.set(String(c.extra?.test), [...(byTest.get(String(c.extra?.test)) ?? []), c])
  return [...byTest].map(([test, cs]) => {
    const tierOf = (c: CaseResult) => Number(c.extra?.tier ?? Number.POSITIVE_INFINITY)
    const sorted = [...cs].sort((a, b) => tierOf(a) - tierOf(b) || b.stats!.mean - a.stats!.mean)
    const tiers = [...new Set(sorted.map(tierOf))].map((t) => sorted.filter((c) => tierOf(c) === t).map((c) => `${c.params.consumer} ${fmtQuantity(c.stats!.mean, 'event/s')}`).join(', '))
    return `${test}: ${tiers.join(' > ')}`
  })
}

/** One line for the programs' ns per operation, one for the buffers, one per test drained by consumer processes; a count of failed tests when any failed. */
export function microAnswer(run: RunResult): string[] {
  const tests = testFigures(run.cases)
  const groups = [...new Set(tests.map((t) => t.group))]
  const lines: string[] = []
  const cpus = Math.max(0, ...tests.map((t) => t.cpus))
  const over = cpus > 1 ? `, mean over ${cpus} CPUs; each CPU's 95% CI in the table` : ''
  if (groups.length > 0) lines.push(`ns per operation (BPF_PROG_TEST_RUN${over}): ${groups.map((g) => groupPart(g, tests.filter((t) => t.group === g))).join('; ')}.`)
  const buffers = bufferPart(run.cases)
  if (buffers.length > 0) lines.push(`Delivered events per second: ${buffers.join('; ')}.`)
  const consumers = consumerPart(run.cases)
  if (consumers.length > 0) lines.push('Delivered events per second by consumer, fastest first (consumers the run cannot tell apart, Welch p ≥ 0.05, share a place):', ...consumers)
  const failed = new Set(run.cases.filter((c) => c.status === 'failed').map((c) => c.id.split('/')[0])).size
  if (failed > 0) lines.push(`${failed} test${failed === 1 ? '' : 's'} failed (see below): no figure from ${failed === 1 ? 'it' : 'them'}.`)
  return lines
}
