// Cache, tensor-train evaluation and argument checks shared by the cross drivers.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <sstream>

#include "tnfast/cross.hpp"
#include "tnfast/tt.hpp"

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
  if (opt.check_samples < 0) throw invalid_argument("check_samples: expected an integer >= 0");
  if (!(opt.check_fraction >= 0) || !std::isfinite(opt.check_fraction))
    throw invalid_argument("check_fraction: expected a finite number >= 0");
  if (!(opt.confirm_fraction >= 0) || !std::isfinite(opt.confirm_fraction))
    throw invalid_argument("confirm_fraction: expected a finite number >= 0");
  if (opt.check_pivots < 0) throw invalid_argument("check_pivots: expected an integer >= 0");
  if (opt.full_block_max < 0) throw invalid_argument("full_block_max: expected an integer >= 0");
  if (!(opt.rook_tol >= 1) || !std::isfinite(opt.rook_tol))
    throw invalid_argument("rook_tol: expected a finite number >= 1");
  if (!(opt.check_factor >= 1) || !std::isfinite(opt.check_factor))
    throw invalid_argument("check_factor: expected a finite number >= 1");
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
  Index total = 0;
  for (size_t k = 0; k < shape_.size(); ++k) {
    int b = 0;
    while ((Index(1) << b) < shape_[k]) ++b;
    bits_[k] = b;
    total += b;
  }
  words_ = std::max<Index>(1, (total + 63) / 64);
  scratch_.resize(size_t(words_));
  if (use_cache_) slots_.assign(1024, Slot{0, -1, T(0)});
}

template <class T>
void CachedFunction<T>::pack(const int64_t* point, uint64_t* out) const {
  std::fill(out, out + words_, uint64_t(0));
  Index w = 0;
  int used = 0;
  for (size_t k = 0; k < bits_.size(); ++k) {
    const int b = bits_[k];
    if (b == 0) continue;
    const uint64_t v = uint64_t(point[k]);
    out[w] |= v << used;
    if (used + b >= 64) {
      const int lo = 64 - used;
      ++w;
      if (used + b > 64) out[w] = v >> lo;
      used = used + b - 64;
    } else {
      used += b;
    }
  }
}

namespace {
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

template <class T>
uint64_t CachedFunction<T>::hash(const uint64_t* key) const {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (Index w = 0; w < words_; ++w) h = mix64(key[w] + h + 0x9E3779B97F4A7C15ull * uint64_t(w + 1));
  return h;
}

template <class T>
void CachedFunction<T>::place(std::vector<Slot>& table, const Slot& slot, uint64_t h, Index pending_base) {
  const uint64_t mask = table.size() - 1;
  uint64_t s = h & mask;
  while (table[s].entry >= 0) s = (s + 1) & mask;
  table[s] = slot;
  if (slot.entry >= pending_base) pending_slot_[size_t(slot.entry - pending_base)] = s;
}

template <class T>
void CachedFunction<T>::grow() {
  std::vector<Slot> table(slots_.size() * 2, Slot{0, -1, T(0)});
  for (const Slot& sl : slots_)
    if (sl.entry >= 0) place(table, sl, words_ == 1 ? hash(&sl.tag) : sl.tag, committed_);
  slots_.swap(table);
}

template <class T>
bool CachedFunction<T>::lookup(const int64_t* point, T& value) {
  if (!use_cache_) return false;
  pack(point, scratch_.data());
  const uint64_t h = hash(scratch_.data());
  const uint64_t tag = words_ == 1 ? scratch_[0] : h;
  const uint64_t mask = slots_.size() - 1;
  for (uint64_t s = h & mask;; s = (s + 1) & mask) {
    const Slot& sl = slots_[s];
    if (sl.entry < 0) return false;
    if (sl.tag == tag &&
        (words_ == 1 || std::equal(scratch_.begin(), scratch_.end(), &keys_[size_t(sl.entry * words_)]))) {
      if (sl.entry >= committed_) return false;
      value = sl.value;
      return true;
    }
  }
}

template <class T>
void CachedFunction<T>::request(const int64_t* point, T* dest) {
  const Index n = ndim();
  if (!use_cache_) {
    dests_.emplace_back(dest, Index(pending_points_.size()) / n);
    pending_points_.insert(pending_points_.end(), point, point + n);
    return;
  }
  pack(point, scratch_.data());
  const uint64_t h = hash(scratch_.data());
  const uint64_t tag = words_ == 1 ? scratch_[0] : h;
  const uint64_t mask = slots_.size() - 1;
  uint64_t s = h & mask;
  for (;; s = (s + 1) & mask) {
    const Slot& sl = slots_[s];
    if (sl.entry < 0) break;
    if (sl.tag == tag &&
        (words_ == 1 || std::equal(scratch_.begin(), scratch_.end(), &keys_[size_t(sl.entry * words_)]))) {
      ++hits_;
      if (sl.entry < committed_)
        *dest = sl.value;
      else
        dests_.emplace_back(dest, sl.entry - committed_);  // queued earlier in this batch
      return;
    }
  }
  // A new point: queue it.
  slots_[s] = Slot{tag, entries_, T(0)};
  if (words_ > 1) keys_.insert(keys_.end(), scratch_.begin(), scratch_.end());
  pending_slot_.push_back(s);
  pending_points_.insert(pending_points_.end(), point, point + n);
  dests_.emplace_back(dest, entries_ - committed_);
  ++entries_;
  if (size_t(entries_) * 2 > slots_.size()) grow();
}

template <class T>
void CachedFunction<T>::reset_pending() {
  pending_points_.clear();
  pending_slot_.clear();
  dests_.clear();
}

template <class T>
void CachedFunction<T>::drop_pending() {
  // Forget the queued points (f failed): rebuild the table from the committed entries.
  if (use_cache_ && entries_ > committed_) {
    std::vector<Slot> table(slots_.size(), Slot{0, -1, T(0)});
    pending_slot_.clear();
    for (const Slot& sl : slots_)
      if (sl.entry >= 0 && sl.entry < committed_)
        place(table, sl, words_ == 1 ? hash(&sl.tag) : sl.tag, committed_);
    slots_.swap(table);
    keys_.resize(size_t(committed_ * words_));
    entries_ = committed_;
  }
  reset_pending();
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
      drop_pending();
      throw;
    }
    evals_ += cnt;
    for (Index t = 0; t < cnt; ++t) {
      if (!finite(out[t])) {
        const std::string what = std::string("f returned ") + kind(out[t]) + " at index " + format_index(pts + t * n, n);
        drop_pending();
        throw invalid_argument(what);
      }
    }
  }
  if (!scale_set_) {
    double top = 0;
    for (const T& v : values) top = std::max(top, double(std::abs(v)));
    if (top > 0) {
      const int e = std::ilogb(top);
      if (e > 256 || e < -256) scale_ = std::ldexp(1.0, std::max(-1000, std::min(1000, -e)));
      scale_set_ = true;
    }
  }
  for (T& v : values) {
    if (scale_ != 1) v *= scale_;
    max_abs_ = std::max(max_abs_, double(std::abs(v)));
  }
  for (auto& d : dests_) *d.first = values[size_t(d.second)];
  if (use_cache_) {
    for (size_t i = 0; i < pending_slot_.size(); ++i) slots_[pending_slot_[i]].value = values[i];
    committed_ = entries_;
  }
  reset_pending();
}

