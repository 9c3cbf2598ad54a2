// Runs the suite's BPF_PROG_TEST_RUN tests: load (consecutive tests of one object share one load; when
// that load fails each test loads alone, so a program the verifier rejects fails only its own test),
// prepare maps, run calibrated samples on every CPU, and judge: a wrong return value, a program that did
// not run as often as asked (bpf_stats proof), or a kernel error fails the test.
import {basename} from 'node:path'
import {interquartileMean, mean} from '../../results/stats.js'
import {BpfObject, type Native, type NativeError, type TestRunReport, type TestRunSample} from '../../native.js'
import type {RunTest} from './spec.js'

export interface CpuOutcome {
  cpu: number
  repeat: number
  /** Per sample: ns per program run (the kernel's test-run timer, interquartile mean over the sample's test runs; bpf_stats for raw_tp). */
  nsPerRun: number[]
  /** Per sample, mode repeat: the kernel's ns per program run in each of its test runs. */
  runNs?: number[][]
  /** Per sample: ns per operation (nsPerRun / ops_per_run). */
  nsPerOp: number[]
  /** Per sample: wall-clock ns per run around the syscall (includes the XDP dispatcher update and preemption). */
  wallNsPerRun: number[]
  /** bpf_stats proof: run_cnt growth over the proof run (mode repeat) or the samples (mode call), and what was asked. */
  proof?: {runCnt: number; expected: number; nsPerRunWithStats: number}
  /** ns per run that bpf_stats adds here (proof run with stats minus the samples without). */
  statsOverheadNs?: number
}

export interface RunOutcome {
  test: RunTest
  status: 'ok' | 'failed' | 'skipped'
  reason?: string
  /** The verifier's last lines when the load failed. */
  verifierLog?: string
  cpus: CpuOutcome[]
  mode?: 'repeat' | 'call'
  onCpuFlag?: boolean
  /** Mode repeat: test runs per sample. */
  runsPerSample?: number
  /** XDP: the program was held in the XDP dispatcher while it ran. */
  dispatcherHold?: boolean
  /** bpf_stats was on during the samples although we had it off (the sysctl, or another process). */
  statsWereOn?: boolean
  notes: string[]
}

export interface RunnerOptions {
  native: Native
  targetNs: number
  /** Mode repeat: test runs per sample (default 1), each ~targetNs / runsPerSample. */
  runsPerSample?: number
  signal?: AbortSignal
  /** Called when a test starts (for progress). */
  onTest?: (t: RunTest) => void
  /** bpf_stats: 'proof' (one extra run with it on, default), 'samples' (on during the samples), 'off' (no proof: the kernel lacks it). */
  stats?: 'proof' | 'samples' | 'off'
  /** A/B: the coin for each pair's order (default Math.random). */
  random?: () => number
}


/** Runs tests in order: a `reload` test loads its object afresh for every sample; consecutive others of one object share one load. */
export async function runTests(tests: RunTest[], opts: RunnerOptions): Promise<RunOutcome[]> {
  const out: RunOutcome[] = []
  let i = 0
  while (i < tests.length) {
    if (tests[i].reload) {
      opts.signal?.throwIfAborted()
      opts.onTest?.(tests[i])
      out.push(await runReloaded(tests[i], opts))
      i++
      continue
    }
    let j = i + 1
    while (j < tests.length && tests[j].objectPath === tests[i].objectPath && !tests[j].reload) j++
    out.push(...(await runGroup(tests.slice(i, j), opts)))
    i = j
  }
  return out
}

function programsOf(t: RunTest): string[] {
  return [t.program, ...t.load, ...(t.prepare ? [t.prepare.program] : [])]
}

function loadFor(group: RunTest[], native: Native): BpfObject {
  const obj = BpfObject.open(group[0].objectPath, native)
  try {
    return obj.only([...new Set(group.flatMap(programsOf))]).load()
  } catch (error) {
    obj.close()
    throw error
  }
}

function loadFailed(t: RunTest, error: unknown): RunOutcome {
  const e = error as NativeError
  return {test: t, status: 'failed', reason: `load failed: ${e.message.split('\n')[0]}`, verifierLog: e.verifierLog, cpus: [], notes: []}
}

