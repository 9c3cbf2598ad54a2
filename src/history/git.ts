// Git plumbing for the results branch: objects and refs only, so the user's work tree, index and current
// branch are never touched. Trees are built with mktree level by level (no index file at all).
import {run} from '../exec.js'
import {BadInputError} from '../util/errors.js'

export interface TreeEntry {
  mode: string
  type: 'blob' | 'tree' | 'commit'
  sha: string
  name: string
}

/** A repository addressed with `git -C dir`; every failure is one line naming the git command. */
export class Repo {
  private identity: string[] | undefined

  private constructor(readonly dir: string, readonly zeroOid: string) {}

  /** The repository holding `dir` (a work tree or a bare repository); not one: exit 2. */
  static async open(dir: string): Promise<Repo> {
    const r = await run('git', ['-C', dir, 'rev-parse', '--git-dir'])
    if (r.exitCode === -1) throw new BadInputError('git is not installed: apt-get install git')
    if (r.failed) throw new BadInputError(`${dir}: not a git repository (run inside one, or give --repo DIR)`)
    const format = await run('git', ['-C', dir, 'rev-parse', '--show-object-format'])
    return new Repo(dir, '0'.repeat(format.stdout.trim() === 'sha256' ? 64 : 40))
  }

  /** Runs git; a failure throws with git's first error line. */
  async git(args: string[], input?: string, timeoutMs = 30_000): Promise<string> {
    const r = await run('git', ['-C', this.dir, ...args], {input, timeoutMs})
    if (r.failed) throw new GitError(args, r.stderr)
    return r.stdout
  }

  /** Runs git; undefined instead of throwing when it fails (a ref that does not exist, …). */
  async maybe(args: string[]): Promise<string | undefined> {
    const r = await run('git', ['-C', this.dir, ...args])
    return r.failed ? undefined : r.stdout.trim()
  }

  /** Runs git and hands back its outcome, failed or not. */
  async attempt(args: string[], timeoutMs = 300_000): Promise<{ok: boolean; stderr: string}> {
    const r = await run('git', ['-C', this.dir, ...args], {timeoutMs})
    return {ok: !r.failed, stderr: r.stderr}
  }

  async revParse(rev: string): Promise<string | undefined> {
    return this.maybe(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])
  }

  async hashBlob(data: string): Promise<string> {
    return (await this.git(['hash-object', '-w', '--stdin'], data)).trim()
  }

  async readBlob(sha: string): Promise<string> {
    return this.git(['cat-file', 'blob', sha], undefined, 60_000)
  }

  /** The entries of one tree level (not recursive). */
  async lsTree(tree: string): Promise<TreeEntry[]> {
    const out = await this.git(['ls-tree', '-z', tree])
    return out.split('\0').filter(Boolean).map(parseEntry)
  }

  /** Every blob under `prefix` of a commit or tree, with its path. */
  async lsFiles(treeish: string, prefix?: string): Promise<{path: string; sha: string}[]> {
    const out = await this.git(['ls-tree', '-r', '-z', treeish, ...(prefix ? ['--', prefix] : [])])
    return out
      .split('\0')
      .filter(Boolean)
      .map(parseEntry)
      .filter((e) => e.type === 'blob')
      .map((e) => ({path: e.name, sha: e.sha}))
  }

  async mktree(entries: TreeEntry[]): Promise<string> {
    const input = entries.map((e) => `${e.mode} ${e.type} ${e.sha}\t${e.name}\0`).join('')
    return (await this.git(['mktree', '-z'], input)).trim()
  }

  /** A commit of `tree` on `parents`; a repository without a configured identity commits as ebpfperf. */
  async commitTree(tree: string, parents: string[], message: string): Promise<string> {
    this.identity ??= (await this.maybe(['var', 'GIT_COMMITTER_IDENT'])) && (await this.maybe(['var', 'GIT_AUTHOR_IDENT'])) ? [] : ['-c', 'user.name=ebpfperf', '-c', 'user.email=ebpfperf@localhost']
    const ps = parents.flatMap((p) => ['-p', p])
    return (await this.git([...this.identity, 'commit-tree', tree, ...ps, '-m', message])).trim()
  }

  /** Moves a ref only if it still points at `old` (undefined: only if it does not exist yet); false when it moved meanwhile. */
  async casRef(ref: string, sha: string, old: string | undefined, reason: string): Promise<boolean> {
    return (await this.maybe(['update-ref', '-m', reason, ref, sha, old ?? this.zeroOid])) !== undefined
  }

  /** The branch checked out in this work tree, if any. */
  async currentBranch(): Promise<string | undefined> {
    return this.maybe(['symbolic-ref', '--quiet', 'HEAD'])
  }
}

export class GitError extends BadInputError {
  constructor(readonly args: string[], readonly stderr: string) {
    super(`git ${args.filter((a) => !a.includes('\n')).join(' ')}: ${stderr.split('\n').find((l) => l.trim()) ?? 'failed'}`)
  }
}

function parseEntry(line: string): TreeEntry {
  const tab = line.indexOf('\t')
  const [mode, type, sha] = line.slice(0, tab).split(' ')
  return {mode, type: type as TreeEntry['type'], sha, name: line.slice(tab + 1)}
}

/**
 * A tree equal to `base` (a tree id, undefined: empty) with `files` (path → blob id) added. A path that
 * already holds the same blob is kept; one that holds another blob is refused (results are never replaced).
 */
export async function addToTree(repo: Repo, base: string | undefined, files: Map<string, string>): Promise<string> {
  const entries = new Map((base ? await repo.lsTree(base) : []).map((e) => [e.name, e]))
  const sub = new Map<string, Map<string, string>>()
  for (const [path, sha] of files) {
    const cut = path.indexOf('/')
    if (cut < 0) {
      const had = entries.get(path)
      if (had && had.sha !== sha) throw new BadInputError(`${path}: the results branch already holds a different file at this path (results are never replaced)`)
      entries.set(path, {mode: '100644', type: 'blob', sha, name: path})
      continue
    }
    const [dir, rest] = [path.slice(0, cut), path.slice(cut + 1)]
    sub.set(dir, (sub.get(dir) ?? new Map()).set(rest, sha))
  }
  for (const [dir, inner] of sub) {
    const had = entries.get(dir)
    if (had && had.type !== 'tree') throw new BadInputError(`${dir}: a file in the results branch where a folder is needed`)
    entries.set(dir, {mode: '040000', type: 'tree', sha: await addToTree(repo, had?.sha, inner), name: dir})
  }
  return repo.mktree([...entries.values()])
}
