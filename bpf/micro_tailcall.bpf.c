// SPDX-License-Identifier: GPL-2.0
// ebpfperf suite micro: one tail call: tail_one jumps to tail_target. A tail call that does not happen
// falls through to `return XDP_DROP`, so a broken jump fails the test (expected: XDP_PASS).
// The program array is filled by libbpf at load time (static initialisation), so tail_target must be
// loaded with tail_one (the suite file lists it under `load:`). The chain is in micro_tailchain.bpf.c:
// libbpf refuses to load an object whose program arrays name programs left unloaded.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int tail_target(struct xdp_md *ctx)
{
	return XDP_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} tail_one_jmp SEC(".maps") = {
	.values = {[0] = (void *)&tail_target},
};

SEC("xdp")
int tail_one(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &tail_one_jmp, 0);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
