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

py::dict sweep_dict(Index sweep, const cross::SweepInfo& s) {
  py::dict d;
  d["sweep"] = sweep;
  d["pivot_error"] = s.pivot_error;
  d["bond_dims"] = py::tuple(py::cast(s.bond_dims));
  d["evals"] = s.evals;
  d["cache_hits"] = s.cache_hits;
  d["calls"] = s.calls;
  d["global_added"] = s.global_added;
  d["checked"] = s.checked;
  d["check_error"] = s.check_error;
  d["check_points"] = s.check_points;
  d["check_added"] = s.check_added;
  d["full_blocks"] = s.full_blocks;
  d["rook_blocks"] = s.rook_blocks;
  d["seconds"] = s.seconds;
  return d;
}

template <class T>
py::dict run_cross(const py::object& f, const std::vector<Index>& shape, const std::string& method, double rel_tol,
                   Index max_rank, Index max_sweeps, const std::string& pivot_search,
                   Index full_block_max, Index global_pivots, Index global_starts, bool cache,
                   Index batch_size, uint64_t seed, const py::object& initial_pivots, Index init_samples,
                   double maxvol_tol, Index rook_restarts, double rook_tol, bool rook_entry_probes,
                   Index check_samples, double check_fraction, Index check_pivots, double check_factor,
                   const py::object& on_sweep) {
  if (!PyCallable_Check(f.ptr())) throw py::type_error("f: expected a callable");
  cross::CrossOptions opt;
  opt.rel_tol = rel_tol;
  opt.max_rank = max_rank;
  opt.max_sweeps = max_sweeps;
  if (pivot_search == "full")
    opt.pivot_search = cross::PivotSearch::full;
  else if (pivot_search == "rook")
    opt.pivot_search = cross::PivotSearch::rook;
  else if (pivot_search == "auto")
    opt.pivot_search = cross::PivotSearch::automatic;
  else
    throw py::value_error("pivot_search: expected 'auto', 'full' or 'rook', got '" + pivot_search + "'");
  opt.full_block_max = full_block_max;
  opt.global_pivots = global_pivots;
  opt.global_starts = global_starts;
  opt.cache = cache;
  opt.batch_size = batch_size;
  opt.seed = seed;
  opt.init_samples = init_samples;
  opt.maxvol_tol = maxvol_tol;
  opt.rook_restarts = rook_restarts;
  opt.rook_tol = rook_tol;
  opt.rook_entry_probes = rook_entry_probes;
  opt.check_samples = check_samples;
  opt.check_fraction = check_fraction;
  opt.check_pivots = check_pivots;
  opt.check_factor = check_factor;
  if (!initial_pivots.is_none()) {
    auto p = require<int64_t>(initial_pivots, "initial_pivots", 2);
    if (p.shape(1) != py::ssize_t(shape.size()))
      throw py::value_error("initial_pivots: expected shape (p, " + std::to_string(shape.size()) + ")");
    opt.initial_pivots.assign(p.data(), p.data() + p.size());
  }
  py::object asarray = py::module_::import("numpy").attr("asarray");
  PyBatchFunction<T> pf{&f, &asarray};
  cross::BatchFunction<T> bf = pf;
  cross::SweepCallback cb;
  if (!on_sweep.is_none())
    cb = [&on_sweep](Index sweep, const cross::SweepInfo& s) {
      py::gil_scoped_acquire gil;
      on_sweep(sweep_dict(sweep, s));
    };
  cross::CrossResult<T> res;
  {
    py::gil_scoped_release nogil;
    if (method == "tci2")
      res = cross::tci2<T>(bf, shape, opt, cb);
    else if (method == "maxvol1")
      res = cross::cross_maxvol<T>(bf, shape, opt, cb);
    else
      throw invalid_argument("method: expected 'tci2' or 'maxvol1', got '" + method + "'");
  }
  py::dict out;
  out["cores"] = from_cores<T>(res.cores);
  py::list sweeps;
  for (size_t k = 0; k < res.sweeps.size(); ++k) sweeps.append(sweep_dict(Index(k), res.sweeps[k]));
  out["sweeps"] = sweeps;
  out["evals"] = res.evals;
  out["cache_hits"] = res.cache_hits;
  out["calls"] = res.calls;
  out["cache_size"] = res.cache_size;
  out["max_abs"] = res.max_abs;
  out["pivot_error"] = res.pivot_error;
  out["error_estimate"] = res.error_estimate;
  out["check_points"] = res.check_points;
  out["converged"] = res.converged;
  out["seconds"] = res.seconds;
  return out;
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
  m.def((std::string("tt_cross_") + suffix).c_str(), &run_cross<T>, py::arg("f"), py::arg("shape"),
        py::arg("method"), py::arg("rel_tol"), py::arg("max_rank"), py::arg("max_sweeps"), py::arg("pivot_search"), py::arg("full_block_max"),
        py::arg("global_pivots"), py::arg("global_starts"), py::arg("cache"), py::arg("batch_size"),
        py::arg("seed"), py::arg("initial_pivots"), py::arg("init_samples"), py::arg("maxvol_tol"),
        py::arg("rook_restarts"), py::arg("rook_tol"), py::arg("rook_entry_probes"), py::arg("check_samples"),
        py::arg("check_fraction"), py::arg("check_pivots"), py::arg("check_factor"), py::arg("on_sweep"));
  m.def((std::string("prrlu_") + suffix).c_str(), &run_prrlu<T>, py::arg("a"), py::arg("max_rank"),
        py::arg("abs_tol"), py::arg("rook"), py::arg("seed"), py::arg("rook_tol"));
}

}  // namespace

void register_cross(py::module_& m) {
  def_typed<double>(m, "f64");
  def_typed<cdouble>(m, "c128");
}

}  // namespace bind
}  // namespace tnfast
