// LU with partial pivoting by recursion (see linalg.hpp).
#include "tnfast/cancel.hpp"
#include "tnfast/linalg.hpp"
#include "tnfast/simd.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace tnfast {
namespace linalg {
namespace {

template <class T>
inline real_t<T> absval(const T& x) {
  return std::abs(x);
}

// Pivot score of the LU: |x|, and |Re x| + |Im x| for complex x (as LAPACK's i?amax).
template <class T>
inline real_t<T> pivot_score(const T& x) {
  return std::abs(x);
}
template <>
inline float pivot_score<cfloat>(const cfloat& x) {
  return std::abs(x.real()) + std::abs(x.imag());
}
template <>
inline double pivot_score<cdouble>(const cdouble& x) {
  return std::abs(x.real()) + std::abs(x.imag());
}

template <class T>
using StridedMap = Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>>;

// Unblocked right-looking LU of a narrow m x nc panel (same pivots and operations per
// column as the recursion would make).
template <class T>
TNFAST_ALWAYS_INLINE void lu_unblocked_body(T* a, Index m, Index nc, Index lda, Index* ipiv) {
  using R = real_t<T>;
  for (Index k = 0; k < nc; ++k) {
    T* col = a + k * lda;
    Index p = k;
    R best = pivot_score(col[k]);
    for (Index i = k + 1; i < m; ++i) {
      const R sc = pivot_score(col[i]);
      if (sc > best) {
        best = sc;
        p = i;
      }
    }
    ipiv[k] = p;
    if (best == R(0)) continue;  // zero column: reported by the caller
    if (p != k)
      for (Index c = 0; c < nc; ++c) std::swap(a[c * lda + k], a[c * lda + p]);
    if (absval(col[k]) >= std::numeric_limits<R>::min()) {
      const T inv = T(1) / col[k];
      for (Index i = k + 1; i < m; ++i) col[i] *= inv;
    } else {
      for (Index i = k + 1; i < m; ++i) col[i] /= col[k];
    }
    for (Index c = k + 1; c < nc; ++c) {
      T* cc = a + c * lda;
      const T u = cc[k];
      if (u == T(0)) continue;
      for (Index i = k + 1; i < m; ++i) cc[i] -= col[i] * u;
    }
  }
}

template <class T>
using LuPanelFn = void (*)(T*, Index, Index, Index, Index*);

template <class T>
void lu_unblocked_generic(T* a, Index m, Index nc, Index lda, Index* ipiv) {
  lu_unblocked_body<T>(a, m, nc, lda, ipiv);
}

#if TNFAST_SIMD_X86
template <class T>
__attribute__((target("avx512f"))) void lu_unblocked_avx512(T* a, Index m, Index nc, Index lda, Index* ipiv) {
  lu_unblocked_body<T>(a, m, nc, lda, ipiv);
}
template <class T>
__attribute__((target("avx2"))) void lu_unblocked_avx2(T* a, Index m, Index nc, Index lda, Index* ipiv) {
  lu_unblocked_body<T>(a, m, nc, lda, ipiv);
}
#endif

// The panel kernel for the active instruction-set level (real types; complex ones stay portable).
template <class T>
LuPanelFn<T> pick_lu_panel() {
  if constexpr (Eigen::NumTraits<T>::IsComplex) {
    return &lu_unblocked_generic<T>;
  } else {
    return TNFAST_SIMD_PICK(LuPanelFn<T>(&lu_unblocked_generic<T>), LuPanelFn<T>(&lu_unblocked_avx2<T>),
                            LuPanelFn<T>(&lu_unblocked_avx512<T>));
  }
}

// The recursion of lu_inplace (the scheme of LAPACK's getrf2), with the panel kernel chosen once.
// The trailing updates are products through linalg::gemm, so they run on the registered BLAS
// when there is one.
template <class T>
void lu_recursive(T* a, Index m, Index nc, Index lda, Index* ipiv, LuPanelFn<T> panel) {
  if (nc <= 8) {
    panel(a, m, nc, lda, ipiv);
    return;
  }
  const Index n1 = nc / 2, n2 = nc - n1;
  lu_recursive(a, m, n1, lda, ipiv, panel);
  T* a12 = a + n1 * lda;
  for (Index k = 0; k < n1; ++k) {
    const Index p = ipiv[k];
    if (p != k)
      for (Index c = 0; c < n2; ++c) std::swap(a12[c * lda + k], a12[c * lda + p]);
  }
  StridedMap<T> A11(a, n1, n1, Eigen::OuterStride<>(lda)), A12(a12, n1, n2, Eigen::OuterStride<>(lda));
  StridedMap<T> A21(a + n1, m - n1, n1, Eigen::OuterStride<>(lda)), A22(a12 + n1, m - n1, n2, Eigen::OuterStride<>(lda));
  A11.template triangularView<Eigen::UnitLower>().solveInPlace(A12);
  // the trailing update in row blocks, between which a stop request is honoured
  const Index rb = std::max<Index>(4096, Index(1 << 24) / std::max<Index>(1, n1 * n2));
  for (Index r0 = 0; r0 < m - n1; r0 += rb) {
    cancel::check();
    const Index h = std::min(rb, m - n1 - r0);
    linalg::gemm<T>('N', 'N', T(-1), A21.middleRows(r0, h), A12, T(1), A22.middleRows(r0, h));
  }
  lu_recursive(a12 + n1, m - n1, n2, lda, ipiv + n1, panel);
  for (Index k = n1; k < nc; ++k) {
    const Index p = (ipiv[k] += n1);
    if (p != k)
      for (Index c = 0; c < n1; ++c) std::swap(a[c * lda + k], a[c * lda + p]);
  }
}

}  // namespace

template <class T>
void lu_inplace(T* a, Index m, Index nc, Index lda, Index* ipiv) {
  if (nc < 0 || m < nc || lda < std::max<Index>(1, m))
    throw invalid_argument("lu_inplace: expected m >= nc >= 0 and lda >= m");
  lu_recursive<T>(a, m, nc, lda, ipiv, pick_lu_panel<T>());
}

template void lu_inplace<float>(float*, Index, Index, Index, Index*);
template void lu_inplace<double>(double*, Index, Index, Index, Index*);
template void lu_inplace<cfloat>(cfloat*, Index, Index, Index, Index*);
template void lu_inplace<cdouble>(cdouble*, Index, Index, Index, Index*);

}  // namespace linalg
}  // namespace tnfast
