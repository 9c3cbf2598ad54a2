// SPDX-License-Identifier: GPL-2.0
// The application layer's tracers (`ebpfperf suite app`), as BCC's tools do them:
//   sslsniff: uprobes on SSL_read/SSL_write in the libssl nginx maps. The entry keeps the buffer pointer per
//             thread; the return copies up to `capture` bytes of what was read or written into a record sent
//             through a ring buffer (reserve + submit) or a perf buffer (built in a per-CPU scratch slot, then
//             bpf_perf_event_output), as app_config.buffer says.
//   syscount: raw_syscalls/sys_enter three ways: counted per syscall for every process (app_sys_all), only
//             one process's counted after a pid test in the kernel (app_sys_kfilter), every event sent to user
//             space through the ring buffer and filtered there (app_sys_ring).
// Every call, record and refused reservation is counted, so user space can prove produced = consumed + lost.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "app.shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct app_count);
} app_counts SEC(".maps");

/* Set by user space before attaching: how many bytes a record copies. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct app_config);
} app_config SEC(".maps");

/* SSL_read/SSL_write's buffer, from the entry to the return of the same thread's call. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} app_ssl_args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} app_ring SEC(".maps");

/* sslsniff's perf buffer (one per CPU, sized by user space when it opens it), and the slot a record is built in. */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} app_perf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct app_ssl_event);
} app_scratch SEC(".maps");

/* Syscalls per syscall number, every process (BCC syscount's default view). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, APP_SYSCALLS);
	__type(key, __u32);
	__type(value, __u64);
} app_syscalls SEC(".maps");

static __always_inline struct app_count *counts(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&app_counts, &key);
}

SEC("uprobe")
int app_ssl_entry(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 buf = PT_REGS_PARM2(ctx);
	struct app_count *c = counts();

	if (c)
		c->entries++;
	bpf_map_update_elem(&app_ssl_args, &id, &buf, BPF_ANY);
	return 0;
}

/* A function's calls, counted (the Go runtime and handler probes: no return probes on Go's moving stacks). */
SEC("uprobe")
int app_count_entry(struct pt_regs *ctx)
{
	struct app_count *c = counts();

	if (c)
		c->entries++;
	return 0;
}

/* The record of one call: its head and up to `capture` bytes of the buffer; returns the bytes copied. */
static __always_inline __u64 ssl_fill(struct app_ssl_event *e, struct app_config *cfg, __u64 id, long ret, __u32 dir,
				      __u64 buf)
{
	__u64 n = cfg->capture;

	if (n > ret)
		n = ret;
	/* the verifier needs the bound on the register the helper gets: keep clang from folding it away */
	asm volatile("" : "+r"(n));
	if (n > APP_CAPTURE_MAX)
		n = APP_CAPTURE_MAX;
	asm volatile("" : "+r"(n));
	e->ts = bpf_ktime_get_ns();
	e->cpu = bpf_get_smp_processor_id();
	e->seq = 0;
	e->pid_tgid = id;
	e->len = ret;
	e->dir = dir;
	e->captured = bpf_probe_read_user(e->data, n, (void *)buf) ? 0 : n;
	return e->captured;
}

static __always_inline void ssl_send(struct pt_regs *ctx, struct app_count *c, struct app_config *cfg, __u64 id,
				     long ret, __u32 dir, __u64 buf)
{
	struct app_ssl_event *e;
	__u32 key = 0;
	__u64 n;

	c->produced++;
	if (cfg->buffer == APP_BUFFER_PERF) {
		e = bpf_map_lookup_elem(&app_scratch, &key);
		if (!e) {
			c->lost++;
			return;
		}
		n = ssl_fill(e, cfg, id, ret, dir, buf);
		/* -ENOSPC when the CPU's buffer is full: the kernel counts it for the consumer's lost callback too */
		if (bpf_perf_event_output(ctx, &app_perf, BPF_F_CURRENT_CPU, e, sizeof(*e)))
			c->lost++;
		else
			c->bytes += n;
		return;
	}
	e = bpf_ringbuf_reserve(&app_ring, sizeof(*e), 0);
	if (!e) {
		c->lost++;
		return;
	}
	c->bytes += ssl_fill(e, cfg, id, ret, dir, buf);
	bpf_ringbuf_submit(e, 0);
}

static __always_inline int ssl_return(struct pt_regs *ctx, __u32 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	long ret = PT_REGS_RC(ctx);
	struct app_count *c = counts();
	struct app_config *cfg;
	__u64 *buf;
	__u32 key = 0;

	if (!c)
		return 0;
	c->returns++;
	buf = bpf_map_lookup_elem(&app_ssl_args, &id);
	if (!buf)
		return 0;
	cfg = bpf_map_lookup_elem(&app_config, &key);
	if (ret > 0 && cfg)
		ssl_send(ctx, c, cfg, id, ret, dir, *buf);
	bpf_map_delete_elem(&app_ssl_args, &id);
	return 0;
}

/*
 * Run once on each CPU by user space (BPF_PROG_TEST_RUN on that CPU) after sslsniff is detached: the kernel
 * writes out a perf buffer's pending lost count only before the next record that fits, so a marker record
 * brings every lost record to the consumer's lost callback. Not counted as produced.
 */
SEC("raw_tp")
int app_perf_flush(void *ctx)
{
	struct app_ssl_event_head {
		__u64 ts;
		__u32 cpu;
		__u32 seq;
	} m = {.ts = bpf_ktime_get_ns(), .cpu = bpf_get_smp_processor_id(), .seq = APP_EVENT_MARKER};

	return bpf_perf_event_output(ctx, &app_perf, BPF_F_CURRENT_CPU, &m, sizeof(m)) ? 1 : 0;
}

SEC("uretprobe")
int app_ssl_read_ret(struct pt_regs *ctx)
{
	return ssl_return(ctx, APP_DIR_READ);
}

SEC("uretprobe")
int app_ssl_write_ret(struct pt_regs *ctx)
{
	return ssl_return(ctx, APP_DIR_WRITE);
}

/* raw_syscalls/sys_enter's record (tracefs events/raw_syscalls/sys_enter/format). */
struct app_sys_enter {
	__u64 common;
	long id;
	unsigned long args[6];
};

SEC("tracepoint/raw_syscalls/sys_enter")
int app_sys_all(struct app_sys_enter *ctx)
{
	__u32 nr = ctx->id;
	struct app_count *c = counts();
	__u64 *slot;

	if (c)
		c->entries++;
	if (nr >= APP_SYSCALLS)
		return 0;
	slot = bpf_map_lookup_elem(&app_syscalls, &nr);
	if (slot)
		(*slot)++;
	return 0;
}

static __always_inline __u32 config_target(void)
{
	__u32 key = 0;
	struct app_config *cfg = bpf_map_lookup_elem(&app_config, &key);

	return cfg ? cfg->target : 0;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int app_sys_kfilter(struct app_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct app_count *c = counts();

	if (!c)
		return 0;
	c->entries++;
	if ((id >> 32) == config_target())
		c->mine++;
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int app_sys_ring(struct app_sys_enter *ctx)
{
	struct app_sys_event e = {.pid_tgid = bpf_get_current_pid_tgid(), .id = ctx->id};
	struct app_count *c = counts();

	if (!c)
		return 0;
	c->entries++;
	c->produced++;
	if (bpf_ringbuf_output(&app_ring, &e, sizeof(e), 0))
		c->lost++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
