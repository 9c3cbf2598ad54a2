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

}  // namespace ebp
