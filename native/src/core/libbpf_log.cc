// libbpf log capture and the line pickers used on its messages.
#include "core/libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <vector>

namespace ebp {

namespace {

// Per thread: probes may run concurrently on libuv's worker threads, and
// libbpf calls the print callback on the thread that made the failing call.
thread_local std::string t_log;
// The tail is kept: libbpf hands over a whole verifier log (tens of KiB) as one message, and the
// verifier states its reason on the last lines.
constexpr size_t kMaxLog = 64 * 1024;

int CapturePrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  va_list again;
  va_copy(again, args);
  int n = vsnprintf(nullptr, 0, fmt, args);
  if (n > 0) {
    std::string msg(static_cast<size_t>(n) + 1, '\0');
    vsnprintf(msg.data(), msg.size(), fmt, again);
    msg.pop_back();
    t_log.append(msg);
    if (t_log.size() > kMaxLog) {
      size_t cut = t_log.find('\n', t_log.size() - kMaxLog);
      t_log.erase(0, cut == std::string::npos ? t_log.size() - kMaxLog : cut + 1);
    }
  }
  va_end(again);
  return 0;
}

}  // namespace

void InstallLibbpfPrint() { libbpf_set_print(CapturePrint); }

void ClearLibbpfLog() { t_log.clear(); }

std::string LibbpfLog() { return t_log; }

std::string LastLines(const std::string& text, size_t n) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (nl > pos) lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); i++)
    out += (out.empty() ? "" : "\n") + lines[i];
  return out;
}

std::string FirstLines(const std::string& text, size_t max_lines) {
  std::string out;
  size_t lines = 0;
  size_t pos = 0;
  while (pos < text.size() && lines < max_lines) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) {
      if (!out.empty()) out += " | ";
      out += line;
      ++lines;
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace ebp
