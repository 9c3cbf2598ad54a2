/* SPDX-License-Identifier: GPL-2.0 */
/* What the accelerator suite's fast paths count (bpf/accel.bpf.c) and user space reads
 * (src/suites/accelerator/counters.ts): a per-CPU array `accel_stats`, one slot per verdict, each
 * {packets, bytes}. A user's own accelerator may define the same map (same name and layout) to have
 * its verdicts counted too. */
#ifndef EBPFPERF_ACCEL_SHARED_H
#define EBPFPERF_ACCEL_SHARED_H

enum accel_stat {
	ACCEL_FWD = 0,       /* carried by the fast path (redirected to the egress device) */
	ACCEL_PASS_NOT_IP,   /* ARP and other non-IP frames: to the stack, not data */
	ACCEL_PASS_LOCAL,    /* for the DUT itself (neighbour discovery, link-local): to the stack, not data */
	ACCEL_PASS_TTL,      /* TTL / hop limit would expire: the stack answers with ICMP */
	ACCEL_PASS_FIB,      /* FIB lookup did not give a forwarding result (unreachable, frag needed, ...) */
	ACCEL_PASS_NO_NEIGH, /* next hop's MAC unknown: the stack resolves it */
	ACCEL_PASS_NO_PORT,  /* egress device not in the devmap (XDP) or the redirect failed */
	ACCEL_PASS_OTHER,    /* truncated or otherwise unparsable IP packets */
	ACCEL_STAT_MAX,
};

struct accel_count {
	__u64 packets;
	__u64 bytes;
};

#endif
