// 2-site tensor cross interpolation with a partial rank-revealing LU.
//
// Bond b (1 <= b < n) joins sites b-1 and b.  It holds a left pivot set I_b (prefixes of
// length b) and a right pivot set J_b (suffixes of length n-b).  Updating bond b samples
// the 2-site matrix Pi_b with rows I_{b-1} x {0..d_{b-1}-1} and columns {0..d_b-1} x J_{b+1}
// (plus, for one sweep, the prefixes/suffixes of global pivots), factorizes it with prrLU,
// and takes the pivot rows/columns as the new I_b/J_b.  The tensor train
// T_0 P_1^{-1} T_1 P_2^{-1} ... T_{n-1} (T_s = f(I_s, i_s, J_{s+1}), P_b = f(I_b, J_b)) is
// rebuilt by every pass from the triangular prrLU factors (stable, no explicit inverse):
// left to right, site b-1 gets Pi_b[grid, cols] P_b^{-1} and the last site the pivot rows
// of Pi_{n-1}; right to left, site b gets P_b^{-1} Pi_b[rows, grid] and site 0 the pivot
// columns of Pi_1.  The cross options and convergence rule are documented in cross.hpp.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "tnfast/cross.hpp"
#include "tnfast/cross_index_set.hpp"
#include "tnfast/prrlu.hpp"

namespace tnfast {
namespace cross {

namespace {

template <class T>
class TCI2 {
  using RowVecT = Eigen::Matrix<T, 1, Eigen::Dynamic>;

 public:
  TCI2(const BatchFunction<T>& f, const std::vector<Index>& shape, const CrossOptions& opt)
      : shape_(shape), n_(Index(shape.size())), opt_(opt), F_(f, shape, opt.cache, opt.batch_size), rng_(opt.seed),
        pivot_tol_(opt.rel_tol) {}

  CrossResult<T> run(const SweepCallback& on_sweep);

 private:
  void initialize();
  double update(Index b, bool forward);
  Index global_search();
  // The random check (CrossOptions::check_samples): true when it passes; on failure the
  // points of largest error become extra pivots of the next pass.
  bool random_check(SweepInfo& info);
  void draw_points(Index count, std::vector<int64_t>& out);
  // |f - tt| at the points (row-major), through the cache; returns the largest.
  double check_errors(const std::vector<int64_t>& pts, std::vector<double>& err);
  void add_pivot_everywhere(const int64_t* p, bool extra);

