// Names and texts for errno values, including the kernel-internal ones that leak out of bpf().
#pragma once

#include <string>

namespace ebp {

constexpr int kENOTSUPP = 524;  // kernel-internal ENOTSUPP, leaks out of bpf()

// "EPERM", "ENOENT", ... ("E<n>" for numbers we do not know, "" for 0).
std::string ErrnoCode(int err);
// strerror() text, with a readable text for kernel-internal codes (524).
std::string ErrnoText(int err);

}  // namespace ebp
