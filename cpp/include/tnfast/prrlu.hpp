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
  Index rook_iters = 8;     // rook: after 2 * rook_iters lines read for one pivot, take the best crossing
  Index rook_restarts = 2;  // rook: extra probes (see prrlu_rook) before concluding that no pivot is left
  // rook: accept an entry whose row and column were both read once no entry read so far
  // exceeds it by more than this factor (>= 1; 1: a strict rook pivot).
  double rook_tol = 1.0;
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

// Rook search with memory: the rows and columns of A read so far are kept with their
// residuals; each pivot search takes the largest residual entry on them, and while that
// entry's row or column was not read, reads it and looks again, so that the pivot is the
// largest residual entry of its row, of its column and of every line read (with
// rook_tol > 1: within that factor of it).  No line is read twice; only the lines visited
// are read.  `start_cols` and `start_rows` are read first; when no entry read exceeds the
// tolerance, 1 + rook_restarts probes are made before the factorization stops: each reads a
// random unread line (a column if m <= n, else a row) and the line across it through its
// largest residual entry, and the search goes on if they hold an entry above tolerance.
template <class T>
PrrLU<T> prrlu_rook(Index m, Index n, const ColumnFn<T>& column, const RowFn<T>& row, const PrrLUOptions& opt,
                    std::mt19937_64& rng, const std::vector<Index>& start_cols = {},
                    const std::vector<Index>& start_rows = {});

// Entries A(rows[t], cols[t]) for t < count into out[0..count).
template <class T>
using EntriesFn = std::function<void(const Index* rows, const Index* cols, Index count, T* out)>;

// The same search; when no entry read exceeds the tolerance, each probe reads min(m, n)
// random entries off the lines read (through `entries`, one call) instead of a random line
// and the line across it; an entry above the tolerance restarts the search from the
// shorter line through it.  The error reported is the largest residual seen, probes
// included.
template <class T>
PrrLU<T> prrlu_rook(Index m, Index n, const ColumnFn<T>& column, const RowFn<T>& row, const EntriesFn<T>& entries,
                    const PrrLUOptions& opt, std::mt19937_64& rng, const std::vector<Index>& start_cols = {},
                    const std::vector<Index>& start_rows = {});

// Rook search over a dense matrix (same pivots as the lazy version would find).
template <class T>
PrrLU<T> prrlu_rook(const CMatRef<T>& A, const PrrLUOptions& opt, std::mt19937_64& rng,
                    const std::vector<Index>& start_cols = {}, const std::vector<Index>& start_rows = {});

}  // namespace tnfast
