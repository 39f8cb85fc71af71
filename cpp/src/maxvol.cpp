// Maximum-volume row selection: square maxvol and rectangular maxvol.
//
// Square maxvol keeps B = A A[I]^-1 (n x r) row-major.  One iteration is a single pass over
// B that applies the rank-1 update of the previous swap and, row by row, finds the largest
// |B_mj| of the updated row, so that the next pivot (the first maximum in row-major order,
// as numpy's argmax on the flattened |B|) is known when the pass ends.  The update is
// evaluated as B_ml - B_mj * c_l with c = (B_i - e_j) / B_ij, rounded exactly like the numpy
// expression B -= outer(B[:, j], c); on x86-64 the pass is written with AVX2 / AVX-512
// intrinsics chosen at run time.
#include "tnfast/maxvol.hpp"

#include "tnfast/cancel.hpp"
#include "tnfast/linalg.hpp"
#include "tnfast/memory.hpp"
#include "tnfast/simd.hpp"

#include <Eigen/LU>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <numeric>
#include <string>

#if TNFAST_SIMD_X86
#include <immintrin.h>
#endif

namespace tnfast {
namespace {

using std::abs;

template <class T>
inline real_t<T> absval(const T& x) {
  return std::abs(x);
}

// ---- the fused "update, then find the row of the largest entry" pass ----------------------
//
// For every row m: t = B[m, j]; B[m, l] -= t * c[l] for all l; rowmax = max_l |B[m, l]|.
// Returns the first row whose rowmax is largest (strict comparison keeps the first) and its
// rowmax.  With c = 0 the pass is a pure scan.
template <class T>
using PassFn = void (*)(T* B, Index n, Index r, Index j, const T* c, Index* best_row, real_t<T>* best);

template <class T>
void pass_generic(T* B, Index n, Index r, Index j, const T* c, Index* best_row, real_t<T>* best) {
  using R = real_t<T>;
  R bv = R(-1);
  Index br = 0;
  for (Index m = 0; m < n; ++m) {
    T* row = B + m * r;
    const T t = row[j];
    R mx = R(0);
    for (Index l = 0; l < r; ++l) {
      const T p = t * c[l];
      const T x = row[l] - p;
      row[l] = x;
      const R a = absval(x);
      if (a > mx) mx = a;
    }
    if (mx > bv) {
      bv = mx;
      br = m;
    }
  }
  *best_row = br;
  *best = bv;
}

#if TNFAST_SIMD_X86

// Makes the product a value of its own, so that the compiler cannot fuse it with the
// subtraction into an FMA (which would round differently from numpy's outer product).
#define TNFAST_ROUNDED(x) asm("" : "+v"(x))

// GCC's AVX-512 headers start some intrinsics from an "undefined" vector, which its
// -Wmaybe-uninitialized flags once inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

__attribute__((target("avx512f"))) void pass_avx512_f64(double* B, Index n, Index r, Index j, const double* c,
                                                        Index* best_row, double* best) {
  const Index full = r & ~Index(7);
  const __mmask8 tail = static_cast<__mmask8>((1u << unsigned(r - full)) - 1u);
  double bv = -1.0;
  Index br = 0;
  for (Index m = 0; m < n; ++m) {
    double* row = B + m * r;
    const __m512d t = _mm512_set1_pd(row[j]);
    __m512d mx = _mm512_setzero_pd();
    Index l = 0;
    for (; l < full; l += 8) {
      __m512d p = _mm512_mul_pd(t, _mm512_loadu_pd(c + l));
      TNFAST_ROUNDED(p);
      const __m512d x = _mm512_sub_pd(_mm512_loadu_pd(row + l), p);
      _mm512_storeu_pd(row + l, x);
      mx = _mm512_max_pd(mx, _mm512_abs_pd(x));
    }
    if (tail) {
      __m512d p = _mm512_mul_pd(t, _mm512_maskz_loadu_pd(tail, c + l));
      TNFAST_ROUNDED(p);
      const __m512d x = _mm512_sub_pd(_mm512_maskz_loadu_pd(tail, row + l), p);
      _mm512_mask_storeu_pd(row + l, tail, x);
      mx = _mm512_max_pd(mx, _mm512_abs_pd(x));  // lanes outside the mask hold 0
    }
    // Most rows hold nothing above the best so far: reduce only those that do.
    if (_mm512_cmp_pd_mask(mx, _mm512_set1_pd(bv), _CMP_GT_OQ)) {
      __m512d s = _mm512_max_pd(mx, _mm512_shuffle_f64x2(mx, mx, 0x4E));  // swap 256-bit halves
      s = _mm512_max_pd(s, _mm512_shuffle_f64x2(s, s, 0xB1));             // swap 128-bit lanes
      s = _mm512_max_pd(s, _mm512_permute_pd(s, 0x55));                    // swap within lanes
      bv = _mm_cvtsd_f64(_mm512_castpd512_pd128(s));
      br = m;
    }
  }
  *best_row = br;
  *best = bv;
}

__attribute__((target("avx512f"))) void pass_avx512_f32(float* B, Index n, Index r, Index j, const float* c,
                                                        Index* best_row, float* best) {
  const Index full = r & ~Index(15);
  const __mmask16 tail = static_cast<__mmask16>((1u << unsigned(r - full)) - 1u);
  float bv = -1.0f;
  Index br = 0;
  for (Index m = 0; m < n; ++m) {
    float* row = B + m * r;
    const __m512 t = _mm512_set1_ps(row[j]);
    __m512 mx = _mm512_setzero_ps();
    Index l = 0;
    for (; l < full; l += 16) {
      __m512 p = _mm512_mul_ps(t, _mm512_loadu_ps(c + l));
      TNFAST_ROUNDED(p);
      const __m512 x = _mm512_sub_ps(_mm512_loadu_ps(row + l), p);
      _mm512_storeu_ps(row + l, x);
      mx = _mm512_max_ps(mx, _mm512_abs_ps(x));
    }
    if (tail) {
      __m512 p = _mm512_mul_ps(t, _mm512_maskz_loadu_ps(tail, c + l));
      TNFAST_ROUNDED(p);
      const __m512 x = _mm512_sub_ps(_mm512_maskz_loadu_ps(tail, row + l), p);
      _mm512_mask_storeu_ps(row + l, tail, x);
      mx = _mm512_max_ps(mx, _mm512_abs_ps(x));
    }
    if (_mm512_cmp_ps_mask(mx, _mm512_set1_ps(bv), _CMP_GT_OQ)) {
      __m512 s = _mm512_max_ps(mx, _mm512_shuffle_f32x4(mx, mx, 0x4E));
      s = _mm512_max_ps(s, _mm512_shuffle_f32x4(s, s, 0xB1));
      s = _mm512_max_ps(s, _mm512_permute_ps(s, 0x4E));
      s = _mm512_max_ps(s, _mm512_permute_ps(s, 0xB1));
      bv = _mm_cvtss_f32(_mm512_castps512_ps128(s));
      br = m;
    }
  }
  *best_row = br;
  *best = bv;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

__attribute__((target("avx2"))) void pass_avx2_f64(double* B, Index n, Index r, Index j, const double* c,
                                                   Index* best_row, double* best) {
  const Index full = r & ~Index(3);
  const __m256d sign = _mm256_set1_pd(-0.0);
  double bv = -1.0;
  Index br = 0;
  for (Index m = 0; m < n; ++m) {
    double* row = B + m * r;
    const double ts = row[j];
    const __m256d t = _mm256_set1_pd(ts);
    __m256d mx = _mm256_setzero_pd();
    Index l = 0;
    for (; l < full; l += 4) {
      __m256d p = _mm256_mul_pd(t, _mm256_loadu_pd(c + l));
      TNFAST_ROUNDED(p);
      const __m256d x = _mm256_sub_pd(_mm256_loadu_pd(row + l), p);
      _mm256_storeu_pd(row + l, x);
      mx = _mm256_max_pd(mx, _mm256_andnot_pd(sign, x));
    }
    __m128d h = _mm_max_pd(_mm256_castpd256_pd128(mx), _mm256_extractf128_pd(mx, 1));
    h = _mm_max_sd(h, _mm_unpackhi_pd(h, h));
    double v = _mm_cvtsd_f64(h);
    for (; l < r; ++l) {
      volatile double p = ts * c[l];  // keep the product rounded on its own
      const double x = row[l] - p;
      row[l] = x;
      const double a = std::fabs(x);
      if (a > v) v = a;
    }
    if (v > bv) {
      bv = v;
      br = m;
    }
  }
  *best_row = br;
  *best = bv;
}

__attribute__((target("avx2"))) void pass_avx2_f32(float* B, Index n, Index r, Index j, const float* c,
                                                   Index* best_row, float* best) {
  const Index full = r & ~Index(7);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  float bv = -1.0f;
  Index br = 0;
  for (Index m = 0; m < n; ++m) {
    float* row = B + m * r;
    const float ts = row[j];
    const __m256 t = _mm256_set1_ps(ts);
    __m256 mx = _mm256_setzero_ps();
    Index l = 0;
    for (; l < full; l += 8) {
      __m256 p = _mm256_mul_ps(t, _mm256_loadu_ps(c + l));
      TNFAST_ROUNDED(p);
      const __m256 x = _mm256_sub_ps(_mm256_loadu_ps(row + l), p);
      _mm256_storeu_ps(row + l, x);
      mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, x));
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    float v = _mm_cvtss_f32(h);
    for (; l < r; ++l) {
      volatile float p = ts * c[l];
      const float x = row[l] - p;
      row[l] = x;
      const float a = std::fabs(x);
      if (a > v) v = a;
    }
    if (v > bv) {
      bv = v;
      br = m;
    }
  }
  *best_row = br;
  *best = bv;
}

#endif  // TNFAST_SIMD_X86

// The pass for the active instruction-set level (real types; complex ones stay portable).
template <class T>
PassFn<T> pick_pass() {
  return &pass_generic<T>;
}
template <>
PassFn<double> pick_pass<double>() {
  return TNFAST_SIMD_PICK(PassFn<double>(&pass_generic<double>), PassFn<double>(&pass_avx2_f64),
                          PassFn<double>(&pass_avx512_f64));
}
template <>
PassFn<float> pick_pass<float>() {
  return TNFAST_SIMD_PICK(PassFn<float>(&pass_generic<float>), PassFn<float>(&pass_avx2_f32),
                          PassFn<float>(&pass_avx512_f32));
}

// ---- square maxvol ----------------------------------------------------------------------

void check_tol(double tol, const char* name) {
  if (!(tol >= 1.0) || !std::isfinite(tol))
    throw invalid_argument(std::string(name) + ": expected a finite number >= 1, got " + std::to_string(tol));
}

// LU with partial pivoting of the n x r matrix (row-major input), then B = A A[I]^-1 written
// row-major into `B` (n * r values).  Returns the pivot rows I.
template <class T>
std::vector<Index> lu_start(const T* A, Index n, Index r, T* B) {
  using R = real_t<T>;
  // Finiteness and max |A_ij| in one vectorized pass (a NaN anywhere makes the max NaN).
  const R amax = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(A, n * r).abs().template maxCoeff<Eigen::PropagateNaN>();
  if (!std::isfinite(amax)) throw invalid_argument("A: holds NaN or Inf");
  Scratch<T> wbuf(size_t(n * r));
  Eigen::Map<Mat<T>> W(wbuf.data(), n, r);  // column-major working copy
  std::vector<R> colmax(size_t(r), R(0));  // max |A_ij| of each column
  {
    // Transpose in blocks of rows that stay in L1, so that each column gets whole cache lines.
    const Index rb = std::max<Index>(8, Index(16384 / (sizeof(T) * size_t(r))));
    for (Index m0 = 0; m0 < n; m0 += rb) {
      const Index mb = std::min(rb, n - m0);
      for (Index l = 0; l < r; ++l) {
        T* dst = wbuf.data() + l * n + m0;
        const T* src = A + m0 * r + l;
        R cm = colmax[size_t(l)];
        for (Index q = 0; q < mb; ++q) {
          const T x = src[q * r];
          dst[q] = x;
          const R a = absval(x);
          cm = a > cm ? a : cm;
        }
        colmax[size_t(l)] = cm;
      }
    }
  }

  std::vector<Index> ipiv(static_cast<size_t>(r));
  linalg::lu_inplace<T>(W.data(), n, r, n, ipiv.data());

  // A rank-deficient A leaves a pivot at rounding level (or exactly zero).  The test is
  // relative to each column's scale, as B = A A[I]^-1 does not change when columns are scaled.
  const R rel = R(4) * R(r) * std::numeric_limits<R>::epsilon();
  for (Index k = 0; k < r; ++k) {
    if (!(absval(W(k, k)) > rel * colmax[size_t(k)]))
      throw invalid_argument("A: the matrix is rank-deficient (numerical rank < " + std::to_string(r) +
                             "); maxvol needs r linearly independent columns");
  }

  std::vector<Index> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), Index(0));
  for (Index k = 0; k < r; ++k) std::swap(perm[size_t(k)], perm[size_t(ipiv[size_t(k)])]);

