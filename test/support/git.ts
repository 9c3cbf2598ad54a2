// git in a scratch repository for tests: the output trimmed, a failure thrown with git's own message.
import {spawnSync} from 'node:child_process'

export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, {encoding: 'utf8', cwd})
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`)
  return r.stdout.trim()
}
