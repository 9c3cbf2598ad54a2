// The commands in-process (@oclif/test runCommand over src/commands, no build needed): flags, the --json
// documents and the exit codes of bad input (2, one line on stderr, nothing on stdout). The addon is the
// fake (test/fakes/native.ts), so nothing here needs root, the addon or a kernel feature.
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Config, Plugin, settings} from '@oclif/core'
import {runCommand} from '@oclif/test'
import {expect} from 'chai'
import {_useNative} from '../../src/native.js'
import {RESULT_SCHEMA, type RunResult} from '../../src/results/store.js'
import {summarize} from '../../src/results/stats.js'
import {FakeNative} from '../fakes/native.js'
import {tempDir} from '../support/tmp.js'

const root = new URL('../..', import.meta.url).pathname
const fixtures = join(root, 'test/fixtures')

/** The CLI's config with its commands read from src/ (oclif's manifest and dist/ name the built ones). */
async function sourceConfig(): Promise<Config> {
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  settings.enableAutoTranspile = false // mocha already runs TypeScript through tsx
  const plugin = new Plugin({root, isRoot: true, ignoreManifest: true, pjson: {...pjson, oclif: {...pjson.oclif, commands: './src/commands'}}})
  await plugin.load()
  return Config.load({root, plugins: new Map([[plugin.name, plugin]])})
}

interface Ran {
  code: number
  stdout: string
  stderr: string
}

let config: Config
/** Runs one command line; the exit code is what the process would exit with (commands set process.exitCode). */
async function cli(args: string[]): Promise<Ran> {
  const saved = process.exitCode
  const emitWarning = process.emitWarning
  // oclif warns (UnparsedCommand) when parsing failed, which is the point of several tests here
  process.emitWarning = ((warning: string | Error, ...rest: never[]) => {
    if (!String(warning).includes('did not parse its arguments')) emitWarning.call(process, warning, ...rest)
  }) as typeof process.emitWarning
  process.exitCode = undefined
  try {
    const r = await runCommand(args, config)
    const oclifExit = (r.error as {oclif?: {exit?: number}} | undefined)?.oclif?.exit
    return {code: Number(process.exitCode ?? oclifExit ?? (r.error ? 1 : 0)), stdout: r.stdout, stderr: r.stderr}
  } finally {
    process.exitCode = saved
    process.emitWarning = emitWarning
  }
}

function badInput(r: Ran, names: RegExp): void {
  expect(r.code, r.stderr).to.equal(2)
  expect(r.stdout).to.equal('')
  const lines = r.stderr.trim().split('\n')
  expect(lines, r.stderr).to.have.length(1)
  expect(lines[0]).to.match(/^ebpfperf: /)
  expect(lines[0]).to.match(names)
}

const env = {kernel: {release: '6.18.0'}, machine: 'x86_64', hostname: 'h', cpu: {model: 'cpu', count: 2}, virtualized: true, jit: {enable: '1', harden: '0'}, versions: {ebpfperf: '0.1.0', node: '20'}}
function result(started: string, mean: number): RunResult {
  const samples = Array.from({length: 10}, (_, i) => mean * (1 + ((i % 5) - 2) * 0.005))
  return {
    schema: RESULT_SCHEMA,
    suite: 'micro',
    started,
    complete: true,
    command: 'ebpfperf suite micro',
    environment: env as RunResult['environment'],
    cases: [{id: 'baseline', params: {cpu: 0}, metric: 'ns_per_op', unit: 'ns', higherIsBetter: false, status: 'ok', samples, stats: summarize(samples)}],
  }
}

describe('commands in-process: flags, --json, exit codes', function () {
  const dir = tempDir('cmd')
  const put = (name: string, r: RunResult) => {
    const p = join(dir, name)
    writeFileSync(p, JSON.stringify(r))
    return p
  }
  const base = put('base.json', result('2026-11-01T00:00:00Z', 10))
  const cand = put('cand.json', result('2026-11-02T00:00:00Z', 12))

  before(async () => {
    config = await sourceConfig()
    _useNative(new FakeNative())
  })
  after(() => _useNative(undefined))

  it('compare --json: one JSON document on stdout, the comparison with its cases and exit code', async () => {
    const r = await cli(['compare', base, cand, '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const doc = JSON.parse(r.stdout)
    expect(doc).to.include.keys('cases', 'exitCode')
    expect(doc.exitCode).to.equal(0)
    expect(doc.cases.map((c: {id: string}) => c.id)).to.deep.equal(['baseline'])
  })

  it('compare: a bad --threshold, a missing file, a file that is no result: exit 2, one line naming it', async () => {
    badInput(await cli(['compare', base, cand, '--threshold', 'abc']), /--threshold abc/)
    badInput(await cli(['compare', base, join(dir, 'missing.json')]), /missing\.json/)
    const notResult = join(dir, 'not-result.json')
    writeFileSync(notResult, '{"hello": 1}')
    badInput(await cli(['compare', base, notResult]), /not-result\.json/)
    badInput(await cli(['compare', base, cand, '--format', 'yaml']), /--format/)
  })

  it('suite micro: bad flags and bad suite files are exit 2 before anything is loaded', async () => {
    badInput(await cli(['suite', 'micro', '--repeat', '1']), /--repeat/)
    badInput(await cli(['suite', 'micro', '--bpf-stats', 'always']), /--bpf-stats/)
    badInput(await cli(['suite', 'micro', '--cpus', '0,4095']), /--cpus: CPU 4095/)
    badInput(await cli(['suite', 'micro', '--suite', join(fixtures, 'micro/malformed.suite.yml'), '--json']), /malformed YAML/)
    badInput(await cli(['suite', 'micro', '--suite', join(fixtures, 'micro/unknown-key.suite.yml')]), /repet: unknown key/)
  })

  it('other commands: unknown flags and bad option values are exit 2 with one line naming the flag', async () => {
    badInput(await cli(['doctor', '--bogus']), /--bogus/)
    badInput(await cli(['topology', 'status', '--dut', 'vm']), /--dut/)
    badInput(await cli(['report', join(dir, 'missing.json'), '--output', join(dir, 'r.html')]), /missing\.json/)
    badInput(await cli(['vm', 'run', '--bogus']), /--bogus/)
  })

  it('topology status --json: the status document of the shipped topology', async () => {
    const r = await cli(['topology', 'status', '--json'])
    expect(r.code, r.stderr).to.be.oneOf([0, 1])
    const doc = JSON.parse(r.stdout)
    expect(doc).to.include({schema: 'ebpfperf/topology-status/v1', topology: 'dut', dut: 'netns'})
    expect(doc.state).to.be.oneOf(['up', 'down', 'drifted'])
    expect(doc.nodes.map((n: {node: string}) => n.node)).to.include.members(['client', 'dut'])
  })
})
