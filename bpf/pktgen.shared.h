/* SPDX-License-Identifier: GPL-2.0 */
/* The live-frames packet generator (gen.bpf.c) and the counting sink (sink.bpf.c), and what user space
 * writes and reads (src/workloads/pktgen.ts). Every generated UDP packet carries a pktgen_hdr first in
 * its payload; the sink counts only packets to cfg.dport that carry it, and passes everything else. */
#ifndef EBPFPERF_PKTGEN_SHARED_H
#define EBPFPERF_PKTGEN_SHARED_H

#define PKTGEN_MAGIC 0xEB9F
#define PKTGEN_MAX_FLOWS 4096   /* flow ids (cpu × flows + i) the sink tracks, a power of two */
#define PKTGEN_HIST_SUB_BITS 4  /* 16 linear sub-buckets per power of two: ≤ 6.25% bucket width */
#define PKTGEN_HIST_BUCKETS 512 /* covers every u32 ns value */

/* 12 bytes: fits a 64-byte IPv4 frame and a 78-byte IPv6 frame (RFC 5180's smallest) with FCS */
struct pktgen_hdr {
	__u16 magic;
	__u16 flow; /* generator CPU × flows + source port offset */
	__u32 seq;  /* per flow, from 0 in every trial */
	__u32 ts;   /* low 32 bits of bpf_ktime_get_ns() when stamped, else 0 */
} __attribute__((packed));

/* Written by user space before a trial (array `gen_cfg`, key 0). Header bytes are copied into every frame
 * in every run: live frames come from a recycled page pool, and a forwarding path rewrites MACs and TTL. */
struct pktgen_cfg {
	__u8 eth[14]; /* destination MAC, source MAC, ethertype */
	__u8 l3_len;  /* 20 (IPv4) or 40 (IPv6) */
	__u8 stamp;   /* write a timestamp into every packet */
	__u8 l3[40];  /* the IP header, checksummed */
	__u8 udp[8];  /* the UDP header with the source port of flow 0 and the checksum of flow 0, seq 0, ts 0 */
	__u16 flows;  /* source ports sport … sport + flows − 1 */
	__u16 pad;
};

/* per CPU, array `gen_state` key 0: packets this CPU generated in the trial */
struct pktgen_state {
	__u64 sent;
};

/* the sink's per-flow record (array `sink_flows`), under its lock */
struct pktgen_flow {
	struct bpf_spin_lock lock;
	__u32 started;
	__u32 max_seq;
	__u64 window;     /* bit i: seq max_seq − i was seen */
	__u64 packets;    /* every arrival, duplicates included */
	__u64 bytes;      /* frame bytes without FCS */
	__u64 reordered;  /* arrivals below the highest seq seen */
	__u64 duplicates; /* arrivals of a seq already seen (within the 64-packet window) */
};

/* the sink's settings (array `sink_cfg`, key 0) */
struct pktgen_sink_cfg {
	__u16 dport; /* network order */
	__u16 pad;
	__u32 drop_every; /* tests only: also drop (uncounted) every Nth packet; 0 = never */
};

/* per CPU totals (array `sink_totals`, key 0) */
struct pktgen_totals {
	__u64 packets;
	__u64 stamped;
	__u64 lat_max;
	__u64 dropped_test; /* drop_every's drops */
};

#endif
