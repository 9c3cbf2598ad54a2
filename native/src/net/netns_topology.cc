// The namespaces of `ebpfperf topology`, made and read without starting a process (each `ip`, `unshare` or
// `mount` started costs milliseconds; these are system calls on a thread of their own, see net/netns.h).
//
// netnsMake(stagingDir, name, mark, sysctls): a new namespace, bound to stagingDir/name while it gets its
// sysctls and its mark (lo up, lo's alias), and only then named /run/netns/name. A namespace with one of our
// names and no mark was never ours. A name taken meanwhile fails with EEXIST; the staging binding is dropped
// on every way out.
// netnsDelete(netns): `ip netns del`: the name's binding dropped and its file removed (the kernel tears the
// namespace down once nothing else holds it). A staged binding (an absolute path) goes the same way.
// netnsLinks(netns) → [{ifindex, ifname, ifalias?}]: what `ip -n NETNS link show` lists, names and aliases only.
// netnsVethAdd(a, b): a veth pair whose ends go straight into their namespaces, with the ifindexes asked for.
// netnsConfigure(netns, links, routes): per link its alias, MTU, addresses (IPv6 without duplicate address
// detection), up; then the routes (main table, protocol boot), as `ip -n NETNS -batch` of those lines would.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "core/fd.h"
#include "core/js_args.h"
#include "core/js_errors.h"
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

