// The consumers `suite micro --consumers` can run: the ones shipped under consumers/ (C with libbpf,
// Python with BCC, Go with cilium/ebpf, Node with the project's addon), the Rust row that cannot be built
// here, and the user's own (--consumer NAME=CMD). Each is checked for what it needs before the run; one
// whose tools are missing is skipped with the Debian package to install. The compiled ones are built
// (make) into a cache folder the first time.
import {existsSync, mkdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {run, which} from '../../exec.js'
import {projectRoot} from '../../util/paths.js'
import {BadInputError} from '../../util/errors.js'
import {parseConsumerCommand} from './consumers-protocol.js'

export const SHIPPED = ['c', 'python', 'go', 'node', 'rust'] as const
export type ShippedId = (typeof SHIPPED)[number]

export interface ConsumerDef {
  /** c, python, go, node, rust, or the user's name. */
  id: string
  language: string
  library: string
  /** The command (absolute paths), once it can run. */
  argv?: string[]
  /** Why it cannot run here (with the package to install). */
  skip?: string
  shipped: boolean
}

/** Where the compiled consumers are built (not in the checkout: it may be read-only or someone else's). */
export const BUILD_DIR = '/var/cache/ebpfperf/consumers'

interface Need {
  what: string
  ok: () => boolean
  pkg: string
}

const file = (p: string) => () => existsSync(p)
const onPath = (name: string) => () => which(name) !== undefined

const NEEDS: Record<Exclude<ShippedId, 'rust'>, Need[]> = {
  c: [
    {what: 'a C compiler (cc)', ok: onPath('cc'), pkg: 'gcc'},
    {what: 'make', ok: onPath('make'), pkg: 'make'},
    {what: 'libbpf headers', ok: file('/usr/include/bpf/libbpf.h'), pkg: 'libbpf-dev'},
  ],
  python: [
    {what: 'Debian\'s python3', ok: file('/usr/bin/python3'), pkg: 'python3'},
    {what: 'BCC for python3', ok: file('/usr/lib/python3/dist-packages/bcc/__init__.py'), pkg: 'python3-bpfcc'},
  ],
  go: [
    {what: 'go', ok: onPath('go'), pkg: 'golang-go'},
    {what: 'make', ok: onPath('make'), pkg: 'make'},
    {what: 'cilium/ebpf sources', ok: file('/usr/share/gocode/src/github.com/cilium/ebpf/ringbuf/reader.go'), pkg: 'golang-github-cilium-ebpf-dev'},
  ],
  node: [{what: 'the built CLI (dist/native.js)', ok: () => existsSync(join(projectRoot(), 'dist', 'native.js')), pkg: 'npm run build'}],
}

const LABELS: Record<ShippedId, {language: string; library: string}> = {
  c: {language: 'C', library: 'libbpf'},
  python: {language: 'Python', library: 'BCC (libbcc)'},
  go: {language: 'Go', library: 'cilium/ebpf'},
  node: {language: 'Node', library: 'ebpfperf addon'},
  rust: {language: 'Rust', library: 'Aya / libbpf-rs'},
}

export const RUST_REASON = 'not installable from this machine\'s registries (Debian 12 packages neither Aya nor libbpf-rs, and crates.io is not reachable); a Rust consumer of your own runs with --consumer rust=CMD (docs/consumers.md)'

/** The consumers a run asked for, in order: --consumers ids, then --consumer commands. Bad input throws. */
export function selectConsumers(list: string | undefined, commands: string[] = []): ConsumerDef[] {
  const out: ConsumerDef[] = []
  const ids = list === undefined ? [] : list.split(',').map((s) => s.trim()).filter(Boolean)
  for (const id of ids) {
    if (!(SHIPPED as readonly string[]).includes(id)) throw new BadInputError(`--consumers ${list}: unknown consumer "${id}" (shipped: ${SHIPPED.join(', ')}; your own: --consumer NAME=CMD)`)
    if (out.some((c) => c.id === id)) throw new BadInputError(`--consumers ${list}: "${id}" given twice`)
    out.push({id, ...LABELS[id as ShippedId], shipped: true, skip: id === 'rust' ? RUST_REASON : undefined})
  }
  for (const spec of commands) {
    const p = parseConsumerCommand(spec)
    if (typeof p === 'string') throw new BadInputError(p)
    if (out.some((c) => c.id === p.name)) throw new BadInputError(`--consumer ${spec}: the name "${p.name}" is taken; name it: --consumer NAME=${spec}`)
    const shipped = LABELS[p.name as ShippedId]
    out.push({id: p.name, language: shipped?.language ?? p.name, library: 'your command', argv: p.argv, shipped: false})
  }
  if (out.length === 0) throw new BadInputError('--consumers: no consumer given (e.g. --consumers c,python,go,node)')
  return out
}

/** What a shipped consumer lacks here, as "skipped: … (apt-get install PKG)"; undefined when it has all. */
export function missingFor(id: Exclude<ShippedId, 'rust'>): string | undefined {
  const lacking = NEEDS[id].filter((n) => !n.ok())
  if (lacking.length === 0) return undefined
  const pkgs = [...new Set(lacking.map((n) => n.pkg))]
  const install = pkgs.every((p) => p.startsWith('npm ')) ? pkgs.join(' && ') : `apt-get install ${pkgs.join(' ')}`
  return `needs ${lacking.map((n) => n.what).join(', ')} (${install}; scripts/setup.sh installs them)`
}

async function buildWithMake(id: 'c' | 'go', binary: string): Promise<string> {
  const out = join(BUILD_DIR, id)
  const target = join(out, binary)
  const src = join(projectRoot(), 'consumers', id)
  const srcFile = join(src, id === 'c' ? 'consumer.c' : 'main.go')
  if (existsSync(target) && statSync(target).mtimeMs >= statSync(srcFile).mtimeMs) return target
  mkdirSync(out, {recursive: true})
  // go: a build cache of its own, so that a root run does not write into a user's ~/.cache
  const env = id === 'go' ? ['GOCACHE=' + join(BUILD_DIR, 'go-cache')] : []
  const r = await run('env', [...env, 'make', '-s', '-C', src, `OUT=${out}`], {timeoutMs: 300_000})
  if (r.failed) throw new Error(`building consumers/${id} failed: ${r.stderr.split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${r.exitCode}`}`)
  return target
}

/** Fills in argv (building what needs building) or skip for each shipped consumer. */
export async function prepareConsumers(defs: ConsumerDef[]): Promise<void> {
  const root = projectRoot()
  for (const d of defs) {
    if (!d.shipped || d.skip) continue
    const id = d.id as Exclude<ShippedId, 'rust'>
    d.skip = missingFor(id)
    if (d.skip) continue
    try {
      if (id === 'c') d.argv = [await buildWithMake('c', 'ebpfperf-consumer-c')]
      else if (id === 'go') d.argv = [await buildWithMake('go', 'ebpfperf-consumer-go')]
      else if (id === 'python') d.argv = ['/usr/bin/python3', join(root, 'consumers', 'python', 'consumer.py')]
      else d.argv = [process.execPath, join(root, 'consumers', 'node', 'consumer.mjs')]
    } catch (error) {
      d.skip = (error as Error).message
    }
  }
}
