// The doctor's probes as N-API functions: argument checking and conversion of ProbeResult to JS objects.
//
// Kernel errors never throw: every probe returns a ProbeResult object (even failures to start the probe
// thread or to read /proc). Bad arguments throw TypeError; nothing else throws.
#include <napi.h>

#include <cmath>
#include <functional>
#include <string>

#include "core/errno_text.h"
#include "core/js_args.h"
#include "core/js_worker.h"
#include "core/libbpf_log.h"
#include "probe/deferred_teardown.h"
#include "probe/probes.h"
#include "probe/result.h"

namespace ebp {
namespace {

// A non-negative integer that fits in 32 bits, else a TypeError.
bool GetU32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    TypeErr(info.Env(), std::string(name) + " must be a number");
    return false;
  }
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || v < 0 || v > 4294967295.0 || std::floor(v) != v) {
    TypeErr(info.Env(), std::string(name) + " must be an integer between 0 and 2^32-1");
    return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

Napi::Object ToJs(Napi::Env env, const ProbeResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", Napi::Boolean::New(env, r.ok));
  o.Set("stage", Napi::String::New(env, r.ok ? "ok" : StageName(r.stage)));
  o.Set("errno", Napi::Number::New(env, r.ok ? 0 : r.err));
  o.Set("code", Napi::String::New(env, r.ok ? "" : ErrnoCode(r.err)));
  o.Set("message", Napi::String::New(env, r.message));
  if (!r.detail.empty()) o.Set("detail", Napi::String::New(env, r.detail));
  return o;
}

// The libbpf log is per thread, so probes may run concurrently: synchronously
// on the JS thread, or on libuv's worker pool through probeAsync.
template <typename F>
Napi::Value RunProbe(Napi::Env env, F&& probe) {
  ClearLibbpfLog();
  return ToJs(env, probe());
}

class ProbeWorker : public PromiseWorker {
 public:
  ProbeWorker(Napi::Env env, std::function<ProbeResult()> probe, bool defer_teardown)
      : PromiseWorker(env), probe_(std::move(probe)), defer_(defer_teardown) {}
  void Execute() override {
    ClearLibbpfLog();
    tl_defer_teardown = defer_;
    result_ = probe_();
    tl_defer_teardown = false;
  }

 protected:
  Napi::Value Result(Napi::Env env) override { return ToJs(env, result_); }

 private:
  std::function<ProbeResult()> probe_;
  bool defer_;
  ProbeResult result_;
};

Napi::Value JsProbeProgType(const Napi::CallbackInfo& info) {
  uint32_t prog_type;
  if (!GetU32(info, 0, "progType", &prog_type)) return info.Env().Undefined();
  return RunProbe(info.Env(), [&] { return ProbeProgType(prog_type); });
}

Napi::Value JsProbeMapType(const Napi::CallbackInfo& info) {
  uint32_t map_type;
  if (!GetU32(info, 0, "mapType", &map_type)) return info.Env().Undefined();
  return RunProbe(info.Env(), [&] { return ProbeMapType(map_type); });
}

Napi::Value JsProbeHelper(const Napi::CallbackInfo& info) {
  uint32_t prog_type, helper_id;
  if (!GetU32(info, 0, "progType", &prog_type)) return info.Env().Undefined();
  if (!GetU32(info, 1, "helperId", &helper_id)) return info.Env().Undefined();
  return RunProbe(info.Env(), [&] { return ProbeHelper(prog_type, helper_id); });
}

// kind (and optional target) at info[i], info[i + 1]; false after throwing a TypeError.
bool AttachArgs(const Napi::CallbackInfo& info, size_t i, std::string* kind, std::string* target) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsString()) {
    TypeErr(env, std::string("kind must be one of ") + AttachKindList());
    return false;
  }
  *kind = info[i].As<Napi::String>().Utf8Value();
  if (!IsAttachKind(*kind)) {
    TypeErr(env, "unknown attach kind '" + *kind + "'; expected one of " + AttachKindList());
    return false;
  }
  if (info.Length() > i + 1 && !info[i + 1].IsUndefined() && !info[i + 1].IsNull()) {
    if (!info[i + 1].IsString()) {
      TypeErr(env, "target must be a string when given");
      return false;
    }
    *target = info[i + 1].As<Napi::String>().Utf8Value();
    if (target->find('\0') != std::string::npos) {
      TypeErr(env, "target must not contain NUL");
      return false;
    }
  }
  return true;
}

