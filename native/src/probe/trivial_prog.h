// Loading the trivial program "r0 = 0; exit" (r0 = spec.return_value) with bpf_prog_load(): what the
// attach probes load before they try to attach.
#pragma once

#include <cstdint>
#include <string>

#include "core/fd.h"
#include "probe/result.h"

namespace ebp {

struct ProgSpec {
  uint32_t prog_type = 0;
  uint32_t expected_attach_type = 0;
  bool has_expected = false;  // mention the attach type in messages
  uint32_t attach_btf_id = 0;
  uint32_t kern_version = 0;
  int32_t return_value = 0;  // r0; cgroup probes use 1 (allow) so they can never drop traffic
  std::string target;        // for messages only ("bpf_fentry_test1")
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

}  // namespace ebp
