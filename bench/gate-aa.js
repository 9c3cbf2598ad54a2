// The compare gate measured: on one build, --aa A/A trials (`suite micro --ab` of the shipped objects
// against themselves) give its false-alarm rate (trials that exit 1) and the per-case false verdicts;
// --ab trials against an object folder whose micro_helpers.bpf.o is bpf/regress's (helper_prandom makes
// 39 helper calls a run instead of 32, ~20% more work) give its detection rate. A/A and A/B trials
// alternate, so both meet the same spells of the shared host. Everything is printed with its settings.
//   node bench/gate-aa.js [--aa 20] [--ab 20] [--pairs 12] [--threshold 5%] [--tests baseline,helper_get_prandom_u32,...|quick] [--lock FILE] [--save DIR]
// (--tests quick: every test --quick selects; buffer tests are not paired. --lock FILE: each trial runs under
// `flock FILE`, released between trials, so others sharing the machine's kernel can take turns. --save DIR: each
// trial's comparison and its A/B result file (the samples) kept there.)
//   node bench/gate-aa.js --rejudge DIR [--threshold 5%]: the saved A/B result files judged again by this build's
// `ebpfperf compare FILE` (what the gate says of the same measurements), A/A and A/B told apart by B's objects.
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {cpus, hostname, tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {dieFor, numberArg, root} from './micro-common.js'

const die = dieFor('gate-aa')
const stringArg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : dflt
}
const aaTrials = numberArg('aa', 20)
const abTrials = numberArg('ab', 20)
const pairs = numberArg('pairs', 12)
const threshold = stringArg('threshold', '5%')
const lock = stringArg('lock', undefined)
const saveDir = stringArg('save', undefined)
const rejudge = stringArg('rejudge', undefined)
const testsArg = stringArg('tests', 'baseline,helper_get_prandom_u32,hash_1k_read,array_1k_read')
const tests = testsArg === 'quick' ? [] : testsArg.split(',')
const regressed = 'helper_get_prandom_u32'
if (!(aaTrials >= 1 && abTrials >= 1 && pairs >= 5)) die('--aa and --ab need at least 1 trial, --pairs at least 5')
if (lock !== undefined && !existsSync(dirname(resolve(lock)))) die(`--lock ${lock}: its folder does not exist (give a lock file path such as /tmp/ebp-kernel.lock)`)
if (saveDir !== undefined) mkdirSync(saveDir, {recursive: true})
if (tests.length && !tests.includes(regressed)) die(`--tests must include ${regressed} (the test whose program bpf/regress slows)`)
const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], {encoding: 'utf8'}).trim()
const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'src', 'bpf', 'bench'], {encoding: 'utf8'}).trim() ? ' (uncommitted changes in src, bpf or bench)' : ''
if (!existsSync(join(root, 'dist/commands/suite/micro.js'))) die('dist/ is missing: run npm run build:ts')
if (rejudge !== undefined && !existsSync(rejudge)) die(`--rejudge ${rejudge}: no such folder (give a --save folder of an earlier run)`)
if (rejudge === undefined && process.getuid?.() !== 0) die('needs root (BPF_PROG_TEST_RUN)')
const shipped = join(root, 'bpf/.output')
const slow = join(shipped, 'regress/micro_helpers.bpf.o')
if (rejudge === undefined && !existsSync(slow)) die(`${slow} is missing: run npm run build:bpf`)

const work = mkdtempSync(join(tmpdir(), 'ebp-gate-'))
process.on('exit', () => rmSync(work, {recursive: true, force: true}))
const clock = {wait: 0} // ms spent waiting for --lock
let running // the trial's CLI process, stopped with the bench
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    // the CLI saves what it measured when stopped: wait for it, then remove the work folder (exit handler)
    if (!running) process.exit(130)
    running.once('close', () => process.exit(130))
    process.kill(-running.pid, sig)
  })
}
// the candidate build: every shipped object, micro_helpers.bpf.o replaced by the regressed one
const candidate = join(work, 'candidate')
mkdirSync(candidate)
if (rejudge === undefined) for (const f of readdirSync(shipped).filter((f) => f.endsWith('.bpf.o'))) symlinkSync(f === 'micro_helpers.bpf.o' ? slow : join(shipped, f), join(candidate, f))

const args = (other, out = join(work, 'results')) => ['suite', 'micro', '--quick', ...tests.flatMap((t) => ['--test', t]), '--ab', other, '--repeat', String(pairs), '--threshold', threshold, '--out', out, '--json', '--no-progress']
const command = `ebpfperf ${args('OTHER').filter((a) => !a.startsWith(work)).join(' ').replace(' --out', '')}`

