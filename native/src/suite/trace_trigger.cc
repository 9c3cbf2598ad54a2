// The tracing suite's trigger: one persistent thread, pinned with sched_setaffinity to the CPU asked for,
// runs the loops: "syscall" calls syscall(__NR_getpgid, 0) (tracepoint syscalls/sys_enter_getpgid, raw
// tracepoint sys_enter, kprobe/fentry on the syscall function); "uprobe" calls one of the
// ebpfperf_trace_target_N() below (uprobe/uretprobe on this addon's own code). Its tid is known before a
// loop starts, so programs can count the trigger's events apart from everyone else's. triggerRun is
// asynchronous (the JS thread stays free for signals and progress): a libuv worker hands the job to the
// pinned thread and waits for it.
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "core/errno_text.h"
#include "core/js_args.h"
#include "core/js_errors.h"
#include "core/js_worker.h"
#include "core/proc.h"
#include "core/threads.h"
#include "suite/tracing.h"

// The uprobe triggers: functions of this addon that nothing else calls (doctor's probes use
// ebpfperf_uprobe_marker in probe/attach_probe.cc, so a probe run by another process cannot land on these).
// Number 0 is the twin that is never probed (the baseline: the same call without a program); 1..kTraceTargets
// each take one configuration's uprobe, so every configuration stays attached for the whole run (detaching a
// uprobe takes ~100 ms) and a sample only chooses which function the loop calls. The constants differ so that
// the compiler cannot fold the copies into one function.
#define EBP_TRACE_TARGET(n)                                                                                          \
  extern "C" __attribute__((noinline, used, visibility("default"))) uint64_t ebpfperf_trace_target_##n(uint64_t x) { \
    __asm__ __volatile__("" : "+r"(x) : : "memory");                                                                 \
    return x + (n) + 1;                                                                                              \
  }
// clang-format off
EBP_TRACE_TARGET(0)
EBP_TRACE_TARGET(1)
EBP_TRACE_TARGET(2)
EBP_TRACE_TARGET(3)
EBP_TRACE_TARGET(4)
EBP_TRACE_TARGET(5)
EBP_TRACE_TARGET(6)
EBP_TRACE_TARGET(7)
EBP_TRACE_TARGET(8)
EBP_TRACE_TARGET(9)
EBP_TRACE_TARGET(10)
EBP_TRACE_TARGET(11)
EBP_TRACE_TARGET(12)
EBP_TRACE_TARGET(13)
EBP_TRACE_TARGET(14)
EBP_TRACE_TARGET(15)
EBP_TRACE_TARGET(16)
EBP_TRACE_TARGET(17)
EBP_TRACE_TARGET(18)
EBP_TRACE_TARGET(19)
EBP_TRACE_TARGET(20)
EBP_TRACE_TARGET(21)
EBP_TRACE_TARGET(22)
EBP_TRACE_TARGET(23)
EBP_TRACE_TARGET(24)
EBP_TRACE_TARGET(25)
EBP_TRACE_TARGET(26)
EBP_TRACE_TARGET(27)
EBP_TRACE_TARGET(28)
EBP_TRACE_TARGET(29)
EBP_TRACE_TARGET(30)
EBP_TRACE_TARGET(31)
EBP_TRACE_TARGET(32)
// clang-format on