  std::vector<Index> shape_;
  Index n_;
  CrossOptions opt_;
  CachedFunction<T> F_;
  std::mt19937_64 rng_;
  std::vector<MultiIndexSet> I_, J_;            // I_[b]: length b (b = 0..n); J_[b]: length n-b (b = 0..n)
  std::vector<MultiIndexSet> extraI_, extraJ_;  // global pivots' prefixes/suffixes for the current sweep
  std::vector<Core3<T>> cores_;
  // The last 2-site matrix of each bond (full search), to reuse its entries.
  struct Block {
    std::vector<int64_t> rows, cols;
    Mat<T> A;
  };
  std::vector<Block> memo_;
  Index full_blocks_ = 0, rook_blocks_ = 0;
  double last_check_error_ = std::numeric_limits<double>::quiet_NaN();
  // Pivot tolerance relative to max|f|: rel_tol, lowered when a check fails by a small factor
  // after a pass that left no pivot above it (the train's error exceeds its pivot error).
  double pivot_tol_ = 0;
  std::vector<int64_t> check_pool_;  // the points of all random checks so far (row-major)
  Index last_check_points_ = 0;
  Index last_confirm_points_ = 0;
};

template <class T>
void TCI2<T>::add_pivot_everywhere(const int64_t* p, bool extra) {
  for (Index b = 1; b < n_; ++b) {
    if (extra) {
      extraI_[size_t(b)].add(p);
      extraJ_[size_t(b)].add(p + b);
    } else {
      I_[size_t(b)].add(p);
      J_[size_t(b)].add(p + b);
    }
  }
}

template <class T>
void TCI2<T>::initialize() {
  I_.clear();
  J_.clear();
  for (Index b = 0; b <= n_; ++b) {
    I_.emplace_back(b);
    J_.emplace_back(n_ - b);
    extraI_.emplace_back(b);
    extraJ_.emplace_back(n_ - b);
  }
  I_[0].add(nullptr);  // the empty prefix
  J_[size_t(n_)].add(nullptr);  // the empty suffix

  std::vector<int64_t> pts = opt_.initial_pivots;
  const bool given = !pts.empty();
  if (!given) {
    const Index s = std::max<Index>(opt_.init_samples, 1);
    pts.resize(size_t(s * n_));
    for (Index a = 0; a < s; ++a)
      for (Index k = 0; k < n_; ++k)
        pts[size_t(a * n_ + k)] = std::uniform_int_distribution<int64_t>(0, shape_[size_t(k)] - 1)(rng_);
  }
  const Index p = Index(pts.size()) / n_;
  std::vector<T> vals(static_cast<size_t>(p));
  F_.evaluate(pts.data(), p, vals.data());
  Index best = 0;
  for (Index a = 1; a < p; ++a)
    if (std::abs(vals[size_t(a)]) > std::abs(vals[size_t(best)])) best = a;
  if (std::abs(vals[size_t(best)]) == 0) {
    if (given) throw invalid_argument("initial_pivots: f is zero at every initial pivot; give a point where f != 0");
    throw invalid_argument("f is zero at all " + std::to_string(p) +
                           " randomly sampled points; pass initial_pivots with a point where f != 0");
  }
  if (given) {
    for (Index a = 0; a < p; ++a)
      if (std::abs(vals[size_t(a)]) > 0) add_pivot_everywhere(pts.data() + a * n_, false);
  } else {
    add_pivot_everywhere(pts.data() + best * n_, false);
  }
}

template <class T>
double TCI2<T>::update(Index b, bool forward) {
  const Index s = b - 1;
  const MultiIndexSet& Il = I_[size_t(s)];
  const MultiIndexSet& Jr = J_[size_t(b + 1)];
  const MultiIndexSet& Ex = extraI_[size_t(b)];
  const MultiIndexSet& Ey = extraJ_[size_t(b)];
  const Index ra = Il.size(), da = shape_[size_t(s)], db = shape_[size_t(b)], rc = Jr.size();
  const Index lenI = b, lenJ = n_ - b;

  // Row prefixes (length b) and column suffixes (length n-b) of Pi_b.
  const Index m_grid = ra * da, n_grid = db * rc;
  std::vector<int64_t> rows, cols;
  rows.reserve(size_t((m_grid + Ex.size()) * lenI));
  cols.reserve(size_t((n_grid + Ey.size()) * lenJ));
  for (Index a = 0; a < ra; ++a)
    for (Index i = 0; i < da; ++i) {
      rows.insert(rows.end(), Il.at(a), Il.at(a) + s);
      rows.push_back(i);
    }
  for (Index j = 0; j < db; ++j)
    for (Index c = 0; c < rc; ++c) {
      cols.push_back(j);
      cols.insert(cols.end(), Jr.at(c), Jr.at(c) + (lenJ - 1));
    }
  // Extra rows/columns from global pivots, when not already on the grid.
  {
    MultiIndexSet seen_rows(lenI), seen_cols(lenJ);
    if (Ex.size() > 0)
      for (Index a = 0; a < m_grid; ++a) seen_rows.add(rows.data() + a * lenI);
    for (Index e = 0; e < Ex.size(); ++e)
      if (seen_rows.add(Ex.at(e))) rows.insert(rows.end(), Ex.at(e), Ex.at(e) + lenI);
    if (Ey.size() > 0)
      for (Index a = 0; a < n_grid; ++a) seen_cols.add(cols.data() + a * lenJ);
    for (Index e = 0; e < Ey.size(); ++e)
      if (seen_cols.add(Ey.at(e))) cols.insert(cols.end(), Ey.at(e), Ey.at(e) + lenJ);
  }
  const Index m = Index(rows.size()) / lenI, nc = Index(cols.size()) / lenJ;

  std::vector<int64_t> point(static_cast<size_t>(n_));
  auto make_point = [&](Index r, Index c) {
    std::copy(rows.data() + r * lenI, rows.data() + (r + 1) * lenI, point.data());
    std::copy(cols.data() + c * lenJ, cols.data() + (c + 1) * lenJ, point.data() + lenI);
    return point.data();
  };

  PrrLUOptions po;
  po.max_rank = opt_.max_rank;
  po.min_rank = 1;
  po.rook_restarts = opt_.rook_restarts;
  po.rook_tol = opt_.rook_tol;
  PrrLU<T> lu;
  const bool full = opt_.pivot_search == PivotSearch::full ||
                    (opt_.pivot_search == PivotSearch::automatic && m * nc <= opt_.full_block_max);
  if (full) ++full_blocks_; else ++rook_blocks_;
  if (full) {
    // Entries whose row and column were both in this bond's previous matrix are copied
    // from it; only the others go through the cache.
    Mat<T> A(m, nc);
    Block& memo = memo_[size_t(b)];
    std::vector<Index> row_map(size_t(m), -1), col_map(size_t(nc), -1);
    if (memo.A.size() > 0) {
      MultiIndexSet old_rows(lenI), old_cols(lenJ);
      for (Index r = 0; r < memo.A.rows(); ++r) old_rows.add(memo.rows.data() + r * lenI);
      for (Index c = 0; c < memo.A.cols(); ++c) old_cols.add(memo.cols.data() + c * lenJ);
      for (Index r = 0; r < m; ++r) row_map[size_t(r)] = old_rows.find(rows.data() + r * lenI);
      for (Index c = 0; c < nc; ++c) col_map[size_t(c)] = old_cols.find(cols.data() + c * lenJ);
    }
    for (Index c = 0; c < nc; ++c) {
      const Index oc = col_map[size_t(c)];
      for (Index r = 0; r < m; ++r) {
        const Index orow = row_map[size_t(r)];
        if (oc >= 0 && orow >= 0)
          A(r, c) = memo.A(orow, oc);
        else
          F_.request(make_point(r, c), &A(r, c));
      }
    }
    F_.flush();
    po.abs_tol = pivot_tol_ * F_.max_abs();
    lu = prrlu_full<T>(A, po);
    if (opt_.cache && m * nc <= (Index(1) << 19)) {
      memo.rows = rows;
      memo.cols = cols;
      memo.A = std::move(A);
    } else {
      memo = Block();
    }
  } else {
    // Start the searches from the previous pivots of this bond, fetched in one batch.
    std::vector<Index> start_cols, start_rows;
    {
      MultiIndexSet col_lookup(lenJ), row_lookup(lenI);
      for (Index c = 0; c < nc; ++c) col_lookup.add(cols.data() + c * lenJ);
      for (Index r = 0; r < m; ++r) row_lookup.add(rows.data() + r * lenI);
      const MultiIndexSet& Jold = J_[size_t(b)];
      const MultiIndexSet& Iold = I_[size_t(b)];
      for (Index a = 0; a < Jold.size(); ++a) {
        Index c = col_lookup.find(Jold.at(a));
        if (c >= 0) start_cols.push_back(c);
      }
      for (Index a = 0; a < Iold.size(); ++a) {
        Index r = row_lookup.find(Iold.at(a));
        if (r >= 0) start_rows.push_back(r);
      }
      for (Index e = 0; e < Ey.size(); ++e) {
        Index c = col_lookup.find(Ey.at(e));
        if (c >= 0) start_cols.insert(start_cols.begin(), c);
      }
    }
    // The starting lines are read first, in one batch (with the cache; without it each is
    // read as the search needs it).
    std::vector<T> pre;
    std::vector<Index> pre_col(size_t(nc), -1), pre_row(size_t(m), -1);
    if (opt_.cache && !(start_cols.empty() && start_rows.empty())) {
      pre.resize(size_t(Index(start_cols.size()) * m + Index(start_rows.size()) * nc));
      size_t t = 0;
      for (Index c : start_cols) {
        if (pre_col[size_t(c)] >= 0) continue;
        pre_col[size_t(c)] = Index(t);
        for (Index r = 0; r < m; ++r) F_.request(make_point(r, c), &pre[t++]);
      }
      for (Index r : start_rows) {
        if (pre_row[size_t(r)] >= 0) continue;
        pre_row[size_t(r)] = Index(t);
        for (Index c = 0; c < nc; ++c) F_.request(make_point(r, c), &pre[t++]);
      }
      F_.flush();
    }
    po.abs_tol = pivot_tol_ * F_.max_abs();
    ColumnFn<T> column = [&](Index c, T* out) {
      if (pre_col[size_t(c)] >= 0) {
        std::copy_n(pre.data() + pre_col[size_t(c)], m, out);
        return;
      }
      for (Index r = 0; r < m; ++r) F_.request(make_point(r, c), out + r);
      F_.flush();
    };
    RowFn<T> row = [&](Index r, T* out) {
      if (pre_row[size_t(r)] >= 0) {
        std::copy_n(pre.data() + pre_row[size_t(r)], nc, out);
        return;
      }
      for (Index c = 0; c < nc; ++c) F_.request(make_point(r, c), out + c);
      F_.flush();
    };
    EntriesFn<T> entries;
    if (opt_.rook_entry_probes)
      entries = [&](const Index* r, const Index* c, Index count, T* out) {
        for (Index t = 0; t < count; ++t) F_.request(make_point(r[t], c[t]), out + t);
        F_.flush();
      };
    lu = prrlu_rook<T>(m, nc, column, row, entries, po, rng_, start_cols, start_rows);
  }

  const Index k = lu.rank();
  MultiIndexSet newI(lenI), newJ(lenJ);
  for (Index a = 0; a < k; ++a) {
    newI.add(rows.data() + lu.rows[size_t(a)] * lenI);
    newJ.add(cols.data() + lu.cols[size_t(a)] * lenJ);
  }
  I_[size_t(b)] = std::move(newI);
  J_[size_t(b)] = std::move(newJ);

  if (forward) {
    // Core b-1: Pi[grid rows, cols] P^{-1}, shape (|I_{b-1}|, d_{b-1}, k).
    Mat<T> Lm = lu.left_interp();
    Core3<T> cs(ra, da, k);
    for (Index r = 0; r < m_grid; ++r)
      for (Index a = 0; a < k; ++a) cs.data[size_t(r * k + a)] = Lm(r, a);
    cores_[size_t(s)] = std::move(cs);
    if (b == n_ - 1) {
      // Last core: the pivot rows of Pi_{n-1} on the grid columns, shape (k, d_{n-1}, 1).
      Core3<T> cl(k, db, rc);
      for (Index a = 0; a < k; ++a) {
        RowVecT row = lu.L.row(lu.rows[size_t(a)]) * lu.U;
        for (Index c = 0; c < n_grid; ++c) cl.data[size_t(a * n_grid + c)] = row[c];
      }
      cores_[size_t(b)] = std::move(cl);
    }
  } else {
    // Core b: P^{-1} Pi[rows, grid columns], shape (k, d_b, |J_{b+1}|).
    Mat<T> R = lu.right_interp();
    Core3<T> cb(k, db, rc);
    for (Index a = 0; a < k; ++a)
      for (Index c = 0; c < n_grid; ++c) cb.data[size_t(a * n_grid + c)] = R(a, c);
    cores_[size_t(b)] = std::move(cb);
    if (b == 1) {
      // Core 0: the pivot columns of Pi_1 on the grid rows, shape (1, d_0, k).
      Core3<T> c0(1, da, k);
      for (Index a = 0; a < k; ++a) {
        Vec<T> col = lu.L.topRows(m_grid) * lu.U.col(lu.cols[size_t(a)]);
        for (Index i = 0; i < da; ++i) c0(0, i, a) = col[i];
      }
      cores_[0] = std::move(c0);
    }
  }
  const double scale = F_.max_abs();
  return scale > 0 ? lu.error / scale : 0.0;
}

template <class T>
Index TCI2<T>::global_search() {
  const Index want = opt_.global_pivots;
  const Index starts = opt_.global_starts > 0 ? opt_.global_starts : std::max<Index>(4 * want, 16);
  std::vector<int64_t> pts(static_cast<size_t>(starts * n_));
  for (Index a = 0; a < starts; ++a)
    for (Index k = 0; k < n_; ++k)
      pts[size_t(a * n_ + k)] = std::uniform_int_distribution<int64_t>(0, shape_[size_t(k)] - 1)(rng_);
  std::vector<T> fv(static_cast<size_t>(starts)), tv(static_cast<size_t>(starts));
  F_.evaluate(pts.data(), starts, fv.data());
  tt_values<T>(cores_, pts.data(), starts, tv.data());
  std::vector<double> err(static_cast<size_t>(starts));
  for (Index a = 0; a < starts; ++a) err[size_t(a)] = std::abs(fv[size_t(a)] - tv[size_t(a)]);

  // Greedy local search: one index at a time, all starts in one batch per site.
  for (int pass = 0; pass < 2; ++pass) {
    for (Index k = 0; k < n_; ++k) {
      const Index d = shape_[size_t(k)];
      std::vector<int64_t> cand(static_cast<size_t>(starts * d * n_));
      for (Index a = 0; a < starts; ++a)
        for (Index v = 0; v < d; ++v) {
          int64_t* q = &cand[size_t((a * d + v) * n_)];
          std::copy(pts.data() + a * n_, pts.data() + (a + 1) * n_, q);
          q[k] = v;
        }
      std::vector<T> cf(static_cast<size_t>(starts * d)), ct(static_cast<size_t>(starts * d));
      F_.evaluate(cand.data(), starts * d, cf.data());
      tt_values<T>(cores_, cand.data(), starts * d, ct.data());
      for (Index a = 0; a < starts; ++a)
        for (Index v = 0; v < d; ++v) {
          const double e = std::abs(cf[size_t(a * d + v)] - ct[size_t(a * d + v)]);
          if (e > err[size_t(a)]) {
            err[size_t(a)] = e;
            pts[size_t(a * n_ + k)] = v;
          }
        }
    }
  }
  std::vector<Index> order(static_cast<size_t>(starts));
  std::iota(order.begin(), order.end(), Index(0));
  std::sort(order.begin(), order.end(), [&](Index x, Index y) { return err[size_t(x)] > err[size_t(y)]; });
  const double tol = opt_.rel_tol * F_.max_abs();
  MultiIndexSet chosen(n_);
  for (Index a : order) {
    if (Index(chosen.size()) >= want || err[size_t(a)] <= tol) break;
    if (chosen.add(pts.data() + a * n_)) add_pivot_everywhere(pts.data() + a * n_, true);
  }
  return chosen.size();
}

template <class T>
void TCI2<T>::draw_points(Index count, std::vector<int64_t>& out) {
  for (Index a = 0; a < count; ++a)
    for (Index k = 0; k < n_; ++k)
      out.push_back(std::uniform_int_distribution<int64_t>(0, shape_[size_t(k)] - 1)(rng_));
}

template <class T>
double TCI2<T>::check_errors(const std::vector<int64_t>& pts, std::vector<double>& err) {
  const Index p = Index(pts.size()) / n_;
  std::vector<T> fv(static_cast<size_t>(p)), tv(static_cast<size_t>(p));
  F_.evaluate(pts.data(), p, fv.data());
  tt_values<T>(cores_, pts.data(), p, tv.data());
  err.resize(size_t(p));
  double worst = 0;
  for (Index a = 0; a < p; ++a) {
    err[size_t(a)] = double(std::abs(fv[size_t(a)] - tv[size_t(a)]));
    worst = std::max(worst, err[size_t(a)]);
  }
  return worst;
}

template <class T>
bool TCI2<T>::random_check(SweepInfo& info) {
  // New uniformly random points join those of the earlier checks; the train is compared with
  // f on all of them (the earlier ones come from the cache: no new evaluations).
  const double evals = double(F_.evals());
  const Index fresh = std::max(opt_.check_samples, Index(std::ceil(opt_.check_fraction * evals)));
  draw_points(fresh, check_pool_);
  std::vector<double> err;
  double worst = check_errors(check_pool_, err);
  const double scale = F_.max_abs();
  const double tol = opt_.check_factor * opt_.rel_tol * scale;
  Index confirm = 0;
  std::vector<int64_t>* failed_pts = &check_pool_;
  std::vector<int64_t> confirm_pts;
  if (worst <= tol && opt_.confirm_fraction > 0) {
    // The pool passed.  Its older points are reused check after check while the failures
    // among them steer the pivots, so the last word goes to points drawn after the train's
    // last change: a fresh confirmation sample, which then joins the pool.
    confirm = std::max(opt_.check_samples, Index(std::ceil(opt_.confirm_fraction * evals)));
    draw_points(confirm, confirm_pts);
    worst = check_errors(confirm_pts, err);
    failed_pts = &confirm_pts;
  }
  const Index p = Index(check_pool_.size() + confirm_pts.size()) / n_;
  last_check_error_ = scale > 0 ? worst / scale : 0.0;
  last_check_points_ = p;
  last_confirm_points_ = confirm;
  info.checked = true;
  info.check_error = last_check_error_;
  info.check_points = p;
  info.confirm_points = confirm;
  if (worst <= tol) {
    check_pool_.insert(check_pool_.end(), confirm_pts.begin(), confirm_pts.end());
    return true;
  }
  // An error within 100x the tolerance, after a pass that left no pivot above the pivot
  // tolerance, is the usual excess of the interpolation error over the pivot error: lower
  // the pivot tolerance so that the next passes take the pivots it needs (to about half the
  // tolerance, by at most 10x at a time).  A larger error means a part of the function no
  // pivot has seen yet: its points become pivots (below) and the tolerance stays.
  if (worst <= 100 * tol) pivot_tol_ *= std::min(0.5, std::max(0.1, 0.5 * tol / worst));
  // The failures of largest error become pivots of the next pass (as global pivots do); they
  // leave the pool, where they would only test the interpolation at its own pivots.
  const std::vector<int64_t>& pts = *failed_pts;
  const Index q = Index(pts.size()) / n_;
  std::vector<Index> order(static_cast<size_t>(q));
  std::iota(order.begin(), order.end(), Index(0));
  std::sort(order.begin(), order.end(), [&](Index x, Index y) { return err[size_t(x)] > err[size_t(y)]; });
  MultiIndexSet chosen(n_);
  std::vector<char> used(size_t(q), 0);
  for (Index a : order) {
    if (chosen.size() >= opt_.check_pivots || err[size_t(a)] <= tol) break;
    if (chosen.add(pts.data() + a * n_)) add_pivot_everywhere(pts.data() + a * n_, true);
    used[size_t(a)] = 1;
  }
  std::vector<int64_t> keep;
  keep.reserve(check_pool_.size() + confirm_pts.size());
  if (failed_pts == &check_pool_) {
    for (Index a = 0; a < q; ++a)
      if (!used[size_t(a)]) keep.insert(keep.end(), pts.data() + a * n_, pts.data() + (a + 1) * n_);
  } else {
    keep = check_pool_;
    for (Index a = 0; a < q; ++a)
      if (!used[size_t(a)]) keep.insert(keep.end(), pts.data() + a * n_, pts.data() + (a + 1) * n_);
  }
  check_pool_.swap(keep);
  info.check_added += chosen.size();
  return false;
}

template <class T>
CrossResult<T> TCI2<T>::run(const SweepCallback& on_sweep) {
  const auto t_start = std::chrono::steady_clock::now();
  CrossResult<T> res;
  if (n_ == 1) {
    single_site<T>(F_, shape_[0], t_start, on_sweep, res);
  } else {
    initialize();
    cores_.assign(size_t(n_), Core3<T>());
    memo_.assign(size_t(n_), Block());
    std::vector<Index> prev_dims;  // bond dimensions after the previous pass
    auto dims = [&]() {
      std::vector<Index> d;
      for (Index b = 1; b < n_; ++b) d.push_back(I_[size_t(b)].size());
      return d;
    };
    // With the random check, a pass may end the run when it leaves no pivot above tolerance
    // (with global pivots: a right-to-left pass after which none was added) and its train
    // passes the check; a failed check feeds its worst points to the next pass.  Without it,
    // a pass converges when its pivot error is below tolerance and it left the bond
    // dimensions of the previous pass unchanged.
    const bool checking = opt_.check_samples > 0;
    const bool global = opt_.global_pivots > 0;
    for (Index sweep = 0; sweep < opt_.max_sweeps; ++sweep) {
      const auto t0 = std::chrono::steady_clock::now();
      const Index e0 = F_.evals(), h0 = F_.hits(), c0 = F_.calls();
      const Index fb0 = full_blocks_, rb0 = rook_blocks_;
      SweepInfo info;
      double err = 0;
      for (Index b = 1; b < n_; ++b) err = std::max(err, update(b, true));
      for (auto& e : extraI_) e.clear();
      for (auto& e : extraJ_) e.clear();
      std::vector<Index> d = dims();
      bool converged = false;
      if (err <= pivot_tol_ && !global) converged = checking ? random_check(info) : d == prev_dims;
      prev_dims = d;
      if (!converged) {
        err = 0;
        for (Index b = n_ - 1; b >= 1; --b) err = std::max(err, update(b, false));
        for (auto& e : extraI_) e.clear();
        for (auto& e : extraJ_) e.clear();
        d = dims();
        if (global) info.global_added = global_search();
        if (err <= pivot_tol_ && info.global_added == 0)
          converged = checking ? random_check(info) : d == prev_dims;
        prev_dims = d;
      }
      info.pivot_error = err;
      info.bond_dims = d;
      info.full_blocks = full_blocks_ - fb0;
      info.rook_blocks = rook_blocks_ - rb0;
      // The run is about to stop without a passing check: measure the error it ends with.
      if (!converged && checking && sweep + 1 == opt_.max_sweeps) random_check(info);
      info.evals = F_.evals() - e0;
      info.cache_hits = F_.hits() - h0;
      info.calls = F_.calls() - c0;
      info.seconds = seconds_since(t0);
      res.sweeps.push_back(info);
      if (on_sweep) on_sweep(sweep, info);
      res.pivot_error = err;
      if (converged) {
        res.converged = true;
        break;
      }
    }
    res.cores = cores_;
  }
  if (n_ > 1) {
    res.error_estimate = last_check_error_;
    res.check_points = last_check_points_;
    res.confirm_points = last_confirm_points_;
  }
  finish_result<T>(F_, t_start, res);
  return res;
}

}  // namespace

template <class T>
CrossResult<T> tci2(const BatchFunction<T>& f, const std::vector<Index>& shape, const CrossOptions& opt,
                    const SweepCallback& on_sweep) {
  check_options(opt, shape);
  TCI2<T> algo(f, shape, opt);
  return algo.run(on_sweep);
}

template CrossResult<double> tci2<double>(const BatchFunction<double>&, const std::vector<Index>&,
                                          const CrossOptions&, const SweepCallback&);
template CrossResult<cdouble> tci2<cdouble>(const BatchFunction<cdouble>&, const std::vector<Index>&,
                                            const CrossOptions&, const SweepCallback&);

}  // namespace cross
}  // namespace tnfast
