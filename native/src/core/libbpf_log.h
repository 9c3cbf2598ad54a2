// libbpf message capture (libbpf_set_print). Messages never reach stderr; callers clear the buffer
// before they start and read it on failure. The buffer is per thread.
#pragma once

#include <cstddef>
#include <string>

namespace ebp {

void InstallLibbpfPrint();
void ClearLibbpfLog();
std::string LibbpfLog();

// First `max_lines` non-empty lines of `text`, joined with " | ".
std::string FirstLines(const std::string& text, size_t max_lines);
// Last `n` non-empty lines of `text`, joined with "\n" (the verifier's verdict is at the end).
std::string LastLines(const std::string& text, size_t n);

}  // namespace ebp
