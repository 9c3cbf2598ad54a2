#!/usr/bin/env node
// The packet generator's speed targets, kept out of the integration tests (which assert what holds on a
// loaded machine too): paced at 100 kpps, does it offer 70–105% of that; and does RFC 2544's throughput
// search find a DUT of known capacity (the XDP token bucket of test/fixtures/accelerator/policer.bpf.c,
// 200 kpps) within 80–102% of it? Both need the CPU to exceed those rates: run it on an idle machine.
// Prints every round and how many met each target.
//
// usage: node bench/pktgen-targets.js [rounds=5]
// Needs root and a build (npm run build); creates the acc topology: under the kernel lock on a shared machine.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {availableParallelism, hostname, release, tmpdir} from 'node:os'
import {join} from 'node:path'
import {dieFor, root} from './micro-common.js'

const die = dieFor('pktgen-targets')
const rounds = Number(process.argv[2] ?? 5)
if (!Number.isInteger(rounds) || rounds < 1) die(`rounds ${process.argv[2]}: give a whole number of rounds, 1 or more`)
if (process.getuid?.() !== 0) die('needs root (the generator and the topology)')
const dist = (p) => import(join(root, 'dist', p))
const {BpfObject, loadNative} = await dist('native.js')
const {loadTopology} = await dist('topology/model.js')
const {withTopology} = await dist('topology/index.js')
const {findRoles} = await dist('suites/accelerator/index.js')
const {packetEnds, preparePackets} = await dist('suites/accelerator/packets.js')
const {searchThroughput} = await dist('suites/accelerator/rfc2544.js')
const {PacketGen} = await dist('workloads/pktgen.js')

const PACED = 100_000
const POLICER = 200_000
const tmp = mkdtempSync(join(tmpdir(), 'ebp-bench-pktgen-'))
const policerObj = join(tmp, 'policer.bpf.o')
const cc = spawnSync('clang', ['-g', '-O2', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', join(root, 'test/fixtures/accelerator/policer.bpf.c'), '-o', policerObj], {encoding: 'utf8'})
if (cc.status !== 0) die(`clang: ${cc.stderr}`)

const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {cwd: root, encoding: 'utf8'}).stdout.trim() || 'unknown'
console.log(`pktgen-targets ${new Date().toISOString()}, commit ${commit}, ${hostname()} (${availableParallelism()} CPUs, kernel ${release()}), ${rounds} rounds`)
const native = loadNative()
const plan = loadTopology('acc')
const met = {paced: 0, search: 0}
try {
  await withTopology(plan, async () => {
    const e = await packetEnds(findRoles(plan, 4), 4)
    const gen = new PacketGen(native)
    const undo = await preparePackets(gen, e)
    const run = (pps, ms = 300) => gen.trial({netns: e.clientNetns, ifname: e.clientPort, frame: {...e.frame, size: 64}, pps, durationMs: ms, cpus: [0], flows: 4, stamp: false})
    try {
      for (let r = 1; r <= rounds; r++) {
        const sink = gen.attachSink(e.dutNetns, e.dutIngress)
        const paced = await run(PACED).finally(() => gen.closeLink(sink))
        const pacedOk = paced.offeredPps >= PACED * 0.7 && paced.offeredPps <= PACED * 1.05
        const policer = BpfObject.open(policerObj, native).load()
        const link = native.netnsXdpAttach(e.dutNetns, e.dutIngress, policer.progFd('policer'), 'native').linkFd
        let found
        try {
          found = await searchThroughput((pps) => run(pps, 500), {tolerance: 0.001, maxSteps: 8, resolution: 0.02})
        } finally {
          native.closeFd(link)
          policer.close()
        }
        const searchOk = !found.atFullSpeed && found.pps >= POLICER * 0.8 && found.pps <= POLICER * 1.02 + 2000 / 0.5
        met.paced += pacedOk ? 1 : 0
        met.search += searchOk ? 1 : 0
        console.log(`round ${r}: paced at ${PACED} pps offered ${Math.round(paced.offeredPps)} (target 70–105%: ${pacedOk ? 'met' : 'NOT met'}); search found ${Math.round(found.pps)} pps against the ${POLICER} pps policer in ${found.trials.length} trials (target 80–102%: ${searchOk ? 'met' : 'NOT met'})`)
      }
    } finally {
      await undo()
      gen.close()
    }
  })
} finally {
  rmSync(tmp, {recursive: true, force: true})
}
console.log(`${rounds} rounds: pacing target met in ${met.paced}, search target met in ${met.search}`)
