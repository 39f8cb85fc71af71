// Batched evaluation of a tensor train at index tuples and at feature-vector inputs.
//
// Each sample runs the left-to-right chain v <- v G_k[:, i_k, :] (integer indices) or
// v <- (v (x) f_k) left(G_k) (feature vectors).  The cores are first packed with their right
// bond padded with zeros to a compile-time width R, so that a sample's running row vector
// lives in vector registers; P samples are interleaved to hide the FMA latency.  The
// kernels are compiled for AVX-512, AVX2+FMA and the baseline ISA and picked at run time.
// Large batches are split over (at most) two threads.
#include <atomic>
#include <thread>
#include <type_traits>
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#endif

#include "tnfast/memory.hpp"
#include "tnfast/parallel.hpp"
#include "tnfast/simd.hpp"
#include "tt_detail.hpp"

namespace tnfast {
namespace tt {
namespace {

template <class T>
struct Job {
  Index n = 0, R = 0, dmax = 1;
  const T* packed = nullptr;
  std::vector<Index> off, rl, d;  // per site: offset in `packed`, left bond, physical size
  const std::int64_t* idx = nullptr;   // integer mode: batch x n
  std::vector<const T*> feat;          // embedded mode: per site
  std::vector<Index> fstride;
};

// Pack core k as rows of width R (zeros beyond rr).  Integer mode: slice i holds rows a < rl
// at off + i*rl*R.  Embedded mode: rows (a, i) in the order a*d + i at off (left unfolding).
// Sample-interleaved layout (soa): rows a < rl, each R groups of the d values G[a, :, s].
template <class T>
std::vector<T> pack(const Cores<T>& cores, Index R, bool embedded, Job<T>& job, bool soa = false) {
  const Index n = Index(cores.size());
  job.n = n;
  job.R = R;
  job.off.assign(size_t(n), 0);
  job.rl.assign(size_t(n), 0);
  job.d.assign(size_t(n), 0);
  Index tot = 0;
  for (Index k = 0; k < n; ++k) {
    const auto& G = cores[size_t(k)];
    job.off[size_t(k)] = tot;
    job.rl[size_t(k)] = G.rl;
    job.d[size_t(k)] = G.d;
    job.dmax = std::max(job.dmax, G.d);
    tot += G.rl * G.d * R;
  }
  std::vector<T> packed(size_t(tot), T(0));
  for (Index k = 0; k < n; ++k) {
    const auto& G = cores[size_t(k)];
    T* base = packed.data() + job.off[size_t(k)];
    if (soa) {
      for (Index a = 0; a < G.rl; ++a)
        for (Index i = 0; i < G.d; ++i)
          for (Index b = 0; b < G.rr; ++b) base[(a * R + b) * G.d + i] = G(a, i, b);
      continue;
    }
    for (Index a = 0; a < G.rl; ++a)
      for (Index i = 0; i < G.d; ++i) {
        T* row = embedded ? base + (a * G.d + i) * R : base + (i * G.rl + a) * R;
        std::copy(&G(a, i, 0), &G(a, i, 0) + G.rr, row);
      }
  }
  return packed;
}

// ---- kernels --------------------------------------------------------------------------------

// Fixed width R, P samples at a time (real T).  scratch: P * R * dmax values (embedded mode).
template <class T, int R, int P, bool Emb>
TNFAST_ALWAYS_INLINE void chain_fixed(const Job<T>& J, Index b0, Index b1, T* out, T* scratch) {
  alignas(64) T v[P][R];
  const Index n = J.n;
  const Index ustride = R * J.dmax;
  for (Index b = b0; b < b1; b += P) {
    const Index nb = std::min<Index>(P, b1 - b);
    Index bs[P];
    for (int p = 0; p < P; ++p) bs[p] = b + (p < nb ? p : 0);
    for (int p = 0; p < P; ++p)
      for (int s = 0; s < R; ++s) v[p][s] = T(s == 0 ? 1 : 0);
    for (Index k = 0; k < n; ++k) {
      const Index rl = J.rl[size_t(k)];
      const T* base = J.packed + J.off[size_t(k)];
      T acc[P][R];
      for (int p = 0; p < P; ++p)
        for (int s = 0; s < R; ++s) acc[p][s] = T(0);
      if constexpr (!Emb) {
        const T* g[P];
        for (int p = 0; p < P; ++p) g[p] = base + J.idx[bs[p] * n + k] * rl * R;
        for (Index a = 0; a < rl; ++a) {
          for (int p = 0; p < P; ++p) {
            const T x = v[p][a];
            const T* gr = g[p] + a * R;
            for (int s = 0; s < R; ++s) acc[p][s] += x * gr[s];
          }
        }
      } else {
        const Index dk = J.d[size_t(k)];
        const Index rows = rl * dk;
        for (int p = 0; p < P; ++p) {
          const T* f = J.feat[size_t(k)] + bs[p] * J.fstride[size_t(k)];
          T* u = scratch + p * ustride;
          for (Index a = 0; a < rl; ++a)
            for (Index i = 0; i < dk; ++i) u[a * dk + i] = v[p][a] * f[i];
        }
        for (Index a = 0; a < rows; ++a) {
          const T* gr = base + a * R;
          for (int p = 0; p < P; ++p) {
            const T x = scratch[p * ustride + a];
            for (int s = 0; s < R; ++s) acc[p][s] += x * gr[s];
          }
        }
      }
      for (int p = 0; p < P; ++p)
        for (int s = 0; s < R; ++s) v[p][s] = acc[p][s];
    }
    for (Index p = 0; p < nb; ++p) out[b + p] = v[p][0];
  }
}

// Any width, any scalar (complex included), one sample at a time.
// scratch: 2 * R + R * dmax values.
template <class T, bool Emb>
TNFAST_ALWAYS_INLINE void chain_dynamic(const Job<T>& J, Index b0, Index b1, T* out, T* scratch) {
  const Index n = J.n, R = J.R;
  T* v = scratch;
  T* acc = scratch + R;
  T* u = scratch + 2 * R;
  for (Index b = b0; b < b1; ++b) {
    std::fill(v, v + R, T(0));
    v[0] = T(1);
    for (Index k = 0; k < n; ++k) {
      const Index rl = J.rl[size_t(k)];
      const T* base = J.packed + J.off[size_t(k)];
      std::fill(acc, acc + R, T(0));
      const T* g;
      const T* x;
      Index rows;
      if constexpr (!Emb) {
        g = base + J.idx[b * n + k] * rl * R;
        x = v;
        rows = rl;
      } else {
        const Index dk = J.d[size_t(k)];
        const T* f = J.feat[size_t(k)] + b * J.fstride[size_t(k)];
        for (Index a = 0; a < rl; ++a)
          for (Index i = 0; i < dk; ++i) u[a * dk + i] = v[a] * f[i];
        g = base;
        x = u;
        rows = rl * dk;
      }
      for (Index a = 0; a < rows; ++a) {
        const T xa = x[a];
        const T* gr = g + a * R;
        for (Index s = 0; s < R; ++s) acc[s] += xa * gr[s];
      }
      std::copy(acc, acc + R, v);
    }
    out[b] = v[0];
  }
}

#if TNFAST_SIMD_X86
// AVX-512, double, integer indices with d <= 4: eight samples per zmm lane group.  The running
// rows of the 8 samples are held transposed (v[a] = the a-th entries of the 8 rows), and each
// core entry G[a, i_p, s] is selected per lane by masked blends of broadcasts, so that one
// FMA serves 8 samples and no padding of the bonds is needed.  scratch: R * 8 values.
template <int R>
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma"))) void soa8_avx512(const Job<double>& J, Index b0,
                                                                                 Index b1, double* out,
                                                                                 double* scratch) {
  const Index n = J.n;
  std::vector<long long> ibuf(size_t(n * 8));  // n x 8 lane indices
  long long* ib = ibuf.data();
  double* vbuf = scratch;  // R x 8 running rows (transposed)
  for (Index b = b0; b < b1; b += 8) {
    const Index nb = std::min<Index>(8, b1 - b);
    for (Index p = 0; p < 8; ++p) {
      const std::int64_t* row = J.idx + (b + (p < nb ? p : 0)) * n;
      for (Index k = 0; k < n; ++k) ib[k * 8 + p] = row[k];
    }
    for (int s = 0; s < R; ++s) _mm512_storeu_pd(vbuf + s * 8, _mm512_set1_pd(s == 0 ? 1.0 : 0.0));
    for (Index k = 0; k < n; ++k) {
      const Index rl = J.rl[size_t(k)], d = J.d[size_t(k)];
      const double* g = J.packed + J.off[size_t(k)];
      const __m512i iv = _mm512_loadu_si512(reinterpret_cast<const void*>(ib + k * 8));
      __m512d acc[R];
      for (int s = 0; s < R; ++s) acc[s] = _mm512_setzero_pd();
      if (d == 2) {
        const __mmask8 m1 = _mm512_cmpeq_epi64_mask(iv, _mm512_set1_epi64(1));
        // Lanes of index 0 and 1 take x through separate zero-masked copies: two FMAs with
        // broadcast operands and no blend (exact: the other lanes add 0 * G).
        for (Index a = 0; a < rl; ++a) {
          const __m512d x = _mm512_loadu_pd(vbuf + a * 8);
          const __m512d x0 = _mm512_maskz_mov_pd(__mmask8(~m1), x);
          const __m512d x1 = _mm512_maskz_mov_pd(m1, x);
          const double* ga = g + a * R * 2;
          for (int s = 0; s < R; ++s) {
            acc[s] = _mm512_fmadd_pd(x0, _mm512_set1_pd(ga[2 * s]), acc[s]);
            acc[s] = _mm512_fmadd_pd(x1, _mm512_set1_pd(ga[2 * s + 1]), acc[s]);
          }
        }
      } else {
        __mmask8 m[4];
        for (Index i = 0; i < 4; ++i) m[i] = _mm512_cmpeq_epi64_mask(iv, _mm512_set1_epi64(i));
        for (Index a = 0; a < rl; ++a) {
          const __m512d x = _mm512_loadu_pd(vbuf + a * 8);
          const double* ga = g + a * R * d;
          for (int s = 0; s < R; ++s) {
            __m512d gs = _mm512_set1_pd(ga[s * d]);
            for (Index i = 1; i < d; ++i) gs = _mm512_mask_blend_pd(m[i], gs, _mm512_set1_pd(ga[s * d + i]));
            acc[s] = _mm512_fmadd_pd(x, gs, acc[s]);
          }
        }
      }
      for (int s = 0; s < R; ++s) _mm512_storeu_pd(vbuf + s * 8, acc[s]);
    }
    for (Index p = 0; p < nb; ++p) out[b + p] = vbuf[p];
  }
}

// float: sixteen samples per vector, otherwise as soa8_avx512.
template <int R>
__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma"))) void soa16_avx512(const Job<float>& J, Index b0,
                                                                                  Index b1, float* out,
                                                                                  float* scratch) {
  const Index n = J.n;
  std::vector<int> ibuf(size_t(n * 16));  // n x 16 lane indices
  int* ib = ibuf.data();
  float* vbuf = scratch;  // R x 16 running rows (transposed)
  for (Index b = b0; b < b1; b += 16) {
    const Index nb = std::min<Index>(16, b1 - b);
    for (Index p = 0; p < 16; ++p) {
      const std::int64_t* row = J.idx + (b + (p < nb ? p : 0)) * n;
      for (Index k = 0; k < n; ++k) ib[k * 16 + p] = int(row[k]);
    }
    for (int s = 0; s < R; ++s) _mm512_storeu_ps(vbuf + s * 16, _mm512_set1_ps(s == 0 ? 1.0f : 0.0f));
    for (Index k = 0; k < n; ++k) {
      const Index rl = J.rl[size_t(k)], d = J.d[size_t(k)];
      const float* g = J.packed + J.off[size_t(k)];
      const __m512i iv = _mm512_loadu_si512(reinterpret_cast<const void*>(ib + k * 16));
      __m512 acc[R];
      for (int s = 0; s < R; ++s) acc[s] = _mm512_setzero_ps();
      __mmask16 m[4];
      for (int i = 0; i < 4; ++i) m[i] = _mm512_cmpeq_epi32_mask(iv, _mm512_set1_epi32(i));
      for (Index a = 0; a < rl; ++a) {
        const __m512 x = _mm512_loadu_ps(vbuf + a * 16);
        const float* ga = g + a * R * d;
        if (d == 2) {
          const __m512 x0 = _mm512_maskz_mov_ps(m[0], x);
          const __m512 x1 = _mm512_maskz_mov_ps(m[1], x);
          for (int s = 0; s < R; ++s) {
            acc[s] = _mm512_fmadd_ps(x0, _mm512_set1_ps(ga[2 * s]), acc[s]);
            acc[s] = _mm512_fmadd_ps(x1, _mm512_set1_ps(ga[2 * s + 1]), acc[s]);
          }
        } else {
          for (int s = 0; s < R; ++s) {
            __m512 gs = _mm512_set1_ps(ga[s * d]);
            for (Index i = 1; i < d; ++i) gs = _mm512_mask_blend_ps(m[i], gs, _mm512_set1_ps(ga[s * d + i]));
            acc[s] = _mm512_fmadd_ps(x, gs, acc[s]);
          }
        }
      }
      for (int s = 0; s < R; ++s) _mm512_storeu_ps(vbuf + s * 16, acc[s]);
    }
    for (Index p = 0; p < nb; ++p) out[b + p] = vbuf[p];
  }
}

// The same with AVX2 and four samples per vector (bonds up to 12 keep acc in registers).
template <int R>
__attribute__((target("avx2,fma"))) void soa4_avx2(const Job<double>& J, Index b0, Index b1, double* out,
                                                   double* scratch) {
  const Index n = J.n;
  std::vector<long long> ibuf(size_t(n * 4));  // n x 4 lane indices
  long long* ib = ibuf.data();
  double* vbuf = scratch;  // R x 4 running rows (transposed)
  for (Index b = b0; b < b1; b += 4) {
    const Index nb = std::min<Index>(4, b1 - b);
    for (Index p = 0; p < 4; ++p) {
      const std::int64_t* row = J.idx + (b + (p < nb ? p : 0)) * n;
      for (Index k = 0; k < n; ++k) ib[k * 4 + p] = row[k];
    }
    for (int s = 0; s < R; ++s) _mm256_storeu_pd(vbuf + s * 4, _mm256_set1_pd(s == 0 ? 1.0 : 0.0));
    for (Index k = 0; k < n; ++k) {
      const Index rl = J.rl[size_t(k)], d = J.d[size_t(k)];
      const double* g = J.packed + J.off[size_t(k)];
      const __m256i iv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ib + k * 4));
      __m256d acc[R];
      for (int s = 0; s < R; ++s) acc[s] = _mm256_setzero_pd();
      __m256d m[4];
      for (Index i = 0; i < 4; ++i) m[i] = _mm256_castsi256_pd(_mm256_cmpeq_epi64(iv, _mm256_set1_epi64x(i)));
      for (Index a = 0; a < rl; ++a) {
        const __m256d x = _mm256_loadu_pd(vbuf + a * 4);
        const double* ga = g + a * R * d;
        for (int s = 0; s < R; ++s) {
          __m256d gs = _mm256_broadcast_sd(ga + s * d);
          for (Index i = 1; i < d; ++i) gs = _mm256_blendv_pd(gs, _mm256_broadcast_sd(ga + s * d + i), m[i]);
          acc[s] = _mm256_fmadd_pd(x, gs, acc[s]);
        }
      }
      for (int s = 0; s < R; ++s) _mm256_storeu_pd(vbuf + s * 4, acc[s]);
    }
    for (Index p = 0; p < nb; ++p) out[b + p] = vbuf[p];
  }
}
#endif

