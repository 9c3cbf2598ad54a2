// The tracing suite's tables: ns per event (with bpf_stats and what bpf_stats costs), the syscall-tracepoint
// scenarios, and the workload tables (Configuration, Bitrate ±, Transfer ±, Samples; impact and significance).
import type {Summary} from '../../results/stats.js'
import {renderTable} from '../../results/table.js'
import type {EventLayer} from './event.js'
import type {SkippedCase, TracingReport} from './index.js'
import type {ScenarioLayer} from './scenario.js'
import type {WorkloadLayer} from './workload.js'

const pm = (s: Summary | undefined, d = 1) => (s ? `${s.mean.toFixed(d)}±${s.sd.toFixed(d)}` : '-')
const ci = (s: Summary | undefined, d = 1) => (s && s.n > 1 ? `${s.mean >= 0 ? '+' : ''}${s.mean.toFixed(d)} ±${s.halfWidth.toFixed(d)}` : '-')
const rule = '='.repeat(85)

export function renderTracing(r: TracingReport): string {
  const out: string[] = []
  const sections = [r.event && eventTables(r.event), r.scenarios && scenarioTable(r.scenarios), r.workload && workloadTables(r.workload), r.skipped.length > 0 && skippedList(r.skipped)]
  for (const lines of sections) {
    if (!lines) continue
    if (out.length) out.push('')
    out.push(...lines)
  }
  if (r.notes.length > 0) out.push(...r.notes.map((n) => `Note: ${n}`))
  if (r.files) out.push(`\nResults: ${r.files.json} (and ${r.files.csv})${r.complete ? '' : ' — INCOMPLETE (interrupted): the samples taken so far'}`)
  return out.join('\n')
}

/** ns added per event, the programs' proof of firing, and what bpf_stats costs. */
function eventTables(ev: EventLayer): string[] {
  const out: string[] = []
  const b = ev.baselines
  const base = [
    b.syscall ? `getpgid ${b.syscall.summary.mean.toFixed(1)} ns (±${(b.syscall.localCv * 100).toFixed(1)}% sample to sample)` : '',
    b.uprobe ? `trigger function ${b.uprobe.summary.mean.toFixed(1)} ns (±${(b.uprobe.localCv * 100).toFixed(1)}% sample to sample)` : '',
  ].filter(Boolean)
  out.push(`PER-EVENT COST — trigger thread pinned to CPU ${ev.cpu}${ev.realtime ? ', SCHED_FIFO' : ev.realtimeError ? ` (SCHED_FIFO refused: ${ev.realtimeError})` : ''}; baseline per trigger: ${base.join(', ') || '-'}`)
  out.push('ns added per event = ns(trigger with program) - ns(trigger without), paired with the baselines around it; 95% CI')
  out.push(
    renderTable(
      ['Configuration', 'Target', 'ns/trigger', 'Added ns (95% CI)', 'Program ns/run (bpf_stats)', 'Samples', 'Precise', 'Verdict'],
      ev.rows.map((x) => [
        x.id,
        x.target || 'ebpfperf_trace_target',
        x.configNs.length ? (x.configNs.reduce((a, c) => a + c, 0) / x.configNs.length).toFixed(1) : '-',
        ci(x.added),
        x.progCost ? `${x.progCost.mean.toFixed(1)} ±${x.progCost.halfWidth.toFixed(1)}` : '-',
        String(x.samples.length),
        x.status !== 'ok' ? '-' : x.precise ? 'yes' : 'no',
        x.status === 'failed' ? `FAILED: ${x.reason}` : x.verdict,
      ]),
    ),
  )
  const proofs = ev.rows.filter((x) => x.status === 'ok').map((x) => `  ${x.id}: ${x.proof}${x.retries ? ` (${x.retries} stats-off samples retaken: another process had bpf_stats on)` : ''}`)
  if (proofs.length) out.push(`Programs fired:\n${proofs.join('\n')}`)
  if (ev.statsCost.length > 0) {
    out.push('')
    out.push('COST OF bpf_stats (kernel.bpf_stats_enabled / BPF_ENABLE_STATS): stats-on minus stats-off, paired by round')
    out.push(renderTable(['Configuration', 'Extra ns per event (95% CI)', 'Samples', 'Verdict'], ev.statsCost.map((c) => [`${c.kind}/${c.body}`, ci(c.summary), String(c.samples.length), c.verdict])))
  }
  return out
}

function scenarioTable(sc: ScenarioLayer): string[] {
  return [
    `GLOBAL SYSCALL TRACEPOINT (raw_syscalls/sys_enter) — cost to a process it does NOT trace (traced pid ${sc.tracedPid})`,
    renderTable(
      ['Configuration', 'ns/syscall', 'Syscalls/s (M)', 'Samples', 'Impact on syscall rate vs no tracing', 'Evidence'],
      sc.rows.map((x) => [
        x.title,
        pm(x.summary),
        x.rateSummary ? `${(x.rateSummary.mean / 1e6).toFixed(3)}±${(x.rateSummary.sd / 1e6).toFixed(3)}` : '-',
        String(x.samples.length),
        x.status === 'failed' ? `FAILED: ${x.reason}` : x.verdict,
        `${x.proof}${x.consumerCpuNsPerEvent !== undefined ? `; consumer ${x.consumerCpuNsPerEvent.toFixed(0)} ns CPU/event` : ''}`,
      ]),
    ),
  ]
}

/** The workload's figures, then their impact against the baseline. */
function workloadTables(wl: WorkloadLayer): string[] {
  const out = [
    `WORKLOAD — iperf3 -u -l 64 -P ${wl.streams} -b 1G, ${wl.duration} s per run, programs on the server's receive path`,
    renderTable(
      ['Configuration', 'Target', 'Bitrate (Mbps)', 'Transfer (MB)', 'Samples'],
      wl.rows.map((x) => [x.id, x.target ?? '-', x.status === 'failed' && !x.bitrateSummary ? `FAILED: ${x.reason}` : pm(x.bitrateSummary), pm(x.transferSummary), String(x.bitrate.length)]),
    ),
    rule,
    'PERFORMANCE IMPACT vs BASELINE (Welch\'s t-test; "no significant difference" where p ≥ 0.05)',
    rule,
    renderTable(
      ['Configuration', 'Bitrate impact', 'Transfer impact', 'Evidence'],
      wl.rows.filter((x) => x.id !== 'baseline').map((x) => [x.id, x.status === 'failed' ? `FAILED: ${x.reason}` : x.bitrateVerdict, x.transferVerdict, x.proof]),
    ),
  ]
  if (wl.noisy) out.push(`Note: ${wl.noisyWhy}: this machine is too noisy to tell effects of this size apart; use the per-event figures above.`)
  return out
}

function skippedList(skipped: SkippedCase[]): string[] {
  return ['SKIPPED', ...skipped.map((s) => `  ${s.what}${s.layer === 'all' ? '' : ` (${s.layer})`}: ${s.reason}`)]
}
