// The namespaces of `ebpfperf topology`, made and read without starting a process (each `ip`, `unshare` or
// `mount` started costs milliseconds; these are system calls on a thread of their own, see net/netns.h).
//
// netnsMake(stagingDir, name, mark, sysctls): a new namespace, bound to stagingDir/name while it gets its
// sysctls and its mark (lo up, lo's alias), and only then named /run/netns/name. A namespace with one of our
// names and no mark was never ours. A name taken meanwhile fails with EEXIST; the staging binding is dropped
// on every way out.
// netnsLinks(netns) → [{ifindex, ifname, ifalias?}]: what `ip -n NETNS link show` lists, names and aliases only.
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "core/fd.h"
#include "core/js_args.h"
#include "net/netns.h"
#include "net/rtnl.h"

namespace ebp {

namespace {

using Sysctls = std::vector<std::pair<std::string, std::string>>;  // path under /proc/sys, value

int WriteSysctls(const Sysctls& sysctls, std::string* what) {
  for (const auto& [path, value] : sysctls) {
    *what = "writing " + value + " to /proc/sys/" + path;
    Fd f(open(("/proc/sys/" + path).c_str(), O_WRONLY | O_CLOEXEC));
    if (!f.valid()) return errno;
    if (write(f.get(), value.data(), value.size()) < 0) return errno;
  }
  return 0;
}

// ip link set lo up alias <mark>
int MarkLo(const std::string& mark, std::string* what) {
  *what = "setting lo up with alias " + mark;
  NlMessage msg(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
  if (char* p = msg.Reserve(sizeof(ifinfomsg))) {
    ifinfomsg* ifi = reinterpret_cast<ifinfomsg*>(p);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
  }
  msg.AddString(IFLA_IFNAME, "lo");
  msg.AddAttr(IFLA_IFALIAS, mark.data(), mark.size());
  return NlTransact(&msg);
}

// /run/netns/<name>, made only if it does not exist, bound to the staged namespace.
int Name(const std::string& staged, const std::string& name, std::string* what) {
  const std::string path = "/run/netns/" + name;
  *what = "namespace " + name + " exists";
  Fd f(open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
  if (!f.valid()) return errno;
  *what = "mount --bind " + staged + " " + path;
  if (mount(staged.c_str(), path.c_str(), "none", MS_BIND, nullptr) == 0) return 0;
  int err = errno;
  unlink(path.c_str());
  return err;
}

// On the job's thread: unshare, bind to the staging file, set up, name; the staging binding goes either way.
int Make(const std::string& staged, const std::string& name, const std::string& mark, const Sysctls& sysctls,
         std::string* what) {
  *what = "creating " + staged;
  Fd f(open(staged.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0));
  if (!f.valid()) return errno;
  f.reset();
  *what = "unshare(CLONE_NEWNET)";
  if (unshare(CLONE_NEWNET) != 0) return errno;
  *what = "mount --bind /proc/thread-self/ns/net " + staged;
  if (mount("/proc/thread-self/ns/net", staged.c_str(), "none", MS_BIND, nullptr) != 0) return errno;
  int err = WriteSysctls(sysctls, what);
  if (!err) err = MarkLo(mark, what);
  if (!err) err = Name(staged, name, what);
  umount2(staged.c_str(), MNT_DETACH);
  unlink(staged.c_str());
  return err;
}

bool PlainName(const std::string& s) { return !s.empty() && s.find('/') == std::string::npos && s != "." && s != ".."; }

// netnsMake(stagingDir, name, mark, sysctls) → undefined; throws an errno error (EEXIST: the name is taken).
Napi::Value NetnsMake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir, name, mark;
  if (!ArgString(info, 0, "stagingDir", &dir) || !ArgString(info, 1, "name", &name) ||
      !ArgString(info, 2, "mark", &mark))
    return env.Undefined();
  if (!PlainName(name)) return TypeErr(env, "name must be a plain file name");
  if (info.Length() < 4 || !info[3].IsObject()) return TypeErr(env, "sysctls must be an object");
  Sysctls sysctls;
  Napi::Object o = info[3].As<Napi::Object>();
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string k = keys.Get(i).ToString().Utf8Value();
    if (k.find("..") != std::string::npos) return TypeErr(env, "a sysctl path must stay under /proc/sys");
    sysctls.emplace_back(k, o.Get(k).ToString().Utf8Value());
  }
  NsJob job;  // starts in our own namespace; Make() unshares
  const std::string staged = dir + "/" + name;
  job.fn = [&](std::string* what) { return Make(staged, name, mark, sysctls, what); };
  RunInNetns(env, &job);
  return env.Undefined();
}

std::string AttrString(const rtattr* a) {
  const char* s = static_cast<const char*>(RTA_DATA(a));
  return std::string(s, strnlen(s, RTA_PAYLOAD(a)));
}

struct LinkName {
  int ifindex;
  std::string ifname, ifalias;
};

int DumpLinks(std::vector<LinkName>* out, std::string* what) {
  *what = "listing links (RTM_GETLINK)";
  NlMessage msg(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
  if (char* p = msg.Reserve(sizeof(ifinfomsg))) reinterpret_cast<ifinfomsg*>(p)->ifi_family = AF_UNSPEC;
  return NlTransact(&msg, [out](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    const ifinfomsg* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
    LinkName l{ifi->ifi_index, "", ""};
    int len = static_cast<int>(IFLA_PAYLOAD(h));
    for (const rtattr* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      if (a->rta_type == IFLA_IFNAME) l.ifname = AttrString(a);
      if (a->rta_type == IFLA_IFALIAS) l.ifalias = AttrString(a);
    }
    out->push_back(l);
  });
}

// netnsLinks(netns) → [{ifindex, ifname, ifalias?}]
Napi::Value NetnsLinks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NsJob job;
  if (!ArgNetns(info, 0, &job.netns)) return env.Undefined();
  std::vector<LinkName> links;
  job.fn = [&](std::string* what) { return DumpLinks(&links, what); };
  if (!RunInNetns(env, &job)) return env.Undefined();
  Napi::Array arr = Napi::Array::New(env, links.size());
  for (size_t i = 0; i < links.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("ifindex", Napi::Number::New(env, links[i].ifindex));
    o.Set("ifname", Napi::String::New(env, links[i].ifname));
    if (!links[i].ifalias.empty()) o.Set("ifalias", Napi::String::New(env, links[i].ifalias));
    arr.Set(static_cast<uint32_t>(i), o);
  }
  return arr;
}

}  // namespace

void RegisterNetnsTopologyFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("netnsMake", Napi::Function::New(env, NetnsMake, "netnsMake"));
  exports.Set("netnsLinks", Napi::Function::New(env, NetnsLinks, "netnsLinks"));
}

}  // namespace ebp