template <class T>
using KernelFn = void (*)(const Job<T>&, Index, Index, T*, T*);

#define TNFAST_TT_KERNELS(SUFFIX, ATTR)                                                              \
  template <class T, int R, int P, bool Emb>                                                         \
  ATTR void fixed_##SUFFIX(const Job<T>& J, Index b0, Index b1, T* out, T* s) {                      \
    chain_fixed<T, R, P, Emb>(J, b0, b1, out, s);                                                    \
  }                                                                                                  \
  template <class T, bool Emb>                                                                       \
  ATTR void dynamic_##SUFFIX(const Job<T>& J, Index b0, Index b1, T* out, T* s) {                    \
    chain_dynamic<T, Emb>(J, b0, b1, out, s);                                                        \
  }

TNFAST_TT_KERNELS(generic, )
#if TNFAST_SIMD_X86
TNFAST_TT_KERNELS(avx2, __attribute__((target("avx2,fma"))))
TNFAST_TT_KERNELS(avx512, __attribute__((target("avx512f,avx512vl,avx2,fma"))))
#endif

constexpr int kWidths[] = {2, 4, 8, 10, 12, 16, 24, 32};

// The kernels for the active instruction-set level (simd::select).
template <class T, int R, bool Emb>
KernelFn<T> fixed_kernel() {
  constexpr int P = R <= 16 ? 4 : 2;
  return TNFAST_SIMD_PICK(KernelFn<T>(&fixed_generic<T, R, P, Emb>), KernelFn<T>(&fixed_avx2<T, R, P, Emb>),
                          KernelFn<T>(&fixed_avx512<T, R, P, Emb>));
}