  // With A[perm] = L U (L: n x r unit lower trapezoidal), A A[I]^-1 = P^T L L1^-1: row
  // perm[k] of B is e_k for k < r and row m - r of X = L2 L1^-1 for m >= r.  X is formed
  // as one product with the explicit (small) inverse, written transposed (so row-major)
  // straight into rows r..n-1 of B.  perm comes from r transpositions (k, ipiv[k]) with
  // k < r, so a row m >= r that is not in place belongs to a row perm[m] < r, and the rows
  // 0..r-1 are free: move those rows down, then write the identity rows.
  if (n > r) {
    Mat<T> L1inv = Mat<T>::Identity(r, r);
    W.topRows(r).template triangularView<Eigen::UnitLower>().solveInPlace(L1inv);
    Eigen::Map<Mat<T>> Xt(B + r * r, r, n - r);
    const Index cb = std::max<Index>(4096, Index(1 << 24) / std::max<Index>(1, r * r));
    for (Index c0 = 0; c0 < n - r; c0 += cb) {  // column blocks, between which a stop request is honoured
      cancel::check();
      const Index w = std::min(cb, n - r - c0);
      linalg::gemm<T>('T', 'T', T(1), L1inv, W.bottomRows(n - r).middleRows(c0, w), T(0), Xt.middleCols(c0, w));
    }
    for (Index m = r; m < n; ++m) {
      const Index q = perm[size_t(m)];
      if (q != m) std::memcpy(B + q * r, B + m * r, sizeof(T) * size_t(r));
    }
  }
  for (Index k = 0; k < r; ++k) {
    T* row = B + perm[size_t(k)] * r;
    std::fill(row, row + r, T(0));
    row[k] = T(1);
  }
  return std::vector<Index>(perm.begin(), perm.begin() + r);
}

