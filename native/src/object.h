// BPF objects, program stats and maps for the suites (object.cc), and the errno-carrying JS errors
// every suite-side native function throws.
#pragma once

#include <napi.h>

#include <string>

namespace ebp {

// Error "<what>: <strerror> (<CODE>)" with `errno` and `code` properties (and `detail`, when given).
Napi::Error MakeErrno(Napi::Env env, int err, const std::string& what, const std::string& detail = "");
void ThrowErrno(Napi::Env env, int err, const std::string& what);

// objectOpen, objectPrograms, objectMaps, objectSetAutoload, objectSetProgramType, objectLoad,
// objectProgFd, objectMapFd, objectClose, progInfo, enableStats, closeFd, mapLookup, mapUpdate,
// numPossibleCpus.
void RegisterObjectFunctions(Napi::Env env, Napi::Object exports);

}  // namespace ebp
