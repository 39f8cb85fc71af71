// TT-RSS: one left-to-right pass of sketch / embedding fit / trim / solve / recurse.  The trim
// and the solve are shared with TT-RS (below).
#include "tnfast/rss.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <numeric>
#include <random>
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

// ---- shared by TT-RSS and TT-RS -------------------------------------------------------------

// Numerical rank floor: singular values below max(rows, cols) * eps * amplification * s_1 are
// rounding noise (amplification: the condition number of the embedding fit that produced the
// matrix).
template <class T>
Index numerical_rank(const Vec<T>& s, Index rows, Index cols, double amplification) {
  if (s.size() == 0) return 0;
  const double tol =
      double(s(0)) * double(std::max(rows, cols)) * double(std::numeric_limits<T>::epsilon()) * amplification;
  Index r = 0;
  while (r < s.size() && double(s(r)) > tol) ++r;
  return std::max<Index>(r, 1);
}

// Bond cap of the cut after a site of dimension dk: D_{k-1} dk, the product of the remaining
// physical dimensions, and the user's rank.
Index bond_cap(Index Dprev, Index dk, double rest, Index rank) {
  Index cap = Dprev * dk;
  if (rest < double(cap)) cap = Index(rest);
  if (rank > 0) cap = std::min(cap, rank);
  return std::max<Index>(cap, 1);
}

template <class T>
struct Trimmed {
  Mat<T> B;              // leading left singular vectors
  Index rank = 1;
  double discarded = 0;  // sqrt(discarded weight / total weight)
};

// The trim: thin SVD of the sketch, rank by the one truncation rule (linalg::truncation_rank)
// with the cap lowered to the noise floor.
template <class T>
Trimmed<T> trim(const Mat<T>& C, Index cap, double cutoff, double amplification) {
  Mat<T> U, V;
  Vec<T> s;
  linalg::svd<T>(C, U, s, V);
  const Index floor = numerical_rank<T>(s, C.rows(), C.cols(), amplification);
  double disc = 0;
  Trimmed<T> t;
  t.rank = linalg::truncation_rank<T>(s, std::min(cap, floor), cutoff > 0 ? cutoff : 0.0, &disc);
  double total = 0;
  for (Index i = 0; i < s.size(); ++i) total += double(s(i)) * double(s(i));
  t.discarded = total > 0 ? std::sqrt(std::max(0.0, disc) / total) : 0.0;
  t.B = U.leftCols(t.rank);
  return t;
}

// The adaptive sketch's check where f is approximated: the space the trim keeps from all but
// the last `held` columns of C, against those held-out columns.  True when the share of their
// weight it leaves out is at most (1 + tol) times the share it leaves out of its own columns
// (or at most `floor`): more suffixes would hardly change what the trim keeps.
template <class T>
bool captures_held_out(const Mat<T>& C, Index held, Index cap, double cutoff, double amplification, double tol,
                       double floor) {
  const Index fit = C.cols() - held;
  if (held < 1 || fit < 1) return false;
  const Trimmed<T> t = trim<T>(Mat<T>(C.leftCols(fit)), cap, cutoff, amplification);
  const Mat<T> X = C.rightCols(held);
  const double total = double(X.squaredNorm());
  if (!(total > 0)) return true;
  const Mat<T> R = X - t.B * (t.B.transpose() * X);
  const double out = std::sqrt(double(R.squaredNorm()) / total);
  return out <= std::max(floor, (1.0 + tol) * t.discarded);
}

// (rows * dk) x D, row (a * dk + q), reshaped to rows x (dk * D), column (q * D + j).
template <class T>
Mat<T> fold_rows(const Mat<T>& B, Index rows, Index dk) {
  const Index D = B.cols();
  Mat<T> R(rows, dk * D);
  for (Index a = 0; a < rows; ++a)
    for (Index q = 0; q < dk; ++q)
      for (Index j = 0; j < D; ++j) R(a, q * D + j) = B(a * dk + q, j);
  return R;
}

// The core: min ||A G - Bres|| with Bres = rows x (dk * D), singular values of A at or below
// rcond * s_1 (and the rounding floor) treated as zero.
template <class T>
Core3<T> solve_core(const Mat<T>& A, const Mat<T>& Bres, Index dk, double rcond = 0.0) {
  Mat<T> G = linalg::lstsq<T>(A, Bres, rcond);
  Core3<T> core(A.cols(), dk, Bres.cols() / dk);
  core.right() = G;
  return core;
}

