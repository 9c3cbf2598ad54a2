// The shape every result document must have before compare, report or history touch it: each field of the
// right type, each sample a finite number. A damaged or hand-made file is refused naming the JSON path.

/** Why a value does not fit (undefined: it fits). `at` is its JSON path, for nested checks. */
type Rule = (v: unknown, at: string) => string | undefined

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const shown = (v: unknown) => (v === undefined ? 'nothing' : Array.isArray(v) ? 'a list' : isObject(v) ? 'an object' : JSON.stringify(v))
const expected = (what: string, v: unknown, at: string) => `${at}: expected ${what}, got ${shown(v)}`

const str: Rule = (v, at) => (typeof v === 'string' ? undefined : expected('a string', v, at))
const bool: Rule = (v, at) => (typeof v === 'boolean' ? undefined : expected('true or false', v, at))
const finite: Rule = (v, at) => (typeof v === 'number' && Number.isFinite(v) ? undefined : expected('a finite number', v, at))
/** JSON writes a non-finite bound (one sample's confidence interval) as null. */
const bound: Rule = (v, at) => (v === null ? undefined : finite(v, at))
const optional = (rule: Rule): Rule => (v, at) => (v === undefined ? undefined : rule(v, at))
const oneOf = (...words: string[]): Rule => (v, at) => (typeof v === 'string' && words.includes(v) ? undefined : expected(words.map((w) => `"${w}"`).join(', '), v, at))

const list = (item: Rule, length?: number): Rule => (v, at) => {
  if (!Array.isArray(v) || (length !== undefined && v.length !== length)) return expected(length ? `a list of ${length}` : 'a list', v, at)
  for (let i = 0; i < v.length; i++) {
    const problem = item(v[i], `${at}[${i}]`)
    if (problem) return problem
  }
  return undefined
}

/** An object whose listed fields fit their rules (other fields are left to the suite that wrote them). */
const fields = (rules: Record<string, Rule>): Rule => (v, at) => {
  if (!isObject(v)) return expected('an object', v, at)
  for (const [k, rule] of Object.entries(rules)) {
    const problem = rule(v[k], `${at}.${k}`)
    if (problem) return problem
  }
  return undefined
}

const mapOf = (value: Rule, what: string): Rule => (v, at) => {
  if (!isObject(v)) return expected(`an object of ${what}`, v, at)
  for (const [k, x] of Object.entries(v)) {
    const problem = value(x, `${at}.${k}`)
    if (problem) return problem
  }
  return undefined
}

const paramValue: Rule = (v, at) =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) ? undefined : expected('a string, finite number or true/false', v, at)

const SUMMARY = fields({n: finite, mean: finite, sd: finite, min: finite, max: finite, median: finite, ci95: list(bound, 2), halfWidth: bound, cv: finite})

const CASE = fields({
  id: str,
  params: mapOf(paramValue, 'strings, numbers or true/false'),
  metric: str,
  unit: str,
  higherIsBetter: bool,
  status: oneOf('ok', 'failed', 'skipped'),
  reason: optional(str),
  samples: list(finite),
  stats: optional(SUMMARY),
  extra: optional(mapOf(() => undefined, 'details')),
})

const ENVIRONMENT = fields({
  kernel: fields({release: str, configHash: optional(str), configPath: optional(str)}),
  machine: str,
  hostname: str,
  cpu: fields({model: str, count: finite, governor: optional(str)}),
  virtualized: bool,
  jit: fields({enable: optional(str), harden: optional(str), kallsyms: optional(str)}),
  bpfStatsEnabled: optional(str),
  versions: mapOf(optional(str), 'version strings'),
})

/** A commit id as git prints it, full or abbreviated (7 to 64 hex digits, either case). */
export const isCommitId = (s: string): boolean => /^[0-9a-f]{7,64}$/i.test(s)

/** A commit id (lower-case hex): it names a file in the results branch, so nothing else may pass. */
const commitId: Rule = (v, at) => (typeof v === 'string' && isCommitId(v) && v === v.toLowerCase() ? undefined : expected('a commit id (7 to 64 hex digits)', v, at))
const AB_SIDE = fields({from: str, commit: optional(commitId)})

const RUN = fields({
  suite: str,
  started: str,
  finished: optional(str),
  complete: bool,
  command: str,
  environment: ENVIRONMENT,
  cases: list(CASE),
  vm: optional(fields({emulated: bool, accel: str, kernel: optional(fields({release: optional(str)}))})),
  ab: optional(fields({base: AB_SIDE, candidate: AB_SIDE})),
})

/** The first way `doc` is not a result document, as "JSON.path: expected …, got …"; undefined when it is one. */
export function resultProblem(doc: unknown): string | undefined {
  return RUN(doc, '$')
}
