// Bindings for tensor cross interpolation and prrLU.  The Python callable is wrapped into a
// batch function that re-acquires the GIL, calls it once per batch and checks what it returns.
#include <cstring>

#include "bind_common.hpp"
#include "tnfast/cross.hpp"
#include "tnfast/prrlu.hpp"

namespace tnfast {
namespace bind {
namespace {

// Holds borrowed pointers so that copies of the std::function made without the GIL never
// touch reference counts; the objects outlive the run.
template <class T>
struct PyBatchFunction {
  const py::object* fp;
  const py::object* asarrayp;

  void operator()(const int64_t* idx, Index batch, Index n, T* out) const {
    py::gil_scoped_acquire gil;
    py::array_t<int64_t> arg({batch, n});
    std::memcpy(arg.mutable_data(), idx, size_t(batch * n) * sizeof(int64_t));
    const py::object& f = *fp;
    const py::object& asarray = *asarrayp;
    auto v = batch_values<T>(f(arg), asarray, batch, 1, "pass dtype=complex to tt_cross");
    std::memcpy(out, v.data(), size_t(batch) * sizeof(T));
  }
};

template <class T>
cross::CrossResult<T> run_cross(const py::object& f, const std::vector<Index>& shape, const std::string& method,
                                const cross::CrossOptions& opt, const py::object& on_sweep) {
  if (!PyCallable_Check(f.ptr())) throw py::type_error("f: expected a callable");
  if (method != "tci2" && method != "maxvol1")
    throw py::value_error("method: expected 'tci2' or 'maxvol1', got '" + method + "'");
  py::object asarray = py::module_::import("numpy").attr("asarray");
  PyBatchFunction<T> pf{&f, &asarray};
  cross::BatchFunction<T> bf = pf;
  cross::SweepCallback cb;
  if (!on_sweep.is_none())
    cb = [&on_sweep](Index sweep, const cross::SweepInfo& s) {
      py::gil_scoped_acquire gil;
      on_sweep(sweep, s);
    };
  py::gil_scoped_release nogil;
  return method == "tci2" ? cross::tci2<T>(bf, shape, opt, cb) : cross::cross_maxvol<T>(bf, shape, opt, cb);
}

// CrossOptions, SweepInfo and CrossResult cross the binding as classes with one attribute per
// field (the names of the C++ structs).
void def_records(py::module_& m) {
  py::enum_<cross::PivotSearch>(m, "PivotSearch")
      .value("full", cross::PivotSearch::full)
      .value("rook", cross::PivotSearch::rook)
      .value("auto", cross::PivotSearch::automatic);
  py::class_<cross::CrossOptions>(m, "CrossOptions", "Options of tt_cross_f64 / tt_cross_c128 (see cross.hpp).")
      .def(py::init<>())
      .def_readwrite("rel_tol", &cross::CrossOptions::rel_tol)
      .def_readwrite("max_rank", &cross::CrossOptions::max_rank)
      .def_readwrite("max_sweeps", &cross::CrossOptions::max_sweeps)
      .def_readwrite("pivot_search", &cross::CrossOptions::pivot_search)
      .def_readwrite("full_block_max", &cross::CrossOptions::full_block_max)
      .def_readwrite("rook_restarts", &cross::CrossOptions::rook_restarts)
      .def_readwrite("rook_tol", &cross::CrossOptions::rook_tol)
      .def_readwrite("rook_entry_probes", &cross::CrossOptions::rook_entry_probes)
      .def_readwrite("global_pivots", &cross::CrossOptions::global_pivots)
      .def_readwrite("global_starts", &cross::CrossOptions::global_starts)
      .def_readwrite("check_samples", &cross::CrossOptions::check_samples)
      .def_readwrite("check_fraction", &cross::CrossOptions::check_fraction)
      .def_readwrite("confirm_fraction", &cross::CrossOptions::confirm_fraction)
      .def_readwrite("check_pivots", &cross::CrossOptions::check_pivots)
      .def_readwrite("check_factor", &cross::CrossOptions::check_factor)
      .def_readwrite("cache", &cross::CrossOptions::cache)
      .def_readwrite("batch_size", &cross::CrossOptions::batch_size)
      .def_readwrite("seed", &cross::CrossOptions::seed)
      .def_property(
          "initial_pivots",
          [](const cross::CrossOptions& o) { return py::array_t<int64_t>(Index(o.initial_pivots.size()), o.initial_pivots.data()); },
          [](cross::CrossOptions& o, const py::object& p) {
            if (p.is_none()) {
              o.initial_pivots.clear();
              return;
            }
            auto a = require<int64_t>(p, "initial_pivots", 2);
            o.initial_pivots.assign(a.data(), a.data() + a.size());
          },
          "row-major (p, n) int64 points (set from a 2-d array, None: none; read back flat)")
      .def_readwrite("init_samples", &cross::CrossOptions::init_samples)
      .def_readwrite("maxvol_tol", &cross::CrossOptions::maxvol_tol);
  py::class_<cross::SweepInfo>(m, "CrossSweep", "What one sweep of tt_cross did (see cross.hpp).")
      .def_readonly("pivot_error", &cross::SweepInfo::pivot_error)
      .def_readonly("bond_dims", &cross::SweepInfo::bond_dims)
      .def_readonly("evals", &cross::SweepInfo::evals)
      .def_readonly("cache_hits", &cross::SweepInfo::cache_hits)
      .def_readonly("calls", &cross::SweepInfo::calls)
      .def_readonly("global_added", &cross::SweepInfo::global_added)
      .def_readonly("checked", &cross::SweepInfo::checked)
      .def_readonly("check_error", &cross::SweepInfo::check_error)
      .def_readonly("check_points", &cross::SweepInfo::check_points)
      .def_readonly("confirm_points", &cross::SweepInfo::confirm_points)
      .def_readonly("check_added", &cross::SweepInfo::check_added)
      .def_readonly("full_blocks", &cross::SweepInfo::full_blocks)
      .def_readonly("rook_blocks", &cross::SweepInfo::rook_blocks)
      .def_readonly("seconds", &cross::SweepInfo::seconds);
}

template <class T>
void def_result(py::module_& m, const char* suffix) {
  using R = cross::CrossResult<T>;
  py::class_<R>(m, (std::string("CrossResult_") + suffix).c_str(), "Cores and record of a tt_cross run.")
      .def_property_readonly("cores", [](const R& r) { return from_cores<T>(r.cores); })
      .def_readonly("sweeps", &R::sweeps)
      .def_readonly("evals", &R::evals)
      .def_readonly("cache_hits", &R::cache_hits)
      .def_readonly("calls", &R::calls)
      .def_readonly("cache_size", &R::cache_size)
      .def_readonly("max_abs", &R::max_abs)
      .def_readonly("pivot_error", &R::pivot_error)
      .def_readonly("error_estimate", &R::error_estimate)
      .def_readonly("check_points", &R::check_points)
      .def_readonly("confirm_points", &R::confirm_points)
      .def_readonly("converged", &R::converged)
      .def_readonly("seconds", &R::seconds);
}

template <class T>
py::tuple run_prrlu(const py::handle& a, Index max_rank, double abs_tol, bool rook, uint64_t seed, double rook_tol) {
  Mat<T> A = to_mat<T>(a, "a");
  if (!A.allFinite()) throw py::value_error("a: holds NaN or Inf");
  PrrLUOptions opt;
  opt.max_rank = max_rank;
  opt.abs_tol = abs_tol;
  opt.rook_tol = rook_tol;
  PrrLU<T> lu;
  {
    py::gil_scoped_release nogil;
    std::mt19937_64 rng(seed);
    lu = rook ? prrlu_rook<T>(A, opt, rng) : prrlu_full<T>(A, opt);
  }
  return py::make_tuple(from_mat<T>(lu.L), from_mat<T>(lu.U), py::cast(lu.rows), py::cast(lu.cols),
                        py::cast(lu.pivot_abs), lu.error, from_mat<T>(lu.left_interp()),
                        from_mat<T>(lu.right_interp()));
}

template <class T>
void def_typed(py::module_& m, const char* suffix) {
  def_result<T>(m, suffix);
  m.def((std::string("tt_cross_") + suffix).c_str(), &run_cross<T>, py::arg("f"), py::arg("shape"),
        py::arg("method"), py::arg("options"), py::arg("on_sweep"));
  m.def((std::string("prrlu_") + suffix).c_str(), &run_prrlu<T>, py::arg("a"), py::arg("max_rank"),
        py::arg("abs_tol"), py::arg("rook"), py::arg("seed"), py::arg("rook_tol"));
}

}  // namespace

void register_cross(py::module_& m) {
  def_records(m);
  def_typed<double>(m, "f64");
  def_typed<cdouble>(m, "c128");
}

}  // namespace bind
}  // namespace tnfast
