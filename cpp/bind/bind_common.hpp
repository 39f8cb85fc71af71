// Shared helpers for the pybind11 bindings.  Bindings convert and validate only;
// every algorithm lives in the C++ core.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <functional>
#include <type_traits>
#include <string>
#include <vector>

#include "tnfast/cancel.hpp"
#include "tnfast/common.hpp"

namespace tnfast {
namespace bind {

namespace py = pybind11;

// The binding units, one per part of the core; module.cpp calls them in this order.
void register_linalg(py::module_& m);
void register_maxvol(py::module_& m);
void register_tt(py::module_& m);
void register_mpo(py::module_& m);
void register_mps_contract(py::module_& m);
void register_cross(py::module_& m);
void register_rss(py::module_& m);

// A C-contiguous numpy array of exactly dtype T, or a TypeError/ValueError naming `name`.
template <class T>
using carray = py::array_t<T, py::array::c_style>;

// Whether numpy dtypes a and b are the same type (dtype objects are compared by value: an array
// that went through pickle carries an equal dtype that is not the same object).
inline bool same_dtype(const py::dtype& a, const py::dtype& b) {
  return py::detail::npy_api::get().PyArray_EquivTypes_(a.ptr(), b.ptr());
}

// Stop check for long work with the GIL released: a pending Ctrl-C (or any Python signal
// handler that raises) asks the core to stop; its exception stays set for the caller.
inline bool python_signal_pending() {
  py::gil_scoped_acquire gil;
  return PyErr_CheckSignals() != 0;
}

// Long work of the core runs inside an Interruptible: the GIL is released (other Python threads
// run meanwhile) and the core's loops stop within about 20 ms of a Ctrl-C, raising
// KeyboardInterrupt (module.cpp translates tnfast::cancel::cancelled).
struct Interruptible {
  cancel::Scope scope{&python_signal_pending};
  py::gil_scoped_release nogil;
};

template <class T>
bool all_finite(const T* p, size_t n) {
  using R = typename Eigen::NumTraits<T>::Real;
  const R* r = reinterpret_cast<const R*>(p);
  const size_t m = n * (Eigen::NumTraits<T>::IsComplex ? 2 : 1);
  return Eigen::Map<const Eigen::Array<R, Eigen::Dynamic, 1>>(r, Index(m)).allFinite();
}

template <class T>
carray<T> require(const py::handle& obj, const char* name, int ndim = -1) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(name) + ": expected a numpy array");
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!same_dtype(a.dtype(), py::dtype::of<T>()))
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
  if constexpr (!std::is_integral<T>::value)
    if (!all_finite(c.data.data(), c.data.size())) throw py::value_error(name + ": holds NaN or Inf");
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

// What a user's batch function returned for `rows` points, checked the same way by every
// black-box entry point: a torch tensor is converted; the values must be numbers (complex
// only when T is complex; `complex_hint` says what to do otherwise); the shape must be
// (rows,) when n_out == 1, or (rows, n_out).  Returns a C-contiguous array of T holding
// rows * n_out values.  `asarray` is numpy.asarray, fetched once by the caller.
template <class T>
carray<T> batch_values(py::object r, const py::object& asarray, Index rows, Index n_out,
                       const std::string& complex_hint) {
  if (py::hasattr(r, "detach") && py::hasattr(r, "cpu") && py::hasattr(r, "numpy"))  // a torch tensor
    r = r.attr("detach")().attr("cpu")().attr("numpy")();
  py::array a = asarray(r);
  const char kind = a.dtype().kind();
  constexpr bool complex_t = !std::is_floating_point<T>::value;
  if (kind == 'c' && !complex_t)
    throw py::type_error("f: returned complex values (dtype " + std::string(py::str(a.dtype())) + "); " + complex_hint);
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b' && kind != 'c')
    throw py::type_error("f: must return numbers; got an array of dtype " + std::string(py::str(a.dtype())));
  const bool ok = (a.ndim() == 1 && n_out == 1 && a.shape(0) == rows) ||
                  (a.ndim() == 2 && a.shape(0) == rows && a.shape(1) == n_out);
  if (!ok) {
    std::string got = "(";
    for (py::ssize_t k = 0; k < a.ndim(); ++k) got += (k ? ", " : "") + std::to_string(a.shape(k));
    got += a.ndim() == 1 ? ",)" : ")";
    const std::string R = std::to_string(rows);
    throw py::value_error("f: returned an array of shape " + got + " for a batch of " + R + " points; expected (" + R +
                          (n_out == 1 ? ",)" : ", " + std::to_string(n_out) + ")"));
  }
  auto v = carray<T>::ensure(a.attr("astype")(py::dtype::of<T>()));
  if (!v) throw py::type_error("f: returned values that cannot be converted to numbers");
  return v;
}

}  // namespace bind
}  // namespace tnfast
