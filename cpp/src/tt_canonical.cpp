// Canonical forms (QR sweeps), rounding (SVD sweep) and Schmidt spectra.
//
// Square unfoldings need no factorization (the identity is an orthogonal factor; the whole
// unfolding moves to the neighbour).  Large unfoldings are orthogonalized by Cholesky QR2 (all
// BLAS-3, with a shifted first pass for ill-conditioned ones; linalg_blas3.cpp), with Householder QR
// wherever it refuses (rank-deficient or extremely ill-conditioned unfoldings, unfoldings of the
// wrong shape).  Rounding truncates each bond through the eigen-decomposition of the small Gram
// matrix when that is safe, else through Cholesky QR2 and the SVD of the small triangular factor,
// else through the SVD of the unfolding.
#include "tt_detail.hpp"

namespace tnfast {
namespace tt {
namespace detail {

template <class T>
void push_left(Cores<T>& c, Index k) {
  Core3<T>& G = c[size_t(k)];
  Core3<T>& P = c[size_t(k - 1)];
  Mat<T> Q, R;
  const Index m = G.d * G.rr, n = G.rl;
  if (m == n && n > 1) {
    // Square unfolding: Q = I is an orthogonal factor, so the core becomes the identity and the
    // whole unfolding moves into core k-1 (one product, no factorization):  lt(P) <- rt(G) lt(P).
    Core3<T> Pn(P.rl, P.d, n);
    linalg::gemm<T>('N', 'N', T(1), rt(G), lt(P), T(0), lt(Pn));
    Core3<T> Gn(G.rl, G.d, G.rr);
    rt(Gn).setIdentity();
    G = std::move(Gn);
    P = std::move(Pn);
    return;
  }
  if (m >= n && m * n * n >= linalg::cholqr_threshold()) {
    // Shapes are unchanged: Q becomes core k, the square triangular R multiplies core k-1.
    Core3<T> Gn(G.rl, G.d, G.rr);
    if (linalg::cholqr2_into<T>(rt(G), rt(Gn), R)) {
      G = std::move(Gn);
      linalg::trmm<T>('L', 'U', R, lt(P));  // lt(P) <- R lt(P)
      return;
    }
  }
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
  const Index m = G.rr, n = G.rl * G.d;
  Mat<T> Lf, Q;
  if (m == n && n > 1) {
    // Square unfolding (see push_left): the core becomes the identity, rt(N) <- rt(N) lt(G).
    Core3<T> Nn(n, N.d, N.rr);
    linalg::gemm<T>('N', 'N', T(1), rt(N), lt(G), T(0), rt(Nn));
    Core3<T> Gn(G.rl, G.d, G.rr);
    lt(Gn).setIdentity();
    G = std::move(Gn);
    N = std::move(Nn);
    return;
  }
  if (n >= m && n * m * m >= linalg::cholqr_threshold()) {
    // lt(G) = L Q, i.e. left(G) = Q^T L^T: Q^T is the new left unfolding, L^T goes right.
    Core3<T> Gn(G.rl, G.d, G.rr);
    if (linalg::cholqr2_lq_into<T>(lt(G), Lf, lt(Gn))) {
      G = std::move(Gn);
      linalg::trmm<T>('R', 'L', Lf, rt(N));  // right(N) <- L^T right(N), i.e. rt(N) <- rt(N) L
      return;
    }
  }
  Mat<T> L = lt(G).transpose();  // left(G), (rl d) x rr
  Mat<T> R;
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
void canonicalize_scaled(Cores<T>& cores, Index center);

template <class T>
void canonicalize(Cores<T>& cores, Index center) {
  check_cores(cores, "cores");
  const Index n = Index(cores.size());
  if (center < 0 || center >= n)
    throw invalid_argument("center: expected 0 <= center < " + std::to_string(n) + ", got " + std::to_string(center));
  const long E = detail::normalize_scales(cores);
  canonicalize_scaled(cores, center);
  detail::restore_scale(cores[size_t(center)], E, "canonicalize");
}

template <class T>
void canonicalize_scaled(Cores<T>& cores, Index center) {
  const Index n = Index(cores.size());
  for (Index k = 0; k < center; ++k) {
    cancel::check();
    detail::push_right(cores, k);
  }
  for (Index k = n - 1; k > center; --k) {
    cancel::check();
    detail::push_left(cores, k);
  }
}

namespace {

template <class T>
real_t<T> core_norm(const Core3<T>& G) {
  return Eigen::Map<const Vec<T>>(G.data.data(), Index(G.data.size())).blueNorm();
}

// Truncation of one bond through the Gram matrix H = W W^H of W = lt(G) = left(G)^T
// (rr x rl d, rr <= rl d): left(G) = U S V^H with V = conj(Z) for H = Z diag(s^2) Z^H, and the
// kept left vectors U_t = left(G) V_t S_t^{-1}.  Only the Gram product, an rr x rr eigensolver and
// products touch the large unfolding.  Squaring loses the singular values below about
// sqrt(eps) s_1, so the route is refused (returns false, nothing modified) unless every kept value
// is at least 1e-3 s_1 (3e-2 s_1 in single precision), a tolerance-driven cut budget is far above
// the round-off of the squares (1e3 rr eps s_1^2), and, without a tolerance, the rank cap is what
// cuts.  Where it is used, the truncated train agrees with the SVD route to about
// eps s_1 / s_t relative, and the kept subspace is the same up to eps s_1^2 / (s_t^2 - s_{t+1}^2).
// The kept vectors are re-orthonormalized by one Cholesky pass so that the new core is
// orthonormal to working precision.
template <class T>
bool gram_truncate(Core3<T>& G, Core3<T>& N, Index max_rank, double budget, double* cut_out) {
  using detail::lt;
  using detail::rt;
  using R = real_t<T>;
  const double eps = double(Eigen::NumTraits<R>::epsilon());
  const double floor = std::is_same_v<R, float> ? 3e-2 : 1e-3;
  const Index n = G.rr;
  Mat<T> H, Z;
  Vec<R> w;
  linalg::gram_rows<T>(lt(G), H);
  if (!linalg::eigh<T>(H, w, Z)) return false;
  // descending squares (clamped at zero) and matching eigenvectors
  Vec<R> s(n);
  Mat<T> Zd(n, n);
  for (Index i = 0; i < n; ++i) {
    s[i] = std::sqrt(std::max(w[n - 1 - i], R(0)));
    Zd.col(i) = Z.col(n - 1 - i);
  }
  const double lmax = double(s[0]) * double(s[0]);
  if (!(lmax > 0) || !std::isfinite(lmax)) return false;
  if (budget > 0 && budget < 1e3 * double(n) * eps * lmax) return false;
  double cut = 0.0;
  const Index t = linalg::truncation_rank<R>(s, detail::sweep_rule(max_rank, budget), &cut);
  if (!(double(s[t - 1]) >= floor * double(s[0]))) return false;
  // without a tolerance only a binding rank cap may cut (a lossless rounding keeps every value)
  if (budget == 0 && (max_rank <= 0 || t != max_rank)) return false;
  // Y = S_t^{-1} Z_t^H W, i.e. U_t^T, straight into the new core
  Core3<T> Gn(G.rl, G.d, t);
  auto Y = lt(Gn);
  linalg::gemm<T>('C', 'N', T(1), Zd.leftCols(t), lt(G), T(0), Y);
  for (Index i = 0; i < t; ++i) Y.row(i) *= T(R(1) / s[i]);
  Mat<T> L;
  if (!linalg::refine_rows<T>(Y, L)) return false;
  // left(G) ~ Y^T S_t V_t^H = Y'^T L^T S_t V_t^H:  right(N) <- L^T S_t V_t^H right(N), i.e.
  // rt(N) <- rt(N) conj(V_t) S_t L = rt(N) Z_t S_t L
  Mat<T> X = Zd.leftCols(t) * s.head(t).template cast<T>().asDiagonal();
  linalg::trmm<T>('R', 'L', L, X);
  Core3<T> Nn(t, N.d, N.rr);
  linalg::gemm<T>('N', 'N', T(1), rt(N), X, T(0), rt(Nn));
  G = std::move(Gn);
  N = std::move(Nn);
  *cut_out = cut;
  return true;
}

// Left-to-right SVD sweep over a right-canonical train: truncates bond k+1 with the given cap
// and absolute budget (negative: keep everything), records the spectra when asked.
// Returns the total weight cut.  gram: allow the Gram-matrix route (rounding only).
template <class T>
double svd_sweep(Cores<T>& c, Index max_rank, double budget, std::vector<Vec<real_t<T>>>* spectra, bool gram) {
  using detail::lt;
  using detail::rt;
  double total = 0.0;
  const Index n = Index(c.size());
  Mat<T> L, U, V, VS, Lf, Q;
  Vec<real_t<T>> s;
  const linalg::TruncationRule rule = detail::sweep_rule(max_rank, budget);
  for (Index k = 0; k + 1 < n; ++k) {
    cancel::check();
    Core3<T>& G = c[size_t(k)];
    Core3<T>& N = c[size_t(k + 1)];
    const Index rows = G.rl * G.d, cols = G.rr;
    const bool large = rows >= cols && rows * cols * cols >= linalg::cholqr_threshold();
    if (large && gram && budget == 0 && max_rank > 0 && cols <= max_rank) {
      // Within the cap and without a tolerance only exactly zero singular values could be cut.  A
      // successful Cholesky QR proves the unfolding has full column rank, so none is, and the
      // orthogonalization is all this bond needs:  lt(G) = L Q,  rt(N) <- rt(N) L.
      Core3<T> Gn(G.rl, G.d, G.rr);
      if (linalg::cholqr2_lq_into<T>(lt(G), Lf, lt(Gn))) {
        G = std::move(Gn);
        linalg::trmm<T>('R', 'L', Lf, rt(N));
        continue;
      }
    }
    if (large && gram && budget >= 0) {
      double cut = 0.0;
      const bool ok = gram_truncate(G, N, max_rank, budget, &cut);
      linalg::count_gram_svd(ok);
      if (ok) {
        total += cut;
        continue;
      }
    }
    Index t;
    if (large && linalg::cholqr2_lq<T>(lt(G), Lf, Q)) {
      // lt(G) = L Q, left(G) = Q^T L^T = (Q^T U) S V^H with L^T = U S V^H (a small SVD).
      L = Lf.transpose();
      linalg::svd<T>(L, U, s, V);
      double cut = 0.0;
      t = linalg::truncation_rank<real_t<T>>(s, rule, &cut);
      total += cut;
      if (spectra) spectra->push_back(s);
      Core3<T> Gn(G.rl, G.d, t);
      linalg::gemm<T>('T', 'N', T(1), U.leftCols(t), Q, T(0), lt(Gn));
      G = std::move(Gn);
    } else {
      // The SVD of the tall left unfolding (LAPACK's QR-first path is faster than its LQ path).
      L = lt(G).transpose();           // left(G), (rl d) x rr
      linalg::svd<T>(L, U, s, V);      // left(G) = U S V^H
      double cut = 0.0;
      t = linalg::truncation_rank<real_t<T>>(s, rule, &cut);
      total += cut;
      if (spectra) spectra->push_back(s);
      Core3<T> Gn(G.rl, G.d, t);
      lt(Gn) = U.leftCols(t).transpose();
      G = std::move(Gn);
    }
    // right(N) <- S_t V_t^H right(N), i.e. rt(N) <- rt(N) conj(V_t) S_t
    VS = V.leftCols(t).conjugate() * s.head(t).template cast<T>().asDiagonal();
    Core3<T> Nn(t, N.d, N.rr);
    linalg::gemm<T>('N', 'N', T(1), rt(N), VS, T(0), rt(Nn));
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
  const long E = detail::normalize_scales(cores);
  canonicalize_scaled(cores, 0);
  const double nrm = double(core_norm(cores[0]));
  info.norm = std::ldexp(nrm, int(std::max(-100000L, std::min(100000L, E))));
  if (n > 1) {
    const double budget = rel_tol * rel_tol * nrm * nrm / double(n - 1);
    const double cut = svd_sweep(cores, max_rank, budget, nullptr, true);
    info.discarded_weight = nrm > 0 ? cut / (nrm * nrm) : 0.0;
  }
  detail::restore_scale(cores.back(), E, "round");
  info.ranks = ranks(cores);
  return info;
}

template <class T>
std::vector<Vec<real_t<T>>> singular_values(const Cores<T>& cores, long* exponent) {
  check_cores(cores, "cores");
  Cores<T> c = cores;
  const long E = detail::normalize_scales(c);
  canonicalize_scaled(c, 0);
  std::vector<Vec<real_t<T>>> spectra;
  svd_sweep(c, 0, -1.0, &spectra, false);
  if (exponent) {
    *exponent = E;
  } else {
    const int e = int(std::max(-100000L, std::min(100000L, E)));
    for (auto& s : spectra)
      for (Index i = 0; i < s.size(); ++i) {
        s[i] = std::ldexp(s[i], e);
        if (!std::isfinite(s[i]))
          throw std::overflow_error("singular_values: the singular values overflow the floating-point range");
      }
  }
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
  template std::vector<Vec<real_t<T>>> singular_values<T>(const Cores<T>&, long*);
TNFAST_INST(float)
TNFAST_INST(double)
TNFAST_INST(cfloat)
TNFAST_INST(cdouble)
#undef TNFAST_INST
template std::vector<double> entropy<float>(const std::vector<Vec<float>>&);
template std::vector<double> entropy<double>(const std::vector<Vec<double>>&);

}  // namespace tt
}  // namespace tnfast