template <class T, bool Emb>
KernelFn<T> dynamic_kernel() {
  return TNFAST_SIMD_PICK(KernelFn<T>(&dynamic_generic<T, Emb>), KernelFn<T>(&dynamic_avx2<T, Emb>),
                          KernelFn<T>(&dynamic_avx512<T, Emb>));
}

// Chooses the padded width and kernel for the largest bond rmax.
template <class T, bool Emb>
KernelFn<T> pick(Index rmax, Index* width) {
  if constexpr (!Eigen::NumTraits<T>::IsComplex) {
    switch (rmax <= 2 ? 2 : rmax <= 4 ? 4 : rmax <= 8 ? 8 : rmax <= 10 ? 10 : rmax <= 12 ? 12 : rmax <= 16 ? 16
                       : rmax <= 24 ? 24 : rmax <= 32 ? 32 : 0) {
      case 2: *width = 2; return fixed_kernel<T, 2, Emb>();
      case 4: *width = 4; return fixed_kernel<T, 4, Emb>();
      case 8: *width = 8; return fixed_kernel<T, 8, Emb>();
      case 10: *width = 10; return fixed_kernel<T, 10, Emb>();
      case 12: *width = 12; return fixed_kernel<T, 12, Emb>();
      case 16: *width = 16; return fixed_kernel<T, 16, Emb>();
      case 24: *width = 24; return fixed_kernel<T, 24, Emb>();
      case 32: *width = 32; return fixed_kernel<T, 32, Emb>();
      default: break;
    }
  }
  (void)kWidths;
  *width = rmax;
  return dynamic_kernel<T, Emb>();
}

