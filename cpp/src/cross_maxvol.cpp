// 1-site TT-cross at a fixed rank (Oseledets & Tyrtyshnikov 2010): sweep the cores, sample
// the fibre matrix f(I_k, i_k, J_{k+1}), orthogonalize it with QR and pick the new pivot set
// by maxvol on the orthogonal factor.  After the right-to-left pass the cores are the maxvol
// interpolation coefficients B_k^T, and the first core the sampled fibre f(i_1, J_2).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "tnfast/cross.hpp"
#include "tnfast/cross_index_set.hpp"
#include "tnfast/linalg.hpp"
#include "tnfast/maxvol.hpp"

namespace tnfast {
namespace cross {

template <class T>
CrossResult<T> cross_maxvol(const BatchFunction<T>& f, const std::vector<Index>& shape, const CrossOptions& opt,
                            const SweepCallback& on_sweep) {
  check_options(opt, shape);
  if (opt.max_rank < 1) throw invalid_argument("max_rank: the maxvol cross needs a fixed rank >= 1");
  if (!(opt.maxvol_tol >= 1.0)) throw invalid_argument("maxvol_tol: expected a number >= 1");
  const auto t_start = std::chrono::steady_clock::now();
  const Index n = Index(shape.size());
  CachedFunction<T> F(f, shape, opt.cache, opt.batch_size);
  std::mt19937_64 rng(opt.seed);
  CrossResult<T> res;

  if (n == 1) {
    single_site<T>(F, shape[0], t_start, on_sweep, res);
  } else {
    // Ranks r_b = min(rank, prod d_{<b}, prod d_{>=b}) for bonds b = 1..n-1.
    const Index cap = opt.max_rank;
    std::vector<Index> rank(size_t(n + 1), 1);
    {
      std::vector<Index> left(size_t(n + 1), 1), right(size_t(n + 1), 1);
      for (Index b = 1; b <= n; ++b) left[size_t(b)] = std::min(cap, left[size_t(b - 1)] * shape[size_t(b - 1)]);
      for (Index b = n - 1; b >= 0; --b) right[size_t(b)] = std::min(cap, right[size_t(b + 1)] * shape[size_t(b)]);
      for (Index b = 1; b < n; ++b) rank[size_t(b)] = std::min(left[size_t(b)], right[size_t(b)]);
    }
    std::vector<MultiIndexSet> I, J;
    for (Index b = 0; b <= n; ++b) {
      I.emplace_back(b);
      J.emplace_back(n - b);
    }
    I[0].add(nullptr);  // the empty prefix
    J[size_t(n)].add(nullptr);  // the empty suffix
    std::vector<int64_t> key;
    // Random nested right sets: J_b = r_b distinct elements of {0..d_b-1} x J_{b+1}.
    for (Index b = n - 1; b >= 1; --b) {
      const Index rc = J[size_t(b + 1)].size(), d = shape[size_t(b)];
      std::vector<Index> combos(static_cast<size_t>(d * rc));
      std::iota(combos.begin(), combos.end(), Index(0));
      std::shuffle(combos.begin(), combos.end(), rng);
      auto& Jb = J[size_t(b)];
      for (Index a = 0; a < rank[size_t(b)]; ++a) {
        const Index j = combos[size_t(a)] / rc, c = combos[size_t(a)] % rc;
        key.assign(1, j);
        key.insert(key.end(), J[size_t(b + 1)].at(c), J[size_t(b + 1)].at(c) + (n - b - 1));
        Jb.add(key.data());
      }
    }

    // Fibre f(I_k, i, J_{k+1}) as an (|I_k| d_k) x |J_{k+1}| matrix; its points are kept.
    std::vector<int64_t> pts;
    auto fibre = [&](Index k, Mat<T>& C, std::vector<int64_t>* keep) {
      const MultiIndexSet& Il = I[size_t(k)];
      const MultiIndexSet& Jr = J[size_t(k + 1)];
      const Index ra = Il.size(), d = shape[size_t(k)], rc = Jr.size();
      C.resize(ra * d, rc);
      std::vector<int64_t> p(static_cast<size_t>(n));
      const size_t base = keep ? keep->size() : 0;
      for (Index c = 0; c < rc; ++c)
        for (Index a = 0; a < ra; ++a)
          for (Index i = 0; i < d; ++i) {
            std::copy(Il.at(a), Il.at(a) + k, p.begin());
            p[size_t(k)] = i;
            std::copy(Jr.at(c), Jr.at(c) + (n - k - 1), p.begin() + k + 1);
            F.request(p.data(), &C(a * d + i, c));
            if (keep) keep->insert(keep->end(), p.begin(), p.end());
          }
      F.flush();
      (void)base;
    };

    std::vector<Core3<T>> cores(static_cast<size_t>(n));
    std::vector<T> check_f;
    for (Index sweep = 0; sweep < opt.max_sweeps; ++sweep) {
      const auto t0 = std::chrono::steady_clock::now();
      const Index e0 = F.evals(), h0 = F.hits(), c0 = F.calls();
      pts.clear();
      check_f.clear();
      // Left to right: new I_{k+1} from maxvol on Q of the left unfolding.
      for (Index k = 0; k + 1 < n; ++k) {
        Mat<T> C, Q, R;
        fibre(k, C, &pts);
        for (Index c = 0; c < C.cols(); ++c)
          for (Index r = 0; r < C.rows(); ++r) check_f.push_back(C(r, c));
        linalg::qr<T>(C, Q, R);
        const Index want = rank[size_t(k + 1)];
        if (Q.cols() > want) Q.conservativeResize(Eigen::NoChange, want);
        std::vector<Index> rows = maxvol<T>(Q, opt.maxvol_tol, 100, nullptr);
        const Index d = shape[size_t(k)];
        MultiIndexSet next(k + 1);
        for (Index r : rows) {
          const Index a = r / d, i = r % d;
          key.assign(I[size_t(k)].at(a), I[size_t(k)].at(a) + k);
          key.push_back(i);
          next.add(key.data());
        }
        I[size_t(k + 1)] = std::move(next);
      }
      // Right to left: maxvol on Q of the transposed right unfolding; the core is B^T.
      for (Index k = n - 1; k >= 1; --k) {
        Mat<T> C;
        fibre(k, C, nullptr);
        const Index ra = I[size_t(k)].size(), d = shape[size_t(k)], rc = J[size_t(k + 1)].size();
        Mat<T> Ct(d * rc, ra);  // rows (i, c), columns a
        for (Index a = 0; a < ra; ++a)
          for (Index i = 0; i < d; ++i)
            for (Index c = 0; c < rc; ++c) Ct(i * rc + c, a) = C(a * d + i, c);
        Mat<T> Q, R, B;
        linalg::qr<T>(Ct, Q, R);
        const Index want = rank[size_t(k)];
        if (Q.cols() > want) Q.conservativeResize(Eigen::NoChange, want);
        std::vector<Index> rows = maxvol<T>(Q, opt.maxvol_tol, 100, &B);
        const Index r = Index(rows.size());
        Core3<T> core(r, d, rc);
        for (Index a = 0; a < r; ++a)
          for (Index t = 0; t < d * rc; ++t) core.data[size_t(a * d * rc + t)] = B(t, a);
        cores[size_t(k)] = std::move(core);
        MultiIndexSet next(n - k);
        for (Index row : rows) {
          const Index i = row / rc, c = row % rc;
          key.assign(1, i);
          key.insert(key.end(), J[size_t(k + 1)].at(c), J[size_t(k + 1)].at(c) + (n - k - 1));
          next.add(key.data());
        }
        J[size_t(k)] = std::move(next);
      }
      {
        Mat<T> C;
        fibre(0, C, nullptr);
        Core3<T> c0(1, shape[0], C.cols());
        for (Index i = 0; i < shape[0]; ++i)
          for (Index c = 0; c < C.cols(); ++c) c0(0, i, c) = C(i, c);
        cores[0] = std::move(c0);
      }
      // Error estimate: the new train against f on the fibres of the left-to-right pass.
      const Index p = Index(pts.size()) / n;
      std::vector<T> tv(static_cast<size_t>(p));
      tt_values<T>(cores, pts.data(), p, tv.data());
      double err = 0;
      for (Index a = 0; a < p; ++a) err = std::max(err, double(std::abs(tv[size_t(a)] - check_f[size_t(a)])));
      const double scale = F.max_abs();
      err = scale > 0 ? err / scale : 0.0;
      SweepInfo info;
      info.pivot_error = err;
      for (Index b = 1; b < n; ++b) info.bond_dims.push_back(rank[size_t(b)]);
      info.evals = F.evals() - e0;
      info.cache_hits = F.hits() - h0;
      info.calls = F.calls() - c0;
      info.seconds = seconds_since(t0);
      res.sweeps.push_back(info);
      if (on_sweep) on_sweep(sweep, info);
      res.pivot_error = err;
      if (err <= opt.rel_tol) {
        res.converged = true;
        break;
      }
    }
    res.cores = std::move(cores);
  }
  finish_result<T>(F, t_start, res);
  return res;
}

template CrossResult<double> cross_maxvol<double>(const BatchFunction<double>&, const std::vector<Index>&,
                                                  const CrossOptions&, const SweepCallback&);
template CrossResult<cdouble> cross_maxvol<cdouble>(const BatchFunction<cdouble>&, const std::vector<Index>&,
                                                    const CrossOptions&, const SweepCallback&);

}  // namespace cross
}  // namespace tnfast
