// The tracing suite's native side, one job per file:
//   trace_programs.cc — load one program of an object for an attach type, attach and detach it
//     (tracepoint, raw tracepoint, kprobe/kretprobe, kprobe.multi, fentry/fexit, uprobe/uretprobe, all
//     through libbpf's bpf_program__attach_*);
//   trace_trigger.cc — a trigger thread pinned to one CPU that fires an attach point a known number of
//     times with no JS in the loop, and the addon's own functions it calls for uprobes;
//   trace_ring.cc — a ring-buffer consumer thread that filters events by tgid in user space.
// tracing.cc registers them and tears them down in order when the JS environment ends.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ebp {

// traceLoad, traceAttach, traceDetach, traceClose, traceCloseAll, traceOpenHandles, triggerStart,
// triggerRun, triggerStop, triggerTarget, ringStart, ringRead, ringStop.
void RegisterTraceFunctions(Napi::Env env, Napi::Object exports);

// trace_programs.cc
void RegisterTraceProgramFunctions(Napi::Env env, Napi::Object exports);
size_t CloseAllTracePrograms();

// trace_trigger.cc
void RegisterTriggerFunctions(Napi::Env env, Napi::Object exports);
void StopTrigger();
// File and file offset of uprobe trigger function `index` in this process (0: the unprobed twin).
int ResolveTriggerTarget(uint32_t index, std::string* path, uint64_t* offset, std::string* why);

// trace_ring.cc
void RegisterRingConsumerFunctions(Napi::Env env, Napi::Object exports);
void StopAllRingConsumers();

}  // namespace ebp
