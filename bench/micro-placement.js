#!/usr/bin/env node
// Does code placement move a micro figure? Loads bpf/.output/micro_tailchain.bpf.o (a chain of 8 tail
// calls) afresh N times and times each load with BPF_PROG_TEST_RUN on one CPU (best of 3 samples of
// 50,000 runs: the placement, not a disturbed sample, is what should show). Prints ns per run for every
// load, sorted. Why `suite micro` takes every sample from a fresh load (docs/micro.md: every sample from a fresh load). Needs root and
// the builds (npm run build).
//   node bench/micro-placement.js [--loads 20] [--cpu 0]
import {microBench, numberArg} from './micro-common.js'

const loads = numberArg('loads', 20)
const cpu = numberArg('cpu', 0)
const {object, native, dist} = await microBench('micro-placement', 'micro_tailchain.bpf.o')
const {BpfObject} = await dist('native.js')
const {ipv4UdpPacket} = await dist('suites/micro/packet.js')
const programs = Array.from({length: 9}, (_, i) => `tail_chain_${i}`)
const data = ipv4UdpPacket(64)

const ns = []
for (let k = 0; k < loads; k++) {
  const obj = BpfObject.open(object, native).only(programs).load()
  try {
    const r = await native.testRunAsync({progFd: obj.progFd('tail_chain_0'), data, cpus: [cpu], samples: 3, repeat: 50_000, stats: 'off'})
    if (r.cpus[0].samples.some((s) => s.retval !== 2)) throw new Error('the chain did not reach its end (return value is not XDP_PASS)')
    ns.push(Math.min(...r.cpus[0].samples.map((s) => s.kernelNs)))
  } finally {
    obj.close()
  }
}
console.log(`micro_tailchain.bpf.o, ${loads} fresh loads, CPU ${cpu}, best of 3 × 50,000 runs: ns per run (8 tail calls)`)
console.log([...ns].sort((a, b) => a - b).join(' '))
