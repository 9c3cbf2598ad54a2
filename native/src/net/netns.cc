// Entering a named network namespace (net/netns.h).
#include "net/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>

#include "core/fd.h"

namespace ebp {

int EnterNetns(const std::string& netns, std::string* what) {
  if (netns.empty()) return 0;
  const std::string path = netns[0] == '/' ? netns : "/run/netns/" + netns;
  Fd ns(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) {
    *what = "opening network namespace " + path;
    return errno;
  }
  if (setns(ns.get(), CLONE_NEWNET) != 0) {
    *what = "setns(" + path + ", CLONE_NEWNET)";
    return errno;
  }
  return 0;
}

}  // namespace ebp