/**
 * One trial: the CLI as a user runs it (under `flock --lock` when given); its exit code, the comparison it
 * printed, and the seconds it waited for the lock and then ran. The lock wrapper writes a line on fd 3 once it
 * holds the lock. Async, so a signal to the bench is handled between trials' output.
 */
async function trial(other, name) {
  const out = join(work, 'results', name)
  const cli = [process.execPath, join(root, 'bin/run.js'), ...args(other, out)]
  const [cmd, ...argv] = lock ? ['flock', lock, 'sh', '-c', 'echo >&3; exec 3>&-; exec "$@"', 'sh', ...cli] : cli
  const t0 = Date.now()
  // its own process group, so a signal reaches the CLI under flock and sh
  const child = spawn(cmd, argv, {env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: true})
  running = child
  let [stdout, stderr, locked] = ['', '', lock ? undefined : t0]
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  child.stdio[3].on('data', () => (locked ??= Date.now()))
  const code = await new Promise((resolve) => child.on('close', resolve))
  running = undefined
  if (code !== 0 && code !== 1) die(`a trial exited ${code}: ${stderr.trim().split('\n').pop()}`)
  const end = Date.now()
  clock.wait += (locked ?? end) - t0
  const result = readdirSync(out).find((f) => f.endsWith('.json'))
  if (saveDir && result) copyFileSync(join(out, result), join(saveDir, `${name}.result.json`))
  return {code, cmp: JSON.parse(stdout), waitS: ((locked ?? end) - t0) / 1000, runS: (end - (locked ?? end)) / 1000}
}

/** One progress line per trial on stderr (the summary goes to stdout). */
function progress(k, kind, t, note) {
  const now = new Date().toISOString().slice(11, 19)
  const wait = lock ? `, waited ${t.waitS.toFixed(0)} s for the lock` : ''
  process.stderr.write(`gate-aa ${now}: trial ${k + 1}/${order.length} ${kind} exit ${t.code} in ${t.runS.toFixed(0)} s${wait}; ${note}; so far A/A alarms ${tally.aa.alarms}/${tally.aa.n}, A/B detected ${tally.ab.detected}/${tally.ab.n}\n`)
}

