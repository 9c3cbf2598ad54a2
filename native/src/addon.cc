// N-API module of ebpfperf_native: each group registers its own functions.
//   core/   — what every group uses: fds, threads, libbpf log, errno texts, JS argument checks; BPF objects
//   probe/  — the doctor's feature and attach probes
//   net/    — work inside named network namespaces: attaching programs (the accelerator suite), making and
//             reading the topology's namespaces
//   suite/  — the suites' runners: test runs, packet generator, ring/perf buffer runs, tracing
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <napi.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "core/js_args.h"
#include "core/js_errors.h"
#include "core/libbpf_log.h"
#include "core/object.h"
#include "core/proc.h"
#include "net/netns.h"
#include "probe/probes.h"
#include "suite/suites.h"
#include "suite/tracing.h"

namespace {

using ebp::TypeErr;

Napi::Value LibbpfVersion(const Napi::CallbackInfo& info) {
  std::string v = std::to_string(libbpf_major_version()) + "." + std::to_string(libbpf_minor_version());
  return Napi::String::New(info.Env(), v);
}

// mapFile(path) → a read-only Buffer over mmap(path), or undefined when the file cannot be mapped.
// For /sys/kernel/btf/vmlinux: sysfs serves read() 4 KiB at a time (~1,350 calls for 5.5 MB), a mapping
// is one call (kernels since 6.16 allow it). The Buffer unmaps when collected; it must not be written.
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return TypeErr(env, "path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  size_t size = 0;
  uint8_t* p = const_cast<uint8_t*>(ebp::MapReadOnly(path, &size));  // the Buffer is documented read-only
  if (!p) return env.Undefined();
  return Napi::Buffer<uint8_t>::New(
      env, p, size,
      [](Napi::Env, uint8_t* data, size_t* len) {
        munmap(data, *len);
        delete len;
      },
      new size_t(size));
}

// tryLock(fd) → true once this open file holds an exclusive flock(2), false while another one does. Node has
// no flock(); the hold goes with the file, so closing the fd or the process's death (kill -9 too) ends it.
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t fd;
  if (!ebp::ArgInt(info, 0, "fd", &fd)) return env.Undefined();
  if (flock(static_cast<int>(fd), LOCK_EX | LOCK_NB) == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  ebp::ThrowErrno(env, errno, "flock(LOCK_EX)");
  return env.Undefined();
}

// exitNow(code) ends the process at once (_exit): no joining of the worker threads, no heap teardown, which
// a finished command owes no one; what it wrote to stdout and stderr is written (synchronously, on Linux).
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  int64_t code;
  if (!ebp::ArgInt(info, 0, "code", &code)) return info.Env().Undefined();
  _exit(static_cast<int>(code));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ebp::InstallLibbpfPrint();
  exports.Set("libbpfVersion", Napi::Function::New(env, LibbpfVersion, "libbpfVersion"));
  exports.Set("mapFile", Napi::Function::New(env, MapFile, "mapFile"));
  exports.Set("tryLock", Napi::Function::New(env, TryLock, "tryLock"));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow, "exitNow"));
  ebp::RegisterProbeFunctions(env, exports);
  ebp::RegisterObjectFunctions(env, exports);
  ebp::RegisterTraceFunctions(env, exports);
  ebp::RegisterNetnsAttachFunctions(env, exports);
  ebp::RegisterNetnsTopologyFunctions(env, exports);
  ebp::RegisterNetnsPingFunctions(env, exports);
  ebp::RegisterTestrunFunctions(env, exports);
  ebp::RegisterPktgenFunctions(env, exports);
  ebp::RegisterBufferRunFunctions(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(ebpfperf_native, Init)
