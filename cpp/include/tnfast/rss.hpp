// TT-RSS (tensor train via recursive sketching from samples) and TT-RS (tensor train of an
// empirical distribution via recursive sketching).  Eigen only; no Python here.
//
// TT-RSS works on m "extended" sites: the n inputs of the black box f, plus, for a vector
// valued f with C outputs, one label site (one-hot embedding of dimension C) inserted at
// position out_position (0..n).  Input site j of f is extended site j (j < out_position) or
// j + 1 (j >= out_position).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tnfast/common.hpp"

namespace tnfast {
namespace rss {

// The black box: `points` is a (rows x n) row-major array; write rows x n_out values
// (row-major) to `out`.  Any exception thrown propagates out of tt_rss unchanged.
using BatchFn = std::function<void(const double* points, Index rows, double* out)>;

struct Problem {
  Index n = 0;             // number of inputs of f
  Index n_out = 1;         // C: number of outputs of f (1 for a scalar f)
  Index out_position = -1; // position of the label site (0..n) when n_out > 1, else -1
  Index n_samples = 0;     // N
  Index d = 0;             // embedding dimension of the input sites
  const double* samples = nullptr;   // N x n row-major sample values
  const Index* labels = nullptr;     // N labels in [0, n_out) (used when n_out > 1)
  const double* sample_features = nullptr;  // N x n x d row-major: phi(samples[i, j])
  std::vector<std::vector<double>> domains;          // per input j: the values X_j
  std::vector<Mat<double>> domain_features;          // per input j: |X_j| x d, phi(X_j)
};

// How the columns (suffixes) of each site's sketch are chosen.
enum class Sketch {
  samples,   // every distinct sample suffix (the published algorithm)
  adaptive,  // a few suffixes, grown until the trim's rank is revealed (see tt_rss)
};

// Reported after each site (for a progress display).
struct SiteReport {
  Index site = 0, sites = 0, bond = 0, columns = 0;
  long long n_evals = 0;  // points passed to f so far
};

struct Options {
  Index rank = 0;          // maximal bond dimension (<= 0: none)
  double cutoff = -1;      // relative discarded-weight threshold (< 0: none)
  Index batch_size = 4096; // rows per call of f
  bool recurse_sketch = true;   // A_k from the trimmed sketch B_k (false: the partial TT)
  bool reuse = true;            // copy values of grid points already evaluated at the previous site
  Sketch sketch = Sketch::samples;
  Index oversample = 4;         // adaptive: suffixes kept beyond the bond dimension
  double tail_tol = 1e-8;       // adaptive: where the trim cuts more (relative) weight, f is approximated
  double capture_tol = 0.1;     // adaptive, where f is approximated: grow until the kept space leaves
                                // out of held-out suffixes at most (1 + capture_tol) times the weight it
                                // leaves out of its own (<= 0: every suffix there)
  bool all_outputs = false;     // before the label site, one sketch column per output of f and suffix
                                // (default: the output of the suffix's label only, as published)
  std::uint64_t seed = 0;       // adaptive: random choice of the suffixes added
  std::function<void(const SiteReport&)> progress;  // called after each site (optional)
};

struct Times {
  double sketch = 0, callback = 0, fit = 0, trim = 0, solve = 0, recurse = 0;
};

template <class T>
struct Result {
  std::vector<Core3<T>> cores;      // m cores
  std::vector<Index> bonds;         // m - 1 internal bond dimensions
  std::vector<double> discarded;    // per bond: sqrt(discarded weight / total weight)
  std::vector<Index> grid_sizes;    // per site: |S| * |X| * |T| values obtained
  std::vector<long long> site_evals;  // per site: points passed to f for its sketch
  std::vector<Index> site_columns;  // per site: suffixes |T| in its sketch
  long long n_evals = 0;            // rows passed to f
  long long n_calls = 0;            // calls of f
  long long n_reused = 0;           // grid values copied from the previous site's sketch
  Times times;
};

// Runs TT-RSS.  Throws invalid_argument on inconsistent input (|X_j| < d, bad labels, ...).
// Each site: 1. sketch (f on the grid, batched; copies from the previous site), 2. embedding
// fit, 3. trim (shared with TT-RS), 4. core solve (shared with TT-RS), 5. recursion.  With
// Sketch::adaptive a site's sketch holds r + oversample suffixes (r: the rank, or the latest
// bond), more while the trim's rank comes within `oversample` of them, and, where the trim
// discards more than `tail_tol`, more until the kept space captures held-out suffixes as well as
// its own within `capture_tol` (see tnfast.tt_rss).
template <class T>
Result<T> tt_rss(const Problem& p, const Options& opt, const BatchFn& f);

// Least squares min ||A X - B|| by SVD (minimum-norm; singular values below
// max(rows, cols) * eps * s_max are treated as zero).
template <class T>
Mat<T> lstsq(const Mat<T>& A, const Mat<T>& B);

// ---- TT-RS ---------------------------------------------------------------------------
// Samples: N x n row-major integers in [0, d).  The left sketch is a tensor train with cores
// W_k (m_{k-1}, d, m_k), k = 0..n-2 (m_{-1} = 1); the right sketch has cores V_k
// (m'_k, d, m'_{k+1}), k = 1..n-1 (m'_n = 1).  The sketch functions of a prefix / suffix are
// the products of these cores along it.
struct RSProblem {
  Index n = 0, d = 0, n_samples = 0;
  const std::int64_t* samples = nullptr;
  std::vector<Core3<double>> left;   // n - 1 cores
  std::vector<Core3<double>> right;  // n - 1 cores (for sites 1..n-1)
};

template <class T>
struct RSResult {
  std::vector<Core3<T>> cores;
  std::vector<Index> bonds;
  std::vector<double> discarded;
};

template <class T>
RSResult<T> tt_rs(const RSProblem& p, Index rank, double cutoff);

}  // namespace rss
}  // namespace tnfast
