// Attach probes that do not need a network device: fentry/fexit/lsm (BTF),
// kprobe/uprobe/tracepoint (perf events), kprobe.multi/uprobe.multi (links),
// raw_tracepoint and cgroup.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "core/bpf_api.h"
#include "core/errno_text.h"
#include "core/fd.h"
#include "core/proc.h"
#include "probe/deferred_teardown.h"
#include "probe/probes.h"
#include "probe/result.h"
#include "probe/trivial_prog.h"

// A function of the addon itself, used as the default uprobe target: its file
// offset inside the loaded .node file is computed from /proc/self/maps.
extern "C" __attribute__((noinline, used, visibility("default"))) int ebpfperf_uprobe_marker(int x) {
  __asm__ __volatile__("" ::: "memory");  // keep the body (and the symbol) alive
  return x + 1;
}

namespace ebp {

namespace {

constexpr const char* kPmuRoot = "/sys/bus/event_source/devices/";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

bool PathExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// ---------------------------------------------------------------------------
// /proc/kallsyms

// Looks for `names` in /proc/kallsyms ("ffffffff81374320 t do_getpgid" lines,
// "\t[module]" appended for modules). The file is ~120k lines and slow to
// generate, so the scan stops as soon as names[0] (the preferred one) shows up.
// Returns 0 or errno; found[i] tells whether names[i] exists.
int FindKernelSymbols(const std::vector<std::string>& names, std::vector<bool>* found) {
  found->assign(names.size(), false);
  Fd fd(open("/proc/kallsyms", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  std::string pending;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t pos = 0;
    for (size_t nl; (nl = pending.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      // name = third field: after "<addr> <type> ", up to '\t' or end of line
      size_t sp1 = pending.find(' ', pos);
      if (sp1 == std::string::npos || sp1 + 3 > nl) continue;
      size_t name_start = sp1 + 3;
      size_t name_end = pending.find('\t', name_start);
      if (name_end == std::string::npos || name_end > nl) name_end = nl;
      const size_t len = name_end - name_start;
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i].size() == len && pending.compare(name_start, len, names[i]) == 0) {
          (*found)[i] = true;
          if (i == 0) return 0;
        }
      }
    }
    pending.erase(0, pos);
  }
  return 0;
}

// Picks the kernel function for kprobes: `target` if given, else the first of
// a few always-present functions. Fails at stage 'setup'.
bool PickKernelFunction(const std::string& target, std::string* out, ProbeResult* fail) {
  static const std::vector<std::string> kDefaults{"do_getpgid", "__x64_sys_getpgid", "__arm64_sys_getpgid", "ksys_read",
                                                  "vfs_read"};
  const std::vector<std::string> names = target.empty() ? kDefaults : std::vector<std::string>{target};
  std::vector<bool> found;
  int err = 0;
  if (target.empty()) {
    // kprobe, kretprobe and kprobe.multi all look for the default: generating /proc/kallsyms costs
    // tens of ms, so the answer is kept for the process
    static std::once_flag once;
    static std::vector<bool> default_found;
    static int default_err = 0;
    std::call_once(once, [] { default_err = FindKernelSymbols(kDefaults, &default_found); });
    found = default_found;
    err = default_err;
  } else {
    err = FindKernelSymbols(names, &found);
  }
  if (err) {
    *fail = FailOp(Stage::Setup, err, "reading /proc/kallsyms");
    return false;
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (found[i]) {
      *out = names[i];
      return true;
    }
  }
  *fail = target.empty()
              ? FailMsg(Stage::Setup, ENOENT, "no default kprobe target (do_getpgid, vfs_read, ...) in /proc/kallsyms")
              : FailMsg(Stage::Setup, ENOENT, "kernel function " + target + " not found in /proc/kallsyms", target);
  return false;
}

// ---------------------------------------------------------------------------
// perf events

int PerfEventOpen(perf_event_attr* attr, pid_t pid, int cpu) {
  return static_cast<int>(syscall(__NR_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

// Dynamic PMU ("kprobe"/"uprobe"): type id and the bit that selects retprobes.
// Fails at stage 'attach' (the program type itself has already loaded).
bool ReadDynamicPmu(const std::string& pmu, bool retprobe, uint32_t* type, int* ret_bit, ProbeResult* fail) {
  const std::string dir = kPmuRoot + pmu;
  if (!PathExists(dir)) {
    *fail = FailMsg(Stage::Attach, ENOENT, pmu + " PMU not available: " + dir + " does not exist",
                    pmu == "kprobe" ? "kernel built without CONFIG_KPROBES / CONFIG_KPROBE_EVENTS"
                                    : "kernel built without CONFIG_UPROBES / CONFIG_UPROBE_EVENTS");
    return false;
  }
  std::string text;
  if (int err = ReadFile(dir + "/type", &text)) {
    *fail = FailOp(Stage::Attach, err, "reading " + dir + "/type");
    return false;
  }
  *type = static_cast<uint32_t>(strtoul(text.c_str(), nullptr, 10));
  *ret_bit = -1;
  if (retprobe) {
    const std::string fmt = dir + "/format/retprobe";
    if (int err = ReadFile(fmt, &text)) {
      *fail = FailOp(Stage::Attach, err, "reading " + fmt);
      return false;
    }
    int bit = -1;
    if (sscanf(text.c_str(), "config:%d", &bit) != 1 || bit < 0 || bit > 63) {
      *fail = FailMsg(Stage::Attach, EINVAL, "unexpected retprobe format in " + fmt + ": " + Trim(text));
      return false;
    }
    *ret_bit = bit;
  }
  return true;
}

// Attaches `prog` to the perf event: a BPF link when the kernel has perf links
// (5.15+), else the legacy ioctl. Returns 0 or errno; `how` says which.
int AttachToPerfEvent(int prog, int pfd, Fd* link, std::string* how) {
  int lfd = bpf_link_create(prog, pfd, BPF_PERF_EVENT, nullptr);
  if (lfd >= 0) {
    link->reset(lfd);
    *how = "bpf_link_create(BPF_PERF_EVENT)";
    return 0;
  }
  int err = errno;
  if (err != EINVAL && err != EOPNOTSUPP && err != kENOTSUPP) return err;
  if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog) < 0) return errno;
  if (ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) return errno;
  *how = "ioctl(PERF_EVENT_IOC_SET_BPF) (bpf_link_create: " + ErrnoCode(err) + ")";
  return 0;
}

// perf_event_open + attach; the fds end up in *pfd / *link (closed by caller).
ProbeResult OpenAndAttachPerf(perf_event_attr* attr, int prog, const std::string& what, const std::string& target,
                              Fd* pfd, Fd* link) {
  pfd->reset(PerfEventOpen(attr, -1, 0));
  if (!pfd->valid()) return FailOp(Stage::Attach, errno, "perf_event_open(" + what + ")", target);
  std::string how;
  if (int err = AttachToPerfEvent(prog, pfd->get(), link, &how))
    return FailOp(Stage::Attach, err, "attaching to perf event (" + what + ")", target);
  return Ok("attached via " + how + " to a " + what + " perf event", target);
}

// ---------------------------------------------------------------------------
// fentry / fexit / lsm

// The running kernel's BTF, mapped once (kernels since 6.16 allow it; earlier ones are read into memory)
// and kept for the process: the raw bytes are all a FUNC lookup needs. nullptr: none readable.
struct RawBtf {
  const uint8_t* data = nullptr;
  size_t size = 0;
  std::string copy;  // when the file cannot be mapped
};

const RawBtf* VmlinuxRawBtf() {
  static std::once_flag once;
  static RawBtf raw;
  std::call_once(once, [] {
    raw.data = MapReadOnly("/sys/kernel/btf/vmlinux", &raw.size);
    if (raw.data) return;
    if (ReadFile("/sys/kernel/btf/vmlinux", &raw.copy) != 0) return;  // kernels before 6.16: read it
    raw.data = reinterpret_cast<const uint8_t*>(raw.copy.data());
    raw.size = raw.copy.size();
  });
  return raw.data ? &raw : nullptr;
}

// Bytes after struct btf_type for each kind (0..19), per vlen entry or fixed; -1: unknown kind.
int BtfTrailer(uint32_t kind, uint32_t vlen) {
  switch (kind) {
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG: return 4;
    case BTF_KIND_ARRAY: return 12;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_DATASEC:
    case 19 /* ENUM64 */: return 12 * vlen;
    case BTF_KIND_ENUM:
    case BTF_KIND_FUNC_PROTO: return 8 * vlen;
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG: return 0;
    default: return -1;
  }
}

// The BTF id of each FUNC named in `names` (0: absent) by one walk over the raw types: building
// libbpf's index of all ~130k types (btf__new) takes ~30 ms for these few lookups. false: unreadable.
bool FindVmlinuxFuncs(const std::vector<std::string>& names, std::vector<int>* ids) {
  ids->assign(names.size(), 0);
  const RawBtf* raw = VmlinuxRawBtf();
  if (!raw || raw->size < sizeof(btf_header)) return false;
  btf_header h;
  memcpy(&h, raw->data, sizeof h);
  const uint64_t types = uint64_t(h.hdr_len) + h.type_off, strs = uint64_t(h.hdr_len) + h.str_off;
  if (h.magic != BTF_MAGIC || types + h.type_len > raw->size || strs + h.str_len > raw->size) return false;
  const char* str = reinterpret_cast<const char*>(raw->data + strs);
  int id = 1;
  for (uint64_t at = types; at + sizeof(btf_type) <= types + h.type_len; id++) {
    btf_type t;
    memcpy(&t, raw->data + at, sizeof t);
    const int trailer = BtfTrailer(BTF_INFO_KIND(t.info), BTF_INFO_VLEN(t.info));
    if (trailer < 0) return false;
    if (BTF_INFO_KIND(t.info) == BTF_KIND_FUNC && t.name_off < h.str_len) {
      const char* name = str + t.name_off;
      const size_t room = h.str_len - t.name_off;  // the name and its NUL must fit in the section
      for (size_t i = 0; i < names.size(); i++) {
        const std::string& want = names[i];
        if ((*ids)[i] == 0 && want.size() < room && memcmp(name, want.data(), want.size()) == 0 &&
            name[want.size()] == 0)
          (*ids)[i] = id;
      }
    }
    at += sizeof t + trailer;
  }
  return true;
}

ProbeResult ProbeTracing(const std::string& kind, const std::string& target) {
  const bool lsm = kind == "lsm";
  ProgSpec spec;
  spec.prog_type = lsm ? BPF_PROG_TYPE_LSM : BPF_PROG_TYPE_TRACING;
  spec.expected_attach_type = lsm ? BPF_LSM_MAC : (kind == "fexit" ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY);
  spec.has_expected = true;

  std::vector<std::string> candidates;
  if (!target.empty()) {
    candidates.push_back(target);
    if (lsm && target.rfind("bpf_lsm_", 0) != 0) candidates.push_back("bpf_lsm_" + target);
  } else if (lsm) {
    candidates = {"bpf_lsm_file_open"};
  } else {
    candidates = {"bpf_fentry_test1", "do_getpgid"};
  }
  std::vector<int> ids;
  if (!FindVmlinuxFuncs(candidates, &ids))
    return FailOp(Stage::Setup, ENOENT, "reading vmlinux BTF (/sys/kernel/btf/vmlinux)",
                  "needs CONFIG_DEBUG_INFO_BTF (/sys/kernel/btf/vmlinux)");
  int btf_id = -1;
  for (size_t i = 0; i < candidates.size() && btf_id <= 0; i++) {
    btf_id = ids[i];
    spec.target = candidates[i];
  }
  if (btf_id <= 0) {
    std::string names;
    for (const auto& n : candidates) names += (names.empty() ? "" : ", ") + n;
    return FailMsg(Stage::Setup, ENOENT, "BTF function " + names + " not found in vmlinux BTF", names);
  }
  spec.attach_btf_id = static_cast<uint32_t>(btf_id);

  Fd prog;
  ProbeResult fail;
  if (!LoadOrFail(spec, &prog, &fail)) return fail;

  // libbpf falls back to BPF_RAW_TRACEPOINT_OPEN itself when the kernel's
  // LINK_CREATE does not know tracing programs (EINVAL, before 5.10).
  const std::string type_name = AttachTypeName(spec.expected_attach_type);
  Fd link(bpf_link_create(prog.get(), 0, static_cast<enum bpf_attach_type>(spec.expected_attach_type), nullptr));
  if (!link.valid())
    return FailOp(Stage::Attach, errno, "bpf_link_create(" + type_name + " \xE2\x86\x92 " + spec.target + ")",
                  spec.target);
  DeferTeardown({&link, &prog});  // a trampoline's detach waits for grace periods too
  return Ok("attached via bpf_link_create(" + type_name + ")", spec.target);
}

// ---------------------------------------------------------------------------
// kprobe / kretprobe / kprobe.multi

// A kprobe or uprobe through its dynamic PMU: load a KPROBE program, open the
// perf event (config1/config2 as the PMU defines them), attach the program.
ProbeResult ProbeDynamicPmu(const char* pmu, bool retprobe, uint64_t config1, uint64_t config2,
                            const std::string& what) {
  ProgSpec spec;
  spec.prog_type = BPF_PROG_TYPE_KPROBE;
  spec.kern_version = RunningKernelVersionCode();
  spec.target = what;
  Fd prog;
  ProbeResult fail;
  if (!LoadOrFail(spec, &prog, &fail)) return fail;

  uint32_t type = 0;
  int ret_bit = -1;
  if (!ReadDynamicPmu(pmu, retprobe, &type, &ret_bit, &fail)) {
    AddDetail(&fail, "target " + what);
    return fail;
  }
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = type;
  attr.config = retprobe ? (1ULL << ret_bit) : 0;
  attr.config1 = config1;  // kprobe_func or uprobe_path
  attr.config2 = config2;  // probe_offset
  Fd pfd, link;
  const std::string name = std::string(pmu).insert(1, retprobe ? "ret" : "") + " PMU";  // kretprobe, uretprobe
  ProbeResult r = OpenAndAttachPerf(&attr, prog.get(), name, what, &pfd, &link);
  DeferTeardown({&link, &pfd, &prog});  // a uprobe's detach waits ~100 ms for grace periods
  return r;
}

ProbeResult ProbeKprobe(bool retprobe, const std::string& target) {
  std::string func;
  ProbeResult fail;
  if (!PickKernelFunction(target, &func, &fail)) return fail;
  return ProbeDynamicPmu("kprobe", retprobe, reinterpret_cast<uintptr_t>(func.c_str()), 0, func);
}

ProbeResult ProbeKprobeMulti(const std::string& target) {
  std::string func;
  ProbeResult fail;
  if (!PickKernelFunction(target, &func, &fail)) return fail;

  ProgSpec spec;
  spec.prog_type = BPF_PROG_TYPE_KPROBE;
  spec.expected_attach_type = BPF_TRACE_KPROBE_MULTI;
  spec.has_expected = true;
  spec.target = func;
  Fd prog;
  if (!LoadOrFail(spec, &prog, &fail)) return fail;

  const char* syms[] = {func.c_str()};
  auto opts = MakeOpts<bpf_link_create_opts>();
  opts.kprobe_multi.syms = syms;
  opts.kprobe_multi.cnt = 1;
  Fd link(bpf_link_create(prog.get(), 0, BPF_TRACE_KPROBE_MULTI, &opts));
  if (!link.valid()) {
    int err = errno;
    ProbeResult r = FailOp(Stage::Attach, err, "bpf_link_create(BPF_TRACE_KPROBE_MULTI \xE2\x86\x92 " + func + ")",
                           "target " + func);
    if (err == EOPNOTSUPP || err == kENOTSUPP) AddDetail(&r, "kprobe.multi links need CONFIG_FPROBE");
    return r;
  }
  DeferTeardown({&link, &prog});
  return Ok("attached via bpf_link_create(BPF_TRACE_KPROBE_MULTI)", func);
}

// ---------------------------------------------------------------------------
// uprobe / uretprobe / uprobe.multi

struct UprobeTarget {
  std::string path;
  uint64_t offset = 0;
  std::string Describe() const {
    char buf[32];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, offset);
    return path + ":" + buf;
  }
};

// Default target: ebpfperf_uprobe_marker() inside the loaded addon, located
// through /proc/self/maps (file offset = addr - start + pgoff).
int ResolveSelfUprobe(UprobeTarget* out, std::string* why) {
  uint64_t offset = 0;
  int err = ResolveCodeAddress(reinterpret_cast<uintptr_t>(&ebpfperf_uprobe_marker), &out->path, &offset, why);
  out->offset = offset;
  return err;
}

// `target` is "<path>:<file offset>" (offset decimal or 0x-hex).
bool PickUprobeTarget(const std::string& target, UprobeTarget* out, ProbeResult* fail) {
  if (target.empty()) {
    std::string why;
    if (int err = ResolveSelfUprobe(out, &why)) {
      *fail = FailOp(Stage::Setup, err, "locating the default uprobe target", why);
      return false;
    }
    return true;
  }
  size_t colon = target.rfind(':');
  char* end = nullptr;
  if (colon == std::string::npos || colon == 0 || colon + 1 == target.size()) {
    *fail = FailMsg(Stage::Setup, EINVAL, "uprobe target must be \"<path>:<file offset>\", got \"" + target + "\"");
    return false;
  }
  errno = 0;
  unsigned long long off = strtoull(target.c_str() + colon + 1, &end, 0);
  if (errno || !end || *end != '\0') {
    *fail = FailMsg(Stage::Setup, EINVAL, "invalid uprobe file offset in \"" + target + "\"");
    return false;
  }
  out->path = target.substr(0, colon);
  out->offset = off;
  if (!PathExists(out->path)) {
    *fail = FailMsg(Stage::Setup, ENOENT, "uprobe target file " + out->path + " does not exist");
    return false;
  }
  return true;
}

ProbeResult ProbeUprobe(bool retprobe, const std::string& target) {
  UprobeTarget where;
  ProbeResult fail;
  if (!PickUprobeTarget(target, &where, &fail)) return fail;
  return ProbeDynamicPmu("uprobe", retprobe, reinterpret_cast<uintptr_t>(where.path.c_str()), where.offset,
                         where.Describe());
}

// BPF_LINK_CREATE attr for uprobe_multi, laid out like the kernel's
// union bpf_attr.link_create (checked against the 6.18 BTF); libbpf 1.1 and
// the 6.1 uapi headers do not have it.
struct LinkCreateUprobeMultiAttr {
  uint32_t prog_fd;
  uint32_t target_fd;
  uint32_t attach_type;
  uint32_t flags;
  struct {
    alignas(8) uint64_t path;
    alignas(8) uint64_t offsets;
    alignas(8) uint64_t ref_ctr_offsets;
    alignas(8) uint64_t cookies;
    uint32_t cnt;
    uint32_t flags;
    uint32_t pid;
  } uprobe_multi;
};
static_assert(offsetof(LinkCreateUprobeMultiAttr, uprobe_multi) == 16, "layout");
static_assert(sizeof(LinkCreateUprobeMultiAttr) == 64, "layout");

ProbeResult ProbeUprobeMulti(const std::string& target) {
  UprobeTarget where;
  ProbeResult fail;
  if (!PickUprobeTarget(target, &where, &fail)) return fail;

  ProgSpec spec;
  spec.prog_type = BPF_PROG_TYPE_KPROBE;
  spec.expected_attach_type = kAttachTraceUprobeMulti;
  spec.has_expected = true;
  spec.target = where.Describe();
  Fd prog;
  if (!LoadOrFail(spec, &prog, &fail)) return fail;

  uint64_t offsets[1] = {where.offset};
  LinkCreateUprobeMultiAttr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = kAttachTraceUprobeMulti;
  attr.uprobe_multi.path = reinterpret_cast<uintptr_t>(where.path.c_str());
  attr.uprobe_multi.offsets = reinterpret_cast<uintptr_t>(offsets);
  attr.uprobe_multi.cnt = 1;
  attr.uprobe_multi.pid = 0;  // every process
  Fd link(static_cast<int>(syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr))));
  if (!link.valid()) return FailOp(Stage::Attach, errno, "BPF_LINK_CREATE(BPF_TRACE_UPROBE_MULTI)", where.Describe());
  DeferTeardown({&link, &prog});
  return Ok("attached via BPF_LINK_CREATE(BPF_TRACE_UPROBE_MULTI)", where.Describe());
}

