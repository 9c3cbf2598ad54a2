// `perf script` output folded into stacks: one line per distinct call stack, root first, frames joined by
// ';', with its sample count (the format flame graph tools read). Kernel frames carry the suffix _[k] and
// JITed BPF programs _[bpf], so a renderer can colour them without knowing symbol names.

export type Folded = Map<string, number>

const HEADER = /^(\S.*?)\s+\d+(?:\/\d+)?\s+(?:\[\d+\]\s+)?\d+\.\d+:/

/** One frame line `addr sym+0x1f (dso)` as the frame's name. */
function frameName(line: string): string | undefined {
  const m = /^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$/.exec(line)
  if (!m) return undefined
  const sym = m[1].replace(/\+0x[0-9a-f]+$/, '')
  const dso = m[2]
  if (/^bpf_prog_[0-9a-f]{16}(_|$)/.test(sym) || dso.startsWith("[bpf")) return `${sym}_[bpf]` // bpf_prog_<tag>_<name>, not kernel functions such as bpf_prog_load
  if (sym === '[unknown]') return `[${dso.split('/').pop() || 'unknown'}]`
  return dso === '[kernel.kallsyms]' || dso.startsWith('[') ? `${sym}_[k]` : sym
}

/** Folds `perf script` text (with call chains: perf record -g). The process name is the root frame. */
export function foldPerfScript(text: string): Folded {
  const out: Folded = new Map()
  let comm: string | undefined
  let frames: string[] = []
  const flush = () => {
    if (comm !== undefined) {
      const stack = [comm.replace(/;/g, ':'), ...frames.reverse().map((f) => f.replace(/;/g, ':'))].join(';')
      out.set(stack, (out.get(stack) ?? 0) + 1)
    }
    comm = undefined
    frames = []
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush()
      continue
    }
    const header = HEADER.exec(line)
    if (header && !/^\s/.test(line)) {
      flush()
      comm = header[1].trim()
      continue
    }
    const name = comm === undefined ? undefined : frameName(line)
    if (name) frames.push(name)
  }
  flush()
  return out
}

/**
 * stacks.folded read back (`frame;frame;… count` a line). `fail` turns a reason into the caller's error: a line
 * that is not a stack and a count names its number, so a hand-edited or foreign file is found.
 */
export function parseFolded(text: string, fail: (reason: string) => Error): Folded {
  const out: Folded = new Map()
  const lines = text.split('\n')
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue
    const m = /^(\S.*) (\d+)$/.exec(line)
    if (!m) throw fail(`line ${i + 1}: expected "frame;frame;… count" (a folded stack and its samples)`)
    out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]))
  }
  if (out.size === 0) throw fail('no stacks (was the profiled command too short for one sample?)')
  return out
}

export function foldedText(folded: Folded): string {
  return [...folded].map(([stack, n]) => `${stack} ${n}`).join('\n') + '\n'
}

/** The JITed BPF programs in the stacks, with the samples whose stack holds each (most first). */
export function bpfFrames(folded: Folded): {name: string; samples: number}[] {
  const by = new Map<string, number>()
  for (const [stack, n] of folded) {
    for (const f of new Set(stack.split(';').filter((x) => x.endsWith('_[bpf]')))) by.set(f.slice(0, -6), (by.get(f.slice(0, -6)) ?? 0) + n)
  }
  return [...by].map(([name, samples]) => ({name, samples})).sort((a, b) => b.samples - a.samples)
}
