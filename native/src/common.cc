// Result helpers, errno names, libbpf log capture and the trivial-program loader.
#include "common.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/utsname.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <vector>

namespace ebp {

// ---------------------------------------------------------------------------
// Results

const char* StageName(Stage stage) {
  switch (stage) {
    case Stage::Ok:
      return "ok";
    case Stage::Setup:
      return "setup";
    case Stage::Load:
      return "load";
    case Stage::Attach:
      return "attach";
  }
  return "setup";
}

std::string ErrnoCode(int err) {
  switch (err) {
    case 0: return "";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case EPIPE: return "EPIPE";
    case ERANGE: return "ERANGE";
    case EDEADLK: return "EDEADLK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case ENOMSG: return "ENOMSG";
    case ENODATA: return "ENODATA";
    case ENOLINK: return "ENOLINK";
    case EPROTO: return "EPROTO";
    case EBADMSG: return "EBADMSG";
    case EOVERFLOW: return "EOVERFLOW";
    case EILSEQ: return "EILSEQ";
    case EMSGSIZE: return "EMSGSIZE";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETDOWN: return "ENETDOWN";
    case ENOBUFS: return "ENOBUFS";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EALREADY: return "EALREADY";
    case EINPROGRESS: return "EINPROGRESS";
    case ECANCELED: return "ECANCELED";
    case kENOTSUPP: return "ENOTSUPP";
    default: return "E" + std::to_string(err);
  }
}

std::string ErrnoText(int err) {
  if (err == kENOTSUPP) return "Operation not supported by the kernel (ENOTSUPP)";
  char buf[128];
  // GNU strerror_r returns a pointer that may or may not be buf.
  const char* text = strerror_r(err, buf, sizeof(buf));
  return text ? text : ("errno " + std::to_string(err));
}

ProbeResult Ok(std::string message, std::string detail) {
  ProbeResult r;
  r.ok = true;
  r.stage = Stage::Ok;
  r.err = 0;
  r.message = std::move(message);
  r.detail = std::move(detail);
  return r;
}

ProbeResult FailMsg(Stage stage, int err, std::string message, std::string detail) {
  ProbeResult r;
  r.ok = false;
  r.stage = stage == Stage::Ok ? Stage::Setup : stage;
  r.err = err > 0 ? err : EINVAL;  // a failure always carries a positive errno
  r.message = std::move(message);
  r.detail = std::move(detail);
  return r;
}

ProbeResult FailOp(Stage stage, int err, const std::string& op, std::string detail) {
  if (err <= 0) err = EINVAL;
  std::string code = ErrnoCode(err);
  std::string text = ErrnoText(err);
  std::string message = op + " failed: " + text;
  if (text.find(code) == std::string::npos) message += " (" + code + ")";
  return FailMsg(stage, err, std::move(message), std::move(detail));
}

void AddDetail(ProbeResult* r, const std::string& extra) {
  if (extra.empty()) return;
  if (r->detail.empty())
    r->detail = extra;
  else
    r->detail += "; " + extra;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

// ---------------------------------------------------------------------------
// libbpf log capture

namespace {

// Per thread: probes may run concurrently on libuv's worker threads, and
// libbpf calls the print callback on the thread that made the failing call.
thread_local std::string t_log;
// The tail is kept: libbpf hands over a whole verifier log (tens of KiB) as one message, and the
// verifier states its reason on the last lines.
constexpr size_t kMaxLog = 64 * 1024;

int CapturePrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  va_list again;
  va_copy(again, args);
  int n = vsnprintf(nullptr, 0, fmt, args);
  if (n > 0) {
    std::string msg(static_cast<size_t>(n) + 1, '\0');
    vsnprintf(msg.data(), msg.size(), fmt, again);
    msg.pop_back();
    t_log.append(msg);
    if (t_log.size() > kMaxLog) {
      size_t cut = t_log.find('\n', t_log.size() - kMaxLog);
      t_log.erase(0, cut == std::string::npos ? t_log.size() - kMaxLog : cut + 1);
    }
  }
  va_end(again);
  return 0;
}

}  // namespace

void InstallLibbpfPrint() { libbpf_set_print(CapturePrint); }

void ClearLibbpfLog() { t_log.clear(); }

std::string LibbpfLog() { return t_log; }

std::string LastLines(const std::string& text, size_t n) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (nl > pos) lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); i++) out += (out.empty() ? "" : "\n") + lines[i];
  return out;
}

std::string FirstLines(const std::string& text, size_t max_lines) {
  std::string out;
  size_t lines = 0;
  size_t pos = 0;
  while (pos < text.size() && lines < max_lines) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) {
      if (!out.empty()) out += " | ";
      out += line;
      ++lines;
    }
    pos = end + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Names