// ip link set IFNAME [alias ALIAS] [mtu MTU] [up]
int SetLink(const std::string& ifname, const std::string& alias, int mtu, bool up) {
  NlMessage msg(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
  if (char* p = msg.Reserve(sizeof(ifinfomsg))) {
    ifinfomsg* ifi = reinterpret_cast<ifinfomsg*>(p);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_flags = up ? IFF_UP : 0;
    ifi->ifi_change = up ? IFF_UP : 0;
  }
  msg.AddString(IFLA_IFNAME, ifname.c_str());
  if (!alias.empty()) msg.AddAttr(IFLA_IFALIAS, alias.data(), alias.size());
  if (mtu > 0) {
    uint32_t m = static_cast<uint32_t>(mtu);
    msg.AddAttr(IFLA_MTU, &m, sizeof(m));
  }
  return NlTransact(&msg);
}

// ip link set lo up alias <mark>
int MarkLo(const std::string& mark, std::string* what) {
  *what = "setting lo up with alias " + mark;
  return SetLink("lo", mark, 0, true);
}

// /run/netns/<name>, made only if it does not exist, bound to the staged namespace.
int Name(const std::string& staged, const std::string& name, std::string* what) {
  const std::string path = NetnsPath(name);
  *what = "namespace " + name + " exists";
  Fd f(open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
  if (!f.valid()) return errno;
  *what = "mount --bind " + staged + " " + path;
  if (mount(staged.c_str(), path.c_str(), "none", MS_BIND, nullptr) == 0) return 0;
  int err = errno;
  unlink(path.c_str());
  return err;
}

// Drops a namespace's binding (lazily: a process inside keeps the namespace, not the mount) and its file.
int Unbind(const std::string& path) {
  umount2(path.c_str(), MNT_DETACH);
  return unlink(path.c_str()) == 0 ? 0 : errno;
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
  Unbind(staged);
  return err;
}

// netnsMake(stagingDir, name, mark, sysctls) → undefined; throws an errno error (EEXIST: the name is taken).
Napi::Value NetnsMake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir, name, mark;
  if (!ArgString(info, 0, "stagingDir", &dir) || !ArgString(info, 1, "name", &name) ||
      !ArgString(info, 2, "mark", &mark))
    return env.Undefined();
  if (!PlainNetnsName(name)) return TypeErr(env, "name must be a plain file name");
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

// netnsDelete(netns); throws an errno error (ENOENT: no such namespace).
Napi::Value NetnsDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string netns;
  if (!ArgNetns(info, 0, &netns)) return env.Undefined();
  if (netns.empty()) return TypeErr(env, "netns must name a namespace");
  const std::string path = NetnsPath(netns);
  if (int err = Unbind(path)) ThrowErrno(env, err, "removing " + path);
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

// netnsDelete(netns): `ip netns del`: the name's binding dropped and its file removed (the kernel tears the
// namespace down once nothing else holds it). A staged binding (an absolute path) goes the same way.
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

// ---------------------------------------------------------------------------
// links, addresses and routes

struct Cidr {
  int family = 0;  // AF_INET, AF_INET6
  unsigned char addr[16] = {};
  int prefix = 0;
};

// "198.18.0.1/24", "2001:2::1/64", "198.18.0.1" (prefix: the whole address); false when it is none of these.
bool ParseCidr(const std::string& text, Cidr* out) {
  size_t slash = text.find('/');
  std::string a = text.substr(0, slash);
  out->family = a.find(':') == std::string::npos ? AF_INET : AF_INET6;
  int bits = out->family == AF_INET ? 32 : 128;
  out->prefix = slash == std::string::npos ? bits : std::atoi(text.c_str() + slash + 1);
  return inet_pton(out->family, a.c_str(), out->addr) == 1 && out->prefix >= 0 && out->prefix <= bits;
}

size_t AddrLen(const Cidr& c) { return c.family == AF_INET ? 4 : 16; }

// ip addr add CIDR dev IFNAME [nodad]
int AddAddress(const std::string& ifname, const Cidr& c) {
  unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) return errno;
  NlMessage msg(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  if (char* p = msg.Reserve(sizeof(ifaddrmsg))) {
    ifaddrmsg* ifa = reinterpret_cast<ifaddrmsg*>(p);
    ifa->ifa_family = static_cast<unsigned char>(c.family);
    ifa->ifa_prefixlen = static_cast<unsigned char>(c.prefix);
    ifa->ifa_flags = c.family == AF_INET6 ? IFA_F_NODAD : 0;
    ifa->ifa_index = index;
  }
  msg.AddAttr(IFA_LOCAL, c.addr, AddrLen(c));
  msg.AddAttr(IFA_ADDRESS, c.addr, AddrLen(c));
  return NlTransact(&msg);
}

// ip route add TO via VIA (TO "default": prefix length 0)
int AddRoute(const Cidr& to, const Cidr& via) {
  NlMessage msg(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  if (char* p = msg.Reserve(sizeof(rtmsg))) {
    rtmsg* rt = reinterpret_cast<rtmsg*>(p);
    rt->rtm_family = static_cast<unsigned char>(via.family);
    rt->rtm_dst_len = static_cast<unsigned char>(to.prefix);
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
  }
  if (to.prefix > 0) msg.AddAttr(RTA_DST, to.addr, AddrLen(to));
  msg.AddAttr(RTA_GATEWAY, via.addr, AddrLen(via));
  return NlTransact(&msg);
}

struct LinkConfig {
  std::string ifname, alias;
  int mtu = 0;
  std::vector<std::pair<std::string, Cidr>> addresses;  // as written, parsed
};
struct RouteConfig {
  std::string to, via;  // as written
  Cidr dst, gateway;
};

// On the job's thread, inside the namespace: each step's `what` is the `ip` line it stands for.
int Configure(const std::vector<LinkConfig>& links, const std::vector<RouteConfig>& routes, std::string* what) {
  for (const auto& l : links) {
    *what = "link set " + l.ifname + " alias " + l.alias + (l.mtu > 0 ? " mtu " + std::to_string(l.mtu) : "");
    if (int err = SetLink(l.ifname, l.alias, l.mtu, false)) return err;
    for (const auto& [text, c] : l.addresses) {
      *what = "addr add " + text + " dev " + l.ifname;
      if (int err = AddAddress(l.ifname, c)) return err;
    }
    *what = "link set " + l.ifname + " up";
    if (int err = SetLink(l.ifname, "", 0, true)) return err;
  }
  for (const auto& r : routes) {
    *what = "route add " + r.to + " via " + r.via;
    if (int err = AddRoute(r.dst, r.gateway)) return err;
  }
  return 0;
}

// Reads netnsConfigure's links argument; false after throwing a TypeError.
bool ArgLinks(Napi::Env env, Napi::Value v, std::vector<LinkConfig>* out) {
  if (!v.IsArray()) {
    TypeErr(env, "links must be an array");
    return false;
  }
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Object o = arr.Get(i).As<Napi::Object>();
    LinkConfig l;
    l.ifname = o.Get("ifname").ToString().Utf8Value();
    l.alias = o.Get("alias").ToString().Utf8Value();
    l.mtu = o.Get("mtu").IsNumber() ? o.Get("mtu").As<Napi::Number>().Int32Value() : 0;
    Napi::Array addrs = o.Get("addresses").As<Napi::Array>();
    for (uint32_t k = 0; k < addrs.Length(); k++) {
      std::string text = addrs.Get(k).ToString().Utf8Value();
      Cidr c;
      if (!ParseCidr(text, &c)) {
        TypeErr(env, text + " is not an address with a prefix length");
        return false;
      }
      l.addresses.emplace_back(text, c);
    }
    out->push_back(std::move(l));
  }
  return true;
}

// Reads netnsConfigure's routes argument; false after throwing a TypeError.
bool ArgRoutes(Napi::Env env, Napi::Value v, std::vector<RouteConfig>* out) {
  if (!v.IsArray()) {
    TypeErr(env, "routes must be an array");
    return false;
  }
  Napi::Array arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Object o = arr.Get(i).As<Napi::Object>();
    RouteConfig r;
    r.to = o.Get("to").ToString().Utf8Value();
    r.via = o.Get("via").ToString().Utf8Value();
    if (!ParseCidr(r.via, &r.gateway)) {
      TypeErr(env, r.via + " is not an address");
      return false;
    }
    bool dflt = r.to == "default";
    if (dflt) r.dst.family = r.gateway.family;
    if (!dflt && !ParseCidr(r.to, &r.dst)) {
      TypeErr(env, r.to + " is neither default nor a prefix");
      return false;
    }
    out->push_back(std::move(r));
  }
  return true;
}

// netnsConfigure(netns, [{ifname, alias, mtu?, addresses}], [{to, via}])
Napi::Value NetnsConfigure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NsJob job;
  std::vector<LinkConfig> links;
  std::vector<RouteConfig> routes;
  if (!ArgNetns(info, 0, &job.netns) || !ArgLinks(env, info[1], &links) || !ArgRoutes(env, info[2], &routes))
    return env.Undefined();
  job.fn = [&](std::string* what) { return Configure(links, routes, what); };
  RunInNetns(env, &job);
  return env.Undefined();
}