template <class T>
std::vector<Index> maxvol_impl(const T* A, Index n, Index r, double tol, Index max_iters, T* coef, Index* iterations) {
  using R = real_t<T>;
  if (r < 1) throw invalid_argument("A: expected at least one column");
  if (n < r) throw invalid_argument("A: expected a tall matrix (rows >= columns), got " + std::to_string(n) + " x " +
                                    std::to_string(r));
  check_tol(tol, "tol");
  if (max_iters < 0) throw invalid_argument("max_iters: expected an integer >= 0");

  std::unique_ptr<Scratch<T>> own;
  T* B = coef;
  if (!B) {
    own.reset(new Scratch<T>(size_t(n * r)));
    B = own->data();
  }
  std::vector<Index> I = lu_start(A, n, r, B);

  const PassFn<T> pass = pick_pass<T>();
  std::vector<T> c(size_t(r), T(0));
  Index i = 0;
  R best = 0;
  pass(B, n, r, 0, c.data(), &i, &best);  // c = 0: scan only
  if (!std::isfinite(best)) throw invalid_argument("A: the matrix is too ill-conditioned for maxvol");
  const R rtol = R(tol);
  Index it = 0;
  for (; it < max_iters; ++it) {
    if (best <= rtol) break;
    cancel::check();
    const T* bi = B + i * r;
    Index j = 0;
    while (absval(bi[j]) != best) ++j;  // first maximum of the row
    const T piv = bi[j];
    for (Index l = 0; l < r; ++l) c[size_t(l)] = bi[l] / piv;
    c[size_t(j)] = (bi[j] - T(1)) / piv;
    I[size_t(j)] = i;
    pass(B, n, r, j, c.data(), &i, &best);
    if (!std::isfinite(best)) throw invalid_argument("A: the matrix is too ill-conditioned for maxvol");
  }
  if (iterations) *iterations = it;
  if (coef) {
    for (Index k = 0; k < r; ++k) {
      T* row = B + I[size_t(k)] * r;
      std::fill(row, row + r, T(0));
      row[k] = T(1);
    }
  }
  return I;
}

