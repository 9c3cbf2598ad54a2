// The suites' runners: BPF_PROG_TEST_RUN for `ebpfperf suite micro` (testrun.cc), the live-frames packet
// generator for `ebpfperf suite accelerator` (pktgen.cc) and the ring buffer / perf buffer
// producer-consumer harness (buffer_run.cc). The tracing suite's parts are in tracing.h.
#pragma once

#include <napi.h>

#include <string>

#include "core/fd.h"

namespace ebp {

// Holds an XDP program in the kernel's XDP dispatcher until *link is closed (a test run with repeat > 1
// otherwise updates the dispatcher around every call). 0 or errno (*what: the step).
int HoldInDispatcher(int prog_fd, Fd* link, std::string* what);

// testRunAsync, objGet.
void RegisterTestrunFunctions(Napi::Env env, Napi::Object exports);
// genRunAsync, genStop (pktgen.cc).
void RegisterPktgenFunctions(Napi::Env env, Napi::Object exports);
// bufferRunAsync (buffer_run.cc).
void RegisterBufferRunFunctions(Napi::Env env, Napi::Object exports);

}  // namespace ebp
