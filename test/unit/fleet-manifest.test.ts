// fleet manifest: the printed DaemonSet parses as YAML and runs doctor --json privileged on every node with
// the host folders doctor reads mounted read-only; the command a shell runs quotes profiles.
import {expect} from 'chai'
import yaml from 'js-yaml'
import {renderManifest, manifestCommand} from '../../src/fleet/manifest.js'

interface Container {
  command: string[]
  image: string
  securityContext: {privileged: boolean}
  volumeMounts: {name: string; mountPath: string; readOnly: boolean}[]
}
interface Ds {
  kind: string
  apiVersion: string
  metadata: {namespace: string}
  spec: {selector: {matchLabels: Record<string, string>}; template: {metadata: {labels: Record<string, string>}; spec: {hostPID: boolean; hostNetwork: boolean; tolerations: unknown[]; containers: Container[]; volumes: {name: string; hostPath: {path: string}}[]}}}
}

describe('fleet manifest (YAML only: no cluster here)', () => {
  const text = renderManifest({image: 'reg.example/ebpfperf:1', namespace: 'ops', profiles: ['tracing']})
  const docs = yaml.loadAll(text) as Ds[]

  it('is one DaemonSet, privileged in the host PID and network namespaces, on every node', () => {
    expect(docs).to.have.length(1)
    const ds = docs[0]
    expect([ds.apiVersion, ds.kind, ds.metadata.namespace]).to.deep.equal(['apps/v1', 'DaemonSet', 'ops'])
    const labels = {'app.kubernetes.io/name': 'ebpfperf-doctor'}
    expect([ds.spec.selector.matchLabels, ds.spec.template.metadata.labels]).to.deep.equal([labels, labels])
    const pod = ds.spec.template.spec
    expect([pod.hostPID, pod.hostNetwork]).to.deep.equal([true, true])
    expect(pod.tolerations).to.deep.equal([{operator: 'Exists'}])
    expect(pod.containers[0].securityContext.privileged).to.equal(true)
    expect(pod.containers[0].image).to.equal('reg.example/ebpfperf:1')
  })

  it('runs doctor --json with the profiles, the report alone on stdout', () => {
    const c = docs[0].spec.template.spec.containers[0].command
    expect(c.slice(0, 2)).to.deep.equal(['/bin/sh', '-c'])
    expect(c[2]).to.match(/^ebpfperf doctor --json --profile 'tracing' 2>\/tmp\/doctor\.stderr;/)
    expect(manifestCommand(["it's"])).to.include(`--profile 'it'\\''s'`)
  })

  it('mounts the host folders doctor reads, read-only, each from its hostPath', () => {
    const pod = docs[0].spec.template.spec
    const mounts = pod.containers[0].volumeMounts
    expect(mounts.map((m) => m.mountPath)).to.include.members(['/sys/kernel/btf', '/sys/fs/bpf', '/lib/modules', '/boot'])
    expect(mounts.every((m) => m.readOnly)).to.equal(true)
    const hostPathOf = (m: {name: string}) => pod.volumes.find((v) => v.name === m.name)?.hostPath.path
    expect(Object.fromEntries(mounts.map((m) => [m.mountPath, hostPathOf(m)]))).to.deep.equal({
      '/sys/kernel/btf': '/sys/kernel/btf',
      '/sys/fs/bpf': '/sys/fs/bpf',
      '/sys/kernel/tracing': '/sys/kernel/tracing',
      '/lib/modules': '/lib/modules',
      '/boot': '/boot',
    })
  })

  it('says how to gather the logs into matrix and how to make it a Job, as comments', () => {
    expect(text).to.match(/^# .*kubectl -n ops logs "\$pod" > "\$node\.json"/m)
    expect(text).to.match(/^# .*ebpfperf matrix .*--report/m)
    expect(text).to.match(/^# As a Job/m)
  })
})
