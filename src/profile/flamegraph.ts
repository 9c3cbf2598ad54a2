// A flame graph of folded stacks drawn by d3-flame-graph (with d3): the stacks converted here into the
// library's {name, value, children} tree, embedded as JSON, and both libraries' UMD bundles and CSS read from
// node_modules and inlined, so the page opens offline. JITed BPF programs are blue, kernel frames orange
// (the library's "kernel" hue), user frames red-yellow; a search box per graph highlights frames by name.
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {esc, inlineScript, scriptJson} from '../results/report.js'
import type {Folded} from './fold.js'

/** d3-flame-graph's input: libtype picks the library's hue (kernel) or ours (jit: a JITed BPF program). */
export interface FlameNode {
  name: string
  value: number
  libtype?: 'kernel' | 'jit'
  children: FlameNode[]
}

const BPF_COLOUR = 'rgb(70,130,230)'

/** Folded stacks as one tree rooted at "all": each node's value counts the samples of every stack through it. */
export function flameTree(folded: Folded): FlameNode {
  interface Building extends Omit<FlameNode, 'children'> {
    kids: Map<string, Building>
  }
  const root: Building = {name: 'all', value: 0, kids: new Map()}
  for (const [stack, n] of folded) {
    root.value += n
    let at = root
    for (const frame of stack.split(';')) {
      let child = at.kids.get(frame) // keyed with the _[k]/_[bpf] suffix: a kernel and a user function of one name stay apart
      if (!child) {
        const kind = /_\[(k|bpf)\]$/.exec(frame)?.[1]
        child = {name: kind ? frame.slice(0, -kind.length - 3) : frame, value: 0, ...(kind && {libtype: kind === 'k' ? 'kernel' : 'jit'}), kids: new Map()}
        at.kids.set(frame, child)
      }
      child.value += n
      at = child
    }
  }
  const done = ({kids, ...node}: Building): FlameNode => ({...node, children: [...kids.values()].map(done)})
  return done(root)
}

const packageFile = (pkg: string, file: string) => readFileSync(join(dirname(createRequire(import.meta.url).resolve(pkg)), file), 'utf8')

/**
 * d3 and d3-flame-graph inlined (the UMD bundles are not in the packages' "exports": found beside their entry
 * points), the library's CSS, and `ebpfperfFlame(id, tree)`, which draws a tree into the element `id`.
 */
export function flameLibrary(): string {
  const d3 = packageFile('d3', 'd3.min.js') // …/d3/dist/d3.mjs
  const flame = packageFile('d3-flame-graph', 'd3-flamegraph.umd.min.js') // …/d3-flame-graph/dist/d3-flamegraph.umd.js
  const css = packageFile('d3-flame-graph', 'd3-flamegraph.css').replace(/<\/style/gi, '<\\/style')
  return `<style>${css}
.flame-legend span{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em}.flame-details{min-height:1.4em;font-size:12px}</style>
<script>${inlineScript(d3)}</script>
<script>${inlineScript(flame)}</script>
<script>
// the default search match builds a RegExp from the typed text; a name containing the text is what a reader means
function ebpfperfFlame(id, tree) {
  const el = document.getElementById(id);
  const chart = flamegraph.default().width(Math.max(600, el.clientWidth)).minFrameSize(0.5).transitionDuration(0)
    .setColorMapper((d, colour) => (d.data.libtype === 'jit' && !d.highlight ? ${scriptJson(BPF_COLOUR)} : colour))
    .setSearchMatch((d, term) => !!term && d.data.name.toLowerCase().includes(term.toLowerCase()))
    .setDetailsElement(document.getElementById(id + '-details'));
  d3.select(el).datum(tree).call(chart);
  document.getElementById(id + '-search').addEventListener('input', (e) => (e.target.value ? chart.search(e.target.value) : chart.clear()));
  return chart;
}
window.ebpfperfFlames = [];
</script>`
}

/** The colours' key, as a paragraph. */
export const FLAME_LEGEND = `<p class="flame-legend"><span style="background:${BPF_COLOUR}"></span>JITed BPF program<span style="background:rgb(230,150,50)"></span>kernel<span style="background:rgb(225,120,50)"></span>user space</p>`

/** One graph: a search box, the line the library fills with the hovered or searched frames' samples, the drawing. */
export function flameBlock(folded: Folded, id: string): string {
  return `<p><input type="search" id="${esc(id)}-search" placeholder="search frames by name" aria-label="search frames by name"> <span class="flame-details" id="${esc(id)}-details"></span></p>
<div class="flame" id="${esc(id)}"></div>
<script>window.ebpfperfFlames.push(ebpfperfFlame(${scriptJson(id)}, ${scriptJson(flameTree(folded))}));</script>`
}

/** The page: what was profiled, the BPF programs found, the graph. */
export function flamePage(folded: Folded, about: {command: string; samples: number; bpf: {name: string; samples: number}[]; when: string}): string {
  const bpf = about.bpf.length
    ? `<ul>${about.bpf.map((b) => `<li><code>${esc(b.name)}</code>: in ${b.samples} of ${about.samples} samples (${((100 * b.samples) / Math.max(1, about.samples)).toFixed(1)}%)</li>`).join('')}</ul>`
    : '<p>No JITed BPF program (bpf_prog_…) in the stacks.</p>'
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CPU flame graph: ${esc(about.command)}</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}code{background:#f3f3f3;padding:0 .2em}</style>
${flameLibrary()}</head>
<body><h1>CPU flame graph</h1>
<p><code>${esc(about.command)}</code>, ${about.samples} samples (perf record -g, software clock event cpu-clock), ${esc(about.when)}.
Each box is a function, as wide as its share of the samples; callers below callees. Hover a box for its samples, click it to zoom in.</p>
${FLAME_LEGEND}
<h2>BPF programs</h2>${bpf}
${flameBlock(folded, 'flamegraph')}
</body></html>
`
}
