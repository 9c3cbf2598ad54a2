// ebpfperf ring/perf buffer consumer in Node with the project's addon: the same consumer the suite uses
// in-process (native/src/ringbuf.cc: ring_buffer__poll / perf_buffer__poll, here on a libuv pool thread,
// each event counted and timed in C++), hosted in a Node process of its own like the other consumers.
// Events do not cross into JavaScript one by one; the figures are the addon's delivery inside Node.
// Answers in the line protocol of docs/consumers.md.
import {createInterface} from 'node:readline'
import {loadNative} from '../../dist/native.js'

const path = process.env.EBPFPERF_MAP
const mechanism = process.env.EBPFPERF_MECHANISM
if (!path || !mechanism) {
  process.stderr.write('ebpfperf-consumer-node: EBPFPERF_MAP and EBPFPERF_MECHANISM must be set (see docs/consumers.md)\n')
  process.exit(2)
}
const native = loadNative()
let consumer
try {
  const fd = native.objGet(path)
  consumer = native.bufferConsumerStart({mechanism, mapFd: fd, perfPages: Number(process.env.EBPFPERF_PERF_PAGES ?? 64)})
} catch (error) {
  process.stderr.write(`ebpfperf-consumer-node: ${path}: ${error.message}\n`)
  process.exit(1)
}

const lines = createInterface({input: process.stdin})
let stopped = false
lines.on('line', async (line) => {
  if (stopped || line.trim() !== 'stop') return
  stopped = true
  native.bufferConsumerStop(consumer.handle)
  let c
  try {
    c = await consumer.done
  } catch (error) {
    process.stderr.write(`ebpfperf-consumer-node: ${error.message}\n`)
    process.exit(1)
  }
  const out = []
  c.consumed.forEach((n, cpu) => {
    if (n > 0 || c.lost[cpu] > 0) out.push(`cpu ${cpu} ${n} ${c.lost[cpu]}`)
  })
  out.push(`markers ${c.markers}`, `short ${c.shortRecords}`, `foreign ${c.foreign}`, `last ${c.lastEventNs}`)
  for (const [v, n] of c.buckets) out.push(`hist ${v} ${n}`)
  out.push('done')
  process.stdout.write(`${out.join('\n')}\n`)
})
// stdin closed: the suite has read our CPU time (after `done`) or is gone
lines.on('close', () => process.exit(stopped ? 0 : 3))
process.stdout.write(`# ebpfperf addon, libbpf ${native.libbpfVersion()}, node ${process.version}\nready\n`)
