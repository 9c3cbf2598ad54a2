// The --consumers / --consumer part of `ebpfperf suite micro`: gate, run, print (table and notes, or the
// --json document), exit code 1 when a case failed. The command file only hands over.
import {Flags} from '@oclif/core'
import {makeChalk} from '../../doctor/render.js'
import type {RunResult} from '../../results/store.js'
import {BadInputError} from '../../util/errors.js'
import {suiteGate} from '../common.js'
import {selectConsumers} from './consumers.js'
import {renderConsumerNotes, renderConsumerTable} from './consumers-report.js'
import {runConsumers} from './consumers-suite.js'
import type {Suite} from './spec.js'

export const consumerFlags = {
  consumers: Flags.string({description: 'drain the ring/perf buffer tests with consumer processes instead of the addon\'s thread, side by side: c (libbpf), python (BCC), go (cilium/ebpf), node (the addon), rust (listed; not installable here) — docs/consumers.md'}),
  consumer: Flags.string({multiple: true, description: 'a consumer of your own, NAME=COMMAND ARGS…, speaking the line protocol of docs/consumers.md (with or without --consumers)'}),
}

export interface CommandIo {
  log(line: string): void
  note(line: string): void
  json: boolean
}

export async function consumersCommand(io: CommandIo, suite: Suite, flags: {consumers?: string; consumer?: string[]; out: string; ab?: string; argv: string[]}): Promise<RunResult> {
  if (flags.ab) throw new BadInputError('--ab and --consumers/--consumer: choose one (A/B compares builds, --consumers compares consumer processes)')
  const defs = selectConsumers(flags.consumers, flags.consumer)
  if (!suite.tests.some((t) => t.kind === 'buffer')) throw new BadInputError(`--consumers: the selection has no ring/perf buffer test (try --test 'ringbuf*')`)
  const gate = await suiteGate('micro')
  io.note(`micro: ${gate.verdict.text}`)
  const buffers = suite.tests.filter((t) => t.kind === 'buffer')
  io.note(`micro --consumers: ${buffers.length} buffer tests × ${defs.map((d) => d.id).join(', ')}, consumers interleaved over the samples`)
  const outcome = await runConsumers(suite, defs, {argv: flags.argv, outDir: flags.out, gate, onSample: (line) => io.note(`  ${line}`)})
  const chalk = makeChalk()
  const paint = {bad: (s: string) => chalk.red(s), dim: (s: string) => chalk.dim(s), head: (s: string) => chalk.bold(s)}
  if (io.json) {
    for (const line of renderConsumerNotes(outcome.outcomes, outcome.notes)) if (line.startsWith('FAILED') || line.startsWith('skipped')) io.note(line)
    io.note(`result: ${outcome.files.json}`)
  } else {
    io.log(`ring/perf buffer consumers, every event accounted for (produced = consumed + lost per producer CPU)\n${renderConsumerTable(outcome.outcomes, paint)}`)
    io.log(`\n${renderConsumerNotes(outcome.outcomes, outcome.notes, paint).join('\n')}`)
    io.log(`\nresult: ${outcome.files.json} (+ .csv)`)
  }
  if (outcome.outcomes.some((o) => o.status === 'failed')) process.exitCode = 1
  return outcome.run
}
