// The doctor's probes (plain C++; probe_api.cc exposes them to JS).
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "probe/result.h"

namespace ebp {

// feature_probe.cc — load-only probes through libbpf_probe_bpf_*().
ProbeResult ProbeProgType(uint32_t prog_type);
ProbeResult ProbeMapType(uint32_t map_type);
ProbeResult ProbeHelper(uint32_t prog_type, uint32_t helper_id);

// attach_probe.cc — load a trivial program and attach it; everything is detached
// and closed again before returning. `target` empty = the kind's default.
bool IsAttachKind(const std::string& kind);
const char* AttachKindList();  // "'fentry', 'fexit', ..." for error messages
ProbeResult ProbeAttach(const std::string& kind, const std::string& target);

// netdev_probe.cc — xdp, xdp.native, tc, tcx: run in a thread that owns a private
// network namespace, so the host's interfaces are never touched.
ProbeResult ProbeNetAttach(const std::string& kind, const std::string& target);

// probe_api.cc — probeProgType, probeMapType, probeHelper, probeAttach, probeAsync, releaseProbes.
void RegisterProbeFunctions(Napi::Env env, Napi::Object exports);

}  // namespace ebp
