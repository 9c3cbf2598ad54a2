// Attaching XDP and TC programs to interfaces inside a named network namespace, for the accelerator
// suite. The kernel resolves an ifindex (attach target, netlink request, devmap value) in the network
// namespace of the calling thread, so each operation runs on a short-lived thread that setns()es into
// /run/netns/<name> first and ends afterwards; the process's own threads never change namespace.
//
// XDP and tcx attachments are BPF links: their fds are handed back to JS, closing one detaches, and
// they vanish with the process (or with the interface when the namespace goes). tc clsact filters are
// not fd-based: netnsTcDetach removes them (and the clsact qdisc when this code created it).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "core/bpf_api.h"
#include "core/js_args.h"
#include "core/js_errors.h"
#include "core/libbpf_log.h"
#include "core/threads.h"
#include "net/netns.h"

namespace ebp {

namespace {

std::string Where(const std::string& ifname, const std::string& netns) {
  return ifname + (netns.empty() ? "" : " in " + netns);
}

// if_nametoindex inside the thread's namespace.
int Ifindex(const std::string& ifname, const std::string& netns, int* out, std::string* what) {
  unsigned idx = if_nametoindex(ifname.c_str());
  if (idx == 0) {
    int err = errno == 0 ? ENODEV : errno;
    *what = "no interface " + Where(ifname, netns);
    return err;
  }
  *out = static_cast<int>(idx);
  return 0;
}

// ---------------------------------------------------------------------------
// argument helpers (TypeError on misuse)

bool ArgIfname(const Napi::CallbackInfo& info, size_t i, std::string* out) {
  if (!ArgString(info, i, "ifname", out)) return false;
  if (out->empty() || out->size() >= IFNAMSIZ || out->find('\0') != std::string::npos) {
    Napi::TypeError::New(info.Env(), "ifname must be 1-15 characters").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

bool ArgDirection(const Napi::CallbackInfo& info, size_t i, bool* egress) {
  std::string d;
  if (!ArgString(info, i, "direction", &d)) return false;
  if (d != "ingress" && d != "egress") {
    Napi::TypeError::New(info.Env(), "direction must be 'ingress' or 'egress'").ThrowAsJavaScriptException();
    return false;
  }
  *egress = d == "egress";
  return true;
}

Napi::Object LinkResult(Napi::Env env, int link_fd, int ifindex) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("linkFd", Napi::Number::New(env, link_fd));
  o.Set("ifindex", Napi::Number::New(env, ifindex));
  return o;
}

// ---------------------------------------------------------------------------
// the functions

// netnsIfindex(netns, ifname) → ifindex
Napi::Value NetnsIfindex(const Napi::CallbackInfo& info) {
  NsJob job;
  std::string ifname;
  if (!ArgNetns(info, 0, &job.netns) || !ArgIfname(info, 1, &ifname)) return info.Env().Undefined();
  int ifindex = 0;
  job.fn = [&](std::string* what) { return Ifindex(ifname, job.netns, &ifindex, what); };
  if (!RunInNetns(info.Env(), &job)) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), ifindex);
}

// bpf_link_create(prog, ifname's ifindex, type, flags) on a thread in job->netns → {linkFd, ifindex}, or a
// thrown errno error naming what was attached where.
Napi::Value LinkInNetns(const Napi::CallbackInfo& info, NsJob* job, const std::string& ifname, int prog,
                        enum bpf_attach_type type, uint32_t flags, const std::string& what_kind,
                        const std::string& type_name) {
  int ifindex = 0, link = -1;
  job->fn = [&](std::string* what) {
    if (int err = Ifindex(ifname, job->netns, &ifindex, what)) return err;
    auto opts = MakeOpts<bpf_link_create_opts>();
    opts.flags = flags;
    link = bpf_link_create(prog, ifindex, type, &opts);
    if (link < 0) {
      *what =
          "attaching " + what_kind + " to " + Where(ifname, job->netns) + " with bpf_link_create(" + type_name + ")";
      return errno;
    }
    return 0;
  };
  if (!RunInNetns(info.Env(), job)) return info.Env().Undefined();
  return LinkResult(info.Env(), link, ifindex);
}

// netnsXdpAttach(netns, ifname, progFd, mode 'native' | 'generic') → {linkFd, ifindex}
Napi::Value NetnsXdpAttach(const Napi::CallbackInfo& info) {
  NsJob job;
  std::string ifname, mode;
  int64_t prog;
  if (!ArgNetns(info, 0, &job.netns) || !ArgIfname(info, 1, &ifname) || !ArgInt(info, 2, "progFd", &prog) ||
      !ArgString(info, 3, "mode", &mode))
    return info.Env().Undefined();
  if (mode != "native" && mode != "generic") {
    Napi::TypeError::New(info.Env(), "mode must be 'native' or 'generic'").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  return LinkInNetns(info, &job, ifname, static_cast<int>(prog), BPF_XDP,
                     mode == "native" ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE, "XDP (" + mode + " mode)", "BPF_XDP");
}

// (netns, ifname, progFd, direction), the arguments of netnsTcxAttach and netnsTcAttach; false after throwing.
bool NetProgArgs(const Napi::CallbackInfo& info, NsJob* job, std::string* ifname, int64_t* prog, bool* egress) {
  return ArgNetns(info, 0, &job->netns) && ArgIfname(info, 1, ifname) && ArgInt(info, 2, "progFd", prog) &&
         ArgDirection(info, 3, egress);
}

// netnsTcxAttach(netns, ifname, progFd, direction) → {linkFd, ifindex}: a tcx link (kernel 6.6+).
Napi::Value NetnsTcxAttach(const Napi::CallbackInfo& info) {
  NsJob job;
  std::string ifname;
  int64_t prog;
  bool egress = false;
  if (!NetProgArgs(info, &job, &ifname, &prog, &egress)) return info.Env().Undefined();
  const uint32_t type = egress ? kAttachTcxEgress : kAttachTcxIngress;
  return LinkInNetns(info, &job, ifname, static_cast<int>(prog), static_cast<enum bpf_attach_type>(type), 0, "tcx",
                     AttachTypeName(type));
}

// netnsTcAttach(netns, ifname, progFd, direction) → {ifindex, handle, priority, createdHook}: a cls_bpf
// filter in direct-action mode on a clsact qdisc (created when missing).
Napi::Value NetnsTcAttach(const Napi::CallbackInfo& info) {
  NsJob job;
  std::string ifname;
  int64_t prog;
  bool egress = false;
  if (!NetProgArgs(info, &job, &ifname, &prog, &egress)) return info.Env().Undefined();
  int ifindex = 0;
  bool created = false;
  auto opts = MakeOpts<bpf_tc_opts>();
  job.fn = [&](std::string* what) {
    if (int err = Ifindex(ifname, job.netns, &ifindex, what)) return err;
    auto hook = MakeOpts<bpf_tc_hook>();
    hook.ifindex = ifindex;
    hook.attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
    int err = bpf_tc_hook_create(&hook);
    if (err < 0 && err != -EEXIST) {
      *what = "creating the clsact qdisc on " + Where(ifname, job.netns);
      return -err;
    }
    created = err == 0;
    opts.prog_fd = static_cast<int>(prog);
    err = bpf_tc_attach(&hook, &opts);
    if (err < 0) {
      if (created) {
        hook.attach_point = static_cast<enum bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
        bpf_tc_hook_destroy(&hook);
      }
      *what = std::string("attaching a cls_bpf filter (") + (egress ? "egress" : "ingress") + ") to " +
              Where(ifname, job.netns);
      return -err;
    }
    return 0;
  };
  if (!RunInNetns(info.Env(), &job)) return info.Env().Undefined();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("ifindex", Napi::Number::New(info.Env(), ifindex));
  o.Set("handle", Napi::Number::New(info.Env(), opts.handle));
  o.Set("priority", Napi::Number::New(info.Env(), opts.priority));
  o.Set("createdHook", Napi::Boolean::New(info.Env(), created));
  return o;
}

// netnsTcDetach(netns, ifindex, direction, handle, priority, destroyHook): removes the filter, then the
// clsact qdisc when asked. A device or filter that is already gone is success.
Napi::Value NetnsTcDetach(const Napi::CallbackInfo& info) {
  NsJob job;
  int64_t ifindex, handle, priority;
  bool egress = false;
  if (!ArgNetns(info, 0, &job.netns) || !ArgInt(info, 1, "ifindex", &ifindex) || !ArgDirection(info, 2, &egress) ||
      !ArgInt(info, 3, "handle", &handle) || !ArgInt(info, 4, "priority", &priority))
    return info.Env().Undefined();
  const bool destroy = info.Length() > 5 && info[5].ToBoolean().Value();
  job.fn = [&](std::string* what) {
    auto hook = MakeOpts<bpf_tc_hook>();
    hook.ifindex = static_cast<int>(ifindex);
    hook.attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS;
    auto opts = MakeOpts<bpf_tc_opts>();
    opts.handle = static_cast<uint32_t>(handle);
    opts.priority = static_cast<uint32_t>(priority);
    int err = bpf_tc_detach(&hook, &opts);
    if (err < 0 && err != -ENOENT && err != -ENODEV && err != -EINVAL) {
      *what = "removing the cls_bpf filter from ifindex " + std::to_string(ifindex);
      return -err;
    }
    if (destroy) {
      hook.attach_point = static_cast<enum bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      err = bpf_tc_hook_destroy(&hook);
      if (err < 0 && err != -ENOENT && err != -ENODEV && err != -EINVAL) {
        *what = "removing the clsact qdisc from ifindex " + std::to_string(ifindex);
        return -err;
      }
    }
    return 0;
  };
  if (!RunInNetns(info.Env(), &job)) return info.Env().Undefined();
  return info.Env().Undefined();
}

// netnsMapUpdate(netns, mapFd, key, value, flags?): for maps whose values name devices (devmaps), which
// the kernel resolves in the caller's namespace.
Napi::Value NetnsMapUpdate(const Napi::CallbackInfo& info) {
  NsJob job;
  int64_t fd, flags = 0;
  Napi::Buffer<uint8_t> key, value;
  if (!ArgNetns(info, 0, &job.netns) || !ArgInt(info, 1, "mapFd", &fd) || !ArgBuffer(info, 2, "key", &key) ||
      !ArgBuffer(info, 3, "value", &value))
    return info.Env().Undefined();
  if (info.Length() > 4 && !info[4].IsUndefined() && !ArgInt(info, 4, "flags", &flags)) return info.Env().Undefined();
  const uint8_t* k = key.Data();
  const uint8_t* v = value.Data();
  job.fn = [&](std::string* what) {
    if (bpf_map_update_elem(static_cast<int>(fd), k, v, static_cast<uint64_t>(flags)) != 0) {
      *what = "bpf_map_update_elem" + std::string(job.netns.empty() ? "" : " in " + job.netns);
      return errno;
    }
    return 0;
  };
  if (!RunInNetns(info.Env(), &job)) return info.Env().Undefined();
  return info.Env().Undefined();
}

}  // namespace

void RegisterNetnsAttachFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("netnsIfindex", Napi::Function::New(env, NetnsIfindex, "netnsIfindex"));
  exports.Set("netnsXdpAttach", Napi::Function::New(env, NetnsXdpAttach, "netnsXdpAttach"));
  exports.Set("netnsTcxAttach", Napi::Function::New(env, NetnsTcxAttach, "netnsTcxAttach"));
  exports.Set("netnsTcAttach", Napi::Function::New(env, NetnsTcAttach, "netnsTcAttach"));
  exports.Set("netnsTcDetach", Napi::Function::New(env, NetnsTcDetach, "netnsTcDetach"));
  exports.Set("netnsMapUpdate", Napi::Function::New(env, NetnsMapUpdate, "netnsMapUpdate"));
}

}  // namespace ebp
