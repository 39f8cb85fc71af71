// Maximum-volume submatrix selection.
#pragma once

#include <vector>

#include "tnfast/common.hpp"

namespace tnfast {

// Square maxvol (Goreinov et al. 2010) on a tall matrix A (n x r, n >= r): start from the
// pivot rows of an LU with partial pivoting, then swap rows while max |B_ij| > tol, where
// B = A A[rows]^-1, with rank-1 updates of B.  Returns r distinct row indices.  When `coef`
// is non-null it receives B (n x r), so that A ~= B A[rows] and B[rows] = I.
// Throws invalid_argument on n < r, tol < 1, non-finite input, or a rank-deficient A.
template <class T>
std::vector<Index> maxvol(const CMatRef<T>& A, double tol = 1.05, Index max_iters = 100, Mat<T>* coef = nullptr,
                          Index* iterations = nullptr);

// Rectangular maxvol (Mikhalev & Oseledets 2018): start from maxvol, then greedily add the
// row of largest norm in B while it exceeds tol, with Sherman-Morrison updates, until
// max_rows (<= 0: n) rows; at least min_rows (>= r) rows.  `coef` receives B (n x k) with
// A ~= B A[rows] in the least-squares sense.
template <class T>
std::vector<Index> rect_maxvol(const CMatRef<T>& A, double tol = 1.1, Index min_rows = 0, Index max_rows = 0,
                               Mat<T>* coef = nullptr);

// --- variants on raw row-major storage (as numpy holds a C-contiguous array) ------------

// Square maxvol of the row-major n x r array `A` (leading dimension r).  When `coef` is
// non-null it must hold n * r values and receives B row-major.  Same rules as maxvol().
template <class T>
std::vector<Index> maxvol_rowmajor(const T* A, Index n, Index r, double tol = 1.05, Index max_iters = 100,
                                   T* coef = nullptr, Index* iterations = nullptr);

// Rectangular maxvol of the row-major n x r array `A`, starting from maxvol with tolerance
// `start_tol` and at most `start_iters` swaps (the defaults of rect_maxvol() are 1.05 and
// 100).  `coef` (if non-null) receives B (n x k).
template <class T>
std::vector<Index> rect_maxvol_rowmajor(const T* A, Index n, Index r, double tol = 1.1, Index min_rows = 0,
                                        Index max_rows = 0, RowMat<T>* coef = nullptr, double start_tol = 1.05,
                                        Index start_iters = 100);

// The options of rectangular maxvol in one place (the binding's RectMaxvolOptions).
struct RectMaxvolOptions {
  double tol = 1.1;         // stop adding rows when every row of B has norm <= tol
  Index min_rows = 0;       // at least this many rows (at least r)
  Index max_rows = 0;       // at most this many rows (<= 0: n)
  double start_tol = 1.05;  // tolerance of the square maxvol start
  Index start_iters = 100;  // swaps of the square maxvol start
};

// Rectangular maxvol of the row-major n x r array `A` under `opt` (as rect_maxvol_rowmajor).
template <class T>
std::vector<Index> rect_maxvol_rowmajor(const T* A, Index n, Index r, const RectMaxvolOptions& opt,
                                        RowMat<T>* coef = nullptr) {
  return rect_maxvol_rowmajor<T>(A, n, r, opt.tol, opt.min_rows, opt.max_rows, coef, opt.start_tol,
                                 opt.start_iters);
}

}  // namespace tnfast
