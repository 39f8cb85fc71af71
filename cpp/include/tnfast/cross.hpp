// Tensor cross interpolation: build a tensor train from a black-box function of a
// multi-index, sampling it only on a few fibres.
//
//  * tci2: 2-site TCI (Oseledets & Tyrtyshnikov 2010; Nunez Fernandez, Ritter, Waintal et al.
//    2024) with a partial rank-revealing LU of each 2-site matrix, full or rook pivot search,
//    adaptive ranks and optional global pivots.
//  * cross_maxvol: 1-site TT-cross at a fixed rank with QR + maxvol on every unfolding.
//
// The function is always called on batches of index tuples, and each distinct tuple at most
// once (a cache keyed by the packed multi-index).
#pragma once

#include <chrono>

#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "tnfast/common.hpp"

namespace tnfast {
namespace cross {

// f(idx, batch, n, out): idx holds `batch` multi-indices of length n (row-major, int64);
// the function writes `batch` values into out.  It may throw; the exception propagates.
template <class T>
using BatchFunction = std::function<void(const int64_t* idx, Index batch, Index n, T* out)>;

// A batch function behind a cache.  request() answers from the cache at once or queues the
// point; flush() sends the queued distinct points to f in batches of at most batch_size and
// fills every pending destination.  Non-finite values from f raise invalid_argument naming
// the index.
template <class T>
class CachedFunction {
 public:
  CachedFunction(BatchFunction<T> f, std::vector<Index> shape, bool use_cache, Index batch_size);
  void request(const int64_t* point, T* dest);
  void flush();
  // Value if cached (true), else false; never calls f.
  bool lookup(const int64_t* point, T& value);
  // Values at p points (row-major p x n), through the cache.
  void evaluate(const int64_t* points, Index p, T* out);

  Index evals() const { return evals_; }        // points sent to f
  Index hits() const { return hits_; }          // requests answered by the cache
  Index calls() const { return calls_; }        // calls of f
  Index cache_size() const { return committed_; }
  // Largest |f| seen, in the units of the values handed out (f's values times scale()).
  double max_abs() const { return max_abs_; }
  // Every value of f is handed out multiplied by scale(), a power of two (exact) chosen from
  // the first nonzero batch so that its largest |value| is about 1 when that lies outside
  // 2^-256 .. 2^256, else 1.  The drivers work on the scaled values (tolerances, pivots,
  // products of values would underflow or overflow near 1e-300 or 1e300) and divide the
  // result's first core by it.
  double scale() const { return scale_; }
  Index ndim() const { return Index(shape_.size()); }
  const std::vector<Index>& shape() const { return shape_; }

 private:
  // Open addressing (linear probing).  A slot holds a tag (the packed key itself when it
  // fits one word, else its hash; the words then live in keys_), the entry number and the
  // value.  Entries >= committed_ are the points queued since the last flush; their slots
  // are listed in pending_slot_ and get their values in flush().
  struct Slot {
    uint64_t tag;
    int64_t entry;
    T value;
  };
  void pack(const int64_t* point, uint64_t* out) const;
  uint64_t hash(const uint64_t* key) const;
  void place(std::vector<Slot>& table, const Slot& slot, uint64_t h, Index pending_base);
  void grow();
  void drop_pending();
  void reset_pending();

