// SPDX-License-Identifier: GPL-2.0
// ebpfperf suite micro: helper calls, MICRO_OPS calls per run (one BPF_PROG_TEST_RUN iteration), so the
// per-operation figure is the cost of one call plus a loop step. helper_trace_printk makes one call per
// run: it writes a line to the kernel trace buffer (read from /sys/kernel/tracing/trace_pipe) on every
// call, so the suite runs it only when asked for by name.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "micro.shared.h"

SEC("xdp")
int helper_prandom(struct xdp_md *ctx)
{
#pragma clang loop unroll(disable)
	for (int i = 0; i < MICRO_OPS; i++)
		bpf_get_prandom_u32(); /* a helper call is never optimised away */
	return XDP_PASS;
}

SEC("xdp")
int helper_ktime(struct xdp_md *ctx)
{
	__u64 last = 0;
	int backwards = 0;
#pragma clang loop unroll(disable)
	for (int i = 0; i < MICRO_OPS; i++) {
		__u64 now = bpf_ktime_get_ns();
		backwards |= now < last;
		last = now;
	}
	return backwards ? XDP_DROP : XDP_PASS; /* a monotonic clock never goes back */
}

SEC("xdp")
int helper_smp_id(struct xdp_md *ctx)
{
	__u32 first = bpf_get_smp_processor_id();
	int moved = 0;
#pragma clang loop unroll(disable)
	for (int i = 1; i < MICRO_OPS; i++)
		moved |= bpf_get_smp_processor_id() != first;
	return moved ? XDP_DROP : XDP_PASS; /* test runs do not migrate mid-run */
}

/* One operation = one bpf_xdp_adjust_head call; each step grows the head by 16 bytes and shrinks it
 * back (the test-run context keeps its data pointer between repetitions, so it must end where it began). */
SEC("xdp")
int helper_adjust_head(struct xdp_md *ctx)
{
#pragma clang loop unroll(disable)
	for (int i = 0; i < MICRO_OPS / 2; i++) {
		if (bpf_xdp_adjust_head(ctx, -16))
			return XDP_DROP;
		if (bpf_xdp_adjust_head(ctx, 16))
			return XDP_DROP;
	}
	return XDP_PASS;
}

SEC("xdp")
int helper_trace_printk(struct xdp_md *ctx)
{
	if (bpf_printk("ebpfperf micro %u", bpf_get_smp_processor_id()) < 0)
		return XDP_DROP;
	return XDP_PASS;
}

/* raw tracepoint programs take BPF_F_TEST_RUN_ON_CPU (XDP and skb programs do not) but no repeat: the
 * runner times them with bpf_stats. This one returns the CPU it ran on, which the suite checks
 * against the CPU it asked for (`expect: cpu`). */
SEC("raw_tp")
int rawtp_cpu_id(void *ctx)
{
	return bpf_get_smp_processor_id();
}

char LICENSE[] SEC("license") = "GPL";
