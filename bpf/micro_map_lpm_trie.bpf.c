// SPDX-License-Identifier: GPL-2.0
// ebpfperf suite micro: BPF_MAP_TYPE_LPM_TRIE with N /24 prefixes at three sizes: longest-prefix lookup
// of a /32, update and delete+insert of a /24.
#include "micro_maps.shared.h"

MICRO_LPM_MAP(lpm_1k, 1024)
MICRO_LPM_MAP(lpm_64k, 65536)
MICRO_LPM_MAP(lpm_256k, 262144)

char LICENSE[] SEC("license") = "GPL";
