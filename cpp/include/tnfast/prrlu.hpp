// Partial rank-revealing LU (prrLU): A ~= L U with pivots chosen greedily.
//
// After k steps the residual A - L U vanishes on the k pivot rows and columns, and
// L U = A[:, cols] A[rows, cols]^{-1} A[rows, :] (the cross/skeleton interpolation of A).
// L is m x k with L[rows[j], j] = 1 and L[rows[i], j] = 0 for i < j (unit lower triangular
// in pivot order); U is k x n with U[j, cols[i]] = 0 for i < j.
#pragma once

#include <functional>
#include <random>
#include <vector>

#include "tnfast/common.hpp"

namespace tnfast {

template <class T>
struct PrrLU {
  std::vector<Index> rows, cols;   // pivot positions, in the order chosen
  Mat<T> L;                        // m x rank
  Mat<T> U;                        // rank x n
  std::vector<double> pivot_abs;   // |pivot| of each step
  // Largest |residual| left: exact with full search, the best one found with rook search.
  double error = 0;
  Index rank() const { return Index(rows.size()); }
  // A[:, cols] A[rows, cols]^{-1}  (m x rank), computed from the triangular factors.
  Mat<T> left_interp() const;
  // A[rows, cols]^{-1} A[rows, :]  (rank x n), computed from the triangular factors.
  Mat<T> right_interp() const;
};

struct PrrLUOptions {
  Index max_rank = 0;       // <= 0: no cap (min(m, n))
  double abs_tol = 0;       // stop when the best pivot found has |value| <= abs_tol
  Index min_rank = 0;       // take at least this many pivots (while a nonzero one exists)
  Index rook_iters = 8;     // rook: alternating row/column searches per pivot
  Index rook_restarts = 2;  // rook: extra random starting columns tried before stopping
  bool estimate_error = true;  // rook: search once more after the last pivot to estimate the error
};

// Full search over a dense matrix.
template <class T>
PrrLU<T> prrlu_full(const CMatRef<T>& A, const PrrLUOptions& opt);

// Column j of A into out[0..m), row i of A into out[0..n).
template <class T>
using ColumnFn = std::function<void(Index j, T* out)>;
template <class T>
using RowFn = std::function<void(Index i, T* out)>;

// Rook search: alternately the largest residual entry of a column, then of a row, until
// an entry is the largest of both; only the visited rows and columns of A are read.
// Searches start from `start_cols` (in order, while unused), then from `start_rows` (the
// search reads the row and continues from its largest residual column), then from random
// columns.
template <class T>
PrrLU<T> prrlu_rook(Index m, Index n, const ColumnFn<T>& column, const RowFn<T>& row, const PrrLUOptions& opt,
                    std::mt19937_64& rng, const std::vector<Index>& start_cols = {},
                    const std::vector<Index>& start_rows = {});

// Rook search over a dense matrix (same pivots as the lazy version would find).
template <class T>
PrrLU<T> prrlu_rook(const CMatRef<T>& A, const PrrLUOptions& opt, std::mt19937_64& rng,
                    const std::vector<Index>& start_cols = {}, const std::vector<Index>& start_rows = {});

}  // namespace tnfast