// ---- rectangular maxvol -----------------------------------------------------------------
//
// B (n x k) is kept row-major with a row stride `ld` >= k that doubles when full.  Adding
// row i with b = B[i] and lam = 1 / (1 + |b|^2) is one pass over the rows:
//   w_m = lam * B[m] b^H;  B[m] -= w_m b;  B[m, k] = w_m;  F_m -= |w_m|^2 / lam,
// (Sherman-Morrison for (A_I^H A_I + a_i^H a_i)^-1), which also finds the next row of
// largest F among the rows not yet taken (F = -inf for those).

template <class T>
TNFAST_ALWAYS_INLINE void rect_pass_body(T* B, Index n, Index ld, Index k, const T* b, const T* bc, real_t<T> lam,
                                         real_t<T>* F, Index* best_row, real_t<T>* best) {
  using R = real_t<T>;
  R bf = -std::numeric_limits<R>::infinity();
  Index bi = -1;
  for (Index m = 0; m < n; ++m) {
    T* row = B + m * ld;
    T acc[8] = {T(0), T(0), T(0), T(0), T(0), T(0), T(0), T(0)};
    Index l = 0;
    for (; l + 8 <= k; l += 8)
      for (int q = 0; q < 8; ++q) acc[q] += row[l + q] * bc[l + q];
    T v = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; l < k; ++l) v += row[l] * bc[l];
    v *= lam;
    for (Index q = 0; q < k; ++q) row[q] -= v * b[q];
    row[k] = v;
    const R f = F[m] - std::norm(v) / lam;
    F[m] = f;
    if (f > bf) {
      bf = f;
      bi = m;
    }
  }
  *best_row = bi;
  *best = bf;
}

