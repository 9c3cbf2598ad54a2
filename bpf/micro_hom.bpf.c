// SPDX-License-Identifier: GPL-2.0
// ebpfperf suite micro: BPF_MAP_TYPE_HASH_OF_MAPS lookup. The outer hash holds 16 inner arrays of 1024
// __u64 (filled by libbpf at load time); one operation = outer lookup of a random inner map + inner
// lookup of a random key in it. MICRO_OPS operations per run.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "micro.shared.h"

#define INNER_ENTRIES 1024
#define OUTER_ENTRIES 16

struct inner_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, INNER_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
};

// clang-format off
#define INNER(I) struct inner_array hom_inner_##I SEC(".maps");
INNER(0) INNER(1) INNER(2) INNER(3) INNER(4) INNER(5) INNER(6) INNER(7)
INNER(8) INNER(9) INNER(10) INNER(11) INNER(12) INNER(13) INNER(14) INNER(15)

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, OUTER_ENTRIES);
	__type(key, __u32);
	__array(values, struct inner_array);
} hom_outer SEC(".maps") = {
	.values =
		{
			[0] = &hom_inner_0, [1] = &hom_inner_1, [2] = &hom_inner_2, [3] = &hom_inner_3,
			[4] = &hom_inner_4, [5] = &hom_inner_5, [6] = &hom_inner_6, [7] = &hom_inner_7,
			[8] = &hom_inner_8, [9] = &hom_inner_9, [10] = &hom_inner_10, [11] = &hom_inner_11,
			[12] = &hom_inner_12, [13] = &hom_inner_13, [14] = &hom_inner_14, [15] = &hom_inner_15,
		},
};
// clang-format on

SEC("xdp")
int hom_lookup(struct xdp_md *ctx)
{
	__u32 x = bpf_get_prandom_u32() | 1;
	__u64 acc = 0;
#pragma clang loop unroll(disable)
	for (int i = 0; i < MICRO_OPS; i++) {
		x = micro_xorshift(x);
		__u32 o = micro_pick(x, OUTER_ENTRIES);
		void *inner = bpf_map_lookup_elem(&hom_outer, &o);
		if (!inner)
			return XDP_DROP;
		x = micro_xorshift(x);
		__u32 k = micro_pick(x, INNER_ENTRIES);
		__u64 *v = bpf_map_lookup_elem(inner, &k);
		if (!v)
			return XDP_DROP;
		acc += *v;
	}
	return acc == ~0ULL ? XDP_TX : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
