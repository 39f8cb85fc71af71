// Cache, tensor-train evaluation and argument checks shared by the cross drivers.
#include <cmath>
#include <cstring>
#include <sstream>

#include "tnfast/cross.hpp"

namespace tnfast {
namespace cross {

namespace {

template <class T>
bool finite(const T& v) {
  return std::isfinite(std::real(v)) && std::isfinite(std::imag(v));
}
bool finite(double v) { return std::isfinite(v); }

template <class T>
const char* kind(const T& v) {
  return (std::isnan(std::real(v)) || std::isnan(std::imag(v))) ? "NaN" : "Inf";
}
const char* kind(double v) { return std::isnan(v) ? "NaN" : "Inf"; }

std::string format_index(const int64_t* p, Index n) {
  std::ostringstream s;
  s << "(";
  for (Index k = 0; k < n; ++k) s << (k ? ", " : "") << p[k];
  if (n == 1) s << ",";
  s << ")";
  return s.str();
}

}  // namespace

void check_shape(const std::vector<Index>& shape) {
  if (shape.empty()) throw invalid_argument("shape: expected at least one dimension");
  for (size_t k = 0; k < shape.size(); ++k)
    if (shape[k] < 1)
      throw invalid_argument("shape[" + std::to_string(k) + "]: expected a size >= 1, got " +
                             std::to_string(shape[k]));
}

void check_options(const CrossOptions& opt, const std::vector<Index>& shape) {
  check_shape(shape);
  if (!(opt.rel_tol >= 0) || !std::isfinite(opt.rel_tol))
    throw invalid_argument("rel_tol: expected a finite number >= 0");
  if (opt.max_sweeps < 1) throw invalid_argument("max_sweeps: expected an integer >= 1");
  if (opt.batch_size < 1) throw invalid_argument("batch_size: expected an integer >= 1");
  if (opt.global_pivots < 0) throw invalid_argument("global_pivots: expected an integer >= 0");
  const Index n = Index(shape.size());
  if (opt.initial_pivots.size() % size_t(n) != 0)
    throw invalid_argument("initial_pivots: expected an array of shape (p, " + std::to_string(n) + ")");
  const Index p = Index(opt.initial_pivots.size()) / n;
  for (Index a = 0; a < p; ++a)
    for (Index k = 0; k < n; ++k) {
      const int64_t v = opt.initial_pivots[size_t(a * n + k)];
      if (v < 0 || v >= shape[size_t(k)])
        throw invalid_argument("initial_pivots[" + std::to_string(a) + ", " + std::to_string(k) + "] = " +
                               std::to_string(v) + " is out of range for a dimension of size " +
                               std::to_string(shape[size_t(k)]));
    }
}

template <class T>
CachedFunction<T>::CachedFunction(BatchFunction<T> f, std::vector<Index> shape, bool use_cache, Index batch_size)
    : f_(std::move(f)), shape_(std::move(shape)), use_cache_(use_cache), batch_size_(std::max<Index>(batch_size, 1)) {
  bits_.resize(shape_.size());
  for (size_t k = 0; k < shape_.size(); ++k) {
    int b = 0;
    while ((Index(1) << b) < shape_[k]) ++b;
    bits_[k] = b;
  }
}

template <class T>
void CachedFunction<T>::key(const int64_t* point, std::string& out) const {
  out.clear();
  uint64_t word = 0;
  int used = 0;
  for (size_t k = 0; k < bits_.size(); ++k) {
    const int b = bits_[k];
    if (b == 0) continue;
    const uint64_t v = uint64_t(point[k]);
    if (used + b <= 64) {
      word |= v << used;
      used += b;
    } else {
      const int lo = 64 - used;
      word |= v << used;  // the low `lo` bits of v
      out.append(reinterpret_cast<const char*>(&word), sizeof(word));
      word = v >> lo;
      used = b - lo;
    }
    if (used == 64) {
      out.append(reinterpret_cast<const char*>(&word), sizeof(word));
      word = 0;
      used = 0;
    }
  }
  if (used > 0) out.append(reinterpret_cast<const char*>(&word), size_t((used + 7) / 8));
}

template <class T>
void CachedFunction<T>::request(const int64_t* point, T* dest) {
  const Index n = ndim();
  if (!use_cache_) {
    dests_.emplace_back(dest, Index(pending_points_.size()) / n);
    pending_points_.insert(pending_points_.end(), point, point + n);
    return;
  }
  key(point, scratch_);
  auto hit = cache_.find(scratch_);
  if (hit != cache_.end()) {
    *dest = hit->second;
    ++hits_;
    return;
  }
  auto pend = pending_index_.find(scratch_);
  if (pend != pending_index_.end()) {
    dests_.emplace_back(dest, pend->second);
    ++hits_;
    return;
  }
  const Index slot = Index(pending_points_.size()) / n;
  pending_index_.emplace(scratch_, slot);
  pending_points_.insert(pending_points_.end(), point, point + n);
  dests_.emplace_back(dest, slot);
}

template <class T>
void CachedFunction<T>::flush() {
  const Index n = ndim();
  const Index total = Index(pending_points_.size()) / n;
  if (total == 0) {
    dests_.clear();
    return;
  }
  std::vector<T> values(static_cast<size_t>(total));
  for (Index start = 0; start < total; start += batch_size_) {
    const Index cnt = std::min(batch_size_, total - start);
    const int64_t* pts = pending_points_.data() + start * n;
    T* out = values.data() + start;
    ++calls_;
    try {
      f_(pts, cnt, n, out);
    } catch (...) {
      pending_points_.clear();
      pending_index_.clear();
      dests_.clear();
      throw;
    }
    evals_ += cnt;
    for (Index t = 0; t < cnt; ++t) {
      if (!finite(out[t])) {
        const std::string where = format_index(pts + t * n, n);
        pending_points_.clear();
        pending_index_.clear();
        dests_.clear();
        throw invalid_argument(std::string("f returned ") + kind(out[t]) + " at index " + where);
      }
      max_abs_ = std::max(max_abs_, double(std::abs(out[t])));
    }
    if (use_cache_) {
      for (Index t = 0; t < cnt; ++t) {
        key(pts + t * n, scratch_);
        cache_.emplace(scratch_, out[t]);
      }
    }
  }
  for (auto& d : dests_) *d.first = values[size_t(d.second)];
  pending_points_.clear();
  pending_index_.clear();
  dests_.clear();
}

template <class T>
void CachedFunction<T>::evaluate(const int64_t* points, Index p, T* out) {
  const Index n = ndim();
  for (Index a = 0; a < p; ++a) request(points + a * n, out + a);
  flush();
}

template <class T>
void tt_values(const std::vector<Core3<T>>& cores, const int64_t* points, Index p, T* out) {
  const Index n = Index(cores.size());
  Index rmax = 1;
  for (const auto& c : cores) rmax = std::max(rmax, std::max(c.rl, c.rr));
  std::vector<T> v(static_cast<size_t>(rmax)), w(static_cast<size_t>(rmax));
  for (Index a = 0; a < p; ++a) {
    const int64_t* idx = points + a * n;
    v[0] = T(1);
    Index r = 1;
    for (Index k = 0; k < n; ++k) {
      const Core3<T>& c = cores[size_t(k)];
      const Index i = Index(idx[k]);
      std::fill(w.begin(), w.begin() + c.rr, T(0));
      for (Index l = 0; l < r; ++l) {
        const T vl = v[size_t(l)];
        const T* row = &c.data[size_t((l * c.d + i) * c.rr)];
        for (Index b = 0; b < c.rr; ++b) w[size_t(b)] += vl * row[b];
      }
      r = c.rr;
      std::swap(v, w);
    }
    out[a] = v[0];
  }
}

template class CachedFunction<double>;
template class CachedFunction<cdouble>;
template void tt_values<double>(const std::vector<Core3<double>>&, const int64_t*, Index, double*);
template void tt_values<cdouble>(const std::vector<Core3<cdouble>>&, const int64_t*, Index, cdouble*);

}  // namespace cross
}  // namespace tnfast
