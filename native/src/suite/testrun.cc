// BPF_PROG_TEST_RUN runner for `ebpfperf suite micro`.
//
// testRunAsync(spec) runs one program on each requested CPU from a thread pinned there with
// sched_setaffinity, off the JS thread (Napi::AsyncWorker, resolved through a Promise):
//   - mode "repeat" (XDP, tc/skb, socket filter ...): `runs` bpf_prog_test_run_opts calls per sample with
//     `repeat` iterations each, every call timed by the kernel (opts.duration: integer ns per iteration,
//     kept per call in `runNs`) and the whole sample by CLOCK_MONOTONIC (wall ns). Short runs let the
//     caller leave out the few a neighbour on the host disturbed (runner.ts: the interquartile mean).
//     These program types do not take BPF_F_TEST_RUN_ON_CPU: the pinned thread puts the run on the CPU.
//   - XDP programs are held in the kernel's XDP dispatcher for the whole call (DispatcherHold): a test run
//     with repeat > 1 otherwise puts the program into the dispatcher and takes it out again around every
//     call, two image updates with a synchronize_rcu each (tens of ms of wall time here, per call), which made
//     short runs unaffordable. The hold is a generic-mode XDP link on the loopback device of a nameless
//     network namespace that only this process has open (made once, no name, no traffic: it goes with the
//     process; the link closes when the call returns). The timed loop runs the same dispatcher either way.
//     Without a hold (not permitted, or holdDispatcher: false) an XDP sample is one run, whatever `runs` says.
//   - mode "call" (raw tracepoint, which has BPF_F_TEST_RUN_ON_CPU but no repeat): `repeat` calls per
//     sample with BPF_F_TEST_RUN_ON_CPU and opts.cpu, timed by bpf_stats (run_time_ns / run_cnt), since
//     the syscall around each call costs far more than a small program.
// The repeat count is calibrated per CPU so that one sample takes about target_ns (unless fixed).
// Every sample carries the program's run_cnt delta: with bpf_stats off it stays 0, so a non-zero delta
// says someone had bpf_stats on during the sample (and the timing includes its clock reads).
// Stats "proof": after the samples, one more sample per CPU with bpf_stats enabled (BPF_ENABLE_STATS fd,
// closed right after) must raise run_cnt by exactly the iterations it asked for (repeat × runs) — proof
// that the program really ran. Stats "samples": bpf_stats on for every sample (run_cnt must grow by the
// iterations of all the samples).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/bpf_api.h"
#include "core/errno_text.h"
#include "core/fd.h"
#include "core/js_args.h"
#include "core/js_errors.h"
#include "core/js_worker.h"
#include "core/libbpf_log.h"
#include "core/threads.h"
#include "suite/suites.h"

