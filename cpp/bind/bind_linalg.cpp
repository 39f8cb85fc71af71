#include "bind_common.hpp"
#include "tnfast/linalg.hpp"

namespace tnfast {
namespace bind {
namespace {

void* addr(const py::dict& d, const char* key) {
  if (!d.contains(key)) return nullptr;
  auto v = d[key];
  if (v.is_none()) return nullptr;
  return reinterpret_cast<void*>(v.cast<std::uintptr_t>());
}

template <class T>
void def_typed(py::module_& m, const char* suffix) {
  m.def((std::string("matmul_") + suffix).c_str(),
        [](const py::handle& a, const py::handle& b) {
          // No copies: a row-major (m x k) array is the column-major (k x m) matrix A^T, so
          // C = A B is computed as C^T = B^T A^T straight into the row-major output.
          auto A = require<T>(a, "a", 2);
          auto B = require<T>(b, "b", 2);
          const Index m = A.shape(0), k = A.shape(1), n = B.shape(1);
          if (B.shape(0) != k) throw py::value_error("matmul: a.shape[1] must equal b.shape[0]");
          py::array_t<T> out({m, n});
          {
            Eigen::Map<const Mat<T>> At(A.data(), k, m), Bt(B.data(), n, k);
            Eigen::Map<Mat<T>> Ct(out.mutable_data(), n, m);
            py::gil_scoped_release nogil;
            linalg::gemm<T>('N', 'N', T(1), Bt, At, T(0), Ct);
          }
          return out;
        },
        py::arg("a"), py::arg("b"));
  m.def((std::string("svd_") + suffix).c_str(),
        [](const py::handle& a) {
          Mat<T> A = to_mat<T>(a, "a"), U, V;
          Vec<real_t<T>> s;
          {
            py::gil_scoped_release nogil;
            linalg::svd<T>(A, U, s, V);
          }
          return py::make_tuple(from_mat<T>(U), from_vec<real_t<T>>(s), from_mat<T>(Mat<T>(V.adjoint())));
        },
        py::arg("a"));
  m.def((std::string("qr_") + suffix).c_str(),
        [](const py::handle& a) {
          Mat<T> A = to_mat<T>(a, "a"), Q, R;
          {
            py::gil_scoped_release nogil;
            linalg::qr<T>(A, Q, R);
          }
          return py::make_tuple(from_mat<T>(Q), from_mat<T>(R));
        },
        py::arg("a"));
}

void register_linalg(py::module_& m) {
  m.def("_set_backend",
        [](const py::dict& d) {
          linalg::BackendPointers p;
          p.sgemm = addr(d, "sgemm"); p.dgemm = addr(d, "dgemm"); p.cgemm = addr(d, "cgemm"); p.zgemm = addr(d, "zgemm");
          p.sgesdd = addr(d, "sgesdd"); p.dgesdd = addr(d, "dgesdd"); p.cgesdd = addr(d, "cgesdd"); p.zgesdd = addr(d, "zgesdd");
          p.sgeqrf = addr(d, "sgeqrf"); p.dgeqrf = addr(d, "dgeqrf"); p.cgeqrf = addr(d, "cgeqrf"); p.zgeqrf = addr(d, "zgeqrf");
          p.sorgqr = addr(d, "sorgqr"); p.dorgqr = addr(d, "dorgqr"); p.cungqr = addr(d, "cungqr"); p.zungqr = addr(d, "zungqr");
          linalg::set_backend(p);
        },
        py::arg("pointers"), "Register BLAS/LAPACK entry points (addresses as integers).");
  m.def("_has_blas", &linalg::has_blas);
  m.def("_blas_threshold", &linalg::blas_threshold);
  m.def("_set_blas_threshold", &linalg::set_blas_threshold, py::arg("mnk"));
  def_typed<float>(m, "f32");
  def_typed<double>(m, "f64");
  def_typed<cfloat>(m, "c64");
  def_typed<cdouble>(m, "c128");
}

Registrar reg(0, register_linalg);

}  // namespace
}  // namespace bind
}  // namespace tnfast
