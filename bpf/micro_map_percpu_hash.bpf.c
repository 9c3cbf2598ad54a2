// SPDX-License-Identifier: GPL-2.0
// ebpfperf suite micro: BPF_MAP_TYPE_PERCPU_HASH (preallocated) read, update, delete+insert at three sizes.
#include "micro_maps.shared.h"

MICRO_U32_MAP(pcpu_hash_1k, BPF_MAP_TYPE_PERCPU_HASH, 1024, 1024, 0)
MICRO_U32_MAP_DELINS(pcpu_hash_1k, 1024)
MICRO_U32_MAP(pcpu_hash_64k, BPF_MAP_TYPE_PERCPU_HASH, 65536, 65536, 0)
MICRO_U32_MAP_DELINS(pcpu_hash_64k, 65536)
MICRO_U32_MAP(pcpu_hash_256k, BPF_MAP_TYPE_PERCPU_HASH, 262144, 262144, 0)
MICRO_U32_MAP_DELINS(pcpu_hash_256k, 262144)

char LICENSE[] SEC("license") = "GPL";
