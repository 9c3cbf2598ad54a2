// The tracing suite's programs: traceLoad(path, program, kind, btfTarget?) opens an object with libbpf, loads
// only that program (after checking that its type fits the attach kind), and keeps it under a handle;
// traceAttach(handle, target) attaches it with libbpf's bpf_program__attach_* (one link per handle),
// traceDetach destroys the link, traceClose frees everything, traceCloseAll frees every handle (error and
// signal paths).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/bpf_api.h"
#include "core/js_args.h"
#include "core/js_errors.h"
#include "core/libbpf_log.h"
#include "suite/tracing.h"

namespace ebp {
namespace {

std::string LastLogLine() {
  std::string log = LibbpfLog();
  while (!log.empty() && (log.back() == '\n' || log.back() == ' ')) log.pop_back();
  size_t nl = log.rfind('\n');
  return nl == std::string::npos ? log : log.substr(nl + 1);
}

// ---------------------------------------------------------------------------------------------- kinds

enum class Kind { Tracepoint, RawTp, Kprobe, Kretprobe, KprobeMulti, Fentry, Fexit, Uprobe, Uretprobe };

struct KindInfo {
  const char* name;
  Kind kind;
  bpf_prog_type prog_type;
  int expected_attach;  // -1: any other than the special ones below
  const char* section;  // what to write in SEC() for it
};

const KindInfo kKinds[] = {
    {"tracepoint", Kind::Tracepoint, BPF_PROG_TYPE_TRACEPOINT, -1, "tracepoint or tp/CATEGORY/NAME"},
    {"raw_tracepoint", Kind::RawTp, BPF_PROG_TYPE_RAW_TRACEPOINT, -1, "raw_tp or raw_tracepoint/NAME"},
    {"kprobe", Kind::Kprobe, BPF_PROG_TYPE_KPROBE, -1, "kprobe or kprobe/FUNC"},
    {"kretprobe", Kind::Kretprobe, BPF_PROG_TYPE_KPROBE, -1, "kretprobe or kretprobe/FUNC"},
    {"kprobe.multi", Kind::KprobeMulti, BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI, "kprobe.multi"},
    {"fentry", Kind::Fentry, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "fentry or fentry/FUNC"},
    {"fexit", Kind::Fexit, BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, "fexit or fexit/FUNC"},
    {"uprobe", Kind::Uprobe, BPF_PROG_TYPE_KPROBE, -1, "uprobe or uprobe/PATH:FUNC"},
    {"uretprobe", Kind::Uretprobe, BPF_PROG_TYPE_KPROBE, -1, "uretprobe or uretprobe/PATH:FUNC"},
};

const KindInfo* FindKind(const std::string& name) {
  for (const auto& k : kKinds)
    if (name == k.name) return &k;
  return nullptr;
}

bool TypeFits(const KindInfo& k, bpf_prog_type type, bpf_attach_type expected) {
  if (type != k.prog_type) return false;
  if (k.expected_attach >= 0) return static_cast<int>(expected) == k.expected_attach;
  // plain kprobe/uprobe programs must not be kprobe.multi ones
  if (k.prog_type == BPF_PROG_TYPE_KPROBE) return expected != BPF_TRACE_KPROBE_MULTI;
  return true;
}

// ---------------------------------------------------------------------------------------------- attachments

struct Attachment {
  bpf_object* obj = nullptr;
  bpf_program* prog = nullptr;
  const KindInfo* kind = nullptr;
  bpf_link* link = nullptr;
  std::string path;
  std::string program;
};

HandleTable<Attachment> g_att("handle", "unknown or closed trace handle");

Attachment* FindAttachment(const Napi::CallbackInfo& info, uint32_t* handle) { return g_att.Find(info, 0, handle); }

void FreeAttachment(Attachment* a) {
  if (a->link) bpf_link__destroy(a->link);
  a->link = nullptr;
  if (a->obj) bpf_object__close(a->obj);
  a->obj = nullptr;
}

Napi::Error ErrorWith(Napi::Env env, int err, const std::string& what, const char* flag) {
  Napi::Error e = MakeErrno(env, err, what);
  if (flag) e.Set(flag, Napi::Boolean::New(env, true));
  return e;
}

// reuse = {mapName: fd}: those maps of the object share an already loaded map (e.g. a uprobe's and its
// uretprobe's argument map, loaded as two handles). Returns 0 or an errno.
int ReuseMaps(const Napi::CallbackInfo& info, size_t i, bpf_object* obj) {
  if (info.Length() <= i || !info[i].IsObject()) return 0;
  Napi::Object reuse = info[i].As<Napi::Object>();
  Napi::Array names = reuse.GetPropertyNames();
  for (uint32_t k = 0; k < names.Length(); k++) {
    std::string name = names.Get(k).As<Napi::String>().Utf8Value();
    bpf_map* m = bpf_object__find_map_by_name(obj, name.c_str());
    if (!m) return ENOENT;
    if (int err = bpf_map__reuse_fd(m, reuse.Get(name).As<Napi::Number>().Int32Value())) return -err;
  }
  return 0;
}

// traceLoad(path, program, kind, btfTarget?, reuse?) → {handle, progFd, progId, progType, maps: [{name, fd, type,
// valueSize}]} Errors carry `errno`/`code`, and one of: badObject (not a BPF object), missingProgram, typeMismatch,
// missingTarget (fentry/fexit target not in BTF), verifierLog (rejected load).
Napi::Value TraceLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path, program, kind_name, btf_target;
  if (!ArgString(info, 0, "path", &path) || !ArgString(info, 1, "program", &program) ||
      !ArgString(info, 2, "kind", &kind_name) || !ArgString(info, 3, "btfTarget", &btf_target, true))
    return env.Undefined();
  const KindInfo* kind = FindKind(kind_name);
  if (!kind) {
    Napi::TypeError::New(env, "unknown attach kind '" + kind_name + "'").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ClearLibbpfLog();
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  if (int err = static_cast<int>(libbpf_get_error(obj))) {
    std::string log = LastLogLine();
    ErrorWith(env, -err, path + ": cannot open as a BPF object" + (log.empty() ? "" : " (" + log + ")"), "badObject")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bpf_program* prog = bpf_object__find_program_by_name(obj, program.c_str());
  if (!prog) {
    std::string names;
    bpf_program* p;
    bpf_object__for_each_program(p, obj) names += (names.empty() ? "" : ", ") + std::string(bpf_program__name(p));
    bpf_object__close(obj);
    ErrorWith(env, ENOENT,
              path + " has no program named " + program + " (it has: " + (names.empty() ? "none" : names) + ")",
              "missingProgram")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const bpf_prog_type type = bpf_program__type(prog);
  const bpf_attach_type expected = bpf_program__expected_attach_type(prog);
  if (!TypeFits(*kind, type, expected)) {
    std::string have = ProgTypeName(type);
    if (type == BPF_PROG_TYPE_KPROBE && expected == BPF_TRACE_KPROBE_MULTI) have += " (kprobe.multi)";
    if (type == BPF_PROG_TYPE_TRACING) have += " (" + AttachTypeName(expected) + ")";
    std::string section = bpf_program__section_name(prog);
    bpf_object__close(obj);
    ErrorWith(env, EINVAL,
              "program " + program + " in " + path + " is " + have + " (SEC(\"" + section +
                  "\")), which cannot attach as " + kind->name + ": a " + kind->name + " program needs SEC(\"" +
                  kind->section + "\")",
              "typeMismatch")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bpf_program* p;
  bpf_object__for_each_program(p, obj) bpf_program__set_autoload(p, p == prog);
  if (kind->kind == Kind::Fentry || kind->kind == Kind::Fexit) {
    if (btf_target.empty()) {
      bpf_object__close(obj);
      ErrorWith(env, EINVAL, std::string(kind->name) + " needs a kernel function to attach to", "missingTarget")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (int err = bpf_program__set_attach_target(prog, 0, btf_target.c_str())) {
      bpf_object__close(obj);
      ErrorWith(env, -err, "setting the " + std::string(kind->name) + " target " + btf_target, "missingTarget")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  if (int err = ReuseMaps(info, 4, obj)) {
    bpf_object__close(obj);
    ErrorWith(env, err, "reusing a map of an earlier load for " + program, nullptr).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ClearLibbpfLog();
  if (int err = bpf_object__load(obj)) {
    std::string log = LibbpfLog();
    bpf_object__close(obj);
    const bool no_target =
        (err == -ESRCH || err == -ENOENT) && !btf_target.empty() && log.find(btf_target) != std::string::npos;
    Napi::Error e = ErrorWith(env, -err, "loading " + program + " from " + path + " as " + kind->name + " failed",
                              no_target ? "missingTarget" : nullptr);
    e.Set("verifierLog", LastLines(log, 12));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  Napi::Array maps = Napi::Array::New(env);
  uint32_t i = 0;
  bpf_map* m;
  bpf_object__for_each_map(m, obj) {
    Napi::Object mo = Napi::Object::New(env);
    mo.Set("name", bpf_map__name(m));
    mo.Set("fd", static_cast<double>(bpf_map__fd(m)));
    mo.Set("type", static_cast<double>(bpf_map__type(m)));
    mo.Set("valueSize", static_cast<double>(bpf_map__value_size(m)));
    maps.Set(i++, mo);
  }
  bpf_prog_info pi;
  GetProgInfo(bpf_program__fd(prog), &pi);  // on failure pi stays zeroed: progId 0 means "unknown"
  Attachment a;
  a.obj = obj;
  a.prog = prog;
  a.kind = kind;
  a.path = path;
  a.program = program;
  const uint32_t handle = g_att.Add(std::move(a));
  out.Set("handle", static_cast<double>(handle));
  out.Set("progFd", static_cast<double>(bpf_program__fd(prog)));
  out.Set("progId", static_cast<double>(pi.id));
  out.Set("progType", static_cast<double>(type));
  out.Set("maps", maps);
  return out;
}

// traceAttach(handle, target): target by kind — tracepoint "category/name"; raw_tracepoint "name";
// kprobe/kretprobe "function"; kprobe.multi "pattern"; fentry/fexit "" (set at load); uprobe/uretprobe
// "" (this addon's trigger function), "PATH:OFFSET" (file offset, decimal or 0x) or "PATH:SYMBOL", with pid.
// Returns a description of what was attached. Errors carry errno/code and `attachFailed`.
Napi::Value TraceAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t handle;
  Attachment* a = FindAttachment(info, &handle);
  if (!a) return env.Undefined();
  std::string target;
  if (!ArgString(info, 1, "target", &target, true)) return env.Undefined();
  // uprobes only: the process whose mapping is probed (-1: every process that maps the file)
  const int pid = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : -1;
  if (a->link) {
    ErrorWith(env, EBUSY, a->program + " is already attached", "attachFailed").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ClearLibbpfLog();
  errno = 0;
  bpf_link* link = nullptr;
  std::string described = target;
  switch (a->kind->kind) {
    case Kind::Tracepoint: {
      size_t slash = target.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == target.size()) {
        ErrorWith(env, EINVAL, "tracepoint target must be CATEGORY/NAME, got '" + target + "'", "badTarget")
            .ThrowAsJavaScriptException();
        return env.Undefined();
      }
      link = bpf_program__attach_tracepoint(a->prog, target.substr(0, slash).c_str(), target.substr(slash + 1).c_str());
      break;
    }
    case Kind::RawTp: link = bpf_program__attach_raw_tracepoint(a->prog, target.c_str()); break;
    case Kind::Kprobe:
    case Kind::Kretprobe:
      link = bpf_program__attach_kprobe(a->prog, a->kind->kind == Kind::Kretprobe, target.c_str());
      break;
    case Kind::KprobeMulti: {
      auto opts = MakeOpts<bpf_kprobe_multi_opts>();
      link = bpf_program__attach_kprobe_multi_opts(a->prog, target.c_str(), &opts);
      break;
    }
    case Kind::Fentry:
    case Kind::Fexit: link = bpf_program__attach_trace(a->prog); break;
    case Kind::Uprobe:
    case Kind::Uretprobe: {
      std::string path;
      uint64_t offset = 0;
      std::string func;
      if (target.empty()) {
        std::string why;
        if (int err = ResolveTriggerTarget(1, &path, &offset, &why)) {
          ErrorWith(env, err, "locating the uprobe trigger function: " + why, "attachFailed")
              .ThrowAsJavaScriptException();
          return env.Undefined();
        }
      } else {
        size_t colon = target.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == target.size()) {
          ErrorWith(env, EINVAL, "uprobe target must be PATH:SYMBOL or PATH:OFFSET, got '" + target + "'", "badTarget")
              .ThrowAsJavaScriptException();
          return env.Undefined();
        }
        path = target.substr(0, colon);
        std::string rest = target.substr(colon + 1);
        char* end = nullptr;
        errno = 0;
        unsigned long long off = strtoull(rest.c_str(), &end, 0);
        if (!errno && end && *end == '\0' && rest[0] >= '0' && rest[0] <= '9')
          offset = off;
        else
          func = rest;
        if (access(path.c_str(), R_OK) != 0) {
          int err = errno;
          ErrorWith(env, err, "uprobe binary " + path + " cannot be read", "badTarget").ThrowAsJavaScriptException();
          return env.Undefined();
        }
      }
      auto opts = MakeOpts<bpf_uprobe_opts>();
      opts.retprobe = a->kind->kind == Kind::Uretprobe;
      opts.func_name = func.empty() ? nullptr : func.c_str();
      char buf[48];
      snprintf(buf, sizeof(buf), "0x%" PRIx64, offset);
      described = path + ":" + (func.empty() ? std::string(buf) : func);
      ClearLibbpfLog();
      link = bpf_program__attach_uprobe_opts(a->prog, pid, path.c_str(), func.empty() ? offset : 0, &opts);
      break;
    }
  }
  if (!link) {
    int err = errno ? errno : EINVAL;
    std::string log = LastLogLine();
    ErrorWith(env, err,
              "attaching " + a->program + " as " + a->kind->name + " to " +
                  (described.empty() ? "(no target)" : described) + (log.empty() ? "" : " [" + log + "]"),
              "attachFailed")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  a->link = link;
  return Napi::String::New(env, described);
}

Napi::Value TraceDetach(const Napi::CallbackInfo& info) {
  uint32_t handle;
  Attachment* a = FindAttachment(info, &handle);
  if (!a) return info.Env().Undefined();
  bool had = a->link != nullptr;
  if (a->link) bpf_link__destroy(a->link);
  a->link = nullptr;
  return Napi::Boolean::New(info.Env(), had);
}

Napi::Value TraceClose(const Napi::CallbackInfo& info) {
  uint32_t handle;
  Attachment* a = FindAttachment(info, &handle);
  if (!a) return info.Env().Undefined();
  FreeAttachment(a);
  g_att.Erase(handle);
  return info.Env().Undefined();
}

Napi::Value TraceCloseAll(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(CloseAllTracePrograms()));
}

// traceOpenHandles() → [{handle, program, kind, attached}]
Napi::Value TraceOpenHandles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t i = 0;
  g_att.ForEach([&](uint32_t h, Attachment& a) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("handle", static_cast<double>(h));
    o.Set("program", a.program);
    o.Set("kind", a.kind->name);
    o.Set("attached", a.link != nullptr);
    out.Set(i++, o);
  });
  return out;
}

}  // namespace

size_t CloseAllTracePrograms() {
  return g_att.ForEach([](uint32_t, Attachment& a) { FreeAttachment(&a); }, true);
}

void RegisterTraceProgramFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("traceLoad", Napi::Function::New(env, TraceLoad, "traceLoad"));
  exports.Set("traceAttach", Napi::Function::New(env, TraceAttach, "traceAttach"));
  exports.Set("traceDetach", Napi::Function::New(env, TraceDetach, "traceDetach"));
  exports.Set("traceClose", Napi::Function::New(env, TraceClose, "traceClose"));
  exports.Set("traceCloseAll", Napi::Function::New(env, TraceCloseAll, "traceCloseAll"));
  exports.Set("traceOpenHandles", Napi::Function::New(env, TraceOpenHandles, "traceOpenHandles"));
}

}  // namespace ebp
