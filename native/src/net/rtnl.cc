// Minimal rtnetlink (net/rtnl.h).
#include "net/rtnl.h"

#include <errno.h>
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

}  // namespace ebp