  BatchFunction<T> f_;
  std::vector<Index> shape_;
  std::vector<int> bits_;
  Index words_ = 1;
  bool use_cache_;
  Index batch_size_;
  std::vector<Slot> slots_;
  std::vector<uint64_t> keys_;   // key words per entry, only when words_ > 1
  Index entries_ = 0, committed_ = 0;
  std::vector<size_t> pending_slot_;
  std::vector<int64_t> pending_points_;
  std::vector<std::pair<T*, Index>> dests_;
  std::vector<uint64_t> scratch_;
  Index evals_ = 0, hits_ = 0, calls_ = 0;
  double max_abs_ = 0;
  double scale_ = 1;
  bool scale_set_ = false;
};

// How tci2 searches each 2-site matrix for pivots.
enum class PivotSearch {
  full,       // read the whole matrix (exact pivot error)
  rook,       // read only the rows and columns visited (PrrLU rook search)
  automatic,  // full when the matrix has at most CrossOptions::full_block_max entries, else rook
};

struct CrossOptions {
  double rel_tol = 1e-10;      // pivot tolerance relative to max |f| seen
  Index max_rank = 0;          // <= 0: no cap (tci2); the fixed rank of cross_maxvol
  // One sweep = a left-to-right and a right-to-left pass.  With the random check
  // (check_samples > 0, the default) tci2 stops after the first pass that leaves no pivot
  // above rel_tol (with global pivots: a right-to-left pass after which none was added) and
  // whose train passes the check below.  Without the check: after the first pass whose pivot
  // error is <= rel_tol and which kept the bond dimensions of the previous pass.
  Index max_sweeps = 20;
  PivotSearch pivot_search = PivotSearch::automatic;
  // automatic: a 2-site matrix with at most this many entries is searched in full (its pivot
  // error is exact), a larger one by rook search.  64 (an 8 x 8 matrix) had the fewest
  // evaluations over the cross suite (geometric mean; bench/README.md).
  Index full_block_max = 64;
  // tci2, rook: extra probes before a bond's search stops (PrrLUOptions).  Default: one probe
  // per bond and pass; later passes probe again and the random-point check guards the stop.
  Index rook_restarts = 0;
  // tci2, rook: PrrLUOptions::rook_tol (>= 1).  Default 1.2: the interpolation coefficients
  // (entries of L and U / pivot) stay below 1.2 in modulus (unless a search exhausts
  // PrrLUOptions::rook_iters); on the cross suite it made fewer evaluations than 1.05 on
  // 10 of 11 functions (2 % more on one), with no misses.
  double rook_tol = 1.2;
  // tci2, rook: probe with min(rows, cols) random entries instead of a random line and the
  // line across it (fewer evaluations, less sensitive to residuals on a few lines).
  bool rook_entry_probes = false;
  Index global_pivots = 0;     // tci2: points of largest error added after each sweep
  Index global_starts = 0;     // tci2: random starts of that search (<= 0: automatic)
  // tci2 random check.  After a pass that leaves no pivot above the pivot tolerance,
  // max(check_samples, ceil(check_fraction * evaluations so far)) points drawn uniformly at
  // random join the points of the earlier checks (cached: no new evaluations for those) and
  // f is compared with the train on all of them; the run stops when max |f - tt| <=
  // check_factor * rel_tol * max|f| there.  Otherwise the (at most check_pivots) points of
  // largest error above that tolerance become pivots of the next pass, an error within 100x
  // the tolerance lowers the pivot tolerance (initially rel_tol), and the sweeps go on.  The
  // largest |f - tt| / max|f| of the last check is the run's error estimate.  0: no check.
  Index check_samples = 64;
  double check_fraction = 0.02;
  // When the check passes on its pool, max(check_samples, ceil(confirm_fraction * evaluations
  // so far)) fresh uniform points confirm it before the run stops (a failure there counts as
  // a failed check).  Only these points were drawn after the train's last change, so they are
  // the independent sample behind the run's promise.  0: no confirmation.
  double confirm_fraction = 0.05;
  // Most failed check points made pivots after a failed check.  Each one joins every bond's
  // 2-site matrix of the next pass as an extra row and column (read in full there), so it
  // costs about the sum of the matrices' sides; on the cross suite one per check made fewer
  // or as many evaluations as 8 on every function but the step (where it bought accuracy),
  // and fewer misses.
  Index check_pivots = 1;
  double check_factor = 1.0;
  bool cache = true;
  Index batch_size = 65536;
  uint64_t seed = 0;
  std::vector<int64_t> initial_pivots;  // row-major p x n; empty: best of random samples
  Index init_samples = 64;     // random samples for the initial pivot
  double maxvol_tol = 1.05;    // cross_maxvol: maxvol tolerance
};

struct SweepInfo {
  double pivot_error = 0;          // largest discarded pivot error of the sweep / max |f|
  std::vector<Index> bond_dims;    // r_1 .. r_{n-1} after the sweep
  Index evals = 0;                 // distinct points sent to f during the sweep
  Index cache_hits = 0;
  Index calls = 0;
  Index global_added = 0;          // global pivots added after the sweep
  bool checked = false;            // the random-point check ran during the sweep
  double check_error = -1;         // largest |f - tt| / max|f| of the sweep's last check (-1: none)
  Index check_points = 0;          // points of that check (confirmation included)
  Index confirm_points = 0;        // fresh points of that check's confirmation (0: none ran)
  Index check_added = 0;           // failed check points made pivots during the sweep
  Index full_blocks = 0;           // 2-site matrices searched in full during the sweep
  Index rook_blocks = 0;           // ... by rook search
  double seconds = 0;
};

template <class T>
struct CrossResult {
  std::vector<Core3<T>> cores;
  std::vector<SweepInfo> sweeps;
  Index evals = 0, cache_hits = 0, calls = 0, cache_size = 0;
  double max_abs = 0;
  double pivot_error = 0;   // of the last sweep
  // Largest |f - tt| / max|f| on the last random check (NaN: no check ran), and its size.
  double error_estimate = std::numeric_limits<double>::quiet_NaN();
  Index check_points = 0;
  // Fresh uniform points of the last check's confirmation (drawn after the train's last
  // change; 0: none ran).  With no failure among them, the fraction of the grid where the
  // error exceeds the tolerance is below 3 / confirm_points with 95 % confidence.
  Index confirm_points = 0;
  bool converged = false;
  double seconds = 0;
};

using SweepCallback = std::function<void(Index sweep, const SweepInfo&)>;

// 2-site TCI; see the file comment.  shape: d_1..d_n (each >= 1).
template <class T>
CrossResult<T> tci2(const BatchFunction<T>& f, const std::vector<Index>& shape, const CrossOptions& opt,
                    const SweepCallback& on_sweep = {});

// 1-site TT-cross with maxvol at the fixed rank opt.max_rank.
template <class T>
CrossResult<T> cross_maxvol(const BatchFunction<T>& f, const std::vector<Index>& shape, const CrossOptions& opt,
                            const SweepCallback& on_sweep = {});

// Values of a tensor train at p multi-indices (row-major p x n).
template <class T>
void tt_values(const std::vector<Core3<T>>& cores, const int64_t* points, Index p, T* out);

// Seconds elapsed since t0.
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The whole tensor when there is a single site of dimension d: d evaluations of F, one core
// and one sweep record, written into res (converged).
template <class T>
void single_site(CachedFunction<T>& F, Index d, std::chrono::steady_clock::time_point t_start,
                 const SweepCallback& on_sweep, CrossResult<T>& res);

// The totals of a run into res (evaluations, cache, max |f| in f's units, time), and its
// first core divided by F.scale().
template <class T>
void finish_result(const CachedFunction<T>& F, std::chrono::steady_clock::time_point t_start, CrossResult<T>& res);

// Argument checks shared by the drivers (throw invalid_argument).
void check_shape(const std::vector<Index>& shape);
void check_options(const CrossOptions& opt, const std::vector<Index>& shape);

}  // namespace cross
}  // namespace tnfast
