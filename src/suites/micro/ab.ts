// `suite micro --ab OTHER`: every selected test's program from two builds — this suite's objects (A, the
// base) and OTHER's (B, the candidate: an object folder or another suite file; --ab-base swaps the two
// sides, index.ts) — measured interleaved,
// one sample of A and one of B per pair in a random order, on the same CPUs. The host's drift then hits
// both sides of a pair alike, and the verdict comes from the pairs' ratios (compare.ts, compareAb).
import {existsSync, statSync} from 'node:fs'
import {basename, join} from 'node:path'
import {BadInputError} from '../../util/errors.js'
import {BpfObject, loadNative} from '../../native.js'
import type {CaseResult} from '../../results/store.js'
import {runCases} from './report.js'
import type {RunOutcome} from './runner.js'
import {loadSuite, type LoadOptions, type RunTest, type Suite} from './spec.js'

export {AB_MIN_PAIRS} from '../../results/compare.js'
/** Pairs per case when neither --repeat nor the suite file's samples say more. */
export const AB_DEFAULT_PAIRS = 12

export interface AbPair {
  a: RunTest
  b: RunTest
}

/** A and B of every selected run test, matched by test name (a suite file) or object file name (a folder). */
export function abPairs(suite: Suite, other: string, load: LoadOptions): AbPair[] {
  if (!existsSync(other)) throw new BadInputError(`--ab ${other}: no such file or folder (give the other build's object folder, e.g. its bpf/.output, or a suite file)`)
  const tests = suite.tests.filter((t): t is RunTest => t.kind === 'run')
  if (tests.length === 0) throw new BadInputError(`--ab ${other}: no BPF_PROG_TEST_RUN test selected (A/B pairs run tests; buffer tests are not paired)`)
  const pairs = statSync(other).isDirectory() ? tests.map((a) => ({a, b: {...a, objectPath: join(other, basename(a.objectPath))}})) : fromSuiteFile(tests, other, load)
  const programs = new Map<string, Map<string, number>>()
  for (const {a, b} of pairs) {
    if (!existsSync(b.objectPath)) throw new BadInputError(`--ab ${other}: ${basename(b.objectPath)} (test ${a.name}) is not there: the folder needs every object the selected tests use`)
    let have = programs.get(b.objectPath)
    if (!have) {
      have = objectPrograms(b.objectPath, other)
      programs.set(b.objectPath, have)
    }
    for (const p of [a.program, ...a.load, ...(a.prepare ? [a.prepare.program] : [])]) {
      if (!have.has(p)) throw new BadInputError(`--ab ${other}: ${basename(b.objectPath)} has no program ${p} (test ${a.name}): A/B programs must match by name`)
    }
    if (have.get(a.program) !== a.progType) throw new BadInputError(`--ab ${other}: program ${a.program} in ${basename(b.objectPath)} is of another program type than in ${basename(a.objectPath)} (test ${a.name})`)
  }
  return pairs
}

function fromSuiteFile(tests: RunTest[], file: string, load: LoadOptions): AbPair[] {
  const other = loadSuite(file, {...load, tests: tests.map((t) => t.name)})
  return tests.map((a) => {
    const b = other.tests.find((t) => t.name === a.name)
    if (!b || b.kind !== 'run') throw new BadInputError(`--ab ${file}: no run test named ${a.name} there: A/B tests match by name`)
    if (b.program !== a.program) throw new BadInputError(`--ab ${file}: test ${a.name} runs program ${a.program} in A but ${b.program} in B: A/B programs must match by name`)
    return {a, b: {...b, samples: a.samples, cpus: a.cpus}}
  })
}

function objectPrograms(path: string, other: string): Map<string, number> {
  let obj: BpfObject | undefined
  try {
    obj = BpfObject.open(path, loadNative())
    return new Map(obj.programs().map((p) => [p.name, p.type]))
  } catch (error) {
    throw new BadInputError(`--ab ${other}: ${path}: ${(error as Error).message.split('\n')[0]}`)
  } finally {
    obj?.close()
  }
}

/** One pair's outcomes: A's and B's samples and the order of each pair (AB or BA). */
export interface AbDone {
  a: RunOutcome
  b: RunOutcome
  order: string[]
}

/** Result cases of both variants: params.variant A or B, extra.order the order of each pair (AB or BA). */
export function abCases(pairs: AbDone[], baseline: string | undefined): CaseResult[] {
  const tag = (variant: 'A' | 'B') =>
    runCases(pairs.map((p) => (variant === 'A' ? p.a : p.b)), baseline).map((c) => {
      const p = pairs.find((x) => x.a.test.name === c.id)
      const t = variant === 'A' ? p?.a.test : p?.b.test
      return {...c, params: {...c.params, variant}, extra: {...c.extra, objectPath: t?.objectPath, order: p?.order}}
    })
  return [...tag('A'), ...tag('B')]
}
