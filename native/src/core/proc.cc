// /proc files and uname.
#include "core/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>

#include "core/fd.h"

namespace ebp {

uint32_t RunningKernelVersionCode() {
  struct utsname u;
  if (uname(&u) != 0) return 0;
  unsigned major = 0, minor = 0, patch = 0;
  if (sscanf(u.release, "%u.%u.%u", &major, &minor, &patch) < 2) return 0;
  if (patch > 255) patch = 255;
  return (major << 16) + (minor << 8) + patch;
}

const uint8_t* MapReadOnly(const std::string& path, size_t* size) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return nullptr;
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (p == MAP_FAILED) return nullptr;
  *size = static_cast<size_t>(st.st_size);
  return static_cast<const uint8_t*>(p);
}

int ReadFile(const std::string& path, std::string* out) {
  out->clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  Fd guard(fd);
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  return 0;
}

// File and file offset of code at `addr` in this process, for uprobes (file offset = addr - start + pgoff,
// from /proc/self/maps). When the file was replaced after it was mapped (a rebuild of the addon), the
// mapping's /proc/self/map_files entry still names the old inode, which is the code this process runs.
int ResolveCodeAddress(uintptr_t addr, std::string* path, uint64_t* offset, std::string* why) {
  std::string maps;
  if (int err = ReadFile("/proc/self/maps", &maps)) {
    *why = "cannot read /proc/self/maps";
    return err;
  }
  size_t pos = 0;
  while (pos < maps.size()) {
    size_t end = maps.find('\n', pos);
    if (end == std::string::npos) end = maps.size();
    const std::string line = maps.substr(pos, end - pos);
    pos = end + 1;
    unsigned long start = 0, stop = 0, pgoff = 0;
    char perms[8] = {0};
    int path_at = 0;
    if (sscanf(line.c_str(), "%lx-%lx %7s %lx %*s %*s %n", &start, &stop, perms, &pgoff, &path_at) < 4) continue;
    if (addr < start || addr >= stop) continue;
    std::string p = path_at > 0 ? line.substr(static_cast<size_t>(path_at)) : "";
    while (!p.empty() && (p.back() == ' ' || p.back() == '\n')) p.pop_back();
    if (p.empty() || p[0] != '/') {
      *why = "the code mapping has no file path";
      return ENOENT;
    }
    const std::string deleted = " (deleted)";
    if (p.size() > deleted.size() && p.compare(p.size() - deleted.size(), deleted.size(), deleted) == 0) {
      char buf[96];
      snprintf(buf, sizeof(buf), "/proc/%d/map_files/%lx-%lx", static_cast<int>(getpid()), start, stop);
      p = buf;
    }
    *path = p;
    *offset = addr - start + pgoff;
    return 0;
  }
  *why = "no mapping in /proc/self/maps contains the address";
  return ENOENT;
}

}  // namespace ebp
