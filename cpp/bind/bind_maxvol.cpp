#include "bind_common.hpp"
#include "tnfast/maxvol.hpp"

namespace tnfast {
namespace bind {
namespace {

py::array_t<std::int64_t> to_index_array(const std::vector<Index>& I) {
  py::array_t<std::int64_t> out(static_cast<py::ssize_t>(I.size()));
  std::copy(I.begin(), I.end(), out.mutable_data());
  return out;
}

template <class T>
void def_typed(py::module_& m, const char* suffix) {
  m.def((std::string("maxvol_") + suffix).c_str(),
        [](const py::handle& a, double tol, Index max_iters, bool return_coef) {
          auto A = require<T>(a, "A", 2);
          const Index n = A.shape(0), r = A.shape(1);
          py::object coef = py::none();
          T* cptr = nullptr;
          if (return_coef && n >= r && r >= 1) {
            py::array_t<T> c({n, r});
            cptr = c.mutable_data();
            coef = c;
          }
          std::vector<Index> I;
          Index iters = 0;
          {
            Interruptible nogil;
            I = maxvol_rowmajor<T>(A.data(), n, r, tol, max_iters, cptr, &iters);
          }
          return py::make_tuple(to_index_array(I), coef, iters);
        },
        py::arg("A"), py::kw_only(), py::arg("tol"), py::arg("max_iters"), py::arg("return_coef"));
  m.def((std::string("rect_maxvol_") + suffix).c_str(),
        [](const py::handle& a, const RectMaxvolOptions& opt, bool return_coef) {
          auto A = require<T>(a, "A", 2);
          const Index n = A.shape(0), r = A.shape(1);
          RowMat<T> C;
          std::vector<Index> I;
          {
            Interruptible nogil;
            I = rect_maxvol_rowmajor<T>(A.data(), n, r, opt, return_coef ? &C : nullptr);
          }
          py::object coef = py::none();
          if (return_coef) {
            py::array_t<T> c({C.rows(), C.cols()});
            std::copy(C.data(), C.data() + C.size(), c.mutable_data());
            coef = c;
          }
          return py::make_tuple(to_index_array(I), coef);
        },
        py::arg("A"), py::arg("options"), py::kw_only(), py::arg("return_coef"));
}

}  // namespace

void register_maxvol(py::module_& m) {
  using O = RectMaxvolOptions;
  py::class_<O>(m, "RectMaxvolOptions", "Options of rect_maxvol (see tnfast/maxvol.hpp).")
      .def(py::init([](double tol, Index min_rows, Index max_rows, double start_tol, Index start_iters) {
             O o;
             o.tol = tol;
             o.min_rows = min_rows;
             o.max_rows = max_rows;
             o.start_tol = start_tol;
             o.start_iters = start_iters;
             return o;
           }),
           py::kw_only(), py::arg("tol") = O().tol, py::arg("min_rows") = O().min_rows,
           py::arg("max_rows") = O().max_rows, py::arg("start_tol") = O().start_tol,
           py::arg("start_iters") = O().start_iters)
      .def_readwrite("tol", &O::tol)
      .def_readwrite("min_rows", &O::min_rows)
      .def_readwrite("max_rows", &O::max_rows)
      .def_readwrite("start_tol", &O::start_tol)
      .def_readwrite("start_iters", &O::start_iters);
  def_typed<float>(m, "f32");
  def_typed<double>(m, "f64");
  def_typed<cfloat>(m, "c64");
  def_typed<cdouble>(m, "c128");
}

}  // namespace bind
}  // namespace tnfast