namespace ebp {

namespace {

constexpr uint64_t kMaxRepeat = 0x7fffffff;  // opts.repeat is an int

enum class Mode { Repeat, Call };
enum class Stats { Off, Proof, Samples };

struct RunSpec {
  int prog_fd = -1;
  std::vector<uint8_t> data;
  std::vector<uint8_t> ctx;
  std::vector<int> cpus;
  uint32_t samples = 1;
  uint64_t repeat = 0;            // 0: calibrate
  uint64_t target_ns = 10000000;  // per sample (all its runs)
  uint32_t runs = 1;              // test runs per sample (1 in mode call)
  bool hold = true;               // XDP: hold the program in the dispatcher (see above)
  Mode mode = Mode::Repeat;
  Stats stats = Stats::Proof;
  bool concurrent = false;
  bool warmup = true;  // one uncounted run at the final repeat count before the samples
};

struct Sample {
  uint64_t repeat = 0;  // iterations over the whole sample (repeat per run × runs)
  uint64_t wall_ns = 0;
  double kernel_ns = 0;          // mode repeat: mean of opts.duration over the runs
  std::vector<uint32_t> run_ns;  // mode repeat: opts.duration of each run
  uint32_t retval = 0;
  bool retval_mixed = false;  // mode call: not every call returned the same value
  uint64_t run_cnt = 0;       // delta
  uint64_t run_time_ns = 0;   // delta
};

struct CpuReport {
  int cpu = 0;
  uint64_t repeat = 0;
  std::vector<Sample> calibration;
  std::vector<Sample> samples;
  bool has_proof = false;
  Sample proof;
};

struct Failure {
  int err = 0;
  std::string what;
};

bool ProgCounters(int fd, uint64_t* run_cnt, uint64_t* run_time_ns) {
  bpf_prog_info info;
  if (GetProgInfo(fd, &info)) return false;
  *run_cnt = info.run_cnt;
  *run_time_ns = info.run_time_ns;
  return true;
}

// One sample on the calling (pinned) thread: 0 or errno (with *what).
int RunOnce(const RunSpec& s, int cpu, uint64_t repeat, Sample* out, std::string* what) {
  uint64_t cnt0 = 0, time0 = 0, cnt1 = 0, time1 = 0;
  if (!ProgCounters(s.prog_fd, &cnt0, &time0)) {
    *what = "bpf_obj_get_info_by_fd";
    return errno;
  }
  auto opts = MakeOpts<bpf_test_run_opts>();
  if (!s.data.empty()) {
    opts.data_in = s.data.data();
    opts.data_size_in = static_cast<uint32_t>(s.data.size());
  }
  if (!s.ctx.empty()) {
    opts.ctx_in = s.ctx.data();
    opts.ctx_size_in = static_cast<uint32_t>(s.ctx.size());
  }
  out->repeat = repeat * s.runs;
  if (s.mode == Mode::Repeat) {
    const uint32_t runs = s.runs;
    out->run_ns.assign(runs, 0);
    opts.repeat = static_cast<int>(repeat);
    double sum = 0;
    uint64_t t0 = MonoNs();
    for (uint32_t r = 0; r < runs; r++) {
      opts.retval = 0;
      int rc = bpf_prog_test_run_opts(s.prog_fd, &opts);
      if (rc) {
        *what = "BPF_PROG_TEST_RUN (repeat " + std::to_string(repeat) + ") on CPU " + std::to_string(cpu);
        return errno ? errno : -rc;
      }
      out->run_ns[r] = opts.duration;
      sum += opts.duration;
      if (r == 0)
        out->retval = opts.retval;
      else if (opts.retval != out->retval)
        out->retval_mixed = true;
    }
    out->wall_ns = MonoNs() - t0;
    out->kernel_ns = sum / runs;
  } else {
    opts.flags = BPF_F_TEST_RUN_ON_CPU;
    opts.cpu = static_cast<uint32_t>(cpu);
    uint64_t t0 = MonoNs();
    for (uint64_t i = 0; i < repeat; i++) {
      opts.retval = 0;
      if (bpf_prog_test_run_opts(s.prog_fd, &opts)) {
        *what = "BPF_PROG_TEST_RUN (BPF_F_TEST_RUN_ON_CPU, cpu " + std::to_string(cpu) + ")";
        return errno;
      }
      if (i == 0)
        out->retval = opts.retval;
      else if (opts.retval != out->retval)
        out->retval_mixed = true;
    }
    out->wall_ns = MonoNs() - t0;
  }
  if (!ProgCounters(s.prog_fd, &cnt1, &time1)) {
    *what = "bpf_obj_get_info_by_fd";
    return errno;
  }
  out->run_cnt = cnt1 - cnt0;
  out->run_time_ns = time1 - time0;
  return 0;
}

// Time per iteration as the measurement sees it: the kernel's own timer in mode repeat (it leaves out
// the time the thread spends rescheduled between iterations, and the XDP dispatcher update that a test
// run with repeat > 1 does before and after the loop when the program is not held there), the wall
// clock per call in mode call.
double PerIteration(const RunSpec& s, const Sample& x) {
  if (s.mode == Mode::Repeat && x.kernel_ns > 0) return x.kernel_ns;
  return static_cast<double>(x.wall_ns) / static_cast<double>(std::max<uint64_t>(1, x.repeat));
}

// The private network namespace of the dispatcher holds: made once (unshare on a thread of its own, so
// no other thread changes namespace), kept by this fd for the life of the process, gone with it.
std::mutex g_hold_ns_mu;
Fd g_hold_ns;

}  // namespace

// Holds an XDP program in the dispatcher: a generic-mode XDP link on the loopback device (ifindex 1 in
// every namespace) of the private namespace, attached from a thread that entered it. Closing *link
// releases the hold. 0 or errno (*what: the step).
int HoldInDispatcher(int prog_fd, Fd* link, std::string* what) {
  std::lock_guard<std::mutex> lock(g_hold_ns_mu);
  int err = 0;
  Thread t;
  int start = t.Start(
      [&] {
        if (g_hold_ns.valid()) {
          if (setns(g_hold_ns.get(), CLONE_NEWNET)) {
            err = errno;
            *what = "setns into the private network namespace";
            return;
          }
        } else {
          if (unshare(CLONE_NEWNET)) {
            err = errno;
            *what = "unshare(CLONE_NEWNET)";
            return;
          }
          g_hold_ns.reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
          if (!g_hold_ns.valid()) {
            err = errno;
            *what = "opening the new network namespace";
            return;
          }
        }
        auto opts = MakeOpts<bpf_link_create_opts>();
        opts.flags = XDP_FLAGS_SKB_MODE;
        link->reset(bpf_link_create(prog_fd, 1, BPF_XDP, &opts));
        if (!link->valid()) {
          err = errno;
          *what = "bpf_link_create(BPF_XDP, generic mode) on the loopback of a private network namespace";
        }
      },
      true);
  if (start) {
    *what = "starting a thread";
    return start;
  }
  t.Join();
  return err;
}

namespace {

uint64_t ClampRepeat(double r) {
  if (!(r >= 1)) return 1;
  return r >= static_cast<double>(kMaxRepeat) ? kMaxRepeat : static_cast<uint64_t>(std::llround(r));
}

// Repeat count per run for ~target_ns of measured time per sample (target_ns / runs per run): one
// iteration, then a quarter of the target, then the target; finally a warm-up sample at the chosen count
// (kept in `calibration`, not a sample). A sample whose wall time would exceed 20 × the target, and
// 0.5 s (a thread that keeps being preempted), is cut down.
int Calibrate(const RunSpec& s, int cpu, CpuReport* rep, std::string* what) {
  Sample x;
  int err = 0;
  if (s.repeat > 0) {
    rep->repeat = s.repeat;
  } else {
    const double target = static_cast<double>(s.target_ns) / s.runs;
    if ((err = RunOnce(s, cpu, 1, &x, what))) return err;
    rep->calibration.push_back(x);
    uint64_t r = ClampRepeat(target / 4 / std::max(1.0, PerIteration(s, x)));
    if ((err = RunOnce(s, cpu, r, &x, what))) return err;
    rep->calibration.push_back(x);
    rep->repeat = ClampRepeat(target / std::max(0.5, PerIteration(s, x)));
  }
  if (s.repeat > 0 && !s.warmup) return 0;
  if ((err = RunOnce(s, cpu, rep->repeat, &x, what))) return err;  // warm-up, not counted
  rep->calibration.push_back(x);
  // (not below 0.5 s per run: a test run with repeat > 1 of an XDP program not held in the dispatcher pays
  // tens of ms of dispatcher update outside the timer, which a smaller repeat count would not shorten)
  const double wall_cap = std::max(5e8 * s.runs, 20.0 * static_cast<double>(s.target_ns));
  if (s.repeat == 0 && static_cast<double>(x.wall_ns) > wall_cap)
    rep->repeat = ClampRepeat(static_cast<double>(rep->repeat) * wall_cap / static_cast<double>(x.wall_ns));
  return 0;
}

class TestRunWorker : public PromiseWorker {
 public:
  TestRunWorker(Napi::Env env, RunSpec spec) : PromiseWorker(env), spec_(std::move(spec)) {}

