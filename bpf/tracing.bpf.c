// SPDX-License-Identifier: GPL-2.0
// The bodies `ebpfperf suite tracing` attaches, the same C for every attach type:
//   null: returns 0 (what attaching alone costs)
//   map:  reads the pid and updates a per-CPU map (seed 001's "per-cpu map operation"), and counts the runs of
//         the thread user space names in `target`, so every case can prove its program ran.
// Program names: trc_<body>_<kind> (kernel names keep 15 characters); the type comes from the section, the
// attach target is chosen at run time (fentry/fexit: bpf_program__set_attach_target before load).
// The seed-003 scenario programs are in tracing_scn.bpf.c (they need a ring buffer the bodies do not).
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

static __always_inline int body_map(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 key = 0;
	struct trc_count *c = bpf_map_lookup_elem(&trc_counts, &key);

	if (!c)
		return 0;
	c->events++;
	c->last_pid_tgid = id;
	if ((__u32)id == c->target)
		c->mine++;
	return 0;
}

#define TRC_BODIES(sec, kind)                   \
	SEC(sec) int trc_null_##kind(void *ctx) \
	{                                       \
		return 0;                       \
	}                                       \
	SEC(sec) int trc_map_##kind(void *ctx)  \
	{                                       \
		return body_map();              \
	}

TRC_BODIES("tracepoint", tp)
TRC_BODIES("raw_tp", rawtp)
TRC_BODIES("kprobe", kprobe)
TRC_BODIES("kretprobe", kretp)
TRC_BODIES("kprobe.multi", kmulti)
TRC_BODIES("fentry", fentry)
TRC_BODIES("fexit", fexit)
TRC_BODIES("uprobe", uprobe)
TRC_BODIES("uretprobe", uretp)

char LICENSE[] SEC("license") = "GPL";
