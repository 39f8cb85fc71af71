// Minimal Python driver of xfac's TensorCI2 for bench/cross_suite.py; built outside this
// repository against xfac's headers (see bench/README.md, "Cross interpolation suite").
#include <armadillo>
#include <pybind11/pybind11.h>
#include <pybind11/numpy.h>
#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <chrono>
#include "xfac/tensor/tensor_ci_2.h"

namespace py = pybind11;
using namespace xfac;

py::dict run_tci2(py::function f, std::vector<int> dims, double reltol, int bond_dim, bool full_piv, int rook_iter,
                  int max_half_sweeps, std::vector<int> pivot1, int stable_half_sweeps) {
  std::function<double(std::vector<int>)> fn = [&f](std::vector<int> x) { return f(x).cast<double>(); };
  TensorCI2Param p;
  p.bondDim = bond_dim;
  p.reltol = reltol;
  p.fullPiv = full_piv;
  p.nRookIter = rook_iter;
  p.pivot1 = pivot1;
  auto t0 = std::chrono::steady_clock::now();
  TensorCI2<double> ci(fn, dims, p);
  int it = 0;
  bool done = false;
  // stable_half_sweeps == 0: stop at the first isDone() after one full sweep (xfac's own
  // criterion).  Otherwise also require that many consecutive half-sweeps with isDone() and
  // unchanged bond dimensions (TensorCrossInterpolation.jl's convention, ncheckhistory).
  std::vector<size_t> prev;
  int stable = 0;
  for (; it < max_half_sweeps; ++it) {
    ci.iterate(1, 2);
    std::vector<size_t> dims;
    for (auto const& M : ci.tt.M) dims.push_back(M.n_slices);
    if (it >= 1 && ci.isDone()) {
      stable = (dims == prev) ? stable + 1 : 1;
      if (stable >= std::max(stable_half_sweeps, 1)) { done = true; ++it; break; }
    } else {
      stable = 0;
    }
    prev = dims;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  py::list cores;
  for (auto const& M : ci.tt.M) {
    py::array_t<double, py::array::f_style> a({(py::ssize_t)M.n_rows, (py::ssize_t)M.n_cols, (py::ssize_t)M.n_slices});
    std::memcpy(a.mutable_data(), M.memptr(), sizeof(double) * M.n_elem);
    cores.append(a);
  }
  py::dict out;
  out["cores"] = cores;
  out["evals"] = ci.f.nEval();
  out["half_sweeps"] = it;
  out["done"] = done;
  out["pivot_error"] = ci.pivotError;
  out["seconds"] = secs;
  return out;
}

PYBIND11_MODULE(xfacbench, m) {
  m.def("tci2", &run_tci2, py::arg("f"), py::arg("dims"), py::arg("reltol"), py::arg("bond_dim"),
        py::arg("full_piv") = false, py::arg("rook_iter") = 3, py::arg("max_half_sweeps") = 40,
        py::arg("pivot1") = std::vector<int>(), py::arg("stable_half_sweeps") = 0);
}
