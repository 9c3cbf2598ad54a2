// netnsPingAsync(probes, timeoutMs, intervalMs) → [{ttl?, error?}]: an ICMP echo from inside each probe's
// namespace to its address, all at once, each on a thread of its own (see net/netns.h), as
// `ip netns exec NS ping -c 1 -i INTERVAL -w TIMEOUT ADDRESS` does: a request every interval until the
// first reply or the deadline; the reply's TTL (IPv4) or hop limit (IPv6) is what it arrived with.
// Raw ICMP sockets (root, CAP_NET_RAW): no ping process per probe.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/errno_text.h"
#include "core/fd.h"
#include "core/js_args.h"
#include "core/js_worker.h"
#include "core/threads.h"
#include "net/netns.h"

namespace ebp {

namespace {

struct Probe {
  std::string netns;  // "" for ours
  int family = 4;
  std::string address;
  uint16_t id = 0;
  int ttl = -1;  // the reply's, once one came
  std::string error;
};

int64_t NowMs() { return static_cast<int64_t>(MonoNs() / 1000000); }

uint16_t Checksum(const uint8_t* p, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += static_cast<uint32_t>(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

// One echo request (an ICMPv6 socket fills in the checksum itself).
int SendEcho(int fd, const Probe& p, const sockaddr_storage& dst, socklen_t len, uint16_t seq) {
  uint8_t pkt[16] = {};
  pkt[0] = p.family == 4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
  std::memcpy(pkt + 4, &p.id, 2);
  uint16_t s = htons(seq);
  std::memcpy(pkt + 6, &s, 2);
  if (p.family == 4) {
    uint16_t c = Checksum(pkt, sizeof(pkt));
    std::memcpy(pkt + 2, &c, 2);
  }
  return sendto(fd, pkt, sizeof(pkt), 0, reinterpret_cast<const sockaddr*>(&dst), len) < 0 ? errno : 0;
}

// The TTL of an echo reply to this probe in what the socket received, or -1 (another packet).
int ReplyTtl(const Probe& p, const uint8_t* buf, ssize_t n, const msghdr& msg) {
  if (p.family == 4) {
    if (n < 20) return -1;
    size_t ihl = (buf[0] & 0x0f) * 4u;
    if (static_cast<size_t>(n) < ihl + 8 || buf[ihl] != ICMP_ECHOREPLY || std::memcmp(buf + ihl + 4, &p.id, 2) != 0)
      return -1;
    return buf[8];
  }
  if (n < 8 || buf[0] != ICMP6_ECHO_REPLY || std::memcmp(buf + 4, &p.id, 2) != 0) return -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(const_cast<msghdr*>(&msg)); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
      int hl;
      std::memcpy(&hl, CMSG_DATA(c), sizeof(hl));
      return hl;
    }
  }
  return -1;
}

// Waits up to `ms` for this probe's reply; its TTL, or -1.
int AwaitReply(int fd, const Probe& p, const sockaddr_storage& dst, int64_t ms) {
  const int64_t end = NowMs() + ms;
  for (int64_t left = ms; left > 0; left = end - NowMs()) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
    uint8_t buf[1500];
    sockaddr_storage from;
    alignas(cmsghdr) char ctl[64];
    iovec iov{buf, sizeof(buf)};
    msghdr msg{&from, sizeof(from), &iov, 1, ctl, sizeof(ctl), 0};
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
    bool same = p.family == 4 ? std::memcmp(&reinterpret_cast<sockaddr_in*>(&from)->sin_addr,
                                            &reinterpret_cast<const sockaddr_in*>(&dst)->sin_addr, 4) == 0
                              : std::memcmp(&reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr,
                                            &reinterpret_cast<const sockaddr_in6*>(&dst)->sin6_addr, 16) == 0;
    int ttl = n > 0 && same ? ReplyTtl(p, buf, n, msg) : -1;
    if (ttl >= 0) return ttl;
  }
  return -1;
}

// The probe's address as a socket address; false when it is not one of its family.
bool Destination(const Probe& p, sockaddr_storage* dst, socklen_t* len) {
  if (p.family == 4) {
    auto* a = reinterpret_cast<sockaddr_in*>(dst);
    a->sin_family = AF_INET;
    *len = sizeof(*a);
    return inet_pton(AF_INET, p.address.c_str(), &a->sin_addr) == 1;
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(dst);
  a->sin6_family = AF_INET6;
  *len = sizeof(*a);
  return inet_pton(AF_INET6, p.address.c_str(), &a->sin6_addr) == 1;
}

// On the probe's thread, inside its namespace.
int Ping(Probe* p, int64_t timeout_ms, int64_t interval_ms, std::string* what) {
  sockaddr_storage dst{};
  socklen_t len;
  if (!Destination(*p, &dst, &len)) {
    *what = p->address + " is not an IPv" + std::to_string(p->family) + " address";
    return EINVAL;
  }
  const int proto = p->family == 4 ? static_cast<int>(IPPROTO_ICMP) : static_cast<int>(IPPROTO_ICMPV6);
  *what = "opening a raw ICMP socket";
  Fd fd(socket(p->family == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, proto));
  if (!fd.valid()) return errno;
  if (p->family == 6) {
    icmp6_filter f;
    ICMP6_FILTER_SETBLOCKALL(&f);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
    int on = 1;
    setsockopt(fd.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
  }
  const int64_t deadline = NowMs() + timeout_ms;
  int last_err = 0;
  for (uint16_t seq = 1; NowMs() < deadline; seq++) {
    last_err = SendEcho(fd.get(), *p, dst, len, seq);
    int ttl = AwaitReply(fd.get(), *p, dst, std::min(interval_ms, deadline - NowMs()));
    if (ttl >= 0) {
      p->ttl = ttl;
      return 0;
    }
  }
  p->error = last_err ? "no reply (" + ErrnoText(last_err) + ")" : "no reply";
  return 0;
}

class PingWorker : public PromiseWorker {
 public:
  PingWorker(Napi::Env env, std::vector<Probe> probes, int64_t timeout_ms, int64_t interval_ms)
      : PromiseWorker(env), probes_(std::move(probes)), timeout_ms_(timeout_ms), interval_ms_(interval_ms) {}

  void Execute() override {
    std::vector<Thread> threads(probes_.size());
    for (size_t i = 0; i < probes_.size(); i++) {
      Probe* p = &probes_[i];
      int rc = threads[i].Start(
          [this, p] {
            std::string what;
            int err = EnterNetns(p->netns, &what);
            if (!err) err = Ping(p, timeout_ms_, interval_ms_, &what);
            if (err) p->error = what + ": " + ErrnoText(err);
          },
          true);
      if (rc) p->error = "starting a thread: " + ErrnoText(rc);
    }
    for (auto& t : threads) t.Join();
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, probes_.size());
    for (size_t i = 0; i < probes_.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      if (probes_[i].ttl >= 0) o.Set("ttl", Napi::Number::New(env, probes_[i].ttl));
      if (!probes_[i].error.empty()) o.Set("error", Napi::String::New(env, probes_[i].error));
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

 private:
  std::vector<Probe> probes_;
  int64_t timeout_ms_, interval_ms_;
};

// netnsPingAsync([{netns, family, address}], timeoutMs, intervalMs)
Napi::Value NetnsPingAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t timeout_ms, interval_ms;
  if (info.Length() < 1 || !info[0].IsArray()) return TypeErr(env, "probes must be an array");
  if (!ArgInt(info, 1, "timeoutMs", &timeout_ms) || !ArgInt(info, 2, "intervalMs", &interval_ms))
    return env.Undefined();
  if (interval_ms <= 0) return TypeErr(env, "intervalMs must be positive");
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<Probe> probes(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Object o = arr.Get(i).As<Napi::Object>();
    Napi::Value ns = o.Get("netns");
    probes[i].netns = ns.IsString() ? ns.As<Napi::String>().Utf8Value() : "";
    probes[i].family = o.Get("family").ToNumber().Int32Value() == 6 ? 6 : 4;
    probes[i].address = o.Get("address").ToString().Utf8Value();
    probes[i].id = htons(static_cast<uint16_t>((getpid() + i * 7919) & 0xffff));
  }
  auto* w = new PingWorker(env, std::move(probes), timeout_ms, interval_ms);
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

}  // namespace

void RegisterNetnsPingFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("netnsPingAsync", Napi::Function::New(env, NetnsPingAsync, "netnsPingAsync"));
}

}  // namespace ebp
