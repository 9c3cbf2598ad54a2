// SPDX-License-Identifier: GPL-2.0
// A known regression for bench/gate-aa.js and the A/B tests: bpf/micro_helpers.bpf.c with one program,
// helper_prandom, doing ~20% more work per run (MICRO_REGRESS_CALLS helper calls instead of MICRO_OPS),
// every other program the same. Built to bpf/.output/regress/micro_helpers.bpf.o, so an object folder
// holding it in place of the shipped one is "the next build" for `suite micro --ab`.
#define helper_prandom helper_prandom_shipped
#include "../micro_helpers.bpf.c"
#undef helper_prandom

#ifndef MICRO_REGRESS_CALLS
#define MICRO_REGRESS_CALLS 39
#endif

SEC("xdp")
int helper_prandom(struct xdp_md *ctx)
{
#pragma clang loop unroll(disable)
	for (int i = 0; i < MICRO_REGRESS_CALLS; i++)
		bpf_get_prandom_u32();
	return XDP_PASS;
}
