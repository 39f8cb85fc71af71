// Canonical forms (QR sweeps), rounding (SVD sweep) and Schmidt spectra.
#include "tt_detail.hpp"

namespace tnfast {
namespace tt {
namespace detail {

template <class T>
void push_left(Cores<T>& c, Index k) {
  Core3<T>& G = c[size_t(k)];
  Core3<T>& P = c[size_t(k - 1)];
  Mat<T> Q, R;
  linalg::qr<T>(rt(G), Q, R);  // rt(G) = Q R;  right(G) = R^T Q^T
  const Index q = Q.cols();
  Core3<T> Gn(q, G.d, G.rr);  // right unfolding Q^T: col-major Q is exactly its memory
  std::copy(Q.data(), Q.data() + Q.size(), Gn.data.begin());
  Core3<T> Pn(P.rl, P.d, q);  // left(P) <- left(P) R^T, i.e. lt(P) <- R lt(P)
  linalg::gemm<T>('N', 'N', T(1), R, lt(P), T(0), lt(Pn));
  G = std::move(Gn);
  P = std::move(Pn);
}

template <class T>
void push_right(Cores<T>& c, Index k) {
  Core3<T>& G = c[size_t(k)];
  Core3<T>& N = c[size_t(k + 1)];
  Mat<T> L = lt(G).transpose();  // left(G), (rl d) x rr
  Mat<T> Q, R;
  linalg::qr<T>(L, Q, R);
  const Index q = Q.cols();
  Core3<T> Gn(G.rl, G.d, q);
  lt(Gn) = Q.transpose();
  Core3<T> Nn(q, N.d, N.rr);  // right(N) <- R right(N), i.e. rt(N) <- rt(N) R^T
  linalg::gemm<T>('N', 'T', T(1), rt(N), R, T(0), rt(Nn));
  G = std::move(Gn);
  N = std::move(Nn);
}

}  // namespace detail

template <class T>
void canonicalize(Cores<T>& cores, Index center) {
  check_cores(cores, "cores");
  const Index n = Index(cores.size());
  if (center < 0 || center >= n)
    throw invalid_argument("center: expected 0 <= center < " + std::to_string(n) + ", got " + std::to_string(center));
  for (Index k = 0; k < center; ++k) detail::push_right(cores, k);
  for (Index k = n - 1; k > center; --k) detail::push_left(cores, k);
}

namespace {

template <class T>
real_t<T> core_norm(const Core3<T>& G) {
  return Eigen::Map<const Vec<T>>(G.data.data(), Index(G.data.size())).blueNorm();
}

// Left-to-right SVD sweep over a right-canonical train: truncates bond k+1 with the given cap
// and absolute budget (negative: keep everything), records the spectra when asked.
// Returns the total weight cut.
template <class T>
double svd_sweep(Cores<T>& c, Index max_rank, double budget, std::vector<Vec<real_t<T>>>* spectra) {
  using detail::lt;
  using detail::rt;
  double total = 0.0;
  const Index n = Index(c.size());
  Mat<T> L, U, V, VS;
  Vec<real_t<T>> s;
  for (Index k = 0; k + 1 < n; ++k) {
    Core3<T>& G = c[size_t(k)];
    Core3<T>& N = c[size_t(k + 1)];
    // The SVD of the tall left unfolding (LAPACK's QR-first path is faster than its LQ path).
    L = lt(G).transpose();           // left(G), (rl d) x rr
    linalg::svd<T>(L, U, s, V);      // left(G) = U S V^H
    double cut = 0.0;
    const Index t = detail::keep_count(s, max_rank, budget, &cut);
    total += cut;
    if (spectra) spectra->push_back(s);
    Core3<T> Gn(G.rl, G.d, t);
    lt(Gn) = U.leftCols(t).transpose();
    // right(N) <- S_t V_t^H right(N), i.e. rt(N) <- rt(N) conj(V_t) S_t
    VS = V.leftCols(t).conjugate() * s.head(t).template cast<T>().asDiagonal();
    Core3<T> Nn(t, N.d, N.rr);
    linalg::gemm<T>('N', 'N', T(1), rt(N), VS, T(0), rt(Nn));
    G = std::move(Gn);
    N = std::move(Nn);
  }
  return total;
}

}  // namespace

template <class T>
TruncationInfo round(Cores<T>& cores, Index max_rank, double rel_tol) {
  check_cores(cores, "cores");
  if (!(rel_tol >= 0) || !std::isfinite(rel_tol))
    throw invalid_argument("rel_tol: expected a finite number >= 0, got " + std::to_string(rel_tol));
  if (max_rank < 0) throw invalid_argument("max_rank: expected an integer >= 0 (0: no cap)");
  TruncationInfo info;
  const Index n = Index(cores.size());
  canonicalize(cores, 0);
  const double nrm = double(core_norm(cores[0]));
  info.norm = nrm;
  if (n > 1) {
    const double budget = rel_tol * rel_tol * nrm * nrm / double(n - 1);
    const double cut = svd_sweep(cores, max_rank, budget, nullptr);
    info.discarded_weight = nrm > 0 ? cut / (nrm * nrm) : 0.0;
  }
  info.ranks = ranks(cores);
  return info;
}

template <class T>
std::vector<Vec<real_t<T>>> singular_values(const Cores<T>& cores) {
  check_cores(cores, "cores");
  Cores<T> c = cores;
  canonicalize(c, 0);
  std::vector<Vec<real_t<T>>> spectra;
  svd_sweep(c, 0, -1.0, &spectra);
  return spectra;
}

template <class R>
std::vector<double> entropy(const std::vector<Vec<R>>& spectra) {
  std::vector<double> out;
  out.reserve(spectra.size());
  for (const auto& s : spectra) {
    double tot = 0.0;
    for (Index i = 0; i < s.size(); ++i) tot += double(s[i]) * double(s[i]);
    double S = 0.0;
    if (tot > 0) {
      for (Index i = 0; i < s.size(); ++i) {
        const double p = double(s[i]) * double(s[i]) / tot;
        if (p > 0) S -= p * std::log(p);
      }
    }
    out.push_back(S);
  }
  return out;
}

#define TNFAST_INST(T)                                                              \
  template void detail::push_left<T>(Cores<T>&, Index);                             \
  template void detail::push_right<T>(Cores<T>&, Index);                            \
  template void canonicalize<T>(Cores<T>&, Index);                                  \
  template TruncationInfo round<T>(Cores<T>&, Index, double);                       \
  template std::vector<Vec<real_t<T>>> singular_values<T>(const Cores<T>&);
TNFAST_INST(float)
TNFAST_INST(double)
TNFAST_INST(cfloat)
TNFAST_INST(cdouble)
#undef TNFAST_INST
template std::vector<double> entropy<float>(const std::vector<Vec<float>>&);
template std::vector<double> entropy<double>(const std::vector<Vec<double>>&);

}  // namespace tt
}  // namespace tnfast
