// Hermitian eigensolver (see linalg.hpp): LAPACK's ?syevd / ?heevd when registered, Eigen's
// self-adjoint solver otherwise.  A unit of its own: Eigen's solver is heavy to compile.
#include <Eigen/Eigenvalues>

#include "linalg_detail.hpp"
#include "tnfast/linalg.hpp"

namespace tnfast {
namespace linalg {

using namespace detail;

template <class T>
bool eigh(const CMatRef<T>& H, Vec<real_t<T>>& w, Mat<T>& Z) {
  const Index n = H.rows();
  if (H.cols() != n) throw invalid_argument("eigh: the matrix must be square");
  if (n == 0) {
    w.resize(0);
    Z.resize(0, 0);
    return true;
  }
  if (!H.template triangularView<Eigen::Lower>().toDenseMatrix().allFinite()) return false;
  const BackendPointers& b = backend();
  void* f = pick<T>(b.ssyevd, b.dsyevd, b.cheevd, b.zheevd);
  if (f && fits_int(n)) {
    Z = H;
    w.resize(n);
    using F = int (*)(int, char, char, int, T*, int, real_t<T>*);
    const int info = reinterpret_cast<F>(f)(kColMajor, 'V', 'L', int(n), Z.data(), ld(n), w.data());
    if (info == 0) return true;
  }
  Eigen::SelfAdjointEigenSolver<Mat<T>> es(Mat<T>(H.template selfadjointView<Eigen::Lower>()));
  if (es.info() != Eigen::Success) return false;
  w = es.eigenvalues();
  Z = es.eigenvectors();
  return true;
}

template bool eigh<float>(const CMatRef<float>&, Vec<float>&, Mat<float>&);
template bool eigh<double>(const CMatRef<double>&, Vec<double>&, Mat<double>&);
template bool eigh<cfloat>(const CMatRef<cfloat>&, Vec<float>&, Mat<cfloat>&);
template bool eigh<cdouble>(const CMatRef<cdouble>&, Vec<double>&, Mat<cdouble>&);

}  // namespace linalg
}  // namespace tnfast
