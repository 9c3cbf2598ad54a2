// N-API surface of ebpfperf_native. Only argument checking and conversion
// live here; the probes are in probes.cc, attach.cc and netns.cc.
//
// Kernel errors never throw: every probe returns a ProbeResult object (even
// failures to start the probe thread or to read /proc). Bad arguments throw
// TypeError; nothing else throws.
#include <bpf/libbpf.h>
#include <napi.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <functional>
#include <string>

#include "args.h"
#include "common.h"
#include "netattach.h"
#include "object.h"
#include "probes.h"
#include "testrun.h"
#include "trace.h"
#include "worker.h"

namespace {

using ebp::ProbeResult;
using ebp::TypeErr;

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
  o.Set("stage", Napi::String::New(env, r.ok ? "ok" : ebp::StageName(r.stage)));
  o.Set("errno", Napi::Number::New(env, r.ok ? 0 : r.err));
  o.Set("code", Napi::String::New(env, r.ok ? "" : ebp::ErrnoCode(r.err)));
  o.Set("message", Napi::String::New(env, r.message));
  if (!r.detail.empty()) o.Set("detail", Napi::String::New(env, r.detail));
  return o;
}

// The libbpf log is per thread, so probes may run concurrently: synchronously
// on the JS thread, or on libuv's worker pool through probeAsync.
template <typename F>
Napi::Value RunProbe(Napi::Env env, F&& probe) {
  ebp::ClearLibbpfLog();
  return ToJs(env, probe());
}

class ProbeWorker : public ebp::PromiseWorker {
 public:
  ProbeWorker(Napi::Env env, std::function<ProbeResult()> probe, bool defer_teardown)
      : ebp::PromiseWorker(env), probe_(std::move(probe)), defer_(defer_teardown) {}
  void Execute() override {
    ebp::ClearLibbpfLog();
    ebp::tl_defer_teardown = defer_;
    result_ = probe_();
    ebp::tl_defer_teardown = false;
  }

 protected:
  Napi::Value Result(Napi::Env env) override { return ToJs(env, result_); }

 private:
  std::function<ProbeResult()> probe_;
  bool defer_;
  ProbeResult result_;
};

Napi::Value LibbpfVersion(const Napi::CallbackInfo& info) {
  std::string v = std::to_string(libbpf_major_version()) + "." + std::to_string(libbpf_minor_version());
  return Napi::String::New(info.Env(), v);
}

Napi::Value ProbeProgType(const Napi::CallbackInfo& info) {
  uint32_t prog_type;
  if (!GetU32(info, 0, "progType", &prog_type)) return info.Env().Undefined();
  return RunProbe(info.Env(), [&] { return ebp::ProbeProgType(prog_type); });
}

Napi::Value ProbeMapType(const Napi::CallbackInfo& info) {
  uint32_t map_type;
  if (!GetU32(info, 0, "mapType", &map_type)) return info.Env().Undefined();
  return RunProbe(info.Env(), [&] { return ebp::ProbeMapType(map_type); });
}

Napi::Value ProbeHelper(const Napi::CallbackInfo& info) {
  uint32_t prog_type, helper_id;
  if (!GetU32(info, 0, "progType", &prog_type)) return info.Env().Undefined();
  if (!GetU32(info, 1, "helperId", &helper_id)) return info.Env().Undefined();
  return RunProbe(info.Env(), [&] { return ebp::ProbeHelper(prog_type, helper_id); });
}