  void Execute() override {
    ClearLibbpfLog();
    reports_.resize(spec_.cpus.size());
    for (size_t i = 0; i < spec_.cpus.size(); i++) reports_[i].cpu = spec_.cpus[i];

    // XDP in mode repeat: held in the dispatcher until Execute returns. Unheld, every run pays the
    // dispatcher updates, so a sample falls back to one run (as many runs would take ~runs × as long).
    // A call that makes a single test run (fixed repeat, no warm-up, one sample of one run on one CPU, no
    // proof) is not held: the hold would cost the same two dispatcher updates it saves.
    const bool single_run = spec_.repeat > 0 && !spec_.warmup && spec_.samples == 1 && spec_.runs == 1 &&
                            spec_.cpus.size() == 1 && spec_.stats != Stats::Proof;
    Fd hold_link;
    if (spec_.mode == Mode::Repeat) {
      bpf_prog_info info;
      if (GetProgInfo(spec_.prog_fd, &info) == 0 && info.type == BPF_PROG_TYPE_XDP) {
        std::string what;
        int err = spec_.hold && !single_run ? HoldInDispatcher(spec_.prog_fd, &hold_link, &what) : 0;
        if (err) hold_error_ = what + ": " + ErrnoText(err);
        held_ = spec_.hold && !single_run && !err;
        if (!held_ && spec_.runs > 1) {
          runs_fallback_ = true;
          spec_.runs = 1;
        }
      }
    }

    Fd stats;
    if (spec_.stats == Stats::Samples || spec_.mode == Mode::Call) {
      stats.reset(bpf_enable_stats(BPF_STATS_RUN_TIME));
      if (!stats.valid()) return Fail(errno, "bpf_enable_stats(BPF_STATS_RUN_TIME)");
      stats_during_samples_ = true;
    }

    // Calibration (and warm-up), one CPU at a time.
    for (auto& rep : reports_) {
      std::string what;
      int err = 0;
      int pin = RunPinned(rep.cpu, [&] { err = Calibrate(spec_, rep.cpu, &rep, &what); });
      if (pin) return Fail(pin, "pinning a thread to CPU " + std::to_string(rep.cpu) + " (sched_setaffinity)");
      if (err) return Fail(err, what);
    }

    // Samples: interleaved over the CPUs (sample 0 on every CPU, then sample 1 ...), so slow drift touches
    // every CPU alike; or all CPUs at once when concurrent.
    for (uint32_t n = 0; n < spec_.samples; n++) {
      if (!spec_.concurrent) {
        for (auto& rep : reports_) {
          std::string what;
          int err = 0;
          Sample smp;
          int pin = RunPinned(rep.cpu, [&] { err = RunOnce(spec_, rep.cpu, rep.repeat, &smp, &what); });
          if (pin) return Fail(pin, "pinning a thread to CPU " + std::to_string(rep.cpu) + " (sched_setaffinity)");
          if (err) return Fail(err, what);
          rep.samples.push_back(smp);
        }
      } else {
        const size_t k = reports_.size();
        std::vector<Thread> threads(k);
        std::vector<int> errs(k, 0), pins(k, 0);
        std::vector<std::string> whats(k);
        std::vector<Sample> got(k);
        std::atomic<size_t> ready{0};
        std::atomic<bool> abandon{false};
        int start_err = 0;
        for (size_t i = 0; i < k && !start_err; i++) {
          start_err = threads[i].Start([&, i] {
            pins[i] = PinThisThread(reports_[i].cpu);
            ready.fetch_add(1);
            while (ready.load() < k && !abandon.load()) std::this_thread::yield();  // start together
            if (!pins[i] && !abandon.load())
              errs[i] = RunOnce(spec_, reports_[i].cpu, reports_[i].repeat, &got[i], &whats[i]);
          });
        }
        if (start_err) abandon.store(true);  // the started ones stop waiting for the others
        for (auto& t : threads) t.Join();
        if (start_err) return Fail(start_err, "starting a thread per CPU");
        for (size_t i = 0; i < k; i++) {
          if (pins[i])
            return Fail(pins[i], "pinning a thread to CPU " + std::to_string(reports_[i].cpu) + " (sched_setaffinity)");
          if (errs[i]) return Fail(errs[i], whats[i]);
          reports_[i].samples.push_back(got[i]);
        }
      }
    }
    stats.reset();

    // Proof that the program ran: bpf_stats on for one more run per CPU.
    if (spec_.stats == Stats::Proof && spec_.mode == Mode::Repeat) {
      for (auto& rep : reports_) {
        Fd proof_stats(bpf_enable_stats(BPF_STATS_RUN_TIME));
        if (!proof_stats.valid()) return Fail(errno, "bpf_enable_stats(BPF_STATS_RUN_TIME)");
        std::string what;
        int err = 0;
        int pin = RunPinned(rep.cpu, [&] { err = RunOnce(spec_, rep.cpu, rep.repeat, &rep.proof, &what); });
        if (pin) return Fail(pin, "pinning a thread to CPU " + std::to_string(rep.cpu) + " (sched_setaffinity)");
        if (err) return Fail(err, what);
        rep.has_proof = true;
      }
    }
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("mode", spec_.mode == Mode::Repeat ? "repeat" : "call");
    out.Set("onCpuFlag", spec_.mode == Mode::Call);
    out.Set("statsDuringSamples", stats_during_samples_);
    out.Set("runsPerSample", spec_.runs);
    out.Set("dispatcherHold", held_);
    if (!hold_error_.empty()) out.Set("dispatcherHoldError", hold_error_);
    if (runs_fallback_) out.Set("runsFallback", true);
    Napi::Array cpus = Napi::Array::New(env, reports_.size());
    for (size_t i = 0; i < reports_.size(); i++) {
      const CpuReport& r = reports_[i];
      Napi::Object c = Napi::Object::New(env);
      c.Set("cpu", r.cpu);
      c.Set("repeat", static_cast<double>(r.repeat));
      c.Set("calibration", ToJs(env, r.calibration));
      c.Set("samples", ToJs(env, r.samples));
      if (r.has_proof) c.Set("proof", ToJs(env, r.proof));
      cpus.Set(i, c);
    }
    out.Set("cpus", cpus);
    return out;
  }