async function runGroup(group: RunTest[], opts: RunnerOptions): Promise<RunOutcome[]> {
  let obj: BpfObject
  try {
    obj = loadFor(group, opts.native)
  } catch (error) {
    if (group.length > 1) {
      // find out which test's program it was: each loads alone
      const out: RunOutcome[] = []
      for (const t of group) out.push(...(await runGroup([t], opts)))
      return out
    }
    return [loadFailed(group[0], error)]
  }
  const out: RunOutcome[] = []
  try {
    for (const t of group) {
      opts.signal?.throwIfAborted()
      opts.onTest?.(t)
      out.push(await runOne(t, obj, opts))
    }
  } finally {
    obj.close()
  }
  return out
}

/** Why a test failed before its samples (map preparation), as opposed to a kernel error. */
class PrepareFailed extends Error {}

async function runOne(t: RunTest, obj: BpfObject, opts: RunnerOptions): Promise<RunOutcome> {
  try {
    return judge(t, await measure(t, obj, opts, t.samples))
  } catch (error) {
    return {test: t, status: 'failed', reason: (error as Error).message.split('\n')[0], cpus: [], notes: []}
  }
}

/** A `reload` test: each sample from its own load of the object, the reports merged, then judged as one. */
async function runReloaded(t: RunTest, opts: RunnerOptions): Promise<RunOutcome> {
  const reports: TestRunReport[] = []
  for (let k = 0; k < t.samples; k++) {
    opts.signal?.throwIfAborted()
    let obj: BpfObject
    try {
      obj = loadFor([t], opts.native)
    } catch (error) {
      return loadFailed(t, error)
    }
    try {
      // the first load calibrates and proves (bpf_stats); later loads reuse its repeat count, warm up, and take one sample
      const first = reports[0]
      const again = first && {repeat: t.repeat || Math.max(...first.cpus.map((c) => c.repeat)), stats: opts.stats === 'samples' ? ('samples' as const) : ('off' as const)}
      reports.push(await measure(t, obj, opts, 1, again))
    } catch (error) {
      return {test: t, status: 'failed', reason: `load ${k + 1}: ${(error as Error).message.split('\n')[0]}`, cpus: [], notes: []}
    } finally {
      obj.close()
    }
  }
  return judge(t, mergeReports(reports))
}

/**
 * A/B: `samples` pairs, each one sample of a and one of b in a random order, on the same CPUs. A test
 * with reload takes every sample from a fresh load (as runReloaded), one without it keeps one load per
 * side. Whichever side runs first calibrates; both then use its repeat count, and each side's first
 * sample gives its bpf_stats proof. Either side failing fails both (a pair needs both).
 */
export async function runAbTest(a: RunTest, b: RunTest, opts: RunnerOptions): Promise<{a: RunOutcome; b: RunOutcome; order: string[]}> {
  const side = {A: {t: a, reports: [] as TestRunReport[], held: undefined as BpfObject | undefined}, B: {t: b, reports: [] as TestRunReport[], held: undefined as BpfObject | undefined}}
  const order: string[] = []
  let repeat = a.repeat
  const fail = (v: 'A' | 'B', why: string) => {
    const o = (x: 'A' | 'B'): RunOutcome => ({test: side[x].t, status: 'failed', reason: x === v ? why : `its A/B partner (${v}) failed: ${why}`, cpus: [], notes: []})
    return {a: o('A'), b: o('B'), order}
  }
  try {
    for (let k = 0; k < a.samples; k++) {
      opts.signal?.throwIfAborted()
      const seq: ('A' | 'B')[] = (opts.random ?? Math.random)() < 0.5 ? ['A', 'B'] : ['B', 'A']
      order.push(seq.join(''))
      for (const v of seq) {
        const s = side[v]
        let obj = s.held
        try {
          obj ??= loadFor([s.t], opts.native)
        } catch (error) {
          return fail(v, `load failed: ${(error as Error).message.split('\n')[0]}`)
        }
        if (!s.t.reload) s.held = obj
        try {
          const proof = s.reports.length === 0 ? (opts.stats ?? 'proof') : opts.stats === 'samples' ? 'samples' : 'off'
          s.reports.push(await measure(s.t, obj, opts, 1, repeat ? {repeat, stats: proof} : undefined))
          repeat ||= Math.max(...s.reports[0].cpus.map((c) => c.repeat))
        } catch (error) {
          return fail(v, `sample ${k + 1}: ${(error as Error).message.split('\n')[0]}`)
        } finally {
          if (s.t.reload) obj.close()
        }
      }
    }
  } finally {
    side.A.held?.close()
    side.B.held?.close()
  }
  return {a: judge(a, mergeReports(side.A.reports)), b: judge(b, mergeReports(side.B.reports)), order}
}

