// The integration tests while something else keeps every CPU busy: one busy-looping process per CPU (by
// default) at the tests' own priority, then the tests, then the loops are killed — on success, failure,
// Ctrl-C or SIGTERM alike. Prints the tests' output, then what they said (passing, failing, pending), the
// exit code, the wall time and the CPU time each loop got (read from /proc: proof that the load was there).
//   node bench/tests-under-load.js [--loops 2] [--all | --only TEST_FILE] [--save FILE]
// --all: `npm test` (type-check, lint, format check, unit and integration tests) instead of
// `npm run test:integration`; --only: `npx mocha TEST_FILE`. --save FILE: the tests' output and the summary, kept. It creates kernel state
// through the tests: run it under the kernel lock when the machine is shared (flock /tmp/ebp-kernel.lock ...).
import {execFileSync, spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {availableParallelism, hostname} from 'node:os'
import {dieFor, numberArg, root} from './micro-common.js'

const die = dieFor('tests-under-load')
const loopsWanted = numberArg('loops', availableParallelism())
if (!Number.isInteger(loopsWanted) || loopsWanted < 0 || loopsWanted > 64) die(`--loops ${loopsWanted}: give a count from 0 to 64`)
const all = process.argv.includes('--all')
const saveAt = process.argv.indexOf('--save')
const save = saveAt > 0 ? process.argv[saveAt + 1] : undefined
if (saveAt > 0 && !save) die('--save needs a file name')

const TICK = 100 // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s
/** utime + stime of a process, in seconds (undefined once it is gone). */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICK
  } catch {
    return undefined
  }
}

const loops = []
function killLoops() {
  for (const l of loops) {
    if (l.killed) continue
    l.cpu = cpuSeconds(l.child.pid) ?? l.cpu
    try {
      process.kill(l.child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
    l.killed = true
  }
}
process.on('exit', killLoops)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    killLoops()
    process.exit(128 + ({SIGINT: 2, SIGTERM: 15, SIGHUP: 1})[signal])
  })
}

for (let i = 0; i < loopsWanted; i++) {
  const child = spawn(process.execPath, ['-e', 'for (;;) {}'], {stdio: 'ignore'})
  loops.push({child, killed: false, cpu: 0})
}

const onlyAt = process.argv.indexOf('--only')
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined
if (onlyAt > 0 && !only) die('--only needs a test file')
const command = only ? ['npx', ['mocha', only]] : all ? ['npm', ['test']] : ['npm', ['run', 'test:integration']]
const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: root, encoding: 'utf8'}).trim()
  } catch {
    return 'unknown'
  }
})()
const started = new Date()
const t0 = process.hrtime.bigint()
let output = ''
const tests = spawn(command[0], command[1], {cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'}})
for (const stream of [tests.stdout, tests.stderr]) {
  stream.on('data', (chunk) => {
    output += chunk
    process.stdout.write(chunk)
  })
}
const code = await new Promise((resolve) => tests.on('close', (c, signal) => resolve(c ?? 128 + (signal === 'SIGKILL' ? 9 : 15))))
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
killLoops()

const count = (word) => Number(output.match(new RegExp(`^\\s*(\\d+) ${word}`, 'gm'))?.pop()?.trim().split(' ')[0] ?? 0)
const summary = {
  bench: 'tests-under-load',
  date: started.toISOString(),
  commit,
  machine: `${hostname()}, ${availableParallelism()} CPUs`,
  command: `node bench/tests-under-load.js${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''} (runs: ${command[0]} ${command[1].join(' ')})`,
  loops: loops.length,
  loopCpuSeconds: loops.map((l) => Math.round(l.cpu * 10) / 10),
  loopCpuShare: loops.map((l) => Math.round((l.cpu / seconds) * 100) / 100),
  passing: count('passing'),
  failing: count('failing'),
  pending: count('pending'),
  exitCode: code,
  seconds: Math.round(seconds),
  verdict: code === 0 ? 'PASS' : 'FAIL',
}
const text = `\n${summary.verdict}: ${summary.passing} passing, ${summary.failing} failing, ${summary.pending} pending, exit ${code}, ${summary.seconds} s, with ${loops.length} busy loops (CPU s each: ${summary.loopCpuSeconds.join(', ')})\n${JSON.stringify(summary)}\n`
process.stdout.write(text)
if (save) writeFileSync(save, output + text)
process.exitCode = code === 0 ? 0 : 1