 private:
  static Napi::Object ToJs(Napi::Env env, const Sample& s) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("repeat", static_cast<double>(s.repeat));
    o.Set("wallNs", static_cast<double>(s.wall_ns));
    o.Set("kernelNs", s.kernel_ns);
    if (!s.run_ns.empty()) {
      Napi::Array runs = Napi::Array::New(env, s.run_ns.size());
      for (size_t i = 0; i < s.run_ns.size(); i++) runs.Set(i, static_cast<double>(s.run_ns[i]));
      o.Set("runNs", runs);
    }
    o.Set("retval", static_cast<double>(s.retval));
    if (s.retval_mixed) o.Set("retvalMixed", true);
    o.Set("runCnt", static_cast<double>(s.run_cnt));
    o.Set("runTimeNs", static_cast<double>(s.run_time_ns));
    return o;
  }

  static Napi::Array ToJs(Napi::Env env, const std::vector<Sample>& v) {
    Napi::Array a = Napi::Array::New(env, v.size());
    for (size_t i = 0; i < v.size(); i++) a.Set(i, ToJs(env, v[i]));
    return a;
  }

  RunSpec spec_;
  std::vector<CpuReport> reports_;
  bool stats_during_samples_ = false;
  bool held_ = false;
  bool runs_fallback_ = false;  // unheld XDP: one run per sample instead of spec.runs
  std::string hold_error_;
};

bool Bytes(Napi::Object o, const char* key, std::vector<uint8_t>* out, std::string* err) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return true;
  if (!v.IsBuffer()) {
    *err = std::string(key) + " must be a Buffer";
    return false;
  }
  auto b = v.As<Napi::Buffer<uint8_t>>();
  out->assign(b.Data(), b.Data() + b.Length());
  return true;
}

