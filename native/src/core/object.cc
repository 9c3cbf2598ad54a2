// BPF objects for the suites: open an ELF object with libbpf, choose programs, load (with the
// verifier's last lines on failure), find program and map fds, read program stats, read and write maps.
// Objects are kept in a table and named by a small integer handle; every error thrown to JS is an
// Error with `errno` and `code`.
#include "core/object.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <napi.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/bpf_api.h"
#include "core/js_args.h"
#include "core/js_errors.h"
#include "core/libbpf_log.h"

namespace ebp {
namespace {

HandleTable<bpf_object*> g_objects("object handle", "unknown or closed object handle");

bool GetHandle(const Napi::CallbackInfo& info, size_t i, uint32_t* handle, bpf_object** obj) {
  bpf_object** found = g_objects.Find(info, i, handle);
  if (!found) return false;
  *obj = *found;
  return true;
}

Napi::Value OpenObject(const Napi::CallbackInfo& info) {
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return info.Env().Undefined();
  ClearLibbpfLog();
  errno = 0;
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  int err = libbpf_get_error(obj);
  if (err) {
    std::string log = LastLines(LibbpfLog(), 2);
    ThrowErrno(info.Env(), -err, path + ": cannot open as a BPF object" + (log.empty() ? "" : " (" + log + ")"));
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), g_objects.Add(obj));
}

Napi::Value ObjectPrograms(const Napi::CallbackInfo& info) {
  uint32_t handle;
  bpf_object* obj;
  if (!GetHandle(info, 0, &handle, &obj)) return info.Env().Undefined();
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t i = 0;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    Napi::Object p = Napi::Object::New(info.Env());
    p.Set("name", bpf_program__name(prog));
    p.Set("section", bpf_program__section_name(prog));
    p.Set("type", static_cast<double>(bpf_program__type(prog)));
    p.Set("typeName", ProgTypeName(bpf_program__type(prog)));
    p.Set("expectedAttachType", static_cast<double>(bpf_program__expected_attach_type(prog)));
    p.Set("autoload", bpf_program__autoload(prog));
    out.Set(i++, p);
  }
  return out;
}

Napi::Value ObjectMaps(const Napi::CallbackInfo& info) {
  uint32_t handle;
  bpf_object* obj;
  if (!GetHandle(info, 0, &handle, &obj)) return info.Env().Undefined();
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t i = 0;
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    Napi::Object m = Napi::Object::New(info.Env());
    m.Set("name", bpf_map__name(map));
    m.Set("type", static_cast<double>(bpf_map__type(map)));
    m.Set("typeName", MapTypeName(bpf_map__type(map)));
    m.Set("keySize", static_cast<double>(bpf_map__key_size(map)));
    m.Set("valueSize", static_cast<double>(bpf_map__value_size(map)));
    m.Set("maxEntries", static_cast<double>(bpf_map__max_entries(map)));
    m.Set("fd", static_cast<double>(bpf_map__fd(map)));
    out.Set(i++, m);
  }
  return out;
}

// objectSetAutoload(handle, name, bool): choose which programs load.
Napi::Value ObjectSetAutoload(const Napi::CallbackInfo& info) {
  uint32_t handle;
  bpf_object* obj;
  std::string name;
  if (!GetHandle(info, 0, &handle, &obj) || !ArgString(info, 1, "program name", &name)) return info.Env().Undefined();
  bpf_program* prog = bpf_object__find_program_by_name(obj, name.c_str());
  if (!prog) {
    ThrowErrno(info.Env(), ENOENT, "no program named " + name + " in the object");
    return info.Env().Undefined();
  }
  bpf_program__set_autoload(prog, info.Length() > 2 && info[2].ToBoolean().Value());
  return info.Env().Undefined();
}

// objectSetProgramType(handle, name, progType, expectedAttachType): for objects whose section names
// libbpf 1.1 does not know.
Napi::Value ObjectSetProgramType(const Napi::CallbackInfo& info) {
  uint32_t handle;
  bpf_object* obj;
  std::string name;
  int64_t type, attach;
  if (!GetHandle(info, 0, &handle, &obj) || !ArgString(info, 1, "program name", &name) ||
      !ArgInt(info, 2, "progType", &type) || !ArgInt(info, 3, "expectedAttachType", &attach))
    return info.Env().Undefined();
  bpf_program* prog = bpf_object__find_program_by_name(obj, name.c_str());
  if (!prog) {
    ThrowErrno(info.Env(), ENOENT, "no program named " + name + " in the object");
    return info.Env().Undefined();
  }
  bpf_program__set_type(prog, static_cast<enum bpf_prog_type>(type));
  bpf_program__set_expected_attach_type(prog, static_cast<enum bpf_attach_type>(attach));
  return info.Env().Undefined();
}

