// A flame graph of folded stacks as one self-contained HTML page (inline SVG, no script, no network): the
// root at the bottom, each frame as wide as its share of the samples, a tooltip per frame. JITed BPF
// programs are blue, kernel frames orange, user frames red-yellow.
import type {Folded} from './fold.js'

interface Node {
  name: string
  value: number
  children: Map<string, Node>
}

const WIDTH = 1200
const ROW = 17
const CHAR = 6.6 // px per character of the 11 px monospace font

export function tree(folded: Folded): Node {
  const root: Node = {name: 'all', value: 0, children: new Map()}
  for (const [stack, n] of folded) {
    root.value += n
    let at = root
    for (const name of stack.split(';')) {
      let child = at.children.get(name)
      if (!child) at.children.set(name, (child = {name, value: 0, children: new Map()}))
      child.value += n
      at = child
    }
  }
  return root
}

const depthOf = (n: Node): number => 1 + Math.max(0, ...[...n.children.values()].map(depthOf))
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** A stable warm colour per name (the same function always gets the same colour). */
function colour(name: string): string {
  if (name.endsWith('_[bpf]')) return 'rgb(70,130,230)'
  let h = 0
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0
  if (name.endsWith('_[k]')) return `rgb(230,${120 + (h % 60)},${40 + ((h >> 8) % 30)})`
  return `rgb(${200 + (h % 55)},${60 + ((h >> 8) % 130)},${40 + ((h >> 16) % 40)})`
}

const shown = (name: string) => name.replace(/_\[(k|bpf)\]$/, '')

/** The style the SVG needs, for any page it is put in. */
export const FLAME_CSS = `svg text{pointer-events:none;fill:#000}.frame rect{stroke:#fff;stroke-width:.5}.frame:hover rect{stroke:#000;stroke-width:1}
.legend span{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em}`

/** The colours' key, as a paragraph. */
export const FLAME_LEGEND = '<p class="legend"><span style="background:rgb(70,130,230)"></span>JITed BPF program<span style="background:rgb(230,150,50)"></span>kernel<span style="background:rgb(225,120,50)"></span>user space</p>'

/** The SVG: one <g class="frame"> per frame at least half a pixel wide; `id` tells several graphs on one page apart. */
export function flameSvg(folded: Folded, id = 'flamegraph'): string {
  const root = tree(folded)
  const height = depthOf(root) * ROW + 4
  const rects: string[] = []
  const draw = (n: Node, x: number, depth: number) => {
    const w = (n.value / Math.max(1, root.value)) * WIDTH
    if (w < 0.5) return
    const y = height - (depth + 1) * ROW
    const label = shown(n.name)
    const pct = ((100 * n.value) / Math.max(1, root.value)).toFixed(2)
    const fits = Math.floor((w - 6) / CHAR)
    const text = fits >= 3 ? (label.length <= fits ? label : `${label.slice(0, fits - 2)}..`) : ''
    const kind = n.name.endsWith('_[bpf]') ? 'frame bpf' : n.name.endsWith('_[k]') ? 'frame kernel' : 'frame'
    rects.push(
      `<g class="${kind}" data-name="${esc(label)}"><title>${esc(label)} (${n.value} samples, ${pct}%)</title><rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW - 1}" rx="2" fill="${colour(n.name)}"/>` +
        (text ? `<text x="${(x + 3).toFixed(1)}" y="${y + ROW - 5}">${esc(text)}</text>` : '') +
        '</g>',
    )
    let cx = x
    for (const c of [...n.children.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      draw(c, cx, depth + 1)
      cx += (c.value / root.value) * WIDTH
    }
  }
  draw(root, 0, 0)
  return `<svg xmlns="http://www.w3.org/2000/svg" id="${esc(id)}" class="flamegraph" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="11">${rects.join('')}</svg>`
}

/** The page: what was profiled, the BPF programs found, the graph. */
export function flamePage(folded: Folded, about: {command: string; samples: number; bpf: {name: string; samples: number}[]; when: string}): string {
  const bpf = about.bpf.length
    ? `<ul>${about.bpf.map((b) => `<li><code>${esc(b.name)}</code>: in ${b.samples} of ${about.samples} samples (${((100 * b.samples) / Math.max(1, about.samples)).toFixed(1)}%)</li>`).join('')}</ul>`
    : '<p>No JITed BPF program (bpf_prog_…) in the stacks.</p>'
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CPU flame graph: ${esc(about.command)}</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}code{background:#f3f3f3;padding:0 .2em}
${FLAME_CSS}</style></head>
<body><h1>CPU flame graph</h1>
<p><code>${esc(about.command)}</code>, ${about.samples} samples (perf record -g, software clock event cpu-clock), ${esc(about.when)}.
Each box is a function, as wide as its share of the samples; callers below callees. Hover a box for its samples.</p>
${FLAME_LEGEND}
<h2>BPF programs</h2>${bpf}
${flameSvg(folded)}
</body></html>
`
}
