// Validation, inner products, norms, sums, scaling and Hadamard products of tensor trains.
#include "tt_detail.hpp"

namespace tnfast {
namespace tt {

template <class T>
void check_cores(const Cores<T>& cores, const char* name) {
  const std::string nm(name);
  if (cores.empty()) throw invalid_argument(nm + ": expected at least one core");
  for (size_t k = 0; k < cores.size(); ++k) {
    const auto& c = cores[k];
    if (c.rl < 1 || c.d < 1 || c.rr < 1)
      throw invalid_argument(nm + "[" + std::to_string(k) + "]: every dimension must be >= 1");
    if (Index(c.data.size()) != c.rl * c.d * c.rr)
      throw invalid_argument(nm + "[" + std::to_string(k) + "]: data size does not match its shape");
    if (k + 1 < cores.size() && c.rr != cores[k + 1].rl)
      throw invalid_argument(nm + "[" + std::to_string(k) + "] and " + nm + "[" + std::to_string(k + 1) +
                             "]: bond dimensions do not match (" + std::to_string(c.rr) + " vs " +
                             std::to_string(cores[k + 1].rl) + ")");
  }
  if (cores.front().rl != 1) throw invalid_argument(nm + "[0]: the first core's left bond must be 1");
  if (cores.back().rr != 1)
    throw invalid_argument(nm + "[" + std::to_string(cores.size() - 1) + "]: the last core's right bond must be 1");
}

template <class T>
std::vector<Index> dims(const Cores<T>& cores) {
  std::vector<Index> d;
  for (const auto& c : cores) d.push_back(c.d);
  return d;
}

template <class T>
std::vector<Index> ranks(const Cores<T>& cores) {
  std::vector<Index> r{cores.empty() ? Index(1) : cores.front().rl};
  for (const auto& c : cores) r.push_back(c.rr);
  return r;
}

namespace {

// Left-to-right sweep of F_k = (sum conj(A) B over sites < k)^T, shape rb_k x ra_k, rescaled
// at every site; returns F_n (1 x 1) and the accumulated log scale.
template <class T>
T gram_sweep(const Cores<T>& a, const Cores<T>& b, double* log_scale) {
  using detail::lt;
  using detail::rt;
  Mat<T> F = Mat<T>::Ones(1, 1);
  Mat<T> M;
  double ls = 0.0;
  for (size_t k = 0; k < a.size(); ++k) {
    const auto& A = a[k];
    const auto& B = b[k];
    // Each core enters divided by its largest magnitude (the scales go to the log), so that
    // no product overflows even when the cores themselves are huge or tiny.
    const double sa = double(Eigen::Map<const Vec<T>>(A.data.data(), Index(A.data.size())).cwiseAbs().maxCoeff());
    const double sb = double(Eigen::Map<const Vec<T>>(B.data.data(), Index(B.data.size())).cwiseAbs().maxCoeff());
    if (!(sa > 0) || !(sb > 0)) {
      *log_scale = 0.0;
      return T(0);
    }
    ls += std::log(sa) + std::log(sb);
    // T1t = rt(B) F : (d rb') x ra, whose memory is row-major (ra, d, rb') = col-major rb' x (ra d).
    M.resize(B.d * B.rr, A.rl);
    linalg::gemm<T>('N', 'N', T(real_t<T>(1.0 / sb)), rt(B), F, T(0), M);
    Eigen::Map<const Mat<T>> Mv(M.data(), B.rr, A.rl * A.d);
    Mat<T> Fn(B.rr, A.rr);
    linalg::gemm<T>('N', 'C', T(real_t<T>(1.0 / sa)), Mv, lt(A), T(0), Fn);
    const double mx = double(Fn.cwiseAbs().maxCoeff());
    if (mx > 0 && std::isfinite(mx)) {
      Fn /= T(real_t<T>(mx));
      ls += std::log(mx);
    }
    F = std::move(Fn);
  }
  *log_scale = ls;
  return F(0, 0);
}

}  // namespace

template <class T>
T dot(const Cores<T>& a, const Cores<T>& b) {
  detail::check_same_dims(a, b, "dot");
  double ls = 0.0;
  T v = gram_sweep(a, b, &ls);
  return v * T(real_t<T>(std::exp(ls)));
}

template <class T>
real_t<T> norm(const Cores<T>& a) {
  check_cores(a, "a");
  double ls = 0.0;
  T v = gram_sweep(a, a, &ls);
  const double re = std::max(0.0, double(std::real(v)));
  return real_t<T>(std::sqrt(re) * std::exp(0.5 * ls));
}

template <class T>
Cores<T> add(const Cores<T>& a, const Cores<T>& b) {
  detail::check_same_dims(a, b, "add");
  const size_t n = a.size();
  Cores<T> out(n);
  if (n == 1) {
    out[0] = a[0];
    for (size_t i = 0; i < out[0].data.size(); ++i) out[0].data[i] += b[0].data[i];
    return out;
  }
  for (size_t k = 0; k < n; ++k) {
    const auto& A = a[k];
    const auto& B = b[k];
    const bool first = k == 0, last = k + 1 == n;
    const Index rl = first ? 1 : A.rl + B.rl;
    const Index rr = last ? 1 : A.rr + B.rr;
    Core3<T> C(rl, A.d, rr);
    std::fill(C.data.begin(), C.data.end(), T(0));
    // A's block at (0, 0), B's block at (A.rl, A.rr), collapsing the outer bonds.
    const Index boff_l = first ? 0 : A.rl, boff_r = last ? 0 : A.rr;
    for (Index x = 0; x < A.rl; ++x)
      for (Index i = 0; i < A.d; ++i)
        for (Index y = 0; y < A.rr; ++y) C(x, i, y) = A(x, i, y);
    for (Index x = 0; x < B.rl; ++x)
      for (Index i = 0; i < B.d; ++i)
        for (Index y = 0; y < B.rr; ++y) C(boff_l + x, i, boff_r + y) = B(x, i, y);
    out[k] = std::move(C);
  }
  return out;
}

template <class T>
Cores<T> scale(const Cores<T>& a, T alpha) {
  check_cores(a, "a");
  Cores<T> out = a;
  for (auto& x : out[0].data) x *= alpha;
  return out;
}

template <class T>
Cores<T> hadamard(const Cores<T>& a, const Cores<T>& b) {
  detail::check_same_dims(a, b, "hadamard");
  Cores<T> out(a.size());
  for (size_t k = 0; k < a.size(); ++k) {
    const auto& A = a[k];
    const auto& B = b[k];
    Core3<T> C(A.rl * B.rl, A.d, A.rr * B.rr);
    for (Index x = 0; x < A.rl; ++x)
      for (Index u = 0; u < B.rl; ++u)
        for (Index i = 0; i < A.d; ++i) {
          T* dst = &C(x * B.rl + u, i, 0);
          const T* brow = &B(u, i, 0);
          for (Index y = 0; y < A.rr; ++y) {
            const T av = A(x, i, y);
            for (Index v = 0; v < B.rr; ++v) dst[y * B.rr + v] = av * brow[v];
          }
        }
    out[k] = std::move(C);
  }
  return out;
}

#define TNFAST_INST(T)                                                      \
  template void check_cores<T>(const Cores<T>&, const char*);               \
  template std::vector<Index> dims<T>(const Cores<T>&);                      \
  template std::vector<Index> ranks<T>(const Cores<T>&);                     \
  template T dot<T>(const Cores<T>&, const Cores<T>&);                       \
  template real_t<T> norm<T>(const Cores<T>&);                               \
  template Cores<T> add<T>(const Cores<T>&, const Cores<T>&);                \
  template Cores<T> scale<T>(const Cores<T>&, T);                            \
  template Cores<T> hadamard<T>(const Cores<T>&, const Cores<T>&);
TNFAST_INST(float)
TNFAST_INST(double)
TNFAST_INST(cfloat)
TNFAST_INST(cdouble)
#undef TNFAST_INST

}  // namespace tt
}  // namespace tnfast