/** Fills the test's maps, runs its preparation program, and takes `samples` samples on every CPU. */
async function measure(t: RunTest, obj: BpfObject, opts: RunnerOptions, samples: number, again?: {repeat: number; stats: 'off' | 'samples' | 'proof'}): Promise<TestRunReport> {
  const n = opts.native
  // maps filled from user space
  for (const m of t.maps) {
    if (m.fill === undefined) continue
    const fd = obj.mapFd(m.name)
    const value = Buffer.alloc(m.percpu ? Math.ceil(m.valueSize / 8) * 8 * n.numPossibleCpus() : m.valueSize)
    const key = Buffer.alloc(4)
    for (let k = 0; k < m.fill; k++) {
      key.writeUInt32LE(k)
      n.mapUpdate(fd, key, value)
    }
  }
  // map-preparation program, once, on the first CPU
  if (t.prepare) {
    const r = await n.testRunAsync({progFd: obj.progFd(t.prepare.program), data: t.data, cpus: [t.cpus[0]], samples: 1, repeat: t.prepare.repeat, stats: 'off', warmup: false})
    const got = r.cpus[0].samples[0].retval
    if (got !== t.prepare.expect) throw new PrepareFailed(`map preparation ${t.prepare.program} returned ${got}, expected ${t.prepare.expect}`)
  }
  return n.testRunAsync({
    progFd: obj.progFd(t.program),
    data: t.data,
    ctx: t.ctx,
    cpus: t.cpus,
    samples,
    repeat: again?.repeat ?? t.repeat,
    targetNs: opts.targetNs,
    runs: opts.runsPerSample,
    mode: t.mode,
    stats: again?.stats ?? opts.stats ?? 'proof',
    concurrent: t.concurrent,
  })
}

/** One report from several loads' reports: samples and calibration runs in order; a proof that failed wins. Exported for tests. */
export function mergeReports(reports: TestRunReport[]): TestRunReport {
  const [first] = reports
  return {
    ...first,
    statsDuringSamples: reports.some((r) => r.statsDuringSamples),
    dispatcherHold: reports.every((r) => r.dispatcherHold),
    dispatcherHoldError: reports.find((r) => r.dispatcherHoldError)?.dispatcherHoldError,
    runsFallback: reports.some((r) => r.runsFallback) || undefined,
    cpus: first.cpus.map((c, i) => {
      const all = reports.map((r) => r.cpus[i])
      const proofs = all.flatMap((x) => (x.proof ? [x.proof] : []))
      return {
        cpu: c.cpu,
        repeat: c.repeat,
        calibration: all.flatMap((x) => x.calibration),
        samples: all.flatMap((x) => x.samples),
        proof: proofs.find((p) => p.runCnt !== p.repeat) ?? proofs[0],
      }
    }),
  }
}

/**
 * A sample's ns per program run. Mode repeat: the interquartile mean of its test runs' kernel timings
 * (a run that a neighbour on the host slowed is left out; with one run, that run's timing). Mode call:
 * bpf_stats' run_time_ns / run_cnt.
 */
export function sampleNsPerRun(mode: 'repeat' | 'call', s: TestRunSample): number {
  if (mode === 'call') return s.runCnt > 0 ? s.runTimeNs / s.runCnt : Number.NaN
  return s.runNs && s.runNs.length > 1 ? interquartileMean(s.runNs) : s.kernelNs
}

