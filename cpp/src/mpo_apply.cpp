// Forward and backward sweeps of an MPO over a batch (see tnfast/mpo_apply.hpp).
#include "tnfast/mpo_apply.hpp"
#include "tnfast/parallel.hpp"
#include "tnfast/simd.hpp"
#include "tnfast/memory.hpp"
#include "simd_lanes.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <thread>


namespace tnfast {
namespace mpo {
namespace {

// ---- kernels, one set per instruction set ------------------------------------------------------

// The kernels are compiled once per instruction set, each in its own namespace over that set's
// lanes (simd_lanes.hpp); the register block is sized in mpo_kernels.inc for the set's registers.
#define TNFAST_KERNELS "mpo_kernels.inc"
#include "simd_each_level.inc"

template <class T>
struct Kernels {
  void (*nn)(Index, Index, Index, const T*, const T*, T*, T*);
  void (*nt)(Index, Index, Index, Index, const T*, const T*, T*);
};

template <class T>
Kernels<T> kernels() {
  return TNFAST_SIMD_PICK((Kernels<T>{&kgen::nn<T>, &kgen::nt<T>}), (Kernels<T>{&kavx2::nn<T>, &kavx2::nt<T>}),
                          (Kernels<T>{&kavx512::nn<T>, &kavx512::nt<T>}));
}

// Chunks are padded to a multiple of this many samples (a multiple of every lane count).
constexpr Index kPad = 16;
// Working set aimed at per thread (bytes).
constexpr double kCacheBudget = 1 << 20;

// Per-sample sizes of the states: s[g] before group g, s[G] = output size.
struct Plan {
  Index G = 0, n_in = 1, n_out = 1;
  std::vector<Index> A, K, P, Jr, s;
  Index smax = 0, ssum = 0;  // max over s[0..G], sum over s[0..G-1]
  Index pack = 0;            // elements of a packed panel (inner dimension x 64 columns)
};

Plan make_plan(const std::vector<GroupShape>& sh) {
  Plan p;
  p.G = Index(sh.size());
  for (const auto& g : sh) {
    p.n_in *= g.j;
    p.n_out *= g.i;
  }
  Index a = 1, jr = p.n_in;
  for (const auto& g : sh) {
    jr /= g.j;
    p.A.push_back(a);
    p.K.push_back(g.da * g.j);
    p.P.push_back(g.i * g.db);
    p.Jr.push_back(jr);
    p.s.push_back(a * g.da * g.j * jr);
    a *= g.i;
  }
  p.s.push_back(p.n_out);
  for (Index g = 0; g <= p.G; ++g) p.smax = std::max(p.smax, p.s[size_t(g)]);
  for (Index g = 0; g < p.G; ++g) p.ssum += p.s[size_t(g)];
  for (Index g = 0; g < p.G; ++g) p.pack = std::max(p.pack, 64 * std::max(p.K[size_t(g)], p.P[size_t(g)]));
  return p;
}

Index pick_chunk(const Plan& p, Index batch, int threads, bool backward, std::size_t elem) {
  const double per_sample = double(elem) * double(backward ? p.ssum + 2 * p.smax : 2 * p.smax);
  Index b = Index(kCacheBudget / per_sample) / kPad * kPad;
  b = std::max<Index>(kPad, std::min<Index>(b, 512));
  // enough chunks for every thread
  const Index per_thread = (batch + threads - 1) / std::max(threads, 1);
  const Index cap = std::max<Index>(kPad, (per_thread + kPad - 1) / kPad * kPad);
  return std::min(b, cap);
}

int pick_threads(int num_threads, const Plan& p, Index batch) {
  if (num_threads > 0) return num_threads;
  const unsigned hw = std::thread::hardware_concurrency();
  double work = 0;
  for (Index g = 0; g < p.G; ++g) work += double(p.A[size_t(g)] * p.P[size_t(g)] * p.K[size_t(g)] * p.Jr[size_t(g)]);
  work *= double(batch);
  return (work >= 2e6 && hw >= 2) ? int(std::min(hw, 8u)) : 1;
}

// Run fn(chunk_begin, chunk_end, thread) over the batch in chunks of `chunk` on the core's threads.
template <class F>
void parallel_chunks(Index batch, Index chunk, int threads, F&& fn) {
  parallel::for_each_task((batch + chunk - 1) / chunk, threads,
                          [&](Index c, int t) { fn(c * chunk, std::min(batch, (c + 1) * chunk), t); });
}

}  // namespace

void check_groups(const std::vector<GroupShape>& shapes) {
  if (shapes.empty()) throw invalid_argument("mats: expected at least one group");
  for (size_t g = 0; g < shapes.size(); ++g) {
    const auto& s = shapes[g];
    if (s.da < 1 || s.i < 1 || s.j < 1 || s.db < 1)
      throw invalid_argument("shapes: group " + std::to_string(g) + " has a dimension < 1");
    if (g > 0 && shapes[g - 1].db != s.da)
      throw invalid_argument("shapes: bond between groups " + std::to_string(g - 1) + " and " + std::to_string(g) +
                             " does not match");
  }
  if (shapes.front().da != 1) throw invalid_argument("shapes: the first group's left bond must be 1");
  if (shapes.back().db != 1) throw invalid_argument("shapes: the last group's right bond must be 1");
}

Index chunk_size(const std::vector<GroupShape>& shapes, Index batch, int threads, bool backward) {
  check_groups(shapes);
  const Plan p = make_plan(shapes);
  return pick_chunk(p, std::max<Index>(batch, 1), pick_threads(threads, p, batch), backward, sizeof(float));
}

template <class T>
void sweep_forward(const T* x, Index batch, const std::vector<const T*>& mats, const std::vector<GroupShape>& shapes,
                   T* y, int num_threads) {
  check_groups(shapes);
  if (mats.size() != shapes.size()) throw invalid_argument("mats: one matrix per group expected");
  if (batch <= 0) return;
  const Plan p = make_plan(shapes);
  const Kernels<T> k = kernels<T>();
  const int threads = pick_threads(num_threads, p, batch);
  const Index bp = pick_chunk(p, batch, threads, false, sizeof(T));
  const int nthreads = int(std::max<Index>(1, std::min<Index>(threads, (batch + bp - 1) / bp)));
  ScratchSet<T> scratch(size_t(nthreads), size_t(2 * p.smax * bp + p.pack));
  parallel_chunks(batch, bp, nthreads, [&](Index b0, Index b1, int t) {
    T* s0 = scratch[size_t(t)];
    T* s1 = s0 + p.smax * bp;
    T* pk = s1 + p.smax * bp;
    const Index nb = b1 - b0;
    for (Index kk = 0; kk < p.n_in; ++kk) {
      T* row = s0 + kk * bp;
      for (Index c = 0; c < nb; ++c) row[c] = x[(b0 + c) * p.n_in + kk];
      for (Index c = nb; c < bp; ++c) row[c] = T(0);
    }
    T* cur = s0;
    T* nxt = s1;
    for (Index g = 0; g < p.G; ++g) {
      const size_t gi = size_t(g);
      const Index N = p.Jr[gi] * bp, Kg = p.K[gi], Pg = p.P[gi];
      for (Index a = 0; a < p.A[gi]; ++a) k.nn(Pg, Kg, N, mats[gi], cur + a * Kg * N, nxt + a * Pg * N, pk);
      std::swap(cur, nxt);
    }
    const T* out = cur;
    for (Index c = 0; c < nb; ++c)
      for (Index o = 0; o < p.n_out; ++o) y[(b0 + c) * p.n_out + o] = out[o * bp + c];
  });
}

template <class T>
void sweep_backward(const T* x, Index batch, const std::vector<const T*>& mats,
                    const std::vector<GroupShape>& shapes, const T* gy, T* dx, const std::vector<T*>& dmats,
                    int num_threads) {
  check_groups(shapes);
  if (mats.size() != shapes.size() || dmats.size() != shapes.size())
    throw invalid_argument("mats: one matrix per group expected");
  const Plan p = make_plan(shapes);
  for (Index g = 0; g < p.G; ++g)
    std::fill(dmats[size_t(g)], dmats[size_t(g)] + p.P[size_t(g)] * p.K[size_t(g)], T(0));
  if (batch <= 0) return;
  const Kernels<T> k = kernels<T>();
  const int threads = pick_threads(num_threads, p, batch);
  const Index bp = pick_chunk(p, batch, threads, true, sizeof(T));
  // transposed matrices (K_g x P_g) for the input gradients
  std::vector<std::vector<T>> mt(size_t(p.G));
  Index msize = 0;
  for (Index g = 0; g < p.G; ++g) {
    const size_t gi = size_t(g);
    const Index Pg = p.P[gi], Kg = p.K[gi];
    mt[gi].resize(size_t(Pg * Kg));
    for (Index r = 0; r < Pg; ++r)
      for (Index c = 0; c < Kg; ++c) mt[gi][size_t(c * Pg + r)] = mats[gi][r * Kg + c];
    msize += Pg * Kg;
  }
  const int nthreads = int(std::max<Index>(1, std::min<Index>(threads, (batch + bp - 1) / bp)));
  ScratchSet<T> scratch(size_t(nthreads), size_t((p.ssum + 2 * p.smax) * bp + p.pack));
  std::vector<std::vector<T>> grads(size_t(nthreads), std::vector<T>(size_t(msize), T(0)));
  parallel_chunks(batch, bp, nthreads, [&](Index b0, Index b1, int t) {
    T* buf = scratch[size_t(t)];
    auto& gacc = grads[size_t(t)];
    std::vector<T*> states(size_t(p.G));
    Index off = 0;
    for (Index g = 0; g < p.G; ++g) {
      states[size_t(g)] = buf + off;
      off += p.s[size_t(g)] * bp;
    }
    T* d0 = buf + off;
    T* d1 = d0 + p.smax * bp;
    T* pk = d1 + p.smax * bp;
    const Index nb = b1 - b0;
    T* s0 = states[0];
    for (Index kk = 0; kk < p.n_in; ++kk) {
      T* row = s0 + kk * bp;
      for (Index c = 0; c < nb; ++c) row[c] = x[(b0 + c) * p.n_in + kk];
      for (Index c = nb; c < bp; ++c) row[c] = T(0);
    }
    // recompute the states before every group (the last product is not needed)
    for (Index g = 0; g + 1 < p.G; ++g) {
      const size_t gi = size_t(g);
      const Index N = p.Jr[gi] * bp, Kg = p.K[gi], Pg = p.P[gi];
      for (Index a = 0; a < p.A[gi]; ++a)
        k.nn(Pg, Kg, N, mats[gi], states[gi] + a * Kg * N, states[gi + 1] + a * Pg * N, pk);
    }
    for (Index o = 0; o < p.n_out; ++o) {
      T* row = d0 + o * bp;
      for (Index c = 0; c < nb; ++c) row[c] = gy[(b0 + c) * p.n_out + o];
      for (Index c = nb; c < bp; ++c) row[c] = T(0);
    }
    Index goff = msize;
    for (Index g = p.G - 1; g >= 0; --g) {
      const size_t gi = size_t(g);
      const Index N = p.Jr[gi] * bp, Kg = p.K[gi], Pg = p.P[gi];
      goff -= Pg * Kg;
      T* G = gacc.data() + goff;
      k.nt(p.A[gi], Pg, Kg, N, d0, states[gi], G);
      if (g == 0 && !dx) break;
      for (Index a = 0; a < p.A[gi]; ++a) k.nn(Kg, Pg, N, mt[gi].data(), d0 + a * Pg * N, d1 + a * Kg * N, pk);
      std::swap(d0, d1);
    }
    if (dx) {
      for (Index c = 0; c < nb; ++c)
        for (Index kk = 0; kk < p.n_in; ++kk) dx[(b0 + c) * p.n_in + kk] = d0[kk * bp + c];
    }
  });
  for (const auto& gacc : grads) {
    Index off = 0;
    for (Index g = 0; g < p.G; ++g) {
      const Index n = p.P[size_t(g)] * p.K[size_t(g)];
      T* dst = dmats[size_t(g)];
      for (Index i = 0; i < n; ++i) dst[i] += gacc[size_t(off + i)];
      off += n;
    }
  }
}

#define TNFAST_INST(T)                                                                                          \
  template void sweep_forward<T>(const T*, Index, const std::vector<const T*>&, const std::vector<GroupShape>&, \
                                 T*, int);                                                                      \
  template void sweep_backward<T>(const T*, Index, const std::vector<const T*>&,                               \
                                  const std::vector<GroupShape>&, const T*, T*, const std::vector<T*>&, int);
TNFAST_INST(float)
TNFAST_INST(double)
#undef TNFAST_INST

}  // namespace mpo
}  // namespace tnfast
