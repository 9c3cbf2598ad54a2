/* SPDX-License-Identifier: GPL-2.0 */
/* ebpfperf suite micro: map test programs, generated per map by the macros below (one object per map
 * kind: micro_map_<kind>.bpf.c). For a map NAME with keys 0..N-1 they define:
 *   NAME_fill    map preparation: inserts or writes every key 0..N-1 once (bpf_loop), XDP_PASS if all worked
 *   NAME_read    MICRO_OPS lookups of random keys per run; XDP_DROP if one is missing (so a map that was
 *                not filled fails the test instead of measuring the cheap miss path)
 *   NAME_update  MICRO_OPS updates (BPF_EXIST) of random existing keys per run
 *   NAME_delins  MICRO_OPS × (delete a random key, insert it again with BPF_NOEXIST) per run (hash kinds)
 * Every program returns XDP_PASS (2) when all its operations succeeded. Keys come from micro_xorshift,
 * seeded once per run by bpf_get_prandom_u32(): a few ALU instructions per key. */
#ifndef EBPFPERF_MICRO_MAPS_SHARED_H
#define EBPFPERF_MICRO_MAPS_SHARED_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "micro.shared.h"

#define MICRO_NO_UNROLL _Pragma("clang loop unroll(disable)")

/* ---- maps keyed by __u32 0..N-1 with __u64 values (array, percpu_array, hash, percpu_hash, lru_hash) */

