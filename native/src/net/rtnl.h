// Minimal rtnetlink (NETLINK_ROUTE): a message builder and one request on a socket of the calling thread's
// network namespace, answered by an ack or, for a dump, by the messages it lists.
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstdint>
#include <cstring>
#include <functional>

namespace ebp {

class NlMessage {
 public:
  NlMessage(uint16_t type, uint16_t flags) {
    std::memset(buf_, 0, sizeof(buf_));
    nlmsghdr* h = hdr();
    h->nlmsg_len = NLMSG_LENGTH(0);
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = 1;
  }
  nlmsghdr* hdr() { return reinterpret_cast<nlmsghdr*>(buf_); }
  bool overflow() const { return overflow_; }

  // Appends `len` zero bytes (4-byte aligned) and returns them.
  char* Reserve(size_t len) {
    size_t off = NLMSG_ALIGN(hdr()->nlmsg_len);
    size_t next = off + NLMSG_ALIGN(len);
    if (overflow_ || next > sizeof(buf_)) {
      overflow_ = true;
      return nullptr;
    }
    hdr()->nlmsg_len = static_cast<uint32_t>(next);
    return buf_ + off;
  }
  void AddAttr(uint16_t type, const void* data, size_t len) {
    char* p = Reserve(RTA_LENGTH(len));
    if (!p) return;
    rtattr* rta = reinterpret_cast<rtattr*>(p);
    rta->rta_type = type;
    rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    std::memcpy(RTA_DATA(rta), data, len);
  }
  void AddString(uint16_t type, const char* s) { AddAttr(type, s, std::strlen(s) + 1); }
  size_t BeginNest(uint16_t type) {
    char* p = Reserve(RTA_LENGTH(0));
    if (!p) return 0;
    reinterpret_cast<rtattr*>(p)->rta_type = type;
    return static_cast<size_t>(p - buf_);
  }
  void EndNest(size_t off) {
    if (overflow_) return;
    rtattr* rta = reinterpret_cast<rtattr*>(buf_ + off);
    rta->rta_len = static_cast<unsigned short>(hdr()->nlmsg_len - off);
  }

 private:
  alignas(nlmsghdr) char buf_[512];
  bool overflow_ = false;
};

// Sends msg and waits for its ack, or (NLM_F_DUMP) passes each message of the dump to `each` until it ends.
// Returns 0 or errno.
int NlTransact(NlMessage* msg, const std::function<void(const nlmsghdr*)>& each = nullptr);

// One end of a veth pair: its name, and where it goes (a namespace fd; -1: the caller's), its ifindex
// (0: the kernel picks) and queue count (0: the default).
struct VethEnd {
  const char* ifname;
  int netns_fd = -1;
  int index = 0;
  int queues = 0;
};

// ip link add A [netns NS] [index I] [numtxqueues Q numrxqueues Q] type veth peer B [...]: 0 or errno.
int AddVethPair(const VethEnd& a, const VethEnd& b);

}  // namespace ebp
