/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between bpf/tracing.bpf.c and the suite (src/suites/tracing): layouts of the counter map and of
 * the ring-buffer records. The TypeScript side reads these fields at the offsets written next to them. */
#ifndef EBPFPERF_TRACING_SHARED_H
#define EBPFPERF_TRACING_SHARED_H

/* One slot per CPU (BPF_MAP_TYPE_PERCPU_ARRAY, key 0). */
struct trc_count {
	__u64 events;        /*  0: every run of the program that reached the map */
	__u64 mine;          /*  8: runs whose tid (map body) or tgid (scenarios) equals `target` */
	__u64 dropped;       /* 16: ring-buffer records the kernel could not reserve */
	__u64 last_pid_tgid; /* 24: bpf_get_current_pid_tgid() of the last run (what seed 001 writes) */
	__u32 target;        /* 32: set by user space in every CPU's slot before attaching */
	__u32 pad;           /* 36 */
};                           /* 40 bytes */

/* One record per syscall in the "every event to user space" scenario. */
struct trc_event {
	__u64 pid_tgid; /* 0 */
	__s64 syscall;  /* 8: syscall number (raw_syscalls/sys_enter's id) */
};

#endif
