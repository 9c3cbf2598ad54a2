// Type names and program info.
#include "core/bpf_api.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>

#include <cctype>

namespace ebp {

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

int GetProgInfo(int fd, bpf_prog_info* out) {
  std::memset(out, 0, sizeof(*out));
  uint32_t len = sizeof(*out);
  return bpf_obj_get_info_by_fd(fd, out, &len) ? errno : 0;
}

}  // namespace ebp
