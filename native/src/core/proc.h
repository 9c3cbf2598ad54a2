// What this process and the running kernel say about themselves: files under /proc, uname.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ebp {

// Reads a whole (small or /proc) file. Returns 0 or errno.
int ReadFile(const std::string& path, std::string* out);

// A read-only private mapping of a whole regular file (*size: its length), or nullptr when it cannot be
// mapped. /sys/kernel/btf/vmlinux: one call instead of sysfs's 4-KiB reads (kernels since 6.16 allow it).
const uint8_t* MapReadOnly(const std::string& path, size_t* size);

// LINUX_VERSION_CODE of the running kernel (for old KPROBE loaders).
uint32_t RunningKernelVersionCode();

// File and file offset of the code at `addr` in this process (for uprobes). Returns 0 or errno (*why says why).
int ResolveCodeAddress(uintptr_t addr, std::string* path, uint64_t* offset, std::string* why);

}  // namespace ebp
