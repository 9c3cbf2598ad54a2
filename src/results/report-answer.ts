// The answer at the top of a report, rebuilt from a result file's cases (the suite's own objects are gone by
// then). For tracing results, the ns per event per attach type as the table's verdicts allow; for accelerator results, per frame size each fast path's frame rate as a multiple of kernel
// forwarding with its 95% CI, only as strong as the recorded verdict, and whether the generator could have
// gone faster; per iperf3 point the goodput verdict against the kernel as the table states it.
import type {CaseResult, RunResult} from './store.js'
import {fmtQuantity, fmtRange} from './units.js'
import {microAnswer} from '../suites/micro/answer.js'
import {appAnswerFromRun} from '../suites/app/render.js'

interface RatioRecord {
  ratio: number
  ratioCi95: [number, number]
  significant: boolean
}

const THROUGHPUT = /^frames\/([^/]+)\/(\d+)B\/throughput$/
const GENERATOR = 'generator'
/** The generator alone must reach this multiple of the best path (the suite's own rule, GENERATOR_HEADROOM). */
const HEADROOM = 1.5
const times = (v: number) => `${v.toFixed(v >= 10 ? 0 : v >= 1 ? 1 : 2)}×`

function ratioOf(c: CaseResult): RatioRecord | undefined {
  const r = c.extra?.vsKernel as Partial<RatioRecord> | undefined
  const ci = r?.ratioCi95
  if (!r || typeof r.ratio !== 'number' || !Array.isArray(ci) || ci.length !== 2 || typeof r.significant !== 'boolean') return undefined
  if (![r.ratio, ...ci].every((v) => typeof v === 'number' && Number.isFinite(v))) return undefined
  return r as RatioRecord
}

function pathSentence(c: CaseResult, mode: string): string {
  const name = mode.toUpperCase()
  if (c.status !== 'ok') return `${name}: no answer (${c.status}${c.reason ? `: ${c.reason}` : ''})`
  const r = ratioOf(c)
  if (!r) return `${name}: not compared with the kernel`
  const ci = `95% CI ${times(r.ratioCi95[0])}–${times(r.ratioCi95[1])}`
  return r.significant ? `${name} forwarded ${times(r.ratio)} (${ci}) the frames of kernel forwarding` : `${name}: no difference from the kernel could be told from noise (${times(r.ratio)}, ${ci})`
}

function generatorSentence(here: {mode: string; c: CaseResult}[]): string {
  const bound = here.find((x) => typeof x.c.extra?.bottleneck === 'string')
  if (bound) return `GENERATOR-BOUND: ${bound.c.extra!.bottleneck as string}`
  const gen = here.find((x) => x.mode === GENERATOR)?.c.stats?.mean
  const best = Math.max(0, ...here.filter((x) => x.mode !== GENERATOR && x.c.status === 'ok').map((x) => x.c.stats?.mean ?? 0))
  if (gen === undefined) return 'the generator alone was not measured'
  if (!(best > 0) || gen < HEADROOM * best) return `the generator alone reached ${fmtQuantity(gen, 'frame/s')}, under ${HEADROOM}× the best path's ${fmtQuantity(best, 'frame/s')}`
  return `generator not the bottleneck (alone ${fmtQuantity(gen, 'frame/s')}, ${times(gen / best)} the best path)`
}

/** One line per frame size of the live-frames tests. */
function frameLines(run: RunResult): string[] {
  const bySize = new Map<number, {mode: string; c: CaseResult}[]>()
  for (const c of run.cases) {
    const m = THROUGHPUT.exec(c.id)
    if (m) bySize.set(Number(m[2]), [...(bySize.get(Number(m[2])) ?? []), {mode: m[1], c}])
  }
  return [...bySize]
    .sort(([a], [b]) => a - b)
    .flatMap(([size, here]) => {
      const paths = here.filter((x) => x.mode !== GENERATOR && x.mode !== 'kernel').map((x) => pathSentence(x.c, x.mode))
      if (paths.length === 0 && !here.some((x) => x.mode === 'kernel')) return []
      return [`At ${size} B: ${[...paths, generatorSentence(here)].join('; ')}.`]
    })
}

/** iperf3 goodput: each mode's verdict against the kernel at each point, as recorded (Welch's test). */
function goodputLines(run: RunResult): string[] {
  const parts = run.cases
    .filter((c) => c.metric === 'receiver_bits_per_second' && c.params.mode !== 'kernel')
    .map((c) => {
      const text = (c.extra?.vsKernel as {text?: unknown} | undefined)?.text
      const where = typeof c.extra?.point === 'string' ? c.extra.point : c.id.replace(/\/bitrate$/, '')
      const verdict = c.status !== 'ok' ? `no answer (${c.status})` : typeof text === 'string' ? text : 'not compared with the kernel'
      const bottleneck = typeof c.extra?.bottleneck === 'string' ? `; limited by ${c.extra.bottleneck}` : ''
      return `${String(c.params.mode).toUpperCase()} at ${where}: ${verdict}${bottleneck}`
    })
  return parts.length > 0 ? [`iperf3 goodput against kernel forwarding — ${parts.join('; ')}.`] : []
}

/**
 * Tracing: per body, the ns an event adds per attach type (bpf_stats off) where the recorded verdict is that
 * figure (it is signed only when the CI is clear of 0 and nothing made it doubtful), else the verdict.
 */
function tracingLines(run: RunResult): string[] {
  const events = run.cases.filter((c) => c.metric === 'ns_added_per_event' && c.params.stats === 'off')
  const bodies = [...new Set(events.map((c) => String(c.params.body)))]
  return bodies.map((body) => {
    const parts = events
      .filter((c) => String(c.params.body) === body)
      .map((c) => {
        const verdict = typeof c.extra?.verdict === 'string' ? c.extra.verdict : c.reason ?? c.status
        const s = c.stats
        const figure = c.status === 'ok' && s && /^[+-]\d/.test(verdict) && s.ci95.every(Number.isFinite) && (s.ci95[0] > 0 || s.ci95[1] < 0)
        return figure ? `${c.params.kind} ${fmtQuantity(s.mean, 'ns')} (95% CI ${fmtRange(s.ci95[0], s.ci95[1], 'ns')})` : `${c.params.kind}: ${verdict}`
      })
    return `Per event, body ${body} (bpf_stats off) added: ${parts.join('; ')}.`
  })
}

/** The summary sentences for one run; none for suites whose result file does not carry an answer. */
export function reportAnswer(run: RunResult): string[] {
  if (run.suite === 'accelerator') return [...frameLines(run), ...goodputLines(run)]
  if (run.suite === 'tracing') return tracingLines(run)
  if (run.suite === 'micro') return microAnswer(run)
  if (run.suite === 'app') return appAnswerFromRun(run)
  return []
}