template <class T>
using RectPassFn = void (*)(T*, Index, Index, Index, const T*, const T*, real_t<T>, real_t<T>*, Index*, real_t<T>*);

template <class T>
void rect_pass_generic(T* B, Index n, Index ld, Index k, const T* b, const T* bc, real_t<T> lam, real_t<T>* F,
                       Index* best_row, real_t<T>* best) {
  rect_pass_body<T>(B, n, ld, k, b, bc, lam, F, best_row, best);
}

#if TNFAST_SIMD_X86
template <class T>
__attribute__((target("avx512f"))) void rect_pass_avx512(T* B, Index n, Index ld, Index k, const T* b, const T* bc,
                                                         real_t<T> lam, real_t<T>* F, Index* best_row,
                                                         real_t<T>* best) {
  rect_pass_body<T>(B, n, ld, k, b, bc, lam, F, best_row, best);
}
template <class T>
__attribute__((target("avx2"))) void rect_pass_avx2(T* B, Index n, Index ld, Index k, const T* b, const T* bc,
                                                    real_t<T> lam, real_t<T>* F, Index* best_row, real_t<T>* best) {
  rect_pass_body<T>(B, n, ld, k, b, bc, lam, F, best_row, best);
}
#endif

// The rectangular pass for the active instruction-set level (complex types: portable).
template <class T>
RectPassFn<T> pick_rect_pass() {
  return &rect_pass_generic<T>;
}
template <>
RectPassFn<double> pick_rect_pass<double>() {
  return TNFAST_SIMD_PICK(RectPassFn<double>(&rect_pass_generic<double>), RectPassFn<double>(&rect_pass_avx2<double>),
                          RectPassFn<double>(&rect_pass_avx512<double>));
}
template <>
RectPassFn<float> pick_rect_pass<float>() {
  return TNFAST_SIMD_PICK(RectPassFn<float>(&rect_pass_generic<float>), RectPassFn<float>(&rect_pass_avx2<float>),
                          RectPassFn<float>(&rect_pass_avx512<float>));
}

