// The CPU profile's pieces without perf: perf script text folded into stacks (kernel and BPF frames
// marked), the BPF programs found, the tree the flame graph library draws, its page, and the words profile hands to ebpfperf.
import {expect} from 'chai'
import {bpfFrames, foldedText, foldPerfScript} from '../../src/profile/fold.js'
import {flamePage, flameTree, type FlameNode} from '../../src/profile/flamegraph.js'
import {profiledArgs} from '../../src/profile/run.js'

const script = `node 5523 12345.000001:
\tffffffffc0a1b2c3 bpf_prog_6deef7357e7b4530_micro_baseline+0x1f (bpf_prog_6deef7357e7b4530_micro_baseline)
\tffffffff81a00010 bpf_test_run+0x110 ([kernel.kallsyms])
\tffffffff81a00200 __sys_bpf+0x40 ([kernel.kallsyms])
\t    7f0000001000 syscall+0x1d (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t    7f0000002000 [unknown] (/work/native/build/Release/ebpfperf_native.node)

node 5523 12345.001002:
\tffffffffc0a1b2c3 bpf_prog_6deef7357e7b4530_micro_baseline+0x2a ([kernel.kallsyms])
\tffffffff81a00010 bpf_test_run+0x110 ([kernel.kallsyms])
\tffffffff81a00200 __sys_bpf+0x40 ([kernel.kallsyms])
\t    7f0000001000 syscall+0x1d (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t    7f0000002000 [unknown] (/work/native/build/Release/ebpfperf_native.node)

node:worker 1 5524 12345.002003:
\t    55550000aaaa v8::internal::Heap::Scavenge+0x10 (/usr/bin/node)
`

describe('CPU profile: folding and the flame graph', () => {
  const folded = foldPerfScript(script)

  it('folds perf script samples root first, kernel frames _[k], BPF programs _[bpf], the process as the root', () => {
    expect(foldedText(folded)).to.equal(
      'node;[ebpfperf_native.node];syscall;__sys_bpf_[k];bpf_test_run_[k];bpf_prog_6deef7357e7b4530_micro_baseline_[bpf] 2\n' + 'node:worker 1;v8::internal::Heap::Scavenge 1\n',
    )
    expect(bpfFrames(folded)).to.deep.equal([{name: 'bpf_prog_6deef7357e7b4530_micro_baseline', samples: 2}])
  })

  it('turns folded stacks into the library\'s {name, value, children} tree: values summed along each path, kind from the suffix', () => {
    const tree = flameTree(new Map([...folded, ['node;syscall;a<b>_[k]', 1], ['node;syscall', 1], ['node;syscall_[k]', 1]]))
    expect(tree).to.include({name: 'all', value: 6})
    const node = tree.children.find((c) => c.name === 'node')!
    expect(node.value).to.equal(5)
    // a user and a kernel function of one name under one caller stay two frames
    expect(node.children.map((c) => [c.name, c.value, c.libtype])).to.deep.equal([
      ['[ebpfperf_native.node]', 2, undefined],
      ['syscall', 2, undefined],
      ['syscall', 1, 'kernel'],
    ])
    const path = ['syscall', '__sys_bpf', 'bpf_test_run', 'bpf_prog_6deef7357e7b4530_micro_baseline']
    let at = node.children[0]
    for (const name of path) at = at.children.find((c) => c.name === name)!
    expect(at).to.deep.equal({name: 'bpf_prog_6deef7357e7b4530_micro_baseline', value: 2, libtype: 'jit', children: []})
    const sys = node.children[1]
    expect(sys.children).to.deep.equal([{name: 'a<b>', value: 1, libtype: 'kernel', children: []}])
    // every node's value is at least the sum of its children's (the library's default: values include the children)
    const check = (n: FlameNode): void => {
      expect(n.value).to.be.at.least(n.children.reduce((a, c) => a + c.value, 0))
      n.children.forEach(check)
    }
    check(tree)
  })

  it('the page inlines d3 and d3-flame-graph with the tree as JSON: no network, nothing in a name can end the script', () => {
    const page = flamePage(new Map([...folded, ['a</script><b>', 1]]), {command: 'ebpfperf suite micro', samples: 3, bpf: bpfFrames(folded), when: 'now'})
    expect(page).to.match(/^<!doctype html>/).and.include('<code>bpf_prog_6deef7357e7b4530_micro_baseline</code>: in 2 of 3 samples (66.7%)')
    expect(page).to.include('.d3-flame-graph rect{').and.include('d3-flame-graph-label').and.include('ebpfperfFlame("flamegraph", {"name":"all","value":4,')
    expect(page).to.include('"name":"a\\u003c/script\\u003e\\u003cb\\u003e"').and.not.include('a</script>')
    expect(page.match(/<\/script>/g)).to.have.length(page.match(/<script>/g)!.length)
    expect(page).to.not.match(/<script src|<link|https?:\/\/(?!www\.w3\.org)[^\s"')]*\.(js|css)/)
  })

  it('profiles suite commands only, with the results in the profile folder unless --out is given', () => {
    expect(profiledArgs(['suite', 'micro', '--quick'], '/p')).to.deep.equal(['suite', 'micro', '--quick', '--out', '/p/results'])
    expect(profiledArgs(['ebpfperf', 'suite', 'micro', '--out=r'], '/p')).to.deep.equal(['suite', 'micro', '--out=r'])
    expect(() => profiledArgs([], '/p')).to.throw(/give the command to profile after --/)
    expect(() => profiledArgs(['topology', 'up'], '/p')).to.throw(/profile runs an ebpfperf suite/)
  })
})