// testRunAsync({progFd, data?, ctx?, cpus, samples, repeat (per run; 0 = calibrate), targetNs (per sample),
//               runs (per sample, mode repeat), mode: 'repeat'|'call', stats: 'off'|'proof'|'samples',
//               concurrent, warmup (with a fixed repeat; default true), holdDispatcher (XDP; default true)})
Napi::Value TestRunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return TypeErr(env, "testRunAsync takes a spec object");
  Napi::Object o = info[0].As<Napi::Object>();
  RunSpec s;
  std::string err;
  double fd = 0, samples = 1, repeat = 0, target = 10e6, runs = 1;
  if (!OptNumber(o, "progFd", 0, 1 << 30, &fd, true, &err, true) ||
      !OptNumber(o, "samples", 1, 100000, &samples, false, &err, true) ||
      !OptNumber(o, "repeat", 0, static_cast<double>(kMaxRepeat), &repeat, false, &err, true) ||
      !OptNumber(o, "targetNs", 1000, 60e9, &target, false, &err, true) ||
      !OptNumber(o, "runs", 1, 1000, &runs, false, &err, true) || !Bytes(o, "data", &s.data, &err) ||
      !Bytes(o, "ctx", &s.ctx, &err))
    return TypeErr(env, "testRunAsync: " + err);
  s.prog_fd = static_cast<int>(fd);
  s.samples = static_cast<uint32_t>(samples);
  s.repeat = static_cast<uint64_t>(repeat);
  s.target_ns = static_cast<uint64_t>(target);
  s.runs = static_cast<uint32_t>(runs);
  if (o.Has("holdDispatcher") && !o.Get("holdDispatcher").IsUndefined())
    s.hold = o.Get("holdDispatcher").ToBoolean().Value();
  Napi::Value cpus = o.Get("cpus");
  if (!cpus.IsArray() || cpus.As<Napi::Array>().Length() == 0)
    return TypeErr(env, "testRunAsync: cpus must be a non-empty array");
  Napi::Array ca = cpus.As<Napi::Array>();
  for (uint32_t i = 0; i < ca.Length(); i++) {
    Napi::Value c = ca.Get(i);
    if (!c.IsNumber() || c.As<Napi::Number>().DoubleValue() < 0 || c.As<Napi::Number>().DoubleValue() >= CPU_SETSIZE)
      return TypeErr(env, "testRunAsync: cpus must hold CPU numbers");
    s.cpus.push_back(c.As<Napi::Number>().Int32Value());
  }
  std::string mode = o.Get("mode").IsString() ? o.Get("mode").As<Napi::String>().Utf8Value() : "repeat";
  if (mode == "repeat")
    s.mode = Mode::Repeat;
  else if (mode == "call")
    s.mode = Mode::Call;
  else
    return TypeErr(env, "testRunAsync: mode must be 'repeat' or 'call'");
  if (s.mode == Mode::Call) s.runs = 1;  // one call per iteration: nothing to split
  std::string stats = o.Get("stats").IsString() ? o.Get("stats").As<Napi::String>().Utf8Value() : "proof";
  if (stats == "off")
    s.stats = Stats::Off;
  else if (stats == "proof")
    s.stats = Stats::Proof;
  else if (stats == "samples")
    s.stats = Stats::Samples;
  else
    return TypeErr(env, "testRunAsync: stats must be 'off', 'proof' or 'samples'");
  s.concurrent = o.Get("concurrent").ToBoolean().Value();
  if (o.Has("warmup") && !o.Get("warmup").IsUndefined()) s.warmup = o.Get("warmup").ToBoolean().Value();
  auto* worker = new TestRunWorker(env, std::move(s));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// objGet(path): fd of a pinned BPF object (program or map); the caller closes it with closeFd.
Napi::Value ObjGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return TypeErr(env, "objGet: path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    ThrowErrno(env, errno, "bpf_obj_get(" + path + ")");
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

}  // namespace

void RegisterTestrunFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("testRunAsync", Napi::Function::New(env, TestRunAsync, "testRunAsync"));
  exports.Set("objGet", Napi::Function::New(env, ObjGet, "objGet"));
}

}  // namespace ebp