// ---- TT-RSS: sites and sample classes --------------------------------------------------------

// The m extended sites: the n inputs, plus the label site at `out` for a vector-valued f.
struct Layout {
  const Problem& p;
  Index n, C, out, m;
  bool vec_out;
  explicit Layout(const Problem& pr)
      : p(pr), n(pr.n), C(pr.n_out), out(pr.n_out > 1 ? pr.out_position : -1),
        m(pr.n_out > 1 ? pr.n + 1 : pr.n), vec_out(pr.n_out > 1) {}
  Index col_of(Index j) const { return (vec_out && j > out) ? j - 1 : j; }  // input column of site j
  double zval(Index i, Index j) const {                                     // value of sample i at site j
    return j == out ? double(p.labels[i]) : p.samples[i * n + col_of(j)];
  }
  Index phys(Index j) const { return j == out ? C : p.d; }
  Index domain_size(Index j) const { return j == out ? C : Index(p.domains[size_t(col_of(j))].size()); }
  double rest(Index k) const {  // product of the physical dimensions of sites k+1..m-1
    double r = 1;
    for (Index j = k + 1; j < m; ++j) r *= double(phys(j));
    return r;
  }
};

void validate(const Layout& L) {
  const Problem& p = L.p;
  if (p.n < 1) throw invalid_argument("samples: need at least one input variable");
  if (p.n_samples < 1) throw invalid_argument("samples: need at least one sample");
  if (p.d < 1) throw invalid_argument("embedding: dimension must be >= 1");
  if (L.vec_out && (L.out < 0 || L.out > p.n)) throw invalid_argument("out_position: must be in [0, n]");
  if (Index(p.domains.size()) != p.n || Index(p.domain_features.size()) != p.n)
    throw invalid_argument("domain: expected one domain per input variable");
  for (Index j = 0; j < p.n; ++j) {
    const Index nx = Index(p.domains[size_t(j)].size());
    if (nx < p.d)
      throw invalid_argument("domain: site " + std::to_string(j) + " has " + std::to_string(nx) +
                             " values, fewer than the embedding dimension " + std::to_string(p.d));
    if (p.domain_features[size_t(j)].rows() != nx || p.domain_features[size_t(j)].cols() != p.d)
      throw invalid_argument("domain: embedded values of site " + std::to_string(j) + " have the wrong shape");
  }
  if (L.vec_out)
    for (Index i = 0; i < p.n_samples; ++i)
      if (p.labels[i] < 0 || p.labels[i] >= p.n_out) throw invalid_argument("labels: must lie in [0, C)");
}

// Samples grouped by equal prefix (or suffix).
struct Partition {
  std::vector<Index> id;   // per sample: class id
  std::vector<Index> rep;  // per class: first sample in it
};

// pre[k]: classes of the prefixes z[:, :k], k = 0..m; suf[k]: of the suffixes z[:, k:];
// sufmap[k]: (class of z[:, k+1:], value at k) -> class of z[:, k:].
struct Classes {
  std::vector<Partition> pre, suf;
  std::vector<std::map<std::pair<Index, std::uint64_t>, Index>> sufmap;
};

Classes classify(const Layout& L) {
  const Index N = L.p.n_samples, m = L.m;
  Classes c;
  c.pre.resize(size_t(m + 1));
  c.suf.resize(size_t(m + 1));
  c.sufmap.resize(size_t(m + 1));
  auto refine = [&](const Partition& from, Index j, Partition& to,
                    std::map<std::pair<Index, std::uint64_t>, Index>& seen) {
    to.id.resize(size_t(N));
    for (Index i = 0; i < N; ++i) {
      auto key = std::make_pair(from.id[size_t(i)], key_bits(L.zval(i, j)));
      auto it = seen.find(key);
      if (it == seen.end()) {
        it = seen.emplace(key, Index(to.rep.size())).first;
        to.rep.push_back(i);
      }
      to.id[size_t(i)] = it->second;
    }
  };
  c.pre[0].id.assign(size_t(N), 0);
  c.pre[0].rep = {0};
  for (Index k = 0; k < m; ++k) {
    std::map<std::pair<Index, std::uint64_t>, Index> seen;
    refine(c.pre[size_t(k)], k, c.pre[size_t(k + 1)], seen);
  }
  c.suf[size_t(m)].id.assign(size_t(N), 0);
  c.suf[size_t(m)].rep = {0};
  for (Index k = m - 1; k >= 0; --k) refine(c.suf[size_t(k + 1)], k, c.suf[size_t(k)], c.sufmap[size_t(k)]);
  return c;
}

