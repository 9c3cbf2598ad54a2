// The tracing suite's native side: programs attached by type, a pinned trigger thread, a ring-buffer consumer.
//
// Attachments: traceLoad(path, program, kind, btfTarget?) opens an object with libbpf, loads only that program
// (after checking that its type fits the attach kind), and keeps it under a handle; traceAttach(handle, target)
// attaches it with libbpf's bpf_program__attach_* (one link per handle), traceDetach destroys the link,
// traceClose frees everything, traceCloseAll frees every handle (error and signal paths).
//
// Triggers: one persistent thread, pinned with sched_setaffinity to the CPU asked for, runs the loops:
// "syscall" calls syscall(__NR_getpgid, 0) (tracepoint syscalls/sys_enter_getpgid, raw tracepoint sys_enter,
// kprobe/fentry on the syscall function); "uprobe" calls one of the ebpfperf_trace_target_N() below (uprobe/uretprobe on
// this addon's own code). Its tid is known before a loop starts, so programs can count the trigger's events
// apart from everyone else's. triggerRun is asynchronous (the JS thread stays free for signals and progress):
// a libuv worker hands the job to the pinned thread and waits for it.
//
// Ring consumer: a thread that polls a BPF ring buffer of struct trc_event and filters by tgid in user space.
#include "trace.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "args.h"
#include "common.h"
#include "object.h"
#include "worker.h"

// The uprobe triggers: functions of this addon that nothing else calls (doctor's probes use
// ebpfperf_uprobe_marker in attach.cc, so a probe run by another process cannot land on these). Number 0 is the
// twin that is never probed (the baseline: the same call without a program); 1..kTraceTargets each take one
// configuration's uprobe, so every configuration stays attached for the whole run (detaching a uprobe takes
// ~100 ms) and a sample only chooses which function the loop calls. The constants differ so that the compiler
// cannot fold the copies into one function.
#define EBP_TRACE_TARGET(n)                                                                                        \
  extern "C" __attribute__((noinline, used, visibility("default"))) uint64_t ebpfperf_trace_target_##n(uint64_t x) { \
    __asm__ __volatile__("" : "+r"(x) : : "memory");                                                               \
    return x + (n) + 1;                                                                                            \
  }
EBP_TRACE_TARGET(0) EBP_TRACE_TARGET(1) EBP_TRACE_TARGET(2) EBP_TRACE_TARGET(3) EBP_TRACE_TARGET(4) EBP_TRACE_TARGET(5)
EBP_TRACE_TARGET(6) EBP_TRACE_TARGET(7) EBP_TRACE_TARGET(8) EBP_TRACE_TARGET(9) EBP_TRACE_TARGET(10) EBP_TRACE_TARGET(11)
EBP_TRACE_TARGET(12) EBP_TRACE_TARGET(13) EBP_TRACE_TARGET(14) EBP_TRACE_TARGET(15) EBP_TRACE_TARGET(16)
EBP_TRACE_TARGET(17) EBP_TRACE_TARGET(18) EBP_TRACE_TARGET(19) EBP_TRACE_TARGET(20) EBP_TRACE_TARGET(21)
EBP_TRACE_TARGET(22) EBP_TRACE_TARGET(23) EBP_TRACE_TARGET(24) EBP_TRACE_TARGET(25) EBP_TRACE_TARGET(26)
EBP_TRACE_TARGET(27) EBP_TRACE_TARGET(28) EBP_TRACE_TARGET(29) EBP_TRACE_TARGET(30) EBP_TRACE_TARGET(31)
EBP_TRACE_TARGET(32)

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

// ---------------------------------------------------------------------------------------------- helpers

uint64_t ThreadCpuNs() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string LastLogLine() {
  std::string log = LibbpfLog();
  while (!log.empty() && (log.back() == '\n' || log.back() == ' ')) log.pop_back();
  size_t nl = log.rfind('\n');
  return nl == std::string::npos ? log : log.substr(nl + 1);
}

// ---------------------------------------------------------------------------------------------- kinds

enum class Kind { Tracepoint, RawTp, Kprobe, Kretprobe, KprobeMulti, Fentry, Fexit, Uprobe, Uretprobe };