namespace {
using TraceTarget = uint64_t (*)(uint64_t);
TraceTarget const kTargets[] = {
    ebpfperf_trace_target_0,  ebpfperf_trace_target_1,  ebpfperf_trace_target_2,  ebpfperf_trace_target_3,
    ebpfperf_trace_target_4,  ebpfperf_trace_target_5,  ebpfperf_trace_target_6,  ebpfperf_trace_target_7,
    ebpfperf_trace_target_8,  ebpfperf_trace_target_9,  ebpfperf_trace_target_10, ebpfperf_trace_target_11,
    ebpfperf_trace_target_12, ebpfperf_trace_target_13, ebpfperf_trace_target_14, ebpfperf_trace_target_15,
    ebpfperf_trace_target_16, ebpfperf_trace_target_17, ebpfperf_trace_target_18, ebpfperf_trace_target_19,
    ebpfperf_trace_target_20, ebpfperf_trace_target_21, ebpfperf_trace_target_22, ebpfperf_trace_target_23,
    ebpfperf_trace_target_24, ebpfperf_trace_target_25, ebpfperf_trace_target_26, ebpfperf_trace_target_27,
    ebpfperf_trace_target_28, ebpfperf_trace_target_29, ebpfperf_trace_target_30, ebpfperf_trace_target_31,
    ebpfperf_trace_target_32,
};
constexpr uint32_t kTraceTargets = sizeof(kTargets) / sizeof(kTargets[0]) - 1;
}  // namespace

namespace ebp {
namespace {

enum class TriggerKind { Syscall, Uprobe };

struct TriggerJob {
  TriggerKind kind = TriggerKind::Syscall;
  uint64_t count = 0;
  uint32_t chunks = 1;
  uint32_t target = 0;  // uprobe: which trigger function (0: the unprobed twin)
  std::vector<uint64_t> chunk_ns;
  uint64_t sink = 0;
  long involuntary = 0;  // context switches the trigger thread suffered (someone else ran on its CPU)
  long voluntary = 0;
  int cpu_before = -1;
  int cpu_after = -1;
  bool done = false;
};

class TriggerThread {
 public:
  // Starts the thread pinned to `cpu`; returns 0 or errno (pthread_create's or sched_setaffinity's).
  int Start(int cpu, bool realtime) {
    std::unique_lock<std::mutex> lock(mu_);
    cpu_ = cpu;
    realtime_ = realtime;
    rt_err_ = 0;
    ready_ = false;
    if (int err = thread_.Start([this] { Main(); })) return err;
    cv_.wait(lock, [this] { return ready_; });
    if (pin_err_) {
      stop_ = true;
      cv_.notify_all();
      lock.unlock();
      thread_.Join();
      stop_ = false;
      return pin_err_;
    }
    return 0;
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!thread_.Running()) return;
      stop_ = true;
    }
    cv_.notify_all();
    thread_.Join();
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }

  // Runs a job on the pinned thread and waits for it (called from a libuv worker).
  void Run(TriggerJob* job) {
    std::unique_lock<std::mutex> lock(mu_);
    job_ = job;
    cv_.notify_all();
    cv_.wait(lock, [job] { return job->done; });
  }

  bool running() const { return thread_.Running(); }
  pid_t tid() const { return tid_; }
  int cpu() const { return cpu_; }
  bool realtime() const { return realtime_ && rt_err_ == 0; }
  int rt_err() const { return rt_err_; }

