// suite micro --consumers without a kernel: the line protocol (what a consumer may print, when), the
// --consumer command split, the consumer list, a consumer's counts judged by the same accounting as the
// addon's (a lossy one and an over-counting one fail with their counts), and tiers from Welch.
import {expect} from 'chai'
import {parseConsumerCommand, ProtocolReader} from '../../src/suites/micro/consumers-protocol.js'
import {RUST_REASON, selectConsumers} from '../../src/suites/micro/consumers.js'
import {consumerProblems, mergeReport} from '../../src/suites/micro/consumers-run.js'
import {judge, type ConsumerOutcome} from '../../src/suites/micro/consumers-suite.js'
import type {BufferRunReport} from '../../src/native.js'
import type {BufferTest} from '../../src/suites/micro/spec.js'

function feedAll(r: ProtocolReader, lines: string[]): (string | undefined)[] {
  return lines.map((l) => r.feed(l))
}

describe('consumers: the line protocol', () => {
  it('remarks, ready, then after stop the counts and done', () => {
    const r = new ProtocolReader()
    expect(feedAll(r, ['# libbpf v1.1', '', 'ready'])).to.deep.equal([undefined, undefined, undefined])
    expect(r.phase).to.equal('ready')
    r.stopSent()
    expect(feedAll(r, ['cpu 0 90 10', 'cpu 1 5 0', 'markers 2', 'short 0', 'foreign 0', 'last 123456789', 'hist 1500.5 60', 'hist 3000 35', 'done'])).to.deep.equal(Array(9).fill(undefined))
    expect(r.phase).to.equal('done')
    expect(r.remarks).to.deep.equal(['libbpf v1.1'])
    expect([...r.counts.perCpu]).to.deep.equal([[0, {consumed: 90, lost: 10}], [1, {consumed: 5, lost: 0}]])
    expect(r.counts).to.include({markers: 2, lastNs: 123456789})
    expect(r.counts.buckets).to.deep.equal([[1500.5, 60], [3000, 35]])
  })

  it('garbage before ready, counts before stop, a bad count line, output after done: each an error naming the line', () => {
    expect(new ProtocolReader().feed('hello world')).to.equal('printed "hello world" before "ready"')
    const early = new ProtocolReader()
    early.feed('ready')
    expect(early.feed('cpu 0 1 0')).to.match(/before it was asked to stop/)
    const bad = new ProtocolReader()
    bad.feed('ready')
    bad.stopSent()
    expect(bad.feed('cpu 0 -1 0')).to.match(/not a protocol line/)
    expect(bad.feed('cpu zero 1 0')).to.match(/not a protocol line/)
    expect(bad.feed('events 5')).to.match(/not a protocol line/)
    bad.feed('done')
    expect(bad.feed('cpu 0 1 0')).to.match(/after "done"/)
    expect(new ProtocolReader().feed('x'.repeat(200))).to.have.length.below(120)
  })

  it('--consumer: NAME=CMD, quotes, no shell; errors for an empty or unclosed one', () => {
    expect(parseConsumerCommand(`rust=./target/release/c --flag 'a b' "c d"`)).to.deep.equal({name: 'rust', argv: ['./target/release/c', '--flag', 'a b', 'c d']})
    expect(parseConsumerCommand('/opt/x/my-consumer -v')).to.deep.equal({name: 'my-consumer', argv: ['/opt/x/my-consumer', '-v']})
    expect(parseConsumerCommand('FOO=bar baz')).to.deep.equal({name: 'FOO', argv: ['bar', 'baz']})
    expect(parseConsumerCommand('x=')).to.be.a('string').and.match(/no command/)
    expect(parseConsumerCommand(`a 'b`)).to.be.a('string').and.match(/unclosed/)
  })

  it('--consumers: shipped names in order, rust listed with its reason; unknown or repeated names are bad input', () => {
    const d = selectConsumers('c,python,go,node,rust', ['mine=/bin/true'])
    expect(d.map((x) => x.id)).to.deep.equal(['c', 'python', 'go', 'node', 'rust', 'mine'])
    expect(d.find((x) => x.id === 'rust')?.skip).to.equal(RUST_REASON)
    expect(d.find((x) => x.id === 'mine')?.argv).to.deep.equal(['/bin/true'])
    expect(() => selectConsumers('c,java')).to.throw(/unknown consumer "java"/)
    expect(() => selectConsumers('c,c')).to.throw(/given twice/)
    expect(() => selectConsumers('c', ['c=/bin/true'])).to.throw(/taken/)
    expect(() => selectConsumers('')).to.throw(/no consumer/)
  })
})

