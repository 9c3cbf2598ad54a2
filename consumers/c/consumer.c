// ebpfperf ring/perf buffer consumer in C with libbpf: opens the map the suite pinned, counts every event
// per producer CPU and its latency (CLOCK_MONOTONIC now minus the event's bpf_ktime_get_ns), and answers
// in the line protocol of docs/consumers.md (ready; after `stop` on stdin: cpu/markers/last/hist/done).
// The usual libbpf style: ring_buffer__new + ring_buffer__poll, perf_buffer__new + perf_buffer__poll.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// Must match bpf/micro.shared.h.
struct micro_event {
	uint64_t ts;
	uint32_t cpu;
	uint32_t seq;
};
#define MARKER 0xffffffffu
#define MAX_CPUS 4096

// Log-linear latency histogram: exact below 64 ns, then 32 sub-buckets per power of two.
#define SUB 32
#define NBUCKETS (64 + 58 * SUB)

static uint64_t consumed[MAX_CPUS], lost[MAX_CPUS], hist[NBUCKETS];
static uint64_t markers, foreign, short_records, last_ns, seen;
static unsigned long drop_every; // test knob: ignore every Nth event (a deliberately lossy consumer)
static atomic_int stop;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t bucket(uint64_t v)
{
	if (v < 64)
		return (size_t)v;
	int e = 63 - __builtin_clzll(v); // >= 6
	return 64 + (size_t)(e - 6) * SUB + (size_t)((v >> (e - 5)) & (SUB - 1));
}

// The bucket's midpoint, what the histogram reports for its events.
static double bucket_value(size_t i)
{
	if (i < 64)
		return (double)i;
	int e = (int)((i - 64) / SUB) + 6;
	double lo = (double)(SUB + (i - 64) % SUB) * (double)(1ull << (e - 5));
	return lo + (double)(1ull << (e - 5)) / 2;
}

static void on_event(const void *data, size_t size)
{
	uint64_t now = mono_ns();
	struct micro_event e;
	if (size < sizeof(e)) {
		short_records++;
		return;
	}
	memcpy(&e, data, sizeof(e));
	if (e.seq == MARKER) {
		markers++;
		return;
	}
	if (drop_every && ++seen % drop_every == 0)
		return;
	if (e.cpu >= MAX_CPUS) {
		foreign++;
		return;
	}
	consumed[e.cpu]++;
	last_ns = now;
	hist[bucket(now > e.ts ? now - e.ts : 0)]++;
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	(void)ctx;
	on_event(data, size);
	return 0;
}

static void perf_cb(void *ctx, int cpu, void *data, __u32 size)
{
	(void)ctx;
	(void)cpu;
	on_event(data, size);
}

static void lost_cb(void *ctx, int cpu, __u64 n)
{
	(void)ctx;
	if (cpu >= 0 && cpu < MAX_CPUS)
		lost[cpu] += n;
}

// stdin: `stop` ends the polling; EOF (the suite is gone) ends the process.
static void *read_stdin(void *arg)
{
	(void)arg;
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "stop", 4) == 0) {
			atomic_store(&stop, 1);
			return NULL;
		}
	}
	_exit(3);
}

static void report(void)
{
	for (int c = 0; c < MAX_CPUS; c++)
		if (consumed[c] || lost[c])
			printf("cpu %d %llu %llu\n", c, (unsigned long long)consumed[c], (unsigned long long)lost[c]);
	printf("markers %llu\nshort %llu\nforeign %llu\nlast %llu\n", (unsigned long long)markers,
	       (unsigned long long)short_records, (unsigned long long)foreign, (unsigned long long)last_ns);
	for (size_t i = 0; i < NBUCKETS; i++)
		if (hist[i])
			printf("hist %.1f %llu\n", bucket_value(i), (unsigned long long)hist[i]);
	printf("done\n");
	fflush(stdout);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "ebpfperf-consumer-c: %s: %s\n", what, strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	const char *path = getenv("EBPFPERF_MAP"), *mech = getenv("EBPFPERF_MECHANISM");
	const char *pages = getenv("EBPFPERF_PERF_PAGES");
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--drop-every") == 0)
			drop_every = strtoul(argv[i + 1], NULL, 10);
	if (!path || !mech) {
		fprintf(stderr, "ebpfperf-consumer-c: EBPFPERF_MAP and EBPFPERF_MECHANISM must be set (see docs/consumers.md)\n");
		return 2;
	}
	int fd = bpf_obj_get(path);
	if (fd < 0)
		return fail(path, errno);
	struct ring_buffer *rb = NULL;
	struct perf_buffer *pb = NULL;
	if (strcmp(mech, "perfbuf") == 0)
		pb = perf_buffer__new(fd, pages ? strtoul(pages, NULL, 10) : 64, perf_cb, lost_cb, NULL, NULL);
	else
		rb = ring_buffer__new(fd, ring_cb, NULL, NULL);
	if (!pb && !rb)
		return fail(strcmp(mech, "perfbuf") == 0 ? "perf_buffer__new" : "ring_buffer__new", errno);
	pthread_t t;
	if (pthread_create(&t, NULL, read_stdin, NULL))
		return fail("pthread_create", errno);
	printf("# libbpf %s\nready\n", libbpf_version_string());
	fflush(stdout);
	while (!atomic_load(&stop)) {
		int n = pb ? perf_buffer__poll(pb, 100) : ring_buffer__poll(rb, 100);
		if (n < 0 && n != -EINTR)
			return fail(pb ? "perf_buffer__poll" : "ring_buffer__poll", -n);
	}
	int n = pb ? perf_buffer__consume(pb) : ring_buffer__consume(rb);
	if (n < 0)
		return fail("consume", -n);
	report();
	// wait for the suite to close stdin (it reads our CPU time first)
	char c;
	while (read(0, &c, 1) > 0) {
	}
	return 0;
}
