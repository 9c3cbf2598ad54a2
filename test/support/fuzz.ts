// A small seeded fuzzer: the same seed gives the same mutations, so a failure names the seed that reproduces it.
import yaml from 'js-yaml'

/** mulberry32: a tiny PRNG with a 32-bit state, good enough to pick mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Rand = () => number
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
const HOSTILE_VALUES: unknown[] = [null, true, 0, -1, 1e308, -1e-308, '', 'x', '</script><script>alert(1)</script>', '\u2028', [], [null], {}, {a: null}, '1e999', Number.MAX_SAFE_INTEGER + 2]
const TOKENS = ['null', 'NaN', '1e999', '-0', '""', '[]', '{}', '"</script>"', '*a', '&a ', ': ', '\n  - ', 'true', '\u0000', '{{', ']]', '"', '\\', '\n', '#', '- -', '!!js/function', '<<: *a']

/** Every path to a value inside a parsed document (objects and lists), the root included. */
function paths(doc: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at)
  if (doc && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) paths(v, [...at, Array.isArray(doc) ? Number(k) : k], out)
  return out
}

/** One structural edit at a random place: a value replaced, a key removed, an unknown key added, a list emptied. */
function mutateTree(doc: unknown, r: Rand): unknown {
  const copy = structuredClone(doc)
  const at = pick(r, paths(copy))
  if (at.length === 0) return pick(r, HOSTILE_VALUES)
  const parent = at.slice(0, -1).reduce<any>((o, k) => o[k], copy)
  const key = at[at.length - 1]
  const op = Math.floor(r() * 4)
  if (op === 0) parent[key] = structuredClone(pick(r, HOSTILE_VALUES))
  else if (op === 1 && !Array.isArray(parent)) delete parent[key]
  else if (op === 2 && parent[key] && typeof parent[key] === 'object' && !Array.isArray(parent[key])) parent[key][`unknown_${Math.floor(r() * 100)}`] = 1
  else if (Array.isArray(parent[key])) parent[key] = r() < 0.5 ? [] : [...parent[key], ...parent[key]]
  else parent[key] = structuredClone(pick(r, HOSTILE_VALUES))
  return copy
}

/** One byte-level edit: a flipped byte, a cut, a repeat, a token inserted, or the text truncated. */
function mutateText(text: string, r: Rand): string {
  const i = Math.floor(r() * text.length)
  const j = Math.min(text.length, i + 1 + Math.floor(r() * 40))
  switch (Math.floor(r() * 5)) {
    case 0:
      return text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ (1 << Math.floor(r() * 7))) + text.slice(i + 1)
    case 1:
      return text.slice(0, i) + text.slice(j)
    case 2:
      return text.slice(0, j) + text.slice(i, j) + text.slice(j)
    case 3:
      return text.slice(0, i) + pick(r, TOKENS) + text.slice(i)
    default:
      return text.slice(0, i)
  }
}

/** A mutated copy of a JSON or YAML document's text: 1-3 edits, structural or byte-level. */
export function mutate(text: string, format: 'json' | 'yaml', r: Rand): string {
  let out = text
  for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
    if (r() < 0.5) {
      let doc: unknown
      try {
        doc = format === 'json' ? JSON.parse(out) : yaml.load(out)
      } catch {
        out = mutateText(out, r)
        continue
      }
      const m = mutateTree(doc, r)
      out = format === 'json' ? JSON.stringify(m) : yaml.dump(m, {skipInvalid: true})
    } else out = mutateText(out, r)
  }
  return out
}