// ---- TT-RSS step 1: the sketch -------------------------------------------------------------
//
// The sketch of site j is f on the grid S_j x X_j x T (S_j x T with all C outputs at the output
// site), T a list of suffix classes of z[:, j+1:].  Points are streamed to f in batches.  With
// look-ahead (the published sketch, whose grids do not depend on earlier results) a batch may
// hold the pending points of several consecutive sites.  A point already in the previous
// site's grid, (s_a, x, t_b) = (s_a[:j-1], s_a[j-1], (x, t_b)), is copied from there instead.
template <class T>
class Sketcher {
 public:
  Sketcher(const Layout& L, const Classes& cl, const Options& opt, const BatchFn& f, Result<T>& res)
      : L_(L), cl_(cl), opt_(opt), f_(f), res_(res), cols_(size_t(L.m)) {
    const Problem& p = L.p;
    // No batch is larger than the largest full grid, so the buffers need no more rows than that.
    Index mx = L.vec_out ? p.n_out : 1;
    for (const auto& dom : p.domains) mx = std::max<Index>(mx, Index(dom.size()));
    batch_ = std::max<Index>(1, std::min(opt.batch_size, std::max<Index>(1, p.n_samples * p.n_samples * mx)));
    pts_.resize(size_t(batch_ * p.n));
    vals_.resize(size_t(batch_ * p.n_out));
    rows_.reserve(size_t(batch_));
    res_.site_evals.assign(size_t(L.m), 0);
  }

  // Fixes the suffix classes of site j's sketch (before its grid is made).
  void set_columns(Index j, std::vector<Index> cols) { cols_[size_t(j)] = std::move(cols); }
  // Chooses the suffix classes of a site when its grid is first needed (sites without fixed
  // columns); they may depend only on the earlier sites' columns.
  void set_planner(std::function<std::vector<Index>(Index)> plan) { plan_ = std::move(plan); }
  const std::vector<Index>& columns(Index j) const { return cols_[size_t(j)]; }

  // The complete sketch of site j (rows a * |X_j| + x, one column per suffix class), batched
  // with the points of later sites.
  Mat<T> evaluate(Index j) {
    first_ = j;
    if (grids_.empty()) grids_.push_back(make_grid(j, planned(j)));
    return finish_front();
  }

  // Sketch columns of site j for extra suffix classes, appended to its columns (the pending
  // grids of later sites stay as they are).
  Mat<T> extend(Index j, const std::vector<Index>& extra) {
    first_ = j;
    grids_.push_front(make_grid(j, extra));
    Mat<T> Phi = finish_front();
    auto& c = cols_[size_t(j)];
    c.insert(c.end(), extra.begin(), extra.end());
    return Phi;
  }

  // Columns of site j's sketch per suffix class: C (every output of f) before the label site
  // when Options::all_outputs is set, else 1 (the output of the suffix's label).
  Index per(Index j) const { return opt_.all_outputs && L_.vec_out && j < L_.out ? L_.C : 1; }

  // The complete sketch of site j, kept for copies into the next site's grid.
  void keep(Mat<T> phi) { prev_ = std::move(phi); }

 private:
  struct Grid {
    Index nS = 0, nX = 0, nT = 0, ck = 0;
    Index per = 1;                               // columns per suffix class (C: every output)
    bool is_out = false;
    const std::vector<double>* X = nullptr;
    std::vector<Index> cols;                     // suffix classes of z[:, j+1:]
    Mat<T> Phi;
    std::vector<Index> todo;                     // grid indices q to evaluate, in order
    std::vector<std::array<Index, 3>> copies;    // (q, row, col) of the previous site's sketch
    size_t next = 0, done = 0;                   // todo entries batched / received
  };

