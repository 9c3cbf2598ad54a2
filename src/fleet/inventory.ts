// Ansible-style inventories: INI ([group] lines of `name key=value …`) or YAML (all: {hosts, children}),
// with the connection variables fleet doctor uses: ansible_host, ansible_port, ansible_user,
// ansible_ssh_private_key_file. Group vars ([group:vars], YAML vars) apply to the group's hosts.
import {BadInputError} from '../util/errors.js'
import {readInput, readYaml} from '../util/input.js'

export interface InventoryHost {
  name: string
  host: string
  port: number
  user: string
  key?: string
  groups: string[]
}

type Vars = Record<string, string>

function makeHost(name: string, vars: Vars, groups: string[], file: string): InventoryHost {
  const port = Number(vars.ansible_port ?? vars.ansible_ssh_port ?? 22)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new BadInputError(`${file}: host ${name}: ansible_port ${vars.ansible_port} is not a port number`)
  return {name, host: vars.ansible_host ?? vars.ansible_ssh_host ?? name, port, user: vars.ansible_user ?? vars.ansible_ssh_user ?? 'root', key: vars.ansible_ssh_private_key_file, groups}
}

export function parseIniInventory(text: string, file: string): InventoryHost[] {
  const hosts = new Map<string, {vars: Vars; groups: string[]}>()
  const groupVars = new Map<string, Vars>()
  let section = 'ungrouped'
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/(^|\s)[#;].*$/, '').trim()
    if (!line) continue
    const sec = /^\[([^\]]+)\]$/.exec(line)
    if (sec) {
      section = sec[1]
      continue
    }
    const [first, ...rest] = line.split(/\s+/)
    const kv = Object.fromEntries(rest.map((t) => t.split('=')).filter((p) => p.length >= 2).map(([k, ...v]) => [k, v.join('=')]))
    if (section.endsWith(':vars')) {
      const [k, ...v] = line.split('=')
      if (v.length === 0) throw new BadInputError(`${file}:${i + 1}: expected key=value in [${section}]`)
      groupVars.set(section.slice(0, -5), {...groupVars.get(section.slice(0, -5)), [k.trim()]: v.join('=').trim()})
    } else if (section.endsWith(':children')) continue
    else {
      const h = hosts.get(first) ?? {vars: {}, groups: []}
      hosts.set(first, {vars: {...h.vars, ...kv}, groups: [...h.groups, section]})
    }
  }
  return [...hosts].map(([name, h]) => makeHost(name, {...Object.assign({}, ...h.groups.map((g) => groupVars.get(g) ?? {})), ...h.vars}, h.groups, file))
}

interface YamlGroup {
  hosts?: Record<string, Vars | null>
  vars?: Vars
  children?: Record<string, YamlGroup | null>
}

export function parseYamlInventory(doc: unknown, file: string): InventoryHost[] {
  if (!doc || typeof doc !== 'object') throw new BadInputError(`${file}: not an inventory (expected all: {hosts: …} or groups of hosts)`)
  const out = new Map<string, InventoryHost>()
  const walk = (name: string, g: YamlGroup | null, inherited: Vars) => {
    const vars = {...inherited, ...(g?.vars ?? {})}
    for (const [h, hv] of Object.entries(g?.hosts ?? {})) {
      const prev = out.get(h)
      out.set(h, makeHost(h, {...vars, ...(hv ?? {})}, [...(prev?.groups ?? []), name], file))
    }
    for (const [c, cg] of Object.entries(g?.children ?? {})) walk(c, cg, vars)
  }
  for (const [name, g] of Object.entries(doc as Record<string, YamlGroup>)) walk(name, g, {})
  return [...out.values()]
}

/** Reads an inventory file (YAML when it ends in .yml/.yaml or starts like YAML, else INI). */
export function readInventory(file: string): InventoryHost[] {
  const fail = (r: string) => new BadInputError(`--inventory ${file}: ${r}`)
  const text = readInput(file, fail, {maxBytes: 4 * 1024 * 1024}).toString('utf8')
  const yaml = /\.ya?ml$/.test(file) || /^\s*(all|[\w-]+):\s*$/m.test(text.split('\n').find((l) => l.trim() && !l.startsWith('#')) ?? '')
  const hosts = yaml ? parseYamlInventory(readYaml(file, fail), file) : parseIniInventory(text, file)
  if (hosts.length === 0) throw fail('no hosts in it')
  return hosts
}
