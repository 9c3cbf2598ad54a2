// What the system headers (uapi 6.1, libbpf 1.1) lack or make awkward: constants of newer attach types,
// readable names of types for messages, a C++ stand-in for LIBBPF_OPTS, program info.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace ebp {

// Values checked against the running kernel's BTF (enum bpf_attach_type).
constexpr uint32_t kAttachTcxIngress = 46;        // BPF_TCX_INGRESS (6.6)
constexpr uint32_t kAttachTcxEgress = 47;         // BPF_TCX_EGRESS (6.6)
constexpr uint32_t kAttachTraceUprobeMulti = 48;  // BPF_TRACE_UPROBE_MULTI (6.6)

// Names for messages: "BPF_PROG_TYPE_XDP", "BPF_TRACE_FENTRY", ...
std::string ProgTypeName(uint32_t prog_type);
std::string MapTypeName(uint32_t map_type);
std::string AttachTypeName(uint32_t attach_type);

// Zero-initialised libbpf "opts" struct with .sz set (C++ stand-in for LIBBPF_OPTS).
template <typename T>
T MakeOpts() {
  T opts;
  std::memset(&opts, 0, sizeof(opts));
  opts.sz = sizeof(opts);
  return opts;
}

// bpf_obj_get_info_by_fd for a program: 0 or errno.
int GetProgInfo(int fd, bpf_prog_info* out);

}  // namespace ebp
