// Feature probes that only load something: program types, map types, helpers.
// They wrap libbpf_probe_bpf_{prog_type,map_type,helper}() and add the errno.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>

#include "core/bpf_api.h"
#include "core/fd.h"
#include "core/libbpf_log.h"
#include "core/proc.h"
#include "probe/probes.h"
#include "probe/result.h"

namespace ebp {

namespace {

std::string HelperName(uint32_t helper_id) { return "helper #" + std::to_string(helper_id); }

// libbpf returned 0 ("not supported"): the errno of the failed bpf() call is
// still in errno. Returns a positive errno (EOPNOTSUPP if libbpf left none).
int ErrnoAfterZero(int saved) { return saved > 0 ? saved : EOPNOTSUPP; }

// Loads "call helper; exit" for `prog_type` and returns the first lines of the
// verifier log if the load fails ("" when it loads). Mirrors libbpf's choice
// of expected_attach_type for the program types that need one.
std::string HelperVerifierLog(uint32_t prog_type, uint32_t helper_id, bool* loaded, int* err) {
  const bpf_insn insns[] = {
      bpf_insn{BPF_JMP | BPF_CALL, 0, 0, 0, static_cast<int32_t>(helper_id)},  // BPF_EMIT_CALL
      bpf_insn{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},                                // BPF_EXIT_INSN
  };
  static thread_local char log_buf[8192];
  log_buf[0] = '\0';
  auto opts = MakeOpts<bpf_prog_load_opts>();
  switch (prog_type) {
    case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: opts.expected_attach_type = BPF_CGROUP_INET4_CONNECT; break;
    case BPF_PROG_TYPE_CGROUP_SOCKOPT: opts.expected_attach_type = BPF_CGROUP_GETSOCKOPT; break;
    case BPF_PROG_TYPE_SK_LOOKUP: opts.expected_attach_type = BPF_SK_LOOKUP; break;
    case BPF_PROG_TYPE_LIRC_MODE2: opts.expected_attach_type = BPF_LIRC_MODE2; break;
    case BPF_PROG_TYPE_KPROBE: opts.kern_version = RunningKernelVersionCode(); break;
    case BPF_PROG_TYPE_SYSCALL: opts.prog_flags = BPF_F_SLEEPABLE; break;
    default: break;
  }
  opts.log_buf = log_buf;
  opts.log_size = sizeof(log_buf);
  opts.log_level = 1;
  int fd = bpf_prog_load(static_cast<enum bpf_prog_type>(prog_type), "ebpfperf_probe", "GPL", insns, 2, &opts);
  *loaded = fd >= 0;
  *err = fd >= 0 ? 0 : errno;
  if (fd >= 0) {
    Fd guard(fd);
    return "";
  }
  log_buf[sizeof(log_buf) - 1] = '\0';
  // Keep only the line that explains the rejection when there is one.
  std::string log(log_buf);
  for (const char* needle : {"cannot use helper", "unknown func", "invalid func"}) {
    size_t pos = log.find(needle);
    if (pos == std::string::npos) continue;
    size_t start = log.rfind('\n', pos);
    start = start == std::string::npos ? 0 : start + 1;
    size_t end = log.find('\n', pos);
    return log.substr(start, end == std::string::npos ? std::string::npos : end - start);
  }
  return FirstLines(log, 3);
}

bool IsHelperRejection(const std::string& line) {
  return line.find("cannot use helper") != std::string::npos || line.find("unknown func") != std::string::npos ||
         line.find("invalid func") != std::string::npos;
}

}  // namespace

ProbeResult ProbeProgType(uint32_t prog_type) {
  const std::string name = ProgTypeName(prog_type);
  errno = 0;
  int ret = libbpf_probe_bpf_prog_type(static_cast<enum bpf_prog_type>(prog_type), nullptr);
  int saved = errno;
  if (ret == 1) return Ok(name + " is supported (libbpf_probe_bpf_prog_type)");
  if (ret < 0)
    return FailOp(Stage::Setup, -ret, "libbpf_probe_bpf_prog_type(" + name + ")",
                  "libbpf 1.1 cannot probe this program type");
  return FailOp(Stage::Load, ErrnoAfterZero(saved), "prog load probe for " + name + " (libbpf_probe_bpf_prog_type)");
}

ProbeResult ProbeMapType(uint32_t map_type) {
  const std::string name = MapTypeName(map_type);
  errno = 0;
  int ret = libbpf_probe_bpf_map_type(static_cast<enum bpf_map_type>(map_type), nullptr);
  int saved = errno;
  if (ret == 1) return Ok(name + " is supported (libbpf_probe_bpf_map_type)");
  if (ret < 0)
    return FailOp(Stage::Setup, -ret, "libbpf_probe_bpf_map_type(" + name + ")",
                  "libbpf 1.1 cannot probe this map type");
  return FailOp(Stage::Load, ErrnoAfterZero(saved), "map create probe for " + name + " (libbpf_probe_bpf_map_type)");
}

ProbeResult ProbeHelper(uint32_t prog_type, uint32_t helper_id) {
  const std::string prog = ProgTypeName(prog_type);
  const std::string helper = HelperName(helper_id);
  errno = 0;
  int ret = libbpf_probe_bpf_helper(static_cast<enum bpf_prog_type>(prog_type),
                                    static_cast<enum bpf_func_id>(helper_id), nullptr);
  int saved = errno;
  if (ret < 0)
    return FailOp(Stage::Setup, -ret, "libbpf_probe_bpf_helper(" + prog + ", " + helper + ")",
                  "libbpf 1.1 cannot probe helpers for this program type");

  // libbpf 1.1 only recognises the verifier's old wording ("unknown func",
  // "invalid func"); since 6.x the verifier says "program of this type cannot
  // use helper ...", which libbpf 1.1 takes for "supported". Confirm with our
  // own load and verifier log, which also gives us the verifier's line.
  bool loaded = false;
  int load_err = 0;
  std::string line = HelperVerifierLog(prog_type, helper_id, &loaded, &load_err);
  bool rejected = !loaded && IsHelperRejection(line);

  // Failed without any verifier output (EPERM, ...): the verifier never ran, so
  // nothing is known about the helper; libbpf 1.1 would still say "supported".
  if (!loaded && line.empty() && load_err > 0)
    return FailOp(Stage::Load, load_err, "prog load for the " + helper + " probe (" + prog + ")");

  if (ret == 1 && !rejected) return Ok(helper + " is available to " + prog + " (libbpf_probe_bpf_helper)");

  int err = ret == 0 && saved > 0 ? saved : (load_err > 0 ? load_err : EINVAL);
  ProbeResult r = FailOp(Stage::Load, err, "verifier check of " + helper + " for " + prog);
  if (!line.empty()) AddDetail(&r, "verifier: " + line);
  if (ret == 1) AddDetail(&r, "libbpf 1.1 reported it available: it does not recognise the newer verifier message");
  return r;
}

}  // namespace ebp
