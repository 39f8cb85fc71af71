// Internal helpers shared by the tt_*.cpp translation units (not installed, not public).
#pragma once

#include <algorithm>
#include <cmath>
#include <string>

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

// Fewest singular values (descending s) whose cut weight sum_{i>=k} s_i^2 is <= budget
// (absolute), and at most max_rank (<= 0: no cap); at least one.  *cut receives the weight cut.
template <class R>
Index keep_count(const Vec<R>& s, Index max_rank, double budget, double* cut) {
  const Index n = s.size();
  if (n == 0) {
    *cut = 0.0;
    return 0;
  }
  std::vector<double> tail(size_t(n + 1), 0.0);
  for (Index i = n - 1; i >= 0; --i) tail[size_t(i)] = tail[size_t(i + 1)] + double(s[i]) * double(s[i]);
  Index k = n;
  while (k > 1 && tail[size_t(k - 1)] <= budget) --k;
  if (max_rank > 0) k = std::min(k, max_rank);
  k = std::max<Index>(k, 1);
  *cut = tail[size_t(k)];
  return k;
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