const tally = {aa: {alarms: 0, n: 0, falseVerdicts: new Map(), failed: 0}, ab: {detected: 0, n: 0, otherGates: 0, failed: 0, changes: []}}
const started = Date.now()
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`
const ciOf = (c) => (c.gateCi ? ` gate CI [${pct(c.gateCi[0])}, ${pct(c.gateCi[1])}]` : '')
const flagged = (cmp) => cmp.cases.filter((c) => c.verdict === 'regression' || c.verdict === 'improvement' || c.gate)
/** --save DIR: each trial's comparison (--json) kept as DIR/aa-NN.json or ab-NN.json, to see why a trial alarmed. */
const save = (name, cmp) => saveDir && writeFileSync(join(saveDir, `${name}.json`), JSON.stringify(cmp, null, 1))
// the A/B trials spread evenly among the A/A trials (each kind at its own even spacing), so both meet the host's spells alike
const order = [...Array.from({length: aaTrials}, (_, i) => ['A/A', (i + 0.5) / aaTrials]), ...Array.from({length: abTrials}, (_, i) => ['A/B', (i + 0.5) / abTrials])]
  .sort((x, y) => x[1] - y[1])
  .map(([kind]) => kind)
/** One trial's verdicts into the tally, and its progress line. */
function record(k, kind, t) {
  if (kind === 'A/A') {
    tally.aa.n++
    if (t.code === 1) tally.aa.alarms++
    tally.aa.failed += t.cmp.cases.filter((c) => c.verdict === 'failed').length
    for (const c of flagged(t.cmp)) {
      const key = `${c.label}: ${c.gate ? 'gate' : c.verdict}`
      tally.aa.falseVerdicts.set(key, (tally.aa.falseVerdicts.get(key) ?? 0) + 1)
    }
    const gated = t.cmp.cases.filter((c) => c.gate)
    progress(k, 'A/A', t, `${flagged(t.cmp).length} of ${t.cmp.cases.length} cases significant, gated: ${gated.length ? gated.map((c) => `${c.label} ${pct(c.relative)}${ciOf(c)}`).join(', ') : 'none'}`)
    return
  }
  tally.ab.n++
  const hit = t.cmp.cases.filter((c) => c.id === regressed)
  if (hit.some((c) => c.gate)) tally.ab.detected++
  tally.ab.changes.push(...hit.map((c) => c.relative))
  const others = t.cmp.cases.filter((c) => c.id !== regressed && c.gate)
  tally.ab.otherGates += others.length
  tally.ab.failed += t.cmp.cases.filter((c) => c.verdict === 'failed').length
  progress(k, 'A/B', t, `${hit.map((c) => `${c.label} ${pct(c.relative)}${ciOf(c)} ${c.gate ? 'gated' : 'not gated'}`).join(', ')}${others.length ? `; other cases gated: ${others.map((c) => c.label).join(', ')}` : ''}`)
}

/** --rejudge: each saved A/B result through `ebpfperf compare FILE`; A/B when B's micro_helpers.bpf.o was the regressed one. */
function rejudged() {
  const files = readdirSync(rejudge).filter((f) => f.endsWith('.json') && !/^a[ab]-\d+\.json$/.test(f)).sort()
  const trials = []
  for (const f of files) {
    const run = JSON.parse(readFileSync(join(rejudge, f), 'utf8'))
    if (!run.cases?.some((c) => c.params?.variant === 'B')) continue
    const b = run.cases.find((c) => c.params.variant === 'B' && c.id === regressed)
    const kind = b?.extra?.objectPath?.includes('/candidate/') ? 'A/B' : 'A/A'
    const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), 'compare', join(rejudge, f), '--threshold', threshold, '--json'], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
    if (r.status !== 0 && r.status !== 1) die(`compare ${f} exited ${r.status}: ${r.stderr.trim().split('\n').pop()}`)
    trials.push({kind, t: {code: r.status, cmp: JSON.parse(r.stdout), waitS: 0, runS: 0}, command: run.command})
  }
  return trials
}

let perTrial = command
if (rejudge === undefined) {
  for (const [k, kind] of order.entries()) {
    const name = `${kind === 'A/A' ? 'aa' : 'ab'}-${String(k + 1).padStart(2, '0')}`
    const t = await trial(kind === 'A/A' ? shipped : candidate, name)
    save(name, t.cmp)
    record(k, kind, t)
  }
} else {
  const trials = rejudged()
  if (trials.length === 0) die(`--rejudge ${rejudge}: no A/B result files (suite micro --ab) there`)
  order.length = trials.length
  for (const [k, {kind, t}] of trials.entries()) record(k, kind, t)
  perTrial = `${[...new Set(trials.map((x) => x.command))].join(' | ')}, judged again by ebpfperf compare FILE --threshold ${threshold}`
}

/** Wilson 95% interval of a proportion, in percent. */
const wilson = (x, n) => {
  const z = 1.959964
  const p = x / n
  const c = (p + (z * z) / (2 * n)) / (1 + (z * z) / n)
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n)
  return `${(p * 100).toFixed(1)}% (95% CI ${(Math.max(0, c - h) * 100).toFixed(1)}–${(Math.min(1, c + h) * 100).toFixed(1)}%)`
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]
console.log(`gate-aa: ${new Date().toISOString()}, commit ${commit}${dirty}, ${hostname()}: ${cpus().length}× ${cpus()[0]?.model}, kernel ${execFileSync('uname', ['-r'], {encoding: 'utf8'}).trim()}`)
console.log(`command per trial: ${perTrial}   (A/A: OTHER = bpf/.output; A/B: OTHER = bpf/.output with micro_helpers.bpf.o from bpf/.output/regress)`)
if (rejudge) console.log(`settings: threshold ${threshold}; ${tally.aa.n} A/A and ${tally.ab.n} A/B trials saved in ${rejudge}, judged again by this build`)
else console.log(`settings: ${pairs} pairs a case, threshold ${threshold}${lock ? `, each trial under flock ${lock}` : ''}, tests ${tests.length ? tests.join(', ') : 'every run test --quick selects'} on every online CPU; ${tally.aa.n} A/A and ${tally.ab.n} A/B trials interleaved; ${((Date.now() - started) / 60000).toFixed(1)} min${lock ? ` (${(clock.wait / 60000).toFixed(1)} of them waiting for the lock)` : ''}`)
console.log(`A/A false alarms (trials that exit 1): ${tally.aa.alarms}/${tally.aa.n} = ${wilson(tally.aa.alarms, tally.aa.n)}; failed cases ${tally.aa.failed}`)
const fv = [...tally.aa.falseVerdicts.entries()].sort((a, b) => b[1] - a[1])
console.log(`A/A per-case false verdicts (significant or gated, of ${tally.aa.n} trials): ${fv.length ? fv.map(([k, n]) => `${k} ×${n}`).join('; ') : 'none'}`)
console.log(`A/B detection (${regressed} gated as a regression): ${tally.ab.detected}/${tally.ab.n} = ${wilson(tally.ab.detected, tally.ab.n)}; its measured change: median ${(median(tally.ab.changes) * 100).toFixed(1)}%; gates on other (unchanged) cases: ${tally.ab.otherGates}; failed cases ${tally.ab.failed}`)
