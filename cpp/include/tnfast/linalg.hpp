// Dense linear algebra used by every tnfast kernel.
//
// Large products, SVDs and QRs go to an optimized BLAS/LAPACK whose entry points are
// registered at run time (tnfast registers those of the scipy-openblas32 wheel at import,
// which dispatches on the CPU it runs on).  Small problems, or a process where nothing is
// registered (the C++ benchmark program, for instance), use Eigen.
#pragma once

#include "tnfast/common.hpp"

namespace tnfast {
namespace linalg {

// Raw entry points (CBLAS / LAPACKE conventions, 32-bit integers).  Any may be null.
struct BackendPointers {
  void* sgemm = nullptr;  // cblas_sgemm
  void* dgemm = nullptr;  // cblas_dgemm
  void* cgemm = nullptr;  // cblas_cgemm
  void* zgemm = nullptr;  // cblas_zgemm
  void* sgesdd = nullptr;  // LAPACKE_sgesdd
  void* dgesdd = nullptr;  // LAPACKE_dgesdd
  void* cgesdd = nullptr;  // LAPACKE_cgesdd
  void* zgesdd = nullptr;  // LAPACKE_zgesdd
  void* sgeqrf = nullptr;  // LAPACKE_sgeqrf
  void* dgeqrf = nullptr;  // LAPACKE_dgeqrf
  void* cgeqrf = nullptr;  // LAPACKE_cgeqrf
  void* zgeqrf = nullptr;  // LAPACKE_zgeqrf
  void* sorgqr = nullptr;  // LAPACKE_sorgqr
  void* dorgqr = nullptr;  // LAPACKE_dorgqr
  void* cungqr = nullptr;  // LAPACKE_cungqr
  void* zungqr = nullptr;  // LAPACKE_zungqr
  void* ssyrk = nullptr;  // cblas_ssyrk
  void* dsyrk = nullptr;  // cblas_dsyrk
  void* cherk = nullptr;  // cblas_cherk
  void* zherk = nullptr;  // cblas_zherk
  void* strsm = nullptr;  // cblas_strsm
  void* dtrsm = nullptr;  // cblas_dtrsm
  void* ctrsm = nullptr;  // cblas_ctrsm
  void* ztrsm = nullptr;  // cblas_ztrsm
  void* strmm = nullptr;  // cblas_strmm
  void* dtrmm = nullptr;  // cblas_dtrmm
  void* ctrmm = nullptr;  // cblas_ctrmm
  void* ztrmm = nullptr;  // cblas_ztrmm
  void* spotrf = nullptr;  // LAPACKE_spotrf
  void* dpotrf = nullptr;  // LAPACKE_dpotrf
  void* cpotrf = nullptr;  // LAPACKE_cpotrf
  void* zpotrf = nullptr;  // LAPACKE_zpotrf
  void* ssyevd = nullptr;  // LAPACKE_ssyevd
  void* dsyevd = nullptr;  // LAPACKE_dsyevd
  void* cheevd = nullptr;  // LAPACKE_cheevd
  void* zheevd = nullptr;  // LAPACKE_zheevd
};

void set_backend(const BackendPointers& p);
const BackendPointers& backend();
bool has_blas();

// Products whose m*n*k is at least this go to BLAS (when registered).
Index blas_threshold();
void set_blas_threshold(Index mnk);

// C = alpha * op(A) * op(B) + beta * C, op in {'N', 'T', 'C'}.  C must already have the
// right shape.  Column-major operands with any outer stride.
template <class T>
void gemm(char opA, char opB, T alpha, const CMatRef<T>& A, const CMatRef<T>& B, T beta, MatRef<T> C);

// Convenience: returns op(A) * op(B).
template <class T>
Mat<T> matmul(const CMatRef<T>& A, const CMatRef<T>& B, char opA = 'N', char opB = 'N');

// Thin SVD A = U diag(s) V^H with s descending; U: m x k, s: k, V: n x k, k = min(m, n).
template <class T>
void svd(const CMatRef<T>& A, Mat<T>& U, Vec<real_t<T>>& s, Mat<T>& V);

// Thin QR A = Q R; Q: m x k with orthonormal columns, R: k x n upper triangular, k = min(m, n).
template <class T>
void qr(const CMatRef<T>& A, Mat<T>& Q, Mat<T>& R);

// Least-squares solution X (A.cols() x B.cols()) of A X = B of minimum norm: the pseudo-inverse
// by SVD, with singular values at or below max(max(rows, cols) * eps, rcond) * s_1 treated as zero
// (X = 0 when A is zero or empty).
template <class T>
Mat<T> lstsq(const CMatRef<T>& A, const CMatRef<T>& B, double rcond = 0.0);

// In-place LU with partial pivoting of the m x nc column-major block `a` (leading dimension lda,
// m >= nc) by recursion (the scheme of LAPACK's getrf2; narrow panels unblocked, vectorized for the
// active instruction-set level).  Unit lower L below the diagonal, U on and above it; ipiv[k]
// receives the row (relative to the block) swapped with row k.  Pivots are chosen by |x| (by
// |Re x| + |Im x| for complex x, as LAPACK's i?amax); a zero column is left in place for the caller
// to report.  Stop requests are honoured between blocks of the trailing updates.
template <class T>
void lu_inplace(T* a, Index m, Index nc, Index lda, Index* ipiv);

// ---- the truncation rule -----------------------------------------------------------------------
//
// Every truncation of a spectrum (rounding, TT-SVD, TT-RSS trimming, the MPO layers) keeps the
// count given by truncation_rank.  With s descending (singular values), tail(k) = sum_{i>=k} s_i^2
// (the weight discarded when k are kept) and total = tail(0), the count is the smallest k >= 1 such
// that every active bound holds:
//   - tail(k) <= rel_tol^2 * total          (rel_tol > 0; relative bound)
//   - tail(k) <= abs_budget                 (abs_budget >= 0; absolute bound, 0 cuts exact zeros only)
// then at most max_rank (> 0), then only values above the noise floor rel_floor * s_0 (rel_floor > 0),
// and at least one in every case (zero for an empty s).
struct TruncationRule {
  Index max_rank = 0;        // <= 0: no cap
  double rel_tol = 0.0;      // <= 0: no relative bound
  double abs_budget = -1.0;  // < 0: no absolute bound
  double rel_floor = 0.0;    // <= 0: no noise floor
};

// The count kept under `rule`; the discarded weight tail(k) (absolute, a sum of squares) is written to
// *discarded and the total weight to *total when non-null.
template <class R>
Index truncation_rank(const Vec<R>& s, const TruncationRule& rule, double* discarded = nullptr,
                      double* total = nullptr);

// The rule with a cap and a relative tolerance only.
template <class R>
Index truncation_rank(const Vec<R>& s, Index max_rank, double rel_tol, double* discarded = nullptr) {
  TruncationRule rule;
  rule.max_rank = max_rank;
  rule.rel_tol = rel_tol;
  return truncation_rank<R>(s, rule, discarded);
}

// ---- BLAS-3 orthogonalization and Hermitian eigensolver (linalg_blas3.cpp) -----------------
//
// Cholesky QR2 (Fukaya, Nakatsukasa, Yanagisawa, Yamamoto 2014): G = A^H A, G = R1^H R1, Q1 = A R1^{-1},
// then the same once more on Q1.  Every step is a Gram product (syrk/herk), a small Cholesky
// factorization or a triangular solve, so a tall-skinny QR runs at close to the rate of a matrix
// product, where Householder QR (geqrf + orgqr) is bound by matrix-vector work.
//  - The second pass is skipped when Q1 is already orthonormal: first checked by 8 random sign
//    probes (an estimate of ||Q1^H Q1 - I||_F at most k^2 eps / 8, at 4 m n 8 flops instead of the
//    m n^2 of a Gram product), then by the Gram matrix (every entry of Q1^H Q1 - I at most k eps).
//  - Beyond cond(A) ~ 1/sqrt(eps) the plain first pass refuses, and a shifted one runs instead
//    (shifted Cholesky QR3, Fukaya et al. 2020): G + s I with s = 11 (m n + n (n + 1)) eps ||A||_F^2,
//    then two plain passes; this covers full-rank A up to cond(A) ~ 1e11 in double precision.  It is
//    not tried when the plain pass finds 45 % of the directions or more unusable (true rank
//    deficiency, e.g. a sum of two trains).
//  - Failure is reported (Cholesky fails, a factor too ill-conditioned for its triangular solve, or
//    Q1 too far from orthonormal: some entry of Q1^H Q1 - I above 0.1), leaving the caller to use
//    Householder QR.

// Thin QR of a tall A (m >= n >= 1) by Cholesky QR2: Q m x n with orthonormal columns, R n x n upper
// triangular with a positive real diagonal.  Returns false (Q and R unspecified) when the method
// does not apply (m < n, cond(A) too large, rank deficiency, non-finite entries).
template <class T>
bool cholqr2(const CMatRef<T>& A, Mat<T>& Q, Mat<T>& R);

// Thin LQ of a wide W (1 <= m <= n) by Cholesky QR2: W = L Q, L m x m lower triangular with a
// positive real diagonal, Q m x n with orthonormal rows (Q Q^H = I).  Same failure conditions.
template <class T>
bool cholqr2_lq(const CMatRef<T>& W, Mat<T>& L, Mat<T>& Q);

// The same, writing Q into caller storage of A's (W's) shape that does not overlap the input.
template <class T>
bool cholqr2_into(const CMatRef<T>& A, MatRef<T> Q, Mat<T>& R);
template <class T>
bool cholqr2_lq_into(const CMatRef<T>& W, Mat<T>& L, MatRef<T> Q);

// One Cholesky pass on rows that are already close to orthonormal: Y = L Y' with Y' Y'^H = I,
// in place (L m x m lower triangular; the identity when Y Y^H = I to within m * eps).  Returns
// false, leaving Y untouched, when some entry of Y Y^H - I exceeds 0.1 or the factorization fails.
template <class T>
bool refine_rows(MatRef<T> Y, Mat<T>& L);

// Thin QR (as qr) that tries Cholesky QR2 first when A is tall and rows * cols^2 is at least
// cholqr_threshold(), and falls back to Householder QR.
template <class T>
void qr_fast(const CMatRef<T>& A, Mat<T>& Q, Mat<T>& R);

// Thin LQ W = L Q, k = min(m, n): L m x k lower trapezoidal, Q k x n with orthonormal rows.  Cholesky
// QR2 first when W is wide and cols * rows^2 >= cholqr_threshold(), Householder QR of W^T otherwise.
template <class T>
void lq_fast(const CMatRef<T>& W, Mat<T>& L, Mat<T>& Q);

Index cholqr_threshold();
void set_cholqr_threshold(Index mnn);

// H = W W^H (m x m, both triangles filled) for W m x n.
template <class T>
void gram_rows(const CMatRef<T>& W, Mat<T>& H);

// Eigen-decomposition H = Z diag(w) Z^H of a Hermitian matrix (only its lower triangle is read):
// w ascending, Z unitary.  Returns false if the solver fails or H is not finite.
template <class T>
bool eigh(const CMatRef<T>& H, Vec<real_t<T>>& w, Mat<T>& Z);

// In place B <- Tr B (side 'L') or B <- B Tr (side 'R'), Tr square triangular: uplo 'U' upper, 'L' lower.
template <class T>
void trmm(char side, char uplo, const CMatRef<T>& Tr, MatRef<T> B);

// How often each route was taken since the last reset (for tests and benchmarks).
struct RouteCounts {
  long cholqr_one_pass = 0;   // Cholesky QR accepted after one pass
  long cholqr_two_pass = 0;   // ... after two passes
  long cholqr_shifted = 0;    // ... after a shifted pass and two plain ones (ill-conditioned input)
  long cholqr_rejected = 0;   // Cholesky QR refused (caller fell back)
  long gram_svd = 0;          // rounding truncations done through the Gram matrix
  long gram_svd_rejected = 0; // ... refused as unsafe (Cholesky QR2 + SVD or plain SVD used)
};
RouteCounts route_counts();
void reset_route_counts();
void count_gram_svd(bool accepted);

}  // namespace linalg
}  // namespace tnfast