 private:
  void Main() {
    int err = PinThisThread(cpu_);
    if (!err && realtime_) {
      // SCHED_FIFO priority 1: other tasks on this CPU wait while a loop runs (the thread sleeps between jobs;
      // the kernel's RT throttling still leaves them 5% of every second)
      struct sched_param sp;
      std::memset(&sp, 0, sizeof(sp));
      sp.sched_priority = 1;
      if (sched_setscheduler(0, SCHED_FIFO, &sp)) rt_err_ = errno;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      tid_ = static_cast<pid_t>(syscall(SYS_gettid));
      pin_err_ = err;
      ready_ = true;
    }
    cv_.notify_all();
    if (err) return;
    for (;;) {
      TriggerJob* job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || job_ != nullptr; });
        if (stop_) return;
        job = job_;
        job_ = nullptr;
      }
      Execute(job);
      {
        std::lock_guard<std::mutex> lock(mu_);
        job->done = true;
      }
      cv_.notify_all();
    }
  }

  static void Execute(TriggerJob* job) {
    const uint32_t chunks = job->chunks ? job->chunks : 1;
    const uint64_t per = job->count / chunks;
    job->chunk_ns.assign(chunks, 0);
    struct rusage r0, r1;
    getrusage(RUSAGE_THREAD, &r0);
    job->cpu_before = sched_getcpu();
    uint64_t sink = 0;
    for (uint32_t c = 0; c < chunks; c++) {
      const uint64_t t0 = MonoNs();
      if (job->kind == TriggerKind::Syscall) {
        for (uint64_t i = 0; i < per; i++) sink += static_cast<uint64_t>(syscall(__NR_getpgid, 0));
      } else {
        TraceTarget fn = kTargets[job->target];
        for (uint64_t i = 0; i < per; i++) sink += fn(i);
      }
      job->chunk_ns[c] = MonoNs() - t0;
    }
    job->cpu_after = sched_getcpu();
    getrusage(RUSAGE_THREAD, &r1);
    job->involuntary = r1.ru_nivcsw - r0.ru_nivcsw;
    job->voluntary = r1.ru_nvcsw - r0.ru_nvcsw;
    job->sink = sink;
  }

  Thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  TriggerJob* job_ = nullptr;
  bool stop_ = false;
  bool ready_ = false;
  int pin_err_ = 0;
  int cpu_ = 0;
  bool realtime_ = false;
  int rt_err_ = 0;
  pid_t tid_ = 0;
};

// Never destroyed (a static destructor would join a thread that may still wait for work); the environment's
// cleanup hook stops it.
TriggerThread* g_trigger = new TriggerThread();
std::mutex g_trigger_mutex;

