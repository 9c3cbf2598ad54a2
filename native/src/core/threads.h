// Threads that can fail to start without exceptions, CPU pinning and the clocks the runners read.
#pragma once

#include <pthread.h>

#include <cstdint>
#include <functional>

namespace ebp {

// A joinable thread whose start can fail cleanly: std::thread throws on a failed start, and this addon is
// built without exceptions, so that would abort the process. Start() returns 0 or errno; the destructor
// joins. block_signals: the thread starts with every signal blocked, so the process's signals (Ctrl-C
// for the JS side) are never delivered to it.
class Thread {
 public:
  Thread() = default;
  ~Thread() { Join(); }
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  Thread(Thread&& o) noexcept : id_(o.id_), started_(o.started_), fn_(o.fn_) {
    o.started_ = false;
    o.fn_ = nullptr;
  }
  int Start(std::function<void()> fn, bool block_signals = false);
  void Join();
  bool Running() const { return started_; }

 private:
  pthread_t id_{};
  bool started_ = false;
  std::function<void()>* fn_ = nullptr;  // owned; freed by Join()
};

// CLOCK_MONOTONIC in ns (the clock bpf_ktime_get_ns reads).
uint64_t MonoNs();
// CPU time of the calling thread in ns.
uint64_t ThreadCpuNs();
// Pins the calling thread to `cpu`; 0 or errno. Checks with sched_getcpu that it moved.
int PinThisThread(int cpu);
// Runs fn on a new thread pinned to `cpu` and waits for it; returns the start or pin error (fn does not run then).
int RunPinned(int cpu, const std::function<void()>& fn);

}  // namespace ebp
