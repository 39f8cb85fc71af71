#include "tnfast/memory.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <mutex>
#include <new>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(_WIN32)
#include <malloc.h>
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

// ---- scratch pool ------------------------------------------------------------------------------
namespace scratch {
namespace {

constexpr std::size_t kHuge = std::size_t(1) << 21;
constexpr std::size_t kGrain = std::size_t(1) << 16;
constexpr int kSlots = 8;                                  // blocks kept
constexpr std::size_t kKeepMax = std::size_t(64) << 20;    // largest block kept

Block allocate(std::size_t bytes) {
  Block b;
  const std::size_t align = bytes >= kHuge ? kHuge : 64;
  const std::size_t grain = bytes >= kHuge ? kHuge : kGrain;
  bytes = (bytes + grain - 1) / grain * grain;
#if defined(_WIN32)
  b.p = _aligned_malloc(bytes, align);
#else
  b.p = std::aligned_alloc(align, bytes);
#endif
  if (!b.p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (align == kHuge) madvise(b.p, bytes, MADV_HUGEPAGE);
#endif
  b.bytes = bytes;
  return b;
}

void release(Block& b) {
#if defined(_WIN32)
  _aligned_free(b.p);
#else
  std::free(b.p);
#endif
  b = Block();
}

struct Pool {
  std::mutex mu;
  Block slots[kSlots];
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: usable until the process exits
  return *p;
}

}  // namespace

Block take(std::size_t bytes) {
  Pool& P = pool();
  {
    std::lock_guard<std::mutex> lock(P.mu);
    int best = -1;  // the smallest kept block that fits
    for (int i = 0; i < kSlots; ++i)
      if (P.slots[i].p && P.slots[i].bytes >= bytes && (best < 0 || P.slots[i].bytes < P.slots[best].bytes)) best = i;
    if (best >= 0) {
      Block b = P.slots[best];
      P.slots[best] = Block();
      return b;
    }
  }
  return allocate(bytes);
}

void give(Block b) {
  if (!b.p) return;
  if (b.bytes > kKeepMax) {
    release(b);
    return;
  }
  Pool& P = pool();
  Block drop;
  {
    std::lock_guard<std::mutex> lock(P.mu);
    int slot = -1;
    for (int i = 0; i < kSlots && slot < 0; ++i)
      if (!P.slots[i].p) slot = i;
    if (slot < 0) {  // full: replace the smallest block if this one is larger
      slot = 0;
      for (int i = 1; i < kSlots; ++i)
        if (P.slots[i].bytes < P.slots[slot].bytes) slot = i;
      if (P.slots[slot].bytes >= b.bytes) {
        drop = b;
        slot = -1;
      } else {
        drop = P.slots[slot];
      }
    }
    if (slot >= 0) P.slots[slot] = b;
  }
  if (drop.p) release(drop);
}

std::size_t kept_blocks() {
  Pool& P = pool();
  std::lock_guard<std::mutex> lock(P.mu);
  std::size_t n = 0;
  for (const auto& b : P.slots) n += b.p ? 1 : 0;
  return n;
}

}  // namespace scratch
}  // namespace tnfast