struct KindInfo {
  const char* name;
  Kind kind;
  bpf_prog_type prog_type;
  int expected_attach;  // -1: any other than the special ones below
  const char* section;  // what to write in SEC() for it
};

const KindInfo kKinds[] = {
    {"tracepoint", Kind::Tracepoint, BPF_PROG_TYPE_TRACEPOINT, -1, "tracepoint or tp/CATEGORY/NAME"},
    {"raw_tracepoint", Kind::RawTp, BPF_PROG_TYPE_RAW_TRACEPOINT, -1, "raw_tp or raw_tracepoint/NAME"},
    {"kprobe", Kind::Kprobe, BPF_PROG_TYPE_KPROBE, -1, "kprobe or kprobe/FUNC"},
    {"kretprobe", Kind::Kretprobe, BPF_PROG_TYPE_KPROBE, -1, "kretprobe or kretprobe/FUNC"},
    {"kprobe.multi", Kind::KprobeMulti, BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, "kprobe.multi"},
    {"fentry", Kind::Fentry, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "fentry or fentry/FUNC"},
    {"fexit", Kind::Fexit, BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, "fexit or fexit/FUNC"},
    {"uprobe", Kind::Uprobe, BPF_PROG_TYPE_KPROBE, -1, "uprobe or uprobe/PATH:FUNC"},
    {"uretprobe", Kind::Uretprobe, BPF_PROG_TYPE_KPROBE, -1, "uretprobe or uretprobe/PATH:FUNC"},
};

const KindInfo* FindKind(const std::string& name) {
  for (const auto& k : kKinds)
    if (name == k.name) return &k;
  return nullptr;
}

bool TypeFits(const KindInfo& k, bpf_prog_type type, bpf_attach_type expected) {
  if (type != k.prog_type) return false;
  if (k.expected_attach >= 0) return static_cast<int>(expected) == k.expected_attach;
  // plain kprobe/uprobe programs must not be kprobe.multi ones
  if (k.prog_type == BPF_PROG_TYPE_KPROBE) return expected != BPF_TRACE_KPROBE_MULTI;
  return true;
}

// ---------------------------------------------------------------------------------------------- uprobe target

// File and file offset of trigger function `index` in this process (file offset = addr - start + pgoff). When
// the addon file was replaced after it was loaded (a rebuild), the mapping's /proc/self/map_files entry still
// names the old inode, which is the code this process runs.
int ResolveSelfTarget(uint32_t index, std::string* path, uint64_t* offset, std::string* why) {
  return ResolveCodeAddress(reinterpret_cast<uintptr_t>(kTargets[index]), path, offset, why);
}

// ---------------------------------------------------------------------------------------------- attachments

struct Attachment {
  bpf_object* obj = nullptr;
  bpf_program* prog = nullptr;
  const KindInfo* kind = nullptr;
  bpf_link* link = nullptr;
  std::string path;
  std::string program;
};

HandleTable<Attachment> g_att("handle", "unknown or closed trace handle");

Attachment* FindAttachment(const Napi::CallbackInfo& info, uint32_t* handle) { return g_att.Find(info, 0, handle); }

void FreeAttachment(Attachment* a) {
  if (a->link) bpf_link__destroy(a->link);
  a->link = nullptr;
  if (a->obj) bpf_object__close(a->obj);
  a->obj = nullptr;
}

Napi::Error ErrorWith(Napi::Env env, int err, const std::string& what, const char* flag) {
  Napi::Error e = MakeErrno(env, err, what);
  if (flag) e.Set(flag, Napi::Boolean::New(env, true));
  return e;
}

