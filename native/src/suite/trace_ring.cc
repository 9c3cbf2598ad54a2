// The tracing suite's ring consumer: a thread that polls a BPF ring buffer of struct trc_event and filters
// by tgid in user space (the cost of filtering after the kernel has already paid for every event).
#include <bpf/libbpf.h>
#include <errno.h>

#include <atomic>
#include <cstdint>

#include "core/errno_text.h"
#include "core/js_args.h"
#include "core/js_errors.h"
#include "core/libbpf_log.h"
#include "core/threads.h"
#include "suite/tracing.h"

namespace ebp {
namespace {

struct TrcEvent {
  uint64_t pid_tgid;
  int64_t syscall;
};

struct RingConsumer {
  ring_buffer* rb = nullptr;
  Thread thread;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> matched{0};
  std::atomic<uint64_t> cpu_ns{0};
  std::atomic<int> poll_err{0};
  uint32_t filter_tgid = 0;
};

int OnRingEvent(void* ctx, void* data, size_t size) {
  auto* r = static_cast<RingConsumer*>(ctx);
  if (size < sizeof(TrcEvent)) return 0;
  const auto* e = static_cast<const TrcEvent*>(data);
  r->events.fetch_add(1, std::memory_order_relaxed);
  if (static_cast<uint32_t>(e->pid_tgid >> 32) == r->filter_tgid) r->matched.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

HandleTable<RingConsumer*> g_rings("handle", "unknown or stopped ring consumer");

// ringStart(mapFd, filterTgid) → handle: a thread polls the ring buffer and keeps the events of filterTgid.
Napi::Value RingStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double fd, tgid;
  if (!ArgNumber(info, 0, "mapFd", &fd) || !ArgNumber(info, 1, "filterTgid", &tgid)) return env.Undefined();
  auto* r = new RingConsumer();
  r->filter_tgid = static_cast<uint32_t>(tgid);
  ClearLibbpfLog();
  r->rb = ring_buffer__new(static_cast<int>(fd), OnRingEvent, r, nullptr);
  if (!r->rb) {
    int err = errno ? errno : EINVAL;
    delete r;
    ThrowErrno(env, err, "ring_buffer__new");
    return env.Undefined();
  }
  int start_err = r->thread.Start([r] {
    const uint64_t c0 = ThreadCpuNs();
    while (!r->stop.load()) {
      int n = ring_buffer__poll(r->rb, 20);
      if (n < 0 && n != -EINTR) {
        r->poll_err = -n;
        break;
      }
      r->cpu_ns = ThreadCpuNs() - c0;
    }
    ring_buffer__consume(r->rb);
    r->cpu_ns = ThreadCpuNs() - c0;
  });
  if (start_err) {
    ring_buffer__free(r->rb);
    delete r;
    ThrowErrno(env, start_err, "starting the ring buffer consumer thread");
    return env.Undefined();
  }
  return Napi::Number::New(env, g_rings.Add(r));
}

Napi::Object RingCounts(Napi::Env env, RingConsumer* r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("events", static_cast<double>(r->events.load()));
  o.Set("matched", static_cast<double>(r->matched.load()));
  o.Set("consumerCpuNs", static_cast<double>(r->cpu_ns.load()));
  if (r->poll_err) o.Set("pollError", ErrnoCode(r->poll_err));
  return o;
}

RingConsumer* FindRing(const Napi::CallbackInfo& info, uint32_t* h) {
  RingConsumer** r = g_rings.Find(info, 0, h);
  return r ? *r : nullptr;
}

Napi::Value RingRead(const Napi::CallbackInfo& info) {
  uint32_t h;
  RingConsumer* r = FindRing(info, &h);
  return r ? RingCounts(info.Env(), r) : info.Env().Undefined();
}

void StopRing(RingConsumer* r) {
  r->stop = true;
  r->thread.Join();
  ring_buffer__free(r->rb);
  r->rb = nullptr;
}

// ringStop(handle) → {events, matched, consumerCpuNs}: drains what is left, stops the thread.
Napi::Value RingStop(const Napi::CallbackInfo& info) {
  uint32_t h;
  RingConsumer* r = FindRing(info, &h);
  if (!r) return info.Env().Undefined();
  g_rings.Erase(h);
  StopRing(r);
  Napi::Object o = RingCounts(info.Env(), r);
  delete r;
  return o;
}

}  // namespace

void StopAllRingConsumers() {
  g_rings.ForEach(
      [](uint32_t, RingConsumer*& r) {
        StopRing(r);
        delete r;
      },
      true);
}

void RegisterRingConsumerFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("ringStart", Napi::Function::New(env, RingStart, "ringStart"));
  exports.Set("ringRead", Napi::Function::New(env, RingRead, "ringRead"));
  exports.Set("ringStop", Napi::Function::New(env, RingStop, "ringStop"));
}

}  // namespace ebp
