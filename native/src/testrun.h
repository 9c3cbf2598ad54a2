// BPF_PROG_TEST_RUN runner for `ebpfperf suite micro` (testrun.cc) and the ring buffer / perf buffer
// producer-consumer harness (ringbuf.cc).
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace ebp {

class Fd;

// Holds an XDP program in the kernel's XDP dispatcher until *link is closed (a test run with repeat > 1
// otherwise updates the dispatcher around every call). 0 or errno (*what: the step).
int HoldInDispatcher(int prog_fd, Fd* link, std::string* what);

// testRunAsync, objGet.
void RegisterTestrunFunctions(Napi::Env env, Napi::Object exports);
// genRunAsync, genStop (pktgen.cc).
void RegisterPktgenFunctions(Napi::Env env, Napi::Object exports);
// bufferRunAsync.
void RegisterRingbufFunctions(Napi::Env env, Napi::Object exports);

}  // namespace ebp
