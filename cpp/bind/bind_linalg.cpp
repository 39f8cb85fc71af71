#include "bind_common.hpp"
#include "tnfast/linalg.hpp"

namespace tnfast {
namespace bind {
namespace {

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

template <class R>
py::tuple truncation_rank(const py::handle& s, const linalg::TruncationRule& rule) {
  auto a = require<R>(s, "s", 1);
  if (!all_finite(a.data(), size_t(a.size()))) throw py::value_error("s: holds NaN or Inf");
  const Eigen::Map<const Vec<R>> v(a.data(), a.shape(0));
  for (Index i = 0; i < v.size(); ++i)
    if (v[i] < R(0) || (i > 0 && v[i] > v[i - 1]))
      throw py::value_error("s: expected non-negative values in descending order");
  double discarded = 0, total = 0;
  const Index k = linalg::truncation_rank<R>(Vec<R>(v), rule, &discarded, &total);
  return py::make_tuple(k, discarded, total);
}

}  // namespace

void register_linalg(py::module_& m) {
  py::class_<linalg::TruncationRule>(m, "TruncationRule",
                                     "How many singular values a truncation keeps (see linalg.hpp).")
      .def(py::init([](Index max_rank, double rel_tol, double abs_budget, double rel_floor) {
             linalg::TruncationRule r;
             r.max_rank = max_rank;
             r.rel_tol = rel_tol;
             r.abs_budget = abs_budget;
             r.rel_floor = rel_floor;
             return r;
           }),
           py::kw_only(), py::arg("max_rank") = 0, py::arg("rel_tol") = 0.0, py::arg("abs_budget") = -1.0,
           py::arg("rel_floor") = 0.0)
      .def_readwrite("max_rank", &linalg::TruncationRule::max_rank)
      .def_readwrite("rel_tol", &linalg::TruncationRule::rel_tol)
      .def_readwrite("abs_budget", &linalg::TruncationRule::abs_budget)
      .def_readwrite("rel_floor", &linalg::TruncationRule::rel_floor)
      .def("__repr__", [](const linalg::TruncationRule& r) {
        return "TruncationRule(max_rank=" + std::to_string(r.max_rank) + ", rel_tol=" + std::to_string(r.rel_tol) +
               ", abs_budget=" + std::to_string(r.abs_budget) + ", rel_floor=" + std::to_string(r.rel_floor) + ")";
      });
  m.def("_truncation_rank_f64", &truncation_rank<double>, py::arg("s"), py::arg("rule"),
        "(rank, discarded weight, total weight) of a descending spectrum under a TruncationRule.");
  m.def("_truncation_rank_f32", &truncation_rank<float>, py::arg("s"), py::arg("rule"));
  // The BLAS/LAPACK entry points, as integer addresses (0 or None: absent).
  using BP = linalg::BackendPointers;
  py::class_<BP> bp(m, "BackendPointers", "BLAS/LAPACK entry points to register (addresses as integers).");
  bp.def(py::init<>());
#define TNFAST_BACKEND_FIELD(name)                                                                       \
  bp.def_property(                                                                                     \
      #name, [](const BP& p) { return reinterpret_cast<std::uintptr_t>(p.name); },                     \
      [](BP& p, const py::object& v) {                                                                 \
        p.name = v.is_none() ? nullptr : reinterpret_cast<void*>(v.cast<std::uintptr_t>());            \
      });
  TNFAST_BACKEND_FIELD(sgemm)
  TNFAST_BACKEND_FIELD(dgemm)
  TNFAST_BACKEND_FIELD(cgemm)
  TNFAST_BACKEND_FIELD(zgemm)
  TNFAST_BACKEND_FIELD(sgesdd)
  TNFAST_BACKEND_FIELD(dgesdd)
  TNFAST_BACKEND_FIELD(cgesdd)
  TNFAST_BACKEND_FIELD(zgesdd)
  TNFAST_BACKEND_FIELD(sgeqrf)
  TNFAST_BACKEND_FIELD(dgeqrf)
  TNFAST_BACKEND_FIELD(cgeqrf)
  TNFAST_BACKEND_FIELD(zgeqrf)
  TNFAST_BACKEND_FIELD(sorgqr)
  TNFAST_BACKEND_FIELD(dorgqr)
  TNFAST_BACKEND_FIELD(cungqr)
  TNFAST_BACKEND_FIELD(zungqr)
  TNFAST_BACKEND_FIELD(ssyrk)
  TNFAST_BACKEND_FIELD(dsyrk)
  TNFAST_BACKEND_FIELD(cherk)
  TNFAST_BACKEND_FIELD(zherk)
  TNFAST_BACKEND_FIELD(strsm)
  TNFAST_BACKEND_FIELD(dtrsm)
  TNFAST_BACKEND_FIELD(ctrsm)
  TNFAST_BACKEND_FIELD(ztrsm)
  TNFAST_BACKEND_FIELD(strmm)
  TNFAST_BACKEND_FIELD(dtrmm)
  TNFAST_BACKEND_FIELD(ctrmm)
  TNFAST_BACKEND_FIELD(ztrmm)
  TNFAST_BACKEND_FIELD(spotrf)
  TNFAST_BACKEND_FIELD(dpotrf)
  TNFAST_BACKEND_FIELD(cpotrf)
  TNFAST_BACKEND_FIELD(zpotrf)
  TNFAST_BACKEND_FIELD(ssyevd)
  TNFAST_BACKEND_FIELD(dsyevd)
  TNFAST_BACKEND_FIELD(cheevd)
  TNFAST_BACKEND_FIELD(zheevd)
#undef TNFAST_BACKEND_FIELD
  m.def("_set_backend", &linalg::set_backend, py::arg("pointers"), "Register BLAS/LAPACK entry points.");
  m.def("_has_blas", &linalg::has_blas);
  m.def("_cholqr_threshold", &linalg::cholqr_threshold);
  m.def("_set_cholqr_threshold", &linalg::set_cholqr_threshold, py::arg("mnn"),
        "Rows * cols^2 from which QR/LQ factorizations try Cholesky QR2 first (0: always).");
  using RC = linalg::RouteCounts;
  py::class_<RC>(m, "RouteCounts", "How often each factorization route was taken (read-only record).")
      .def_readonly("cholqr_one_pass", &RC::cholqr_one_pass, "Cholesky QR accepted after one pass")
      .def_readonly("cholqr_two_pass", &RC::cholqr_two_pass, "Cholesky QR accepted after two passes")
      .def_readonly("cholqr_shifted", &RC::cholqr_shifted, "Cholesky QR accepted after a shifted pass")
      .def_readonly("cholqr_rejected", &RC::cholqr_rejected, "Cholesky QR refused (the caller fell back)")
      .def_readonly("gram_svd", &RC::gram_svd, "rounding truncations done through the Gram matrix")
      .def_readonly("gram_svd_rejected", &RC::gram_svd_rejected, "Gram-matrix truncations refused as unsafe")
      .def("__repr__", [](const RC& c) {
        return "RouteCounts(cholqr_one_pass=" + std::to_string(c.cholqr_one_pass) +
               ", cholqr_two_pass=" + std::to_string(c.cholqr_two_pass) +
               ", cholqr_shifted=" + std::to_string(c.cholqr_shifted) +
               ", cholqr_rejected=" + std::to_string(c.cholqr_rejected) + ", gram_svd=" + std::to_string(c.gram_svd) +
               ", gram_svd_rejected=" + std::to_string(c.gram_svd_rejected) + ")";
      });
  m.def("_route_counts", &linalg::route_counts, "How often each factorization route was taken since the last reset.");
  m.def("_reset_route_counts", &linalg::reset_route_counts);
  m.def("_blas_threshold", &linalg::blas_threshold);
  m.def("_set_blas_threshold", &linalg::set_blas_threshold, py::arg("mnk"));
  def_typed<float>(m, "f32");
  def_typed<double>(m, "f64");
  def_typed<cfloat>(m, "c64");
  def_typed<cdouble>(m, "c128");
}

}  // namespace bind
}  // namespace tnfast
