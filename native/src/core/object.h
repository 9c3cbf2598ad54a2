// BPF objects, program stats and maps for the suites (object.cc).
#pragma once

#include <napi.h>

namespace ebp {

// objectOpen, objectPrograms, objectMaps, objectSetAutoload, objectSetProgramType, objectLoad,
// objectProgFd, objectMapFd, objectClose, progInfo, enableStats, closeFd, mapLookup, mapUpdate,
// numPossibleCpus.
void RegisterObjectFunctions(Napi::Env env, Napi::Object exports);

}  // namespace ebp
