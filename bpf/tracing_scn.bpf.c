// SPDX-License-Identifier: GPL-2.0
// Seed 003: what a global syscall tracepoint (raw_syscalls/sys_enter) costs a process that is NOT traced,
// when the traced pid is filtered in the kernel (trc_scn_kfilter) or every event goes to user space through a
// ring buffer and is filtered there (trc_scn_ring; the addon's consumer thread reads it).
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "tracing.shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trc_count);
} trc_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} trc_ring SEC(".maps");

/* raw_syscalls/sys_enter's record (tracefs events/raw_syscalls/sys_enter/format). */
struct trc_sys_enter {
	__u64 common;
	long id;
	unsigned long args[6];
};

/* Seed 003, filter in the kernel: only the traced process (tgid == target) would be recorded. */
SEC("tracepoint/raw_syscalls/sys_enter")
int trc_scn_kfilter(struct trc_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 key = 0;
	struct trc_count *c = bpf_map_lookup_elem(&trc_counts, &key);

	if (!c)
		return 0;
	c->events++;
	if ((id >> 32) != c->target)
		return 0;
	c->mine++;
	c->last_pid_tgid = id;
	return 0;
}

/* Seed 003, filter in user space: every syscall of every process goes to the ring buffer. */
SEC("tracepoint/raw_syscalls/sys_enter")
int trc_scn_ring(struct trc_sys_enter *ctx)
{
	struct trc_event e = {.pid_tgid = bpf_get_current_pid_tgid(), .syscall = ctx->id};

	if (bpf_ringbuf_output(&trc_ring, &e, sizeof(e), 0)) {
		__u32 key = 0;
		struct trc_count *c = bpf_map_lookup_elem(&trc_counts, &key);

		if (c)
			c->dropped++;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
