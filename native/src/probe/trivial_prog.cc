// The trivial-program loader.
#include "probe/trivial_prog.h"

#include <bpf/bpf.h>
#include <errno.h>

#include "core/bpf_api.h"
#include "core/fd.h"
#include "core/libbpf_log.h"
#include "probe/result.h"

namespace ebp {

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
  int fd = bpf_prog_load(static_cast<enum bpf_prog_type>(spec.prog_type), "ebpfperf_probe", "GPL", insns,
                         sizeof(insns) / sizeof(insns[0]), &opts);
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

}  // namespace ebp
