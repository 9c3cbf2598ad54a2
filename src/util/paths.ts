// Where the project's shipped files (profiles/, native/, bpf/, netns/) live, from src/ (tsx) or dist/ (built).
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

let root: string | undefined

export function projectRoot(): string {
  if (root) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error(`cannot find the ebpfperf package root above ${fileURLToPath(import.meta.url)}`)
    dir = up
  }
  root = dir
  return root
}
