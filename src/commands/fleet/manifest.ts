import {Flags} from '@oclif/core'
import {BaseCommand} from '../../util/cli.js'
import {renderManifest} from '../../fleet/manifest.js'

export default class FleetManifest extends BaseCommand {
  static summary = 'Print a Kubernetes DaemonSet that runs doctor --json on every node; gather the pod logs into ebpfperf matrix.'
  static description = `The DaemonSet runs \`ebpfperf doctor --json\` once per node in a privileged container (hostPID, hostNetwork) with the node's /sys/kernel/btf, /sys/fs/bpf, /sys/kernel/tracing, /lib/modules and /boot mounted read-only; the report is the pod's log, doctor's notes stay in /tmp/doctor.stderr, and the pod turns ready when doctor is done. The comments above the manifest show how to save each node's log as NODE.json and pass them to \`ebpfperf matrix --report\`, and how to make it a Job for one node. The image must have ebpfperf on PATH with its native addon built; none is published. Untested on a cluster: ebpfperf's tests check it only as YAML (they run without a container runtime).`

  static examples = [
    '<%= config.bin %> fleet manifest --image registry.example/ebpfperf:0.1.0 > ebpfperf-doctor.yaml',
    '<%= config.bin %> fleet manifest --image ebpfperf:local --namespace ops --profile tracing',
  ]

  static flags = {
    image: Flags.string({default: 'ebpfperf:latest', description: 'a container image with ebpfperf on PATH (build your own: none is published)'}),
    namespace: Flags.string({default: 'default', description: 'the namespace of the DaemonSet'}),
    profile: Flags.string({char: 'p', multiple: true, description: 'doctor profile(s) to run on each node (default: all)'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(FleetManifest)
    // names Kubernetes accepts (RFC 1123 label): a bad one is refused here, not by kubectl later
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(flags.namespace)) this.fail(`--namespace ${flags.namespace}: not a Kubernetes namespace name (lower-case letters, digits and '-', at most 63): name another`, 2)
    if (/\s/.test(flags.image) || flags.image === '') this.fail(`--image '${flags.image}': an image reference has no spaces: name one such as registry.example/ebpfperf:0.1.0`, 2)
    this.log(renderManifest({image: flags.image, namespace: flags.namespace, profiles: flags.profile}).trimEnd())
  }
}
