// The tracing suite's native side (trace.cc): load one program of an object for an attach type, attach and
// detach it (tracepoint, raw tracepoint, kprobe/kretprobe, kprobe.multi, fentry/fexit, uprobe/uretprobe, all
// through libbpf's bpf_program__attach_*), a trigger thread pinned to one CPU that fires an attach point a known
// number of times with no JS in the loop, and a ring-buffer consumer thread (seed 003's user-space filter).
#pragma once

#include <napi.h>

namespace ebp {

// traceLoad, traceAttach, traceDetach, traceClose, traceCloseAll, traceOpenHandles, triggerStart,
// triggerRun, triggerStop, triggerTarget, ringStart, ringRead, ringStop.
void RegisterTraceFunctions(Napi::Env env, Napi::Object exports);

}  // namespace ebp