const test = {mechanism: 'ringbuf', events: 1000, producers: [0, 1], expect: 0} as Pick<BufferTest, 'mechanism' | 'events' | 'producers' | 'expect'>

function nativeReport(failed = [0, 0]): BufferRunReport {
  const producer = (cpu: number, i: number) => ({cpu, fired: 1000, calls: 1, kernelNs: 1e5, wallNs: 1e6, timedOut: false, producedByProgram: 1000, failedByProgram: failed[i], consumed: 0, lost: 0})
  return {producers: [producer(0, 0), producer(1, 1)], unexpected: 0, shortRecords: 0, markers: 0, bytes: 0, polls: 0, wakeups: 0, startNs: 1e9, producersDoneNs: 1.001e9, lastEventNs: 0, endNs: 1.002e9, latency: {count: 0, sum: 0, min: 0, max: 0, buckets: []}}
}

function counts(perCpu: [number, number, number][]) {
  const r = new ProtocolReader()
  r.feed('ready')
  r.stopSent()
  for (const [cpu, c, l] of perCpu) r.feed(`cpu ${cpu} ${c} ${l}`)
  r.feed('hist 1000 10')
  r.feed('last 1001500000')
  r.feed('done')
  return r.counts
}

describe('consumers: every event accounted for', () => {
  it('all consumed (ring buffer: the program counted the failures as lost): no problem', () => {
    const merged = mergeReport(nativeReport([0, 50]), counts([[0, 1000, 0], [1, 950, 0]]))
    expect(merged.producers.map((p) => p.consumed)).to.deep.equal([1000, 950])
    expect(merged.lastEventNs).to.equal(1001500000)
    expect(consumerProblems(test, merged)).to.deep.equal([])
  })

  it('a lossy consumer (drops every 10th event) fails with the count', () => {
    const merged = mergeReport(nativeReport(), counts([[0, 900, 0], [1, 900, 0]]))
    const p = consumerProblems(test, merged)
    expect(p[0]).to.equal('CPU 0: produced 1000 ≠ consumed 900 + lost 0 (100 unaccounted for)')
    expect(p).to.have.length(2)
  })

  it('an over-counting consumer, or one reporting a CPU that did not produce, fails saying so', () => {
    expect(consumerProblems(test, mergeReport(nativeReport(), counts([[0, 1001, 0], [1, 1000, 0]])))[0]).to.equal('reported 1 more events than CPU 0 produced (consumed 1001 + lost 0 > produced 1000)')
    expect(consumerProblems(test, mergeReport(nativeReport(), counts([[0, 1000, 0], [1, 1000, 0], [5, 3, 0]])))).to.deep.equal(['reported 3 events from CPUs that were not producing'])
  })

  it('perf buffer: the lost counts come from the consumer and must match what the program saw fail', () => {
    const perf = {...test, mechanism: 'perfbuf'} as typeof test
    const merged = mergeReport({...nativeReport([10, 0]), markers: 0}, counts([[0, 990, 10], [1, 1000, 0]]))
    merged.markers = 2
    expect(consumerProblems(perf, merged)).to.deep.equal([])
    const wrong = mergeReport(nativeReport([10, 0]), counts([[0, 995, 5], [1, 1000, 0]]))
    wrong.markers = 2
    expect(consumerProblems(perf, wrong)[0]).to.match(/lost callback reported 5, the program saw 10/)
  })
})

describe('consumers: tiers and the verdict against C from the samples', () => {
  const outcome = (id: string, rates: number[]): ConsumerOutcome =>
    ({test: {name: 't'} as BufferTest, consumer: {id, language: id, library: id, shipped: true}, status: 'ok', samples: rates.map((eventsPerSec) => ({eventsPerSec}))}) as unknown as ConsumerOutcome

  it('a consumer the test cannot tell from the fastest shares its tier; a clearly slower one starts the next', () => {
    const os = [outcome('c', [100, 101, 99, 100]), outcome('node', [100.5, 99.5, 100, 101]), outcome('python', [10, 11, 9, 10])]
    judge(os)
    expect(os.map((o) => o.tier)).to.deep.equal([1, 1, 2])
    expect(os[0].vsC).to.equal(undefined)
    expect(os[1].vsC?.significant).to.equal(false)
    expect(os[2].vsC?.significant).to.equal(true)
    expect(os[2].vsC?.relative).to.be.closeTo(-0.9, 0.01)
  })
})