template <class T, bool Emb>
void run(const Cores<T>& cores, Job<T>& job, Index batch, T* out, int num_threads) {
  Index rmax = 1;
  for (const auto& c : cores) rmax = std::max(rmax, c.rr);
  Index R = 0;
  KernelFn<T> fn = nullptr;
  bool soa = false;
#if TNFAST_SIMD_X86
  if constexpr (!Emb && std::is_same_v<T, float>) {
    Index dmax = 1;
    for (const auto& c : cores) dmax = std::max(dmax, c.d);
    if (simd::active_level() == 2 && rmax <= 16 && dmax <= 4) {
      static constexpr KernelFn<float> table[16] = {
          &soa16_avx512<1>, &soa16_avx512<2>, &soa16_avx512<3>, &soa16_avx512<4>, &soa16_avx512<5>,
          &soa16_avx512<6>, &soa16_avx512<7>, &soa16_avx512<8>, &soa16_avx512<9>, &soa16_avx512<10>,
          &soa16_avx512<11>, &soa16_avx512<12>, &soa16_avx512<13>, &soa16_avx512<14>, &soa16_avx512<15>,
          &soa16_avx512<16>};
      fn = table[rmax - 1];
      R = rmax;
      soa = true;
    }
  }
  if constexpr (!Emb && std::is_same_v<T, double>) {
    Index dmax = 1;
    for (const auto& c : cores) dmax = std::max(dmax, c.d);
    if (simd::active_level() == 2 && rmax <= 16 && dmax <= 4) {
      static constexpr KernelFn<double> table[16] = {
          &soa8_avx512<1>, &soa8_avx512<2>, &soa8_avx512<3>, &soa8_avx512<4>, &soa8_avx512<5>, &soa8_avx512<6>,
          &soa8_avx512<7>, &soa8_avx512<8>, &soa8_avx512<9>, &soa8_avx512<10>, &soa8_avx512<11>, &soa8_avx512<12>,
          &soa8_avx512<13>, &soa8_avx512<14>, &soa8_avx512<15>, &soa8_avx512<16>};
      fn = table[rmax - 1];
      R = rmax;
      soa = true;
    } else if (simd::active_level() == 1 && rmax <= 12 && dmax <= 4) {
      static constexpr KernelFn<double> table[12] = {
          &soa4_avx2<1>, &soa4_avx2<2>, &soa4_avx2<3>, &soa4_avx2<4>, &soa4_avx2<5>, &soa4_avx2<6>,
          &soa4_avx2<7>, &soa4_avx2<8>, &soa4_avx2<9>, &soa4_avx2<10>, &soa4_avx2<11>, &soa4_avx2<12>};
      fn = table[rmax - 1];
      R = rmax;
      soa = true;
    }
  }
#endif
  if (!fn) fn = pick<T, Emb>(rmax, &R);
  std::vector<T> packed = pack(cores, R, Emb, job, soa);
  job.packed = packed.data();
  if (batch == 0) return;
  // Work estimate (multiply-adds) decides whether a second thread pays off.
  double work = 0;
  for (const auto& c : cores) work += double(c.rl) * double(Emb ? c.d : 1) * double(R);
  work *= double(batch);
  int threads = num_threads;
  if (threads <= 0) {
    const unsigned hw = std::thread::hardware_concurrency();
    threads = (work >= 4e6 && hw >= 2) ? 2 : 1;
  }
  threads = int(std::max<Index>(1, std::min<Index>(threads, batch)));
  const Index scratch_size = 2 * R + 4 * R * job.dmax + 16 * R + 16;
  ScratchSet<T> scratch(static_cast<size_t>(threads), static_cast<size_t>(scratch_size), true);
  // Chunks of about 2^22 multiply-adds (a few ms) between which a stop request is honoured;
  // at least `threads` chunks so that every thread gets work.
  const double per_sample = std::max(1.0, work / double(batch));
  Index chunk = Index(std::max(64.0, double(1 << 22) / per_sample));
  chunk = std::min(chunk, (batch + threads - 1) / threads);
  parallel::for_each_task((batch + chunk - 1) / chunk, threads, [&](Index c, int t) {
    const Index b0 = std::min(batch, c * chunk), b1 = std::min(batch, b0 + chunk);
    if (b0 < b1) fn(job, b0, b1, out, scratch[size_t(t)]);
  });
}

}  // namespace