#define MICRO_U32_MAP(NAME, TYPE, MAXE, N, FLAGS)                              \
	struct {                                                               \
		__uint(type, TYPE);                                            \
		__uint(max_entries, MAXE);                                     \
		__type(key, __u32);                                            \
		__type(value, __u64);                                          \
		__uint(map_flags, FLAGS);                                      \
	} NAME SEC(".maps");                                                   \
                                                                               \
	static long NAME##_fill_cb(__u32 i, void *ctx)                         \
	{                                                                      \
		__u32 k = i;                                                   \
		__u64 v = i;                                                   \
		if (bpf_map_update_elem(&NAME, &k, &v, BPF_ANY))               \
			(*(__u32 *)ctx)++;                                     \
		return 0;                                                      \
	}                                                                      \
                                                                               \
	SEC("xdp") int NAME##_fill(struct xdp_md *ctx)                         \
	{                                                                      \
		__u32 fails = 0;                                               \
		bpf_loop(N, NAME##_fill_cb, &fails, 0);                        \
		return fails ? XDP_DROP : XDP_PASS;                            \
	}                                                                      \
                                                                               \
	SEC("xdp") int NAME##_read(struct xdp_md *ctx)                         \
	{                                                                      \
		__u32 x = bpf_get_prandom_u32() | 1;                           \
		__u64 acc = 0;                                                 \
		MICRO_NO_UNROLL                                                \
		for (int i = 0; i < MICRO_OPS; i++) {                          \
			x = micro_xorshift(x);                                 \
			__u32 k = micro_pick(x, N);                            \
			__u64 *v = bpf_map_lookup_elem(&NAME, &k);             \
			if (!v)                                                \
				return XDP_DROP;                               \
			acc += *v;                                             \
		}                                                              \
		/* keeps the value loads alive; never true (values are < N) */ \
		return acc == ~0ULL ? XDP_TX : XDP_PASS;                       \
	}                                                                      \
                                                                               \
	SEC("xdp") int NAME##_update(struct xdp_md *ctx)                       \
	{                                                                      \
		__u32 x = bpf_get_prandom_u32() | 1;                           \
		MICRO_NO_UNROLL                                                \
		for (int i = 0; i < MICRO_OPS; i++) {                          \
			x = micro_xorshift(x);                                 \
			__u32 k = micro_pick(x, N);                            \
			__u64 v = k;                                           \
			if (bpf_map_update_elem(&NAME, &k, &v, BPF_EXIST))     \
				return XDP_DROP;                               \
		}                                                              \
		return XDP_PASS;                                               \
	}

#define MICRO_U32_MAP_DELINS(NAME, N)                                        \
	SEC("xdp") int NAME##_delins(struct xdp_md *ctx)                     \
	{                                                                    \
		__u32 x = bpf_get_prandom_u32() | 1;                         \
		MICRO_NO_UNROLL                                              \
		for (int i = 0; i < MICRO_OPS; i++) {                        \
			x = micro_xorshift(x);                               \
			__u32 k = micro_pick(x, N);                          \
			__u64 v = k;                                         \
			if (bpf_map_delete_elem(&NAME, &k))                  \
				return XDP_DROP;                             \
			if (bpf_map_update_elem(&NAME, &k, &v, BPF_NOEXIST)) \
				return XDP_DROP;                             \
		}                                                            \
		return XDP_PASS;                                             \
	}

/* ---- LPM trie: N /24 prefixes (i << 8)/24; reads look up a /32 inside a random one of them */

struct micro_lpm_key {
	__u32 prefixlen;
	__u32 addr; /* network byte order */
};

#define MICRO_LPM_MAP(NAME, N)                                                                              \
	struct {                                                                                            \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                                                        \
		__uint(max_entries, N);                                                                     \
		__type(key, struct micro_lpm_key);                                                          \
		__type(value, __u64);                                                                       \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                                       \
	} NAME SEC(".maps");                                                                                \
                                                                                                            \
	static long NAME##_fill_cb(__u32 i, void *ctx)                                                      \
	{                                                                                                   \
		struct micro_lpm_key k = {.prefixlen = 24, .addr = bpf_htonl(i << 8)};                      \
		__u64 v = i;                                                                                \
		if (bpf_map_update_elem(&NAME, &k, &v, BPF_ANY))                                            \
			(*(__u32 *)ctx)++;                                                                  \
		return 0;                                                                                   \
	}                                                                                                   \
                                                                                                            \
	SEC("xdp") int NAME##_fill(struct xdp_md *ctx)                                                      \
	{                                                                                                   \
		__u32 fails = 0;                                                                            \
		bpf_loop(N, NAME##_fill_cb, &fails, 0);                                                     \
		return fails ? XDP_DROP : XDP_PASS;                                                         \
	}                                                                                                   \
                                                                                                            \
	SEC("xdp") int NAME##_read(struct xdp_md *ctx)                                                      \
	{                                                                                                   \
		__u32 x = bpf_get_prandom_u32() | 1;                                                        \
		__u64 acc = 0;                                                                              \
		MICRO_NO_UNROLL                                                                             \
		for (int i = 0; i < MICRO_OPS; i++) {                                                       \
			x = micro_xorshift(x);                                                              \
			struct micro_lpm_key k = {.prefixlen = 32,                                          \
						  .addr = bpf_htonl((micro_pick(x, N) << 8) | (x & 0xff))}; \
			__u64 *v = bpf_map_lookup_elem(&NAME, &k);                                          \
			if (!v)                                                                             \
				return XDP_DROP;                                                            \
			acc += *v;                                                                          \
		}                                                                                           \
		return acc == ~0ULL ? XDP_TX : XDP_PASS;                                                    \
	}                                                                                                   \
                                                                                                            \
	SEC("xdp") int NAME##_update(struct xdp_md *ctx)                                                    \
	{                                                                                                   \
		__u32 x = bpf_get_prandom_u32() | 1;                                                        \
		MICRO_NO_UNROLL                                                                             \
		for (int i = 0; i < MICRO_OPS; i++) {                                                       \
			x = micro_xorshift(x);                                                              \
			__u32 p = micro_pick(x, N);                                                         \
			struct micro_lpm_key k = {.prefixlen = 24, .addr = bpf_htonl(p << 8)};              \
			__u64 v = p;                                                                        \
			if (bpf_map_update_elem(&NAME, &k, &v, BPF_EXIST))                                  \
				return XDP_DROP;                                                            \
		}                                                                                           \
		return XDP_PASS;                                                                            \
	}                                                                                                   \
                                                                                                            \
	SEC("xdp") int NAME##_delins(struct xdp_md *ctx)                                                    \
	{                                                                                                   \
		__u32 x = bpf_get_prandom_u32() | 1;                                                        \
		MICRO_NO_UNROLL                                                                             \
		for (int i = 0; i < MICRO_OPS; i++) {                                                       \
			x = micro_xorshift(x);                                                              \
			__u32 p = micro_pick(x, N);                                                         \
			struct micro_lpm_key k = {.prefixlen = 24, .addr = bpf_htonl(p << 8)};              \
			__u64 v = p;                                                                        \
			if (bpf_map_delete_elem(&NAME, &k))                                                 \
				return XDP_DROP;                                                            \
			if (bpf_map_update_elem(&NAME, &k, &v, BPF_NOEXIST))                                \
				return XDP_DROP;                                                            \
		}                                                                                           \
		return XDP_PASS;                                                                            \
	}

#endif
