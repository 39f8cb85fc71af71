// Bindings for TT-RSS and TT-RS: convert, validate, release the GIL around the C++ pass and
// take it back for each call of the user's function.
#include <cmath>
#include <cstring>
#include <sstream>

#include "bind_common.hpp"
#include "tnfast/rss.hpp"

namespace tnfast {
namespace bind {
namespace {

// Thrown from the callback after the Python error indicator has been restored.
struct CallbackError : std::exception {
  const char* what() const noexcept override { return "the user's function raised"; }
};

std::string describe_point(const double* row, Index n) {
  std::ostringstream os;
  os.precision(17);
  os << "[";
  const Index shown = std::min<Index>(n, 12);
  for (Index j = 0; j < shown; ++j) os << (j ? ", " : "") << row[j];
  if (shown < n) os << ", ... (" << n << " values)";
  os << "]";
  return os.str();
}

// The black box and the progress report: called with the GIL held; a Python exception is kept
// for the caller and the C++ pass is left by CallbackError.
template <class T>
rss::Result<T> tt_rss_impl(const py::object& f, const py::handle& samples_obj, const py::handle& labels_obj,
                           const py::handle& features_obj, const py::sequence& domains_obj,
                           const py::sequence& domain_features_obj, Index n_out, Index out_position,
                           const rss::Options& options, const py::object& progress) {
  auto samples = require<double>(samples_obj, "samples", 2);
  const Index N = samples.shape(0), n = samples.shape(1);
  auto features = require<double>(features_obj, "sample_features", 3);
  if (features.shape(0) != N || features.shape(1) != n)
    throw py::value_error("sample_features: expected shape (N, n, d)");
  const Index d = features.shape(2);
  rss::Problem p;
  p.n = n;
  p.n_out = n_out;
  p.out_position = out_position;
  p.n_samples = N;
  p.d = d;
  p.samples = samples.data();
  p.sample_features = features.data();
  carray<std::int64_t> labels;
  std::vector<Index> labels_idx;
  if (n_out > 1) {
    labels = require<std::int64_t>(labels_obj, "labels", 1);
    if (labels.shape(0) != N) throw py::value_error("labels: expected one label per sample");
    labels_idx.assign(labels.data(), labels.data() + N);
    p.labels = labels_idx.data();
  }
  if (Index(py::len(domains_obj)) != n || Index(py::len(domain_features_obj)) != n)
    throw py::value_error("domain: expected one domain per input variable");
  for (Index j = 0; j < n; ++j) {
    auto dom = require<double>(domains_obj[size_t(j)], "domain", 1);
    p.domains.emplace_back(dom.data(), dom.data() + dom.shape(0));
    p.domain_features.push_back(to_mat<double>(domain_features_obj[size_t(j)], "domain features"));
  }
  rss::Options opt = options;
  if (!progress.is_none()) {
    opt.progress = [&progress](const rss::SiteReport& r) {
      py::gil_scoped_acquire gil;
      try {
        progress(r.site, r.sites, r.bond, r.columns, r.n_evals);
      } catch (py::error_already_set& e) {
        e.restore();
        throw CallbackError();
      }
    };
  }

  py::object asarray = py::module_::import("numpy").attr("asarray");
  const py::object* asarrayp = &asarray;
  rss::BatchFn fn = [&f, asarrayp, n, n_out](const double* pts, Index rows, double* out) {
    py::gil_scoped_acquire gil;
    py::array_t<double> arr({rows, n});
    std::memcpy(arr.mutable_data(), pts, size_t(rows * n) * sizeof(double));
    py::object r;
    try {
      r = f(arr);
    } catch (py::error_already_set& e) {
      e.restore();
      throw CallbackError();
    }
    auto a = batch_values<double>(std::move(r), *asarrayp, rows, n_out, "f must be real-valued");
    const double* v = a.data();
    for (Index i = 0; i < rows * n_out; ++i)
      if (!std::isfinite(v[i]))
        throw py::value_error("f: returned a non-finite value (" + std::to_string(v[i]) + ") at the point " +
                              describe_point(pts + (i / n_out) * n, n));
    std::memcpy(out, v, size_t(rows * n_out) * sizeof(double));
  };

  rss::Result<T> res;
  try {
    Interruptible nogil;
    res = rss::tt_rss<T>(p, opt, fn);
  } catch (CallbackError&) {
    throw py::error_already_set();
  }
  return res;
}

template <class T>
py::dict tt_rs_impl(const py::handle& samples_obj, Index d, const py::sequence& left, const py::sequence& right,
                    Index rank, double cutoff) {
  auto samples = require<std::int64_t>(samples_obj, "samples", 2);
  rss::RSProblem p;
  p.n_samples = samples.shape(0);
  p.n = samples.shape(1);
  p.d = d;
  p.samples = samples.data();
  p.left = to_cores<double>(left, "left_sketch");
  p.right = to_cores<double>(right, "right_sketch");
  rss::RSResult<T> res;
  {
    Interruptible nogil;
    res = rss::tt_rs<T>(p, rank, cutoff);
  }
  py::dict out;
  out["cores"] = from_cores<T>(res.cores);
  out["bonds"] = res.bonds;
  out["discarded"] = res.discarded;
  return out;
}

template <class T>
void def_typed(py::module_& m, const char* suffix) {
  using R = rss::Result<T>;
  py::class_<R>(m, (std::string("RSSResult") + (suffix[1] == '3' ? "F32" : "F64")).c_str(),
                "Result of one TT-RSS pass (compiled core).")
      .def_property_readonly("cores", [](const R& r) { return from_cores<T>(r.cores); })
      .def_readonly("bonds", &R::bonds)
      .def_readonly("discarded", &R::discarded)
      .def_readonly("grid_sizes", &R::grid_sizes)
      .def_readonly("site_evals", &R::site_evals)
      .def_readonly("site_columns", &R::site_columns)
      .def_readonly("n_evals", &R::n_evals)
      .def_readonly("n_calls", &R::n_calls)
      .def_readonly("n_reused", &R::n_reused)
      .def_readonly("times", &R::times);
  m.def((std::string("tt_rss_") + suffix).c_str(), &tt_rss_impl<T>, py::arg("f"), py::arg("samples"),
        py::arg("labels"), py::arg("sample_features"), py::arg("domains"), py::arg("domain_features"),
        py::arg("n_out"), py::arg("out_position"), py::arg("options"), py::arg("progress") = py::none());
  m.def((std::string("tt_rs_") + suffix).c_str(), &tt_rs_impl<T>, py::arg("samples"), py::arg("d"),
        py::arg("left_sketch"), py::arg("right_sketch"), py::arg("rank"), py::arg("cutoff"));
  m.def((std::string("rss_lstsq_") + suffix).c_str(), [](const py::handle& a, const py::handle& b) {
    Mat<T> A = to_mat<T>(a, "a"), B = to_mat<T>(b, "b");
    if (A.rows() != B.rows()) throw py::value_error("lstsq: a and b must have the same number of rows");
    Mat<T> X;
    {
      Interruptible nogil;
      X = rss::lstsq<T>(A, B);
    }
    return from_mat<T>(X);
  }, py::arg("a"), py::arg("b"));
}

}  // namespace

void register_rss(py::module_& m) {
  using O = rss::Options;
  py::class_<O>(m, "RSSOptions", "Options of one TT-RSS pass (compiled core).")
      .def(py::init<>())
      .def_readwrite("rank", &O::rank)
      .def_readwrite("cutoff", &O::cutoff)
      .def_readwrite("batch_size", &O::batch_size)
      .def_readwrite("recurse_sketch", &O::recurse_sketch)
      .def_readwrite("reuse", &O::reuse)
      .def_readwrite("oversample", &O::oversample)
      .def_readwrite("tail_tol", &O::tail_tol)
      .def_readwrite("capture_tol", &O::capture_tol)
      .def_readwrite("all_outputs", &O::all_outputs)
      .def_readwrite("seed", &O::seed)
      .def_property(
          "sketch", [](const O& o) { return std::string(o.sketch == rss::Sketch::adaptive ? "adaptive" : "samples"); },
          [](O& o, const std::string& s) {
            if (s == "samples")
              o.sketch = rss::Sketch::samples;
            else if (s == "adaptive")
              o.sketch = rss::Sketch::adaptive;
            else
              throw py::value_error("sketch: expected 'samples' or 'adaptive', got '" + s + "'");
          });
  using Tm = rss::Times;
  py::class_<Tm>(m, "RSSTimes", "Seconds per phase of one TT-RSS pass.")
      .def_readonly("sketch", &Tm::sketch)
      .def_readonly("callback", &Tm::callback)
      .def_readonly("fit", &Tm::fit)
      .def_readonly("trim", &Tm::trim)
      .def_readonly("solve", &Tm::solve)
      .def_readonly("recurse", &Tm::recurse);
  def_typed<float>(m, "f32");
  def_typed<double>(m, "f64");
}

}  // namespace bind
}  // namespace tnfast
