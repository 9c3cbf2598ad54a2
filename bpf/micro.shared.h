/* SPDX-License-Identifier: GPL-2.0 */
/* ebpfperf suite micro: what the micro programs share (and what the suite files must agree with). */
#ifndef EBPFPERF_MICRO_SHARED_H
#define EBPFPERF_MICRO_SHARED_H

/* Operations per program run in the map and helper tests: the program loops MICRO_OPS times, so the
 * fixed cost of one BPF_PROG_TEST_RUN iteration is spread over MICRO_OPS operations. The suite file
 * says `ops_per_run: 32` for these tests (a unit test checks the two agree). */
#define MICRO_OPS 32

/* Tail calls in the chain test (tail_chain_0 → tail_chain_1 → … → tail_chain_MICRO_CHAIN). */
#define MICRO_CHAIN 8

/* Ring / perf buffer events: a header the consumer reads, then payload up to the event size. */
struct micro_event {
	__u64 ts;  /* bpf_ktime_get_ns() when produced (CLOCK_MONOTONIC) */
	__u32 cpu; /* bpf_get_smp_processor_id() */
	__u32 seq; /* per-CPU sequence number; MICRO_EVENT_MARKER for the perf buffer flush marker */
};
#define MICRO_EVENT_MARKER 0xffffffffu

/* Per-CPU counters kept by the buffer producers: every run counts one produced event, and one
 * failure when the output or the reservation failed (the ring buffer's only record of a lost event). */
struct micro_counters {
	__u64 produced;
	__u64 failed;
};

/* Small xorshift PRNG for random keys inside a run: a few ALU instructions per key, seeded once per run
 * with bpf_get_prandom_u32(). `micro_pick` maps it to [0, n) without a division. */
static __always_inline __u32 micro_xorshift(__u32 x)
{
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

static __always_inline __u32 micro_pick(__u32 r, __u32 n)
{
	return (__u32)(((__u64)r * n) >> 32);
}

#endif