  Grid make_grid(Index j, const std::vector<Index>& cols) {
    const Problem& p = L_.p;
    Grid G;
    const Partition& S = cl_.pre[size_t(j)];
    G.cols = cols;
    G.nS = Index(S.rep.size());
    G.nT = Index(cols.size());
    G.is_out = (j == L_.out);
    G.ck = G.is_out ? L_.out : L_.col_of(j);
    G.X = G.is_out ? nullptr : &p.domains[size_t(L_.col_of(j))];
    G.nX = L_.domain_size(j);
    G.per = per(j);
    G.Phi.resize(G.nS * G.nX, G.nT * G.per);
    const Index total = G.is_out ? G.nS * G.nT : G.nS * G.nX * G.nT;
    std::vector<Index> prev_row, prev_col;
    const bool try_reuse = opt_.reuse && j > 0 && !G.is_out;
    if (try_reuse) {
      const Index pnX = L_.domain_size(j - 1);
      std::map<std::uint64_t, Index> xindex;
      if (j - 1 != L_.out) {
        const auto& Xp = p.domains[size_t(L_.col_of(j - 1))];
        for (Index x = 0; x < Index(Xp.size()); ++x) xindex.emplace(key_bits(Xp[size_t(x)]), x);
      }
      prev_row.assign(size_t(G.nS), -1);
      for (Index a = 0; a < G.nS; ++a) {
        const Index i = S.rep[size_t(a)];
        const Index ap = cl_.pre[size_t(j - 1)].id[size_t(i)];
        Index xp = -1;
        if (j - 1 == L_.out) {
          xp = p.labels[i];
        } else {
          auto it = xindex.find(key_bits(L_.zval(i, j - 1)));
          if (it != xindex.end()) xp = it->second;
        }
        if (xp >= 0) prev_row[size_t(a)] = ap * pnX + xp;
      }
      // position of each suffix class of z[:, j:] among the previous site's columns
      std::vector<Index> pos(cl_.suf[size_t(j)].rep.size(), -1);
      const auto& pc = cols_[size_t(j - 1)];
      for (Index b = 0; b < Index(pc.size()); ++b) pos[size_t(pc[size_t(b)])] = b;
      prev_col.assign(size_t(G.nX * G.nT), -1);
      const auto& smap = cl_.sufmap[size_t(j)];
      for (Index x = 0; x < G.nX; ++x)
        for (Index b = 0; b < G.nT; ++b) {
          auto it = smap.find(std::make_pair(cols[size_t(b)], key_bits((*G.X)[size_t(x)])));
          if (it != smap.end()) prev_col[size_t(x * G.nT + b)] = pos[size_t(it->second)];
        }
    }
    for (Index q = 0; q < total; ++q) {
      if (try_reuse) {
        const Index a = q / (G.nX * G.nT), xb = q % (G.nX * G.nT);
        const Index pr = prev_row[size_t(a)], pcl = prev_col[size_t(xb)];
        if (pr >= 0 && pcl >= 0) {
          G.copies.push_back({q, pr, pcl});
          continue;
        }
      }
      G.todo.push_back(q);
    }
    res_.site_evals[size_t(j)] += Index(G.todo.size());
    return G;
  }

  // Write the point (site j, grid index q) into row r of the batch buffer.
  void fill_row(Index j, const Grid& G, Index q, Index r) {
    const Problem& p = L_.p;
    Index a, x = 0, b;
    if (G.is_out) {
      a = q / G.nT;
      b = q % G.nT;
    } else {
      a = q / (G.nX * G.nT);
      x = (q / G.nT) % G.nX;
      b = q % G.nT;
    }
    double* row = pts_.data() + r * p.n;
    const double* sa = p.samples + cl_.pre[size_t(j)].rep[size_t(a)] * p.n;
    const double* tb = p.samples + cl_.suf[size_t(j + 1)].rep[size_t(G.cols[size_t(b)])] * p.n;
    std::copy(sa, sa + G.ck, row);
    if (G.is_out) {
      std::copy(tb + G.ck, tb + p.n, row + G.ck);
    } else {
      row[G.ck] = (*G.X)[size_t(x)];
      std::copy(tb + G.ck + 1, tb + p.n, row + G.ck + 1);
    }
  }

  const std::vector<Index>& planned(Index j) {
    if (cols_[size_t(j)].empty() && plan_) cols_[size_t(j)] = plan_(j);
    return cols_[size_t(j)];
  }

