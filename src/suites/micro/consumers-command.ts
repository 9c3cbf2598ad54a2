// `suite micro --consumers / --consumer`: the flags, and the consumer mode as a suite definition — the
// lifecycle's parts from consumers-suite.ts with the flags' check and the output (table and notes, or the
// --json document; exit code 1 when a case failed).
import {Flags} from '@oclif/core'
import {BadInputError} from '../../util/errors.js'
import type {SuiteDefinition} from '../suite.js'
import {microAnswer} from './answer.js'
import {selectConsumers} from './consumers.js'
import {renderConsumerNotes, renderConsumerTable} from './consumers-report.js'
import {consumersParts, consumersState, type ConsumersOutcome, type ConsumersState} from './consumers-suite.js'
import type {MicroFlags} from './flags.js'
import {loadFromFlags} from './index.js'
import type {Suite} from './spec.js'

export const consumerFlags = {
  consumers: Flags.string({description: 'drain the ring/perf buffer tests with consumer processes instead of the addon\'s thread, side by side: c (libbpf), python (BCC), go (cilium/ebpf), node (the addon), rust (listed; not installable here) — docs/consumers.md'}),
  consumer: Flags.string({multiple: true, description: 'a consumer of your own, NAME=COMMAND ARGS…, speaking the line protocol of docs/consumers.md (with or without --consumers)'}),
}

interface ConsumerModeFlags {
  consumers?: string
  consumer?: string[]
  ab?: string
  'ab-base'?: string
}

/** The consumer mode's flags and suite file; bad input throws (exit 2) before anything runs. */
export function consumersFromFlags(suite: Suite, flags: ConsumerModeFlags): ConsumersState {
  if (flags.ab || flags['ab-base']) throw new BadInputError('--ab/--ab-base and --consumers/--consumer: choose one (A/B compares builds, --consumers compares consumer processes)')
  const defs = selectConsumers(flags.consumers, flags.consumer)
  if (!suite.tests.some((t) => t.kind === 'buffer')) throw new BadInputError(`--consumers: the selection has no ring/perf buffer test (try --test 'ringbuf*')`)
  return consumersState(suite, defs)
}

/** `suite micro --consumers` / `--consumer`: the suite file and selection as for the other tests. */
export const microConsumersSuite: SuiteDefinition<MicroFlags, ConsumersState, ConsumersOutcome> = {
  ...consumersParts,
  validate: (flags) => consumersFromFlags(loadFromFlags(flags).suite, flags),
  render: (o, paint) => [
    `${microAnswer(o.run).join('\n')}\n`,
    `ring/perf buffer consumers, every event accounted for (produced = consumed + lost per producer CPU)\n${renderConsumerTable(o.outcomes, paint)}`,
    `\n${renderConsumerNotes(o.outcomes, o.notes, paint).join('\n')}`,
    `\nresult: ${o.files.json} (+ .csv)`,
  ],
  jsonNotes: (o) => renderConsumerNotes(o.outcomes, o.notes).filter((line) => line.startsWith('FAILED') || line.startsWith('skipped')),
}
