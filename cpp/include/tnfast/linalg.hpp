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

// Number of singular values kept by a truncation rule: at most max_rank (<= 0: no cap),
// and the fewest whose discarded weight sum_{i>=k} s_i^2 is <= (rel_tol^2) * sum_i s_i^2.
// At least one is always kept.  Returns the count; discarded weight (absolute, sum of the
// squares cut) is written to *discarded when non-null.
template <class R>
Index truncation_rank(const Vec<R>& s, Index max_rank, double rel_tol, double* discarded = nullptr);

}  // namespace linalg
}  // namespace tnfast