  // One call of f on up to batch_ pending points, from site first_ on.
  void run_batch() {
    const Problem& p = L_.p;
    rows_.clear();
    Index ahead_values = 0;  // grid values held for sites after first_
    for (size_t gi = 0; Index(rows_.size()) < batch_; ++gi) {
      if (gi == grids_.size()) {
        const Index j = first_ + Index(gi);
        if (j >= L_.m || ahead_values >= batch_) break;  // bound the look-ahead memory
        grids_.push_back(make_grid(j, planned(j)));
      }
      Grid& G = grids_[gi];
      if (gi > 0) ahead_values += G.Phi.size();
      while (G.next < G.todo.size() && Index(rows_.size()) < batch_) {
        fill_row(first_ + Index(gi), G, G.todo[G.next], Index(rows_.size()));
        rows_.emplace_back(Index(gi), G.todo[G.next]);
        ++G.next;
      }
    }
    const Index rows = Index(rows_.size());
    if (rows == 0) return;
    auto tc = clock_type::now();
    f_(pts_.data(), rows, vals_.data());
    res_.times.callback += seconds_since(tc);
    res_.n_evals += rows;
    res_.n_calls += 1;
    for (Index r = 0; r < rows; ++r) {
      const Index gi = rows_[size_t(r)].first, q = rows_[size_t(r)].second;
      const Index j = first_ + gi;
      Grid& G = grids_[size_t(gi)];
      const double* v = vals_.data() + r * p.n_out;
      if (G.is_out) {
        const Index a = q / G.nT, b = q % G.nT;
        for (Index y = 0; y < p.n_out; ++y) G.Phi(a * G.nX + y, b) = T(v[y]);
      } else if (G.per > 1) {
        const Index a = q / (G.nX * G.nT), x = (q / G.nT) % G.nX, b = q % G.nT;
        for (Index y = 0; y < G.per; ++y) G.Phi(a * G.nX + x, b * G.per + y) = T(v[y]);
      } else {
        const Index a = q / (G.nX * G.nT), x = (q / G.nT) % G.nX, b = q % G.nT;
        Index y = 0;
        if (L_.vec_out)
          y = (L_.out < j) ? p.labels[cl_.pre[size_t(j)].rep[size_t(a)]]
                           : p.labels[cl_.suf[size_t(j + 1)].rep[size_t(G.cols[size_t(b)])]];
        G.Phi(a * G.nX + x, b) = T(v[y]);
      }
      ++G.done;
    }
  }

  Mat<T> finish_front() {
    while (grids_.front().done < grids_.front().todo.size()) run_batch();
    Grid& G = grids_.front();
    for (const auto& c : G.copies) {
      const Index q = c[0], a = q / (G.nX * G.nT), x = (q / G.nT) % G.nX, b = q % G.nT;
      for (Index y = 0; y < G.per; ++y) G.Phi(a * G.nX + x, b * G.per + y) = prev_(c[1], c[2] * G.per + y);
    }
    res_.n_reused += Index(G.copies.size());
    Mat<T> Phi = std::move(G.Phi);
    grids_.pop_front();
    return Phi;
  }

  const Layout& L_;
  const Classes& cl_;
  const Options& opt_;
  const BatchFn& f_;
  Result<T>& res_;
  std::vector<std::vector<Index>> cols_;  // per site: its suffix classes, once fixed
  std::deque<Grid> grids_;                // grids of sites first_, first_ + 1, ...
  Index first_ = 0, batch_ = 1;
  std::function<std::vector<Index>(Index)> plan_;
  std::vector<double> pts_, vals_;
  std::vector<std::pair<Index, Index>> rows_;  // (grid, q) of each row of the batch
  Mat<T> prev_;                                // the previous site's complete sketch
};

// ---- TT-RSS step 2: embedding fit ----------------------------------------------------------
// C = E_k^+ Phi per prefix block (E_k[x, q] = phi_q(X_k[x])); `cond` receives cond(E_k).
template <class T>
Mat<T> fit_embedding(const Layout& L, Index k, const Mat<T>& Phi, Index nS, double* cond) {
  *cond = 1.0;
  if (k == L.out) return Phi;
  const Index nX = L.domain_size(k), d = L.p.d;
  Mat<T> E = L.p.domain_features[size_t(L.col_of(k))].template cast<T>();
  Mat<T> Epinv = lstsq<T>(E, Mat<T>::Identity(nX, nX));  // d x nX
  {
    Mat<T> U, V;
    Vec<T> se;
    linalg::svd<T>(E, U, se, V);
    const double tiny = se.size() ? double(se(0)) * double(nX) * double(std::numeric_limits<T>::epsilon()) : 0;
    if (se.size() < d || !(double(se(se.size() - 1)) > tiny))
      throw invalid_argument("embedding: the embedded domain values of site " + std::to_string(L.col_of(k)) +
                             " do not span R^d (rank-deficient fit); choose other domain values");
    *cond = double(se(0)) / double(se(se.size() - 1));
  }
  Mat<T> Cm(nS * d, Phi.cols());
  for (Index a = 0; a < nS; ++a) Cm.middleRows(a * d, d).noalias() = Epinv * Phi.middleRows(a * nX, nX);
  return Cm;
}

