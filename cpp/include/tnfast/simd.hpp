// Instruction-set level of the hand-vectorized kernels (batched TT evaluation, MPO sweeps).
#pragma once

namespace tnfast {
namespace simd {

// 0 portable code, 1 AVX2+FMA, 2 AVX-512 (F, DQ and VL).  Detected once on x86-64 with GCC or
// Clang; elsewhere always 0.
int detected_level();

// The level the kernels use: the detected one, capped by set_level_cap.
int active_level();

// Cap the level (to test every kernel path on one machine); a negative value removes the cap.
void set_level_cap(int level);

}  // namespace simd
}  // namespace tnfast