// objectLoad(handle): loads maps and the autoload programs; a verifier rejection throws with
// `verifierLog` (its last lines).
Napi::Value ObjectLoad(const Napi::CallbackInfo& info) {
  uint32_t handle;
  bpf_object* obj;
  if (!GetHandle(info, 0, &handle, &obj)) return info.Env().Undefined();
  ClearLibbpfLog();
  int err = bpf_object__load(obj);
  if (err) {
    std::string log = LibbpfLog();
    Napi::Error e = MakeErrno(info.Env(), -err, std::string("loading ") + bpf_object__name(obj) + " failed");
    e.Set("verifierLog", LastLines(log, 12));
    e.ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  return info.Env().Undefined();
}

Napi::Value ObjectProgFd(const Napi::CallbackInfo& info) {
  uint32_t handle;
  bpf_object* obj;
  std::string name;
  if (!GetHandle(info, 0, &handle, &obj) || !ArgString(info, 1, "program name", &name)) return info.Env().Undefined();
  bpf_program* prog = bpf_object__find_program_by_name(obj, name.c_str());
  int fd = prog ? bpf_program__fd(prog) : -ENOENT;
  if (fd < 0) {
    ThrowErrno(info.Env(), prog ? EBADF : ENOENT,
               prog ? "program " + name + " is not loaded" : "no program named " + name + " in the object");
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value ObjectMapFd(const Napi::CallbackInfo& info) {
  uint32_t handle;
  bpf_object* obj;
  std::string name;
  if (!GetHandle(info, 0, &handle, &obj) || !ArgString(info, 1, "map name", &name)) return info.Env().Undefined();
  bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
  int fd = map ? bpf_map__fd(map) : -ENOENT;
  if (fd < 0) {
    ThrowErrno(info.Env(), map ? EBADF : ENOENT,
               map ? "map " + name + " is not created yet (load the object first)"
                   : "no map named " + name + " in the object");
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value ObjectClose(const Napi::CallbackInfo& info) {
  uint32_t handle;
  bpf_object* obj;
  if (!GetHandle(info, 0, &handle, &obj)) return info.Env().Undefined();
  g_objects.Erase(handle);
  bpf_object__close(obj);
  return info.Env().Undefined();
}

// progInfo(fd): id, name, type, run_cnt, run_time_ns (the latter two count while bpf_stats is on).
Napi::Value ProgInfo(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!ArgInt(info, 0, "fd", &fd)) return info.Env().Undefined();
  bpf_prog_info pi;
  if (int err = GetProgInfo(static_cast<int>(fd), &pi)) {
    ThrowErrno(info.Env(), err, "bpf_obj_get_info_by_fd");
    return info.Env().Undefined();
  }
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("id", static_cast<double>(pi.id));
  o.Set("name", std::string(pi.name));
  o.Set("type", static_cast<double>(pi.type));
  o.Set("runCnt", static_cast<double>(pi.run_cnt));
  o.Set("runTimeNs", static_cast<double>(pi.run_time_ns));
  o.Set("recursionMisses", static_cast<double>(pi.recursion_misses));
  o.Set("jited", pi.jited_prog_len > 0);
  return o;
}

// enableStats(): BPF_ENABLE_STATS(BPF_STATS_RUN_TIME); stats are collected while the returned fd is open.
Napi::Value EnableStats(const Napi::CallbackInfo& info) {
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) {
    ThrowErrno(info.Env(), errno, "bpf_enable_stats(BPF_STATS_RUN_TIME)");
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!ArgInt(info, 0, "fd", &fd)) return info.Env().Undefined();
  if (fd >= 0) close(static_cast<int>(fd));
  return info.Env().Undefined();
}

// mapLookup(fd, key, valueSize): Buffer, or null when the key is absent. For per-CPU maps valueSize
// is round_up(value_size, 8) * numPossibleCpus().
Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  int64_t fd, size;
  Napi::Buffer<uint8_t> key;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgBuffer(info, 1, "key", &key) || !ArgInt(info, 2, "valueSize", &size))
    return info.Env().Undefined();
  std::vector<uint8_t> value(static_cast<size_t>(size));
  if (bpf_map_lookup_elem(static_cast<int>(fd), key.Data(), value.data())) {
    if (errno == ENOENT) return info.Env().Null();
    ThrowErrno(info.Env(), errno, "bpf_map_lookup_elem");
    return info.Env().Undefined();
  }
  return Napi::Buffer<uint8_t>::Copy(info.Env(), value.data(), value.size());
}

Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  int64_t fd, flags = 0;
  Napi::Buffer<uint8_t> key, value;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgBuffer(info, 1, "key", &key) || !ArgBuffer(info, 2, "value", &value))
    return info.Env().Undefined();
  if (info.Length() > 3 && !ArgInt(info, 3, "flags", &flags)) return info.Env().Undefined();
  if (bpf_map_update_elem(static_cast<int>(fd), key.Data(), value.Data(), static_cast<uint64_t>(flags))) {
    ThrowErrno(info.Env(), errno, "bpf_map_update_elem");
    return info.Env().Undefined();
  }
  return info.Env().Undefined();
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  int n = libbpf_num_possible_cpus();
  if (n < 0) {
    ThrowErrno(info.Env(), -n, "libbpf_num_possible_cpus");
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), n);
}

}  // namespace

void RegisterObjectFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("objectOpen", Napi::Function::New(env, OpenObject, "objectOpen"));
  exports.Set("objectPrograms", Napi::Function::New(env, ObjectPrograms, "objectPrograms"));
  exports.Set("objectMaps", Napi::Function::New(env, ObjectMaps, "objectMaps"));
  exports.Set("objectSetAutoload", Napi::Function::New(env, ObjectSetAutoload, "objectSetAutoload"));
  exports.Set("objectSetProgramType", Napi::Function::New(env, ObjectSetProgramType, "objectSetProgramType"));
  exports.Set("objectLoad", Napi::Function::New(env, ObjectLoad, "objectLoad"));
  exports.Set("objectProgFd", Napi::Function::New(env, ObjectProgFd, "objectProgFd"));
  exports.Set("objectMapFd", Napi::Function::New(env, ObjectMapFd, "objectMapFd"));
  exports.Set("objectClose", Napi::Function::New(env, ObjectClose, "objectClose"));
  exports.Set("progInfo", Napi::Function::New(env, ProgInfo, "progInfo"));
  exports.Set("enableStats", Napi::Function::New(env, EnableStats, "enableStats"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup, "mapLookup"));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate, "mapUpdate"));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus, "numPossibleCpus"));
}

}  // namespace ebp