// ---------------------------------------------------------------------------
// tracepoint / raw_tracepoint

constexpr long kTracefsMagic = 0x74726163;

std::string FindTracefs() {
  for (const char* dir : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    struct statfs st;
    if (statfs(dir, &st) == 0 && static_cast<long>(st.f_type) == kTracefsMagic) return dir;
  }
  return "";
}

ProbeResult ProbeTracepoint(const std::string& target) {
  const std::string tracefs = FindTracefs();
  if (tracefs.empty())
    return FailMsg(Stage::Setup, ENOENT, "tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)");

  // "syscalls/sys_enter_getppid", "syscalls:sys_enter_getppid" or a bare
  // syscall tracepoint name.
  std::string tp = target.empty() ? "syscalls/sys_enter_getppid" : target;
  if (tp.find('/') == std::string::npos) {
    size_t colon = tp.find(':');
    tp = colon == std::string::npos ? "syscalls/" + tp : tp.replace(colon, 1, "/");
  }
  const std::string id_path = tracefs + "/events/" + tp + "/id";
  std::string text;
  if (int err = ReadFile(id_path, &text)) return FailOp(Stage::Setup, err, "reading tracepoint id " + id_path, tp);
  const uint64_t id = strtoull(text.c_str(), nullptr, 10);

  ProgSpec spec;
  spec.prog_type = BPF_PROG_TYPE_TRACEPOINT;
  spec.target = tp;
  Fd prog;
  ProbeResult fail;
  if (!LoadOrFail(spec, &prog, &fail)) return fail;

  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_TRACEPOINT;
  attr.config = id;
  Fd pfd, link;
  return OpenAndAttachPerf(&attr, prog.get(), "tracepoint", tp, &pfd, &link);
}

