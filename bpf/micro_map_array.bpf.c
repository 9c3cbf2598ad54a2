// SPDX-License-Identifier: GPL-2.0
// ebpfperf suite micro: BPF_MAP_TYPE_ARRAY read and update at three table sizes (arrays cannot delete).
#include "micro_maps.shared.h"

MICRO_U32_MAP(array_1k, BPF_MAP_TYPE_ARRAY, 1024, 1024, 0)
MICRO_U32_MAP(array_64k, BPF_MAP_TYPE_ARRAY, 65536, 65536, 0)
MICRO_U32_MAP(array_256k, BPF_MAP_TYPE_ARRAY, 262144, 262144, 0)

char LICENSE[] SEC("license") = "GPL";
