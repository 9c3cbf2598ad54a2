// What a doctor probe answers: ok, or the stage that failed with its errno and a readable message.
// Plain C++ (no N-API): probe/probe_api.cc converts results to JS objects.
#pragma once

#include <string>

namespace ebp {

enum class Stage { Ok, Setup, Load, Attach };

struct ProbeResult {
  bool ok = false;
  Stage stage = Stage::Setup;
  int err = 0;  // positive errno, 0 when ok
  std::string message;
  std::string detail;  // may be empty
};

const char* StageName(Stage stage);

// Successful result: message "attached via ..." etc.
ProbeResult Ok(std::string message, std::string detail = "");
// Failure with a fixed, complete message.
ProbeResult FailMsg(Stage stage, int err, std::string message, std::string detail = "");
// Failure of an operation: message "<op> failed: <strerror> (<CODE>)".
ProbeResult FailOp(Stage stage, int err, const std::string& op, std::string detail = "");

// Appends "; " + extra to detail (or sets it when empty).
void AddDetail(ProbeResult* r, const std::string& extra);

}  // namespace ebp