ProbeResult ProbeRawTracepoint(const std::string& target) {
  const std::string tp = target.empty() ? "sys_enter" : target;
  ProgSpec spec;
  spec.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
  spec.target = tp;
  Fd prog;
  ProbeResult fail;
  if (!LoadOrFail(spec, &prog, &fail)) return fail;
  Fd link(bpf_raw_tracepoint_open(tp.c_str(), prog.get()));
  if (!link.valid()) return FailOp(Stage::Attach, errno, "bpf_raw_tracepoint_open(" + tp + ")", tp);
  return Ok("attached via bpf_raw_tracepoint_open(" + tp + ")", tp);
}

// ---------------------------------------------------------------------------
// cgroup

// /proc/self/mounts escapes spaces etc. as \040 octal.
std::string UnescapeMount(const std::string& s) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
      continue;
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string FindCgroup2Mount() {
  std::string mounts;
  if (ReadFile("/proc/self/mounts", &mounts)) return "";
  size_t pos = 0;
  while (pos < mounts.size()) {
    size_t end = mounts.find('\n', pos);
    if (end == std::string::npos) end = mounts.size();
    const std::string line = mounts.substr(pos, end - pos);
    pos = end + 1;
    char dev[256], dir[4096], fstype[64];
    if (sscanf(line.c_str(), "%255s %4095s %63s", dev, dir, fstype) != 3) continue;
    if (std::string(fstype) == "cgroup2") return UnescapeMount(dir);
  }
  return "";
}

