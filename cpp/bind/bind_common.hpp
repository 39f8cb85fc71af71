// Shared helpers for the pybind11 bindings.  Bindings convert and validate only;
// every algorithm lives in the C++ core.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <functional>
#include <string>
#include <vector>

#include "tnfast/common.hpp"

namespace tnfast {
namespace bind {

namespace py = pybind11;

// Each binding unit registers itself with a static Registrar; module.cpp runs them all.
using RegisterFn = void (*)(py::module_&);
std::vector<std::pair<int, RegisterFn>>& registry();
struct Registrar {
  Registrar(int order, RegisterFn f) { registry().emplace_back(order, f); }
};

// A C-contiguous numpy array of exactly dtype T, or a TypeError/ValueError naming `name`.
template <class T>
using carray = py::array_t<T, py::array::c_style>;

template <class T>
carray<T> require(const py::handle& obj, const char* name, int ndim = -1) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(name) + ": expected a numpy array");
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<T>()))
    throw py::type_error(std::string(name) + ": expected dtype " + std::string(py::str(py::dtype::of<T>())) +
                         ", got " + std::string(py::str(a.dtype())));
  if (ndim >= 0 && a.ndim() != ndim)
    throw py::value_error(std::string(name) + ": expected a " + std::to_string(ndim) + "-d array, got " +
                          std::to_string(a.ndim()) + "-d");
  return carray<T>::ensure(a);  // copies only when not C-contiguous
}

// Column-major Eigen copy of a 2-d numpy array (any layout).
template <class T>
Mat<T> to_mat(const py::handle& obj, const char* name) {
  auto a = require<T>(obj, name, 2);
  Eigen::Map<const RowMat<T>> m(a.data(), a.shape(0), a.shape(1));
  return Mat<T>(m);
}

template <class T>
py::array_t<T> from_mat(const Mat<T>& m) {
  py::array_t<T> out({m.rows(), m.cols()});
  Eigen::Map<RowMat<T>>(out.mutable_data(), m.rows(), m.cols()) = m;
  return out;
}

template <class T>
py::array_t<T> from_vec(const Vec<T>& v) {
  py::array_t<T> out(v.size());
  std::copy(v.data(), v.data() + v.size(), out.mutable_data());
  return out;
}

// numpy 3-d array -> Core3 (copy) and back.
template <class T>
Core3<T> to_core(const py::handle& obj, const std::string& name) {
  auto a = require<T>(obj, name.c_str(), 3);
  Core3<T> c(a.shape(0), a.shape(1), a.shape(2));
  std::copy(a.data(), a.data() + a.size(), c.data.begin());
  return c;
}

template <class T>
py::array_t<T> from_core(const Core3<T>& c) {
  py::array_t<T> out({c.rl, c.d, c.rr});
  std::copy(c.data.begin(), c.data.end(), out.mutable_data());
  return out;
}

template <class T>
std::vector<Core3<T>> to_cores(const py::sequence& seq, const char* name) {
  std::vector<Core3<T>> cores;
  cores.reserve(py::len(seq));
  for (size_t k = 0; k < py::len(seq); ++k)
    cores.push_back(to_core<T>(seq[k], std::string(name) + "[" + std::to_string(k) + "]"));
  return cores;
}

template <class T>
py::list from_cores(const std::vector<Core3<T>>& cores) {
  py::list out;
  for (const auto& c : cores) out.append(from_core(c));
  return out;
}

}  // namespace bind
}  // namespace tnfast
