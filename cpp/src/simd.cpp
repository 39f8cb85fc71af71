#include "tnfast/simd.hpp"

#include <algorithm>
#include <atomic>

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define TNFAST_SIMD_X86 1
#else
#define TNFAST_SIMD_X86 0
#endif

namespace tnfast {
namespace simd {
namespace {
std::atomic<int> g_cap{-1};
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
  const int cap = g_cap.load();
  const int det = detected_level();
  return cap >= 0 ? std::min(cap, det) : det;
}

void set_level_cap(int level) { g_cap.store(level < 0 ? -1 : std::min(level, 2)); }

}  // namespace simd
}  // namespace tnfast
