// Internal helpers shared by the tt_*.cpp translation units (not installed, not public).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

#include "tnfast/cancel.hpp"
#include "tnfast/linalg.hpp"
#include "tnfast/tt.hpp"

namespace tnfast {
namespace tt {
namespace detail {

// Column-major views of a row-major core's memory:
//   lt(G) = left(G)^T  : rr x (rl d)
//   rt(G) = right(G)^T : (d rr) x rl
template <class T>
Eigen::Map<Mat<T>> lt(Core3<T>& G) { return {G.data.data(), G.rr, G.rl * G.d}; }
template <class T>
Eigen::Map<const Mat<T>> lt(const Core3<T>& G) { return {G.data.data(), G.rr, G.rl * G.d}; }
template <class T>
Eigen::Map<Mat<T>> rt(Core3<T>& G) { return {G.data.data(), G.d * G.rr, G.rl}; }
template <class T>
Eigen::Map<const Mat<T>> rt(const Core3<T>& G) { return {G.data.data(), G.d * G.rr, G.rl}; }

template <class T>
inline T conj_if(const T& x) {
  if constexpr (Eigen::NumTraits<T>::IsComplex) return std::conj(x);
  else return x;
}

template <class T>
inline double abs2(const T& x) {
  if constexpr (Eigen::NumTraits<T>::IsComplex) return double(std::norm(x));
  else return double(x) * double(x);
}

// The truncation rule of a sweep: at most max_rank (<= 0: no cap) and an absolute cut budget per
// bond (negative: keep everything, 0: cut exact zeros only).
inline linalg::TruncationRule sweep_rule(Index max_rank, double budget) {
  linalg::TruncationRule rule;
  rule.max_rank = max_rank;
  rule.abs_budget = budget;
  return rule;
}

// Largest |real part| or |imaginary part| of a core's entries.
template <class T>
real_t<T> max_component(const Core3<T>& G) {
  using R = real_t<T>;
  const R* p = reinterpret_cast<const R*>(G.data.data());
  const size_t m = G.data.size() * (Eigen::NumTraits<T>::IsComplex ? 2 : 1);
  R mx = R(0);
  for (size_t i = 0; i < m; ++i) mx = std::max(mx, std::abs(p[i]));
  return mx;
}

// Multiplies every entry of G by 2^e (exact unless the result over- or underflows).
template <class T>
void scale_pow2(Core3<T>& G, long e) {
  using R = real_t<T>;
  if (e == 0) return;
  R* p = reinterpret_cast<R*>(G.data.data());
  const size_t m = G.data.size() * (Eigen::NumTraits<T>::IsComplex ? 2 : 1);
  const int ei = int(std::max(-100000L, std::min(100000L, e)));
  for (size_t i = 0; i < m; ++i) p[i] = std::ldexp(p[i], ei);
}

// Scales every core by a power of two so that its largest component lies in [0.5, 1); returns
// the total exponent E (the train equals 2^E times the scaled one).  Exact.
template <class T>
long normalize_scales(Cores<T>& c) {
  long E = 0;
  for (auto& G : c) {
    cancel::check();
    const auto mx = max_component(G);
    if (!(mx > 0)) continue;
    int e = 0;
    std::frexp(mx, &e);
    scale_pow2(G, -long(e));
    E += e;
  }
  return E;
}

// Multiplies G by 2^E; throws std::overflow_error naming `what` when an entry overflows.
template <class T>
void restore_scale(Core3<T>& G, long E, const char* what) {
  scale_pow2(G, E);
  using R = real_t<T>;
  const R* p = reinterpret_cast<const R*>(G.data.data());
  const size_t m = G.data.size() * (Eigen::NumTraits<T>::IsComplex ? 2 : 1);
  for (size_t i = 0; i < m; ++i)
    if (!std::isfinite(p[i]))
      throw std::overflow_error(std::string(what) + ": the result overflows the floating-point range");
}

// Throws unless a and b are valid trains of equal physical dimensions.
template <class T>
void check_same_dims(const Cores<T>& a, const Cores<T>& b, const char* what) {
  check_cores(a, "a");
  check_cores(b, "b");
  if (a.size() != b.size())
    throw invalid_argument(std::string(what) + ": the trains have different numbers of sites (" +
                           std::to_string(a.size()) + " vs " + std::to_string(b.size()) + ")");
  for (size_t k = 0; k < a.size(); ++k)
    if (a[k].d != b[k].d)
      throw invalid_argument(std::string(what) + ": physical dimensions differ at site " + std::to_string(k) + " (" +
                             std::to_string(a[k].d) + " vs " + std::to_string(b[k].d) + ")");
}

// Make core k right-orthogonal by a QR of its right unfolding; the triangular factor goes into
// core k-1.  Bond k may shrink to min(rl, d rr).
template <class T>
void push_left(Cores<T>& c, Index k);

// Make core k left-orthogonal by a QR of its left unfolding; the factor goes into core k+1.
template <class T>
void push_right(Cores<T>& c, Index k);

}  // namespace detail
}  // namespace tt
}  // namespace tnfast
