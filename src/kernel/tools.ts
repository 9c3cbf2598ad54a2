// The user-space tools the suites drive, and their versions.
import {run, which} from '../exec.js'

export interface ToolInfo {
  name: string
  package: string // Debian package that provides it
  path?: string
  version?: string
}

const TOOLS: Record<string, {package: string; args: string[]; pattern: RegExp}> = {
  iperf3: {package: 'iperf3', args: ['--version'], pattern: /iperf (\S+)/},
  ip: {package: 'iproute2', args: ['-V'], pattern: /iproute2-([\w.]+)/},
  tc: {package: 'iproute2', args: ['-V'], pattern: /iproute2-([\w.]+)/},
  ethtool: {package: 'ethtool', args: ['--version'], pattern: /ethtool version (\S+)/},
  clang: {package: 'clang', args: ['--version'], pattern: /clang version (\S+)/},
  bpftool: {package: 'bpftool', args: ['version'], pattern: /bpftool v?(\S+)/},
  ping: {package: 'iputils-ping', args: ['-V'], pattern: /iputils[- ](\S+)/},
}

export const KNOWN_TOOLS = Object.keys(TOOLS)

/** Where a tool is and (unless `version` is false, which runs nothing) its version. */
export async function probeTool(name: string, version = true): Promise<ToolInfo> {
  const t = TOOLS[name] ?? {package: name, args: ['--version'], pattern: /(\d+\.\d+(?:\.\d+)?)/}
  const path = which(name)
  if (!path || !version) return {name, package: t.package, path}
  const r = await run(path, t.args, {timeoutMs: 5000})
  const m = t.pattern.exec(`${r.stdout}\n${r.stderr}`)
  return {name, package: t.package, path, version: m?.[1]}
}
