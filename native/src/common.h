// Shared types and helpers for the ebpfperf native addon.
//
// Everything in here is plain C++ (no N-API): the probes produce ProbeResult
// values and addon.cc converts them to JS objects.
#pragma once

#include <linux/bpf.h>
#include <pthread.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <string>

namespace ebp {

// ---------------------------------------------------------------------------
// Constants that the system headers (uapi 6.1, libbpf 1.1) do not know yet.
// Values checked against the running kernel's BTF (enum bpf_attach_type).
constexpr uint32_t kAttachTcxIngress = 46;        // BPF_TCX_INGRESS (6.6)
constexpr uint32_t kAttachTcxEgress = 47;         // BPF_TCX_EGRESS (6.6)
constexpr uint32_t kAttachTraceUprobeMulti = 48;  // BPF_TRACE_UPROBE_MULTI (6.6)
constexpr int kENOTSUPP = 524;                    // kernel-internal ENOTSUPP, leaks out of bpf()

// ---------------------------------------------------------------------------
// Probe results

enum class Stage { Ok, Setup, Load, Attach };

struct ProbeResult {
  bool ok = false;
  Stage stage = Stage::Setup;
  int err = 0;  // positive errno, 0 when ok
  std::string message;
  std::string detail;  // may be empty
};

const char* StageName(Stage stage);

// "EPERM", "ENOENT", ... ("E<n>" for numbers we do not know, "" for 0).
std::string ErrnoCode(int err);
// strerror() text, with a readable text for kernel-internal codes (524).
std::string ErrnoText(int err);

// Successful result: message "attached via ..." etc.
ProbeResult Ok(std::string message, std::string detail = "");
// Failure with a fixed, complete message.
ProbeResult FailMsg(Stage stage, int err, std::string message, std::string detail = "");
// Failure of an operation: message "<op> failed: <strerror> (<CODE>)".
ProbeResult FailOp(Stage stage, int err, const std::string& op, std::string detail = "");

// Appends "; " + extra to detail (or sets it when empty).
void AddDetail(ProbeResult* r, const std::string& extra);

// ---------------------------------------------------------------------------
// File descriptor owner: closes on destruction, on every path.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_;
};

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

// Deferred teardown (teardown.cc). On a thread with tl_defer_teardown set, DeferTeardown() moves the
// fds (in close order) to a pending list instead of letting them close; ReleaseDeferred() hands the list
// to a short-lived grandchild process that closes them and exits, closes this process's copies, and
// returns the forked child's pid (0 when nothing was pending or the hand-over failed: *err says why,
// and the fds were then closed here). *count: how many fds there were.
extern thread_local bool tl_defer_teardown;
void DeferTeardown(std::initializer_list<Fd*> fds);
int ReleaseDeferred(int* count, int* err);

// Zero-initialised libbpf "opts" struct with .sz set (C++ stand-in for LIBBPF_OPTS).
template <typename T>
T MakeOpts() {
  T opts;
  std::memset(&opts, 0, sizeof(opts));
  opts.sz = sizeof(opts);
  return opts;
}

// ---------------------------------------------------------------------------
// libbpf message capture (libbpf_set_print). Messages never reach stderr;
// probes clear the buffer before they start and read it on failure.
void InstallLibbpfPrint();
void ClearLibbpfLog();
std::string LibbpfLog();

// First `max_lines` non-empty lines of `text`, joined with " | ".
std::string FirstLines(const std::string& text, size_t max_lines);
// Last `n` non-empty lines of `text`, joined with "\n" (the verifier's verdict is at the end).
std::string LastLines(const std::string& text, size_t n);

// ---------------------------------------------------------------------------
// Names for messages: "BPF_PROG_TYPE_XDP", "BPF_TRACE_FENTRY", ...
std::string ProgTypeName(uint32_t prog_type);
std::string MapTypeName(uint32_t map_type);
std::string AttachTypeName(uint32_t attach_type);

// ---------------------------------------------------------------------------
// Loading the trivial program "r0 = 0; exit" (r0 = spec.return_value) with bpf_prog_load().

struct ProgSpec {
  uint32_t prog_type = 0;
  uint32_t expected_attach_type = 0;
  bool has_expected = false;  // mention the attach type in messages
  uint32_t attach_btf_id = 0;
  uint32_t kern_version = 0;
  int32_t return_value = 0;  // r0; cgroup probes use 1 (allow) so they can never drop traffic
  std::string target;  // for messages only ("bpf_fentry_test1")
};

// "BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY → bpf_fentry_test1"
std::string DescribeProg(const ProgSpec& spec);

struct LoadResult {
  Fd fd;
  int err = 0;
  std::string verifier_log;  // first lines of the verifier log (failure only)
};

LoadResult LoadTrivialProg(const ProgSpec& spec);

// Load + standard failure result. On failure returns false and fills *fail.
bool LoadOrFail(const ProgSpec& spec, Fd* out, ProbeResult* fail);

// LINUX_VERSION_CODE of the running kernel (for old KPROBE loaders).
uint32_t RunningKernelVersionCode();

// File and file offset of the code at `addr` in this process (for uprobes). Returns 0 or errno (*why says why).
int ResolveCodeAddress(uintptr_t addr, std::string* path, uint64_t* offset, std::string* why);

// CLOCK_MONOTONIC in ns (the clock bpf_ktime_get_ns reads).
uint64_t MonoNs();
// Pins the calling thread to `cpu`; 0 or errno. Checks with sched_getcpu that it moved.
int PinThisThread(int cpu);
// Runs fn on a new thread pinned to `cpu` and waits for it; returns the start or pin error (fn does not run then).
int RunPinned(int cpu, const std::function<void()>& fn);
// bpf_obj_get_info_by_fd for a program: 0 or errno.
int GetProgInfo(int fd, bpf_prog_info* out);

// Reads a whole (small or /proc) file. Returns 0 or errno.
int ReadFile(const std::string& path, std::string* out);

}  // namespace ebp
