#include "tnfast/simd.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>

namespace tnfast {
namespace simd {
namespace {
// -2: not read yet (the environment is consulted once), -1: no cap
std::atomic<int> g_cap{-2};

int env_cap() {
  const char* v = std::getenv("TNFAST_SIMD_LEVEL");
  if (!v || !*v) return -1;
  char* end = nullptr;
  const long l = std::strtol(v, &end, 10);
  if (*end != '\0' || l < 0) return -1;
  return int(std::min(l, 2L));
}
}  // namespace

int detected_level() {
#if TNFAST_SIMD_X86
  static const int level = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
      return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
  }();
  return level;
#else
  return 0;
#endif
}

int active_level() {
  int cap = g_cap.load(std::memory_order_relaxed);
  if (cap == -2) {
    int expected = -2;
    g_cap.compare_exchange_strong(expected, env_cap());
    cap = g_cap.load();
  }
  const int det = detected_level();
  return cap >= 0 ? std::min(cap, det) : det;
}

void set_level_cap(int level) { g_cap.store(level < 0 ? -1 : std::min(level, 2)); }

}  // namespace simd
}  // namespace tnfast
