// Micro suite files (*.suite.yml): read, checked against profiles/micro/suite.schema.json, then against the
// objects they name (programs, program types, maps, map kinds) and this machine (CPUs). Every mistake is
// one BadInputError line naming the file, the test and the field (exit 2), before anything is loaded.
import {existsSync, readFileSync} from 'node:fs'
import {readText} from '../../kernel/runtime.js'
import {dirname, isAbsolute, join, resolve} from 'node:path'
import {BadInputError} from '../../util/errors.js'
import {MIB, readInput, readYaml} from '../../util/input.js'
import {projectRoot} from '../../util/paths.js'
import {validate, type JsonSchema} from '../../util/schema.js'
import {MAP_TYPES, PROG_TYPES} from '../../kernel/uapi.js'
import {BpfObject, loadNative, type MapInfo, type ProgramInfo} from '../../native.js'
import {ipv4UdpPacket} from './packet.js'

export const SUITE_SCHEMA = 'ebpfperf/micro-suite/v1'
export const defaultSuiteFile = (): string => join(projectRoot(), 'profiles', 'micro', 'default.suite.yml')
export const suiteSchemaFile = (): string => join(projectRoot(), 'profiles', 'micro', 'suite.schema.json')

/** Suite-file program types → kernel program type, and how the runner drives them. */
export const PROGRAM_TYPES: Record<string, {progType: number; mode: 'repeat' | 'call'; label: string}> = {
  xdp: {progType: PROG_TYPES.xdp, mode: 'repeat', label: 'xdp'},
  tc: {progType: PROG_TYPES.sched_cls, mode: 'repeat', label: 'tc'},
  sched_cls: {progType: PROG_TYPES.sched_cls, mode: 'repeat', label: 'tc'},
  socket_filter: {progType: PROG_TYPES.socket_filter, mode: 'repeat', label: 'socket_filter'},
  raw_tracepoint: {progType: PROG_TYPES.raw_tracepoint, mode: 'call', label: 'raw_tp'},
  raw_tp: {progType: PROG_TYPES.raw_tracepoint, mode: 'call', label: 'raw_tp'},
}

interface TestBase {
  index: number
  name: string
  group: string
  /** Case name in profiles/micro.profile.yml that gates the test. */
  case?: string
  objectPath: string
  program: string
  samples: number
  quick: boolean
  default: boolean
  note?: string
}

export interface RunTest extends TestBase {
  kind: 'run'
  type: string // label: xdp, tc, socket_filter, raw_tp
  progType: number
  mode: 'repeat' | 'call'
  load: string[]
  prepare?: {program: string; repeat: number; expect: number}
  maps: {name: string; kind: string; fill?: number; keySize: number; valueSize: number; percpu: boolean}[]
  data?: Buffer
  ctx?: Buffer
  /** 0: calibrated. */
  repeat: number
  cpus: number[]
  opsPerRun: number
  expect: number | 'cpu'
  concurrent: boolean
  /** Every sample from a fresh load of the object, so the JIT's per-load code placement is sampled, not fixed for the run. */
  reload: boolean
}

export interface BufferTest extends TestBase {
  kind: 'buffer'
  mechanism: 'ringbuf' | 'perfbuf'
  flushProgram?: string
  map: string
  counters: string
  eventSize: number
  events: number
  batch: number
  rate: number
  producers: number[]
  consumerCpu?: number
  data: Buffer
  /** Return value of the producer and flush programs when all went well. */
  expect: number
  /** Ring buffer bytes (from the object): the perf buffer gets the same total, split per CPU. */
  ringBytes: number
}

export type MicroTest = RunTest | BufferTest

export interface Suite {
  file: string
  name: string
  description?: string
  baseline?: string
  targetNs: number
  /** Test runs per sample (mode repeat). */
  runsPerSample: number
  cpus: number[]
  tests: MicroTest[]
  /** Tests in the file that the selection (--quick, --test, default: false) left out. */
  notSelected: number
}

export interface LoadOptions {
  quick?: boolean
  /** --cpus: replaces every test's CPUs. */
  cpus?: number[]
  /** --repeat: samples per test. */
  samples?: number
  /** --test patterns (`*` matches anything); tests with default: false run only when named. */
  tests?: string[]
  targetMs?: number
  /** --runs-per-sample */
  runsPerSample?: number
}

