// Bindings of the sweep-training environments (tnfast/sweep_env.hpp): convert, check, release the GIL.
#include "bind_common.hpp"
#include "tnfast/sweep_env.hpp"

namespace tnfast {
namespace bind {
namespace {

template <class T>
carray<T> finite_array(const py::handle& obj, const char* name, int ndim) {
  auto a = require<T>(obj, name, ndim);
  if (!all_finite(a.data(), size_t(a.size()))) throw py::value_error(std::string(name) + ": holds NaN or Inf");
  return a;
}

template <class T>
void def_typed(py::module_& m, const char* suffix) {
  using namespace sweep_env;
  m.def((std::string("sweep_env_advance_left_") + suffix).c_str(),
        [](const py::handle& left, const py::handle& core, int threads) {
          auto L = finite_array<T>(left, "left", 4);
          auto K = finite_array<T>(core, "core", 4);
          const LeftShape ls{L.shape(0), L.shape(1), L.shape(2), L.shape(3)};
          const CoreShape cs{K.shape(0), K.shape(1), K.shape(2), K.shape(3)};
          if (cs.j < 1 || ls.jt % cs.j != 0 || ls.a != cs.da)
            throw py::value_error("left, core: a left environment (batch, P, a, Jt) and a core (a, i, j, c) with j "
                                  "dividing Jt; got left " + std::string(py::str(left.attr("shape"))) +
                                  " and core " + std::string(py::str(core.attr("shape"))));
          py::array_t<T> out({ls.batch, ls.p * cs.i, cs.db, ls.jt / cs.j});
          T* op = out.mutable_data();
          {
            Interruptible nogil;
            advance_left<T>(L.data(), ls, K.data(), cs, op, threads);
          }
          return out;
        },
        py::arg("left"), py::arg("core"), py::arg("num_threads") = 0);
  m.def((std::string("sweep_env_extend_right_") + suffix).c_str(),
        [](const py::handle& core, const py::handle& right) {
          auto K = finite_array<T>(core, "core", 4);
          auto R = finite_array<T>(right, "right", 3);
          const CoreShape cs{K.shape(0), K.shape(1), K.shape(2), K.shape(3)};
          const RightShape rs{R.shape(0), R.shape(1), R.shape(2)};
          py::array_t<T> out({cs.da, cs.i * rs.iq, cs.j * rs.jq});
          T* op = out.mutable_data();
          {
            Interruptible nogil;
            extend_right<T>(K.data(), cs, R.data(), rs, op);
          }
          return out;
        },
        py::arg("core"), py::arg("right"));
  m.def((std::string("sweep_env_gradient_") + suffix).c_str(),
        [](const py::handle& left, const py::handle& gy, const py::object& right, const py::sequence& shape,
           int threads) {
          auto L = finite_array<T>(left, "left", 4);
          auto GY = finite_array<T>(gy, "gy", 2);
          if (py::len(shape) != 4) throw py::value_error("shape: expected the core shape (a, i, j, c)");
          const CoreShape cs{shape[0].cast<Index>(), shape[1].cast<Index>(), shape[2].cast<Index>(),
                             shape[3].cast<Index>()};
          const LeftShape ls{L.shape(0), L.shape(1), L.shape(2), L.shape(3)};
          RightShape rs{1, 1, 1};
          carray<T> R;
          const T* rp = nullptr;
          if (!right.is_none()) {
            R = finite_array<T>(right, "right", 3);
            rs = RightShape{R.shape(0), R.shape(1), R.shape(2)};
            rp = R.data();
          } else if (cs.db != 1) {
            throw py::value_error("right: None (the last position) needs a core with right bond 1, got " +
                                  std::to_string(cs.db));
          }
          if (GY.shape(0) != ls.batch || GY.shape(1) != ls.p * cs.i * rs.iq)
            throw py::value_error("gy: expected shape (" + std::to_string(ls.batch) + ", " +
                                  std::to_string(ls.p * cs.i * rs.iq) + "), got (" + std::to_string(GY.shape(0)) +
                                  ", " + std::to_string(GY.shape(1)) + ")");
          py::array_t<T> out({cs.da, cs.i, cs.j, cs.db});
          T* op = out.mutable_data();
          {
            Interruptible nogil;
            local_gradient<T>(L.data(), ls, GY.data(), rp, rs, cs, op, threads);
          }
          return out;
        },
        py::arg("left"), py::arg("gy"), py::arg("right"), py::arg("shape"), py::arg("num_threads") = 0);
}

}  // namespace

void register_sweep_env(py::module_& m) {
  def_typed<float>(m, "f32");
  def_typed<double>(m, "f64");
}

}  // namespace bind
}  // namespace tnfast
