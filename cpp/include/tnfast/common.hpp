// Common types for the tnfast C++ core.  Eigen only; no Python here.
#pragma once

#include <Eigen/Core>
#include <complex>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tnfast {

using Index = Eigen::Index;
using cdouble = std::complex<double>;
using cfloat = std::complex<float>;

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <class T>
using MatRef = Eigen::Ref<Mat<T>>;
template <class T>
using CMatRef = Eigen::Ref<const Mat<T>>;

// Real type underlying a (possibly complex) scalar.
template <class T>
using real_t = typename Eigen::NumTraits<T>::Real;

// Bad argument: the bindings turn it into a Python ValueError.
struct invalid_argument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// A 3-way core (r_{k-1}, d_k, r_k) stored row-major (C order, as numpy holds it):
// element (a, i, b) lives at data[(a * d + i) * r_right + b].
template <class T>
struct Core3 {
  Index rl = 1, d = 1, rr = 1;
  std::vector<T> data;
  Core3() = default;
  Core3(Index rl_, Index d_, Index rr_) : rl(rl_), d(d_), rr(rr_), data(size_t(rl_ * d_ * rr_)) {}
  T& operator()(Index a, Index i, Index b) { return data[size_t((a * d + i) * rr + b)]; }
  const T& operator()(Index a, Index i, Index b) const { return data[size_t((a * d + i) * rr + b)]; }
  // (rl*d) x rr view, row-major: the "left unfolding".
  Eigen::Map<RowMat<T>> left() { return {data.data(), rl * d, rr}; }
  Eigen::Map<const RowMat<T>> left() const { return {data.data(), rl * d, rr}; }
  // rl x (d*rr) view, row-major: the "right unfolding".
  Eigen::Map<RowMat<T>> right() { return {data.data(), rl, d * rr}; }
  Eigen::Map<const RowMat<T>> right() const { return {data.data(), rl, d * rr}; }
};

}  // namespace tnfast