/** Turns the runner's report into per-CPU figures and a verdict. Exported for tests. */
export function judge(t: RunTest, report: TestRunReport, o: RunOutcome = {test: t, status: 'ok', cpus: [], notes: []}): RunOutcome {
  o.mode = report.mode
  o.onCpuFlag = report.onCpuFlag
  if (report.mode === 'repeat') o.runsPerSample = report.runsPerSample
  if (t.type === 'xdp') o.dispatcherHold = report.dispatcherHold
  const problems: string[] = []
  const expectFor = (cpu: number) => (t.expect === 'cpu' ? cpu : t.expect)
  const checkRet = (cpu: number, s: TestRunSample, what: string) => {
    if (s.retvalMixed) problems.push(`CPU ${cpu}: the return value changed between calls (${what})`)
    else if (s.retval !== expectFor(cpu)) problems.push(`returned ${s.retval}, expected ${expectFor(cpu)} (CPU ${cpu}, ${what})`)
  }
  for (const c of report.cpus) {
    const perRun = (s: TestRunSample) => sampleNsPerRun(report.mode, s)
    const co: CpuOutcome = {
      cpu: c.cpu,
      repeat: c.repeat,
      nsPerRun: c.samples.map(perRun),
      nsPerOp: c.samples.map((s) => perRun(s) / t.opsPerRun),
      wallNsPerRun: c.samples.map((s) => s.wallNs / s.repeat),
    }
    if (c.samples.some((s) => s.runNs)) co.runNs = c.samples.map((s) => s.runNs ?? [])
    c.calibration.forEach((s, k) => checkRet(c.cpu, s, `calibration run ${k + 1}`))
    c.samples.forEach((s, k) => checkRet(c.cpu, s, `sample ${k + 1}`))
    if (report.mode === 'repeat') {
      if (c.samples.some((s) => s.runCnt > 0)) o.statsWereOn = true
      if (c.proof) {
        checkRet(c.cpu, c.proof, 'bpf_stats proof run')
        co.proof = {runCnt: c.proof.runCnt, expected: c.proof.repeat, nsPerRunWithStats: perRun(c.proof)}
        if (c.proof.runCnt !== c.proof.repeat) problems.push(`CPU ${c.cpu}: bpf_stats counted ${c.proof.runCnt} runs, ${c.proof.repeat} were asked for (the program did not run as often as the test run said)`)
        if (!o.statsWereOn) co.statsOverheadNs = perRun(c.proof) - mean(co.nsPerRun)
      } else if (report.statsDuringSamples) {
        const got = c.samples.reduce((a, s) => a + s.runCnt, 0)
        const want = c.samples.reduce((a, s) => a + s.repeat, 0)
        co.proof = {runCnt: got, expected: want, nsPerRunWithStats: mean(co.nsPerRun)}
        if (got !== want) problems.push(`CPU ${c.cpu}: bpf_stats counted ${got} runs over the samples, ${want} were asked for`)
      }
    } else {
      const got = c.samples.reduce((a, s) => a + s.runCnt, 0)
      const want = c.samples.reduce((a, s) => a + s.repeat, 0)
      co.proof = {runCnt: got, expected: want, nsPerRunWithStats: mean(co.nsPerRun)}
      if (got !== want) problems.push(`CPU ${c.cpu}: bpf_stats counted ${got} runs over the samples, ${want} were asked for`)
    }
    o.cpus.push(co)
  }
  if (report.mode === 'repeat' && !report.statsDuringSamples && report.cpus.every((c) => !c.proof)) o.notes.push('no bpf_stats proof that the program ran (bpf_stats is not available here)')
  if (o.statsWereOn) o.notes.push('bpf_stats was on during the samples (kernel.bpf_stats_enabled or another process): the figures include its clock reads')
  if (t.type === 'xdp' && report.mode === 'repeat' && !report.dispatcherHold)
    o.notes.push(`not held in the XDP dispatcher (${report.dispatcherHoldError ?? 'not asked'}): every test run paid a dispatcher update outside its timer${report.runsFallback ? ', so each sample was one run (no interquartile mean)' : ''}`)
  if (report.mode === 'call') o.notes.push('raw_tp: one call per iteration with BPF_F_TEST_RUN_ON_CPU, timed by bpf_stats (includes its clock reads)')
  if (problems.length > 0) {
    o.status = 'failed'
    o.reason = problems[0] + (problems.length > 1 ? ` (+${problems.length - 1} more)` : '')
  }
  return o
}

/** Stable parameters of a test's cases (cases are matched across runs by suite + id + params). */
export function caseParams(t: RunTest, cpu: number): Record<string, string | number | boolean> {
  return {cpu, type: t.type, opsPerRun: t.opsPerRun, object: basename(t.objectPath), program: t.program}
}