// ---- TT-RSS step 5: recursion --------------------------------------------------------------
// A_k on the prefix classes of length k + 1 from AG = B_k or A_{k-1} G_k (nS x (dk * Dk)).
template <class T>
Mat<T> recurse(const Layout& L, const Classes& cl, Index k, const Mat<T>& AG, Index Dk) {
  const Partition& S = cl.pre[size_t(k)];
  const Partition& S1 = cl.pre[size_t(k + 1)];
  const Index nS1 = Index(S1.rep.size()), d = L.p.d;
  Mat<T> A = Mat<T>::Zero(nS1, Dk);
  for (Index a1 = 0; a1 < nS1; ++a1) {
    const Index i = S1.rep[size_t(a1)];
    const Index a = S.id[size_t(i)];
    if (k == L.out) {
      A.row(a1) = AG.block(a, L.p.labels[i] * Dk, 1, Dk);
    } else {
      const double* ph = L.p.sample_features + (i * L.p.n + L.col_of(k)) * d;
      for (Index q = 0; q < d; ++q) A.row(a1) += T(ph[q]) * AG.block(a, q * Dk, 1, Dk);
    }
  }
  return A;
}

// ---- the adaptive sketch's columns ---------------------------------------------------------

// Classes drawn at random for site k's sketch, in place: `rest` shuffled.  Before the label
// site of a vector-valued f each column reads the output of its suffix's label, so the draw is
// spread over the labels: the classes of the labels that `cols` holds least come first (a
// random subset could leave a class's output out of the sketch).
void draw(const Layout& L, const Classes& cl, Index k, const std::vector<Index>& cols, std::vector<Index>& rest,
          std::mt19937_64& rng) {
  std::shuffle(rest.begin(), rest.end(), rng);
  if (!L.vec_out || k >= L.out) return;
  const Partition& T = cl.suf[size_t(k + 1)];
  std::vector<Index> seen(size_t(L.C), 0);
  for (Index t : cols) ++seen[size_t(L.p.labels[T.rep[size_t(t)]])];
  std::vector<std::pair<Index, Index>> order;  // (place in its label's queue, class)
  order.reserve(rest.size());
  for (Index t : rest) order.emplace_back(seen[size_t(L.p.labels[T.rep[size_t(t)]])]++, t);
  std::stable_sort(order.begin(), order.end(),
                   [](const std::pair<Index, Index>& a, const std::pair<Index, Index>& b) { return a.first < b.first; });
  for (size_t i = 0; i < rest.size(); ++i) rest[i] = order[i].second;
}

// Suffix classes of z[:, k+1:] for site k: the tails of the previous site's columns (so that
// the points (s, x, t) with x the value the sample behind t holds at k are copies), then
// classes drawn at random; `target` in all (every class when fewer).
std::vector<Index> choose_columns(const Layout& L, const Classes& cl, Index k, const std::vector<Index>& prev_cols,
                                  Index target, std::mt19937_64& rng) {
  const Index nT = Index(cl.suf[size_t(k + 1)].rep.size());
  target = std::min(target, nT);
  std::vector<char> used(size_t(nT), 0);
  std::vector<Index> cols;
  for (Index c : prev_cols) {
    if (Index(cols.size()) >= target) break;
    const Index t = cl.suf[size_t(k + 1)].id[size_t(cl.suf[size_t(k)].rep[size_t(c)])];
    if (!used[size_t(t)]) {
      used[size_t(t)] = 1;
      cols.push_back(t);
    }
  }
  std::vector<Index> rest;
  for (Index t = 0; t < nT; ++t)
    if (!used[size_t(t)]) rest.push_back(t);
  draw(L, cl, k, cols, rest, rng);
  for (Index t : rest) {
    if (Index(cols.size()) >= target) break;
    cols.push_back(t);
  }
  return cols;
}

// Suffix classes of z[:, k+1:] not yet in `cols`, `count` of them drawn at random.
std::vector<Index> more_columns(const Layout& L, const Classes& cl, Index k, const std::vector<Index>& cols,
                                Index count, std::mt19937_64& rng) {
  const Index nT = Index(cl.suf[size_t(k + 1)].rep.size());
  std::vector<char> used(size_t(nT), 0);
  for (Index t : cols) used[size_t(t)] = 1;
  std::vector<Index> rest;
  for (Index t = 0; t < nT; ++t)
    if (!used[size_t(t)]) rest.push_back(t);
  draw(L, cl, k, cols, rest, rng);
  if (Index(rest.size()) > count) rest.resize(size_t(count));
  return rest;
}

}  // namespace

