#include "tnfast/prrlu.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

namespace tnfast {

namespace {

template <class T>
double absval(const T& x) {
  return double(std::abs(x));
}

template <class T>
void finish(PrrLU<T>& out, Index m, Index n, Index k) {
  out.L.conservativeResize(m, k);
  out.U.conservativeResize(k, n);
}

}  // namespace

template <class T>
Mat<T> PrrLU<T>::left_interp() const {
  const Index k = rank();
  Mat<T> Lr(k, k);
  for (Index a = 0; a < k; ++a) Lr.row(a) = L.row(rows[size_t(a)]);
  Mat<T> X = L;
  if (k > 0) Lr.template triangularView<Eigen::UnitLower>().template solveInPlace<Eigen::OnTheRight>(X);
  for (Index a = 0; a < k; ++a) {  // exact interpolation on the pivot rows
    X.row(rows[size_t(a)]).setZero();
    X(rows[size_t(a)], a) = T(1);
  }
  return X;
}

template <class T>
Mat<T> PrrLU<T>::right_interp() const {
  const Index k = rank();
  Mat<T> Ur(k, k);
  for (Index a = 0; a < k; ++a) {
    Ur.col(a) = U.col(cols[size_t(a)]);
    if (Ur(a, a) == T(0)) Ur(a, a) = T(1);  // an all-zero residual row: its interpolant is zero
  }
  Mat<T> X = U;
  if (k > 0) Ur.template triangularView<Eigen::Upper>().solveInPlace(X);
  for (Index a = 0; a < k; ++a) {
    if (U(a, cols[size_t(a)]) == T(0)) continue;
    X.col(cols[size_t(a)]).setZero();
    X(a, cols[size_t(a)]) = T(1);
  }
  return X;
}

template <class T>
PrrLU<T> prrlu_full(const CMatRef<T>& A, const PrrLUOptions& opt) {
  const Index m = A.rows(), n = A.cols();
  Index cap = std::min(m, n);
  if (opt.max_rank > 0) cap = std::min(cap, opt.max_rank);
  PrrLU<T> out;
  out.L.setZero(m, cap);
  out.U.setZero(cap, n);
  if (m == 0 || n == 0) {
    finish(out, m, n, 0);
    return out;
  }
  Mat<T> R = A;
  Index k = 0;
  for (;;) {
    Index i = 0, j = 0;
    // |.| rather than |.|^2: squares of values near 1e-300 underflow to 0, near 1e300 overflow.
    const double best = double(R.cwiseAbs().maxCoeff(&i, &j));
    if (!std::isfinite(best)) throw invalid_argument("prrlu: the matrix holds NaN or Inf");
    if (k >= cap || best == 0 || (best <= opt.abs_tol && k >= opt.min_rank)) {
      out.error = best;
      break;
    }
    const T p = R(i, j);
    out.L.col(k) = R.col(j) / p;
    out.U.row(k) = R.row(i);
    R.noalias() -= out.L.col(k) * out.U.row(k);
    R.row(i).setZero();
    R.col(j).setZero();
    for (Index r : out.rows) out.L(r, k) = T(0);
    for (Index c : out.cols) out.U(k, c) = T(0);
    out.L(i, k) = T(1);
    out.rows.push_back(i);
    out.cols.push_back(j);
    out.pivot_abs.push_back(best);
    ++k;
  }
  finish(out, m, n, k);
  return out;
}

template <class T>
PrrLU<T> prrlu_rook(Index m, Index n, const ColumnFn<T>& column, const RowFn<T>& row, const PrrLUOptions& opt,
                    std::mt19937_64& rng, const std::vector<Index>& start_cols, const std::vector<Index>& start_rows) {
  return prrlu_rook<T>(m, n, column, row, EntriesFn<T>(), opt, rng, start_cols, start_rows);
}

template <class T>
PrrLU<T> prrlu_rook(Index m, Index n, const ColumnFn<T>& column, const RowFn<T>& row, const EntriesFn<T>& entries,
                    const PrrLUOptions& opt, std::mt19937_64& rng, const std::vector<Index>& start_cols,
                    const std::vector<Index>& start_rows) {
  Index cap = std::min(m, n);
  if (opt.max_rank > 0) cap = std::min(cap, opt.max_rank);
  PrrLU<T> out;
  out.L.setZero(m, cap);
  out.U.setZero(cap, n);
  if (m == 0 || n == 0) {
    finish(out, m, n, 0);
    return out;
  }
  const Index full = std::min(m, n);
  const double accept = std::max(opt.rook_tol, 1.0);
  std::vector<char> row_used(size_t(m), 0), col_used(size_t(n), 0);
  Index k = 0;

  // Every line read is kept with its residual (updated after each pivot) and the position
  // of its largest residual entry off the pivot rows/columns: no line is read twice, and
  // every search sees all the entries read so far.
  struct Line {
    Index index;
    Vec<T> res;
    double max = 0;
    Index arg = -1;
  };
  std::vector<Line> kcols, krows;
  std::vector<Index> col_at(size_t(n), -1), row_at(size_t(m), -1);  // position in kcols/krows
  Index unread_cols = n, unread_rows = m;

  auto rescan = [](Line& l, const std::vector<char>& used) {
    l.max = -1;
    l.arg = -1;
    for (Index t = 0; t < l.res.size(); ++t) {
      if (used[size_t(t)]) continue;
      const double a = absval(l.res[t]);
      if (a > l.max) {
        l.max = a;
        l.arg = t;
      }
    }
  };
  auto check_finite = [](const Vec<T>& v) {
    for (Index t = 0; t < v.size(); ++t)
      if (!std::isfinite(absval(v[t]))) throw invalid_argument("prrlu: the matrix holds NaN or Inf");
  };
  auto read_col = [&](Index j) {
    Line l{j, Vec<T>(m)};
    column(j, l.res.data());
    check_finite(l.res);
    if (k > 0) l.res.noalias() -= out.L.leftCols(k) * out.U.col(j).head(k);
    for (Index r : out.rows) l.res[r] = T(0);
    rescan(l, row_used);
    col_at[size_t(j)] = Index(kcols.size());
    kcols.push_back(std::move(l));
    --unread_cols;
  };
  auto read_row = [&](Index i) {
    Line l{i, Vec<T>(n)};
    row(i, l.res.data());
    check_finite(l.res);
    if (k > 0) l.res.noalias() -= out.U.topRows(k).transpose() * out.L.row(i).head(k).transpose();
    for (Index c : out.cols) l.res[c] = T(0);
    rescan(l, col_used);
    row_at[size_t(i)] = Index(krows.size());
    krows.push_back(std::move(l));
    --unread_rows;
  };
  // Largest residual entry on the lines read (off the pivot rows and columns).
  auto best_read = [&](Index& bi, Index& bj) {
    double best = -1;
    bi = bj = -1;
    for (const Line& l : kcols)
      if (!col_used[size_t(l.index)] && l.max > best) {
        best = l.max;
        bi = l.arg;
        bj = l.index;
      }
    for (const Line& l : krows)
      if (!row_used[size_t(l.index)] && l.max > best) {
        best = l.max;
        bi = l.index;
        bj = l.arg;
      }
    return best;
  };
  // Largest residual entry whose row and column were both read.
  auto best_crossing = [&](Index& bi, Index& bj) {
    double best = -1;
    bi = bj = -1;
    for (const Line& l : kcols) {
      if (col_used[size_t(l.index)]) continue;
      for (const Line& r : krows) {
        if (row_used[size_t(r.index)]) continue;
        const double a = absval(l.res[r.index]);
        if (a > best) {
          best = a;
          bi = r.index;
          bj = l.index;
        }
      }
    }
    return best;
  };
  // Read a random unread line (a column when columns are not longer than rows or no row is
  // left, else a row) and the line across it through its largest residual entry.  False
  // when every line was read.
  // With `entries`: min(m, n) random entries off the lines read instead (their largest
  // residual goes into probe_max); when one exceeds the tolerance, the shorter line through
  // it is read and the search goes on from there.
  double probe_max = 0;
  std::vector<Index> pr_rows, pr_cols;
  std::vector<T> pr_vals;
  auto probe_entries = [&]() {
    if (unread_rows == 0 || unread_cols == 0) return false;  // every entry is known
    std::vector<Index> free_rows, free_cols;
    for (Index r = 0; r < m; ++r)
      if (row_at[size_t(r)] < 0) free_rows.push_back(r);
    for (Index c = 0; c < n; ++c)
      if (col_at[size_t(c)] < 0) free_cols.push_back(c);
    const Index avail = Index(free_rows.size()) * Index(free_cols.size());
    const Index want = std::min(std::min(m, n), avail);
    std::uniform_int_distribution<Index> dist(0, avail - 1);
    std::vector<Index> picks;
    picks.reserve(size_t(want));
    if (want == avail) {
      for (Index t = 0; t < avail; ++t) picks.push_back(t);
    } else {
      std::vector<char> taken;
      if (avail <= (Index(1) << 22)) taken.assign(size_t(avail), 0);
      while (Index(picks.size()) < want) {
        const Index t = dist(rng);
        if (!taken.empty()) {
          if (taken[size_t(t)]) continue;
          taken[size_t(t)] = 1;
        }
        picks.push_back(t);
      }
    }
    pr_rows.resize(picks.size());
    pr_cols.resize(picks.size());
    pr_vals.resize(picks.size());
    const Index nf = Index(free_cols.size());
    for (size_t t = 0; t < picks.size(); ++t) {
      pr_rows[t] = free_rows[size_t(picks[t] / nf)];
      pr_cols[t] = free_cols[size_t(picks[t] % nf)];
    }
    entries(pr_rows.data(), pr_cols.data(), Index(picks.size()), pr_vals.data());
    double best = -1;
    size_t at = 0;
    for (size_t t = 0; t < picks.size(); ++t) {
      T v = pr_vals[t];
      if (!std::isfinite(absval(v))) throw invalid_argument("prrlu: the matrix holds NaN or Inf");
      if (k > 0) v -= (out.L.row(pr_rows[t]).head(k) * out.U.col(pr_cols[t]).head(k)).value();  // no conjugation
      const double a = absval(v);
      if (a > best) {
        best = a;
        at = t;
      }
    }
    probe_max = std::max(probe_max, best);
    if (best > opt.abs_tol || (k < opt.min_rank && best > 0)) {
      if (m <= n)
        read_col(pr_cols[at]);
      else
        read_row(pr_rows[at]);
    }
    return true;
  };
  auto probe = [&]() {
    if (entries) return probe_entries();
    const bool want_col = unread_cols > 0 && (m <= n || unread_rows == 0);
    if (!want_col && unread_rows == 0) return false;
    const Index len = want_col ? n : m;
    const std::vector<Index>& at = want_col ? col_at : row_at;
    std::uniform_int_distribution<Index> dist(0, len - 1);
    Index pick = -1;
    for (int t = 0; t < 64 && pick < 0; ++t) {
      const Index c = dist(rng);
      if (at[size_t(c)] < 0) pick = c;
    }
    if (pick < 0) {
      std::vector<Index> unread;
      for (Index c = 0; c < len; ++c)
        if (at[size_t(c)] < 0) unread.push_back(c);
      pick = unread[size_t(std::uniform_int_distribution<size_t>(0, unread.size() - 1)(rng))];
    }
    // The probe is a rook step: the line, then the perpendicular line through its largest
    // residual entry.
    if (want_col) {
      read_col(pick);
      const Line& l = kcols.back();
      if (l.arg >= 0 && row_at[size_t(l.arg)] < 0) read_row(l.arg);
    } else {
      read_row(pick);
      const Line& l = krows.back();
      if (l.arg >= 0 && col_at[size_t(l.arg)] < 0) read_col(l.arg);
    }
    return true;
  };

  for (Index c : start_cols)
    if (c >= 0 && c < n && col_at[size_t(c)] < 0) read_col(c);
  for (Index r : start_rows)
    if (r >= 0 && r < m && row_at[size_t(r)] < 0) read_row(r);
  for (;;) {
    if (k >= full) {
      out.error = 0;
      break;
    }
    const bool estimating = k >= cap;
    if (estimating && !opt.estimate_error) break;
    const auto worth = [&](double v) { return v > opt.abs_tol || (!estimating && k < opt.min_rank && v > 0); };
    // Rook search with memory.  Take the largest residual entry on the lines read so far;
    // if its row and column were both read it is the largest of both (a rook pivot), else
    // read the missing line and look again.  With rook_tol > 1 the search settles earlier
    // for an entry whose row and column were both read and which is within that factor of
    // the largest entry seen.  When nothing read exceeds the tolerance, random unread lines
    // are probed before concluding.
    const Index max_probes = estimating ? 1 : 1 + std::max<Index>(opt.rook_restarts, 0);
    const Index max_moves = 2 * std::max<Index>(opt.rook_iters, 1);
    Index probes = 0, moves = 0;
    probe_max = 0;
    Index bi = -1, bj = -1;
    double best = 0;
    bool found = false;
    for (;;) {
      best = best_read(bi, bj);
      if (worth(best)) {
        if (col_at[size_t(bj)] >= 0 && row_at[size_t(bi)] >= 0) {
          found = true;
          break;
        }
        if (accept > 1 || moves >= max_moves) {
          Index ci, cj;
          const double v = best_crossing(ci, cj);
          if (worth(v) && (v * accept >= best || moves >= max_moves)) {
            bi = ci;
            bj = cj;
            best = v;
            found = true;
            break;
          }
        }
        ++moves;
        if (col_at[size_t(bj)] < 0)
          read_col(bj);
        else
          read_row(bi);
        continue;
      }
      if (probes >= max_probes || !probe()) break;
      ++probes;
    }
    if (estimating || !found) {
      out.error = std::max(std::max(best, probe_max), 0.0);
      break;
    }
    const Vec<T>& pc = kcols[size_t(col_at[size_t(bj)])].res;
    const Vec<T>& pr = krows[size_t(row_at[size_t(bi)])].res;
    const T p = pc[bi];
    out.L.col(k) = pc / p;
    out.U.row(k) = pr.transpose();
    out.L(bi, k) = T(1);
    row_used[size_t(bi)] = 1;
    col_used[size_t(bj)] = 1;
    out.rows.push_back(bi);
    out.cols.push_back(bj);
    out.pivot_abs.push_back(best);
    // Residuals of the lines read after the new pivot (zero on its row and column).
    const auto lk = out.L.col(k);
    const auto uk = out.U.row(k);
    for (Line& l : kcols) {
      if (col_used[size_t(l.index)]) continue;
      l.res.noalias() -= lk * uk[l.index];
      l.res[bi] = T(0);
      rescan(l, row_used);
    }
    for (Line& l : krows) {
      if (row_used[size_t(l.index)]) continue;
      l.res.noalias() -= uk.transpose() * lk[l.index];
      l.res[bj] = T(0);
      rescan(l, col_used);
    }
    ++k;
  }
  finish(out, m, n, k);
  return out;
}

template <class T>
PrrLU<T> prrlu_rook(const CMatRef<T>& A, const PrrLUOptions& opt, std::mt19937_64& rng,
                    const std::vector<Index>& start_cols, const std::vector<Index>& start_rows) {
  const Index m = A.rows(), n = A.cols();
  ColumnFn<T> column = [&](Index j, T* out) { Eigen::Map<Vec<T>>(out, m) = A.col(j); };
  RowFn<T> row = [&](Index i, T* out) { Eigen::Map<Vec<T>>(out, n) = A.row(i).transpose(); };
  return prrlu_rook<T>(m, n, column, row, opt, rng, start_cols, start_rows);
}

#define TNFAST_INSTANTIATE_PRRLU(T)                                                                           \
  template struct PrrLU<T>;                                                                                  \
  template PrrLU<T> prrlu_full<T>(const CMatRef<T>&, const PrrLUOptions&);                                   \
  template PrrLU<T> prrlu_rook<T>(Index, Index, const ColumnFn<T>&, const RowFn<T>&, const PrrLUOptions&,    \
                                  std::mt19937_64&, const std::vector<Index>&, const std::vector<Index>&);   \
  template PrrLU<T> prrlu_rook<T>(Index, Index, const ColumnFn<T>&, const RowFn<T>&, const EntriesFn<T>&,    \
                                  const PrrLUOptions&, std::mt19937_64&, const std::vector<Index>&,          \
                                  const std::vector<Index>&);                                                \
  template PrrLU<T> prrlu_rook<T>(const CMatRef<T>&, const PrrLUOptions&, std::mt19937_64&,                 \
                                  const std::vector<Index>&, const std::vector<Index>&);

TNFAST_INSTANTIATE_PRRLU(double)
TNFAST_INSTANTIATE_PRRLU(cdouble)

}  // namespace tnfast
