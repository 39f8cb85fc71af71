#include "tnfast/memory.hpp"

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(_WIN32)
#include <malloc.h>
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