export class SuiteError extends BadInputError {
  constructor(readonly file: string, reason: string) {
    super(`suite ${file}: ${reason}`)
    this.name = 'SuiteError'
  }
}

/** CPUs the kernel has online (/sys/devices/system/cpu/online, e.g. "0-3,6"). */
export function onlineCpus(text?: string): number[] {
  const raw = text ?? readText('/sys/devices/system/cpu/online') ?? '0'
  const out: number[] = []
  for (const part of raw.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number)
    for (let c = a; c <= (b ?? a); c++) out.push(c)
  }
  return out
}

/** "0,1" / "0-3" → [0, 1] / [0, 1, 2, 3]; each must be online; for --cpus. */
export function parseCpuList(text: string, online: number[], what = '--cpus'): number[] {
  const cpus: number[] = []
  for (const part of text.split(',').map((s) => s.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!m) throw new BadInputError(`${what}: "${text}" is not a CPU list (e.g. 0,1 or 0-3)`)
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])]
    if (b < a) throw new BadInputError(`${what}: "${part}" is an empty range`)
    for (let c = a; c <= b; c++) if (!cpus.includes(c)) cpus.push(c)
  }
  for (const c of cpus) if (!online.includes(c)) throw new BadInputError(`${what}: CPU ${c} does not exist or is offline here (online: ${describeCpus(online)})`)
  return cpus
}

export function describeCpus(cpus: number[]): string {
  return cpus.join(',')
}

let schemaCache: JsonSchema | undefined
function suiteSchema(): JsonSchema {
  schemaCache ??= JSON.parse(readFileSync(suiteSchemaFile(), 'utf8')) as JsonSchema
  return schemaCache
}

/** The schema's definition of a test of this kind ("run" or "buffer"), or of another named part. */
const testSchema = (kind: string): JsonSchema => suiteSchema().$defs![kind]

