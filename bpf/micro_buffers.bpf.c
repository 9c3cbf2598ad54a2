// SPDX-License-Identifier: GPL-2.0
// ebpfperf suite micro: ring buffer vs perf buffer producers. They are tc (sched_cls) programs: an XDP
// test run with repeat > 1 re-points the XDP dispatcher before and after its loop (two RCU grace
// periods, ~10 ms each on a busy machine), which would throttle a producer fired in batches; an skb test
// run has no such cost. Each run of a producer (one BPF_PROG_TEST_RUN repetition) emits exactly one event: a struct micro_event header (timestamp from
// bpf_ktime_get_ns, CPU, per-CPU sequence number) padded to 64 or 256 bytes. Every run counts itself in
// `counters` (produced) and counts a failed output or reservation (failed): the ring buffer reports
// nothing else about events it could not take.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/pkt_cls.h>
#include "micro.shared.h"

/* 4 MiB; the perf buffer gets the same total, split per CPU. The tests build a copy with one page
 * (-DMICRO_RINGBUF_BYTES=4096) to make events get lost on purpose. */
#ifndef MICRO_RINGBUF_BYTES
#define MICRO_RINGBUF_BYTES (4 << 20)
#endif

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MICRO_RINGBUF_BYTES);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct micro_counters);
} counters SEC(".maps");

static __always_inline struct micro_counters *count(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&counters, &zero);
}

#define PRODUCERS(SIZE)                                                                \
	struct event_##SIZE {                                                          \
		struct micro_event h;                                                  \
		__u8 payload[SIZE - sizeof(struct micro_event)];                       \
	};                                                                             \
                                                                                       \
	SEC("tc") int rb_output_##SIZE(struct __sk_buff *ctx)                          \
	{                                                                              \
		struct micro_counters *c = count();                                    \
		if (!c)                                                                \
			return TC_ACT_SHOT;                                            \
		struct event_##SIZE e;                                                 \
		__builtin_memset(&e, 0, sizeof(e));                                    \
		e.h.cpu = bpf_get_smp_processor_id();                                  \
		e.h.seq = c->produced++;                                               \
		e.h.ts = bpf_ktime_get_ns();                                           \
		if (bpf_ringbuf_output(&rb, &e, sizeof(e), 0))                         \
			c->failed++;                                                   \
		return TC_ACT_OK;                                                      \
	}                                                                              \
                                                                                       \
	SEC("tc") int rb_reserve_##SIZE(struct __sk_buff *ctx)                         \
	{                                                                              \
		struct micro_counters *c = count();                                    \
		if (!c)                                                                \
			return TC_ACT_SHOT;                                            \
		__u32 seq = c->produced++;                                             \
		struct event_##SIZE *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);      \
		if (!e) {                                                              \
			c->failed++;                                                   \
			return TC_ACT_OK;                                              \
		}                                                                      \
		e->h.cpu = bpf_get_smp_processor_id();                                 \
		e->h.seq = seq;                                                        \
		e->h.ts = bpf_ktime_get_ns();                                          \
		bpf_ringbuf_submit(e, 0);                                              \
		return TC_ACT_OK;                                                      \
	}                                                                              \
                                                                                       \
	SEC("tc") int pb_output_##SIZE(struct __sk_buff *ctx)                          \
	{                                                                              \
		struct micro_counters *c = count();                                    \
		if (!c)                                                                \
			return TC_ACT_SHOT;                                            \
		struct event_##SIZE e;                                                 \
		__builtin_memset(&e, 0, sizeof(e));                                    \
		e.h.cpu = bpf_get_smp_processor_id();                                  \
		e.h.seq = c->produced++;                                               \
		e.h.ts = bpf_ktime_get_ns();                                           \
		if (bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, &e, sizeof(e))) \
			c->failed++;                                                   \
		return TC_ACT_OK;                                                      \
	}

PRODUCERS(64)
PRODUCERS(256)

/* Run once per producer CPU after the producers stop: a marker event through the perf buffer makes the
 * kernel write out a pending PERF_RECORD_LOST (it does so only before the next sample that fits), so
 * the consumer's lost callback hears about every lost event. Not counted as produced. */
SEC("tc")
int pb_flush(struct __sk_buff *ctx)
{
	struct micro_event m = {.ts = bpf_ktime_get_ns(), .cpu = bpf_get_smp_processor_id(), .seq = MICRO_EVENT_MARKER};
	return bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, &m, sizeof(m)) ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
