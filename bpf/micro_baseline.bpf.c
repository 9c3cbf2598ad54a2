// SPDX-License-Identifier: GPL-2.0
// ebpfperf suite micro: the baseline. Exactly two instructions (`r0 = 0; exit`, check with
// `bpftool prog dump xlated`), so a BPF_PROG_TEST_RUN of it measures what every other test pays on top
// of its own work: the test-run loop, the XDP context and the program call itself.
// This object holds this one program only, so `bpftool prog load` pins exactly it (bench/micro-vs-bpftool.js).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int micro_baseline(struct xdp_md *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
