#include "tnfast/memory.hpp"

#include <cstdio>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace tnfast {

double physical_memory_bytes() {
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

void require_memory(double bytes, const std::string& what, const std::string& hint) {
  const double avail = physical_memory_bytes();
  if (bytes <= avail) return;
  char buf[160];
  std::snprintf(buf, sizeof buf, " would need %.3g GiB, more than the %.3g GiB of memory available on this machine",
                bytes / 1073741824.0, avail / 1073741824.0);
  throw too_large(what + buf + hint);
}

}  // namespace tnfast
