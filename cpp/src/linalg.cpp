#include "tnfast/linalg.hpp"

#include "linalg_detail.hpp"

#include <Eigen/QR>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>

namespace tnfast {
namespace linalg {

namespace {

BackendPointers g_backend;
std::atomic<Index> g_threshold{48 * 48 * 48};

using namespace detail;

int cblas_op(char op) {
  switch (op) {
    case 'N': case 'n': return kNoTrans;
    case 'T': case 't': return kTrans;
    case 'C': case 'c': return kConjTrans;
    default: throw invalid_argument(std::string("gemm: op must be 'N', 'T' or 'C', got '") + op + "'");
  }
}

using gemm_real_f = void (*)(int, int, int, int, int, int, double, const double*, int, const double*, int, double,
                             double*, int);
using gemm_realf_f = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                              float*, int);
using gemm_cplx_f = void (*)(int, int, int, int, int, int, const void*, const void*, int, const void*, int,
                             const void*, void*, int);

template <class T>
void* gemm_ptr();
template <> void* gemm_ptr<float>() { return g_backend.sgemm; }
template <> void* gemm_ptr<double>() { return g_backend.dgemm; }
template <> void* gemm_ptr<cfloat>() { return g_backend.cgemm; }
template <> void* gemm_ptr<cdouble>() { return g_backend.zgemm; }

template <class T>
void blas_gemm(void* f, int ta, int tb, int m, int n, int k, T alpha, const T* A, int lda, const T* B, int ldb,
               T beta, T* C, int ldc) {
  if constexpr (std::is_same_v<T, double>) {
    reinterpret_cast<gemm_real_f>(f)(kColMajor, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  } else if constexpr (std::is_same_v<T, float>) {
    reinterpret_cast<gemm_realf_f>(f)(kColMajor, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  } else {
    reinterpret_cast<gemm_cplx_f>(f)(kColMajor, ta, tb, m, n, k, &alpha, A, lda, B, ldb, &beta, C, ldc);
  }
}

}  // namespace

void set_backend(const BackendPointers& p) { g_backend = p; }
const BackendPointers& backend() { return g_backend; }
bool has_blas() { return g_backend.dgemm != nullptr; }
Index blas_threshold() { return g_threshold.load(); }
void set_blas_threshold(Index mnk) { g_threshold.store(std::max<Index>(mnk, 0)); }

template <class T>
void gemm(char opA, char opB, T alpha, const CMatRef<T>& A, const CMatRef<T>& B, T beta, MatRef<T> C) {
  const int ta = cblas_op(opA), tb = cblas_op(opB);
  const Index m = ta == kNoTrans ? A.rows() : A.cols();
  const Index kA = ta == kNoTrans ? A.cols() : A.rows();
  const Index kB = tb == kNoTrans ? B.rows() : B.cols();
  const Index n = tb == kNoTrans ? B.cols() : B.rows();
  if (kA != kB) throw invalid_argument("gemm: inner dimensions differ (" + std::to_string(kA) + " vs " + std::to_string(kB) + ")");
  if (C.rows() != m || C.cols() != n) throw invalid_argument("gemm: output has the wrong shape");
  if (m == 0 || n == 0) return;
  if (kA == 0) {
    if (beta == T(0)) C.setZero(); else C *= beta;
    return;
  }
  void* f = gemm_ptr<T>();
  if (f && m * n * kA >= g_threshold.load() && fits_int(m) && fits_int(n) && fits_int(kA) &&
      fits_int(A.outerStride()) && fits_int(B.outerStride()) && fits_int(C.outerStride())) {
    blas_gemm<T>(f, ta, tb, int(m), int(n), int(kA), alpha, A.data(), int(std::max<Index>(1, A.outerStride())),
                 B.data(), int(std::max<Index>(1, B.outerStride())), beta, C.data(),
                 int(std::max<Index>(1, C.outerStride())));
    return;
  }
  // Eigen path (small products, or no BLAS registered).  Transposed operands are copied
  // first so that only one product kernel is instantiated per scalar type.
  auto materialize = [](const CMatRef<T>& X, int op) -> Mat<T> {
    if (op == kTrans) return X.transpose();
    return X.adjoint();
  };
  Mat<T> At, Bt;
  if (ta != kNoTrans) At = materialize(A, ta);
  if (tb != kNoTrans) Bt = materialize(B, tb);
  const CMatRef<T> a = ta == kNoTrans ? A : CMatRef<T>(At);
  const CMatRef<T> b = tb == kNoTrans ? B : CMatRef<T>(Bt);
  if (beta == T(0)) {
    C.noalias() = a * b;
    if (alpha != T(1)) C *= alpha;
  } else {
    C *= beta;
    if (alpha == T(1)) C.noalias() += a * b;
    else C.noalias() += alpha * (a * b);
  }
}

template <class T>
Mat<T> matmul(const CMatRef<T>& A, const CMatRef<T>& B, char opA, char opB) {
  const Index m = (opA == 'N' || opA == 'n') ? A.rows() : A.cols();
  const Index n = (opB == 'N' || opB == 'n') ? B.cols() : B.rows();
  Mat<T> C(m, n);
  gemm<T>(opA, opB, T(1), A, B, T(0), C);
  return C;
}

// ---- QR -------------------------------------------------------------------------------
namespace {
using geqrf_d_f = int (*)(int, int, int, double*, int, double*);
using geqrf_s_f = int (*)(int, int, int, float*, int, float*);
using geqrf_z_f = int (*)(int, int, int, void*, int, void*);
using orgqr_d_f = int (*)(int, int, int, int, double*, int, const double*);
using orgqr_s_f = int (*)(int, int, int, int, float*, int, const float*);
using orgqr_z_f = int (*)(int, int, int, int, void*, int, const void*);

template <class T>
bool lapack_qr(Mat<T> a, Mat<T>& Q, Mat<T>& R) {
  const Index m = a.rows(), n = a.cols(), k = std::min(m, n);
  if (!fits_int(m) || !fits_int(n)) return false;
  Vec<T> tau(k);
  const int lda = int(std::max<Index>(1, m));
  void *fq = nullptr, *fo = nullptr;
  if constexpr (std::is_same_v<T, double>) { fq = g_backend.dgeqrf; fo = g_backend.dorgqr; }
  else if constexpr (std::is_same_v<T, float>) { fq = g_backend.sgeqrf; fo = g_backend.sorgqr; }
  else if constexpr (std::is_same_v<T, cdouble>) { fq = g_backend.zgeqrf; fo = g_backend.zungqr; }
  else { fq = g_backend.cgeqrf; fo = g_backend.cungqr; }
  if (!fq || !fo) return false;
  int info;
  if constexpr (std::is_same_v<T, double>) info = reinterpret_cast<geqrf_d_f>(fq)(kColMajor, int(m), int(n), a.data(), lda, tau.data());
  else if constexpr (std::is_same_v<T, float>) info = reinterpret_cast<geqrf_s_f>(fq)(kColMajor, int(m), int(n), a.data(), lda, tau.data());
  else info = reinterpret_cast<geqrf_z_f>(fq)(kColMajor, int(m), int(n), a.data(), lda, tau.data());
  if (info != 0) return false;
  R = a.topRows(k).template triangularView<Eigen::Upper>();
  Mat<T> q = a.leftCols(k);
  if constexpr (std::is_same_v<T, double>) info = reinterpret_cast<orgqr_d_f>(fo)(kColMajor, int(m), int(k), int(k), q.data(), lda, tau.data());
  else if constexpr (std::is_same_v<T, float>) info = reinterpret_cast<orgqr_s_f>(fo)(kColMajor, int(m), int(k), int(k), q.data(), lda, tau.data());
  else info = reinterpret_cast<orgqr_z_f>(fo)(kColMajor, int(m), int(k), int(k), q.data(), lda, tau.data());
  if (info != 0) return false;
  Q = std::move(q);
  return true;
}
}  // namespace

template <class T>
void qr(const CMatRef<T>& A, Mat<T>& Q, Mat<T>& R) {
  const Index m = A.rows(), n = A.cols(), k = std::min(m, n);
  if (k == 0) {
    Q.resize(m, 0); R.resize(0, n);
    return;
  }
  if (m * n * k >= 32 * 32 * 32 && lapack_qr<T>(Mat<T>(A), Q, R)) return;
  Eigen::HouseholderQR<Mat<T>> h(A);
  Q = h.householderQ() * Mat<T>::Identity(m, k);
  R = h.matrixQR().topRows(k).template triangularView<Eigen::Upper>();
}

template <class T>
Mat<T> lstsq(const CMatRef<T>& A, const CMatRef<T>& B, double rcond) {
  Mat<T> U, V;
  Vec<real_t<T>> s;
  svd<T>(A, U, s, V);
  Mat<T> X = Mat<T>::Zero(A.cols(), B.cols());
  if (s.size() == 0 || !(s(0) > 0)) return X;
  // the numerical rank: values above the rounding floor max(rows, cols) eps s_1 (or rcond s_1)
  TruncationRule rule;
  const double eps = double(Eigen::NumTraits<real_t<T>>::epsilon());
  rule.rel_floor = std::max(rcond, double(std::max(A.rows(), A.cols())) * eps);
  const Index r = truncation_rank<real_t<T>>(s, rule);
  Mat<T> UtB = matmul<T>(U.leftCols(r), B, 'C', 'N');
  for (Index i = 0; i < r; ++i) UtB.row(i) /= T(s(i));
  return matmul<T>(V.leftCols(r), UtB);
}

template <class R>
Index truncation_rank(const Vec<R>& s, const TruncationRule& rule, double* discarded, double* total) {
  const Index n = s.size();
  if (n == 0) {
    if (discarded) *discarded = 0.0;
    if (total) *total = 0.0;
    return 0;
  }
  // tail[i] = sum_{j>=i} s_j^2, computed from the small end for accuracy.
  std::vector<double> tail(size_t(n + 1), 0.0);
  for (Index i = n - 1; i >= 0; --i) tail[size_t(i)] = tail[size_t(i + 1)] + double(s[i]) * double(s[i]);
  Index k = n;
  bool bounded = false;
  double budget = 0.0;
  if (rule.rel_tol > 0) {
    budget = rule.rel_tol * rule.rel_tol * tail[0];
    bounded = true;
  }
  if (rule.abs_budget >= 0) {
    budget = bounded ? std::min(budget, rule.abs_budget) : rule.abs_budget;
    bounded = true;
  }
  if (bounded) {  // the smallest count whose tail fits (tail[n] = 0 always does)
    Index kk = 1;
    while (kk < n && tail[size_t(kk)] > budget) ++kk;
    k = kk;
  }
  if (rule.max_rank > 0) k = std::min(k, rule.max_rank);
  if (rule.rel_floor > 0) {
    const double floor = double(s[0]) * rule.rel_floor;
    Index c = 0;
    while (c < k && double(s[c]) > floor) ++c;
    k = c;
  }
  k = std::max<Index>(k, 1);
  if (discarded) *discarded = tail[size_t(k)];
  if (total) *total = tail[0];
  return k;
}

#define TNFAST_INST(T)                                                                                 \
  template void gemm<T>(char, char, T, const CMatRef<T>&, const CMatRef<T>&, T, MatRef<T>);          \
  template Mat<T> matmul<T>(const CMatRef<T>&, const CMatRef<T>&, char, char);                       \
  template void qr<T>(const CMatRef<T>&, Mat<T>&, Mat<T>&);                                          \
  template Mat<T> lstsq<T>(const CMatRef<T>&, const CMatRef<T>&, double);
TNFAST_INST(float)
TNFAST_INST(double)
TNFAST_INST(cfloat)
TNFAST_INST(cdouble)
#undef TNFAST_INST
template Index truncation_rank<float>(const Vec<float>&, const TruncationRule&, double*, double*);
template Index truncation_rank<double>(const Vec<double>&, const TruncationRule&, double*, double*);

}  // namespace linalg
}  // namespace tnfast