Napi::Value JsProbeAttach(const Napi::CallbackInfo& info) {
  std::string kind, target;
  if (!AttachArgs(info, 0, &kind, &target)) return info.Env().Undefined();
  return RunProbe(info.Env(), [&] { return ProbeAttach(kind, target); });
}

// probeAsync(op, a, b, deferTeardown): op is "prog" (a = type), "map" (a = type), "helper"
// (a = prog type, b = helper id) or "attach" (a = kind, b = target or
// undefined). Resolves with the same object the synchronous probes return.
// deferTeardown (boolean, info[3]): slow detaches wait for releaseProbes().
Napi::Value ProbeAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return TypeErr(env, "op must be prog, map, helper or attach");
  const std::string op = info[0].As<Napi::String>().Utf8Value();
  std::function<ProbeResult()> probe;
  uint32_t a = 0, b = 0;
  if (op == "prog" || op == "map") {
    if (!GetU32(info, 1, "type", &a)) return env.Undefined();
    probe = op == "prog" ? std::function<ProbeResult()>([a] { return ProbeProgType(a); })
                         : std::function<ProbeResult()>([a] { return ProbeMapType(a); });
  } else if (op == "helper") {
    if (!GetU32(info, 1, "progType", &a) || !GetU32(info, 2, "helperId", &b)) return env.Undefined();
    probe = [a, b] { return ProbeHelper(a, b); };
  } else if (op == "attach") {
    std::string kind, target;
    if (!AttachArgs(info, 1, &kind, &target)) return env.Undefined();
    probe = [kind, target] { return ProbeAttach(kind, target); };
  } else {
    return TypeErr(env, "op must be prog, map, helper or attach, not '" + op + "'");
  }
  const bool defer = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  auto* worker = new ProbeWorker(env, std::move(probe), defer);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// releaseProbes() → Promise<{fds, pid, error?}>: the deferred teardowns go to an "ebp-teardown" grandchild
// process (pid: the forked child's, already reaped); error names why they were closed here instead. On the
// worker pool: forking a process the size of Node's takes ~10 ms that the caller's thread can spend on work.
class ReleaseWorker : public PromiseWorker {
 public:
  using PromiseWorker::PromiseWorker;
  void Execute() override { pid_ = ReleaseDeferred(&count_, &release_err_); }

 protected:
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("fds", count_);
    out.Set("pid", pid_);
    if (release_err_) out.Set("error", ErrnoCode(release_err_) + ": " + ErrnoText(release_err_));
    return out;
  }

 private:
  int count_ = 0, release_err_ = 0, pid_ = 0;
};

Napi::Value ReleaseProbes(const Napi::CallbackInfo& info) {
  auto* worker = new ReleaseWorker(info.Env());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void RegisterProbeFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("probeProgType", Napi::Function::New(env, JsProbeProgType, "probeProgType"));
  exports.Set("probeMapType", Napi::Function::New(env, JsProbeMapType, "probeMapType"));
  exports.Set("probeHelper", Napi::Function::New(env, JsProbeHelper, "probeHelper"));
  exports.Set("probeAttach", Napi::Function::New(env, JsProbeAttach, "probeAttach"));
  exports.Set("probeAsync", Napi::Function::New(env, ProbeAsync, "probeAsync"));
  exports.Set("releaseProbes", Napi::Function::New(env, ReleaseProbes, "releaseProbes"));
}

}  // namespace ebp
