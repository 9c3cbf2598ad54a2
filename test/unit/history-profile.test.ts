// The CPU profile's pieces without perf: perf script text folded into stacks (kernel and BPF frames
// marked), the BPF programs found, the flame graph page, and the words profile hands to ebpfperf.
import {expect} from 'chai'
import {bpfFrames, foldedText, foldPerfScript} from '../../src/profile/fold.js'
import {flamePage, flameSvg} from '../../src/profile/flamegraph.js'
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

  it('draws each frame as wide as its samples, BPF frames in their own class, names escaped', () => {
    const svg = flameSvg(new Map([...folded, ['a<b>;c&d', 1]]))
    expect(svg.match(/<g class="frame bpf" data-name="bpf_prog_6deef7357e7b4530_micro_baseline">/g)).to.have.length(1)
    expect(svg).to.include('<title>bpf_prog_6deef7357e7b4530_micro_baseline (2 samples, 50.00%)</title>')
    expect(svg).to.match(/<title>all \(4 samples, 100\.00%\)<\/title><rect x="0\.0" y="\d+" width="1200\.0"/)
    expect(svg).to.include('a&lt;b&gt;').and.not.include('a<b>')
    const page = flamePage(folded, {command: 'ebpfperf suite micro', samples: 3, bpf: bpfFrames(folded), when: 'now'})
    expect(page).to.match(/^<!doctype html>/).and.include('<code>bpf_prog_6deef7357e7b4530_micro_baseline</code>: in 2 of 3 samples (66.7%)')
    expect(page).to.not.match(/<script|https?:\/\/(?!www\.w3\.org)/)
  })

  it('profiles suite commands only, with the results in the profile folder unless --out is given', () => {
    expect(profiledArgs(['suite', 'micro', '--quick'], '/p')).to.deep.equal(['suite', 'micro', '--quick', '--out', '/p/results'])
    expect(profiledArgs(['ebpfperf', 'suite', 'micro', '--out=r'], '/p')).to.deep.equal(['suite', 'micro', '--out=r'])
    expect(() => profiledArgs([], '/p')).to.throw(/give the command to profile after --/)
    expect(() => profiledArgs(['topology', 'up'], '/p')).to.throw(/profile runs an ebpfperf suite/)
  })
})
