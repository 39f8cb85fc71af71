// TT-RSS: one left-to-right pass of sketch / embedding fit / trim / solve / recurse.
#include "tnfast/rss.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <array>
#include <deque>
#include <limits>
#include <map>
#include <string>
#include <utility>

#include "tnfast/cancel.hpp"
#include "tnfast/linalg.hpp"
#include "tnfast/memory.hpp"

namespace tnfast {
namespace rss {

namespace {

using clock_type = std::chrono::steady_clock;
double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::uint64_t key_bits(double v) {
  if (v == 0.0) v = 0.0;  // -0.0 and 0.0 are the same value
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Numerical rank floor: singular values below this fraction of the largest are noise.
template <class T>
Index numerical_rank(const Vec<T>& s, Index rows, Index cols, double amplification) {
  if (s.size() == 0) return 0;
  const double tol =
      double(s(0)) * double(std::max(rows, cols)) * double(std::numeric_limits<T>::epsilon()) * amplification;
  Index r = 0;
  while (r < s.size() && double(s(r)) > tol) ++r;
  return std::max<Index>(r, 1);
}

// Rank of a trimmed unfolding with the cap, the threshold and the noise floor (singular values
// below max(rows, cols) * eps * amplification * s_1 are rounding noise; amplification is the
// condition number of the embedding fit that produced the matrix).
template <class T>
Index choose_rank(const Vec<T>& s, Index cap, double cutoff, Index rows, Index cols, double amplification,
                  double* rel_discarded) {
  double disc = 0;
  Index r = linalg::truncation_rank<T>(s, cap, cutoff > 0 ? cutoff : 0.0, &disc);
  r = std::min(r, numerical_rank<T>(s, rows, cols, amplification));
  double total = 0, kept = 0;
  for (Index i = 0; i < s.size(); ++i) {
    total += double(s(i)) * double(s(i));
    if (i < r) kept += double(s(i)) * double(s(i));
  }
  *rel_discarded = total > 0 ? std::sqrt(std::max(0.0, total - kept) / total) : 0.0;
  return r;
}

// Unique-prefix / unique-suffix bookkeeping over the extended sites.
struct Partition {
  std::vector<Index> id;   // per sample: class id
  std::vector<Index> rep;  // per class: first sample in it
};

}  // namespace

template <class T>
Mat<T> lstsq(const Mat<T>& A, const Mat<T>& B) {
  return linalg::lstsq<T>(A, B);
}

template <class T>
Result<T> tt_rss(const Problem& p, const Options& opt, const BatchFn& f) {
  const Index n = p.n, N = p.n_samples, C = p.n_out, d = p.d;
  const bool vec_out = C > 1;
  const Index out = vec_out ? p.out_position : -1;
  const Index m = vec_out ? n + 1 : n;
  if (n < 1) throw invalid_argument("samples: need at least one input variable");
  if (N < 1) throw invalid_argument("samples: need at least one sample");
  if (d < 1) throw invalid_argument("embedding: dimension must be >= 1");
  if (vec_out && (out < 0 || out > n)) throw invalid_argument("out_position: must be in [0, n]");
  if (Index(p.domains.size()) != n || Index(p.domain_features.size()) != n)
    throw invalid_argument("domain: expected one domain per input variable");
  for (Index j = 0; j < n; ++j) {
    const Index nx = Index(p.domains[size_t(j)].size());
    if (nx < d)
      throw invalid_argument("domain: site " + std::to_string(j) + " has " + std::to_string(nx) +
                             " values, fewer than the embedding dimension " + std::to_string(d));
    if (p.domain_features[size_t(j)].rows() != nx || p.domain_features[size_t(j)].cols() != d)
      throw invalid_argument("domain: embedded values of site " + std::to_string(j) + " have the wrong shape");
  }
  if (vec_out)
    for (Index i = 0; i < N; ++i)
      if (p.labels[i] < 0 || p.labels[i] >= C) throw invalid_argument("labels: must lie in [0, C)");
  // No batch is larger than the largest grid, so the buffers need no more rows than that.
  const Index max_grid = std::max<Index>(1, N * N * [&] {
    Index mx = vec_out ? p.n_out : 1;
    for (const auto& dom : p.domains) mx = std::max<Index>(mx, Index(dom.size()));
    return mx;
  }());
  const Index batch = std::max<Index>(1, std::min(opt.batch_size, max_grid));

  // Extended-site value of sample i at site j, and input column of extended site j.
  auto col_of = [&](Index j) -> Index { return (vec_out && j > out) ? j - 1 : j; };
  auto zval = [&](Index i, Index j) -> double {
    if (j == out) return double(p.labels[i]);
    return p.samples[i * n + col_of(j)];
  };
  auto phys = [&](Index j) -> Index { return j == out ? C : d; };

  // prefix partitions pre[k] for prefixes z[:, :k], k = 0..m; suffix suf[k] for z[:, k:], k = 0..m.
  std::vector<Partition> pre(size_t(m + 1)), suf(size_t(m + 1));
  pre[0].id.assign(size_t(N), 0);
  pre[0].rep = {0};
  for (Index k = 0; k < m; ++k) {
    std::map<std::pair<Index, std::uint64_t>, Index> seen;
    Partition& P = pre[size_t(k + 1)];
    P.id.resize(size_t(N));
    for (Index i = 0; i < N; ++i) {
      auto key = std::make_pair(pre[size_t(k)].id[size_t(i)], key_bits(zval(i, k)));
      auto it = seen.find(key);
      if (it == seen.end()) {
        it = seen.emplace(key, Index(P.rep.size())).first;
        P.rep.push_back(i);
      }
      P.id[size_t(i)] = it->second;
    }
  }
  suf[size_t(m)].id.assign(size_t(N), 0);
  suf[size_t(m)].rep = {0};
  // sufmap[k]: (class of z[:, k+1:], value at k) -> class of z[:, k:]
  std::vector<std::map<std::pair<Index, std::uint64_t>, Index>> sufmap(size_t(m + 1));
  for (Index k = m - 1; k >= 0; --k) {
    auto& seen = sufmap[size_t(k)];
    Partition& P = suf[size_t(k)];
    P.id.resize(size_t(N));
    for (Index i = 0; i < N; ++i) {
      auto key = std::make_pair(suf[size_t(k + 1)].id[size_t(i)], key_bits(zval(i, k)));
      auto it = seen.find(key);
      if (it == seen.end()) {
        it = seen.emplace(key, Index(P.rep.size())).first;
        P.rep.push_back(i);
      }
      P.id[size_t(i)] = it->second;
    }
  }

  Result<T> res;
  res.cores.resize(size_t(m));
  Mat<T> A = Mat<T>::Ones(1, 1);  // left partial TT (or sketch) on the unique prefixes
  Index Dprev = 1;
  std::vector<double> pts(size_t(batch * n)), vals(size_t(batch * C));
  // ---- the sketch grids --------------------------------------------------------------
  // The grid of site j is S_j x X_j x T_j (S_j x T_j with all C outputs at the output site).
  // Its points do not depend on the results of earlier sites, so a batch of f may hold the
  // pending points of several consecutive sites.  A point already in the previous site's grid,
  // (s_a, x, t_b) = (s_a[:j-1], s_a[j-1], (x, t_b)), is copied from there instead.
  struct Grid {
    Index nS = 0, nX = 0, nT = 0, ck = 0;
    bool is_out = false;
    const std::vector<double>* X = nullptr;
    Mat<T> Phi;
    std::vector<Index> todo;                     // grid indices q to evaluate, in order
    std::vector<std::array<Index, 3>> copies;    // (q, row, col) of the previous site's Phi
    size_t next = 0, done = 0;                   // todo entries batched / received
  };
  auto make_grid = [&](Index j) {
    Grid G;
    const Partition& S = pre[size_t(j)];
    const Partition& Tt = suf[size_t(j + 1)];
    G.nS = Index(S.rep.size());
    G.nT = Index(Tt.rep.size());
    G.is_out = (j == out);
    G.ck = G.is_out ? out : col_of(j);
    G.X = G.is_out ? nullptr : &p.domains[size_t(col_of(j))];
    G.nX = G.is_out ? C : Index(G.X->size());
    G.Phi.resize(G.nS * G.nX, G.nT);
    const Index total = G.is_out ? G.nS * G.nT : G.nS * G.nX * G.nT;
    std::vector<Index> prev_row, prev_col;
    const bool try_reuse = opt.reuse && j > 0 && !G.is_out;
    if (try_reuse) {
      const Index pnX = (j - 1 == out) ? C : Index(p.domains[size_t(col_of(j - 1))].size());
      std::map<std::uint64_t, Index> xindex;
      if (j - 1 != out) {
        const auto& Xp = p.domains[size_t(col_of(j - 1))];
        for (Index x = 0; x < Index(Xp.size()); ++x) xindex.emplace(key_bits(Xp[size_t(x)]), x);
      }
      prev_row.assign(size_t(G.nS), -1);
      for (Index a = 0; a < G.nS; ++a) {
        const Index i = S.rep[size_t(a)];
        const Index ap = pre[size_t(j - 1)].id[size_t(i)];
        Index xp = -1;
        if (j - 1 == out) {
          xp = p.labels[i];
        } else {
          auto it = xindex.find(key_bits(zval(i, j - 1)));
          if (it != xindex.end()) xp = it->second;
        }
        if (xp >= 0) prev_row[size_t(a)] = ap * pnX + xp;
      }
      prev_col.assign(size_t(G.nX * G.nT), -1);
      const auto& smap = sufmap[size_t(j)];
      for (Index x = 0; x < G.nX; ++x)
        for (Index b = 0; b < G.nT; ++b) {
          auto it = smap.find(std::make_pair(b, key_bits((*G.X)[size_t(x)])));
          if (it != smap.end()) prev_col[size_t(x * G.nT + b)] = it->second;
        }
    }
    for (Index q = 0; q < total; ++q) {
      if (try_reuse) {
        const Index a = q / (G.nX * G.nT), xb = q % (G.nX * G.nT);
        const Index pr = prev_row[size_t(a)], pc = prev_col[size_t(xb)];
        if (pr >= 0 && pc >= 0) {
          G.copies.push_back({q, pr, pc});
          continue;
        }
      }
      G.todo.push_back(q);
    }
    return G;
  };
  std::deque<Grid> grids;  // grids of sites first_grid, first_grid + 1, ...
  Index first_grid = 0;
  std::vector<std::pair<Index, Index>> batch_rows;  // (site, q) of each row of the batch
  batch_rows.reserve(size_t(batch));
  // Write the point (site j, grid index q) into row r of the batch buffer.
  auto fill_row = [&](Index j, const Grid& G, Index q, Index r) {
    Index a, x = 0, b;
    if (G.is_out) {
      a = q / G.nT;
      b = q % G.nT;
    } else {
      a = q / (G.nX * G.nT);
      x = (q / G.nT) % G.nX;
      b = q % G.nT;
    }
    double* row = pts.data() + r * n;
    const double* sa = p.samples + pre[size_t(j)].rep[size_t(a)] * n;
    const double* tb = p.samples + suf[size_t(j + 1)].rep[size_t(b)] * n;
    std::copy(sa, sa + G.ck, row);
    if (G.is_out) {
      std::copy(tb + G.ck, tb + n, row + G.ck);
    } else {
      row[G.ck] = (*G.X)[size_t(x)];
      std::copy(tb + G.ck + 1, tb + n, row + G.ck + 1);
    }
  };
  // One call of f on up to `batch` pending points, from site first_grid on.
  auto run_batch = [&]() {
    batch_rows.clear();
    Index ahead_values = 0;  // grid values held for sites after first_grid
    for (size_t gi = 0; Index(batch_rows.size()) < batch; ++gi) {
      if (gi == grids.size()) {
        const Index j = first_grid + Index(gi);
        if (j >= m || ahead_values >= batch) break;  // bound the look-ahead memory
        grids.push_back(make_grid(j));
      }
      Grid& G = grids[gi];
      if (gi > 0) ahead_values += G.Phi.size();
      while (G.next < G.todo.size() && Index(batch_rows.size()) < batch) {
        fill_row(first_grid + Index(gi), G, G.todo[G.next], Index(batch_rows.size()));
        batch_rows.emplace_back(Index(gi), G.todo[G.next]);
        ++G.next;
      }
    }
    const Index rows = Index(batch_rows.size());
    if (rows == 0) return;
    auto tc = clock_type::now();
    f(pts.data(), rows, vals.data());
    res.t_callback += seconds_since(tc);
    res.n_evals += rows;
    res.n_calls += 1;
    for (Index r = 0; r < rows; ++r) {
      const Index gi = batch_rows[size_t(r)].first, q = batch_rows[size_t(r)].second;
      const Index j = first_grid + gi;
      Grid& G = grids[size_t(gi)];
      const double* v = vals.data() + r * C;
      if (G.is_out) {
        const Index a = q / G.nT, b = q % G.nT;
        for (Index y = 0; y < C; ++y) G.Phi(a * G.nX + y, b) = T(v[y]);
      } else {
        const Index a = q / (G.nX * G.nT), x = (q / G.nT) % G.nX, b = q % G.nT;
        Index y = 0;
        if (vec_out)
          y = (out < j) ? p.labels[pre[size_t(j)].rep[size_t(a)]] : p.labels[suf[size_t(j + 1)].rep[size_t(b)]];
        G.Phi(a * G.nX + x, b) = T(v[y]);
      }
      ++G.done;
    }
  };
  Mat<T> PhiPrev;  // the previous site's complete sketch

  for (Index k = 0; k < m; ++k) {
    const Partition& S = pre[size_t(k)];
    const Partition& Tt = suf[size_t(k + 1)];
    const Index nS = Index(S.rep.size()), nT = Index(Tt.rep.size());
    const bool is_out = (k == out);
    const Index dk = phys(k);
    const std::vector<double>* X = is_out ? nullptr : &p.domains[size_t(col_of(k))];
    const Index nX = is_out ? C : Index(X->size());

    // ---- 1. sketch: Phi(a * nX + x, b) = f(s_a, x, t_b)[label] ---------------------------
    auto t0 = clock_type::now();
    if (grids.empty()) grids.push_back(make_grid(k));
    while (grids.front().done < grids.front().todo.size()) run_batch();
    Grid& grid = grids.front();
    for (const auto& c : grid.copies) {
      const Index q = c[0], a = q / (nX * nT), x = (q / nT) % nX, b = q % nT;
      grid.Phi(a * nX + x, b) = PhiPrev(c[1], c[2]);
    }
    res.n_reused += Index(grid.copies.size());
    Mat<T> Phi = std::move(grid.Phi);
    grids.pop_front();
    ++first_grid;
    res.grid_sizes.push_back(nS * nX * nT);
    res.t_sketch += seconds_since(t0);

    // ---- 2. embedding fit: E_k C = Phi per prefix -----------------------------------------
    t0 = clock_type::now();
    Mat<T> Cm;
    double cond = 1.0;
    if (is_out) {
      Cm = Phi;
    } else {
      Mat<T> E = p.domain_features[size_t(col_of(k))].template cast<T>();
      Mat<T> Epinv = lstsq<T>(E, Mat<T>::Identity(nX, nX));  // d x nX
      {
        Mat<T> U, V;
        Vec<T> se;
        linalg::svd<T>(E, U, se, V);
        const double tiny = se.size() ? double(se(0)) * double(nX) * double(std::numeric_limits<T>::epsilon()) : 0;
        if (se.size() < d || !(double(se(se.size() - 1)) > tiny))
          throw invalid_argument("embedding: the embedded domain values of site " + std::to_string(col_of(k)) +
                                 " do not span R^d (rank-deficient fit); choose other domain values");
        cond = double(se(0)) / double(se(se.size() - 1));
      }
      Cm.resize(nS * d, nT);
      for (Index a = 0; a < nS; ++a)
        Cm.middleRows(a * d, d).noalias() = Epinv * Phi.middleRows(a * nX, nX);
    }
    res.t_fit += seconds_since(t0);

    // ---- 3. trim ---------------------------------------------------------------------------
    t0 = clock_type::now();
    Mat<T> B;
    Index Dk = 1;
    if (k < m - 1) {
      Mat<T> U, V;
      Vec<T> s;
      linalg::svd<T>(Cm, U, s, V);
      // cap: D_{k-1} * d_k, the product of the remaining physical dimensions, rank
      Index cap = Dprev * dk;
      double rest = 1;
      for (Index j = k + 1; j < m; ++j) rest *= double(phys(j));
      if (rest < double(cap)) cap = Index(rest);
      if (opt.rank > 0) cap = std::min(cap, opt.rank);
      double disc = 0;
      Dk = choose_rank<T>(s, cap, opt.cutoff, Cm.rows(), Cm.cols(), cond, &disc);
      B = U.leftCols(Dk);
      res.bonds.push_back(Dk);
      res.discarded.push_back(disc);
    } else {
      B = std::move(Cm);
    }
    res.t_trim += seconds_since(t0);

    // ---- 4. solve A G = B (B reshaped nS x (dk * Dk)) -------------------------------------
    t0 = clock_type::now();
    Mat<T> Bres(nS, dk * Dk);
    for (Index a = 0; a < nS; ++a)
      for (Index q = 0; q < dk; ++q)
        for (Index j = 0; j < Dk; ++j) Bres(a, q * Dk + j) = B(a * dk + q, j);
    Mat<T> G = lstsq<T>(A, Bres);  // Dprev x (dk * Dk)
    Core3<T> core(Dprev, dk, Dk);
    core.right() = G;
    res.cores[size_t(k)] = std::move(core);
    res.t_solve += seconds_since(t0);

    // ---- 5. recurse: A_k on the unique prefixes of length k + 1 ---------------------------
    if (k < m - 1) {
      t0 = clock_type::now();
      Mat<T> AG = opt.recurse_sketch ? Bres : Mat<T>(linalg::matmul<T>(A, G));  // nS x (dk * Dk)
      const Partition& S1 = pre[size_t(k + 1)];
      const Index nS1 = Index(S1.rep.size());
      Mat<T> Anew = Mat<T>::Zero(nS1, Dk);
      for (Index a1 = 0; a1 < nS1; ++a1) {
        const Index i = S1.rep[size_t(a1)];
        const Index a = S.id[size_t(i)];
        if (is_out) {
          const Index y = p.labels[i];
          Anew.row(a1) = AG.block(a, y * Dk, 1, Dk);
        } else {
          const double* ph = p.sample_features + (i * n + col_of(k)) * d;
          for (Index q = 0; q < d; ++q) Anew.row(a1) += T(ph[q]) * AG.block(a, q * Dk, 1, Dk);
        }
      }
      A = std::move(Anew);
      Dprev = Dk;
      res.t_recurse += seconds_since(t0);
    }
    PhiPrev = std::move(Phi);
    if (opt.verbose) {
      std::printf("tt_rss: site %lld/%lld  |S|=%lld |X|=%lld |T|=%lld  bond=%lld\n", (long long)(k + 1),
                  (long long)m, (long long)nS, (long long)nX, (long long)nT, (long long)Dk);
      std::fflush(stdout);
    }
  }
  return res;
}

// ---- TT-RS ---------------------------------------------------------------------------------
template <class T>
RSResult<T> tt_rs(const RSProblem& p, Index rank, double cutoff) {
  const Index n = p.n, d = p.d, N = p.n_samples;
  if (n < 2) throw invalid_argument("samples: need at least two variables");
  if (N < 1) throw invalid_argument("samples: need at least one sample");
  if (Index(p.left.size()) != n - 1 || Index(p.right.size()) != n - 1)
    throw invalid_argument("sketch: expected n - 1 left and n - 1 right sketch cores");
  for (Index i = 0; i < N * n; ++i)
    if (p.samples[i] < 0 || p.samples[i] >= d) throw invalid_argument("samples: values must lie in [0, d)");
  for (Index k = 0; k < n - 1; ++k) {
    const auto& W = p.left[size_t(k)];
    if (W.d != d || W.rl != (k == 0 ? 1 : p.left[size_t(k - 1)].rr))
      throw invalid_argument("sketch: left sketch cores have inconsistent shapes");
    const auto& V = p.right[size_t(k)];
    if (V.d != d || V.rr != (k == n - 2 ? 1 : p.right[size_t(k + 1)].rl))
      throw invalid_argument("sketch: right sketch cores have inconsistent shapes");
  }
  // The largest buffers of site k: the N x (mL d) indicator product, the (mL d) x mR sketch
  // and its SVD factors (about three copies of it).
  for (Index k = 0; k < n; ++k) {
    const double mL = k == 0 ? 1.0 : double(p.left[size_t(k - 1)].rr);
    const double mR = k == n - 1 ? 1.0 : double(p.right[size_t(k)].rl);
    const double bytes = 8.0 * (double(N) * mL * double(d) + 4.0 * mL * double(d) * mR + double(N) * (mL + mR));
    require_memory(bytes, "tt_rs: the sketch of site " + std::to_string(k) + " (" + std::to_string(Index(mL)) +
                              " x " + std::to_string(d) + " rows, " + std::to_string(Index(mR)) + " columns)",
                   "; use fewer states d, a smaller cluster_size or sketch='random' with a small sketch_dim");
  }
  auto y = [&](Index i, Index k) { return Index(p.samples[i * n + k]); };

  // Right sketch vectors R[k] (N x m'_k) of the suffixes x_{k:n}, k = 1..n (R[n] = 1).
  std::vector<Mat<double>> R(size_t(n + 1));
  R[size_t(n)] = Mat<double>::Ones(N, 1);
  for (Index k = n - 1; k >= 1; --k) {
    cancel::check();
    const auto& V = p.right[size_t(k - 1)];
    Mat<double> Rk(N, V.rl);
    for (Index i = 0; i < N; ++i) {
      auto slice = [&](Index a, Index b) { return V(a, y(i, k), b); };
      for (Index a = 0; a < V.rl; ++a) {
        double acc = 0;
        for (Index b = 0; b < V.rr; ++b) acc += slice(a, b) * R[size_t(k + 1)](i, b);
        Rk(i, a) = acc;
      }
    }
    R[size_t(k)] = std::move(Rk);
  }

  RSResult<T> res;
  res.cores.resize(size_t(n));
  Mat<double> L = Mat<double>::Ones(N, 1);  // left sketch vectors of the prefixes x_{0:k}
  Mat<T> A = Mat<T>::Ones(1, 1);
  Index Dprev = 1;
  for (Index k = 0; k < n; ++k) {
    cancel::check();
    const Index mL = L.cols();
    const Mat<double>& Rk = R[size_t(k + 1)];
    // Phi((alpha, x), beta) = (1/N) sum_i [y_ik = x] L_i(alpha) R_i(beta)
    Mat<double> Lx = Mat<double>::Zero(N, mL * d);
    for (Index i = 0; i < N; ++i)
      for (Index a = 0; a < mL; ++a) Lx(i, a * d + y(i, k)) = L(i, a);
    Mat<T> Phi = (linalg::matmul<double>(Lx, Rk, 'T', 'N') / double(N)).template cast<T>();
    Mat<T> B;
    Index Dk = 1;
    if (k < n - 1) {
      Mat<T> U, V;
      Vec<T> s;
      linalg::svd<T>(Phi, U, s, V);
      Index cap = Dprev * d;
      double rest = std::pow(double(d), double(n - k - 1));
      if (rest < double(cap)) cap = Index(rest);
      if (rank > 0) cap = std::min(cap, rank);
      double disc = 0;
      Dk = choose_rank<T>(s, cap, cutoff, Phi.rows(), Phi.cols(), 1.0, &disc);
      B = U.leftCols(Dk);
      res.bonds.push_back(Dk);
      res.discarded.push_back(disc);
    } else {
      B = std::move(Phi);
    }
    Mat<T> Bres(mL, d * Dk);
    for (Index a = 0; a < mL; ++a)
      for (Index q = 0; q < d; ++q)
        for (Index j = 0; j < Dk; ++j) Bres(a, q * Dk + j) = B(a * d + q, j);
    Mat<T> G = lstsq<T>(A, Bres);
    Core3<T> core(Dprev, d, Dk);
    core.right() = G;
    res.cores[size_t(k)] = std::move(core);
    if (k < n - 1) {
      // A_k(alpha', :) = sum_{alpha, x} W_k(alpha, x, alpha') B((alpha, x), :)
      const auto& W = p.left[size_t(k)];
      Mat<T> Wm = Eigen::Map<const RowMat<double>>(W.data.data(), W.rl * d, W.rr).template cast<T>();
      A = linalg::matmul<T>(Wm, B, 'T', 'N');
      // L_i <- L_i W_k[:, y_ik, :]
      Mat<double> Lnew(N, W.rr);
      for (Index i = 0; i < N; ++i)
        for (Index b = 0; b < W.rr; ++b) {
          double acc = 0;
          for (Index a = 0; a < mL; ++a) acc += L(i, a) * W(a, y(i, k), b);
          Lnew(i, b) = acc;
        }
      L = std::move(Lnew);
      Dprev = Dk;
    }
  }
  return res;
}

#define TNFAST_RSS_INST(T)                                                 \
  template Mat<T> lstsq<T>(const Mat<T>&, const Mat<T>&);                  \
  template Result<T> tt_rss<T>(const Problem&, const Options&, const BatchFn&); \
  template RSResult<T> tt_rs<T>(const RSProblem&, Index, double);
TNFAST_RSS_INST(float)
TNFAST_RSS_INST(double)

}  // namespace rss
}  // namespace tnfast