template <class T>
void CachedFunction<T>::evaluate(const int64_t* points, Index p, T* out) {
  const Index n = ndim();
  for (Index a = 0; a < p; ++a) request(points + a * n, out + a);
  flush();
}

template <class T>
void tt_values(const std::vector<Core3<T>>& cores, const int64_t* points, Index p, T* out) {
  tt::evaluate<T>(cores, points, p, out, 1);
}

template <class T>
void single_site(CachedFunction<T>& F, Index d, std::chrono::steady_clock::time_point t_start,
                 const SweepCallback& on_sweep, CrossResult<T>& res) {
  std::vector<int64_t> pts(static_cast<size_t>(d));
  std::iota(pts.begin(), pts.end(), int64_t(0));
  Core3<T> c(1, d, 1);
  F.evaluate(pts.data(), d, c.data.data());
  res.cores.push_back(std::move(c));
  SweepInfo info;
  info.evals = F.evals();
  info.calls = F.calls();
  info.seconds = seconds_since(t_start);
  res.sweeps.push_back(info);
  if (on_sweep) on_sweep(0, info);
  res.converged = true;
}

template <class T>
void finish_result(const CachedFunction<T>& F, std::chrono::steady_clock::time_point t_start, CrossResult<T>& res) {
  const double s = F.scale();
  if (s != 1 && !res.cores.empty())
    for (T& v : res.cores[0].data) v /= s;  // a power of two: exact unless the result is subnormal
  res.evals = F.evals();
  res.cache_hits = F.hits();
  res.calls = F.calls();
  res.cache_size = F.cache_size();
  res.max_abs = F.max_abs() / s;
  res.seconds = seconds_since(t_start);
}

template class CachedFunction<double>;
template class CachedFunction<cdouble>;
template void single_site<double>(CachedFunction<double>&, Index, std::chrono::steady_clock::time_point,
                                  const SweepCallback&, CrossResult<double>&);
template void single_site<cdouble>(CachedFunction<cdouble>&, Index, std::chrono::steady_clock::time_point,
                                   const SweepCallback&, CrossResult<cdouble>&);
template void finish_result<double>(const CachedFunction<double>&, std::chrono::steady_clock::time_point,
                                    CrossResult<double>&);
template void finish_result<cdouble>(const CachedFunction<cdouble>&, std::chrono::steady_clock::time_point,
                                     CrossResult<cdouble>&);
template void tt_values<double>(const std::vector<Core3<double>>&, const int64_t*, Index, double*);
template void tt_values<cdouble>(const std::vector<Core3<cdouble>>&, const int64_t*, Index, cdouble*);

}  // namespace cross
}  // namespace tnfast
