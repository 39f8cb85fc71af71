#include "bind_common.hpp"
#include "tnfast/mpo_apply.hpp"

namespace tnfast {
namespace bind {
namespace {

std::vector<mpo::GroupShape> to_shapes(const py::sequence& seq) {
  std::vector<mpo::GroupShape> out;
  for (size_t g = 0; g < seq.size(); ++g) {
    auto t = py::reinterpret_borrow<py::sequence>(seq[g]);
    if (t.size() != 4) throw py::value_error("shapes: every group shape must be (Da, I, J, Db)");
    out.push_back({t[0].cast<Index>(), t[1].cast<Index>(), t[2].cast<Index>(), t[3].cast<Index>()});
  }
  mpo::check_groups(out);
  return out;
}

template <class T>
std::vector<carray<T>> to_mats(const py::sequence& seq, const std::vector<mpo::GroupShape>& shapes) {
  if (seq.size() != shapes.size()) throw py::value_error("mats: expected one matrix per group shape");
  std::vector<carray<T>> mats;
  for (size_t g = 0; g < seq.size(); ++g) {
    const std::string name = "mats[" + std::to_string(g) + "]";
    auto a = require<T>(seq[g], name.c_str(), 2);
    const auto& s = shapes[g];
    if (a.shape(0) != s.i * s.db || a.shape(1) != s.da * s.j)
      throw py::value_error(name + ": expected shape (" + std::to_string(s.i * s.db) + ", " +
                            std::to_string(s.da * s.j) + ")");
    mats.push_back(std::move(a));
  }
  return mats;
}

Index prod_j(const std::vector<mpo::GroupShape>& s) {
  Index n = 1;
  for (const auto& g : s) n *= g.j;
  return n;
}
Index prod_i(const std::vector<mpo::GroupShape>& s) {
  Index n = 1;
  for (const auto& g : s) n *= g.i;
  return n;
}

template <class T>
void def_typed(py::module_& m, const char* suffix) {
  m.def((std::string("mpo_sweep_forward_") + suffix).c_str(),
        [](const py::handle& x, const py::sequence& mats, const py::sequence& shapes, int threads) {
          const auto sh = to_shapes(shapes);
          const auto ms = to_mats<T>(mats, sh);
          auto X = require<T>(x, "x", 2);
          if (X.shape(1) != prod_j(sh))
            throw py::value_error("x: expected " + std::to_string(prod_j(sh)) + " columns, got " +
                                  std::to_string(X.shape(1)));
          const Index batch = X.shape(0);
          py::array_t<T> y({batch, prod_i(sh)});
          std::vector<const T*> ptr;
          for (const auto& a : ms) ptr.push_back(a.data());
          T* yp = y.mutable_data();
          {
            Interruptible nogil;
            mpo::sweep_forward<T>(X.data(), batch, ptr, sh, yp, threads);
          }
          return y;
        },
        py::arg("x"), py::arg("mats"), py::arg("shapes"), py::kw_only(), py::arg("num_threads") = 0);
  m.def((std::string("mpo_sweep_backward_") + suffix).c_str(),
        [](const py::handle& x, const py::sequence& mats, const py::sequence& shapes, const py::handle& gy,
           bool need_dx, int threads) {
          const auto sh = to_shapes(shapes);
          const auto ms = to_mats<T>(mats, sh);
          auto X = require<T>(x, "x", 2);
          auto GY = require<T>(gy, "gy", 2);
          if (X.shape(1) != prod_j(sh))
            throw py::value_error("x: expected " + std::to_string(prod_j(sh)) + " columns");
          if (GY.shape(0) != X.shape(0) || GY.shape(1) != prod_i(sh))
            throw py::value_error("gy: expected shape (" + std::to_string(X.shape(0)) + ", " +
                                  std::to_string(prod_i(sh)) + ")");
          const Index batch = X.shape(0);
          std::vector<const T*> ptr;
          std::vector<py::array_t<T>> dm;
          std::vector<T*> dptr;
          for (size_t g = 0; g < ms.size(); ++g) {
            ptr.push_back(ms[g].data());
            dm.emplace_back(std::vector<py::ssize_t>{ms[g].shape(0), ms[g].shape(1)});
            dptr.push_back(dm.back().mutable_data());
          }
          py::object dx = py::none();
          T* dxp = nullptr;
          if (need_dx) {
            py::array_t<T> a({batch, prod_j(sh)});
            dxp = a.mutable_data();
            dx = a;
          }
          {
            Interruptible nogil;
            mpo::sweep_backward<T>(X.data(), batch, ptr, sh, GY.data(), dxp, dptr, threads);
          }
          py::list out;
          for (auto& a : dm) out.append(a);
          return py::make_tuple(dx, out);
        },
        py::arg("x"), py::arg("mats"), py::arg("shapes"), py::arg("gy"), py::kw_only(), py::arg("need_dx") = true,
        py::arg("num_threads") = 0);
}

}  // namespace

void register_mpo(py::module_& m) {
  def_typed<float>(m, "f32");
  def_typed<double>(m, "f64");
  m.def(
      "mpo_sweep_chunk",
      [](const py::sequence& shapes, Index batch, int threads, bool backward) {
        return mpo::chunk_size(to_shapes(shapes), batch, threads, backward);
      },
      py::arg("shapes"), py::kw_only(), py::arg("batch"), py::arg("num_threads") = 0, py::arg("backward") = false);
}

}  // namespace bind
}  // namespace tnfast
