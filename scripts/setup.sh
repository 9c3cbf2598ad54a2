#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine (as root) to a working ebpfperf:
# Debian packages, npm packages, the native addon, the BPF objects, the TypeScript build,
# then `ebpfperf doctor`. Set EBPFPERF_SETUP_NO_DOCTOR=1 to skip the final run.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "setup: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "run as root (sudo $0): it installs Debian packages"
command -v node >/dev/null || die "Node.js >= 20.5 is needed (see README: Requirements)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=5)?0:1)' \
  || die "Node.js $(node --version) is too old: ebpfperf needs >= 20.5"

PKGS=(clang clang-format llvm libbpf-dev libelf-dev zlib1g-dev pkg-config make g++ python3 bpftool iperf3 iproute2 ethtool xdp-tools iputils-ping kmod util-linux chromium qemu-system-x86 busybox-static)
# suite micro --consumers (docs/consumers.md): BCC for Python, Go with cilium/ebpf built offline from Debian's sources
PKGS+=(python3-bpfcc golang-go golang-github-cilium-ebpf-dev)
# fleet doctor: OpenSSH client and the servers its integration test runs in ebp-* namespaces
PKGS+=(openssh-client openssh-server)
# ebpfperf profile (docs/perf-ci.md): perf; ebpfperf history: git
PKGS+=(linux-perf git)
# suite app: nginx and the Go server under wrk
PKGS+=(nginx-light wrk openssl)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

echo "setup: npm packages"
npm ci --no-audit --no-fund
echo "setup: native addon, BPF objects, TypeScript"
npm run build

if [ -z "${EBPFPERF_SETUP_NO_DOCTOR:-}" ]; then
  echo "setup: ebpfperf doctor"
  ./bin/run.js doctor || echo "setup: doctor exited $? (see its findings above)"
fi
