// BPF_PROG_TEST_RUN runner for `ebpfperf suite micro` (testrun.cc) and the ring buffer / perf buffer
// producer-consumer harness (ringbuf.cc).
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace ebp {

// testRunAsync, objGet.
void RegisterTestrunFunctions(Napi::Env env, Napi::Object exports);
// bufferRunAsync.
void RegisterRingbufFunctions(Napi::Env env, Napi::Object exports);

// Shared by both: CLOCK_MONOTONIC in ns (the clock bpf_ktime_get_ns reads).
uint64_t MonoNs();
// Pins the calling thread to `cpu`; 0 or errno. Checks with sched_getcpu that it moved.
int PinThisThread(int cpu);

}  // namespace ebp
