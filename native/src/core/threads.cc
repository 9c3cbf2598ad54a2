// Threads, pinning and clocks.
#include "core/threads.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

namespace ebp {

uint64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t ThreadCpuNs() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

int PinThisThread(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return EINVAL;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set)) return errno;
  if (sched_getcpu() != cpu) return EAGAIN;
  return 0;
}

namespace {
void* ThreadMain(void* arg) {
  (*static_cast<std::function<void()>*>(arg))();
  return nullptr;
}
}  // namespace

int Thread::Start(std::function<void()> fn, bool block_signals) {
  Join();
  fn_ = new std::function<void()>(std::move(fn));
  sigset_t all, old;
  if (block_signals) {
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
  }
  int rc = pthread_create(&id_, nullptr, ThreadMain, fn_);
  if (block_signals) pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (rc != 0) {
    delete fn_;
    fn_ = nullptr;
    return rc;
  }
  started_ = true;
  return 0;
}

void Thread::Join() {
  if (started_) pthread_join(id_, nullptr);
  started_ = false;
  delete fn_;
  fn_ = nullptr;
}

int RunPinned(int cpu, const std::function<void()>& fn) {
  int pin_err = 0;
  Thread t;
  if (int err = t.Start([&] {
        pin_err = PinThisThread(cpu);
        if (!pin_err) fn();
      }))
    return err;
  t.Join();
  return pin_err;
}

}  // namespace ebp
