// Instruction-set level of the hand-vectorized kernels (maxvol, batched TT evaluation, MPO sweeps,
// the MPS classifier) and the one dispatcher that picks a kernel for it.
#pragma once

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define TNFAST_SIMD_X86 1
#else
#define TNFAST_SIMD_X86 0
#endif

// Forces a kernel body into each per-instruction-set wrapper (so that it is compiled for that set).
#if defined(__GNUC__) || defined(__clang__)
#define TNFAST_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TNFAST_ALWAYS_INLINE inline
#endif

namespace tnfast {
namespace simd {

// 0 portable code, 1 AVX2+FMA, 2 AVX-512 (F, DQ and VL).  Detected once on x86-64 with GCC or
// Clang; elsewhere always 0.
int detected_level();

// The level the kernels use: the detected one, capped by set_level_cap (or, until the first call
// of set_level_cap, by the environment variable TNFAST_SIMD_LEVEL read at the first call).
int active_level();

// Cap the level (to test every kernel path on one machine); a negative value removes the cap.
void set_level_cap(int level);

// The dispatcher: the variant compiled for the active level.  Every kernel family calls it when it
// starts (never caches the choice), so that a change of the cap takes effect at the next call.
template <class F>
F select(const F& portable, const F& avx2, const F& avx512) {
  const int level = active_level();
  if (level >= 2) return avx512;
  if (level >= 1) return avx2;
  return portable;
}

}  // namespace simd
}  // namespace tnfast

// Picks among a kernel's three variants; where the x86 variants are not compiled, the portable one.
#if TNFAST_SIMD_X86
#define TNFAST_SIMD_PICK(portable, avx2, avx512) ::tnfast::simd::select(portable, avx2, avx512)
#else
#define TNFAST_SIMD_PICK(portable, avx2, avx512) (portable)
#endif
