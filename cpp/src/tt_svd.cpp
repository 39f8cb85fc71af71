// TT-SVD of a dense tensor (Oseledets 2011, Algorithm 1).
#include <limits>

#include "tt_detail.hpp"

namespace tnfast {
namespace tt {

template <class T>
Cores<T> tt_svd(const T* data, const std::vector<Index>& shape, Index max_rank, double rel_tol,
                TruncationInfo* info) {
  if (shape.empty()) throw invalid_argument("array: expected at least one dimension");
  Index total = 1;
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] < 1)
      throw invalid_argument("array: every dimension must be >= 1, got " + std::to_string(shape[k]) + " at axis " +
                             std::to_string(k));
    if (total > std::numeric_limits<Index>::max() / shape[k]) throw invalid_argument("array: too many elements");
    total *= shape[k];
  }
  if (!data) throw invalid_argument("array: null data");
  if (!(rel_tol >= 0) || !std::isfinite(rel_tol))
    throw invalid_argument("rel_tol: expected a finite number >= 0, got " + std::to_string(rel_tol));
  if (max_rank < 0) throw invalid_argument("max_rank: expected an integer >= 0 (0: no cap)");
  Eigen::Map<const Vec<T>> all(data, total);
  if (!all.allFinite()) throw invalid_argument("array: holds NaN or Inf");
  // Entries far from 1 in magnitude would over- or underflow in the squares of the SVDs and of
  // the cut budget: such an array is decomposed scaled by a power of two (exact), and the scale
  // goes back into the last core.
  {
    using R = real_t<T>;
    const R* p = reinterpret_cast<const R*>(data);
    const size_t m = size_t(total) * (Eigen::NumTraits<T>::IsComplex ? 2 : 1);
    R mx = R(0);
    for (size_t i = 0; i < m; ++i) mx = std::max(mx, std::abs(p[i]));
    int e = 0;
    if (mx > 0) std::frexp(mx, &e);
    const int limit = std::is_same_v<R, float> ? 30 : 250;
    if (mx > 0 && (e > limit || e < -limit)) {
      std::vector<T> scaled(data, data + total);
      R* q = reinterpret_cast<R*>(scaled.data());
      for (size_t i = 0; i < m; ++i) q[i] = std::ldexp(q[i], -e);
      Cores<T> cores = tt_svd<T>(scaled.data(), shape, max_rank, rel_tol, info);
      detail::restore_scale(cores.back(), e, "tt_svd");
      if (info) info->norm = std::ldexp(info->norm, e);
      return cores;
    }
  }
  const double nrm = double(all.blueNorm());
  const Index n = Index(shape.size());
  const double budget = n > 1 ? rel_tol * rel_tol * nrm * nrm / double(n - 1) : 0.0;
  const linalg::TruncationRule rule = detail::sweep_rule(max_rank, budget);

  Cores<T> cores;
  cores.reserve(size_t(n));
  double cut_total = 0.0;
  Index r = 1, rest = total;
  Mat<T> buf;  // current matrix, col-major rest x (r d_k); empty: read from `data`
  Mat<T> U, V;
  Vec<real_t<T>> s;
  for (Index k = 0; k + 1 < n; ++k) {
    cancel::check();
    const Index m = r * shape[size_t(k)];
    rest /= shape[size_t(k)];
    if (buf.size() == 0) {
      linalg::svd<T>(Eigen::Map<const Mat<T>>(data, rest, m), U, s, V);
    } else {
      linalg::svd<T>(Eigen::Map<const Mat<T>>(buf.data(), rest, m), U, s, V);
    }
    double cut = 0.0;
    const Index t = linalg::truncation_rank<real_t<T>>(s, rule, &cut);
    cut_total += cut;
    Core3<T> G(r, shape[size_t(k)], t);
    detail::lt(G) = V.leftCols(t).adjoint();
    buf = U.leftCols(t) * s.head(t).template cast<T>().asDiagonal();
    cores.push_back(std::move(G));
    r = t;
  }
  Core3<T> last(r, shape[size_t(n - 1)], 1);
  if (buf.size() == 0) std::copy(data, data + total, last.data.begin());
  else std::copy(buf.data(), buf.data() + buf.size(), last.data.begin());
  cores.push_back(std::move(last));
  if (info) {
    info->norm = nrm;
    info->discarded_weight = nrm > 0 ? cut_total / (nrm * nrm) : 0.0;
    info->ranks = ranks(cores);
  }
  return cores;
}

#define TNFAST_INST(T) \
  template Cores<T> tt_svd<T>(const T*, const std::vector<Index>&, Index, double, TruncationInfo*);
TNFAST_INST(float)
TNFAST_INST(double)
TNFAST_INST(cfloat)
TNFAST_INST(cdouble)
#undef TNFAST_INST

}  // namespace tt
}  // namespace tnfast
