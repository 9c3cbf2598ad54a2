// Argument checking for the addon's N-API functions: a wrong argument throws a TypeError naming it and the
// function returns early. Shared by every native source file that takes arguments from JS.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace ebp {

inline Napi::Value TypeErr(Napi::Env env, const std::string& msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

// A string without NUL at info[i]; with `optional`, undefined/null leaves *out untouched and succeeds.
inline bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* what, std::string* out,
                      bool optional = false) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) {
    if (optional) return true;
    TypeErr(info.Env(), std::string(what) + " must be a string");
    return false;
  }
  if (!info[i].IsString()) {
    TypeErr(info.Env(), std::string(what) + " must be a string");
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  if (out->find('\0') != std::string::npos) {
    TypeErr(info.Env(), std::string(what) + " must not contain NUL");
    return false;
  }
  return true;
}

inline bool ArgNumber(const Napi::CallbackInfo& info, size_t i, const char* what, double* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    TypeErr(info.Env(), std::string(what) + " must be a number");
    return false;
  }
  *out = info[i].As<Napi::Number>().DoubleValue();
  return true;
}

inline bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    TypeErr(info.Env(), std::string(what) + " must be a number");
    return false;
  }
  *out = info[i].As<Napi::Number>().Int64Value();
  return true;
}

inline bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* what, Napi::Buffer<uint8_t>* out) {
  if (info.Length() <= i || !info[i].IsBuffer()) {
    TypeErr(info.Env(), std::string(what) + " must be a Buffer");
    return false;
  }
  *out = info[i].As<Napi::Buffer<uint8_t>>();
  return true;
}

// o[key] as a number in [lo, hi] (an integer when `integer`); absent is fine unless `required`.
// On failure *err says what is wrong and false is returned (the caller throws with its own prefix).
inline bool OptNumber(Napi::Object o, const char* key, double lo, double hi, double* out, bool required,
                      std::string* err, bool integer) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (required) *err = std::string(key) + " is required";
    return !required;
  }
  if (!v.IsNumber()) {
    *err = std::string(key) + " must be a number";
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || (integer && std::floor(d) != d) || d < lo || d > hi) {
    *err = std::string(key) + " must be " + (integer ? "an integer" : "a number") + " in [" +
           std::to_string(static_cast<long long>(lo)) + ", " + std::to_string(static_cast<long long>(hi)) + "]";
    return false;
  }
  *out = d;
  return true;
}

// Native things JS names by a small integer handle (BPF objects, trace attachments, ring consumers): a
// mutex-guarded table. Find() reads the handle at info[i] and throws a TypeError (`unknown`) for one it
// does not hold. Pointers it returns stay valid until that handle is taken out.
template <typename T>
class HandleTable {
 public:
  HandleTable(const char* what, const char* unknown) : what_(what), unknown_(unknown) {}

  uint32_t Add(T value) {
    std::lock_guard<std::mutex> lock(mu_);
    const uint32_t h = next_++;
    items_.emplace(h, std::move(value));
    return h;
  }

  T* Find(const Napi::CallbackInfo& info, size_t i, uint32_t* handle) {
    if (info.Length() <= i || !info[i].IsNumber()) {
      TypeErr(info.Env(), std::string(what_) + " must be a number");
      return nullptr;
    }
    *handle = info[i].As<Napi::Number>().Uint32Value();
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(*handle);
    if (it == items_.end()) {
      TypeErr(info.Env(), unknown_);
      return nullptr;
    }
    return &it->second;
  }

  void Erase(uint32_t handle) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.erase(handle);
  }

  // f(handle, T&) for every entry, under the lock; with `clear`, the table is emptied after.
  template <typename F>
  size_t ForEach(F f, bool clear = false) {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t n = items_.size();
    for (auto& [h, v] : items_) f(h, v);
    if (clear) items_.clear();
    return n;
  }

 private:
  const char* what_;
  const char* unknown_;
  std::mutex mu_;
  std::map<uint32_t, T> items_;
  uint32_t next_ = 1;
};

}  // namespace ebp
