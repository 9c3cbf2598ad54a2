// SPDX-License-Identifier: GPL-2.0
// The live-frames packet generator: run by BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES from a thread
// in the client's namespace, with the client's port as ingress_ifindex, it writes one UDP packet per run
// into the frame and returns XDP_TX, which the kernel turns into a transmit on that port (ndo_xdp_xmit).
// Every header is written again in every run (the page pool recycles frames a forwarding path changed),
// the source port cycles through cfg->flows flows, and the payload carries flow, sequence and, when
// asked, a timestamp for the sink. The UDP checksum is updated incrementally (RFC 1624).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "pktgen.shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pktgen_cfg);
} gen_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pktgen_state);
} gen_state SEC(".maps");

/* one's complement sum of the 16-bit words of a u32, in memory order */
static __always_inline __u32 words(__u32 v)
{
	return (v & 0xffff) + (v >> 16);
}

static __always_inline __u16 fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* The template's checksum covers flow 0, seq 0, ts 0 (zero words add nothing): add the new words and the
 * source port's change. A result of 0 is sent as 0xffff (0 means "no checksum" in UDP). */
static __always_inline __u16 udp_csum(__u16 tmpl, __u16 sport0, __u16 sport, struct pktgen_hdr *h)
{
	__u32 s = (__u16)~tmpl;

	s += (__u16)~sport0 + sport;
	s += h->flow + words(h->seq) + words(h->ts);
	s = (__u16)~fold(s);
	return s ? s : 0xffff;
}

/* l3 is a constant at each call (20 or 40), so every access below has a fixed offset */
static __always_inline int write_frame(void *data, void *data_end, struct pktgen_cfg *cfg, struct pktgen_state *st,
				       const __u32 l3)
{
	__u16 *udp = data + 14 + l3;
	struct pktgen_hdr *h = (void *)(udp + 4);
	__u32 flows = cfg->flows ? cfg->flows : 1;
	__u32 n, flow;
	__u16 sport0, sport;

	if ((void *)(h + 1) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, cfg->eth, 14);
	__builtin_memcpy(data + 14, cfg->l3, l3);
	n = (__u32)st->sent++;
	flow = n % flows;
	sport0 = *(__u16 *)&cfg->udp[0];
	sport = __builtin_bswap16(__builtin_bswap16(sport0) + flow);
	h->magic = PKTGEN_MAGIC;
	h->flow = (__u16)(bpf_get_smp_processor_id() * flows + flow);
	h->seq = n / flows;
	h->ts = cfg->stamp ? ((__u32)bpf_ktime_get_ns() | 1) : 0;
	__builtin_memcpy(udp, cfg->udp, 8);
	udp[0] = sport;
	udp[3] = udp_csum(*(__u16 *)&cfg->udp[6], sport0, sport, h);
	return XDP_TX;
}

SEC("xdp")
int pktgen_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct pktgen_cfg *cfg = bpf_map_lookup_elem(&gen_cfg, &zero);
	struct pktgen_state *st = bpf_map_lookup_elem(&gen_state, &zero);

	if (!cfg || !st)
		return XDP_ABORTED;
	if (cfg->l3_len == 40)
		return write_frame(data, data_end, cfg, st, 40);
	return write_frame(data, data_end, cfg, st, 20);
}

char LICENSE[] SEC("license") = "GPL";
