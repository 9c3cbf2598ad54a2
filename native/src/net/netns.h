// Attaching XDP and TC programs to interfaces inside a named network namespace (netns_attach.cc), for the
// accelerator suite: the DUT's interfaces live in /run/netns/<name>, and ifindexes (attach targets,
// devmap values) are resolved by the kernel in the namespace of the calling thread.
#pragma once

#include <napi.h>

#include <string>

namespace ebp {

// Moves the calling thread into a network namespace: a name under /run/netns, an absolute path, or ""
// (stay). 0 or errno (*what: the step). (netns.cc)
int EnterNetns(const std::string& netns, std::string* what);

// netnsIfindex, netnsXdpAttach, netnsTcxAttach, netnsTcAttach, netnsTcDetach, netnsMapUpdate.
void RegisterNetnsAttachFunctions(Napi::Env env, Napi::Object exports);

}  // namespace ebp
