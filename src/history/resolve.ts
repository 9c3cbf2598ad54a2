// `git:BRANCH[:PATH]` where a folder of runs is expected (compare --history): the branch's result files
// copied to a temporary folder. Only the newest run's suite, machine and kernel are taken, so a history
// mixing machines never compares timings measured on different hardware.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BadInputError} from '../util/errors.js'
import {localTip} from './branch.js'
import {Repo} from './git.js'
import {checkBranch, parseHistoryPath, type HistoryPath} from './layout.js'

export const isGitSpec = (spec: string): boolean => spec.startsWith('git:')

export interface GitHistory {
  dir: string
  /** The branch path of a copied file (git:BRANCH:PATH), for what compare prints. */
  label: (file: string) => string
  cleanup: () => void
}

/** Per suite: the runs in the same suite/machine/kernel folder as the suite's newest run. */
export function newestGroups(paths: HistoryPath[]): HistoryPath[] {
  const group = (p: HistoryPath) => `${p.suite}/${p.machine}/${p.kernel}`
  const newest = new Map<string, HistoryPath>()
  for (const p of paths) if (!newest.has(p.suite) || newest.get(p.suite)!.time < p.time) newest.set(p.suite, p)
  const keep = new Set([...newest.values()].map(group))
  return paths.filter((p) => keep.has(group(p)))
}

export function parseGitSpec(spec: string): {branch: string; path?: string} {
  const [, branch, ...rest] = spec.split(':')
  if (!branch) throw new BadInputError(`${spec}: expected git:BRANCH or git:BRANCH:PATH, e.g. git:perf-results:micro`)
  return {branch: checkBranch(branch), path: rest.join(':').replace(/^\/+|\/+$/g, '') || undefined}
}

/** The runs a `git:` spec names, copied out of the branch of the repository at `repoDir`. */
export async function historyFromGit(spec: string, repoDir = '.'): Promise<GitHistory> {
  const {branch, path} = parseGitSpec(spec)
  const repo = await Repo.open(repoDir)
  const tip = await localTip(repo, branch)
  if (!tip) throw new BadInputError(`${spec}: no branch ${branch} in this repository (ebpfperf history pull --remote origin fetches it)`)
  const blobs = new Map((await repo.lsFiles(tip, path)).map((f) => [f.path, f.sha]))
  const chosen = newestGroups([...blobs.keys()].map(parseHistoryPath).filter((p): p is HistoryPath => p !== undefined))
  if (chosen.length === 0) throw new BadInputError(`${spec}: no result files there (ebpfperf history list shows what the branch holds)`)
  const dir = mkdtempSync(join(tmpdir(), `ebpfperf-${branch.replace(/\//g, '_')}-`))
  const names = new Map<string, string>()
  try {
    for (const p of chosen) {
      const file = join(dir, p.path.replace(/\//g, '_'))
      writeFileSync(file, await repo.readBlob(blobs.get(p.path)!))
      names.set(file, `git:${branch}:${p.path}`)
    }
  } catch (error) {
    rmSync(dir, {recursive: true, force: true})
    throw error
  }
  return {dir, label: (f) => names.get(f) ?? f, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

/** The comparison's file names as branch paths instead of the temporary copies. */
export function relabel<T extends {base: string[]; candidate: string}>(cmp: T, h: GitHistory): T {
  return {...cmp, base: cmp.base.map(h.label), candidate: cmp.candidate.split(', ').map(h.label).join(', ')}
}
