#include "tnfast/memory.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace tnfast {

namespace {

// memory.max - memory.current of this process's cgroup (v2) where a limit is set, else < 0.
double cgroup_headroom() {
  char rel[512] = {0};
  if (std::FILE* f = std::fopen("/proc/self/cgroup", "r")) {
    char line[640];
    while (std::fgets(line, sizeof line, f))
      if (std::strncmp(line, "0::", 3) == 0) {
        std::snprintf(rel, sizeof rel, "%s", line + 3);
        rel[std::strcspn(rel, "\n")] = 0;
        break;
      }
    std::fclose(f);
  }
  if (!rel[0]) return -1;
  size_t len = std::strlen(rel);
  while (len > 0 && rel[len - 1] == '/') rel[--len] = 0;
  char path[640];
  double lim = -1, cur = -1;
  std::snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", rel);
  if (std::FILE* f = std::fopen(path, "r")) {
    if (std::fscanf(f, "%lf", &lim) != 1) lim = -1;  // "max": no limit
    std::fclose(f);
  }
  std::snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.current", rel);
  if (std::FILE* f = std::fopen(path, "r")) {
    if (std::fscanf(f, "%lf", &cur) != 1) cur = -1;
    std::fclose(f);
  }
  if (lim < 0 || cur < 0) return -1;
  return std::max(0.0, lim - cur);
}

// RLIMIT_AS (ulimit -v) minus the address space in use, where a limit is set, else < 0.
double address_space_headroom() {
#if defined(RLIMIT_AS)
  struct rlimit rl;
  if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return -1;
  double vm_kib = -1;
  if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "VmSize: %lf kB", &vm_kib) == 1) break;
    std::fclose(f);
  }
  if (vm_kib < 0) return -1;
  return std::max(0.0, double(rl.rlim_cur) - vm_kib * 1024.0);
#else
  return -1;
#endif
}

double system_available() {
  // the kernel's estimate of what can be allocated without swapping, where published (Linux)
  if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
    char line[256];
    double kib = -1;
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "MemAvailable: %lf kB", &kib) == 1) break;
    std::fclose(f);
    if (kib > 0) return kib * 1024.0;
  }
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && size > 0) return double(pages) * double(size);
#endif
  return 1e15;
}

}  // namespace

double physical_memory_bytes() {
  double avail = system_available();
  for (double extra : {cgroup_headroom(), address_space_headroom()})
    if (extra >= 0) avail = std::min(avail, extra);
  return avail;
}

void require_memory(double bytes, const std::string& what, const std::string& hint) {
  const double avail = physical_memory_bytes();
  if (bytes <= avail) return;
  char buf[160];
  std::snprintf(buf, sizeof buf, " would need %.3g GiB, more than the %.3g GiB of memory available on this machine",
                bytes / 1073741824.0, avail / 1073741824.0);
  throw too_large(what + buf + hint);
}

}  // namespace tnfast