// kind (and optional target) at info[i], info[i + 1]; false after throwing a TypeError.
bool AttachArgs(const Napi::CallbackInfo& info, size_t i, std::string* kind, std::string* target) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsString()) {
    TypeErr(env, std::string("kind must be one of ") + ebp::AttachKindList());
    return false;
  }
  *kind = info[i].As<Napi::String>().Utf8Value();
  if (!ebp::IsAttachKind(*kind)) {
    TypeErr(env, "unknown attach kind '" + *kind + "'; expected one of " + ebp::AttachKindList());
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

Napi::Value ProbeAttach(const Napi::CallbackInfo& info) {
  std::string kind, target;
  if (!AttachArgs(info, 0, &kind, &target)) return info.Env().Undefined();
  return RunProbe(info.Env(), [&] { return ebp::ProbeAttach(kind, target); });
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
    probe = op == "prog" ? std::function<ProbeResult()>([a] { return ebp::ProbeProgType(a); })
                         : std::function<ProbeResult()>([a] { return ebp::ProbeMapType(a); });
  } else if (op == "helper") {
    if (!GetU32(info, 1, "progType", &a) || !GetU32(info, 2, "helperId", &b)) return env.Undefined();
    probe = [a, b] { return ebp::ProbeHelper(a, b); };
  } else if (op == "attach") {
    std::string kind, target;
    if (!AttachArgs(info, 1, &kind, &target)) return env.Undefined();
    probe = [kind, target] { return ebp::ProbeAttach(kind, target); };
  } else {
    return TypeErr(env, "op must be prog, map, helper or attach, not '" + op + "'");
  }
  const bool defer = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  auto* worker = new ProbeWorker(env, std::move(probe), defer);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// releaseProbes() → {fds, pid, error?}: the deferred teardowns go to an "ebp-teardown" grandchild
// process (pid: the forked child's, already reaped); error names why they were closed here instead.
Napi::Value ReleaseProbes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int count = 0, err = 0;
  int pid = ebp::ReleaseDeferred(&count, &err);
  Napi::Object out = Napi::Object::New(env);
  out.Set("fds", count);
  out.Set("pid", pid);
  if (err) out.Set("error", ebp::ErrnoCode(err) + ": " + ebp::ErrnoText(err));
  return out;
}

// mapFile(path) → a read-only Buffer over mmap(path), or undefined when the file cannot be mapped.
// For /sys/kernel/btf/vmlinux: sysfs serves read() 4 KiB at a time (~1,350 calls for 5.5 MB), a mapping
// is one call (kernels since 6.16 allow it). The Buffer unmaps when collected; it must not be written.
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return TypeErr(env, "path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return env.Undefined();
  struct stat st;
  void* p = MAP_FAILED;
  size_t size = 0;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    size = static_cast<size_t>(st.st_size);
    p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  }
  close(fd);
  if (p == MAP_FAILED) return env.Undefined();
  return Napi::Buffer<uint8_t>::New(
      env, static_cast<uint8_t*>(p), size,
      [](Napi::Env, uint8_t* data, size_t* len) {
        munmap(data, *len);
        delete len;
      },
      new size_t(size));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ebp::InstallLibbpfPrint();
  exports.Set("libbpfVersion", Napi::Function::New(env, LibbpfVersion, "libbpfVersion"));
  exports.Set("probeProgType", Napi::Function::New(env, ProbeProgType, "probeProgType"));
  exports.Set("probeMapType", Napi::Function::New(env, ProbeMapType, "probeMapType"));
  exports.Set("probeHelper", Napi::Function::New(env, ProbeHelper, "probeHelper"));
  exports.Set("probeAttach", Napi::Function::New(env, ProbeAttach, "probeAttach"));
  exports.Set("probeAsync", Napi::Function::New(env, ProbeAsync, "probeAsync"));
  exports.Set("releaseProbes", Napi::Function::New(env, ReleaseProbes, "releaseProbes"));
  exports.Set("mapFile", Napi::Function::New(env, MapFile, "mapFile"));
  ebp::RegisterObjectFunctions(env, exports);
  ebp::RegisterTraceFunctions(env, exports);
  ebp::RegisterNetattachFunctions(env, exports);
  ebp::RegisterTestrunFunctions(env, exports);
  ebp::RegisterPktgenFunctions(env, exports);
  ebp::RegisterRingbufFunctions(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(ebpfperf_native, Init)
