// Forward and backward contraction of an MPS classifier over a batch (see tnfast/mps_contract.hpp).
#include "tnfast/mps_contract.hpp"

#include <algorithm>
#include <string>
#include <thread>

#include "tnfast/parallel.hpp"
#include "tnfast/simd.hpp"
#include "tnfast/memory.hpp"
#include "simd_lanes.hpp"

namespace tnfast {
namespace mps {
namespace {

// ---- kernels, one set per instruction set ------------------------------------------------------

// The kernels are compiled once per instruction set, each in its own namespace over that set's
// lanes (simd_lanes.hpp); the tiles are sized in mps_kernels.inc for the set's registers.
#define TNFAST_KERNELS "mps_kernels.inc"
#include "simd_each_level.inc"

template <class T>
struct Kernels {
  void (*apply)(Index, const T*, Index, Index, const T*, Index, const T*, Index, T*, Index, Index);
  void (*grad)(Index, const T*, Index, Index, const T*, Index, Index, const T*, Index, Index, T*);
};

template <class T>
Kernels<T> kernels() {
  return TNFAST_SIMD_PICK((Kernels<T>{&kgen::apply<T>, &kgen::grad<T>}),
                          (Kernels<T>{&kavx2::apply<T>, &kavx2::grad<T>}),
                          (Kernels<T>{&kavx512::apply<T>, &kavx512::grad<T>}));
}

// ---- the driver ---------------------------------------------------------------------------------

// Samples per chunk: each chunk runs the whole chain site by site, its rows (environment, features,
// output) staying in the first cache levels.
template <class T>
constexpr Index chunk_lanes() {
  return sizeof(T) == 4 ? 512 : 256;
}

// Core k's values reordered for the products the passes need.
//   right[(s d + p) rl + a] = G[a, p, s]        (right sites forward, left sites backward)
//   out_fwd[(a rr + s) C + y] = G[a, y, s]      (the output site, forward)
//   out_bwd[(y rr + s) rl + a] = G[a, y, s]     (the output site, gradient of its left environment)
template <class T>
std::vector<T> pack_right(const CoreShape& s, const T* g) {
  std::vector<T> out(size_t(s.rl * s.d * s.rr));
  for (Index a = 0; a < s.rl; ++a)
    for (Index p = 0; p < s.d; ++p)
      for (Index b = 0; b < s.rr; ++b) out[size_t((b * s.d + p) * s.rl + a)] = g[(a * s.d + p) * s.rr + b];
  return out;
}

template <class T>
std::vector<T> pack_out_fwd(const CoreShape& s, const T* g) {
  std::vector<T> out(size_t(s.rl * s.d * s.rr));
  for (Index a = 0; a < s.rl; ++a)
    for (Index y = 0; y < s.d; ++y)
      for (Index b = 0; b < s.rr; ++b) out[size_t((a * s.rr + b) * s.d + y)] = g[(a * s.d + y) * s.rr + b];
  return out;
}

// The threads and the per-thread batch ranges (multiples of kBatchPad, contiguous, in order).
struct Split {
  int threads = 1;
  Index per_thread = 0;
};

Split split_batch(const Chain& ch, int num_threads) {
  Split s;
  const Index blocks = ch.padded_batch / kBatchPad;
  // num_threads <= 0: the hardware's threads (at most 8).  Below about a million multiply-adds a
  // second thread costs more than it saves, whatever was asked.
  int threads = num_threads;
  if (threads <= 0) threads = int(std::min(std::max(std::thread::hardware_concurrency(), 1u), 8u));
  double work = 0;
  for (const auto& c : ch.shapes) work += double(c.rl * c.d * c.rr);
  if (work * double(ch.batch) < 1e6) threads = 1;
  threads = int(std::max<Index>(1, std::min<Index>(threads, blocks)));
  s.threads = threads;
  s.per_thread = blocks == 0 ? 0 : (blocks + threads - 1) / threads * kBatchPad;
  return s;
}

// Runs fn(b0, nl, r) over the chunks of range r, one range per thread; r (< threads) picks the
// scratch and the gradient sums, so the sums are added in the same order whichever thread runs r.
template <class F>
void for_chunks(const Chain& ch, const Split& sp, Index chunk, F&& fn) {
  parallel::for_each_task(sp.threads, sp.threads, [&](Index t, int) {
    const Index lo = std::min(ch.padded_batch, t * sp.per_thread);
    const Index hi = std::min(ch.padded_batch, lo + sp.per_thread);
    for (Index b0 = lo; b0 < hi; b0 += chunk) fn(b0, std::min(chunk, hi - b0), int(t));
  });
}

// Copies features[b, :, :] for the nl samples from b0 into the rows (j d + p) of `ft` (stride
// row_stride; zero beyond the batch).  Eight samples at a time, so that every written cache line
// is filled at once while the eight rows of features are read in order.
template <class T>
void transpose_features(const Chain& ch, const T* features, Index b0, Index nl, T* ft) {
  const Index nd = ch.n_inputs * ch.d, ld = ch.row_stride;
  constexpr Index S = 8;
  for (Index w0 = 0; w0 < nl; w0 += S) {
    const Index nb = std::max<Index>(0, std::min(S, ch.batch - (b0 + w0)));
    T* dst = ft + b0 + w0;
    if (nb == S) {
      const T* src[S];
      for (Index w = 0; w < S; ++w) src[w] = features + (b0 + w0 + w) * nd;
      for (Index r = 0; r < nd; ++r)
        for (Index w = 0; w < S; ++w) dst[r * ld + w] = src[w][r];
      continue;
    }
    for (Index r = 0; r < nd; ++r)
      for (Index w = 0; w < S; ++w) dst[r * ld + w] = w < nb ? features[(b0 + w0 + w) * nd + r] : T(0);
  }
}

}  // namespace

Chain make_chain(const std::vector<CoreShape>& shapes, Index out_position, Index batch, Index n_inputs, Index d) {
  if (batch < 0) throw invalid_argument("features: negative batch size");
  if (n_inputs < 0) throw invalid_argument("features: negative number of inputs");
  if (d < 1) throw invalid_argument("features: the feature dimension must be at least 1");
  if (out_position < -1 || out_position > n_inputs)
    throw invalid_argument("out_position: expected -1 (no output site) or 0.." + std::to_string(n_inputs) +
                           " for " + std::to_string(n_inputs) + " input sites, got " + std::to_string(out_position));
  const Index N = Index(shapes.size());
  const Index want = n_inputs + (out_position >= 0 ? 1 : 0);
  if (N != want)
    throw invalid_argument("cores: expected " + std::to_string(want) + " cores (" + std::to_string(n_inputs) +
                           " input sites" + (out_position >= 0 ? " and an output site" : "") +
                           ", from features of shape (batch, " + std::to_string(n_inputs) + ", " +
                           std::to_string(d) + ")), got " + std::to_string(N));
  if (N == 0) throw invalid_argument("cores: expected at least one core");
  for (Index k = 0; k < N; ++k) {
    const auto& s = shapes[size_t(k)];
    const std::string name = "cores[" + std::to_string(k) + "]";
    if (s.rl < 1 || s.d < 1 || s.rr < 1) throw invalid_argument(name + ": every dimension must be at least 1");
    if (k > 0 && shapes[size_t(k - 1)].rr != s.rl)
      throw invalid_argument(name + ": left bond " + std::to_string(s.rl) + " does not match the right bond " +
                             std::to_string(shapes[size_t(k - 1)].rr) + " of cores[" + std::to_string(k - 1) + "]");
    if (k != out_position && s.d != d)
      throw invalid_argument(name + ": physical dimension " + std::to_string(s.d) +
                             " does not match the feature dimension " + std::to_string(d) + " of features");
  }
  if (shapes.front().rl != 1) throw invalid_argument("cores[0]: the left bond must be 1");
  if (shapes.back().rr != 1) throw invalid_argument("cores[" + std::to_string(N - 1) + "]: the right bond must be 1");
  Chain ch;
  ch.shapes = shapes;
  ch.n_inputs = n_inputs;
  ch.d = d;
  ch.out_position = out_position;
  ch.classes = out_position >= 0 ? shapes[size_t(out_position)].d : 1;
  ch.batch = batch;
  ch.padded_batch = (batch + kBatchPad - 1) / kBatchPad * kBatchPad;
  ch.row_stride = ch.padded_batch + kRowSkew;
  ch.env_offset.resize(size_t(N + 1));
  Index off = 0;
  for (Index e = 0; e <= N; ++e) {
    ch.env_offset[size_t(e)] = off;
    off += (e < N ? shapes[size_t(e)].rl : 1) * ch.row_stride;
  }
  ch.feature_offset = off;
  ch.env_size = off + n_inputs * d * ch.row_stride;
  return ch;
}

template <class T>
void forward(const Chain& ch, const std::vector<const T*>& cores, const T* features, T* out, T* envs,
             int num_threads) {
  const Index N = ch.num_cores(), c = ch.split(), C = ch.classes, d = ch.d, Bp = ch.row_stride;
  if (Index(cores.size()) != N) throw invalid_argument("cores: expected " + std::to_string(N) + " cores");
  if (ch.padded_batch == 0) return;
  const auto K = kernels<T>();
  std::vector<std::vector<T>> packed(static_cast<size_t>(N));
  for (Index k = c + 1; k < N; ++k) packed[size_t(k)] = pack_right(ch.shapes[size_t(k)], cores[size_t(k)]);
  if (ch.has_output()) packed[size_t(c)] = pack_out_fwd(ch.shapes[size_t(c)], cores[size_t(c)]);
  const Split sp = split_batch(ch, num_threads);
  const Index chunk = chunk_lanes<T>();
  const Index ls = chunk + kRowSkew;  // row stride of the scratch rows
  ScratchSet<T> scratch(size_t(sp.threads), size_t(C * ls), true);
  for_chunks(ch, sp, chunk, [&](Index b0, Index nl, int t) {
    T* obuf = scratch[size_t(t)];
    auto env = [&](Index e) { return envs + ch.env_offset[size_t(e)] + b0; };
    auto feat = [&](Index j) { return envs + ch.feature_offset + j * d * Bp + b0; };
    transpose_features(ch, features, b0, nl, envs + ch.feature_offset);
    std::fill(env(0), env(0) + nl, T(1));
    for (Index k = 0; k < c; ++k) {
      const auto& s = ch.shapes[size_t(k)];
      K.apply(s.rl, env(k), Bp, d, feat(k), Bp, cores[size_t(k)], s.rr, env(k + 1), Bp, nl);
    }
    const Index nb = std::max<Index>(0, std::min(nl, ch.batch - b0));
    if (!ch.has_output()) {
      std::copy(env(N), env(N) + nb, out + b0);
      return;
    }
    std::fill(env(N), env(N) + nl, T(1));
    for (Index k = N - 1; k > c; --k) {
      const auto& s = ch.shapes[size_t(k)];
      K.apply(s.rr, env(k + 1), Bp, d, feat(k - 1), Bp, packed[size_t(k)].data(), s.rl, env(k), Bp, nl);
    }
    const auto& s = ch.shapes[size_t(c)];
    K.apply(s.rl, env(c), Bp, s.rr, env(c + 1), Bp, packed[size_t(c)].data(), C, obuf, ls, nl);
    for (Index w = 0; w < nb; ++w)
      for (Index y = 0; y < C; ++y) out[(b0 + w) * C + y] = obuf[y * ls + w];
  });
}

template <class T>
void backward(const Chain& ch, const std::vector<const T*>& cores, const T* envs, const T* grad_out,
              const std::vector<T*>& grads, int num_threads) {
  const Index N = ch.num_cores(), c = ch.split(), C = ch.classes, d = ch.d, Bp = ch.row_stride;
  if (Index(cores.size()) != N || Index(grads.size()) != N)
    throw invalid_argument("cores: expected " + std::to_string(N) + " cores and gradients");
  std::vector<Index> goff(size_t(N + 1), 0);
  Index rmax = 1;
  for (Index k = 0; k < N; ++k) {
    const auto& s = ch.shapes[size_t(k)];
    goff[size_t(k + 1)] = goff[size_t(k)] + s.rl * s.d * s.rr;
    rmax = std::max(rmax, s.rr);
  }
  if (ch.padded_batch == 0) {
    for (Index k = 0; k < N; ++k)
      std::fill(grads[size_t(k)], grads[size_t(k)] + (goff[size_t(k + 1)] - goff[size_t(k)]), T(0));
    return;
  }
  const auto K = kernels<T>();
  std::vector<std::vector<T>> packed(static_cast<size_t>(N));
  for (Index k = 0; k < c; ++k) packed[size_t(k)] = pack_right(ch.shapes[size_t(k)], cores[size_t(k)]);
  if (ch.has_output()) {
    // out_bwd[(y rr + s) rl + a] = G[a, y, s]: the right-packed layout of the core (a, y, s).
    packed[size_t(c)] = pack_right(ch.shapes[size_t(c)], cores[size_t(c)]);
    // pack_right gives [(s C + y) rl + a]; reorder to [(y rr + s) rl + a].
    const auto& s = ch.shapes[size_t(c)];
    std::vector<T> re(packed[size_t(c)].size());
    for (Index y = 0; y < s.d; ++y)
      for (Index b = 0; b < s.rr; ++b)
        std::copy_n(packed[size_t(c)].data() + (b * s.d + y) * s.rl, s.rl, re.data() + (y * s.rr + b) * s.rl);
    packed[size_t(c)].swap(re);
  }
  const Split sp = split_batch(ch, num_threads);
  const Index chunk = chunk_lanes<T>();
  const Index ls = chunk + kRowSkew;  // row stride of the scratch rows
  const Index per_chunk = (C + 3 * rmax) * ls;
  ScratchSet<T> scratch(size_t(sp.threads), size_t(per_chunk + goff[size_t(N)]), true);
  for_chunks(ch, sp, chunk, [&](Index b0, Index nl, int t) {
    T* gbuf = scratch[size_t(t)];
    // bufs[0], bufs[1]: gradients of the left environments; bufs[2] and then bufs[0]: right ones
    T* bufs[3] = {gbuf + C * ls, gbuf + (C + rmax) * ls, gbuf + (C + 2 * rmax) * ls};
    T* gacc = scratch[size_t(t)] + per_chunk;
    auto env = [&](Index e) { return envs + ch.env_offset[size_t(e)] + b0; };
    auto feat = [&](Index j) { return envs + ch.feature_offset + j * d * Bp + b0; };
    const Index nb = std::max<Index>(0, std::min(nl, ch.batch - b0));
    for (Index y = 0; y < C; ++y) {
      T* row = gbuf + y * ls;
      for (Index w = 0; w < nb; ++w) row[w] = grad_out[(b0 + w) * C + y];
      std::fill(row + nb, row + nl, T(0));
    }
    T* left = gbuf;      // gradient of the left environment at bond c
    T* right = nullptr;  // gradient of the right environment at bond c + 1
    if (ch.has_output()) {
      const auto& s = ch.shapes[size_t(c)];
      K.grad(s.rl, env(c), Bp, C, gbuf, ls, s.rr, env(c + 1), Bp, nl, gacc + goff[size_t(c)]);
      left = bufs[0];
      right = bufs[2];
      if (c > 0) K.apply(C, gbuf, ls, s.rr, env(c + 1), Bp, packed[size_t(c)].data(), s.rl, left, ls, nl);
      if (c < N - 1) K.apply(s.rl, env(c), Bp, C, gbuf, ls, cores[size_t(c)], s.rr, right, ls, nl);
    }
    // left part: cores c-1, ..., 0
    for (Index k = c - 1; k >= 0; --k) {
      const auto& s = ch.shapes[size_t(k)];
      K.grad(s.rl, env(k), Bp, d, feat(k), Bp, s.rr, left, ls, nl, gacc + goff[size_t(k)]);
      if (k == 0) break;
      T* next = left == bufs[0] ? bufs[1] : bufs[0];
      K.apply(s.rr, left, ls, d, feat(k), Bp, packed[size_t(k)].data(), s.rl, next, ls, nl);
      left = next;
    }
    // right part: cores c+1, ..., N-1
    for (Index k = c + 1; k < N; ++k) {
      const auto& s = ch.shapes[size_t(k)];
      K.grad(s.rl, right, ls, d, feat(k - 1), Bp, s.rr, env(k + 1), Bp, nl, gacc + goff[size_t(k)]);
      if (k == N - 1) break;
      T* next = right == bufs[2] ? bufs[0] : bufs[2];
      K.apply(s.rl, right, ls, d, feat(k - 1), Bp, cores[size_t(k)], s.rr, next, ls, nl);
      right = next;
    }
  });
  for (Index k = 0; k < N; ++k) {
    T* g = grads[size_t(k)];
    const Index len = goff[size_t(k + 1)] - goff[size_t(k)];
    const T* a0 = scratch[0] + per_chunk + goff[size_t(k)];
    std::copy(a0, a0 + len, g);
    for (int t = 1; t < sp.threads; ++t) {
      const T* a = scratch[size_t(t)] + per_chunk + goff[size_t(k)];
      for (Index i = 0; i < len; ++i) g[i] += a[i];
    }
  }
}

#define TNFAST_INST(T)                                                                                         \
  template void forward<T>(const Chain&, const std::vector<const T*>&, const T*, T*, T*, int);                 \
  template void backward<T>(const Chain&, const std::vector<const T*>&, const T*, const T*,                    \
                            const std::vector<T*>&, int);
TNFAST_INST(float)
TNFAST_INST(double)
#undef TNFAST_INST

}  // namespace mps
}  // namespace tnfast
