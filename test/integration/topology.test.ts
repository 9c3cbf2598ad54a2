// The real kernel: namespaces, veths, routes, pings; the built CLI as a user runs it.
import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {loadTopology} from '../../src/topology/model.js'
import {down, up, verify, withTopology} from '../../src/topology/index.js'
import type {TopologyStatus} from '../../src/topology/status.js'
import {lockTopology} from '../../src/util/lock.js'
import {loadNative} from '../../src/native.js'
import {hostLinks, inspectNetns, makeMarkedNetns, NetnsExistsError} from '../../src/topology/kernel.js'

const root = new URL('../..', import.meta.url).pathname
const bin = join(root, 'bin/run.js')
const fx = (f: string) => join(root, 'test/fixtures/topology', f)

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}, timeout: 60_000})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}
const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], {encoding: 'utf8'})
const netns = () => sh('ip -j netns list').stdout.trim() ? (JSON.parse(sh('ip -j netns list').stdout) as {name: string}[]).map((n) => n.name) : []
const ours = () => netns().filter((n) => n.startsWith('ebp-'))
const hostEbpLinks = () => (JSON.parse(sh('ip -j link show').stdout) as {ifname: string}[]).map((l) => l.ifname).filter((n) => n.startsWith('ebp-'))
const sysctl = (p: string) => readFileSync(`/proc/sys/${p}`, 'utf8').trim()
const waitFor = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('ebpfperf topology (real namespaces and veths)', function () {
  before(function () {
    if (process.getuid?.() !== 0) {
      console.log('      skipped: topology tests need root')
      this.skip()
    }
  })
  // whatever a test does, nothing of ours survives it
  afterEach(async () => {
    await down({all: true})
    // hygiene only, so one failure does not cascade (each test asserts its own clean-up first)
    for (const n of ours()) sh(`ip netns del ${n}`)
  })
  after(() => {
    expect(ours(), 'namespaces left behind').to.deep.equal([])
    expect(hostEbpLinks(), 'host links left behind').to.deep.equal([])
  })

  it('up, ping through the DUT, status, down: nothing left behind', () => {
    const up = cli(['topology', 'up', '--json'])
    expect(up.code, up.stderr).to.equal(0)
    const st = JSON.parse(up.stdout) as TopologyStatus
    expect(st).to.include({state: 'up', changed: true})
    expect(st.verified!.map((v) => [v.ok, v.gotTtl])).to.deep.equal([[true, 63], [true, 63], [true, 63], [true, 63]])
    const ping = sh('ip netns exec ebp-dut-client ping -c 1 -W 2 198.18.1.1')
    expect(ping.stdout).to.match(/ttl=63/)
    const ping6 = sh('ip netns exec ebp-dut-server ping -6 -c 1 -W 2 2001:2:0:1::1')
    expect(ping6.status).to.equal(0)
    const status = cli(['topology', 'status', '--json'])
    const s2 = JSON.parse(status.stdout) as TopologyStatus
    expect(s2.state).to.equal('up')
    expect(s2.nodes.find((n) => n.node === 'dut')!.forwarding).to.deep.equal({ipv4: '1', ipv6: '1'})
    expect(s2.nodes.flatMap((n) => n.links.map((l) => l.ifname))).to.deep.equal(['ebp-cli0', 'ebp-dut0', 'ebp-dut1', 'ebp-srv0'])
    const human = cli(['topology', 'status'])
    expect(human.stdout).to.match(/ebp-dut-client\s+ebp-cli0\s+\d+\s+[0-9a-f:]{17}\s+UP\s+1500/)
    const dn = cli(['topology', 'down'])
    expect(dn.code).to.equal(0)
    expect(dn.stdout).to.include('removed namespace ebp-dut-dut')
    expect(ours()).to.deep.equal([])
    expect(JSON.parse(cli(['topology', 'status', '--json']).stdout).state).to.equal('down')
    expect(cli(['topology', 'down']).stdout).to.match(/nothing to remove/) // already gone is success
  })

  it('up twice: the second changes nothing; drift is repaired by a rebuild', () => {
    expect(cli(['topology', 'up']).code).to.equal(0)
    const mac = sh('ip -n ebp-dut-dut -j link show ebp-dut0').stdout
    const again = JSON.parse(cli(['topology', 'up', '--json']).stdout) as TopologyStatus
    expect(again.changed).to.equal(false)
    expect(sh('ip -n ebp-dut-dut -j link show ebp-dut0').stdout).to.equal(mac)
    sh('ip -n ebp-dut-dut addr flush dev ebp-dut1')
    expect(JSON.parse(cli(['topology', 'status', '--json']).stdout).drift).to.include('dut: ebp-dut1 lacks 198.18.1.254/24')
    const repaired = cli(['topology', 'up', '--json'])
    expect(repaired.stderr).to.match(/rebuilt because: .*ebp-dut1 lacks/)
    const st = JSON.parse(repaired.stdout) as TopologyStatus
    expect(st).to.include({state: 'up', changed: true})
    expect(st.verified).to.not.be.empty
    expect(st.verified!.every((v) => v.ok)).to.equal(true)
  })

  const killPoints: [string, string[], () => boolean][] = [
    ['right after the first namespace appears', [], () => ours().length > 0],
    ['once the veth pairs exist', [], () => sh('ip -n ebp-dut-dut link show ebp-dut1 2>/dev/null').status === 0],
    ['with --dut host, once a host link exists', ['--dut', 'host'], () => hostEbpLinks().length > 0],
  ]
  for (const [when, extra, reached] of killPoints) {
    it(`kill -9 in the middle of up (${when}), then down leaves nothing, and up works again`, async () => {
      const fwd = sysctl('net/ipv4/ip_forward')
      const child = spawn(process.execPath, [bin, 'topology', 'up', ...extra], {stdio: 'ignore'})
      await waitFor(reached)
      child.kill('SIGKILL')
      await new Promise((r) => child.on('exit', r))
      expect(ours().length + hostEbpLinks().length).to.be.greaterThan(0) // it really was interrupted half-way
      const d = cli(['topology', 'down'])
      expect(d.code, d.stderr).to.equal(0)
      expect(ours()).to.deep.equal([])
      expect(hostEbpLinks()).to.deep.equal([])
      expect(sysctl('net/ipv4/ip_forward')).to.equal(fwd)
      expect(cli(['topology', 'up', ...extra]).code).to.equal(0)
    })
  }

  it('SIGTERM during up undoes what was made and exits 143', async () => {
    const child = spawn(process.execPath, [bin, 'topology', 'up'], {stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    // its namespaces are made once it names the links (a poll of `ip netns list` sees them too late: the rest of up takes tens of ms)
    await waitFor(() => /^ {2}links /m.test(stderr))
    child.kill('SIGTERM')
    const code = await new Promise((r) => child.on('exit', r))
    expect(code).to.equal(143)
    expect(stderr).to.match(/SIGTERM/)
    expect(ours()).to.deep.equal([])
  })

  it('a broken file: one line, exit 2, nothing created', () => {
    const r = cli(['topology', 'up', fx('bad-node.topo.yml')])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.match(/^ebpfperf: .*bad-node\.topo\.yml: links\[0\]\.endpoints\[1\]\.node: unknown node "sever".*\n$/)
    expect(ours()).to.deep.equal([])
  })

  it('a name collision with something ebpfperf did not create: exit 2, the other thing untouched, nothing created', () => {
    expect(sh('ip netns add ebp-dut-client && ip -n ebp-dut-client link add ebp-mine type veth peer ebp-mine2').status).to.equal(0)
    const r = cli(['topology', 'up'])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.match(/namespace ebp-dut-client exists and was not created by ebpfperf/)
    expect(ours()).to.deep.equal(['ebp-dut-client'])
    expect(sh('ip -n ebp-dut-client link show ebp-mine').status).to.equal(0)
    const d = cli(['topology', 'down'])
    expect(d.stdout).to.match(/left alone: namespace ebp-dut-client/)
    expect(ours()).to.deep.equal(['ebp-dut-client'])
  })

  it('an empty namespace with one of our names is the user\'s: up refuses it (exit 2), down --all leaves it, both untouched', () => {
    expect(sh('ip netns add ebp-dut-client').status).to.equal(0)
    const inode = sh('stat -L -c %i /run/netns/ebp-dut-client').stdout
    try {
      const r = cli(['topology', 'up'])
      expect(r.code, r.stderr).to.equal(2)
      expect(r.stderr).to.match(/^ebpfperf: namespace ebp-dut-client exists and was not created by ebpfperf \(no ebpfperf mark\)/)
      expect(ours()).to.deep.equal(['ebp-dut-client'])
      const d = cli(['topology', 'down', '--all'])
      expect(d.stdout).to.match(/left alone: namespace ebp-dut-client/)
      expect(sh('stat -L -c %i /run/netns/ebp-dut-client').stdout, 'the same namespace, not a new one').to.equal(inode)
      expect(sh('ip -n ebp-dut-client -j link show').stdout).to.not.match(/ebpfperf/)
    } finally {
      sh('ip netns del ebp-dut-client')
    }
  })

  it('verification: a reply with another TTL than the path gives is a failure, and so is no reply within 5 s', async () => {
    const plan = loadTopology(undefined)
    await up(plan)
    const wrong = await verify({...plan, reachability: plan.reachability.map((r) => ({...r, ttl: 64}))})
    expect(wrong.map((v) => [v.ok, v.gotTtl])).to.deep.equal([[false, 63], [false, 63], [false, 63], [false, 63]])
    expect(wrong[0].error).to.match(/^reply TTL 63, expected 64: the path is not what the file describes$/)
    expect(sh('ip netns exec ebp-dut-dut sh -c "echo 0 > /proc/sys/net/ipv4/ip_forward"').status).to.equal(0)
    const noV4 = await verify(plan)
    expect(noV4.map((v) => [v.family, v.ok, v.error])).to.deep.equal([[4, false, 'no reply'], [6, true, undefined], [4, false, 'no reply'], [6, true, undefined]])
  })

  it('namespaces, veths, addresses and routes made without a process; a name taken meanwhile is refused and left as it was', async () => {
    expect(sh('ip netns add ebp-mk-taken').status).to.equal(0)
    const inode = sh('stat -L -c %i /run/netns/ebp-mk-taken').stdout
    try {
      const made = makeMarkedNetns([
        {netns: 'ebp-mk-new', mark: 'ebpfperf:mk:new', sysctls: {'net/ipv4/ip_forward': '1', 'net/ipv6/conf/default/accept_dad': '0'}},
        {netns: 'ebp-mk-taken', mark: 'ebpfperf:mk:taken', sysctls: {}},
      ])
      expect(made[0]).to.deep.equal({netns: 'ebp-mk-new'})
      expect(made[1].error).to.be.instanceOf(NetnsExistsError)
      expect(await inspectNetns('ebp-mk-new')).to.deep.equal({name: 'ebp-mk-new', mark: 'ebpfperf:mk:new', empty: true})
      expect(sh('ip -n ebp-mk-new -j link show lo').stdout).to.match(/"UP"/)
      expect(sh('ip netns exec ebp-mk-new cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/default/accept_dad').stdout).to.equal('1\n0\n')
      expect((await inspectNetns('ebp-mk-taken')).mark).to.equal(undefined)
      expect(sh('stat -L -c %i /run/netns/ebp-mk-taken').stdout, 'the same namespace, not a new one').to.equal(inode)
      expect(sh('grep -c " /run/ebpfperf/staging/" /proc/self/mountinfo').stdout.trim(), 'nothing staged left').to.equal('0')
      expect(existsSync('/run/ebpfperf/staging/ebp-mk-taken')).to.equal(false)
      // the host's ebp- links as the addon reads them and as `ip` lists them: one made for the purpose
      loadNative().netnsVethAdd({netns: null, ifname: 'ebp-mk-h0', index: 0}, {netns: 'ebp-mk-new', ifname: 'ebp-mk-h1', index: 202})
      expect(hostEbpLinks()).to.include('ebp-mk-h0')
      expect((await hostLinks()).map((l) => l.ifname)).to.deep.equal(hostEbpLinks())
      // links, addresses and routes, by the addon as by `ip`
      const native = loadNative()
      native.netnsVethAdd({netns: 'ebp-mk-new', ifname: 'ebp-mk0', index: 200}, {netns: 'ebp-mk-new', ifname: 'ebp-mk1', index: 201, queues: 3})
      const addrs = ['198.18.9.1/24', '2001:2:0:9::1/64']
      native.netnsConfigure('ebp-mk-new', [{ifname: 'ebp-mk0', alias: 'ebpfperf:mk:new', mtu: 1400, addresses: addrs}], [{to: '198.18.10.0/24', via: '198.18.9.2'}, {to: 'default', via: '2001:2:0:9::2'}])
      const [mk0] = JSON.parse(sh('ip -n ebp-mk-new -j -d addr show ebp-mk0').stdout)
      expect(mk0).to.deep.include({ifindex: 200, mtu: 1400, ifalias: 'ebpfperf:mk:new'})
      expect(mk0.flags).to.include('UP')
      expect(mk0.addr_info.filter((a: {scope: string}) => a.scope === 'global').map((a: {local: string; prefixlen: number}) => `${a.local}/${a.prefixlen}`)).to.deep.equal(addrs)
      expect(JSON.parse(sh('ip -n ebp-mk-new -j -d link show ebp-mk1').stdout)[0]).to.deep.include({ifindex: 201, num_tx_queues: 3, num_rx_queues: 3})
      expect(JSON.parse(sh('ip -n ebp-mk-new -j route show 198.18.10.0/24').stdout)).to.deep.equal([{dst: '198.18.10.0/24', gateway: '198.18.9.2', dev: 'ebp-mk0', flags: ['linkdown']}])
      expect(JSON.parse(sh('ip -n ebp-mk-new -6 -j route show default').stdout)[0]).to.deep.include({dst: 'default', gateway: '2001:2:0:9::2', dev: 'ebp-mk0'})
      expect(() => native.netnsConfigure('ebp-mk-new', [{ifname: 'ebp-nope', alias: 'x', addresses: []}], [])).to.throw(/^link set ebp-nope alias x: No such device \(ENODEV\)$/)
    } finally {
      sh('ip link del ebp-mk-h0; ip netns del ebp-mk-new; ip netns del ebp-mk-taken')
    }
  })

  it('a namespace staged by a run killed before naming it is removed by down --all', () => {
    // what a kill -9 between "namespace made" and "namespace named" leaves: a staged namespace, no name
    expect(sh('mkdir -p /run/ebpfperf/staging && touch /run/ebpfperf/staging/ebp-dut-client && unshare --net=/run/ebpfperf/staging/ebp-dut-client true').status).to.equal(0)
    const staged = () => sh('grep -c " /run/ebpfperf/staging/" /proc/self/mountinfo').stdout.trim()
    expect(staged()).to.equal('1')
    const d = cli(['topology', 'down', '--all'])
    expect(d.code, d.stderr).to.equal(0)
    expect(d.stdout).to.match(/removed staged namespace ebp-dut-client/)
    expect(staged()).to.equal('0')
    expect(existsSync('/run/ebpfperf/staging/ebp-dut-client')).to.equal(false)
    expect(cli(['topology', 'up']).code, 'and its name is free').to.equal(0)
  })

  it('a topology in use: up and down refuse with the holder\'s pid (exit 2), and a killed holder lets go', async () => {
    const held = await lockTopology('dut')
    try {
      for (const args of [['topology', 'up'], ['topology', 'down'], ['topology', 'down', '--all']]) {
        const r = cli(args)
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2)
        expect(r.stderr).to.match(new RegExp(`^ebpfperf: topology dut is in use by pid ${process.pid} \\(.*mocha.*\\): wait for it to finish, or stop it\\n$`))
      }
      expect(ours()).to.deep.equal([])
    } finally {
      await held.release()
    }
    // a run killed while holding it: the next one gets it
    const child = spawn(process.execPath, [bin, 'topology', 'up'], {stdio: 'ignore'})
    await waitFor(() => ours().length > 0)
    child.kill('SIGKILL')
    await new Promise((r) => child.on('exit', r))
    const d = cli(['topology', 'down'])
    expect(d.code, d.stderr).to.equal(0)
  })

  it('the lock: shared inside one process, refused to another until the last user lets go', async () => {
    const other = () => spawnSync('flock', ['-n', '/run/ebpfperf/locks/ebplocktest.lock', 'true']).status
    const a = await lockTopology('ebplocktest')
    const b = await lockTopology('ebplocktest') // withTopology inside a suite that locked first
    try {
      expect(other()).to.equal(1)
      await a.release()
      await a.release() // twice is once
      expect(other()).to.equal(1)
      await b.release()
      expect(other()).to.equal(0)
    } finally {
      await b.release()
      sh('rm -f /run/ebpfperf/locks/ebplocktest.*')
    }
  })

  it('--dut host restores the host forwarding sysctls on down and only touches ebp- links', () => {
    const before = [sysctl('net/ipv4/ip_forward'), sysctl('net/ipv6/conf/all/forwarding')]
    const routesBefore = sh('ip -j route show').stdout
    const r = cli(['topology', 'up', '--dut', 'host', '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const verified = (JSON.parse(r.stdout) as TopologyStatus).verified
    expect(verified).to.not.be.empty
    expect(verified!.every((v) => v.ok)).to.equal(true)
    expect([sysctl('net/ipv4/ip_forward'), sysctl('net/ipv6/conf/all/forwarding')]).to.deep.equal(['1', '1'])
    expect(hostEbpLinks().sort()).to.deep.equal(['ebp-dut0', 'ebp-dut1'])
    expect(cli(['topology', 'down']).code).to.equal(0)
    expect([sysctl('net/ipv4/ip_forward'), sysctl('net/ipv6/conf/all/forwarding')]).to.deep.equal(before)
    expect(hostEbpLinks()).to.deep.equal([])
    expect(sh('ip -j route show').stdout).to.equal(routesBefore)
  })

  it('down kills processes left in the namespaces (an iperf3 server)', async () => {
    expect(cli(['topology', 'up']).code).to.equal(0)
    const server = spawn('ip', ['netns', 'exec', 'ebp-dut-server', 'iperf3', '-s', '-1', '-B', '198.18.1.1'], {stdio: 'ignore'})
    await waitFor(() => sh('ip netns pids ebp-dut-server').stdout.trim() !== '')
    const d = cli(['topology', 'down'])
    expect(d.stdout).to.match(/removed processes \d+ in ebp-dut-server/)
    await new Promise((r) => (server.exitCode !== null || server.signalCode !== null ? r(null) : server.on('exit', r)))
    expect(sh('pgrep -x iperf3').stdout).to.equal('')
  })

  it('per-link settings: MTU, queues, TX checksum offload off, XDP peer programs in native mode', () => {
    const r = cli(['topology', 'up', fx('xdp-peer.topo.yml'), '--json'])
    expect(r.code, r.stderr).to.equal(0)
    const st = JSON.parse(r.stdout) as TopologyStatus
    const link = (n: string) => st.nodes.flatMap((x) => x.links).find((l) => l.ifname === n)!
    expect(link('ebp-cli0')).to.deep.include({mtu: 1400, queues: {tx: 2, rx: 2}})
    expect(link('ebp-cli0').xdp).to.deep.include({mode: 'native', name: 'xdp_baseline'})
    expect(link('ebp-srv0').xdp).to.deep.include({mode: 'native'})
    expect(link('ebp-dut0').xdp).to.equal(undefined)
    const details = JSON.parse(cli(['topology', 'status', fx('xdp-peer.topo.yml'), '--json']).stdout) as TopologyStatus
    const detail = (n: string) => details.nodes.flatMap((x) => x.links).find((l) => l.ifname === n)!
    expect(detail('ebp-cli0').offload).to.include({tx: false})
    expect(detail('ebp-dut1').offload).to.include({tx: false})
    expect(detail('ebp-dut1').offload).to.include({rx: true}) // only what the file names is changed
    expect(st.verified).to.not.be.empty
    expect(st.verified!.every((v) => v.ok)).to.equal(true)
    expect(cli(['topology', 'down', fx('xdp-peer.topo.yml')]).code).to.equal(0)
  })

  it('withTopology runs the work inside the nodes and tears down even when the work throws', async () => {
    const plan = loadTopology(undefined)
    let seen = ''
    let pid = 0
    const err = await withTopology(plan, async (t) => {
      seen = (await t.exec('client', ['ping', '-c', '1', '-W', '2', '198.18.1.1'])).stdout
      const p = await t.spawn('server', ['sleep', '30'])
      pid = p.pid!
      await waitFor(() => sh(`ip netns identify ${pid}`).stdout.trim() === 'ebp-dut-server') // it runs in the server node
      throw new Error('boom')
    }).catch((e: Error) => e)
    expect(existsSync(`/proc/${pid}`), 'the spawned process was stopped at teardown').to.equal(false)
    expect((err as Error).message).to.equal('boom')
    expect(seen).to.match(/ttl=63/)
    expect(ours()).to.deep.equal([])
  })
})
