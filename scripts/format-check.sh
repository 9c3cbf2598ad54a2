#!/usr/bin/env bash
# The C and C++ part of the static gate: clang-format (.clang-format for native/, bpf/.clang-format for
# the BPF programs) must leave every source file as it is. `scripts/format-check.sh --fix` reformats them.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v clang-format >/dev/null || {
  echo "format-check: clang-format not found: apt-get install clang-format (scripts/setup.sh installs it)" >&2
  exit 2
}
mapfile -t files < <(find native/src bpf -path bpf/.output -prune -o -type f \( -name '*.cc' -o -name '*.c' -o -name '*.h' \) -print | sort)
if [ "${1:-}" = --fix ]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
fi
