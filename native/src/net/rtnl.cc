// Minimal rtnetlink (net/rtnl.h).
#include "net/rtnl.h"

#include <errno.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <vector>

#include "core/fd.h"

namespace ebp {

int NlTransact(NlMessage* msg, const std::function<void(const nlmsghdr*)>& each) {
  if (msg->overflow()) return EMSGSIZE;
  Fd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock.valid()) return errno;
  sockaddr_nl kernel;
  std::memset(&kernel, 0, sizeof(kernel));
  kernel.nl_family = AF_NETLINK;
  nlmsghdr* h = msg->hdr();
  if (sendto(sock.get(), h, h->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) return errno;
  // a dump's parts are up to a page or two each; a shorter buffer would truncate them
  std::vector<char> buf(64 * 1024);
  for (;;) {
    ssize_t n = recv(sock.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    int len = static_cast<int>(n);
    for (nlmsghdr* r = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(r, len); r = NLMSG_NEXT(r, len)) {
      if (r->nlmsg_seq != h->nlmsg_seq) continue;
      if (r->nlmsg_type == NLMSG_ERROR) {
        const nlmsgerr* e = static_cast<const nlmsgerr*>(NLMSG_DATA(r));
        return e->error < 0 ? -e->error : 0;
      }
      if (r->nlmsg_type == NLMSG_DONE) return 0;
      if (each) each(r);
    }
  }
}

namespace {

// An ifinfomsg and the attributes of one end (the request's own, or VETH_INFO_PEER's).
void AddEnd(NlMessage* msg, const VethEnd& e) {
  if (char* p = msg->Reserve(sizeof(ifinfomsg))) {
    ifinfomsg* ifi = reinterpret_cast<ifinfomsg*>(p);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = e.index;
  }
  msg->AddString(IFLA_IFNAME, e.ifname);
  if (e.netns_fd >= 0) {
    uint32_t fd = static_cast<uint32_t>(e.netns_fd);
    msg->AddAttr(IFLA_NET_NS_FD, &fd, sizeof(fd));
  }
  if (e.queues > 0) {
    uint32_t q = static_cast<uint32_t>(e.queues);
    msg->AddAttr(IFLA_NUM_TX_QUEUES, &q, sizeof(q));
    msg->AddAttr(IFLA_NUM_RX_QUEUES, &q, sizeof(q));
  }
}

}  // namespace

int AddVethPair(const VethEnd& a, const VethEnd& b) {
  NlMessage msg(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  AddEnd(&msg, a);
  size_t linkinfo = msg.BeginNest(IFLA_LINKINFO);
  msg.AddAttr(IFLA_INFO_KIND, "veth", 4);
  size_t data = msg.BeginNest(IFLA_INFO_DATA);
  size_t peer = msg.BeginNest(VETH_INFO_PEER);
  AddEnd(&msg, b);
  msg.EndNest(peer);
  msg.EndNest(data);
  msg.EndNest(linkinfo);
  return NlTransact(&msg);
}

}  // namespace ebp