namespace {

std::string Upper(const char* s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string ProgTypeName(uint32_t prog_type) {
  const char* s = libbpf_bpf_prog_type_str(static_cast<enum bpf_prog_type>(prog_type));
  if (s) return "BPF_PROG_TYPE_" + Upper(s);
  return "prog type " + std::to_string(prog_type);
}

std::string MapTypeName(uint32_t map_type) {
  const char* s = libbpf_bpf_map_type_str(static_cast<enum bpf_map_type>(map_type));
  if (s) return "BPF_MAP_TYPE_" + Upper(s);
  return "map type " + std::to_string(map_type);
}

std::string AttachTypeName(uint32_t attach_type) {
  // libbpf 1.1 does not know the 6.6+ attach types.
  if (attach_type == kAttachTcxIngress) return "BPF_TCX_INGRESS";
  if (attach_type == kAttachTcxEgress) return "BPF_TCX_EGRESS";
  if (attach_type == kAttachTraceUprobeMulti) return "BPF_TRACE_UPROBE_MULTI";
  const char* s = libbpf_bpf_attach_type_str(static_cast<enum bpf_attach_type>(attach_type));
  if (s) return "BPF_" + Upper(s);
  return "attach type " + std::to_string(attach_type);
}

// ---------------------------------------------------------------------------
// Program loading

std::string DescribeProg(const ProgSpec& spec) {
  std::string s = ProgTypeName(spec.prog_type);
  if (spec.has_expected) s += ", " + AttachTypeName(spec.expected_attach_type);
  if (!spec.target.empty()) s += " \xE2\x86\x92 " + spec.target;  // " → "
  return s;
}

namespace {

constexpr bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  return bpf_insn{code, dst, src, off, imm};
}

}  // namespace

LoadResult LoadTrivialProg(const ProgSpec& spec) {
  LoadResult result;
  // log_level 0 + a buffer: libbpf retries with log_level 1 only on failure,
  // so successful loads do not pay for verifier logging.
  static thread_local char log_buf[16 * 1024];
  log_buf[0] = '\0';

  auto opts = MakeOpts<bpf_prog_load_opts>();
  opts.expected_attach_type = static_cast<enum bpf_attach_type>(spec.expected_attach_type);
  opts.attach_btf_id = spec.attach_btf_id;
  opts.kern_version = spec.kern_version;
  opts.log_buf = log_buf;
  opts.log_size = sizeof(log_buf);
  opts.log_level = 0;

  const bpf_insn insns[] = {
      Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, spec.return_value),  // BPF_MOV64_IMM(BPF_REG_0, n)
      Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),                                   // BPF_EXIT_INSN()
  };
  int fd = bpf_prog_load(static_cast<enum bpf_prog_type>(spec.prog_type), "ebpfperf_probe", "GPL",
                         insns, sizeof(insns) / sizeof(insns[0]), &opts);
  if (fd < 0) {
    result.err = errno ? errno : EINVAL;
    log_buf[sizeof(log_buf) - 1] = '\0';
    result.verifier_log = FirstLines(log_buf, 3);
    return result;
  }
  result.fd.reset(fd);
  return result;
}

bool LoadOrFail(const ProgSpec& spec, Fd* out, ProbeResult* fail) {
  LoadResult lr = LoadTrivialProg(spec);
  if (lr.fd.valid()) {
    *out = std::move(lr.fd);
    return true;
  }
  *fail = FailOp(Stage::Load, lr.err, "prog load (" + DescribeProg(spec) + ")");
  if (!spec.target.empty()) AddDetail(fail, "target " + spec.target);
  if (!lr.verifier_log.empty()) AddDetail(fail, "verifier: " + lr.verifier_log);
  std::string libbpf_log = FirstLines(LibbpfLog(), 3);
  if (!libbpf_log.empty()) AddDetail(fail, "libbpf: " + libbpf_log);
  return false;
}

uint32_t RunningKernelVersionCode() {
  struct utsname u;
  if (uname(&u) != 0) return 0;
  unsigned major = 0, minor = 0, patch = 0;
  if (sscanf(u.release, "%u.%u.%u", &major, &minor, &patch) < 2) return 0;
  if (patch > 255) patch = 255;
  return (major << 16) + (minor << 8) + patch;
}

int ReadFile(const std::string& path, std::string* out) {
  out->clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  Fd guard(fd);
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  return 0;
}

// File and file offset of code at `addr` in this process, for uprobes (file offset = addr - start + pgoff,
// from /proc/self/maps). When the file was replaced after it was mapped (a rebuild of the addon), the
// mapping's /proc/self/map_files entry still names the old inode, which is the code this process runs.
int ResolveCodeAddress(uintptr_t addr, std::string* path, uint64_t* offset, std::string* why) {
  std::string maps;
  if (int err = ReadFile("/proc/self/maps", &maps)) {
    *why = "cannot read /proc/self/maps";
    return err;
  }
  size_t pos = 0;
  while (pos < maps.size()) {
    size_t end = maps.find('\n', pos);
    if (end == std::string::npos) end = maps.size();
    const std::string line = maps.substr(pos, end - pos);
    pos = end + 1;
    unsigned long start = 0, stop = 0, pgoff = 0;
    char perms[8] = {0};
    int path_at = 0;
    if (sscanf(line.c_str(), "%lx-%lx %7s %lx %*s %*s %n", &start, &stop, perms, &pgoff, &path_at) < 4) continue;
    if (addr < start || addr >= stop) continue;
    std::string p = path_at > 0 ? line.substr(static_cast<size_t>(path_at)) : "";
    while (!p.empty() && (p.back() == ' ' || p.back() == '\n')) p.pop_back();
    if (p.empty() || p[0] != '/') {
      *why = "the code mapping has no file path";
      return ENOENT;
    }
    const std::string deleted = " (deleted)";
    if (p.size() > deleted.size() && p.compare(p.size() - deleted.size(), deleted.size(), deleted) == 0) {
      char buf[96];
      snprintf(buf, sizeof(buf), "/proc/%d/map_files/%lx-%lx", static_cast<int>(getpid()), start, stop);
      p = buf;
    }
    *path = p;
    *offset = addr - start + pgoff;
    return 0;
  }
  *why = "no mapping in /proc/self/maps contains the address";
  return ENOENT;
}

uint64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
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

int GetProgInfo(int fd, bpf_prog_info* out) {
  std::memset(out, 0, sizeof(*out));
  uint32_t len = sizeof(*out);
  return bpf_obj_get_info_by_fd(fd, out, &len) ? errno : 0;
}

}  // namespace ebp
