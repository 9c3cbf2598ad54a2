/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between bpf/app.bpf.c and src/suites/app: layouts the TypeScript side reads at the offsets given. */
#ifndef EBPFPERF_APP_SHARED_H
#define EBPFPERF_APP_SHARED_H

#define APP_CAPTURE_MAX 8192 /* BCC sslsniff's MAX_BUF_SIZE */
#define APP_SYSCALLS 512
#define APP_DIR_READ 0
#define APP_DIR_WRITE 1
#define APP_BUFFER_RING 0
#define APP_BUFFER_PERF 1
/* seq of the perf buffer's flush marker (the addon's buffer consumer counts it apart, as MICRO_EVENT_MARKER) */
#define APP_EVENT_MARKER 0xffffffffu

/* One slot per CPU (key 0). */
struct app_count {
	__u64 entries;  /*  0: uprobe entries (sslsniff) or syscalls seen (syscount) */
	__u64 returns;  /*  8: uretprobe runs */
	__u64 produced; /* 16: records the tracer tried to send (calls that moved data) */
	__u64 lost;     /* 24: records the ring or perf buffer had no room for */
	__u64 bytes;    /* 32: payload bytes copied into records */
	__u64 mine;     /* 40: syscalls of the target process (the in-kernel filter) */
};                      /* 48 bytes */

struct app_config {
	__u32 capture; /* bytes copied per call, at most APP_CAPTURE_MAX */
	__u32 target;  /* tgid the in-kernel syscall filter keeps */
	__u32 buffer;  /* sslsniff's records: APP_BUFFER_RING (app_ring) or APP_BUFFER_PERF (app_perf) */
	__u32 pad;
};

/* One record per syscall in the "every event to user space" variant (the layout of struct trc_event). */
struct app_sys_event {
	__u64 pid_tgid;
	__s64 id;
};

/* One record per SSL_read/SSL_write that moved data. Its head is struct micro_event's (ts, cpu, seq): the
 * addon's buffer consumer (bufferConsumerStart) counts records per CPU and tells the flush marker apart. */
struct app_ssl_event {
	__u64 ts;  /* bpf_ktime_get_ns() */
	__u32 cpu; /* bpf_get_smp_processor_id() */
	__u32 seq; /* 0; APP_EVENT_MARKER in the flush marker, which has only this head */
	__u64 pid_tgid;
	__u32 len;
	__u32 dir;
	__u32 captured;
	__u32 pad;
	__u8 data[APP_CAPTURE_MAX];
};

#endif
