// Entering a named network namespace, and running work there on a thread of its own (net/netns.h).
#include "net/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>

#include "core/fd.h"
#include "core/js_args.h"
#include "core/js_errors.h"
#include "core/libbpf_log.h"
#include "core/threads.h"

namespace ebp {

bool PlainNetnsName(const std::string& s) {
  return !s.empty() && s.find('/') == std::string::npos && s.find('\0') == std::string::npos && s != "." && s != "..";
}

std::string NetnsPath(const std::string& netns) { return netns[0] == '/' ? netns : "/run/netns/" + netns; }

int OpenNetns(const std::string& netns, Fd* ns, std::string* what) {
  const std::string path = NetnsPath(netns);
  ns->reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (ns->valid()) return 0;
  *what = "opening network namespace " + path;
  return errno;
}

int EnterNetns(const std::string& netns, std::string* what) {
  if (netns.empty()) return 0;
  Fd ns;
  if (int err = OpenNetns(netns, &ns, what)) return err;
  if (setns(ns.get(), CLONE_NEWNET) != 0) {
    int err = errno;
    *what = "setns(" + NetnsPath(netns) + ", CLONE_NEWNET)";
    return err;
  }
  return 0;
}

bool ArgNetns(const Napi::CallbackInfo& info, size_t i, std::string* out) {
  if (info.Length() > i && (info[i].IsNull() || info[i].IsUndefined())) {
    out->clear();
    return true;
  }
  if (!ArgString(info, i, "netns", out)) return false;
  bool ok = PlainNetnsName(*out) || ((*out)[0] == '/' && out->find('\0') == std::string::npos);
  if (!ok && !out->empty()) {
    Napi::TypeError::New(info.Env(), "netns must be a name under /run/netns or an absolute path")
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

namespace {

void NsThreadMain(NsJob* job) {
  ClearLibbpfLog();
  if ((job->err = EnterNetns(job->netns, &job->what))) return;
  job->err = job->fn(&job->what);
  job->log = LibbpfLog();
}

}  // namespace

bool RunInNetns(Napi::Env env, NsJob* job) {
  Thread thread;  // it never takes the process's signals
  if (int rc = thread.Start([job] { NsThreadMain(job); }, true)) {
    ThrowErrno(env, rc, "starting a thread for network namespace " + job->netns);
    return false;
  }
  thread.Join();
  if (job->err == 0) return true;
  std::string what = job->what;
  std::string log = FirstLines(job->log, 2);
  if (!log.empty()) what += " [libbpf: " + log + "]";
  ThrowErrno(env, job->err, what);
  return false;
}

}  // namespace ebp