// One end of netnsVethAdd's pair from JS ({netns, ifname, index, queues?}); its namespace opened into *ns.
bool ArgVethEnd(const Napi::CallbackInfo& info, size_t i, std::string* ifname, Fd* ns, VethEnd* e) {
  if (info.Length() <= i || !info[i].IsObject()) {
    TypeErr(info.Env(), "a veth end must be an object");
    return false;
  }
  Napi::Object o = info[i].As<Napi::Object>();
  *ifname = o.Get("ifname").ToString().Utf8Value();
  Napi::Value netns = o.Get("netns");
  if (netns.IsString()) {
    const std::string name = netns.As<Napi::String>().Utf8Value();
    if (!PlainNetnsName(name)) {
      TypeErr(info.Env(), "a veth end's netns must be a name under /run/netns");
      return false;
    }
    std::string what;
    if (int err = OpenNetns(name, ns, &what)) {
      ThrowErrno(info.Env(), err, what);
      return false;
    }
  }
  e->ifname = ifname->c_str();
  e->netns_fd = ns->get();
  e->index = o.Get("index").IsNumber() ? o.Get("index").As<Napi::Number>().Int32Value() : 0;
  e->queues = o.Get("queues").IsNumber() ? o.Get("queues").As<Napi::Number>().Int32Value() : 0;
  return true;
}

// netnsVethAdd(a, b); throws an errno error naming the pair.
Napi::Value NetnsVethAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name_a, name_b;
  Fd ns_a, ns_b;
  VethEnd a{nullptr}, b{nullptr};
  if (!ArgVethEnd(info, 0, &name_a, &ns_a, &a) || !ArgVethEnd(info, 1, &name_b, &ns_b, &b)) return env.Undefined();
  if (int err = AddVethPair(a, b)) ThrowErrno(env, err, "link add " + name_a + " type veth peer " + name_b);
  return env.Undefined();
}

}  // namespace

void RegisterNetnsTopologyFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("netnsMake", Napi::Function::New(env, NetnsMake, "netnsMake"));
  exports.Set("netnsDelete", Napi::Function::New(env, NetnsDelete, "netnsDelete"));
  exports.Set("netnsLinks", Napi::Function::New(env, NetnsLinks, "netnsLinks"));
  exports.Set("netnsVethAdd", Napi::Function::New(env, NetnsVethAdd, "netnsVethAdd"));
  exports.Set("netnsConfigure", Napi::Function::New(env, NetnsConfigure, "netnsConfigure"));
}

}  // namespace ebp
