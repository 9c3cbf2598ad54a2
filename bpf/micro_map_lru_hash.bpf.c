// SPDX-License-Identifier: GPL-2.0
// ebpfperf suite micro: BPF_MAP_TYPE_LRU_HASH read, update, delete+insert with N keys at three sizes.
// Each map holds 2×N entries: an LRU update takes a fresh node and frees the old one, so with the map
// exactly full an update could evict another key and the next read would miss it. With room for 2×N
// nothing is evicted, and a miss still fails the test (XDP_DROP) instead of being measured as a hit.
#include "micro_maps.shared.h"

MICRO_U32_MAP(lru_hash_1k, BPF_MAP_TYPE_LRU_HASH, 2048, 1024, 0)
MICRO_U32_MAP_DELINS(lru_hash_1k, 1024)
MICRO_U32_MAP(lru_hash_64k, BPF_MAP_TYPE_LRU_HASH, 131072, 65536, 0)
MICRO_U32_MAP_DELINS(lru_hash_64k, 65536)
MICRO_U32_MAP(lru_hash_256k, BPF_MAP_TYPE_LRU_HASH, 524288, 262144, 0)
MICRO_U32_MAP_DELINS(lru_hash_256k, 262144)

char LICENSE[] SEC("license") = "GPL";
