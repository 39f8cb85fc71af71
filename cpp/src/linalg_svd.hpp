// The thin SVD (see linalg.hpp): LAPACK's gesdd when registered and the matrix is not small,
// Eigen's Jacobi (small) or divide-and-conquer SVD otherwise.  Internal header: the template is
// instantiated in one translation unit per scalar type (linalg_svd_<type>.cpp).
#pragma once

#include <Eigen/SVD>
#include <algorithm>
#include <limits>
#include <type_traits>

#include "linalg_detail.hpp"
#include "tnfast/linalg.hpp"

namespace tnfast {
namespace linalg {

// ---- SVD ------------------------------------------------------------------------------
namespace svd_detail {
using namespace detail;
using gesdd_d_f = int (*)(int, char, int, int, double*, int, double*, double*, int, double*, int);
using gesdd_s_f = int (*)(int, char, int, int, float*, int, float*, float*, int, float*, int);
using gesdd_z_f = int (*)(int, char, int, int, void*, int, double*, void*, int, void*, int);
using gesdd_c_f = int (*)(int, char, int, int, void*, int, float*, void*, int, void*, int);

template <class T>
bool lapack_svd(Mat<T> a, Mat<T>& U, Vec<real_t<T>>& s, Mat<T>& V) {
  const Index m = a.rows(), n = a.cols(), k = std::min(m, n);
  if (!fits_int(m) || !fits_int(n)) return false;
  Mat<T> u(m, k), vt(k, n);
  s.resize(k);
  int info = -1;
  const int lda = int(std::max<Index>(1, m)), ldu = int(std::max<Index>(1, m)), ldvt = int(std::max<Index>(1, k));
  if constexpr (std::is_same_v<T, double>) {
    if (!backend().dgesdd) return false;
    info = reinterpret_cast<gesdd_d_f>(backend().dgesdd)(kColMajor, 'S', int(m), int(n), a.data(), lda, s.data(), u.data(), ldu, vt.data(), ldvt);
  } else if constexpr (std::is_same_v<T, float>) {
    if (!backend().sgesdd) return false;
    info = reinterpret_cast<gesdd_s_f>(backend().sgesdd)(kColMajor, 'S', int(m), int(n), a.data(), lda, s.data(), u.data(), ldu, vt.data(), ldvt);
  } else if constexpr (std::is_same_v<T, cdouble>) {
    if (!backend().zgesdd) return false;
    info = reinterpret_cast<gesdd_z_f>(backend().zgesdd)(kColMajor, 'S', int(m), int(n), a.data(), lda, s.data(), u.data(), ldu, vt.data(), ldvt);
  } else {
    if (!backend().cgesdd) return false;
    info = reinterpret_cast<gesdd_c_f>(backend().cgesdd)(kColMajor, 'S', int(m), int(n), a.data(), lda, s.data(), u.data(), ldu, vt.data(), ldvt);
  }
  if (info != 0) return false;  // fall back to Eigen (e.g. gesdd did not converge)
  U = std::move(u);
  V = vt.adjoint();
  return true;
}
// ||A - U diag(s) V^H||_F <= 8 k eps ||A||_F (k = min(m, n)): far above the rounding of a
// correct SVD, far below the error of a wrong one.
template <class T>
bool reconstructs(const CMatRef<T>& A, const Mat<T>& U, const Vec<real_t<T>>& s, const Mat<T>& V) {
  using R = real_t<T>;
  const Index k = s.size();
  const double norm = double(A.norm());
  if (!(norm > 0)) return true;
  const Mat<T> back = (U * s.template cast<T>().asDiagonal()) * V.adjoint();
  const double err = double((back - A).norm());
  return err <= 8.0 * double(std::max<Index>(k, 1)) * double(std::numeric_limits<R>::epsilon()) * norm;
}
}  // namespace svd_detail

template <class T>
void svd(const CMatRef<T>& A, Mat<T>& U, Vec<real_t<T>>& s, Mat<T>& V) {
  const Index m = A.rows(), n = A.cols(), k = std::min(m, n);
  if (k == 0) {
    U.resize(m, 0); s.resize(0); V.resize(n, 0);
    return;
  }
  if (!A.allFinite()) throw invalid_argument("svd: the matrix holds NaN or Inf");
  if (std::min(m, n) >= 16 && svd_detail::lapack_svd<T>(Mat<T>(A), U, s, V)) return;
  if (k < 16) {
    Eigen::JacobiSVD<Mat<T>> sv(A, Eigen::ComputeThinU | Eigen::ComputeThinV);
    U = sv.matrixU(); s = sv.singularValues(); V = sv.matrixV();
  } else {
    Eigen::BDCSVD<Mat<T>> sv(A, Eigen::ComputeThinU | Eigen::ComputeThinV);
    U = sv.matrixU(); s = sv.singularValues(); V = sv.matrixV();
    // Eigen 3.4.0's divide and conquer can return orthonormal but wrong singular vectors for
    // some numerically rank-deficient matrices (a 70 x 35 matrix of rank 10: ||A - U S V^H||
    // = 0.27 ||A||).  Check the factorization and redo it by Jacobi when it does not hold.
    if (!svd_detail::reconstructs<T>(A, U, s, V)) {
      Eigen::JacobiSVD<Mat<T>> sj(A, Eigen::ComputeThinU | Eigen::ComputeThinV);
      U = sj.matrixU(); s = sj.singularValues(); V = sj.matrixV();
    }
  }
}

}  // namespace linalg
}  // namespace tnfast
