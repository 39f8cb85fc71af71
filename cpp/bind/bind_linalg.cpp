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
            Interruptible nogil;
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
            Interruptible nogil;
            linalg::svd<T>(A, U, s, V);
          }
          return py::make_tuple(from_mat<T>(U), from_vec<real_t<T>>(s), from_mat<T>(Mat<T>(V.adjoint())));
        },
        py::arg("a"));
  m.def((std::string("qr_") + suffix).c_str(),
        [](const py::handle& a) {
          Mat<T> A = to_mat<T>(a, "a"), Q, R;
          {
            Interruptible nogil;
            linalg::qr<T>(A, Q, R);
          }
          return py::make_tuple(from_mat<T>(Q), from_mat<T>(R));
        },
        py::arg("a"));
  m.def((std::string("cholqr2_") + suffix).c_str(),
        [](const py::handle& a) -> py::object {
          Mat<T> A = to_mat<T>(a, "a"), Q, R;
          if (A.rows() < A.cols() || A.cols() == 0) throw py::value_error("a: expected a tall matrix (rows >= cols >= 1)");
          bool ok;
          {
            Interruptible nogil;
            ok = linalg::cholqr2<T>(A, Q, R);
          }
          if (!ok) return py::none();
          return py::make_tuple(from_mat<T>(Q), from_mat<T>(R));
        },
        py::arg("a"), "Cholesky QR2 of a tall matrix: (q, r), or None when it is refused.");
  m.def((std::string("cholqr2_lq_") + suffix).c_str(),
        [](const py::handle& a) -> py::object {
          Mat<T> A = to_mat<T>(a, "a"), L, Q;
          if (A.rows() > A.cols() || A.rows() == 0) throw py::value_error("a: expected a wide matrix (1 <= rows <= cols)");
          bool ok;
          {
            Interruptible nogil;
            ok = linalg::cholqr2_lq<T>(A, L, Q);
          }
          if (!ok) return py::none();
          return py::make_tuple(from_mat<T>(L), from_mat<T>(Q));
        },
        py::arg("a"), "Cholesky QR2 (LQ form) of a wide matrix: (l, q), or None when it is refused.");
  m.def((std::string("lq_") + suffix).c_str(),
        [](const py::handle& a) {
          Mat<T> A = to_mat<T>(a, "a"), L, Q;
          {
            Interruptible nogil;
            linalg::lq_fast<T>(A, L, Q);
          }
          return py::make_tuple(from_mat<T>(L), from_mat<T>(Q));
        },
        py::arg("a"), "Thin LQ (Cholesky QR2 when large and well conditioned, Householder otherwise).");
  m.def((std::string("qr_fast_") + suffix).c_str(),
        [](const py::handle& a) {
          Mat<T> A = to_mat<T>(a, "a"), Q, R;
          {
            Interruptible nogil;
            linalg::qr_fast<T>(A, Q, R);
          }
          return py::make_tuple(from_mat<T>(Q), from_mat<T>(R));
        },
        py::arg("a"), "Thin QR (Cholesky QR2 when large and well conditioned, Householder otherwise).");
  m.def((std::string("eigh_") + suffix).c_str(),
        [](const py::handle& a) {
          Mat<T> A = to_mat<T>(a, "a"), Z;
          if (A.rows() != A.cols()) throw py::value_error("a: expected a square matrix");
          Vec<real_t<T>> w;
          bool ok;
          {
            Interruptible nogil;
            ok = linalg::eigh<T>(A, w, Z);
          }
          if (!ok) throw py::value_error("a: the eigensolver failed (non-finite entries?)");
          return py::make_tuple(from_vec<real_t<T>>(w), from_mat<T>(Z));
        },
        py::arg("a"), "Eigen-decomposition of a Hermitian matrix (lower triangle read): (w ascending, z).");
}

void register_linalg(py::module_& m) {
  m.def("_set_backend",
        [](const py::dict& d) {
          linalg::BackendPointers p;
          p.sgemm = addr(d, "sgemm"); p.dgemm = addr(d, "dgemm"); p.cgemm = addr(d, "cgemm"); p.zgemm = addr(d, "zgemm");
          p.sgesdd = addr(d, "sgesdd"); p.dgesdd = addr(d, "dgesdd"); p.cgesdd = addr(d, "cgesdd"); p.zgesdd = addr(d, "zgesdd");
          p.sgeqrf = addr(d, "sgeqrf"); p.dgeqrf = addr(d, "dgeqrf"); p.cgeqrf = addr(d, "cgeqrf"); p.zgeqrf = addr(d, "zgeqrf");
          p.sorgqr = addr(d, "sorgqr"); p.dorgqr = addr(d, "dorgqr"); p.cungqr = addr(d, "cungqr"); p.zungqr = addr(d, "zungqr");
          p.ssyrk = addr(d, "ssyrk"); p.dsyrk = addr(d, "dsyrk"); p.cherk = addr(d, "cherk"); p.zherk = addr(d, "zherk");
          p.strsm = addr(d, "strsm"); p.dtrsm = addr(d, "dtrsm"); p.ctrsm = addr(d, "ctrsm"); p.ztrsm = addr(d, "ztrsm");
          p.strmm = addr(d, "strmm"); p.dtrmm = addr(d, "dtrmm"); p.ctrmm = addr(d, "ctrmm"); p.ztrmm = addr(d, "ztrmm");
          p.spotrf = addr(d, "spotrf"); p.dpotrf = addr(d, "dpotrf"); p.cpotrf = addr(d, "cpotrf"); p.zpotrf = addr(d, "zpotrf");
          p.ssyevd = addr(d, "ssyevd"); p.dsyevd = addr(d, "dsyevd"); p.cheevd = addr(d, "cheevd"); p.zheevd = addr(d, "zheevd");
          linalg::set_backend(p);
        },
        py::arg("pointers"), "Register BLAS/LAPACK entry points (addresses as integers).");
  m.def("_has_blas", &linalg::has_blas);
  m.def("_cholqr_threshold", &linalg::cholqr_threshold);
  m.def("_set_cholqr_threshold", &linalg::set_cholqr_threshold, py::arg("mnn"),
        "Rows * cols^2 from which QR/LQ factorizations try Cholesky QR2 first (0: always).");
  m.def("_route_counts", []() {
    const linalg::RouteCounts c = linalg::route_counts();
    py::dict d;
    d["cholqr_one_pass"] = c.cholqr_one_pass;
    d["cholqr_two_pass"] = c.cholqr_two_pass;
    d["cholqr_shifted"] = c.cholqr_shifted;
    d["cholqr_rejected"] = c.cholqr_rejected;
    d["gram_svd"] = c.gram_svd;
    d["gram_svd_rejected"] = c.gram_svd_rejected;
    return d;
  }, "How often each factorization route was taken since the last reset.");
  m.def("_reset_route_counts", &linalg::reset_route_counts);
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
