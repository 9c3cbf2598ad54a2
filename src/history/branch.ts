// The results branch: add runs (locally, or pushed with retries when others push at the same moment),
// pull it from a remote, list it, copy files out. Only objects and the branch's own ref are written.
import {readFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {loadResult, writeAtomic} from '../results/store.js'
import {isCommitId} from '../results/validate.js'
import {BadInputError} from '../util/errors.js'
import {addToTree, Repo} from './git.js'
import {historyPath, MARKER, MARKER_TEXT} from './layout.js'

export interface PushOptions {
  branch: string
  remote?: string
  retries: number
  machine?: string
  commit: string // the measured code's commit
}

export interface PushOutcome {
  branch: string
  commit: string // the results branch's new tip
  added: string[]
  already: string[] // paths that held the same file already
  pushed: boolean
  attempts: number
}

const refOf = (branch: string) => `refs/heads/${branch}`

/** The commit `rev` names, after checking it is a results branch (the marker file); not one: exit 2. */
async function checkedTip(repo: Repo, branch: string, rev: string, where: string): Promise<string> {
  const tip = await repo.revParse(rev)
  if (!tip) throw new BadInputError(`${where}${branch}: not a commit`)
  if ((await repo.maybe(['cat-file', '-e', `${tip}:${MARKER}`])) === undefined) {
    throw new BadInputError(`branch ${where}${branch} exists and is not an ebpfperf results branch (no ${MARKER} file in it): give another --branch`)
  }
  return tip
}

export async function localTip(repo: Repo, branch: string): Promise<string | undefined> {
  if (!(await repo.revParse(refOf(branch)))) return undefined
  return checkedTip(repo, branch, refOf(branch), '')
}

/** The commit measured: a revision of the repository, or a bare commit id from elsewhere. */
export async function measuredCommit(repo: Repo, rev: string | undefined): Promise<string> {
  const sha = await repo.revParse(rev ?? 'HEAD')
  if (sha) return sha
  if (rev && isCommitId(rev)) return rev.toLowerCase()
  throw new BadInputError(rev ? `--commit ${rev}: not a commit of this repository nor a commit id` : 'this repository has no commit yet: give --commit SHA (the commit the results were measured at)')
}

/** The result files as blobs at their layout paths (each file checked before anything is written). */
export async function resultBlobs(repo: Repo, files: string[], opts: {machine?: string; commit: string}): Promise<Map<string, string>> {
  const runs = files.map((f) => ({file: f, run: loadResult(f)}))
  const partial = runs.find((r) => !r.run.complete)
  if (partial) throw new BadInputError(`${partial.file}: an interrupted run (complete: false) is not kept in the history; run the suite again`)
  const out = new Map<string, string>()
  // an A/B result is filed under its candidate's commit when it records one (suite micro --ab OTHER --ab-commit)
  for (const {file, run} of runs) out.set(historyPath(run, {...opts, commit: run.ab?.candidate.commit ?? opts.commit}).path, await repo.hashBlob(readFileSync(file, 'utf8')))
  return out
}

/** A commit on `parent` (undefined: a new orphan history) with `files` added; the parent itself when nothing is new. */
async function commitFiles(repo: Repo, parent: string | undefined, files: Map<string, string>, message: string, extraParent?: string) {
  const already: string[] = []
  const fresh = new Map<string, string>()
  for (const [path, sha] of files) {
    if (parent && (await repo.maybe(['rev-parse', '--verify', '--quiet', `${parent}:${path}`])) === sha) already.push(path)
    else fresh.set(path, sha)
  }
  if (parent && fresh.size === 0 && !extraParent) return {commit: parent, added: [], already}
  if (!parent) fresh.set(MARKER, await repo.hashBlob(MARKER_TEXT))
  const tree = await addToTree(repo, parent ? `${parent}^{tree}` : undefined, fresh)
  const commit = await repo.commitTree(tree, [parent, extraParent].filter((p): p is string => Boolean(p)), message)
  return {commit, added: [...fresh.keys()].filter((p) => p !== MARKER), already}
}

/** Refuses to move the branch this work tree has checked out (its files would silently disagree with it). */
async function notCheckedOut(repo: Repo, branch: string): Promise<void> {
  if ((await repo.currentBranch()) === refOf(branch)) throw new BadInputError(`branch ${branch} is checked out here: history writes only branches that are not checked out (switch to your code branch)`)
}

const message = (files: Map<string, string>, commit: string) =>
  `ebpfperf history: ${files.size} run(s) of ${commit.slice(0, 12)}\n\n${[...files.keys()].join('\n')}\n`

/** Adds the runs to the local branch; a concurrent writer moving the ref meanwhile makes it try again. */
export async function pushLocal(repo: Repo, blobs: Map<string, string>, opts: PushOptions): Promise<PushOutcome> {
  await notCheckedOut(repo, opts.branch)
  for (let attempt = 1; attempt <= opts.retries + 1; attempt++) {
    const old = await localTip(repo, opts.branch)
    const c = await commitFiles(repo, old, blobs, message(blobs, opts.commit))
    if (c.commit === old || (await repo.casRef(refOf(opts.branch), c.commit, old, 'ebpfperf history push'))) {
      return {branch: opts.branch, commit: c.commit, added: c.added, already: c.already, pushed: false, attempts: attempt}
    }
  }
  throw new BadInputError(`branch ${opts.branch} kept moving under ${opts.retries + 1} attempts (another history push at the same moment?): try again`)
}

/** The remote's tip of the branch (fetched), undefined when the remote has no such branch. */
export async function fetchTip(repo: Repo, remote: string, branch: string): Promise<string | undefined> {
  const r = await repo.maybe(['ls-remote', '--heads', remote, refOf(branch)])
  if (r === undefined) throw new BadInputError(`remote ${remote}: cannot be read (git ls-remote failed: a remote name or URL of this repository?)`)
  const sha = r.split(/\s/)[0]
  if (!sha) return undefined
  await repo.git(['fetch', '--no-tags', '--quiet', remote, refOf(branch)], undefined, 300_000)
  const fetched = await repo.revParse('FETCH_HEAD')
  if (!fetched) throw new BadInputError(`remote ${remote}: fetched ${branch} but FETCH_HEAD is not a commit`)
  return checkedTip(repo, branch, fetched, `${remote}/`)
}

const isAncestor = async (repo: Repo, a: string, b: string) => (await repo.maybe(['merge-base', '--is-ancestor', a, b])) !== undefined

/** Files of `other` missing from `onto`: what a union of two result histories must add. */
async function missingFrom(repo: Repo, onto: string, other: string): Promise<Map<string, string>> {
  const have = new Set((await repo.lsFiles(onto)).map((f) => f.path))
  return new Map((await repo.lsFiles(other)).filter((f) => !have.has(f.path)).map((f) => [f.path, f.sha]))
}

/** What git says when the remote refused the update (retried: someone else pushed first, or a hook said no). */
const REJECTED = /rejected|fetch first|non-fast-forward|cannot lock ref|failed to update ref/

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Adds the runs on top of the remote's branch and pushes; a rejected push (someone pushed first) is retried on the new tip. */
export async function pushRemote(repo: Repo, blobs: Map<string, string>, opts: PushOptions & {remote: string}): Promise<PushOutcome> {
  await notCheckedOut(repo, opts.branch)
  let why = ''
  for (let attempt = 1; attempt <= opts.retries + 1; attempt++) {
    const [remoteTip, local] = [await fetchTip(repo, opts.remote, opts.branch), await localTip(repo, opts.branch)]
    // local runs never pushed (a diverged local branch) go along, as a merge: results never conflict
    const localOnly = remoteTip && local && !(await isAncestor(repo, local, remoteTip)) ? local : undefined
    const files = localOnly ? new Map([...(await missingFrom(repo, remoteTip!, localOnly)), ...blobs]) : blobs
    const c = await commitFiles(repo, remoteTip ?? local, files, message(blobs, opts.commit), localOnly)
    const r = await repo.attempt(['push', '--quiet', opts.remote, `${c.commit}:${refOf(opts.branch)}`])
    why = r.stderr.split('\n').find((l) => /rejected|error:/.test(l))?.trim() ?? r.stderr.split('\n')[0]
    if (!r.ok && !REJECTED.test(r.stderr)) throw new BadInputError(`push of ${opts.branch} to ${opts.remote} failed: ${why}`)
    if (r.ok) {
      if (local !== c.commit) await repo.casRef(refOf(opts.branch), c.commit, local, 'ebpfperf history push')
      return {branch: opts.branch, commit: c.commit, added: c.added.filter((p) => blobs.has(p)), already: c.already, pushed: true, attempts: attempt}
    }
    await sleep(100 + Math.random() * 400 * attempt) // jittered, so racing jobs do not collide again in step
  }
  throw new BadInputError(`push of ${opts.branch} to ${opts.remote} rejected ${opts.retries + 1} times (${why}): nothing was changed on ${opts.remote}; try again`)
}

export interface PullOutcome {
  branch: string
  commit: string
  action: 'created' | 'fast-forward' | 'merged' | 'up to date'
}

/** Brings the remote's branch into the local one (fast-forward, or a merge of the two sets of runs). */
export async function pull(repo: Repo, remote: string, branch: string): Promise<PullOutcome> {
  await notCheckedOut(repo, branch)
  const remoteTip = await fetchTip(repo, remote, branch)
  if (!remoteTip) throw new BadInputError(`remote ${remote} has no branch ${branch}: push results first (ebpfperf history push --remote ${remote})`)
  const local = await localTip(repo, branch)
  const done = (commit: string, action: PullOutcome['action']) => ({branch, commit, action})
  if (local && (local === remoteTip || (await isAncestor(repo, remoteTip, local)))) return done(local, 'up to date')
  let next = remoteTip
  let action: PullOutcome['action'] = local ? 'fast-forward' : 'created'
  if (local && !(await isAncestor(repo, local, remoteTip))) {
    next = (await commitFiles(repo, remoteTip, await missingFrom(repo, remoteTip, local), `ebpfperf history: merge ${remote}/${branch}\n`, local)).commit
    action = 'merged'
  }
  if (!(await repo.casRef(refOf(branch), next, local, 'ebpfperf history pull'))) throw new BadInputError(`branch ${branch} moved while pulling (another history command?): try again`)
  return done(next, action)
}

/** Copies the result files under `prefix` of `rev` into `dir`, keeping the layout; returns their paths. */
export async function copyOut(repo: Repo, rev: string, prefix: string | undefined, dir: string): Promise<string[]> {
  const files = (await repo.lsFiles(rev, prefix)).filter((f) => f.path.endsWith('.json') && !f.path.split('/').includes('..'))
  const out: string[] = []
  for (const f of files) {
    const path = join(resolve(dir), f.path)
    writeAtomic(path, await repo.readBlob(f.sha))
    out.push(path)
  }
  return out
}