// Removes the probe's cgroup directory on every path.
class CgroupDir {
 public:
  explicit CgroupDir(std::string path) : path_(std::move(path)) {}
  ~CgroupDir() {
    if (!path_.empty()) rmdir(path_.c_str());
  }
  CgroupDir(const CgroupDir&) = delete;
  CgroupDir& operator=(const CgroupDir&) = delete;

 private:
  std::string path_;
};

ProbeResult ProbeCgroup(const std::string& target) {
  const std::string mount = FindCgroup2Mount();
  std::string dir;
  bool created = false;
  if (!target.empty() && target[0] == '/') {
    dir = target;  // an existing cgroup directory chosen by the caller
  } else {
    if (mount.empty())
      return FailMsg(
          Stage::Setup, ENOENT,
          "no cgroup2 filesystem mounted (see /proc/self/mounts; e.g. mount -t cgroup2 none /sys/fs/cgroup/unified)");
    if (!target.empty()) {
      dir = mount + "/" + target;
    } else {
      dir = mount + "/ebp-probe-" + std::to_string(getpid());
      if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return FailOp(Stage::Setup, errno, "mkdir " + dir, dir);
      created = true;
    }
  }
  CgroupDir cleanup(created ? dir : "");  // declared before the fds: closed first, removed last

  Fd cg(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg.valid()) return FailOp(Stage::Setup, errno, "open " + dir, dir);

  ProgSpec spec;
  spec.prog_type = BPF_PROG_TYPE_CGROUP_SKB;
  spec.expected_attach_type = BPF_CGROUP_INET_INGRESS;
  spec.has_expected = true;
  spec.return_value = 1;  // allow: harmless even on a caller-chosen, populated cgroup
  spec.target = dir;
  Fd prog;
  ProbeResult fail;
  if (!LoadOrFail(spec, &prog, &fail)) return fail;

  Fd link(bpf_link_create(prog.get(), cg.get(), BPF_CGROUP_INET_INGRESS, nullptr));
  if (link.valid()) return Ok("attached via bpf_link_create(BPF_CGROUP_INET_INGRESS)", dir);
  int err = errno;
  if (err != EINVAL) return FailOp(Stage::Attach, err, "bpf_link_create(BPF_CGROUP_INET_INGRESS)", dir);
  // Kernels before 5.7 have no cgroup links: legacy attach + detach.
  if (bpf_prog_attach(prog.get(), cg.get(), BPF_CGROUP_INET_INGRESS, 0) != 0)
    return FailOp(Stage::Attach, errno, "bpf_prog_attach(BPF_CGROUP_INET_INGRESS)", dir);
  bpf_prog_detach2(prog.get(), cg.get(), BPF_CGROUP_INET_INGRESS);
  return Ok("attached via bpf_prog_attach(BPF_CGROUP_INET_INGRESS) (bpf_link_create: EINVAL)", dir);
}