template <class T>
Mat<T> lstsq(const Mat<T>& A, const Mat<T>& B) {
  return linalg::lstsq<T>(A, B);
}

template <class T>
Result<T> tt_rss(const Problem& p, const Options& opt, const BatchFn& f) {
  const Layout L(p);
  validate(L);
  const Classes cl = classify(L);
  const Index m = L.m;
  const bool adaptive = opt.sketch == Sketch::adaptive;
  const Index over = std::max<Index>(0, opt.oversample);

  Result<T> res;
  res.cores.resize(size_t(m));
  Sketcher<T> sketcher(L, cl, opt, f, res);
  std::mt19937_64 rng(opt.seed);
  Mat<T> A = Mat<T>::Ones(1, 1);  // left factor on the unique prefixes
  Index Dprev = 1;                // the latest bond found
  bool approximated = false;      // adaptive: the latest trim cut more than tail_tol
  Index last_cols = 0;            // adaptive: suffixes in the latest site's sketch
  // adaptive, where f is approximated: suffixes added per step, the held-out batch of the check
  const Index step = std::max<Index>(over, (std::max<Index>(opt.rank, 1) + 1) / 2);
  // Relative residual ||A G - B|| / ||B|| of the previous site's solve.  When f is approximated
  // the left factor A on the prefixes (from the trimmed sketch) differs by about this much from
  // what the cores before it produce, so directions of A with singular values far below it carry
  // that mismatch, and inverting them amplified it (a 16 x 16 px MNIST network, N=100: cores of
  // norm ~2e3, pivot error 30.9).  The solve treats singular values below
  // kSolveFloor * residual * s_1 as zero; for a tensor train f the residuals, and the floor,
  // stay at rounding level.
  constexpr double kSolveFloor = 0.1;
  double resid_prev = 0.0;
  if (!adaptive) {
    for (Index k = 0; k < m; ++k) {
      std::vector<Index> all(cl.suf[size_t(k + 1)].rep.size());
      std::iota(all.begin(), all.end(), Index(0));
      sketcher.set_columns(k, std::move(all));
    }
  } else {
    // The columns of site j are chosen when its grid is first needed, possibly before the
    // earlier sites are trimmed: the expected bond is the user's rank (or the latest bond
    // found), within the bounds of the dimensions on either side.
    sketcher.set_planner([&](Index j) {
      double left = 1;
      for (Index i = 0; i <= j && left < 1e18; ++i) left *= double(L.phys(i));
      double guess = std::min(left, L.rest(j));
      guess = std::min(guess, double(opt.rank > 0 ? opt.rank : Dprev));
      if (j == m - 1) guess = 1;
      Index target = Index(guess) + over;
      // every output of f gives a column: fewer suffixes reach as many columns (one more than
      // the capture check holds out)
      const Index per_j = sketcher.per(j);
      if (per_j > 1) target = std::max<Index>(step + 1, (target + per_j - 1) / per_j);
      if (approximated) {
        // f is approximated here: every suffix (as in the samples sketch), or about as many as
        // the latest site held, one step fewer so that the count can also shrink
        target = opt.capture_tol > 0 ? std::max<Index>(target, last_cols - step)
                                     : std::numeric_limits<Index>::max() / 2;
      }
      static const std::vector<Index> none;
      return choose_columns(L, cl, j, j > 0 ? sketcher.columns(j - 1) : none, target, rng);
    });
  }

  for (Index k = 0; k < m; ++k) {
    const Index nS = Index(cl.pre[size_t(k)].rep.size());
    const Index nT = Index(cl.suf[size_t(k + 1)].rep.size());
    const Index dk = L.phys(k);
    const bool last = k == m - 1;
    const Index cap = last ? 1 : bond_cap(Dprev, dk, L.rest(k), opt.rank);
    const Index per = sketcher.per(k);  // sketch columns per suffix class

    // 1. sketch
    auto t0 = clock_type::now();
    Mat<T> Phi = sketcher.evaluate(k);
    res.times.sketch += seconds_since(t0);

    // 2. embedding fit; 3. trim (adaptive: more columns while the sketch is short of the rank)
    t0 = clock_type::now();
    double cond = 1.0;
    Mat<T> Cm = fit_embedding<T>(L, k, Phi, nS, &cond);
    res.times.fit += seconds_since(t0);
    Mat<T> B;
    Index Dk = 1;
    if (!last) {
      t0 = clock_type::now();
      Trimmed<T> tr = trim<T>(Cm, cap, opt.cutoff, cond);
      res.times.trim += seconds_since(t0);
      // The sketch is short while the rank it keeps comes within `oversample` of its columns
      // (the rank may not be revealed), or, where the trim cuts more than `tail_tol` of its
      // weight (f is approximated here, and the kept space depends on the suffixes chosen),
      // while the space kept from all but the latest `step` columns does not capture those as
      // well as its own (capture_tol; every suffix when capture_tol <= 0).
      auto more = [&](const Trimmed<T>& t) -> Index {
        const Index have = Phi.cols() / per;  // suffix classes in the sketch
        if (have >= nT) return 0;
        if (t.rank + over > Phi.cols())
          return std::max<Index>({over, have / 2, (t.rank + over - Phi.cols() + per - 1) / per, 1});
        if (!(t.discarded > opt.tail_tol)) return 0;
        if (opt.capture_tol <= 0) return nT;
        t0 = clock_type::now();
        const bool done = captures_held_out<T>(Cm, std::min(step, have - 1) * per, cap, opt.cutoff, cond,
                                               opt.capture_tol, opt.tail_tol);
        res.times.trim += seconds_since(t0);
        return done ? 0 : step;
      };
      Index add = 0;
      while (adaptive && (add = more(tr)) > 0) {
        t0 = clock_type::now();
        const Mat<T> extra = sketcher.extend(k, more_columns(L, cl, k, sketcher.columns(k), add, rng));
        Mat<T> grown(Phi.rows(), Phi.cols() + extra.cols());
        grown << Phi, extra;
        Phi = std::move(grown);
        res.times.sketch += seconds_since(t0);
        t0 = clock_type::now();
        Cm = fit_embedding<T>(L, k, Phi, nS, &cond);
        res.times.fit += seconds_since(t0);
        t0 = clock_type::now();
        tr = trim<T>(Cm, cap, opt.cutoff, cond);
        res.times.trim += seconds_since(t0);
      }
      approximated = tr.discarded > opt.tail_tol;
      last_cols = Index(Phi.cols()) / per;
      Dk = tr.rank;
      B = std::move(tr.B);
      res.bonds.push_back(Dk);
      res.discarded.push_back(tr.discarded);
    } else {
      B = std::move(Cm);
    }
    res.grid_sizes.push_back(Index(Phi.size()) / per);
    res.site_columns.push_back(Index(Phi.cols()) / per);

    // 4. solve A G = B (B folded to nS x (dk * Dk))
    t0 = clock_type::now();
    Mat<T> Bres = fold_rows<T>(B, nS, dk);
    res.cores[size_t(k)] = solve_core<T>(A, Bres, dk, kSolveFloor * resid_prev);
    {
      const Mat<T> G = res.cores[size_t(k)].right();
      Mat<T> R = linalg::matmul<T>(A, G);
      R -= Bres;
      const double nb = double(Bres.norm());
      resid_prev = nb > 0 ? double(R.norm()) / nb : 0.0;
    }
    res.times.solve += seconds_since(t0);

    // 5. recurse: A_k on the unique prefixes of length k + 1
    if (!last) {
      t0 = clock_type::now();
      if (opt.recurse_sketch) {
        A = recurse<T>(L, cl, k, Bres, Dk);
      } else {
        const Mat<T> G = res.cores[size_t(k)].right();
        A = recurse<T>(L, cl, k, Mat<T>(linalg::matmul<T>(A, G)), Dk);
      }
      Dprev = Dk;
      res.times.recurse += seconds_since(t0);
    }
    sketcher.keep(std::move(Phi));
    if (opt.progress) {
      SiteReport r;
      r.site = k + 1;
      r.sites = m;
      r.bond = Dk;
      r.columns = res.site_columns.back();
      r.n_evals = res.n_evals;
      opt.progress(r);
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
      Trimmed<T> tr = trim<T>(Phi, bond_cap(Dprev, d, std::pow(double(d), double(n - k - 1)), rank), cutoff, 1.0);
      Dk = tr.rank;
      B = std::move(tr.B);
      res.bonds.push_back(Dk);
      res.discarded.push_back(tr.discarded);
    } else {
      B = std::move(Phi);
    }
    res.cores[size_t(k)] = solve_core<T>(A, fold_rows<T>(B, mL, d), d);
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
