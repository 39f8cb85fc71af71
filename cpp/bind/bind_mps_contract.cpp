// Bindings of the MPS-classifier contraction (tnfast/mps_contract.hpp): conversion and checks only.
#include "bind_common.hpp"
#include "tnfast/mps_contract.hpp"

namespace tnfast {
namespace bind {
namespace {

// The cores as C-contiguous arrays of T (copied only when not already so) with their shapes.
template <class T>
struct CoreArrays {
  std::vector<carray<T>> arrays;
  std::vector<mps::CoreShape> shapes;
  std::vector<const T*> ptr;
};

template <class T>
CoreArrays<T> to_core_arrays(const py::sequence& seq) {
  CoreArrays<T> c;
  for (size_t k = 0; k < py::len(seq); ++k) {
    const std::string name = "cores[" + std::to_string(k) + "]";
    auto a = require<T>(seq[k], name.c_str(), 3);
    c.shapes.push_back({a.shape(0), a.shape(1), a.shape(2)});
    c.ptr.push_back(a.data());
    c.arrays.push_back(std::move(a));
  }
  return c;
}

template <class T>
mps::Chain chain_of(const CoreArrays<T>& c, const carray<T>& f, Index out_position) {
  return mps::make_chain(c.shapes, out_position, f.shape(0), f.shape(1), f.shape(2));
}

template <class T>
void def_typed(py::module_& m, const std::string& sfx) {
  m.def(("mps_forward_" + sfx).c_str(),
        [](const py::sequence& cores, const py::handle& features, Index out_position, int num_threads) {
          auto c = to_core_arrays<T>(cores);
          auto f = require<T>(features, "features", 3);
          const auto ch = chain_of(c, f, out_position);
          py::array_t<T> out({ch.batch, ch.classes});
          py::array_t<T> envs(ch.env_size);
          T* op = out.mutable_data();
          T* ep = envs.mutable_data();
          {
            py::gil_scoped_release nogil;
            mps::forward<T>(ch, c.ptr, f.data(), op, ep, num_threads);
          }
          return py::make_tuple(out, envs);
        },
        py::arg("cores"), py::arg("features"), py::kw_only(), py::arg("out_position"), py::arg("num_threads") = 0);
  m.def(("mps_backward_" + sfx).c_str(),
        [](const py::sequence& cores, const py::handle& features, Index out_position, const py::handle& envs,
           const py::handle& grad_out, int num_threads) {
          auto c = to_core_arrays<T>(cores);
          auto f = require<T>(features, "features", 3);
          const auto ch = chain_of(c, f, out_position);
          auto e = require<T>(envs, "envs", 1);
          if (e.shape(0) != ch.env_size)
            throw py::value_error("envs: expected the " + std::to_string(ch.env_size) +
                                  " saved values of the forward pass for these cores and features, got " +
                                  std::to_string(e.shape(0)));
          auto g = require<T>(grad_out, "grad_out", 2);
          if (g.shape(0) != ch.batch || g.shape(1) != ch.classes)
            throw py::value_error("grad_out: expected shape (" + std::to_string(ch.batch) + ", " +
                                  std::to_string(ch.classes) + "), got (" + std::to_string(g.shape(0)) + ", " +
                                  std::to_string(g.shape(1)) + ")");
          std::vector<py::array_t<T>> grads;
          std::vector<T*> gp;
          for (const auto& s : c.shapes) {
            grads.emplace_back(std::vector<py::ssize_t>{s.rl, s.d, s.rr});
            gp.push_back(grads.back().mutable_data());
          }
          {
            py::gil_scoped_release nogil;
            mps::backward<T>(ch, c.ptr, e.data(), g.data(), gp, num_threads);
          }
          py::list out;
          for (auto& a : grads) out.append(a);
          return out;
        },
        py::arg("cores"), py::arg("features"), py::kw_only(), py::arg("out_position"), py::arg("envs"), py::arg("grad_out"),
        py::arg("num_threads") = 0);
}

}  // namespace

void register_mps_contract(py::module_& m) {
  def_typed<float>(m, "f32");
  def_typed<double>(m, "f64");
}

}  // namespace bind
}  // namespace tnfast
