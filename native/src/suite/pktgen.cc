// The live-frames packet generator for `ebpfperf suite accelerator`: genRunAsync(spec) runs the generator
// program (bpf/gen.bpf.c) with BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES from one thread per
// requested CPU, each pinned there and inside the client's network namespace (the kernel resolves the
// ingress ifindex of a test run, which the frames are transmitted from, in the caller's namespace).
// Each test run sends `repeat` frames in batches; pacing to an offered rate sends a burst of at least
// 1 ms worth (or one batch) whenever the schedule has fallen that far behind, and sleeps otherwise (a
// thread held up for longer does not catch up: see FramesDue).
// The program is held in the XDP dispatcher for the whole call (see suite/testrun.cc: HoldInDispatcher).
// genStop() ends every running generator at its next test run.
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "core/bpf_api.h"
#include "core/fd.h"
#include "core/js_args.h"
#include "core/js_worker.h"
#include "core/threads.h"
#include "net/netns.h"
#include "suite/suites.h"

namespace ebp {
namespace {

std::atomic<bool> g_gen_stop{false};

struct GenSpec {
  int prog_fd = -1;
  std::string netns;
  std::string ifname;
  std::vector<uint8_t> frame;
  std::vector<int> cpus;
  double pps = 0;  // over all threads; 0 = as fast as possible
  uint64_t duration_ns = 0;
  uint32_t batch = 64;
  uint32_t chunk = 8192;  // frames per test run at full speed
};

struct GenThread {
  int cpu = 0;
  uint64_t packets = 0;
  uint64_t calls = 0;
  uint64_t wall_ns = 0;
  int err = 0;
  std::string what;
};

void SleepNs(uint64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1000000000ull), static_cast<long>(ns % 1000000000ull)};
  nanosleep(&ts, nullptr);
}

// Frames the schedule wants now (0: wait *wait_ns first). Full speed: always a chunk. A thread that fell
// more than a few bursts behind (descheduled on a busy machine) does not catch up in one long burst, which
// would offer the DUT a different load than asked: the missed frames are forgiven (*forgiven), and the
// rate the generator achieved says so.
uint64_t FramesDue(const GenSpec& s, double pps, uint64_t elapsed, uint64_t sent, double* forgiven, uint64_t* wait_ns) {
  if (pps <= 0) return s.chunk;
  const double burst = std::max<double>(s.batch, pps * 1e-3);
  double behind = pps * static_cast<double>(elapsed) / 1e9 - static_cast<double>(sent) - *forgiven;
  if (behind > 4 * burst) {
    *forgiven += behind - burst;
    behind = burst;
  }
  if (behind >= burst) return static_cast<uint64_t>(std::min<double>(behind, s.chunk));
  *wait_ns = static_cast<uint64_t>((burst - behind) / pps * 1e9);
  return 0;
}

int Pin(int cpu, std::string* what) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) == 0) return 0;
  *what = "sched_setaffinity(CPU " + std::to_string(cpu) + ")";
  return errno;
}

// One generator thread: enter the namespace, pin, send until the duration is up or genStop().
void GenLoop(const GenSpec& s, double pps, GenThread* out) {
  if ((out->err = EnterNetns(s.netns, &out->what)) || (out->err = Pin(out->cpu, &out->what))) return;
  const unsigned ifindex = if_nametoindex(s.ifname.c_str());
  if (ifindex == 0) {
    out->err = errno ? errno : ENODEV;
    out->what = "no interface " + s.ifname + (s.netns.empty() ? "" : " in " + s.netns);
    return;
  }
  xdp_md ctx{};
  ctx.data_end = static_cast<uint32_t>(s.frame.size());
  ctx.ingress_ifindex = ifindex;
  auto opts = MakeOpts<bpf_test_run_opts>();
  opts.data_in = s.frame.data();
  opts.data_size_in = static_cast<uint32_t>(s.frame.size());
  opts.ctx_in = &ctx;
  opts.ctx_size_in = sizeof(ctx);
  opts.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
  opts.batch_size = s.batch;
  const uint64_t start = MonoNs();
  double forgiven = 0;
  for (uint64_t now = start; now - start < s.duration_ns && !g_gen_stop.load(); now = MonoNs()) {
    uint64_t wait = 0;
    const uint64_t n = FramesDue(s, pps, now - start, out->packets, &forgiven, &wait);
    if (n == 0) {
      SleepNs(std::min(wait, s.duration_ns - (now - start)));
      continue;
    }
    opts.repeat = static_cast<int>(n);
    if (bpf_prog_test_run_opts(s.prog_fd, &opts) != 0) {
      out->err = errno;
      out->what = "BPF_PROG_TEST_RUN with live frames on " + s.ifname + " (CPU " + std::to_string(out->cpu) + ")";
      break;
    }
    out->packets += n;
    out->calls++;
  }
  out->wall_ns = MonoNs() - start;
}

class GenWorker : public PromiseWorker {
 public:
  GenWorker(Napi::Env env, GenSpec spec) : PromiseWorker(env), spec_(std::move(spec)) {}

