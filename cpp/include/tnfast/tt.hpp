// Tensor-train (matrix product state) and matrix product operator algebra.
//
// A tensor train is a list of cores G_k of shape (r_{k-1}, d_k, r_k), r_0 = r_n = 1, held as
// Core3<T> (row-major, as numpy holds them), and represents
//     A[i_1, ..., i_n] = G_1[:, i_1, :] G_2[:, i_2, :] ... G_n[:, i_n, :].
// An MPO core (r_{k-1}, i_k, j_k, r_k) is held as a Core3 with d = i_k * j_k (row index
// slowest), so the canonical forms, rounding and spectra of an MPS apply to it unchanged.
//
// Large products, QRs and SVDs go through linalg:: (BLAS/LAPACK when registered).
// Every routine validates its arguments and throws invalid_argument on bad input.
#pragma once

#include <cstdint>
#include <vector>

#include "tnfast/common.hpp"

namespace tnfast {
namespace tt {

template <class T>
using Cores = std::vector<Core3<T>>;

// Throws invalid_argument unless `cores` is a valid train: at least one core, r_0 = r_n = 1,
// matching bonds, every dimension >= 1.  `name` prefixes the message.
template <class T>
void check_cores(const Cores<T>& cores, const char* name = "cores");

// Physical dimensions (d_1, ..., d_n) and bond dimensions (r_0, ..., r_n).
template <class T>
std::vector<Index> dims(const Cores<T>& cores);
template <class T>
std::vector<Index> ranks(const Cores<T>& cores);

// ---- construction -----------------------------------------------------------------------

// Where a truncation stopped: relative error bound and ranks.
struct TruncationInfo {
  // Sum over bonds of the squared singular values cut, divided by the squared Frobenius norm
  // of the input.  For rounding (a left-to-right sweep in canonical form) the successive cuts
  // are orthogonal (the kept subspaces are nested), so this equals ||A - round(A)||_F^2 / ||A||_F^2
  // up to round-off; the same holds for the sequential truncations of TT-SVD.
  double discarded_weight = 0.0;
  double norm = 0.0;  // Frobenius norm of the input
  std::vector<Index> ranks;  // bond dimensions of the result, r_0 .. r_n
};

// TT-SVD (Oseledets 2011) of the dense C-ordered tensor `data` of the given shape.  At each of
// the n-1 unfoldings the fewest singular values are kept whose cut weight is at most
// delta^2 = rel_tol^2 ||A||^2 / (n-1), and at most max_rank (<= 0: no cap).  Hence
// ||A - TT|| <= rel_tol ||A|| when no rank cap binds.  rel_tol = 0 keeps every nonzero
// singular value (numerically: cuts only exact zeros).  Non-finite data throws.
template <class T>
Cores<T> tt_svd(const T* data, const std::vector<Index>& shape, Index max_rank, double rel_tol,
                TruncationInfo* info = nullptr);

// ---- evaluation ---------------------------------------------------------------------------

// out[b] = A[idx[b, 0], ..., idx[b, n-1]] for b < batch; idx is row-major (batch x n).  Every
// index is checked (invalid_argument names the first bad sample and site) before any is used.
// num_threads: 0 = automatic (up to 2 threads for large batches), otherwise that many.
template <class T>
void evaluate(const Cores<T>& cores, const std::int64_t* idx, Index batch, T* out, int num_threads = 0);

// Feature-vector (embedded) inputs: site k of sample b takes the vector
// features[k][b * row_stride[k] + i], i < d_k, and the value is
//   sum_{i_1..i_n} A[i_1..i_n] f_1[i_1] ... f_n[i_n].
template <class T>
void evaluate_embedded(const Cores<T>& cores, const std::vector<const T*>& features,
                       const std::vector<Index>& row_stride, Index batch, T* out, int num_threads = 0);

// The evaluation kernels are vectorized for the level of tnfast/simd.hpp.

// ---- algebra --------------------------------------------------------------------------------

// <a|b> = sum conj(a) b (a is conjugated).  Shapes must match.
template <class T>
T dot(const Cores<T>& a, const Cores<T>& b);

// Frobenius norm, computed by a rescaled left-to-right sweep of the Gram matrices so that it
// neither overflows nor underflows in the intermediate products.
template <class T>
real_t<T> norm(const Cores<T>& a);

// a + b with block-diagonal cores (ranks add).  Shapes must match.
template <class T>
Cores<T> add(const Cores<T>& a, const Cores<T>& b);

// alpha * a (scales the first core).
template <class T>
Cores<T> scale(const Cores<T>& a, T alpha);

// Elementwise (Hadamard) product; cores are Kronecker products of the slices (ranks multiply).
template <class T>
Cores<T> hadamard(const Cores<T>& a, const Cores<T>& b);

// ---- canonical forms ----------------------------------------------------------------------

// Mixed-canonical form with orthogonality center `center` (0 <= center < n): cores left of it
// become left-orthogonal (sum_{a,i} conj(G[a,i,b]) G[a,i,b'] = delta_{bb'}), cores right of it
// right-orthogonal (sum_{i,b} G[a,i,b] conj(G[a',i,b]) = delta_{aa'}), by QR sweeps.  Bond
// dimensions can only shrink (to min(r, rows of the unfolding)).  The tensor is unchanged.
// center = n-1 is the left-canonical form, center = 0 the right-canonical form.
// Canonical forms, rounding and spectra work on cores scaled by powers of two (exact), so huge
// or tiny trains give the same answer as moderate ones; a result that cannot be represented
// (the center core, the last core or a singular value overflows) throws std::overflow_error.
template <class T>
void canonicalize(Cores<T>& cores, Index center);

// Rounding (TT-rounding): right-canonicalize, then sweep left to right truncating each bond
// by SVD to at most max_rank (<= 0: no cap) values with cut weight at most
// rel_tol^2 ||A||^2 / (n-1) per bond, so ||A - result|| <= rel_tol ||A|| when no cap binds.
// The result is left-canonical up to its last core.  Info as described in TruncationInfo.
template <class T>
TruncationInfo round(Cores<T>& cores, Index max_rank, double rel_tol);

// Schmidt spectrum: singular values across every bond k = 1..n-1 (between sites k-1 and k),
// descending; entry k-1 of the result holds bond k.  Empty for one site.  With `exponent`, the
// spectra are those of the train divided by 2^*exponent (always representable; enough for the
// entropy, which does not depend on the scale).
template <class T>
std::vector<Vec<real_t<T>>> singular_values(const Cores<T>& cores, long* exponent = nullptr);

// Von Neumann entropy S = -sum p ln p, p = s^2 / sum s^2, of each spectrum (0 terms skipped).
template <class R>
std::vector<double> entropy(const std::vector<Vec<R>>& spectra);

// ---- matrix product operators ---------------------------------------------------------------

// MPO cores are Core3 with d_k = rows[k] * cols[k].  C = A B (A: rows x mid, B: mid x cols):
// C_k[(a,b), (i,j), (a',b')] = sum_m A_k[a, (i,m), a'] B_k[b, (m,j), b'].  Bond dims multiply.
// An MPS is the MPO case cols = 1 (apply).
template <class T>
Cores<T> mpo_compose(const Cores<T>& a, const std::vector<Index>& a_rows, const std::vector<Index>& a_cols,
                     const Cores<T>& b, const std::vector<Index>& b_cols);

// y = A x for an MPO A (rows x cols) and an MPS x (dims == cols); returns the MPS y.
template <class T>
Cores<T> mpo_apply(const Cores<T>& a, const std::vector<Index>& rows, const std::vector<Index>& cols,
                   const Cores<T>& x);

}  // namespace tt
}  // namespace tnfast
