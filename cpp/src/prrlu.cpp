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
    const double best = std::sqrt(double(R.cwiseAbs2().maxCoeff(&i, &j)));
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
  std::vector<char> row_used(size_t(m), 0), col_used(size_t(n), 0);
  Index k = 0;
  size_t next_start = 0, next_start_row = 0;

  auto res_col = [&](Index j, Vec<T>& v) {
    column(j, v.data());
    if (k > 0) v.noalias() -= out.L.leftCols(k) * out.U.col(j).head(k);
    for (Index r : out.rows) v[r] = T(0);
  };
  auto res_row = [&](Index i, Vec<T>& v) {
    row(i, v.data());
    if (k > 0) v.noalias() -= out.U.topRows(k).transpose() * out.L.row(i).head(k).transpose();
    for (Index c : out.cols) v[c] = T(0);
  };
  auto argmax = [](const Vec<T>& v, const std::vector<char>& used, double& best) {
    Index at = -1;
    best = -1;
    for (Index t = 0; t < v.size(); ++t) {
      if (used[size_t(t)]) continue;
      const double a = absval(v[t]);
      if (!std::isfinite(a)) throw invalid_argument("prrlu: the matrix holds NaN or Inf");
      if (a > best) {
        best = a;
        at = t;
      }
    }
    return at;
  };
  auto random_unused_col = [&]() -> Index {
    std::uniform_int_distribution<Index> dist(0, n - 1);
    for (int t = 0; t < 64; ++t) {
      Index c = dist(rng);
      if (!col_used[size_t(c)]) return c;
    }
    std::vector<Index> free;
    for (Index c = 0; c < n; ++c)
      if (!col_used[size_t(c)]) free.push_back(c);
    return free[size_t(std::uniform_int_distribution<size_t>(0, free.size() - 1)(rng))];
  };
  auto next_col = [&]() -> Index {
    while (next_start < start_cols.size()) {
      Index c = start_cols[next_start++];
      if (c >= 0 && c < n && !col_used[size_t(c)]) return c;
    }
    return -1;
  };
  auto next_row = [&]() -> Index {
    while (next_start_row < start_rows.size()) {
      Index r = start_rows[next_start_row++];
      if (r >= 0 && r < m && !row_used[size_t(r)]) return r;
    }
    return -1;
  };

  Vec<T> colv(m), rowv(n), best_col(m), best_row(n);
  for (;;) {
    if (k >= full) {
      out.error = 0;
      break;
    }
    const bool estimating = k >= cap;
    if (estimating && !opt.estimate_error) break;
    // One rook search per attempt; stop at the first pivot above tolerance.
    double best = -1;
    Index bi = -1, bj = -1;
    const Index attempts = estimating ? 1 : 1 + std::max<Index>(opt.rook_restarts, 0);
    for (Index att = 0; att < attempts; ++att) {
      // Start from a given column, else from a given row (its best column first), else
      // from a random column.
      Index c = next_col();
      double vc = 0;
      if (c < 0) {
        const Index r0 = next_row();
        if (r0 >= 0) {
          res_row(r0, rowv);
          double v0 = 0;
          c = argmax(rowv, col_used, v0);
        } else {
          c = random_unused_col();
        }
      }
      res_col(c, colv);
      Index i = argmax(colv, row_used, vc);
      double vr = -1;
      bool have_row = false;
      for (Index it = 0; it < std::max<Index>(opt.rook_iters, 1); ++it) {
        res_row(i, rowv);
        have_row = true;
        Index j = argmax(rowv, col_used, vr);
        if (j == c || vr <= vc) break;  // (i, c) is the largest of its row and column
        c = j;
        res_col(c, colv);
        Index i2 = argmax(colv, row_used, vc);
        if (i2 == i || vc <= vr) break;  // rowv still holds row i
        i = i2;
        have_row = false;
      }
      if (!have_row) res_row(i, rowv);
      const double v = absval(colv[i]);
      if (v > best) {
        best = v;
        bi = i;
        bj = c;
        best_col = colv;
        best_row = rowv;
      }
      if (best > opt.abs_tol || (k < opt.min_rank && best > 0)) break;
    }
    if (estimating || best == 0 || (best <= opt.abs_tol && k >= opt.min_rank)) {
      out.error = std::max(best, 0.0);
      break;
    }
    const T p = best_col[bi];
    out.L.col(k) = best_col / p;
    out.U.row(k) = best_row.transpose();
    out.L(bi, k) = T(1);
    row_used[size_t(bi)] = 1;
    col_used[size_t(bj)] = 1;
    out.rows.push_back(bi);
    out.cols.push_back(bj);
    out.pivot_abs.push_back(best);
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
  template PrrLU<T> prrlu_rook<T>(const CMatRef<T>&, const PrrLUOptions&, std::mt19937_64&,                 \
                                  const std::vector<Index>&, const std::vector<Index>&);

TNFAST_INSTANTIATE_PRRLU(double)
TNFAST_INSTANTIATE_PRRLU(cdouble)

}  // namespace tnfast
