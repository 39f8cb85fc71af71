// Cholesky QR2, Gram matrices, Hermitian eigensolver and triangular products: the BLAS-3 kernels
// behind fast canonical forms and rounding.  Each primitive calls the registered BLAS/LAPACK
// entry point when there is one and Eigen otherwise.
#include <Eigen/Cholesky>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "linalg_detail.hpp"
#include "tnfast/linalg.hpp"

namespace tnfast {
namespace linalg {

namespace {

using namespace detail;

std::atomic<Index> g_cholqr_threshold{64 * 64 * 64};
std::atomic<long> g_one{0}, g_two{0}, g_shifted{0}, g_rej{0}, g_gram{0}, g_gram_rej{0};

template <class T>
constexpr bool is_complex() { return Eigen::NumTraits<T>::IsComplex; }

template <class T>
using Strided = Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>>;

// ---- primitives ---------------------------------------------------------------------------

// tall (wide = false): G (n x n, upper triangle) = X^H X for X m x n;
// wide (wide = true):  G (m x m, lower triangle) = X X^H.
template <class T>
void gram_tri(bool wide, const CMatRef<T>& X, Mat<T>& G) {
  const Index m = X.rows(), n = X.cols(), k = wide ? m : n, inner = wide ? n : m;
  G.resize(k, k);
  const BackendPointers& b = backend();
  void* f = pick<T>(b.ssyrk, b.dsyrk, b.cherk, b.zherk);
  if (f && fits_int(m) && fits_int(n) && fits_int(X.outerStride()) && inner > 0) {
    const int uplo = wide ? kLower : kUpper;
    const int tr = wide ? kNoTrans : (is_complex<T>() ? kConjTrans : kTrans);
    using R = real_t<T>;
    using F = void (*)(int, int, int, int, int, R, const T*, int, R, T*, int);
    reinterpret_cast<F>(f)(kColMajor, uplo, tr, int(k), int(inner), R(1), X.data(), ld(X.outerStride()), R(0),
                           G.data(), ld(k));
    return;
  }
  if (wide) G.noalias() = X * X.adjoint();
  else G.noalias() = X.adjoint() * X;
}

// In-place Cholesky of the stored triangle: upper (G = U^H U) or lower (G = L L^H); the other
// triangle is zeroed.  Returns 0 when it succeeds; otherwise (G not numerically positive definite)
// an estimate of the number of directions it could not factor: k - j + 1 when pivot j fails, plus
// the earlier pivots that came out below sqrt(eps) times the largest; k when the position is unknown.
template <class T>
Index chol_info(bool lower, Mat<T>& G) {
  const Index k = G.rows();
  const BackendPointers& b = backend();
  void* f = pick<T>(b.spotrf, b.dpotrf, b.cpotrf, b.zpotrf);
  if (f && fits_int(k)) {
    using F = int (*)(int, char, int, T*, int);
    const int info = reinterpret_cast<F>(f)(kColMajor, lower ? 'L' : 'U', int(k), G.data(), ld(k));
    if (info < 0) return k;
    if (info > 0) {
      // pivots before the failing one that came out tiny were already lost directions (round-off
      // can keep the first few pivots of a singular trailing block slightly positive)
      const Index done = Index(info) - 1;
      double big = 0.0;
      for (Index i = 0; i < done; ++i) big = std::max(big, double(std::abs(G(i, i))));
      const double small = big * std::sqrt(double(Eigen::NumTraits<real_t<T>>::epsilon()));
      Index lost = k - done;
      for (Index i = 0; i < done; ++i) lost += double(std::abs(G(i, i))) < small ? 1 : 0;
      return lost;
    }
  } else {
    // unblocked left-looking factorization of the lower triangle (of G^H when upper is stored),
    // so that a failure reports its pivot like potrf
    Mat<T> L = lower ? Mat<T>(G.template triangularView<Eigen::Lower>())
                     : Mat<T>(G.adjoint().template triangularView<Eigen::Lower>());
    for (Index j = 0; j < k; ++j) {
      const real_t<T> d = std::real(L(j, j)) - L.row(j).head(j).squaredNorm();
      if (!(d > 0) || !std::isfinite(d)) return k - j;
      const real_t<T> r = std::sqrt(d);
      L(j, j) = T(r);
      const Index rest = k - j - 1;
      if (rest > 0) {
        if (j > 0) L.col(j).tail(rest).noalias() -= L.bottomLeftCorner(rest, j) * L.row(j).head(j).adjoint();
        L.col(j).tail(rest) /= T(r);
      }
    }
    if (lower) G = L;
    else G = L.adjoint();
  }
  if (lower) G.template triangularView<Eigen::StrictlyUpper>().setZero();
  else G.template triangularView<Eigen::StrictlyLower>().setZero();
  for (Index i = 0; i < k; ++i) {
    const real_t<T> d = std::real(G(i, i));
    if (!(d > 0) || !std::isfinite(d)) return k;
  }
  return 0;
}

template <class T>
bool chol(bool lower, Mat<T>& G) {
  return chol_info<T>(lower, G) == 0;
}

// X <- X F^{-1} (tall; F upper) or X <- F^{-1} X (wide; F lower).
template <class T>
void tri_solve(bool wide, const Mat<T>& F, MatRef<T> X) {
  const BackendPointers& b = backend();
  void* f = pick<T>(b.strsm, b.dtrsm, b.ctrsm, b.ztrsm);
  const Index m = X.rows(), n = X.cols();
  if (m == 0 || n == 0) return;
  if (f && fits_int(m) && fits_int(n) && fits_int(X.outerStride())) {
    const int side = wide ? kLeft : kRight, uplo = wide ? kLower : kUpper;
    if constexpr (is_complex<T>()) {
      const T one(1);
      using Fn = void (*)(int, int, int, int, int, int, int, const void*, const void*, int, void*, int);
      reinterpret_cast<Fn>(f)(kColMajor, side, uplo, kNoTrans, kNonUnit, int(m), int(n), &one, F.data(),
                              ld(F.rows()), X.data(), ld(X.outerStride()));
    } else {
      using Fn = void (*)(int, int, int, int, int, int, int, T, const T*, int, T*, int);
      reinterpret_cast<Fn>(f)(kColMajor, side, uplo, kNoTrans, kNonUnit, int(m), int(n), T(1), F.data(),
                              ld(F.rows()), X.data(), ld(X.outerStride()));
    }
    return;
  }
  if (wide) F.template triangularView<Eigen::Lower>().solveInPlace(X);
  else F.template triangularView<Eigen::Upper>().template solveInPlace<Eigen::OnTheRight>(X);
}

// Largest |G_ij - delta_ij| over the stored triangle (NaN if any entry is not finite).
template <class T>
double deviation(bool lower, const Mat<T>& G) {
  const Index k = G.rows();
  double dev = 0.0;
  for (Index j = 0; j < k; ++j) {
    const Index i0 = lower ? j : 0, i1 = lower ? k : j + 1;
    for (Index i = i0; i < i1; ++i) {
      const double v = double(std::abs(G(i, j) - (i == j ? T(1) : T(0))));
      if (!std::isfinite(v)) return std::numeric_limits<double>::quiet_NaN();
      dev = std::max(dev, v);
    }
  }
  return dev;
}

// Cholesky factor of the stored triangle that is also well enough conditioned for its triangular
// solve: cond(X) >= max/min of the factor's diagonal, and beyond 1/sqrt(eps) one pass cannot leave
// X close to orthonormal.  Returns 0 when usable, otherwise how many directions were not (a
// failed factorization's bound from chol_info, or the count of diagonal entries below sqrt(eps)
// times the largest).
template <class T>
Index chol_deficit(bool lower, Mat<T>& G) {
  const Index bad = chol_info<T>(lower, G);
  if (bad > 0) return bad;
  const double eps = double(Eigen::NumTraits<real_t<T>>::epsilon());
  const auto d = G.diagonal().real();
  const double small = double(d.maxCoeff()) * std::sqrt(eps);
  Index n = 0;
  for (Index i = 0; i < d.size(); ++i) n += double(d[i]) < small ? 1 : 0;
  return n;
}

// Estimate of ||X^H X - I||_F (tall) or ||X X^H - I||_F (wide) from kProbes random sign vectors v:
// the mean of ||E v||^2 is ||E||_F^2.  Two products with kProbes columns, 4 m n kProbes flops, where
// the Gram matrix costs m n^2.  The probes are a fixed pseudo-random pattern (results reproducible).
constexpr Index kProbes = 8;

template <class T>
double probe_deviation(bool wide, const MatRef<T>& X) {
  const Index k = wide ? X.rows() : X.cols(), other = wide ? X.cols() : X.rows();
  Mat<T> V(k, kProbes), W(other, kProbes), Z(k, kProbes);
  std::uint64_t s = 0x9E3779B97F4A7C15ull;
  for (Index j = 0; j < kProbes; ++j)
    for (Index i = 0; i < k; ++i) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      V(i, j) = (s >> 63) ? T(1) : T(-1);
    }
  const char h = is_complex<T>() ? 'C' : 'T';
  if (wide) {  // E = X X^H - I:  W = X^H V, Z = X W
    gemm<T>(h, 'N', T(1), X, V, T(0), W);
    gemm<T>('N', 'N', T(1), X, W, T(0), Z);
  } else {     // E = X^H X - I:  W = X V, Z = X^H W
    gemm<T>('N', 'N', T(1), X, V, T(0), W);
    gemm<T>(h, 'N', T(1), X, W, T(0), Z);
  }
  Z -= V;
  return std::sqrt(double(Z.squaredNorm()) / double(kProbes));  // NaN when X holds NaN/Inf
}

// Cholesky orthonormalization of X in place.  tall: X = Q F with F upper; wide: X = F Q with F
// lower.  near = true: X is expected to be nearly orthonormal already (skip the unchecked first
// pass).  Returns 0 on failure (X may be modified unless near), 3 after a shifted first pass,
// otherwise the number of passes (1 or 2).
//
// When the plain first pass refuses (cond(X) beyond about 1/sqrt(eps)), the Gram matrix is shifted
// by s = 11 (m n + k (k + 1)) eps ||X||_F^2 (shifted Cholesky QR, Fukaya, Nakatsukasa, Yanagisawa,
// Yamamoto 2020): the factorization then always exists and Q1 = X R_s^{-1} has a condition number
// near ||X|| / sqrt(s), so that two plain passes finish the job for any X of full numerical rank.
// A numerically rank-deficient X fails the plain pass on Q1 and is refused; when the plain first
// pass already finds 45 % of the directions or more unusable (a sum of two trains loses half), the
// shifted one is not tried.
//
// A pass is accepted without a Gram matrix of the result when the probe estimate of the deviation
// from orthonormality is at most k^2 eps / 8; for errors spread over the entries this is the
// previous criterion (every entry of X^H X - I at most k eps), and it bounds the spectral norm
// (<= Frobenius) more tightly than that criterion did.
template <class T>
int chol_orth(bool wide, MatRef<T> X, Mat<T>& F, bool near) {
  const Index k = wide ? X.rows() : X.cols(), other = wide ? X.cols() : X.rows();
  const double eps = double(Eigen::NumTraits<real_t<T>>::epsilon());
  Mat<T> G;
  int passes = 0;
  bool shifted = false;
  // a further pass with the factor in G:  X <- X G^{-1} (tall) / G^{-1} X (wide), folded into F
  const auto fold = [&]() {
    tri_solve<T>(wide, G, X);
    if (wide) trmm<T>('R', 'L', G, F);  // F <- F1 F2
    else trmm<T>('L', 'U', G, F);       // F <- F2 F1
  };
  if (!near) {
    gram_tri<T>(wide, X, G);
    Mat<T> G0 = G;
    const Index deficit = chol_deficit<T>(wide, G);
    if (deficit == 0) {
      tri_solve<T>(wide, G, X);
      F = std::move(G);
      passes = 1;
    } else {
      // 45 % or more of the directions unusable is the mark of true rank deficiency (sums of trains
      // duplicate their bonds), where the shifted route would fail after two more products: refuse.
      if (20 * deficit >= 9 * k) return 0;
      const double trace = double(G0.diagonal().real().sum());
      if (!(trace > 0) || !std::isfinite(trace)) return 0;
      const double shift = 11.0 * (double(other) * double(k) + double(k) * double(k + 1)) * eps * trace;
      G = std::move(G0);
      G.diagonal().array() += T(real_t<T>(shift));
      if (!chol<T>(wide, G)) return 0;
      tri_solve<T>(wide, G, X);
      F = std::move(G);
      gram_tri<T>(wide, X, G);
      if (chol_deficit<T>(wide, G) != 0) return 0;  // numerically rank deficient
      fold();
      passes = 2;
      shifted = true;
    }
  } else {
    F = Mat<T>::Identity(k, k);
  }
  const auto done = [&](int p) { return shifted ? 3 : std::max(p, 1); };
  if (probe_deviation<T>(wide, X) <= double(k) * double(k) * eps / 8.0) return done(passes);
  gram_tri<T>(wide, X, G);
  const double dev = deviation<T>(wide, G);
  if (!(dev <= 0.1)) return 0;
  if (dev <= double(k) * eps) return done(passes);
  if (!chol<T>(wide, G)) return 0;
  fold();
  return done(passes + 1);
}

void count(int passes) {
  if (passes == 0) ++g_rej;
  else if (passes == 1) ++g_one;
  else if (passes == 2) ++g_two;
  else ++g_shifted;
}

}  // namespace

Index cholqr_threshold() { return g_cholqr_threshold.load(); }
void set_cholqr_threshold(Index mnn) { g_cholqr_threshold.store(std::max<Index>(mnn, 0)); }

RouteCounts route_counts() {
  RouteCounts c;
  c.cholqr_one_pass = g_one.load();
  c.cholqr_two_pass = g_two.load();
  c.cholqr_shifted = g_shifted.load();
  c.cholqr_rejected = g_rej.load();
  c.gram_svd = g_gram.load();
  c.gram_svd_rejected = g_gram_rej.load();
  return c;
}
void reset_route_counts() { g_one = 0; g_two = 0; g_shifted = 0; g_rej = 0; g_gram = 0; g_gram_rej = 0; }
void count_gram_svd(bool accepted) {
  if (accepted) ++g_gram;
  else ++g_gram_rej;
}

template <class T>
bool cholqr2_into(const CMatRef<T>& A, MatRef<T> Q, Mat<T>& R) {
  const Index m = A.rows(), n = A.cols();
  if (Q.rows() != m || Q.cols() != n) throw invalid_argument("cholqr2: the output has the wrong shape");
  if (n == 0 || m < n || !A.allFinite()) {
    count(0);
    return false;
  }
  Q = A;
  const int p = chol_orth<T>(false, Q, R, false);
  count(p);
  return p > 0;
}

template <class T>
bool cholqr2_lq_into(const CMatRef<T>& W, Mat<T>& L, MatRef<T> Q) {
  const Index m = W.rows(), n = W.cols();
  if (Q.rows() != m || Q.cols() != n) throw invalid_argument("cholqr2_lq: the output has the wrong shape");
  if (m == 0 || n < m || !W.allFinite()) {
    count(0);
    return false;
  }
  Q = W;
  const int p = chol_orth<T>(true, Q, L, false);
  count(p);
  return p > 0;
}

template <class T>
bool cholqr2(const CMatRef<T>& A, Mat<T>& Q, Mat<T>& R) {
  Q.resize(A.rows(), A.cols());
  return cholqr2_into<T>(A, Q, R);
}

template <class T>
bool cholqr2_lq(const CMatRef<T>& W, Mat<T>& L, Mat<T>& Q) {
  Q.resize(W.rows(), W.cols());
  return cholqr2_lq_into<T>(W, L, Q);
}

template <class T>
bool refine_rows(MatRef<T> Y, Mat<T>& L) {
  if (Y.rows() == 0 || Y.cols() < Y.rows()) return false;
  return chol_orth<T>(true, Y, L, true) > 0;
}

template <class T>
void qr_fast(const CMatRef<T>& A, Mat<T>& Q, Mat<T>& R) {
  const Index m = A.rows(), n = A.cols();
  if (n > 0 && m >= n && m * n * n >= g_cholqr_threshold.load() && cholqr2<T>(A, Q, R)) return;
  qr<T>(A, Q, R);
}

template <class T>
void lq_fast(const CMatRef<T>& W, Mat<T>& L, Mat<T>& Q) {
  const Index m = W.rows(), n = W.cols();
  if (m > 0 && n >= m && n * m * m >= g_cholqr_threshold.load() && cholqr2_lq<T>(W, L, Q)) return;
  Mat<T> Wt = W.transpose(), Q0, R0;
  qr<T>(Wt, Q0, R0);  // W^T = Q0 R0  ->  W = R0^T Q0^T
  L = R0.transpose();
  Q = Q0.transpose();
}

template <class T>
void gram_rows(const CMatRef<T>& W, Mat<T>& H) {
  gram_tri<T>(true, W, H);
  H.template triangularView<Eigen::StrictlyUpper>() = H.adjoint();
}

template <class T>
void trmm(char side, char uplo, const CMatRef<T>& Tr, MatRef<T> B) {
  const bool left = side == 'L' || side == 'l', lower = uplo == 'L' || uplo == 'l';
  const Index k = Tr.rows();
  if (Tr.cols() != k) throw invalid_argument("trmm: the triangular factor must be square");
  if ((left ? B.rows() : B.cols()) != k) throw invalid_argument("trmm: the shapes do not match");
  const Index m = B.rows(), n = B.cols();
  if (m == 0 || n == 0) return;
  const BackendPointers& b = backend();
  void* f = pick<T>(b.strmm, b.dtrmm, b.ctrmm, b.ztrmm);
  if (f && fits_int(m) && fits_int(n) && fits_int(B.outerStride()) && fits_int(Tr.outerStride())) {
    const int s = left ? kLeft : kRight, u = lower ? kLower : kUpper;
    if constexpr (is_complex<T>()) {
      const T one(1);
      using Fn = void (*)(int, int, int, int, int, int, int, const void*, const void*, int, void*, int);
      reinterpret_cast<Fn>(f)(kColMajor, s, u, kNoTrans, kNonUnit, int(m), int(n), &one, Tr.data(),
                              ld(Tr.outerStride()), B.data(), ld(B.outerStride()));
    } else {
      using Fn = void (*)(int, int, int, int, int, int, int, T, const T*, int, T*, int);
      reinterpret_cast<Fn>(f)(kColMajor, s, u, kNoTrans, kNonUnit, int(m), int(n), T(1), Tr.data(),
                              ld(Tr.outerStride()), B.data(), ld(B.outerStride()));
    }
    return;
  }
  Mat<T> out;
  if (left && lower) out = Tr.template triangularView<Eigen::Lower>() * B;
  else if (left) out = Tr.template triangularView<Eigen::Upper>() * B;
  else if (lower) out = B * Tr.template triangularView<Eigen::Lower>();
  else out = B * Tr.template triangularView<Eigen::Upper>();
  B = out;
}

#define TNFAST_INST(T)                                                          \
  template bool cholqr2<T>(const CMatRef<T>&, Mat<T>&, Mat<T>&);               \
  template bool cholqr2_lq<T>(const CMatRef<T>&, Mat<T>&, Mat<T>&);            \
  template bool cholqr2_into<T>(const CMatRef<T>&, MatRef<T>, Mat<T>&);        \
  template bool cholqr2_lq_into<T>(const CMatRef<T>&, Mat<T>&, MatRef<T>);     \
  template bool refine_rows<T>(MatRef<T>, Mat<T>&);                            \
  template void qr_fast<T>(const CMatRef<T>&, Mat<T>&, Mat<T>&);               \
  template void lq_fast<T>(const CMatRef<T>&, Mat<T>&, Mat<T>&);               \
  template void gram_rows<T>(const CMatRef<T>&, Mat<T>&);                      \
  template void trmm<T>(char, char, const CMatRef<T>&, MatRef<T>);
TNFAST_INST(float)
TNFAST_INST(double)
TNFAST_INST(cfloat)
TNFAST_INST(cdouble)
#undef TNFAST_INST

}  // namespace linalg
}  // namespace tnfast
