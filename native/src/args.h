// Argument checking for the addon's N-API functions: a wrong argument throws a TypeError naming it and the
// function returns early. Shared by every native/src/*.cc that takes arguments from JS.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace ebp {

inline Napi::Value TypeErr(Napi::Env env, const std::string& msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

// A string without NUL at info[i]; with `optional`, undefined/null leaves *out untouched and succeeds.
inline bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* what, std::string* out, bool optional = false) {
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
inline bool OptNumber(Napi::Object o, const char* key, double lo, double hi, double* out, bool required, std::string* err, bool integer) {
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
    *err = std::string(key) + " must be " + (integer ? "an integer" : "a number") + " in [" + std::to_string(static_cast<long long>(lo)) + ", " +
           std::to_string(static_cast<long long>(hi)) + "]";
    return false;
  }
  *out = d;
  return true;
}

}  // namespace ebp
