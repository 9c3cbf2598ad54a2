// Building probe results.
#include "probe/result.h"

#include <errno.h>

#include "core/errno_text.h"

namespace ebp {

const char* StageName(Stage stage) {
  switch (stage) {
    case Stage::Ok: return "ok";
    case Stage::Setup: return "setup";
    case Stage::Load: return "load";
    case Stage::Attach: return "attach";
  }
  return "setup";
}

ProbeResult Ok(std::string message, std::string detail) {
  ProbeResult r;
  r.ok = true;
  r.stage = Stage::Ok;
  r.err = 0;
  r.message = std::move(message);
  r.detail = std::move(detail);
  return r;
}

ProbeResult FailMsg(Stage stage, int err, std::string message, std::string detail) {
  ProbeResult r;
  r.ok = false;
  r.stage = stage == Stage::Ok ? Stage::Setup : stage;
  r.err = err > 0 ? err : EINVAL;  // a failure always carries a positive errno
  r.message = std::move(message);
  r.detail = std::move(detail);
  return r;
}

ProbeResult FailOp(Stage stage, int err, const std::string& op, std::string detail) {
  if (err <= 0) err = EINVAL;
  std::string code = ErrnoCode(err);
  std::string text = ErrnoText(err);
  std::string message = op + " failed: " + text;
  if (text.find(code) == std::string::npos) message += " (" + code + ")";
  return FailMsg(stage, err, std::move(message), std::move(detail));
}

void AddDetail(ProbeResult* r, const std::string& extra) {
  if (extra.empty()) return;
  if (r->detail.empty())
    r->detail = extra;
  else
    r->detail += "; " + extra;
}

}  // namespace ebp