// traceLoad(path, program, kind, btfTarget?) → {handle, progFd, progId, progType, maps: [{name, fd, type, valueSize}]}
// Errors carry `errno`/`code`, and one of: badObject (not a BPF object), missingProgram, typeMismatch,
// missingTarget (fentry/fexit target not in BTF), verifierLog (rejected load).
Napi::Value TraceLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path, program, kind_name, btf_target;
  if (!ArgString(info, 0, "path", &path) || !ArgString(info, 1, "program", &program) || !ArgString(info, 2, "kind", &kind_name) ||
      !ArgString(info, 3, "btfTarget", &btf_target, true))
    return env.Undefined();
  const KindInfo* kind = FindKind(kind_name);
  if (!kind) {
    Napi::TypeError::New(env, "unknown attach kind '" + kind_name + "'").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ClearLibbpfLog();
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  if (int err = static_cast<int>(libbpf_get_error(obj))) {
    std::string log = LastLogLine();
    ErrorWith(env, -err, path + ": cannot open as a BPF object" + (log.empty() ? "" : " (" + log + ")"), "badObject").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bpf_program* prog = bpf_object__find_program_by_name(obj, program.c_str());
  if (!prog) {
    std::string names;
    bpf_program* p;
    bpf_object__for_each_program(p, obj) names += (names.empty() ? "" : ", ") + std::string(bpf_program__name(p));
    bpf_object__close(obj);
    ErrorWith(env, ENOENT, path + " has no program named " + program + " (it has: " + (names.empty() ? "none" : names) + ")", "missingProgram")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const bpf_prog_type type = bpf_program__type(prog);
  const bpf_attach_type expected = bpf_program__expected_attach_type(prog);
  if (!TypeFits(*kind, type, expected)) {
    std::string have = ProgTypeName(type);
    if (type == BPF_PROG_TYPE_KPROBE && expected == BPF_TRACE_KPROBE_MULTI) have += " (kprobe.multi)";
    if (type == BPF_PROG_TYPE_TRACING) have += " (" + AttachTypeName(expected) + ")";
    std::string section = bpf_program__section_name(prog);
    bpf_object__close(obj);
    ErrorWith(env, EINVAL,
              "program " + program + " in " + path + " is " + have + " (SEC(\"" + section + "\")), which cannot attach as " + kind->name +
                  ": a " + kind->name + " program needs SEC(\"" + kind->section + "\")",
              "typeMismatch")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bpf_program* p;
  bpf_object__for_each_program(p, obj) bpf_program__set_autoload(p, p == prog);
  if (kind->kind == Kind::Fentry || kind->kind == Kind::Fexit) {
    if (btf_target.empty()) {
      bpf_object__close(obj);
      ErrorWith(env, EINVAL, std::string(kind->name) + " needs a kernel function to attach to", "missingTarget").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (int err = bpf_program__set_attach_target(prog, 0, btf_target.c_str())) {
      bpf_object__close(obj);
      ErrorWith(env, -err, "setting the " + std::string(kind->name) + " target " + btf_target, "missingTarget").ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  ClearLibbpfLog();
  if (int err = bpf_object__load(obj)) {
    std::string log = LibbpfLog();
    bpf_object__close(obj);
    const bool no_target = (err == -ESRCH || err == -ENOENT) && !btf_target.empty() && log.find(btf_target) != std::string::npos;
    Napi::Error e = ErrorWith(env, -err, "loading " + program + " from " + path + " as " + kind->name + " failed", no_target ? "missingTarget" : nullptr);
    e.Set("verifierLog", LastLines(log, 12));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  Napi::Array maps = Napi::Array::New(env);
  uint32_t i = 0;
  bpf_map* m;
  bpf_object__for_each_map(m, obj) {
    Napi::Object mo = Napi::Object::New(env);
    mo.Set("name", bpf_map__name(m));
    mo.Set("fd", static_cast<double>(bpf_map__fd(m)));
    mo.Set("type", static_cast<double>(bpf_map__type(m)));
    mo.Set("valueSize", static_cast<double>(bpf_map__value_size(m)));
    maps.Set(i++, mo);
  }
  bpf_prog_info pi;
  GetProgInfo(bpf_program__fd(prog), &pi);  // on failure pi stays zeroed: progId 0 means "unknown"
  Attachment a;
  a.obj = obj;
  a.prog = prog;
  a.kind = kind;
  a.path = path;
  a.program = program;
  const uint32_t handle = g_att.Add(std::move(a));
  out.Set("handle", static_cast<double>(handle));
  out.Set("progFd", static_cast<double>(bpf_program__fd(prog)));
  out.Set("progId", static_cast<double>(pi.id));
  out.Set("progType", static_cast<double>(type));
  out.Set("maps", maps);
  return out;
}

// traceAttach(handle, target): target by kind — tracepoint "category/name"; raw_tracepoint "name";
// kprobe/kretprobe "function"; kprobe.multi "pattern"; fentry/fexit "" (set at load); uprobe/uretprobe
// "" (this addon's trigger function), "PATH:OFFSET" (file offset, decimal or 0x) or "PATH:SYMBOL".
// Returns a description of what was attached. Errors carry errno/code and `attachFailed`.
Napi::Value TraceAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t handle;
  Attachment* a = FindAttachment(info, &handle);
  if (!a) return env.Undefined();
  std::string target;
  if (!ArgString(info, 1, "target", &target, true)) return env.Undefined();
  if (a->link) {
    ErrorWith(env, EBUSY, a->program + " is already attached", "attachFailed").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ClearLibbpfLog();
  errno = 0;
  bpf_link* link = nullptr;
  std::string described = target;
  switch (a->kind->kind) {
    case Kind::Tracepoint: {
      size_t slash = target.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == target.size()) {
        ErrorWith(env, EINVAL, "tracepoint target must be CATEGORY/NAME, got '" + target + "'", "badTarget").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      link = bpf_program__attach_tracepoint(a->prog, target.substr(0, slash).c_str(), target.substr(slash + 1).c_str());
      break;
    }
    case Kind::RawTp:
      link = bpf_program__attach_raw_tracepoint(a->prog, target.c_str());
      break;
    case Kind::Kprobe:
    case Kind::Kretprobe:
      link = bpf_program__attach_kprobe(a->prog, a->kind->kind == Kind::Kretprobe, target.c_str());
      break;
    case Kind::KprobeMulti: {
      auto opts = MakeOpts<bpf_kprobe_multi_opts>();
      link = bpf_program__attach_kprobe_multi_opts(a->prog, target.c_str(), &opts);
      break;
    }
    case Kind::Fentry:
    case Kind::Fexit:
      link = bpf_program__attach_trace(a->prog);
      break;
    case Kind::Uprobe:
    case Kind::Uretprobe: {
      std::string path;
      uint64_t offset = 0;
      std::string func;
      if (target.empty()) {
        std::string why;
        if (int err = ResolveSelfTarget(1, &path, &offset, &why)) {
          ErrorWith(env, err, "locating the uprobe trigger function: " + why, "attachFailed").ThrowAsJavaScriptException();
          return env.Undefined();
        }
      } else {
        size_t colon = target.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == target.size()) {
          ErrorWith(env, EINVAL, "uprobe target must be PATH:SYMBOL or PATH:OFFSET, got '" + target + "'", "badTarget").ThrowAsJavaScriptException();
          return env.Undefined();
        }
        path = target.substr(0, colon);
        std::string rest = target.substr(colon + 1);
        char* end = nullptr;
        errno = 0;
        unsigned long long off = strtoull(rest.c_str(), &end, 0);
        if (!errno && end && *end == '\0' && rest[0] >= '0' && rest[0] <= '9')
          offset = off;
        else
          func = rest;
        if (access(path.c_str(), R_OK) != 0) {
          int err = errno;
          ErrorWith(env, err, "uprobe binary " + path + " cannot be read", "badTarget").ThrowAsJavaScriptException();
          return env.Undefined();
        }
      }
      auto opts = MakeOpts<bpf_uprobe_opts>();
      opts.retprobe = a->kind->kind == Kind::Uretprobe;
      opts.func_name = func.empty() ? nullptr : func.c_str();
      char buf[48];
      snprintf(buf, sizeof(buf), "0x%" PRIx64, offset);
      described = path + ":" + (func.empty() ? std::string(buf) : func);
      ClearLibbpfLog();
      link = bpf_program__attach_uprobe_opts(a->prog, -1, path.c_str(), func.empty() ? offset : 0, &opts);
      break;
    }
  }
  if (!link) {
    int err = errno ? errno : EINVAL;
    std::string log = LastLogLine();
    ErrorWith(env, err, "attaching " + a->program + " as " + a->kind->name + " to " + (described.empty() ? "(no target)" : described) + (log.empty() ? "" : " [" + log + "]"),
              "attachFailed")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  a->link = link;
  return Napi::String::New(env, described);
}

Napi::Value TraceDetach(const Napi::CallbackInfo& info) {
  uint32_t handle;
  Attachment* a = FindAttachment(info, &handle);
  if (!a) return info.Env().Undefined();
  bool had = a->link != nullptr;
  if (a->link) bpf_link__destroy(a->link);
  a->link = nullptr;
  return Napi::Boolean::New(info.Env(), had);
}

Napi::Value TraceClose(const Napi::CallbackInfo& info) {
  uint32_t handle;
  Attachment* a = FindAttachment(info, &handle);
  if (!a) return info.Env().Undefined();
  FreeAttachment(a);
  g_att.Erase(handle);
  return info.Env().Undefined();
}

size_t CloseAllAttachments() {
  return g_att.ForEach([](uint32_t, Attachment& a) { FreeAttachment(&a); }, true);
}

Napi::Value TraceCloseAll(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(CloseAllAttachments())); }

// traceOpenHandles() → [{handle, program, kind, attached}]
Napi::Value TraceOpenHandles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  g_att.ForEach([&](uint32_t h, Attachment& a) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("handle", static_cast<double>(h));
    o.Set("program", a.program);
    o.Set("kind", a.kind->name);
    o.Set("attached", a.link != nullptr);
    out.Set(i++, o);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------- trigger thread

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
    ThrowErrno(env, err, "pinning the trigger thread to CPU " + std::to_string(static_cast<int>(cpu)) + " (sched_setaffinity)");
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
    for (size_t i = 0; i < job_.chunk_ns.size(); i++) ns.Set(static_cast<uint32_t>(i), static_cast<double>(job_.chunk_ns[i]));
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

// triggerRun(kind: 'syscall' | 'uprobe', count, chunks, target = 0) → Promise<{chunkNs[], perChunk, involuntary, voluntary,
// cpuBefore, cpuAfter}>: count triggers in `chunks` timed chunks of count/chunks each.
Napi::Value TriggerRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string kind;
  double count, chunks;
  if (!ArgString(info, 0, "kind", &kind) || !ArgNumber(info, 1, "count", &count) || !ArgNumber(info, 2, "chunks", &chunks)) return env.Undefined();
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
  if (int err = ResolveSelfTarget(static_cast<uint32_t>(index), &path, &offset, &why)) {
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

// ---------------------------------------------------------------------------------------------- ring consumer

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

void Cleanup(void*) {
  g_rings.ForEach(
      [](uint32_t, RingConsumer*& r) {
        StopRing(r);
        delete r;
      },
      true);
  {
    std::lock_guard<std::mutex> lock(g_trigger_mutex);
    g_trigger->Stop();
  }
  CloseAllAttachments();
}

}  // namespace

void RegisterTraceFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("traceLoad", Napi::Function::New(env, TraceLoad, "traceLoad"));
  exports.Set("traceAttach", Napi::Function::New(env, TraceAttach, "traceAttach"));
  exports.Set("traceDetach", Napi::Function::New(env, TraceDetach, "traceDetach"));
  exports.Set("traceClose", Napi::Function::New(env, TraceClose, "traceClose"));
  exports.Set("traceCloseAll", Napi::Function::New(env, TraceCloseAll, "traceCloseAll"));
  exports.Set("traceOpenHandles", Napi::Function::New(env, TraceOpenHandles, "traceOpenHandles"));
  exports.Set("triggerStart", Napi::Function::New(env, TriggerStart, "triggerStart"));
  exports.Set("triggerRun", Napi::Function::New(env, TriggerRun, "triggerRun"));
  exports.Set("triggerStop", Napi::Function::New(env, TriggerStop, "triggerStop"));
  exports.Set("triggerTarget", Napi::Function::New(env, TriggerTarget, "triggerTarget"));
  exports.Set("ringStart", Napi::Function::New(env, RingStart, "ringStart"));
  exports.Set("ringRead", Napi::Function::New(env, RingRead, "ringRead"));
  exports.Set("ringStop", Napi::Function::New(env, RingStop, "ringStop"));
  napi_add_env_cleanup_hook(env, Cleanup, nullptr);
}

}  // namespace ebp
