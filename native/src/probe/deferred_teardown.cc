// Deferred teardown of probe attachments.
//
// Detaching a uprobe waits for RCU grace periods (synchronize_rcu_tasks_trace and friends, under the
// kernel's event_mutex): on this machine closing one uprobe's link and perf event takes 120-150 ms, and
// the uprobe, uretprobe and uprobe.multi probes queue behind each other. The answer ("it attached") is
// known long before. So a probe asked to defer its teardown hands its fds to a pending list instead of
// closing them, and ReleaseDeferred() gives the whole list to a short-lived grandchild process
// ("ebp-teardown") that closes them in order and exits; the caller closes its own copies (cheap: the
// grandchild still holds the attachments) and goes on. Nothing is pinned: the attachments end when the
// grandchild's close() calls return, or when it dies, whatever kills it.
#include "probe/deferred_teardown.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <mutex>
#include <vector>

#include "core/fd.h"

namespace ebp {

thread_local bool tl_defer_teardown = false;

namespace {
std::mutex g_mu;
std::vector<int> g_pending;  // in the order they must be closed (links before the perf events they hold)

// In the grandchild: only raw system calls, no allocation (a fork of a multi-threaded process). `keep`
// (sorted) is every fd to keep: `fds` and the read end of `gate`. It waits for EOF on `gate` (every write
// end closed: the caller's after it has closed its own copies of the fds), so that its close() calls
// are the last references and carry the slow detach, not the caller's.
[[noreturn]] void CloseAndExit(const std::vector<int>& fds, const std::vector<int>& keep, int gate) {
  prctl(PR_SET_NAME, "ebp-teardown", 0, 0, 0);
  // every other inherited fd first: the caller's stdout/stderr pipes must not wait for us
  unsigned lo = 0;
  for (int fd : keep) {
    if (static_cast<unsigned>(fd) > lo) syscall(SYS_close_range, lo, static_cast<unsigned>(fd) - 1, 0);
    lo = static_cast<unsigned>(fd) + 1;
  }
  syscall(SYS_close_range, lo, UINT_MAX, 0);
  char byte;
  while (syscall(SYS_read, gate, &byte, 1) != 0) {
    if (errno != EINTR) break;
  }
  for (int fd : fds) syscall(SYS_close, fd);
  syscall(SYS_exit_group, 0);
  __builtin_unreachable();
}
}  // namespace

void DeferTeardown(std::initializer_list<Fd*> fds) {
  if (!tl_defer_teardown) return;  // closed by their destructors, as usual
  std::lock_guard<std::mutex> lock(g_mu);
  for (Fd* f : fds)
    if (f->valid()) g_pending.push_back(f->release());
}

int ReleaseDeferred(int* count, int* err) {
  std::vector<int> fds;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    fds.swap(g_pending);
  }
  *count = static_cast<int>(fds.size());
  *err = 0;
  if (fds.empty()) return 0;
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) != 0) {
    *err = errno;
    for (int fd : fds) close(fd);
    return 0;
  }
  std::vector<int> keep(fds);
  keep.push_back(gate[0]);
  std::sort(keep.begin(), keep.end());
  // Signals stay blocked in the children (no JS signal handler may run there); the caller's mask comes back after.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t child = fork();
  if (child == 0) {
    long grandchild = syscall(SYS_fork);
    if (grandchild == 0) CloseAndExit(fds, keep, gate[0]);
    syscall(SYS_exit_group, grandchild < 0 ? 1 : 0);  // the grandchild is init's to reap
  }
  bool handed = false;
  if (child < 0) {
    *err = errno;
  } else {
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    handed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!handed) *err = EAGAIN;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(gate[0]);
  // Our copies first (cheap while the grandchild holds the attachments; the whole slow teardown, done
  // here, when the hand-over failed), then the gate: the grandchild sees EOF and detaches.
  for (int fd : fds) close(fd);
  close(gate[1]);
  return handed ? static_cast<int>(child) : 0;
}

}  // namespace ebp