  void Execute() override {
    std::string what;
    Fd hold;
    if (int err = HoldInDispatcher(spec_.prog_fd, &hold, &what))
      return Fail(err, "holding the generator in the XDP dispatcher: " + what);
    g_gen_stop = false;
    threads_.resize(spec_.cpus.size());
    std::vector<Thread> running(spec_.cpus.size());
    const double per_thread = spec_.pps / static_cast<double>(spec_.cpus.size());
    const uint64_t t0 = MonoNs();
    for (size_t i = 0; i < spec_.cpus.size(); i++) {
      threads_[i].cpu = spec_.cpus[i];
      GenThread* out = &threads_[i];
      if (int err = running[i].Start([this, per_thread, out] { GenLoop(spec_, per_thread, out); }, true)) {
        g_gen_stop = true;
        return Fail(err, "starting a generator thread");
      }
    }
    for (auto& t : running) t.Join();
    wall_ns_ = MonoNs() - t0;
    for (const auto& t : threads_)
      if (t.err) return Fail(t.err, t.what);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("wallNs", Napi::Number::New(env, static_cast<double>(wall_ns_)));
    Napi::Array threads = Napi::Array::New(env, threads_.size());
    for (size_t i = 0; i < threads_.size(); i++) {
      Napi::Object t = Napi::Object::New(env);
      t.Set("cpu", threads_[i].cpu);
      t.Set("packets", Napi::Number::New(env, static_cast<double>(threads_[i].packets)));
      t.Set("calls", Napi::Number::New(env, static_cast<double>(threads_[i].calls)));
      t.Set("wallNs", Napi::Number::New(env, static_cast<double>(threads_[i].wall_ns)));
      threads.Set(i, t);
    }
    out.Set("threads", threads);
    return out;
  }

 private:
  GenSpec spec_;
  std::vector<GenThread> threads_;
  uint64_t wall_ns_ = 0;
};

bool ReadGenSpec(Napi::Object o, GenSpec* s, std::string* err) {
  double fd = 0, pps = 0, ms = 0, batch = 64, chunk = 8192;
  if (!OptNumber(o, "progFd", 0, 1 << 30, &fd, true, err, true) ||
      !OptNumber(o, "pps", 0, 1e9, &pps, false, err, false) ||
      !OptNumber(o, "durationMs", 1, 3.6e6, &ms, true, err, true) ||
      !OptNumber(o, "batchSize", 1, 256, &batch, false, err, true) ||
      !OptNumber(o, "chunk", 1, 1 << 24, &chunk, false, err, true))
    return false;
  s->prog_fd = static_cast<int>(fd);
  s->pps = pps;
  s->duration_ns = static_cast<uint64_t>(ms * 1e6);
  s->batch = static_cast<uint32_t>(batch);
  s->chunk = static_cast<uint32_t>(chunk);
  Napi::Value netns = o.Get("netns"), ifname = o.Get("ifname"), frame = o.Get("frame"), cpus = o.Get("cpus");
  if (!netns.IsString() || !ifname.IsString()) return (*err = "netns and ifname must be strings"), false;
  s->netns = netns.As<Napi::String>().Utf8Value();
  s->ifname = ifname.As<Napi::String>().Utf8Value();
  if (!frame.IsBuffer() || frame.As<Napi::Buffer<uint8_t>>().Length() < 42)
    return (*err = "frame must be a Buffer of at least 42 bytes"), false;
  auto b = frame.As<Napi::Buffer<uint8_t>>();
  s->frame.assign(b.Data(), b.Data() + b.Length());
  if (!cpus.IsArray() || cpus.As<Napi::Array>().Length() == 0) return (*err = "cpus must be a non-empty array"), false;
  Napi::Array ca = cpus.As<Napi::Array>();
  for (uint32_t i = 0; i < ca.Length(); i++) {
    Napi::Value c = ca.Get(i);
    if (!c.IsNumber() || c.As<Napi::Number>().Int32Value() < 0 || c.As<Napi::Number>().Int32Value() >= CPU_SETSIZE)
      return (*err = "cpus must hold CPU numbers"), false;
    s->cpus.push_back(c.As<Napi::Number>().Int32Value());
  }
  return true;
}

Napi::Value GenRunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return TypeErr(env, "genRunAsync: spec must be an object");
  GenSpec spec;
  std::string err;
  if (!ReadGenSpec(info[0].As<Napi::Object>(), &spec, &err)) return TypeErr(env, "genRunAsync: " + err);
  auto* worker = new GenWorker(env, std::move(spec));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value GenStop(const Napi::CallbackInfo& info) {
  g_gen_stop = true;
  return info.Env().Undefined();
}

}  // namespace

void RegisterPktgenFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("genRunAsync", Napi::Function::New(env, GenRunAsync, "genRunAsync"));
  exports.Set("genStop", Napi::Function::New(env, GenStop, "genStop"));
}

}  // namespace ebp
