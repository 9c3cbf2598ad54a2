// Work inside a named network namespace. The kernel resolves ifindexes (attach targets, devmap values),
// netlink requests and /proc/sys/net in the namespace of the calling thread, so each call runs on a
// short-lived thread that enters the namespace first; the process's own threads never change namespace.
//   netns_attach.cc   — XDP and TC programs on the accelerator suite's interfaces
//   netns_topology.cc — making and reading the namespaces of `ebpfperf topology`
//   netns_ping.cc     — its verification: echo requests from inside each namespace
#pragma once

#include <napi.h>

#include <functional>
#include <string>

namespace ebp {

class Fd;

// A name that can stand under /run/netns: not empty, no '/', no NUL, not "." or "..". (netns.cc)
bool PlainNetnsName(const std::string& s);
// The file of a namespace: a name under /run/netns, or an absolute path as it is. (netns.cc)
std::string NetnsPath(const std::string& netns);
// Opens a namespace (NetnsPath) into *ns: 0 or errno (*what: the step). (netns.cc)
int OpenNetns(const std::string& netns, Fd* ns, std::string* what);

// Moves the calling thread into a network namespace: a name under /run/netns, an absolute path, or ""
// (stay). 0 or errno (*what: the step). (netns.cc)
int EnterNetns(const std::string& netns, std::string* what);

struct NsJob {
  std::string netns;                    // a name under /run/netns, an absolute path, or "" (our own)
  std::function<int(std::string*)> fn;  // 0 or a positive errno; sets *what on failure
  int err = 0;
  std::string what;
  std::string log;  // libbpf's messages on that thread
};

// A namespace argument at info[i]: a name (no '/', not "." or ".."), an absolute path, or null/undefined
// ("": our own). Throws a TypeError and returns false otherwise. (netns.cc)
bool ArgNetns(const Napi::CallbackInfo& info, size_t i, std::string* out);

// Runs job->fn on a new thread inside the namespace. Returns false after throwing a JS error. (netns.cc)
bool RunInNetns(Napi::Env env, NsJob* job);

// netnsIfindex, netnsXdpAttach, netnsTcxAttach, netnsTcAttach, netnsTcDetach, netnsMapUpdate.
void RegisterNetnsAttachFunctions(Napi::Env env, Napi::Object exports);
// netnsMake, netnsDelete, netnsLinks, netnsVethAdd, netnsConfigure.
void RegisterNetnsTopologyFunctions(Napi::Env env, Napi::Object exports);
// netnsPingAsync.
void RegisterNetnsPingFunctions(Napi::Env env, Napi::Object exports);

}  // namespace ebp
