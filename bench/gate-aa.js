// The compare gate measured: on one build, --aa A/A trials (`suite micro --ab` of the shipped objects
// against themselves) give its false-alarm rate (trials that exit 1) and the per-case false verdicts;
// --ab trials against an object folder whose micro_helpers.bpf.o is bpf/regress's (helper_prandom makes
// 39 helper calls a run instead of 32, ~20% more work) give its detection rate. A/A and A/B trials
// alternate, so both meet the same spells of the shared host. Everything is printed with its settings.
//   node bench/gate-aa.js [--aa 20] [--ab 20] [--pairs 12] [--threshold 5%] [--tests baseline,helper_get_prandom_u32,...|quick]
// (--tests quick: every test --quick selects; buffer tests are not paired)
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync} from 'node:fs'
import {cpus, hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
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
const testsArg = stringArg('tests', 'baseline,helper_get_prandom_u32,hash_1k_read,array_1k_read')
const tests = testsArg === 'quick' ? [] : testsArg.split(',')
const regressed = 'helper_get_prandom_u32'
if (!(aaTrials >= 1 && abTrials >= 1 && pairs >= 5)) die('--aa and --ab need at least 1 trial, --pairs at least 5')
if (tests.length && !tests.includes(regressed)) die(`--tests must include ${regressed} (the test whose program bpf/regress slows)`)
const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], {encoding: 'utf8'}).trim()
const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'src', 'bpf', 'bench'], {encoding: 'utf8'}).trim() ? ' (uncommitted changes in src, bpf or bench)' : ''
if (process.getuid?.() !== 0) die('needs root (BPF_PROG_TEST_RUN)')
const shipped = join(root, 'bpf/.output')
const slow = join(shipped, 'regress/micro_helpers.bpf.o')
if (!existsSync(slow)) die(`${slow} is missing: run npm run build:bpf`)
if (!existsSync(join(root, 'dist/commands/suite/micro.js'))) die('dist/ is missing: run npm run build:ts')

const work = mkdtempSync(join(tmpdir(), 'ebp-gate-'))
process.on('exit', () => rmSync(work, {recursive: true, force: true}))
let running // the trial's CLI process, stopped with the bench
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    // the CLI saves what it measured when stopped: wait for it, then remove the work folder (exit handler)
    if (!running) process.exit(130)
    running.once('close', () => process.exit(130))
    running.kill(sig)
  })
}
// the candidate build: every shipped object, micro_helpers.bpf.o replaced by the regressed one
const candidate = join(work, 'candidate')
mkdirSync(candidate)
for (const f of readdirSync(shipped).filter((f) => f.endsWith('.bpf.o'))) symlinkSync(f === 'micro_helpers.bpf.o' ? slow : join(shipped, f), join(candidate, f))

const args = (other) => ['suite', 'micro', '--quick', ...tests.flatMap((t) => ['--test', t]), '--ab', other, '--repeat', String(pairs), '--threshold', threshold, '--out', join(work, 'results'), '--json', '--no-progress']
const command = `ebpfperf ${args('OTHER').filter((a) => !a.startsWith(work)).join(' ').replace(' --out', '')}`

/** One trial: the CLI as a user runs it; its exit code and the comparison it printed. Async, so a signal to the bench is handled between trials' output. */
async function trial(other) {
  const child = spawn(process.execPath, [join(root, 'bin/run.js'), ...args(other)], {env: {...process.env, NO_COLOR: '1'}})
  running = child
  let [stdout, stderr] = ['', '']
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const code = await new Promise((resolve) => child.on('close', resolve))
  running = undefined
  if (code !== 0 && code !== 1) die(`a trial exited ${code}: ${stderr.trim().split('\n').pop()}`)
  return {code, cmp: JSON.parse(stdout)}
}

const tally = {aa: {alarms: 0, n: 0, falseVerdicts: new Map(), failed: 0}, ab: {detected: 0, n: 0, otherGates: 0, failed: 0, changes: []}}
const started = Date.now()
for (let k = 0; k < Math.max(aaTrials, abTrials); k++) {
  if (k < aaTrials) {
    const {code, cmp} = await trial(shipped)
    tally.aa.n++
    if (code === 1) tally.aa.alarms++
    for (const c of cmp.cases) {
      if (c.verdict === 'failed') tally.aa.failed++
      if (c.verdict === 'regression' || c.verdict === 'improvement' || c.gate) {
        const key = `${c.label}: ${c.gate ? 'gate' : c.verdict}`
        tally.aa.falseVerdicts.set(key, (tally.aa.falseVerdicts.get(key) ?? 0) + 1)
      }
    }
  }
  if (k < abTrials) {
    const {cmp} = await trial(candidate)
    tally.ab.n++
    const hit = cmp.cases.filter((c) => c.id === regressed)
    if (hit.some((c) => c.gate)) tally.ab.detected++
    tally.ab.changes.push(...hit.map((c) => c.relative))
    tally.ab.otherGates += cmp.cases.filter((c) => c.id !== regressed && c.gate).length
    tally.ab.failed += cmp.cases.filter((c) => c.verdict === 'failed').length
  }
  process.stderr.write(`\rgate-aa: trial ${k + 1}/${Math.max(aaTrials, abTrials)}  A/A alarms ${tally.aa.alarms}/${tally.aa.n}  A/B detected ${tally.ab.detected}/${tally.ab.n}`)
}
process.stderr.write('\n')

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
console.log(`command per trial: ${command}   (A/A: OTHER = bpf/.output; A/B: OTHER = bpf/.output with micro_helpers.bpf.o from bpf/.output/regress)`)
console.log(`settings: ${pairs} pairs a case, threshold ${threshold}, tests ${tests.length ? tests.join(', ') : 'every run test --quick selects'} on every online CPU; ${tally.aa.n} A/A and ${tally.ab.n} A/B trials alternating; ${((Date.now() - started) / 60000).toFixed(1)} min`)
console.log(`A/A false alarms (trials that exit 1): ${tally.aa.alarms}/${tally.aa.n} = ${wilson(tally.aa.alarms, tally.aa.n)}; failed cases ${tally.aa.failed}`)
const fv = [...tally.aa.falseVerdicts.entries()].sort((a, b) => b[1] - a[1])
console.log(`A/A per-case false verdicts (significant or gated, of ${tally.aa.n} trials): ${fv.length ? fv.map(([k, n]) => `${k} ×${n}`).join('; ') : 'none'}`)
console.log(`A/B detection (${regressed} gated as a regression): ${tally.ab.detected}/${tally.ab.n} = ${wilson(tally.ab.detected, tally.ab.n)}; its measured change: median ${(median(tally.ab.changes) * 100).toFixed(1)}%; gates on other (unchanged) cases: ${tally.ab.otherGates}; failed cases ${tally.ab.failed}`)
