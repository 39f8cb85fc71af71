// Bindings of the tensor-train / MPO algebra (tnfast/tt.hpp).  Conversion and validation
// only; the cores produced by the C++ core are handed to numpy without a copy.
#include "bind_common.hpp"
#include "tnfast/simd.hpp"
#include "tnfast/tt.hpp"

namespace tnfast {
namespace bind {
namespace {

template <class T>
py::array_t<T> core_to_array(Core3<T>&& c) {
  const Index rl = c.rl, d = c.d, rr = c.rr;
  auto* v = new std::vector<T>(std::move(c.data));
  py::capsule owner(v, [](void* p) { delete reinterpret_cast<std::vector<T>*>(p); });
  return py::array_t<T>({rl, d, rr}, v->data(), owner);
}

template <class T>
py::list cores_to_list(tt::Cores<T>&& cores) {
  py::list out;
  for (auto& c : cores) out.append(core_to_array(std::move(c)));
  return out;
}

std::vector<Index> to_index_vector(const py::sequence& seq, const char* name) {
  std::vector<Index> out;
  for (auto item : seq) {
    Index v = item.cast<Index>();
    if (v < 1) throw py::value_error(std::string(name) + ": mode sizes must be >= 1");
    out.push_back(v);
  }
  return out;
}

template <class T>
void def_typed(py::module_& m, const std::string& sfx) {
  using R = real_t<T>;
  m.def(("tt_svd_" + sfx).c_str(),
        [](const py::handle& array, Index max_rank, double rel_tol) {
          auto a = require<T>(array, "array");
          if (a.ndim() < 1) throw py::value_error("array: expected at least one dimension");
          std::vector<Index> shape(a.shape(), a.shape() + a.ndim());
          tt::TruncationInfo info;
          tt::Cores<T> cores;
          {
            Interruptible nogil;
            cores = tt::tt_svd<T>(a.data(), shape, max_rank, rel_tol, &info);
          }
          return py::make_tuple(cores_to_list(std::move(cores)), info);
        },
        py::arg("array"), py::arg("max_rank") = 0, py::arg("rel_tol") = 0.0,
        "TT-SVD of a dense array; returns (cores, info).");

  m.def(("tt_evaluate_" + sfx).c_str(),
        [](const py::sequence& cores_in, const py::handle& indices, int num_threads) {
          auto cores = to_cores<T>(cores_in, "cores");
          auto idx = require<std::int64_t>(indices, "indices", 2);
          if (idx.shape(1) != Index(cores.size()))
            throw py::value_error("indices: expected " + std::to_string(cores.size()) + " columns (one per site), got " +
                                  std::to_string(idx.shape(1)));
          const Index batch = idx.shape(0);
          py::array_t<T> out(batch);
          T* o = out.mutable_data();
          {
            Interruptible nogil;
            tt::evaluate<T>(cores, idx.data(), batch, o, num_threads);
          }
          return out;
        },
        py::arg("cores"), py::arg("indices"), py::arg("num_threads") = 0);

  m.def(("tt_evaluate_embedded_" + sfx).c_str(),
        [](const py::sequence& cores_in, const py::handle& features, int num_threads) {
          auto cores = to_cores<T>(cores_in, "cores");
          const size_t n = cores.size();
          std::vector<const T*> ptr;
          std::vector<Index> stride;
          std::vector<carray<T>> keep;
          Index batch = -1;
          if (py::isinstance<py::array>(features)) {
            auto f = require<T>(features, "features", 3);
            if (f.shape(1) != Index(n))
              throw py::value_error("features: expected shape (batch, " + std::to_string(n) + ", d)");
            for (size_t k = 0; k < n; ++k)
              if (f.shape(2) != cores[k].d)
                throw py::value_error("features: feature size " + std::to_string(f.shape(2)) +
                                      " differs from the dimension " + std::to_string(cores[k].d) + " of site " +
                                      std::to_string(k));
            batch = f.shape(0);
            for (size_t k = 0; k < n; ++k) {
              ptr.push_back(f.data() + k * f.shape(2));
              stride.push_back(Index(n) * f.shape(2));
            }
            keep.push_back(f);
          } else {
            auto seq = py::reinterpret_borrow<py::sequence>(features);
            if (py::len(seq) != n)
              throw py::value_error("features: expected " + std::to_string(n) + " arrays (one per site), got " +
                                    std::to_string(py::len(seq)));
            for (size_t k = 0; k < n; ++k) {
              const std::string name = "features[" + std::to_string(k) + "]";
              auto f = require<T>(seq[k], name.c_str(), 2);
              if (f.shape(1) != cores[k].d)
                throw py::value_error(name + ": expected " + std::to_string(cores[k].d) + " columns, got " +
                                      std::to_string(f.shape(1)));
              if (batch >= 0 && f.shape(0) != batch)
                throw py::value_error(name + ": batch size " + std::to_string(f.shape(0)) + " differs from " +
                                      std::to_string(batch));
              batch = f.shape(0);
              ptr.push_back(f.data());
              stride.push_back(f.shape(1));
              keep.push_back(f);
            }
          }
          py::array_t<T> out(batch);
          T* o = out.mutable_data();
          {
            Interruptible nogil;
            tt::evaluate_embedded<T>(cores, ptr, stride, batch, o, num_threads);
          }
          return out;
        },
        py::arg("cores"), py::arg("features"), py::arg("num_threads") = 0);

  m.def(("tt_dot_" + sfx).c_str(),
        [](const py::sequence& a, const py::sequence& b) {
          auto A = to_cores<T>(a, "a");
          auto B = to_cores<T>(b, "b");
          Interruptible nogil;
          return tt::dot<T>(A, B);
        },
        py::arg("a"), py::arg("b"));
  m.def(("tt_norm_" + sfx).c_str(),
        [](const py::sequence& a) {
          auto A = to_cores<T>(a, "a");
          Interruptible nogil;
          return tt::norm<T>(A);
        },
        py::arg("a"));
  m.def(("tt_add_" + sfx).c_str(),
        [](const py::sequence& a, const py::sequence& b) {
          auto A = to_cores<T>(a, "a");
          auto B = to_cores<T>(b, "b");
          tt::Cores<T> C;
          {
            Interruptible nogil;
            C = tt::add<T>(A, B);
          }
          return cores_to_list(std::move(C));
        },
        py::arg("a"), py::arg("b"));
  m.def(("tt_scale_" + sfx).c_str(),
        [](const py::sequence& a, T alpha) {
          auto A = to_cores<T>(a, "a");
          auto C = tt::scale<T>(A, alpha);
          for (size_t k = 0; k < C.size(); ++k)
            if (!all_finite(C[k].data.data(), C[k].data.size()))
              throw py::value_error("alpha: the scaled cores overflow (core " + std::to_string(k) + ")");
          return cores_to_list(std::move(C));
        },
        py::arg("a"), py::arg("alpha"));
  m.def(("tt_hadamard_" + sfx).c_str(),
        [](const py::sequence& a, const py::sequence& b) {
          auto A = to_cores<T>(a, "a");
          auto B = to_cores<T>(b, "b");
          tt::Cores<T> C;
          {
            Interruptible nogil;
            C = tt::hadamard<T>(A, B);
          }
          return cores_to_list(std::move(C));
        },
        py::arg("a"), py::arg("b"));
  m.def(("tt_canonicalize_" + sfx).c_str(),
        [](const py::sequence& a, Index center) {
          auto A = to_cores<T>(a, "cores");
          {
            Interruptible nogil;
            tt::canonicalize<T>(A, center);
          }
          return cores_to_list(std::move(A));
        },
        py::arg("cores"), py::arg("center"));
  m.def(("tt_round_" + sfx).c_str(),
        [](const py::sequence& a, Index max_rank, double rel_tol) {
          auto A = to_cores<T>(a, "cores");
          tt::TruncationInfo info;
          {
            Interruptible nogil;
            info = tt::round<T>(A, max_rank, rel_tol);
          }
          return py::make_tuple(cores_to_list(std::move(A)), info);
        },
        py::arg("cores"), py::arg("max_rank") = 0, py::arg("rel_tol") = 0.0,
        "Round a train; returns (cores, info).");
  m.def(("tt_singular_values_" + sfx).c_str(),
        [](const py::sequence& a) {
          auto A = to_cores<T>(a, "cores");
          std::vector<Vec<R>> sv;
          {
            Interruptible nogil;
            sv = tt::singular_values<T>(A);
          }
          py::list out;
          for (const auto& s : sv) out.append(from_vec<R>(s));
          return out;
        },
        py::arg("cores"));
  m.def(("tt_entropy_" + sfx).c_str(),
        [](const py::sequence& a) {
          auto A = to_cores<T>(a, "cores");
          std::vector<double> S;
          {
            Interruptible nogil;
            long scale_exponent = 0;  // the entropy does not depend on the scale
            S = tt::entropy<R>(tt::singular_values<T>(A, &scale_exponent));
          }
          py::array_t<double> out(Index(S.size()));
          std::copy(S.begin(), S.end(), out.mutable_data());
          return out;
        },
        py::arg("cores"));
  m.def(("mpo_compose_" + sfx).c_str(),
        [](const py::sequence& a, const py::sequence& a_rows, const py::sequence& a_cols, const py::sequence& b,
           const py::sequence& b_cols) {
          auto A = to_cores<T>(a, "a");
          auto B = to_cores<T>(b, "b");
          auto ar = to_index_vector(a_rows, "a_rows"), ac = to_index_vector(a_cols, "a_cols"),
               bc = to_index_vector(b_cols, "b_cols");
          tt::Cores<T> C;
          {
            Interruptible nogil;
            C = tt::mpo_compose<T>(A, ar, ac, B, bc);
          }
          return cores_to_list(std::move(C));
        },
        py::arg("a"), py::arg("a_rows"), py::arg("a_cols"), py::arg("b"), py::arg("b_cols"),
        "Product of two MPOs with merged (rows*cols) physical indices.");
  m.def(("mpo_apply_" + sfx).c_str(),
        [](const py::sequence& a, const py::sequence& rows, const py::sequence& cols, const py::sequence& x) {
          auto A = to_cores<T>(a, "a");
          auto X = to_cores<T>(x, "x");
          auto r = to_index_vector(rows, "rows"), c = to_index_vector(cols, "cols");
          tt::Cores<T> C;
          {
            Interruptible nogil;
            C = tt::mpo_apply<T>(A, r, c, X);
          }
          return cores_to_list(std::move(C));
        },
        py::arg("a"), py::arg("rows"), py::arg("cols"), py::arg("x"));
}

}  // namespace

void register_tt(py::module_& m) {
  py::class_<tt::TruncationInfo>(m, "TruncationInfo", "Where a truncation stopped (see tnfast/tt.hpp).")
      .def_readonly("discarded_weight", &tt::TruncationInfo::discarded_weight)
      .def_readonly("norm", &tt::TruncationInfo::norm)
      .def_property_readonly("ranks", [](const tt::TruncationInfo& i) { return py::tuple(py::cast(i.ranks)); });
  def_typed<float>(m, "f32");
  def_typed<double>(m, "f64");
  def_typed<cfloat>(m, "c64");
  def_typed<cdouble>(m, "c128");
  m.def("_set_simd_level", &simd::set_level_cap, py::arg("level"),
        "Cap the instruction set of the vectorized kernels (0 portable, 1 AVX2, 2 AVX-512; -1 detect).");
  m.def("_simd_level", &simd::active_level);
}

}  // namespace bind
}  // namespace tnfast
