// SPDX-License-Identifier: GPL-2.0
// The accelerator suite's built-in fast paths for the DUT: an IPv4/IPv6 forwarder at XDP (xdp_fwd) and at
// TC (tc_fwd). Both ask the kernel's FIB (bpf_fib_lookup), decrement the TTL / hop limit (the helper does
// not touch the packet; the IPv4 checksum is fixed incrementally), rewrite the MACs and redirect: XDP
// through the devmap `tx_ports` (filled from user space with the egress ifindexes), TC with bpf_redirect
// (or bpf_redirect_neigh while the next hop's MAC is still unknown). Whatever they do not forward goes to
// the stack (XDP_PASS / TC_ACT_OK), and every verdict is counted in `accel_stats` so that a measurement
// can prove the fast path, not the kernel, carried the traffic.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "accel.shared.h"

#define AF_INET 2
#define AF_INET6 10
#define IPV6_FLOWINFO_MASK bpf_htonl(0x0FFFFFFF)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ACCEL_STAT_MAX);
	__type(key, __u32);
	__type(value, struct accel_count);
} accel_stats SEC(".maps");

/* egress ifindex -> egress ifindex: the devices XDP may redirect to */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

static __always_inline void count(__u32 slot, __u64 bytes)
{
	struct accel_count *c = bpf_map_lookup_elem(&accel_stats, &slot);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline void ipv4_decrease_ttl(struct iphdr *iph)
{
	__u32 check = (__u32)iph->check;

	check += (__u32)bpf_htons(0x0100);
	iph->check = (__sum16)(check + (check >= 0xFFFF));
	iph->ttl--;
}

/* Parses the packet and fills the FIB query. Returns ACCEL_FWD when the lookup may go ahead, else the
 * slot to count the packet under (it then goes to the stack). */
static __always_inline int prepare(void *data, void *data_end, __u32 ifindex, struct bpf_fib_lookup *fib,
				   struct iphdr **iph4, struct ipv6hdr **iph6)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return ACCEL_PASS_OTHER;
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = ifindex;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return ACCEL_PASS_OTHER;
		if (iph->ttl <= 1)
			return ACCEL_PASS_TTL;
		fib->family = AF_INET;
		fib->tos = iph->tos;
		fib->l4_protocol = iph->protocol;
		fib->tot_len = bpf_ntohs(iph->tot_len);
		fib->ipv4_src = iph->saddr;
		fib->ipv4_dst = iph->daddr;
		*iph4 = iph;
		return ACCEL_FWD;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = (void *)(eth + 1);

		if ((void *)(ip6h + 1) > data_end)
			return ACCEL_PASS_OTHER;
		/* link-local and multicast destinations (neighbour discovery, ...) are the DUT's own */
		if (ip6h->daddr.in6_u.u6_addr8[0] == 0xff ||
		    (ip6h->daddr.in6_u.u6_addr8[0] == 0xfe && (ip6h->daddr.in6_u.u6_addr8[1] & 0xc0) == 0x80))
			return ACCEL_PASS_LOCAL;
		if (ip6h->hop_limit <= 1)
			return ACCEL_PASS_TTL;
		fib->family = AF_INET6;
		fib->flowinfo = *(__be32 *)ip6h & IPV6_FLOWINFO_MASK;
		fib->l4_protocol = ip6h->nexthdr;
		fib->tot_len = bpf_ntohs(ip6h->payload_len);
		__builtin_memcpy(fib->ipv6_src, &ip6h->saddr, sizeof(fib->ipv6_src));
		__builtin_memcpy(fib->ipv6_dst, &ip6h->daddr, sizeof(fib->ipv6_dst));
		*iph6 = ip6h;
		return ACCEL_FWD;
	}
	return ACCEL_PASS_NOT_IP;
}

static __always_inline int fib_slot(int rc)
{
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		return ACCEL_FWD;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return ACCEL_PASS_NO_NEIGH;
	case BPF_FIB_LKUP_RET_NOT_FWDED: /* local destination */
		return ACCEL_PASS_LOCAL;
	default:
		return ACCEL_PASS_FIB;
	}
}

static __always_inline void rewrite(void *data, struct bpf_fib_lookup *fib, struct iphdr *iph4, struct ipv6hdr *iph6)
{
	struct ethhdr *eth = data;

	if (iph4)
		ipv4_decrease_ttl(iph4);
	else if (iph6)
		iph6->hop_limit--;
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
}

SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	struct bpf_fib_lookup fib;
	struct iphdr *iph4 = 0;
	struct ipv6hdr *iph6 = 0;
	int slot, action;

	slot = prepare(data, data_end, ctx->ingress_ifindex, &fib, &iph4, &iph6);
	if (slot != ACCEL_FWD)
		goto pass;
	slot = fib_slot(bpf_fib_lookup(ctx, &fib, sizeof(fib), 0));
	if (slot != ACCEL_FWD)
		goto pass;
	if (!bpf_map_lookup_elem(&tx_ports, &fib.ifindex)) {
		slot = ACCEL_PASS_NO_PORT;
		goto pass;
	}
	rewrite(data, &fib, iph4, iph6);
	action = bpf_redirect_map(&tx_ports, fib.ifindex, 0);
	if (action == XDP_REDIRECT) {
		count(ACCEL_FWD, bytes);
		return XDP_REDIRECT;
	}
	slot = ACCEL_PASS_NO_PORT;
pass:
	count(slot, bytes);
	return XDP_PASS;
}

SEC("tc")
int tc_fwd(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct bpf_fib_lookup fib;
	struct iphdr *iph4 = 0;
	struct ipv6hdr *iph6 = 0;
	__u64 bytes = skb->len;
	int slot, rc;

	/* the headers must be in the linear part for direct access */
	if (bpf_skb_pull_data(skb, sizeof(struct ethhdr) + sizeof(struct ipv6hdr)) < 0)
		bpf_skb_pull_data(skb, sizeof(struct ethhdr) + sizeof(struct iphdr));
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	slot = prepare(data, data_end, skb->ingress_ifindex, &fib, &iph4, &iph6);
	if (slot != ACCEL_FWD)
		goto pass;
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* the kernel resolves the next hop's MAC and sends it: still the fast path */
		if (iph4)
			ipv4_decrease_ttl(iph4);
		else if (iph6)
			iph6->hop_limit--;
		rc = bpf_redirect_neigh(fib.ifindex, 0, 0, 0);
		if (rc == TC_ACT_REDIRECT) {
			count(ACCEL_FWD, bytes);
			return TC_ACT_REDIRECT;
		}
		count(ACCEL_PASS_NO_PORT, bytes);
		return TC_ACT_SHOT; /* the TTL was already decremented: do not hand a modified packet to the stack */
	}
	slot = fib_slot(rc);
	if (slot != ACCEL_FWD)
		goto pass;
	rewrite(data, &fib, iph4, iph6);
	rc = bpf_redirect(fib.ifindex, 0);
	if (rc == TC_ACT_REDIRECT) {
		count(ACCEL_FWD, bytes);
		return TC_ACT_REDIRECT;
	}
	count(ACCEL_PASS_NO_PORT, bytes);
	return TC_ACT_SHOT;
pass:
	count(slot, bytes);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
