// N-API surface of ebpfperf_native. Only argument checking and conversion
// live here; the probes are in probes.cc, attach.cc and netns.cc.
//
// Kernel errors never throw: every probe returns a ProbeResult object (even
// failures to start the probe thread or to read /proc). Bad arguments throw
// TypeError; nothing else throws.
#include <bpf/libbpf.h>
#include <napi.h>

#include <cmath>
#include <mutex>
#include <string>

#include "common.h"
#include "probes.h"

namespace {

using ebp::ProbeResult;

// Probes use process-global state (libbpf print callback, the log buffer) and
// must not overlap if the addon is used from several worker threads.
std::mutex g_probe_mutex;

Napi::Value ThrowType(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// A non-negative integer that fits in 32 bits, else a TypeError.
bool GetU32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    ThrowType(info.Env(), std::string(name) + " must be a number");
    return false;
  }
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || v < 0 || v > 4294967295.0 || std::floor(v) != v) {
    ThrowType(info.Env(), std::string(name) + " must be an integer between 0 and 2^32-1");
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

template <typename F>
Napi::Value RunProbe(Napi::Env env, F&& probe) {
  ProbeResult r;
  {
    std::lock_guard<std::mutex> lock(g_probe_mutex);
    ebp::ClearLibbpfLog();
    r = probe();
  }
  return ToJs(env, r);
}

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

Napi::Value ProbeAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    return ThrowType(env, std::string("kind must be one of ") + ebp::AttachKindList());
  std::string kind = info[0].As<Napi::String>().Utf8Value();
  if (!ebp::IsAttachKind(kind))
    return ThrowType(env, "unknown attach kind '" + kind + "'; expected one of " + ebp::AttachKindList());
  std::string target;
  if (info.Length() >= 2 && !info[1].IsUndefined() && !info[1].IsNull()) {
    if (!info[1].IsString()) return ThrowType(env, "target must be a string when given");
    target = info[1].As<Napi::String>().Utf8Value();
    if (target.find('\0') != std::string::npos) return ThrowType(env, "target must not contain NUL");
  }
  return RunProbe(env, [&] { return ebp::ProbeAttach(kind, target); });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ebp::InstallLibbpfPrint();
  exports.Set("libbpfVersion", Napi::Function::New(env, LibbpfVersion, "libbpfVersion"));
  exports.Set("probeProgType", Napi::Function::New(env, ProbeProgType, "probeProgType"));
  exports.Set("probeMapType", Napi::Function::New(env, ProbeMapType, "probeMapType"));
  exports.Set("probeHelper", Napi::Function::New(env, ProbeHelper, "probeHelper"));
  exports.Set("probeAttach", Napi::Function::New(env, ProbeAttach, "probeAttach"));
  return exports;
}

}  // namespace

NODE_API_MODULE(ebpfperf_native, Init)