template <class T>
std::vector<Index> rect_impl(const T* A, Index n, Index r, double tol, Index min_rows, Index max_rows,
                             RowMat<T>* coef, double start_tol, Index start_iters) {
  using R = real_t<T>;
  check_tol(tol, "tol");
  check_tol(start_tol, "start_tol");
  if (r >= 1 && n >= r) {
    if (min_rows > n)
      throw invalid_argument("min_rows: expected at most the number of rows " + std::to_string(n) + ", got " +
                             std::to_string(min_rows));
    if (max_rows > 0 && max_rows < r)
      throw invalid_argument("max_rows: expected at least the number of columns " + std::to_string(r) + ", got " +
                             std::to_string(max_rows));
    if (max_rows > 0 && min_rows > max_rows)
      throw invalid_argument("min_rows: expected min_rows <= max_rows, got " + std::to_string(min_rows) + " > " +
                             std::to_string(max_rows));
  }
  const Index kmax = max_rows <= 0 ? n : std::min(max_rows, n);
  const Index kmin = std::max(min_rows, r);
  Index ld = std::min(kmax, std::max(2 * r, r + 32));
  auto buf = std::make_unique<Scratch<T>>(size_t(n * ld));
  std::vector<Index> I;
  {
    Scratch<T> B0(size_t(n * r));
    I = maxvol_impl<T>(A, n, r, start_tol, start_iters, B0.data(), nullptr);
    for (Index m = 0; m < n; ++m) std::memcpy(buf->data() + m * ld, B0.data() + m * r, sizeof(T) * size_t(r));
  }
  const R ninf = -std::numeric_limits<R>::infinity();
  std::vector<R> F(static_cast<size_t>(n));
  for (Index m = 0; m < n; ++m) {
    const T* row = buf->data() + m * ld;
    R f = R(0);
    for (Index l = 0; l < r; ++l) f += std::norm(row[l]);
    F[size_t(m)] = f;
  }
  for (Index k : I) F[size_t(k)] = ninf;
  Index i = 0;
  R fi = ninf;
  for (Index m = 0; m < n; ++m)
    if (F[size_t(m)] > fi) {
      fi = F[size_t(m)];
      i = m;
    }
  const R tol2 = R(tol) * R(tol);
  const RectPassFn<T> pass = pick_rect_pass<T>();
  std::vector<T> b, bc;
  Index k = r;
  for (; k < kmax; ++k) {
    if (k >= kmin && fi <= tol2) break;
    cancel::check();
    if (k == ld) {  // grow the row stride
      const Index ld2 = std::min(kmax, 2 * ld);
      auto buf2 = std::make_unique<Scratch<T>>(size_t(n * ld2));
      for (Index m = 0; m < n; ++m)
        std::memcpy(buf2->data() + m * ld2, buf->data() + m * ld, sizeof(T) * size_t(k));
      buf = std::move(buf2);
      ld = ld2;
    }
    T* B = buf->data();
    b.assign(B + i * ld, B + i * ld + k);
    bc.resize(size_t(k));
    R nb = R(0);
    for (Index l = 0; l < k; ++l) {
      bc[size_t(l)] = Eigen::numext::conj(b[size_t(l)]);
      nb += std::norm(b[size_t(l)]);
    }
    if (!std::isfinite(nb)) throw invalid_argument("A: the matrix is too ill-conditioned for rect_maxvol");
    const R lam = R(1) / (R(1) + nb);
    F[size_t(i)] = ninf;
    I.push_back(i);
    pass(B, n, ld, k, b.data(), bc.data(), lam, F.data(), &i, &fi);
  }
  if (coef) {
    coef->resize(n, k);
    for (Index m = 0; m < n; ++m)
      std::memcpy(coef->data() + m * k, buf->data() + m * ld, sizeof(T) * size_t(k));
  }
  return I;
}

}  // namespace

