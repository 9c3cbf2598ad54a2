// `fleet manifest`: a Kubernetes DaemonSet that runs `ebpfperf doctor --json` once on every node, privileged
// in the host's PID and network namespaces, and leaves the report as the pod's log for `kubectl logs` to
// gather into `ebpfperf matrix --report`. Printed, never applied: this machine has no container runtime.
import yaml from 'js-yaml'

export interface ManifestOptions {
  image: string
  namespace: string
  profiles?: string[]
}

const MANIFEST_NAME = 'ebpfperf-doctor'

/** Host folders doctor reads, mounted read-only; /proc and the rest of /sys are the container's own views of the same kernel. */
const HOST_DIRS: [string, string][] = [
  ['btf', '/sys/kernel/btf'], // the kernel's BTF (CO-RE, attach targets, helpers)
  ['bpffs', '/sys/fs/bpf'], // whether bpffs is mounted on the node
  ['tracefs', '/sys/kernel/tracing'], // tracepoint ids (empty when the node has not mounted tracefs)
  ['modules', '/lib/modules'], // options built as modules
  ['boot', '/boot'], // /boot/config-$(uname -r) when the kernel has no /proc/config.gz
]

/** The container's shell command: the report alone on stdout (the pod log), then ready, then idle so the log stays. */
export function manifestCommand(profiles: string[] = []): string {
  const args = profiles.map((p) => ` --profile '${p.replace(/'/g, `'\\''`)}'`).join('')
  return `ebpfperf doctor --json${args} 2>/tmp/doctor.stderr; touch /tmp/doctor.done; while :; do sleep 3600; done`
}

function daemonSet(opts: ManifestOptions): Record<string, unknown> {
  const labels = {'app.kubernetes.io/name': MANIFEST_NAME}
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {name: MANIFEST_NAME, namespace: opts.namespace, labels},
    spec: {
      selector: {matchLabels: labels},
      template: {
        metadata: {labels},
        spec: {
          hostPID: true,
          hostNetwork: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          tolerations: [{operator: 'Exists'}], // every node, tainted ones (control plane) included
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'doctor',
              image: opts.image,
              command: ['/bin/sh', '-c', manifestCommand(opts.profiles)],
              env: [{name: 'NO_COLOR', value: '1'}],
              securityContext: {privileged: true},
              readinessProbe: {exec: {command: ['test', '-e', '/tmp/doctor.done']}, periodSeconds: 5},
              resources: {requests: {cpu: '100m', memory: '128Mi'}, limits: {memory: '512Mi'}},
              volumeMounts: HOST_DIRS.map(([name, path]) => ({name, mountPath: path, readOnly: true})),
            },
          ],
          volumes: HOST_DIRS.map(([name, path]) => ({name, hostPath: {path, type: 'Directory'}})),
        },
      },
    },
  }
}

/** The manifest as printed: how to use it in comments, then the DaemonSet. */
export function renderManifest(opts: ManifestOptions): string {
  const ns = opts.namespace
  const head = [
    `# ebpfperf doctor on every node: a DaemonSet (printed by \`ebpfperf fleet manifest\`; untested on a cluster).`,
    `# The image must have ebpfperf on PATH with its native addon built (node 20+, libbpf); none is published.`,
    `#   kubectl apply -f ebpfperf-doctor.yaml`,
    `#   kubectl -n ${ns} rollout status ds/${MANIFEST_NAME}     # ready = doctor has printed its report`,
    `#   kubectl -n ${ns} get pods -l app.kubernetes.io/name=${MANIFEST_NAME} -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}' |`,
    `#     while read pod node; do kubectl -n ${ns} logs "$pod" > "$node.json"; done`,
    `#   ebpfperf matrix $(for f in *.json; do printf -- '--report %s ' "$f"; done)   # one column per node`,
    `#   kubectl delete -f ebpfperf-doctor.yaml`,
    `# doctor's notes go to /tmp/doctor.stderr in the pod (kubectl exec POD -- cat /tmp/doctor.stderr), so the log is the JSON report alone.`,
    `# As a Job on one node: kind: Job, apiVersion: batch/v1, spec.template as below plus nodeName: NODE and restartPolicy: Never,`,
    `# without spec.selector and the readinessProbe, and the command ending after doctor (drop "; touch …; done").`,
  ]
  return `${head.join('\n')}\n${yaml.dump(daemonSet(opts), {lineWidth: -1, noRefs: true})}`
}
