// Errno-carrying JS errors.
#include "core/js_errors.h"

#include "core/errno_text.h"

namespace ebp {

Napi::Error MakeErrno(Napi::Env env, int err, const std::string& what, const std::string& detail) {
  Napi::Error e = Napi::Error::New(env, what + ": " + ErrnoText(err) + " (" + ErrnoCode(err) + ")");
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, ErrnoCode(err)));
  if (!detail.empty()) e.Set("detail", Napi::String::New(env, detail));
  return e;
}

void ThrowErrno(Napi::Env env, int err, const std::string& what) {
  MakeErrno(env, err, what).ThrowAsJavaScriptException();
}

}  // namespace ebp
