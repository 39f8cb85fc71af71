// Internal helpers of the linalg translation units (not installed, not public): the CBLAS /
// LAPACKE constants and the size checks of the calls into a registered BLAS.
#pragma once

#include <algorithm>
#include <type_traits>

#include "tnfast/linalg.hpp"

namespace tnfast {
namespace linalg {
namespace detail {

constexpr int kColMajor = 102;
constexpr int kNoTrans = 111, kTrans = 112, kConjTrans = 113;
constexpr int kUpper = 121, kLower = 122;
constexpr int kNonUnit = 131;
constexpr int kLeft = 141, kRight = 142;

// The entry point of T's type among those of the four scalar types.
template <class T>
void* pick(void* s, void* d, void* c, void* z) {
  if constexpr (std::is_same_v<T, float>) return s;
  else if constexpr (std::is_same_v<T, double>) return d;
  else if constexpr (std::is_same_v<T, cfloat>) return c;
  else return z;
}

// Whether v fits the 32-bit integers of the registered BLAS.
inline bool fits_int(Index v) { return v >= 0 && v <= Index(2147483647); }
// A leading dimension (at least 1).
inline int ld(Index v) { return int(std::max<Index>(1, v)); }

}  // namespace detail
}  // namespace linalg
}  // namespace tnfast