// ---------------------------------------------------------------------------

constexpr const char* kKinds[] = {
    "fentry",     "fexit",          "kprobe", "kretprobe",  "kprobe.multi", "uprobe", "uretprobe", "uprobe.multi",
    "tracepoint", "raw_tracepoint", "xdp",    "xdp.native", "tc",           "tcx",    "cgroup",    "lsm"};

}  // namespace

bool IsAttachKind(const std::string& kind) {
  for (const char* k : kKinds)
    if (kind == k) return true;
  return false;
}

const char* AttachKindList() {
  return "'fentry', 'fexit', 'kprobe', 'kretprobe', 'kprobe.multi', 'uprobe', 'uretprobe', "
         "'uprobe.multi', 'tracepoint', 'raw_tracepoint', 'xdp', 'xdp.native', 'tc', 'tcx', "
         "'cgroup', 'lsm'";
}

ProbeResult ProbeAttach(const std::string& kind, const std::string& target) {
  if (kind == "fentry" || kind == "fexit" || kind == "lsm") return ProbeTracing(kind, target);
  if (kind == "kprobe" || kind == "kretprobe") return ProbeKprobe(kind == "kretprobe", target);
  if (kind == "kprobe.multi") return ProbeKprobeMulti(target);
  if (kind == "uprobe" || kind == "uretprobe") return ProbeUprobe(kind == "uretprobe", target);
  if (kind == "uprobe.multi") return ProbeUprobeMulti(target);
  if (kind == "tracepoint") return ProbeTracepoint(target);
  if (kind == "raw_tracepoint") return ProbeRawTracepoint(target);
  if (kind == "cgroup") return ProbeCgroup(target);
  if (kind == "xdp" || kind == "xdp.native" || kind == "tc" || kind == "tcx") return ProbeNetAttach(kind, target);
  return FailMsg(Stage::Setup, EINVAL, "unknown attach kind " + kind);
}

}  // namespace ebp
