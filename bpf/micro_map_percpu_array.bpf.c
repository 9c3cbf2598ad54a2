// SPDX-License-Identifier: GPL-2.0
// ebpfperf suite micro: BPF_MAP_TYPE_PERCPU_ARRAY read and update (this CPU's slot) at three table sizes.
#include "micro_maps.shared.h"

MICRO_U32_MAP(pcpu_array_1k, BPF_MAP_TYPE_PERCPU_ARRAY, 1024, 1024, 0)
MICRO_U32_MAP(pcpu_array_64k, BPF_MAP_TYPE_PERCPU_ARRAY, 65536, 65536, 0)
MICRO_U32_MAP(pcpu_array_256k, BPF_MAP_TYPE_PERCPU_ARRAY, 262144, 262144, 0)

char LICENSE[] SEC("license") = "GPL";
