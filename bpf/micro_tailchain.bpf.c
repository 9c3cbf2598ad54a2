// SPDX-License-Identifier: GPL-2.0
// ebpfperf suite micro: a chain of MICRO_CHAIN tail calls (tail_chain_0 → 1 → … → MICRO_CHAIN). A tail
// call that does not happen falls through to `return XDP_DROP`, so a broken jump fails the test
// (expected: XDP_PASS). The program array is filled by libbpf at load time (static initialisation), so
// every program here has to be loaded with tail_chain_0 (the suite file lists them under `load:`).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "micro.shared.h"

#define CHAIN_STEP(I, NEXT)                                \
	SEC("xdp") int tail_chain_##I(struct xdp_md *ctx)  \
	{                                                  \
		bpf_tail_call(ctx, &tail_chain_jmp, NEXT); \
		return XDP_DROP;                           \
	}

SEC("xdp")
int tail_chain_8(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* Declared after tail_chain_8 and before the steps that jump through it. */
int tail_chain_1(struct xdp_md *ctx);
int tail_chain_2(struct xdp_md *ctx);
int tail_chain_3(struct xdp_md *ctx);
int tail_chain_4(struct xdp_md *ctx);
int tail_chain_5(struct xdp_md *ctx);
int tail_chain_6(struct xdp_md *ctx);
int tail_chain_7(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, MICRO_CHAIN + 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} tail_chain_jmp SEC(".maps") = {
	.values =
		{
			[1] = (void *)&tail_chain_1,
			[2] = (void *)&tail_chain_2,
			[3] = (void *)&tail_chain_3,
			[4] = (void *)&tail_chain_4,
			[5] = (void *)&tail_chain_5,
			[6] = (void *)&tail_chain_6,
			[7] = (void *)&tail_chain_7,
			[8] = (void *)&tail_chain_8,
		},
};

CHAIN_STEP(0, 1)
CHAIN_STEP(1, 2)
CHAIN_STEP(2, 3)
CHAIN_STEP(3, 4)
CHAIN_STEP(4, 5)
CHAIN_STEP(5, 6)
CHAIN_STEP(6, 7)
CHAIN_STEP(7, 8)

char LICENSE[] SEC("license") = "GPL";
