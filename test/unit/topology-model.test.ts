import {expect} from 'chai'
import yaml from 'js-yaml'
import {readFileSync, readdirSync} from 'node:fs'
import {loadTopology, parseAddress, planTopology, TopologyError} from '../../src/topology/model.js'
import {shippedJson} from '../../src/util/input.js'
import {validate, type JsonSchema} from '../../src/util/schema.js'

const root = new URL('../..', import.meta.url).pathname
const dut = () => yaml.load(readFileSync(`${root}netns/dut.topo.yml`, 'utf8')) as any

function mutate(f: (d: any) => void) {
  const d = dut()
  f(d)
  return () => planTopology(d, 'mut.topo.yml')
}

describe('topology files', () => {
  it('the default plan: three namespaces, two veth pairs, routes, and checks with TTL 63', () => {
    const p = loadTopology(undefined)
    expect(p.nodes.map((n) => n.netns)).to.deep.equal(['ebp-dut-client', 'ebp-dut-dut', 'ebp-dut-server'])
    expect(p.nodes.find((n) => n.name === 'dut')!.forwarding).to.equal(true)
    expect(p.links.map((l) => l.ends.map((e) => e.ifname))).to.deep.equal([['ebp-cli0', 'ebp-dut0'], ['ebp-dut1', 'ebp-srv0']])
    expect(p.reachability).to.have.length(4)
    expect(p.reachability).to.not.be.empty
    expect(p.reachability.every((r) => r.ttl === 63)).to.equal(true)
    expect(p.reachability.map((r) => r.to)).to.include.members(['198.18.1.1', '2001:2:0:2::1', '198.18.0.1', '2001:2:0:1::1'])
  })

  it('every shipped topology is valid; twohop expects two forwarding hops, direct none', () => {
    expect(loadTopology('twohop').reachability.map((r) => r.ttl)).to.deep.equal([62, 62])
    const direct = loadTopology('direct').reachability
    expect(direct).to.not.be.empty
    expect(direct.every((r) => r.ttl === 64)).to.equal(true)
  })

  it('the shipped topologies read from the build\'s JSON copies equal their YAML; other files are not', () => {
    for (const f of readdirSync(`${root}netns`).filter((x) => x.endsWith('.topo.yml'))) {
      const json = shippedJson(`${root}netns/${f}`, 'netns')
      expect(json, `${f}: dist/netns/ has a current JSON copy (npm run build:ts)`).to.deep.equal(yaml.load(readFileSync(`${root}netns/${f}`, 'utf8')))
    }
    expect(shippedJson(`${root}test/fixtures/topology/bad-node.topo.yml`, 'netns')).to.equal(undefined)
  })

  it('addresses: both families with a prefix length, nothing else', () => {
    expect(parseAddress('198.18.0.1/24')).to.include({family: 4, prefix: 24})
    expect(parseAddress('2001:2::1/64')).to.include({family: 6, prefix: 64, address: '2001:2::1'})
    expect(parseAddress('::ffff:198.18.0.1/128')).to.include({family: 6})
    for (const bad of ['198.18.0.1', '198.18.0/24', '2001:2::1::2/64', '2001:2::1/129', '198.18.0.1/33', 'ebp/24', '01.2.3.4/8']) expect(parseAddress(bad), bad).to.equal(undefined)
  })

  it('--dut host puts the DUT in the host namespace', () => {
    const p = loadTopology(undefined, {dut: 'host'})
    expect(p.nodes.find((n) => n.role === 'dut')!.netns).to.equal(null)
    expect(p.links[0].ends[1].netns).to.equal(null)
  })

  const bad: [string, (d: any) => void, RegExp][] = [
    ['unknown node in a link', (d) => (d.links[0].endpoints[1].node = 'dutt'), /links\[0\]\.endpoints\[1\]\.node: unknown node "dutt"/],
    ['duplicate address', (d) => (d.links[1].endpoints[1].addresses[0] = '198.18.0.1/24'), /duplicate address 198\.18\.0\.1/],
    ['duplicate IPv6 address written differently', (d) => (d.links[1].endpoints[0].addresses[1] = '2001:2:0:1:0:0:0:1/64'), /duplicate address/],
    ['a link name longer than the kernel allows', (d) => (d.links[0].endpoints[0].ifname = 'ebp-averylongname'), /ifname: "ebp-averylongname" is longer than 15/],
    ['an address outside the subnet on the link', (d) => (d.links[0].endpoints[0].addresses[0] = '198.18.5.1/24'), /198\.18\.5\.1\/24 is outside every subnet on this link/],
    ['an address outside the benchmarking range', (d) => (d.links[0].endpoints[0].addresses[0] = '10.0.0.1/24'), /outside the benchmarking ranges/],
    ['a gateway outside the node\'s subnets', (d) => (d.routes[0].via = '198.18.1.254'), /routes\[0\]\.via: 198\.18\.1\.254 is not in any subnet of node client/],
    ['an unknown key', (d) => (d.links[0].mtuu = 1500), /\$\.links\[0\]\.mtuu: unknown key/],
    ['a missing schema', (d) => delete d.schema, /\$: missing "schema"/],
    ['a bad node name', (d) => (d.nodes[0].name = 'Client!'), /\$\.nodes\[0\]\.name: "Client!" does not match/],
    ['an ifname without the ebp- prefix', (d) => (d.links[0].endpoints[0].ifname = 'eth0'), /ifname: "eth0" does not match/],
    ['an MTU below IPv4\'s minimum', (d) => (d.links[0].mtu = 20), /mtu: 20 is below the minimum 68/],
    ['a prefix of the wrong family for the gateway', (d) => (d.routes[1].to = 'default'), /routes\[1\]\.to: default does not match the IPv6 gateway/],
  ]
  for (const [what, f, re] of bad) {
    it(`rejects ${what}, naming the field`, () => {
      expect(mutate(f)).to.throw(TopologyError, re).with.property('message').that.satisfies((m: string) => m.startsWith('mut.topo.yml: ') && !m.includes('\n'))
    })
  }

  it('refuses a default route in the host namespace with --dut host', () => {
    const d = dut()
    d.routes.push({node: 'dut', to: 'default', via: '198.18.0.1'})
    expect(() => planTopology(d, 'f', {dut: 'host'})).to.throw(/would take over the host's traffic/)
  })

  it('reports file problems in one line', () => {
    expect(() => loadTopology(`${root}test/fixtures/topology/bad-node.topo.yml`)).to.throw(TopologyError, /bad-node\.topo\.yml: links\[0\]\.endpoints\[1\]\.node: unknown node "sever"/)
    expect(() => loadTopology('/nonexistent.topo.yml')).to.throw(TopologyError, /no such file/)
    expect(() => loadTopology(`${root}test/fixtures/profiles/malformed.profile.yml`)).to.throw(TopologyError, /malformed YAML/)
  })
})

describe('schema validator', () => {
  const s: JsonSchema = {type: 'object', required: ['a'], additionalProperties: false, properties: {a: {type: 'integer', minimum: 1}, b: {$ref: '#/$defs/b'}}, $defs: {b: {enum: ['x', 'y']}}}
  it('accepts a valid value and names the path of the first error', () => {
    expect(validate({a: 1, b: 'x'}, s)).to.equal(undefined)
    expect(validate({a: 0}, s)).to.equal('$.a: 0 is below the minimum 1')
    expect(validate({a: 1.5}, s)).to.equal('$.a: expected integer, got number')
    expect(validate({a: 1, b: 'z'}, s)).to.match(/\$\.b: expected one of "x", "y"/)
    expect(validate({a: 1, c: 1}, s)).to.match(/\$\.c: unknown key/)
    expect(validate([], s)).to.equal('$: expected object, got array')
  })
})
