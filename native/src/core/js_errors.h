// The errno-carrying JS errors that the addon's suite-side functions throw or reject with.
#pragma once

#include <napi.h>

#include <string>

namespace ebp {

// Error "<what>: <strerror> (<CODE>)" with `errno` and `code` properties (and `detail`, when given).
Napi::Error MakeErrno(Napi::Env env, int err, const std::string& what, const std::string& detail = "");
void ThrowErrno(Napi::Env env, int err, const std::string& what);

}  // namespace ebp
