// The addon's asynchronous calls: the work runs on libuv's pool, JS gets a promise.
#pragma once

#include <napi.h>

#include <cerrno>
#include <string>

#include "core/js_errors.h"
#include "core/libbpf_log.h"

namespace ebp {

// An AsyncWorker that settles a promise. Execute() (worker thread) records a failure with Fail(err, what),
// which keeps the worker thread's libbpf log with it (the log is per thread: OnOK could not read it);
// OnOK() then rejects with an errno error, or resolves with Result(). SetError() rejects with its message.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  // What the promise resolves with when Execute() did not Fail() (JS thread).
  virtual Napi::Value Result(Napi::Env env) = 0;

  void Fail(int err, const std::string& what) {
    err_ = err > 0 ? err : EINVAL;
    what_ = what;
    log_ = LibbpfLog();
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (err_)
      deferred_.Reject(MakeErrno(env, err_, what_, log_).Value());
    else
      deferred_.Resolve(Result(env));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int err_ = 0;
  std::string what_;
  std::string log_;
};

}  // namespace ebp
