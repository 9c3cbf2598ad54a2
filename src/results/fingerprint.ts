// Where a result was measured: enough to tell whether two results are comparable.
import {createHash} from 'node:crypto'
import {cpus, release, hostname, machine} from 'node:os'
import {gunzipSync} from 'node:zlib'
import {readFileSync} from 'node:fs'
import {readText} from '../kernel/runtime.js'
import {discoverKconfig} from '../kernel/kconfig.js'
import {probeTool} from '../kernel/tools.js'
import {toolVersion} from '../util/version.js'

export interface Fingerprint {
  kernel: {release: string; configHash?: string; configPath?: string}
  machine: string
  hostname: string
  cpu: {model: string; count: number; governor?: string}
  virtualized: boolean // the CPU says it runs under a hypervisor
  jit: {enable?: string; harden?: string; kallsyms?: string}
  bpfStatsEnabled?: string
  versions: {ebpfperf: string; node: string; libbpf?: string; clang?: string; iperf3?: string}
}

export async function fingerprint(opts: {libbpf?: string} = {}): Promise<Fingerprint> {
  const r = release()
  const cfg = discoverKconfig(r)
  let configHash: string | undefined
  if (cfg.path) {
    try {
      const raw = readFileSync(cfg.path)
      const text = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw
      configHash = `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`
    } catch {
      // unreadable config: no hash
    }
  }
  const cpuinfo = readText('/proc/cpuinfo') ?? ''
  const [clang, iperf3] = await Promise.all([probeTool('clang'), probeTool('iperf3')])
  const sys = (p: string) => readText(p)?.trim()
  return {
    kernel: {release: r, configHash, configPath: cfg.path},
    machine: machine(),
    hostname: hostname(),
    cpu: {model: cpus()[0]?.model ?? 'unknown', count: cpus().length, governor: sys('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor')},
    virtualized: /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo),
    jit: {enable: sys('/proc/sys/net/core/bpf_jit_enable'), harden: sys('/proc/sys/net/core/bpf_jit_harden'), kallsyms: sys('/proc/sys/net/core/bpf_jit_kallsyms')},
    bpfStatsEnabled: sys('/proc/sys/kernel/bpf_stats_enabled'),
    versions: {ebpfperf: toolVersion(), node: process.versions.node, libbpf: opts.libbpf, clang: clang.version, iperf3: iperf3.version},
  }
}

/** What differs between two fingerprints in ways that make timings incomparable. */
export function fingerprintDifferences(a: Fingerprint, b: Fingerprint): string[] {
  const out: string[] = []
  if (a.kernel.release !== b.kernel.release) out.push(`kernel ${a.kernel.release} vs ${b.kernel.release}`)
  else if (a.kernel.configHash !== b.kernel.configHash) out.push(`kernel config ${a.kernel.configHash} vs ${b.kernel.configHash}`)
  if (a.cpu.model !== b.cpu.model || a.cpu.count !== b.cpu.count) out.push(`CPU ${a.cpu.count}× ${a.cpu.model} vs ${b.cpu.count}× ${b.cpu.model}`)
  if (a.hostname !== b.hostname) out.push(`machine ${a.hostname} vs ${b.hostname}`)
  if (a.jit.enable !== b.jit.enable || a.jit.harden !== b.jit.harden) out.push(`JIT ${a.jit.enable}/${a.jit.harden} vs ${b.jit.enable}/${b.jit.harden}`)
  if (a.virtualized !== b.virtualized) out.push(`virtualized ${a.virtualized} vs ${b.virtualized}`)
  return out
}