template <class T>
void evaluate(const Cores<T>& cores, const std::int64_t* idx, Index batch, T* out, int num_threads) {
  check_cores(cores, "cores");
  if (batch < 0) throw invalid_argument("indices: negative batch size");
  if (batch > 0 && (!idx || !out)) throw invalid_argument("evaluate: null buffer");
  const Index n = Index(cores.size());
  for (Index b = 0; b < batch; ++b)
    for (Index k = 0; k < n; ++k) {
      const std::int64_t v = idx[b * n + k];
      if (v < 0 || v >= cores[size_t(k)].d)
        throw invalid_argument("indices[" + std::to_string(b) + ", " + std::to_string(k) + "] = " + std::to_string(v) +
                               " is out of range for dimension " + std::to_string(cores[size_t(k)].d));
    }
  Job<T> job;
  job.idx = idx;
  run<T, false>(cores, job, batch, out, num_threads);
}

template <class T>
void evaluate_embedded(const Cores<T>& cores, const std::vector<const T*>& features,
                       const std::vector<Index>& row_stride, Index batch, T* out, int num_threads) {
  check_cores(cores, "cores");
  if (batch < 0) throw invalid_argument("features: negative batch size");
  const size_t n = cores.size();
  if (features.size() != n || row_stride.size() != n)
    throw invalid_argument("features: expected one feature array per site (" + std::to_string(n) + "), got " +
                           std::to_string(features.size()));
  for (size_t k = 0; k < n; ++k) {
    if (batch > 0 && !features[k]) throw invalid_argument("features[" + std::to_string(k) + "]: null data");
    if (row_stride[k] < cores[k].d)
      throw invalid_argument("features[" + std::to_string(k) + "]: row stride smaller than the dimension");
  }
  if (batch > 0 && !out) throw invalid_argument("evaluate_embedded: null output");
  Job<T> job;
  job.feat = features;
  job.fstride = row_stride;
  run<T, true>(cores, job, batch, out, num_threads);
}


#define TNFAST_INST(T)                                                                                         \
  template void evaluate<T>(const Cores<T>&, const std::int64_t*, Index, T*, int);                            \
  template void evaluate_embedded<T>(const Cores<T>&, const std::vector<const T*>&, const std::vector<Index>&, \
                                     Index, T*, int);
TNFAST_INST(float)
TNFAST_INST(double)
TNFAST_INST(cfloat)
TNFAST_INST(cdouble)
#undef TNFAST_INST

}  // namespace tt
}  // namespace tnfast