template <class T>
std::vector<Index> maxvol_rowmajor(const T* A, Index n, Index r, double tol, Index max_iters, T* coef,
                                   Index* iterations) {
  return maxvol_impl<T>(A, n, r, tol, max_iters, coef, iterations);
}

template <class T>
std::vector<Index> maxvol(const CMatRef<T>& A, double tol, Index max_iters, Mat<T>* coef, Index* iterations) {
  const RowMat<T> Ar = A;
  if (!coef) return maxvol_impl<T>(Ar.data(), A.rows(), A.cols(), tol, max_iters, nullptr, iterations);
  RowMat<T> B(A.rows(), A.cols());
  auto I = maxvol_impl<T>(Ar.data(), A.rows(), A.cols(), tol, max_iters, B.data(), iterations);
  *coef = B;
  return I;
}

template <class T>
std::vector<Index> rect_maxvol_rowmajor(const T* A, Index n, Index r, double tol, Index min_rows, Index max_rows,
                                        RowMat<T>* coef, double start_tol, Index start_iters) {
  return rect_impl<T>(A, n, r, tol, min_rows, max_rows, coef, start_tol, start_iters);
}

template <class T>
std::vector<Index> rect_maxvol(const CMatRef<T>& A, double tol, Index min_rows, Index max_rows, Mat<T>* coef) {
  const RowMat<T> Ar = A;
  if (!coef) return rect_impl<T>(Ar.data(), A.rows(), A.cols(), tol, min_rows, max_rows, nullptr, 1.05, 100);
  RowMat<T> C;
  auto I = rect_impl<T>(Ar.data(), A.rows(), A.cols(), tol, min_rows, max_rows, &C, 1.05, 100);
  *coef = C;
  return I;
}

#define TNFAST_MAXVOL_INST(T)                                                                                        \
  template std::vector<Index> maxvol<T>(const CMatRef<T>&, double, Index, Mat<T>*, Index*);                         \
  template std::vector<Index> rect_maxvol<T>(const CMatRef<T>&, double, Index, Index, Mat<T>*);                     \
  template std::vector<Index> maxvol_rowmajor<T>(const T*, Index, Index, double, Index, T*, Index*);                \
  template std::vector<Index> rect_maxvol_rowmajor<T>(const T*, Index, Index, double, Index, Index, RowMat<T>*, double, \
                                                      Index);
TNFAST_MAXVOL_INST(float)
TNFAST_MAXVOL_INST(double)
TNFAST_MAXVOL_INST(cfloat)
TNFAST_MAXVOL_INST(cdouble)
#undef TNFAST_MAXVOL_INST

}  // namespace tnfast
