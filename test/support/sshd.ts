// Real OpenSSH servers for fleet tests: one sshd per ebp-fleet-N network namespace (198.18.19.0/24, a /30
// per server), reached from a client namespace ebp-fleet-c over veth pairs, so the host's interfaces and
// routes are never touched; a key pair and host keys made for the test; everything removed by stop().
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

export interface SshFleet {
  client: string
  servers: {name: string; ns: string; address: string; pidFile: string}[]
  key: string
  inventory: string
  stopServer(i: number): void
  stop(): void
}

function sh(cmd: string[]): void {
  const r = spawnSync(cmd[0], cmd.slice(1), {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: ${r.stderr.trim()}`)
}

function waitFor(check: () => boolean, ms: number): boolean {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (check()) return true
    spawnSync('sleep', ['0.1'])
  }
  return check()
}

function sshdConfig(dir: string, i: number, address: string, authorized: string): string {
  const hostKey = join(dir, `host${i}_ed25519`)
  sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', hostKey])
  const cfg = join(dir, `sshd${i}.conf`)
  writeFileSync(cfg, [`ListenAddress ${address}`, 'Port 22', `HostKey ${hostKey}`, `PidFile ${join(dir, `sshd${i}.pid`)}`, `AuthorizedKeysFile ${authorized}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'Subsystem sftp internal-sftp', ''].join('\n'))
  return cfg
}

export function startSshFleet(dir: string, count = 3): SshFleet {
  const client = 'ebp-fleet-c'
  const madeRunDir = !existsSync('/run/sshd')
  if (madeRunDir) mkdirSync('/run/sshd', {mode: 0o755}) // sshd's privilege separation directory (its service makes it too)
  const key = join(dir, 'id_ed25519')
  sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key])
  const authorized = join(dir, 'authorized_keys')
  writeFileSync(authorized, readFileSync(`${key}.pub`))
  const servers: SshFleet['servers'] = []
  const stop = () => {
    for (const s of servers) stopPid(s.pidFile)
    for (const ns of [client, ...servers.map((s) => s.ns)]) spawnSync('ip', ['netns', 'del', ns])
    if (madeRunDir) rmSync('/run/sshd', {recursive: true, force: true})
  }
  try {
    sh(['ip', 'netns', 'add', client])
    sh(['ip', '-n', client, 'link', 'set', 'lo', 'up'])
    for (let i = 1; i <= count; i++) {
      const ns = `ebp-fleet-${i}`
      const [c, s] = [`198.18.19.${4 * i + 1}`, `198.18.19.${4 * i + 2}`]
      sh(['ip', 'netns', 'add', ns])
      servers.push({name: `node${i}`, ns, address: s, pidFile: join(dir, `sshd${i}.pid`)})
      sh(['ip', '-n', client, 'link', 'add', `ebp-fc${i}`, 'type', 'veth', 'peer', 'name', `ebp-fs${i}`, 'netns', ns])
      sh(['ip', '-n', client, 'addr', 'add', `${c}/30`, 'dev', `ebp-fc${i}`])
      sh(['ip', '-n', ns, 'addr', 'add', `${s}/30`, 'dev', `ebp-fs${i}`])
      for (const [n, dev] of [[client, `ebp-fc${i}`], [ns, `ebp-fs${i}`], [ns, 'lo']]) sh(['ip', '-n', n, 'link', 'set', dev, 'up'])
      sh(['ip', 'netns', 'exec', ns, '/usr/sbin/sshd', '-f', sshdConfig(dir, i, s, authorized)])
      if (!waitFor(() => existsSync(join(dir, `sshd${i}.pid`)), 10_000)) throw new Error(`sshd in ${ns} did not start`)
    }
  } catch (error) {
    stop()
    throw error
  }
  const inventory = join(dir, 'hosts.ini')
  writeFileSync(inventory, ['[nodes]', ...servers.map((s) => `${s.name} ansible_host=${s.address}`), '', '[nodes:vars]', 'ansible_user=root', `ansible_ssh_private_key_file=${key}`, ''].join('\n'))
  return {client, servers, key, inventory, stopServer: (i) => stopPid(servers[i].pidFile), stop}
}

function stopPid(pidFile: string): void {
  if (!existsSync(pidFile)) return
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  waitFor(() => {
    try {
      process.kill(pid, 0)
      return false
    } catch {
      return true
    }
  }, 5000)
}