// triggerStart(cpu, realtime) → {tid, cpu, realtime, realtimeError?}: (re)starts the trigger thread pinned to
// cpu, SCHED_FIFO when realtime (a refusal is reported, not thrown: the loops then run at normal priority).
Napi::Value TriggerStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double cpu;
  if (!ArgNumber(info, 0, "cpu", &cpu)) return env.Undefined();
  if (cpu < 0 || cpu >= CPU_SETSIZE || cpu != static_cast<int>(cpu)) {
    Napi::TypeError::New(env, "cpu must be a CPU number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const bool realtime = info.Length() > 1 && info[1].ToBoolean().Value();
  std::lock_guard<std::mutex> lock(g_trigger_mutex);
  g_trigger->Stop();
  if (int err = g_trigger->Start(static_cast<int>(cpu), realtime)) {
    ThrowErrno(env, err,
               "pinning the trigger thread to CPU " + std::to_string(static_cast<int>(cpu)) + " (sched_setaffinity)");
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("tid", static_cast<double>(g_trigger->tid()));
  o.Set("cpu", static_cast<double>(g_trigger->cpu()));
  o.Set("realtime", g_trigger->realtime());
  if (g_trigger->rt_err()) o.Set("realtimeError", ErrnoCode(g_trigger->rt_err()));
  return o;
}

Napi::Value TriggerStop(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(g_trigger_mutex);
  g_trigger->Stop();
  return info.Env().Undefined();
}

class TriggerWorker : public PromiseWorker {
 public:
  TriggerWorker(Napi::Env env, TriggerJob job) : PromiseWorker(env), job_(std::move(job)) {}
  void Execute() override {
    std::lock_guard<std::mutex> lock(g_trigger_mutex);
    if (!g_trigger->running()) {
      SetError("the trigger thread is not running (call triggerStart first)");
      return;
    }
    g_trigger->Run(&job_);
  }

 protected:
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    Napi::Array ns = Napi::Array::New(env, job_.chunk_ns.size());
    for (size_t i = 0; i < job_.chunk_ns.size(); i++)
      ns.Set(static_cast<uint32_t>(i), static_cast<double>(job_.chunk_ns[i]));
    o.Set("chunkNs", ns);
    o.Set("perChunk", static_cast<double>(job_.count / (job_.chunks ? job_.chunks : 1)));
    o.Set("involuntary", static_cast<double>(job_.involuntary));
    o.Set("voluntary", static_cast<double>(job_.voluntary));
    o.Set("cpuBefore", static_cast<double>(job_.cpu_before));
    o.Set("cpuAfter", static_cast<double>(job_.cpu_after));
    return o;
  }

 private:
  TriggerJob job_;
};

// triggerRun(kind: 'syscall' | 'uprobe', count, chunks, target = 0) → Promise<{chunkNs[], perChunk, involuntary,
// voluntary, cpuBefore, cpuAfter}>: count triggers in `chunks` timed chunks of count/chunks each.
Napi::Value TriggerRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string kind;
  double count, chunks;
  if (!ArgString(info, 0, "kind", &kind) || !ArgNumber(info, 1, "count", &count) ||
      !ArgNumber(info, 2, "chunks", &chunks))
    return env.Undefined();
  if (kind != "syscall" && kind != "uprobe") {
    Napi::TypeError::New(env, "trigger kind must be 'syscall' or 'uprobe'").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (count < 1 || chunks < 1 || chunks > count || count > 1e10) {
    Napi::TypeError::New(env, "count must be ≥ chunks ≥ 1").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  TriggerJob job;
  job.kind = kind == "syscall" ? TriggerKind::Syscall : TriggerKind::Uprobe;
  job.count = static_cast<uint64_t>(count);
  job.chunks = static_cast<uint32_t>(chunks);
  double target = 0;
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    if (!ArgNumber(info, 3, "target", &target)) return env.Undefined();
    if (target < 0 || target > kTraceTargets || target != static_cast<uint32_t>(target)) {
      Napi::TypeError::New(env, "target must be 0.." + std::to_string(kTraceTargets)).ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  job.target = static_cast<uint32_t>(target);
  auto* w = new TriggerWorker(env, std::move(job));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// triggerTarget(index = 1) → {path, offset, symbol, count}: where uprobe trigger function `index` lives in this
// process (0 is the unprobed twin; count is the number of probe targets, 1..count).
Napi::Value TriggerTarget(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path, why;
  uint64_t offset = 0;
  double index = 1;
  if (info.Length() > 0 && !info[0].IsUndefined() && !ArgNumber(info, 0, "index", &index)) return env.Undefined();
  if (index < 0 || index > kTraceTargets || index != static_cast<uint32_t>(index)) {
    Napi::TypeError::New(env, "index must be 0.." + std::to_string(kTraceTargets)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (int err = ResolveTriggerTarget(static_cast<uint32_t>(index), &path, &offset, &why)) {
    ThrowErrno(env, err, "locating the uprobe trigger function: " + why);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", path);
  o.Set("offset", static_cast<double>(offset));
  o.Set("symbol", "ebpfperf_trace_target_" + std::to_string(static_cast<uint32_t>(index)));
  o.Set("count", static_cast<double>(kTraceTargets));
  return o;
}

}  // namespace

// When the addon file was replaced after it was loaded (a rebuild), the mapping's /proc/self/map_files
// entry still names the old inode, which is the code this process runs.
int ResolveTriggerTarget(uint32_t index, std::string* path, uint64_t* offset, std::string* why) {
  return ResolveCodeAddress(reinterpret_cast<uintptr_t>(kTargets[index]), path, offset, why);
}

void StopTrigger() {
  std::lock_guard<std::mutex> lock(g_trigger_mutex);
  g_trigger->Stop();
}

void RegisterTriggerFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("triggerStart", Napi::Function::New(env, TriggerStart, "triggerStart"));
  exports.Set("triggerRun", Napi::Function::New(env, TriggerRun, "triggerRun"));
  exports.Set("triggerStop", Napi::Function::New(env, TriggerStop, "triggerStop"));
  exports.Set("triggerTarget", Napi::Function::New(env, TriggerTarget, "triggerTarget"));
}

}  // namespace ebp