/** A field's own schema, following its $ref into the definitions. */
const fieldSchema = (s: JsonSchema): JsonSchema => (s.$ref ? testSchema(s.$ref.replace(/^#\/\$defs\//, '')) : s)

type Raw = Record<string, unknown>

/** "$.defaults.cpus: …" → "defaults.cpus: …". */
function fieldOf(error: string): string {
  return error.replace(/^\$\.?/, '').replace(/^: /, '')
}

/** ["a", "b", "c"] → "a, b and c". */
function inWords(names: string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
}

/** A schema error about one test → the field it is about and what is wrong. */
export function splitError(error: string, kind: string): {field: string; reason: string} {
  const m = /^\$(\S*?): (.*)$/s.exec(error)
  if (!m) return {field: 'test', reason: error}
  const path = m[1].replace(/^\./, '')
  const missing = /^missing "([^"]+)"$/.exec(m[2])
  if (missing) return {field: path ? `${path}.${missing[1]}` : missing[1], reason: `missing (a ${kind} test needs ${path ? 'it' : inWords(testSchema(kind).required ?? [])})`}
  return {field: path || 'test', reason: m[2]}
}

function globToRegExp(p: string): RegExp {
  return new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`)
}

/** Objects opened once per path (to check programs and maps), closed at the end of loadSuite. */
class ObjectCatalog {
  private cache = new Map<string, ObjectContents>()
  get(path: string): ObjectContents {
    let entry = this.cache.get(path)
    if (!entry) {
      const obj = BpfObject.open(path, loadNative())
      try {
        entry = {programs: obj.programs(), maps: obj.maps()}
      } finally {
        obj.close()
      }
      this.cache.set(path, entry)
    }
    return entry
  }
}

interface ObjectContents {
  programs: ProgramInfo[]
  maps: MapInfo[]
}

/** Map kinds a test may name (the schema's list) → kernel map type. */
const mapKindTypes = (): Record<string, number> => Object.fromEntries((testSchema('map').properties!.kind.enum as string[]).map((k) => [k, MAP_TYPES[k]]))
const PERCPU_KINDS = new Set(['percpu_array', 'percpu_hash', 'lru_percpu_hash'])
/** Kinds whose values are not plain bytes: user space cannot fill them with zeros. */
const UNFILLABLE_KINDS = ['prog_array', 'array_of_maps', 'hash_of_maps', 'ringbuf', 'perf_event_array']
const typeName = (t: number, table: Record<string, number>) => Object.entries(table).find(([, v]) => v === t)?.[0] ?? `type ${t}`

/** Test runs per sample when neither the suite file (defaults.runs_per_sample) nor --runs-per-sample says. */
export const DEFAULT_RUNS_PER_SAMPLE = 20

/** What every test of a file reads: where the file is, its defaults, and what the options and defaults decide. */
interface SuiteContext {
  /** The file as given: every message names it. */
  file: string
  /** Its folder: relative object and input paths start there. */
  base: string
  defaults: Raw
  opts: LoadOptions
  online: number[]
  cpus: number[]
  targetNs: number
  runsPerSample: number
  fileSamples: number
  quickSamples: number
  catalog: ObjectCatalog
}

/** One test entry while it is checked: its raw fields, where it is, and its object's programs and maps. */
interface TestScope {
  t: Raw
  kind: 'run' | 'buffer'
  objectPath: string
  info: ObjectContents
  bad: (field: string, reason: string) => SuiteError
}

/**
 * A suite file → the tests to run. Read and check the whole file against the schema, take the defaults and
 * options, check each test against the schema and then against its object, then select (--test, --quick).
 */
export function loadSuite(file: string, opts: LoadOptions = {}, online: number[] = onlineCpus()): Suite {
  const path = resolve(file)
  const doc = readSuiteDocument(file, path, online)
  const ctx = suiteContext(file, path, doc, opts, online)
  const tests = buildTests(ctx, doc.tests as Raw[])
  if (doc.baseline !== undefined && !tests.some((t) => t.name === doc.baseline)) throw new SuiteError(file, `baseline: no test is called "${doc.baseline}"`)
  if (opts.cpus) for (const c of opts.cpus) if (!online.includes(c)) throw new BadInputError(`--cpus: CPU ${c} does not exist or is offline here (online: ${describeCpus(online)})`)
  const selected = selectTests(file, tests, opts)
  return {
    file: path,
    name: (doc.name as string | undefined) ?? 'suite',
    description: doc.description as string | undefined,
    baseline: doc.baseline as string | undefined,
    targetNs: ctx.targetNs,
    runsPerSample: ctx.runsPerSample,
    cpus: ctx.cpus,
    tests: selected,
    notSelected: tests.length - selected.length,
  }
}

/** The file's YAML, checked as a whole (the tests' own fields are checked one test at a time). */
function readSuiteDocument(file: string, path: string, online: number[]): Raw {
  const fail = (reason: string) => new SuiteError(file, reason)
  const doc = readYaml(path, fail) as Raw
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw fail('not a suite file (expected a mapping with schema: and tests:)')
  if (doc.schema !== SUITE_SCHEMA) throw fail(`schema: expected "${SUITE_SCHEMA}", got ${JSON.stringify(doc.schema)}`)
  const schema = suiteSchema()
  const defaults = (doc.defaults ?? {}) as Raw
  const defaultCpusErr = typeof defaults === 'object' ? cpuListProblem(defaults.cpus, schema.$defs!.cpus, online) : undefined
  if (defaultCpusErr) throw fail(`defaults.cpus: ${defaultCpusErr}`)
  const top = validate(doc, schema)
  if (top) throw fail(fieldOf(top))
  return doc
}

/** Settings every test starts from: options first, then the file's defaults, then ours. */
function suiteContext(file: string, path: string, doc: Raw, opts: LoadOptions, online: number[]): SuiteContext {
  const defaults = (doc.defaults ?? {}) as Raw
  return {
    file,
    base: dirname(path),
    defaults,
    opts,
    online,
    cpus: opts.cpus ?? (Array.isArray(defaults.cpus) ? (defaults.cpus as number[]) : online),
    targetNs: Math.round((opts.targetMs ?? (defaults.target_ms as number | undefined) ?? 10) * 1e6),
    runsPerSample: opts.runsPerSample ?? (defaults.runs_per_sample as number | undefined) ?? DEFAULT_RUNS_PER_SAMPLE,
    fileSamples: (defaults.samples as number | undefined) ?? 10,
    quickSamples: (defaults.quick_samples as number | undefined) ?? 3,
    catalog: new ObjectCatalog(),
  }
}

function buildTests(ctx: SuiteContext, rawTests: Raw[]): MicroTest[] {
  const seen = new Set<string>()
  const tests: MicroTest[] = []
  for (const [i, t] of rawTests.entries()) {
    const scope = checkTestFields(ctx, t, i, seen)
    const base = testBase(ctx, scope, i)
    tests.push(scope.kind === 'run' ? buildRunTest(ctx, scope, base) : buildBufferTest(ctx, scope, base))
  }
  return tests
}

/** A test's fields against the schema, its name against the others', its object opened: the scope the rest checks in. */
function checkTestFields(ctx: SuiteContext, t: Raw, i: number, seen: Set<string>): TestScope {
  const label = `test "${String(t.name)}" (tests[${i}])`
  const bad = (field: string, reason: string) => new SuiteError(ctx.file, `${label}: ${field}: ${reason}`)
  const kind = t.kind ?? 'run'
  if (kind !== 'run' && kind !== 'buffer') throw bad('kind', `expected "run" or "buffer", got ${JSON.stringify(kind)}`)
  checkPlainFields(ctx, t, kind, bad)
  const err = validate(t, testSchema(kind), suiteSchema())
  if (err) {
    const {field, reason} = splitError(err, kind)
    throw bad(field, reason)
  }
  const name = t.name as string
  if (seen.has(name)) throw bad('name', `another test is called "${name}" (names must be unique)`)
  seen.add(name)
  const objectPath = resolveObject(t.object as string, ctx.base)
  if (!objectPath) throw bad('object', `${t.object} not found (looked next to the suite file and in bpf/.output/; build the shipped objects with: make -C bpf)`)
  try {
    return {t, kind, objectPath, info: ctx.catalog.get(objectPath), bad}
  } catch (error) {
    throw bad('object', (error as Error).message.split('\n')[0])
  }
}

/**
 * Fields checked before the rest of a test, so that a mistake in them reads plainly (what the number counts,
 * which CPUs exist here). The schema decides what is valid; these words only explain it, with its bounds.
 */
function checkPlainFields(ctx: SuiteContext, t: Raw, kind: 'run' | 'buffer', bad: TestScope['bad']): void {
  const fields = testSchema(kind).properties!
  const invalid = (field: string) => t[field] !== undefined && validate(t[field], fields[field], suiteSchema()) !== undefined
  if (kind === 'buffer') {
    const pErr = cpuListProblem(t.producers, fieldSchema(fields.producers), ctx.online)
    if (pErr) throw bad('producers', pErr)
    return
  }
  if (invalid('repeat')) {
    const [min, max] = countRange(fields.repeat)
    const runs = `${ctx.runsPerSample} run${ctx.runsPerSample === 1 ? '' : 's'}`
    throw bad('repeat', `${JSON.stringify(t.repeat)} is not "auto" or a count from ${min} to ${max.toLocaleString('en-US')} (iterations per test run; "auto" calibrates ~${ctx.targetNs / 1e6} ms per sample of ${runs})`)
  }
  if (invalid('expect')) {
    const [min, max] = countRange(fields.expect)
    throw bad('expect', `${JSON.stringify(t.expect)} is not a return value (${min}..${max}) or "cpu"`)
  }
  const cpuErr = cpuListProblem(t.cpus, fieldSchema(fields.cpus), ctx.online)
  if (cpuErr) throw bad('cpus', cpuErr)
}

/** The bounds of the integer alternative of a oneOf field (repeat, expect). */
function countRange(field: JsonSchema): [number, number] {
  const n = field.oneOf!.find((s) => s.type === 'integer')!
  return [n.minimum!, n.maximum!]
}

/** What every test has, whatever its kind. */
function testBase(ctx: SuiteContext, {t, kind, objectPath}: TestScope, index: number): TestBase {
  const {opts, quickSamples, fileSamples} = ctx
  const samples = t.samples as number | undefined
  return {
    index,
    name: t.name as string,
    group: (t.group as string | undefined) ?? (kind === 'buffer' ? 'buffers' : 'tests'),
    case: t.case as string | undefined,
    objectPath,
    program: t.program as string,
    samples: opts.samples ?? (opts.quick ? Math.min(samples ?? quickSamples, quickSamples) : (samples ?? fileSamples)),
    quick: t.quick === true,
    default: t.default !== false,
    note: t.note as string | undefined,
  }
}

function findProgram(s: TestScope, field: string, name: string): ProgramInfo {
  const p = s.info.programs.find((x) => x.name === name)
  if (!p) throw s.bad(field, `no program named ${name} in ${s.objectPath} (programs: ${s.info.programs.map((x) => x.name).join(', ') || 'none'})`)
  return p
}

function findMap(s: TestScope, field: string, name: string): MapInfo {
  const m = s.info.maps.find((x) => x.name === name)
  if (!m) throw s.bad(field, `no map named ${name} in ${s.objectPath} (maps: ${s.info.maps.map((x) => x.name).join(', ') || 'none'})`)
  return m
}

function buildRunTest(ctx: SuiteContext, s: TestScope, base: TestBase): RunTest {
  const {t} = s
  const {opts} = ctx
  const pt = PROGRAM_TYPES[t.type as string]
  const prog = findProgram(s, 'program', t.program as string)
  if (prog.type !== pt.progType) throw s.bad('type', `${t.type}, but program ${prog.name} in ${s.objectPath} is ${typeName(prog.type, PROG_TYPES)} (section "${prog.section}")`)
  const load = ((t.load as string[] | undefined) ?? []).map((n, j) => findProgram(s, `load[${j}]`, n).name)
  const prepare = t.prepare ? prepareStep(s, prog, pt.mode) : undefined
  const maps = ((t.maps as Raw[] | undefined) ?? []).map((m, j) => checkMap(s, m, j))
  const {data, ctx: ctxData} = runInput(ctx, s, pt.mode)
  return {
    ...base,
    kind: 'run',
    type: pt.label,
    progType: pt.progType,
    mode: pt.mode,
    load,
    prepare,
    maps,
    data,
    ctx: ctxData,
    repeat: t.repeat === undefined || t.repeat === 'auto' ? 0 : (t.repeat as number),
    cpus: opts.cpus ?? (Array.isArray(t.cpus) ? (t.cpus as number[]) : t.cpus === 'all' ? ctx.online : ctx.cpus),
    opsPerRun: (t.ops_per_run as number | undefined) ?? 1,
    expect: (t.expect as number | 'cpu' | undefined) ?? 0,
    concurrent: t.concurrent === true,
    reload: ((t.reload ?? ctx.defaults.reload) as boolean | undefined) ?? true,
  }
}

/** The map-preparation program: run before the test on the same data, so it must be of the test program's type. */
function prepareStep(s: TestScope, prog: ProgramInfo, mode: RunTest['mode']): RunTest['prepare'] {
  const pr = s.t.prepare as Raw
  const pp = findProgram(s, 'prepare.program', pr.program as string)
  if (mode !== 'repeat' || pp.type !== prog.type)
    throw s.bad('prepare.program', `${pp.name} is ${typeName(pp.type, PROG_TYPES)}; a map-preparation program must be an XDP, tc or socket-filter program`)
  return {program: pp.name, repeat: (pr.repeat as number | undefined) ?? 1, expect: (pr.expect as number | undefined) ?? 0}
}

/** A map the test names: in the object, of the kind it says, and fillable as asked. */
function checkMap(s: TestScope, m: Raw, j: number): RunTest['maps'][number] {
  const info = findMap(s, `maps[${j}].name`, m.name as string)
  const kind = m.kind as string
  if (info.type !== mapKindTypes()[kind]) throw s.bad(`maps[${j}].kind`, `${kind}, but map ${info.name} in ${s.objectPath} is ${typeName(info.type, MAP_TYPES)}`)
  if (m.fill !== undefined) {
    if (info.keySize !== 4) throw s.bad(`maps[${j}].fill`, `fill writes 4-byte keys 0..N-1, but ${info.name} has ${info.keySize}-byte keys (fill it with a prepare program instead)`)
    if (UNFILLABLE_KINDS.includes(kind)) throw s.bad(`maps[${j}].fill`, `cannot fill a ${kind} with zero values`)
    if ((m.fill as number) > info.maxEntries) throw s.bad(`maps[${j}].fill`, `${m.fill} keys do not fit in ${info.name} (max_entries ${info.maxEntries})`)
  }
  return {name: info.name, kind, fill: m.fill as number | undefined, keySize: info.keySize, valueSize: info.valueSize, percpu: PERCPU_KINDS.has(kind)}
}

/** A run test's data_in (packet programs need one, at least an Ethernet header) and ctx_in (raw tracepoints' arguments). */
function runInput(ctx: SuiteContext, s: TestScope, mode: RunTest['mode']): {data?: Buffer; ctx?: Buffer} {
  const {t, bad} = s
  const input = (t.input ?? ctx.defaults.input) as Raw | undefined
  let data: Buffer | undefined
  if (mode === 'repeat') {
    data = buildInput(input, (f, r) => bad(`input.${f}`, r), ctx.base)
    if (!data) throw bad('input', 'XDP, tc and socket-filter programs need input data (packet + size, hex or file)')
    if (data.length < 14) throw bad('input', `${data.length} bytes is shorter than an Ethernet header (14); BPF_PROG_TEST_RUN would refuse it`)
  } else if (t.input) {
    const inp = t.input as Raw
    if (inp.packet || inp.hex || inp.file) throw bad('input', 'raw tracepoint programs take no packet; give their arguments as ctx_hex')
  }
  return {data, ctx: input?.ctx_hex ? Buffer.from(input.ctx_hex as string, 'hex') : undefined}
}

function buildBufferTest(ctx: SuiteContext, s: TestScope, base: TestBase): BufferTest {
  const {t, bad} = s
  const prog = findProgram(s, 'program', t.program as string)
  if (prog.type !== PROG_TYPES.sched_cls && prog.type !== PROG_TYPES.xdp)
    throw bad('program', `${prog.name} is ${typeName(prog.type, PROG_TYPES)}; buffer producers are tc (or XDP) programs run with BPF_PROG_TEST_RUN`)
  const mechanism = t.mechanism as 'ringbuf' | 'perfbuf'
  const {map, counters} = bufferMaps(s, mechanism)
  const pool = ctx.opts.cpus ?? ctx.cpus
  return {
    ...base,
    kind: 'buffer',
    mechanism,
    flushProgram: mechanism === 'perfbuf' ? flushProgram(s, prog) : undefined,
    map,
    counters,
    eventSize: t.event_size as number,
    events: ctx.opts.quick ? ((t.quick_events as number | undefined) ?? (t.events as number)) : (t.events as number),
    batch: (t.batch as number | undefined) ?? 1000,
    rate: (t.rate as number | undefined) ?? 0,
    producers: t.producers === 'all' ? pool : Array.isArray(t.producers) ? (t.producers as number[]) : [pool[0]],
    consumerCpu: t.consumer_cpu as number | undefined,
    data: buildInput((t.input ?? ctx.defaults.input) as Raw | undefined, (f, r) => bad(`input.${f}`, r), ctx.base) ?? ipv4UdpPacket(64),
    expect: (t.expect as number | undefined) ?? 0,
    ringBytes: s.info.maps.find((x) => x.type === MAP_TYPES.ringbuf)?.maxEntries ?? 4 << 20,
  }
}

/** The buffer the events go through (of the mechanism's map type) and the per-CPU counters the program keeps. */
function bufferMaps(s: TestScope, mechanism: BufferTest['mechanism']): {map: string; counters: string} {
  const m = findMap(s, 'map', s.t.map as string)
  const wantMap = mechanism === 'ringbuf' ? MAP_TYPES.ringbuf : MAP_TYPES.perf_event_array
  if (m.type !== wantMap) throw s.bad('map', `${mechanism} needs a ${typeName(wantMap, MAP_TYPES)} map, but ${m.name} is ${typeName(m.type, MAP_TYPES)}`)
  const c = findMap(s, 'counters', s.t.counters as string)
  if (c.type !== MAP_TYPES.percpu_array || c.valueSize !== 16 || c.keySize !== 4)
    throw s.bad('counters', `${c.name} must be a per-CPU array with 4-byte keys of struct micro_counters {__u64 produced, failed} (16 bytes); it is ${typeName(c.type, MAP_TYPES)} with ${c.valueSize}-byte values`)
  return {map: m.name, counters: c.name}
}

/** A perf buffer test's flush program: one marker event per producer CPU, so that the kernel reports pending lost events. */
function flushProgram(s: TestScope, prog: ProgramInfo): string {
  if (!s.t.flush_program) throw s.bad('flush_program', 'a perf buffer test needs a flush program (one marker event per producer CPU, so that the kernel reports pending lost events)')
  const fp = findProgram(s, 'flush_program', s.t.flush_program as string)
  if (fp.type !== prog.type) throw s.bad('flush_program', `${fp.name} is ${typeName(fp.type, PROG_TYPES)}, the producer ${typeName(prog.type, PROG_TYPES)}: they must be of one type`)
  return fp.name
}

/** --test patterns (a test marked default: false only when named exactly) and --quick. */
function selectTests(file: string, tests: MicroTest[], opts: LoadOptions): MicroTest[] {
  let selected: MicroTest[]
  if (opts.tests && opts.tests.length > 0) {
    const res = opts.tests.map((p) => ({p, re: globToRegExp(p)}))
    for (const {p, re} of res) if (!tests.some((t) => re.test(t.name))) throw new BadInputError(`--test ${p}: no test of ${file} matches (tests: ${tests.map((t) => t.name).slice(0, 12).join(', ')}${tests.length > 12 ? ', …' : ''})`)
    // a pattern selects the tests it matches, but a test marked default: false only when named exactly
    selected = tests.filter((t) => (t.default ? res.some(({re}) => re.test(t.name)) : res.some(({p}) => p === t.name)))
    if (opts.quick) selected = selected.filter((t) => t.quick || res.some(({p}) => p === t.name))
  } else {
    selected = tests.filter((t) => t.default && (!opts.quick || t.quick))
  }
  if (selected.length === 0) throw new BadInputError(`suite ${file}: no test selected${opts.quick ? ' (--quick runs the tests marked quick: true)' : ''}`)
  return selected
}

/**
 * undefined when valid; a reason naming what is wrong with a cpus / producers value otherwise. The words it
 * takes come from the schema; which CPUs exist is this machine's answer (every online CPU is a valid number,
 * so a CPU that is not online is either not a CPU number or one this machine does not have).
 */
function cpuListProblem(v: unknown, field: JsonSchema, online: number[]): string | undefined {
  if (v === undefined) return undefined
  const words = field.oneOf!.flatMap((s) => (s.enum ?? []) as string[])
  const choices = words.map((w) => `"${w}"`).join(' or ')
  if (typeof v === 'string') return words.includes(v) ? undefined : `expected ${choices} or a list of CPU numbers, got "${v}"`
  if (!Array.isArray(v) || v.length === 0) return `expected ${choices} or a non-empty list of CPU numbers`
  const stranger = v.find((c) => !online.includes(c))
  if (stranger !== undefined) return Number.isInteger(stranger) && stranger >= 0 ? `CPU ${stranger} does not exist or is offline here (online: ${describeCpus(online)})` : `${JSON.stringify(stranger)} is not a CPU number`
  if (new Set(v).size !== v.length) return 'lists a CPU twice'
  return undefined
}

function resolveObject(name: string, base: string): string | undefined {
  const candidates = isAbsolute(name) ? [name] : [join(base, name), join(projectRoot(), 'bpf', '.output', name)]
  return candidates.find((c) => existsSync(c))
}

function buildInput(input: Raw | undefined, bad: (field: string, reason: string) => Error, base: string): Buffer | undefined {
  if (!input) return undefined
  const given = ['packet', 'hex', 'file'].filter((k) => input[k] !== undefined)
  if (given.length > 1) throw bad(given[1], `give one of packet, hex or file, not ${given.join(' and ')}`)
  if (input.hex) return Buffer.from(input.hex as string, 'hex')
  if (input.file) {
    const p = isAbsolute(input.file as string) ? (input.file as string) : join(base, input.file as string)
    return readInput(p, (reason) => bad('file', `${p}: ${reason}`), {maxBytes: MIB}) // a test run's packet is KiB
  }
  if (input.size !== undefined && !input.packet) throw bad('size', 'size goes with packet: ipv4-udp or packet: zeros')
  if (input.packet) {
    const size = (input.size as number | undefined) ?? 64
    if (input.packet === 'zeros') return Buffer.alloc(size)
    if (size < 42) throw bad('size', `an ipv4-udp packet needs at least 42 bytes, not ${size}`)
    return ipv4UdpPacket(size)
  }
  return undefined
}
