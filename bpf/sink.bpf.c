// SPDX-License-Identifier: GPL-2.0
// The counting sink: an XDP program on the server's port that takes the generator's packets (UDP to
// cfg.dport carrying a pktgen_hdr), counts them per flow — packets, bytes, reordering and duplicates from
// the sequence numbers — and the one-way latency of stamped packets into a log-linear histogram (the
// generator and the sink read the same kernel clock), then drops them, so the sink costs the same in every
// mode. Everything else passes: the sink also serves as the XDP program a veth needs on the receiving end
// of an XDP redirect or transmit.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "pktgen.shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pktgen_sink_cfg);
} sink_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PKTGEN_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct pktgen_flow);
} sink_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pktgen_totals);
} sink_totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PKTGEN_HIST_BUCKETS);
	__type(key, __u32);
	__type(value, __u64);
} sink_latency SEC(".maps");

static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r = 0;

	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

/* values below 16 ns have a bucket each; above, 16 sub-buckets per power of two (src/workloads/pktgen.ts
 * inverts this) */
static __always_inline __u32 lat_bucket(__u32 v)
{
	__u32 b;

	if (v < (1 << PKTGEN_HIST_SUB_BITS))
		return v;
	b = log2_u32(v);
	return ((b - PKTGEN_HIST_SUB_BITS + 1) << PKTGEN_HIST_SUB_BITS) +
	       ((v >> (b - PKTGEN_HIST_SUB_BITS)) & ((1 << PKTGEN_HIST_SUB_BITS) - 1));
}

static __always_inline void track(struct pktgen_flow *f, __u32 seq, __u64 bytes)
{
	bpf_spin_lock(&f->lock);
	f->packets++;
	f->bytes += bytes;
	if (!f->started) {
		f->started = 1;
		f->max_seq = seq;
		f->window = 1;
	} else if (seq > f->max_seq) {
		__u32 d = seq - f->max_seq;

		f->window = d >= 64 ? 1 : (f->window << d) | 1;
		f->max_seq = seq;
	} else {
		__u32 d = f->max_seq - seq;

		if (d < 64 && (f->window & (1ULL << d))) {
			f->duplicates++;
		} else {
			if (d < 64)
				f->window |= 1ULL << d;
			f->reordered++;
		}
	}
	bpf_spin_unlock(&f->lock);
}

static __always_inline void stamp(struct pktgen_totals *t, __u32 ts)
{
	__u32 lat = (__u32)bpf_ktime_get_ns() - ts;
	__u32 b = lat_bucket(lat);
	__u64 *slot = bpf_map_lookup_elem(&sink_latency, &b);

	if (slot)
		(*slot)++;
	t->stamped++;
	if (lat > t->lat_max)
		t->lat_max = lat;
}

/* The generator's header when this is its packet, else 0 */
static __always_inline struct pktgen_hdr *ours(void *data, void *data_end, __u16 dport)
{
	struct ethhdr *eth = data;
	struct udphdr *udp;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
			return 0;
		udp = (void *)(ip + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			return 0;
		udp = (void *)(ip6 + 1);
	} else {
		return 0;
	}
	if ((void *)(udp + 1) + sizeof(struct pktgen_hdr) > data_end || udp->dest != dport)
		return 0;
	struct pktgen_hdr *h = (void *)(udp + 1);
	return h->magic == PKTGEN_MAGIC ? h : 0;
}

SEC("xdp")
int pktgen_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0, key;
	struct pktgen_sink_cfg *cfg = bpf_map_lookup_elem(&sink_cfg, &zero);
	struct pktgen_totals *t = bpf_map_lookup_elem(&sink_totals, &zero);
	struct pktgen_hdr *h;
	struct pktgen_flow *f;

	if (!cfg || !t)
		return XDP_PASS;
	h = ours(data, data_end, cfg->dport);
	if (!h)
		return XDP_PASS;
	if (cfg->drop_every && h->seq % cfg->drop_every == cfg->drop_every - 1) {
		t->dropped_test++;
		return XDP_DROP;
	}
	key = h->flow & (PKTGEN_MAX_FLOWS - 1);
	f = bpf_map_lookup_elem(&sink_flows, &key);
	if (!f)
		return XDP_DROP;
	t->packets++;
	track(f, h->seq, data_end - data);
	if (h->ts)
		stamp(t, h->ts);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
