// SPDX-License-Identifier: GPL-2.0
// The smallest program of each hook the suites use: the cost floor every measurement is compared with.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_baseline(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int tc_baseline(struct __sk_buff *skb)
{
	return 0; /* TC_ACT_OK */
}

SEC("raw_tracepoint/sys_enter")
int raw_tp_baseline(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
