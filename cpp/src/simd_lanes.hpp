// Vector lanes of the sample-vectorized kernels (mpo_kernels.inc, mps_kernels.inc), one set per
// instruction-set level: Portable<T> (one lane), Avx2<T> and Avx512<T> (float and double).  The x86
// sets are compiled for their instruction set only; a kernel that includes them is compiled for the
// same set (see mpo_apply.cpp) and picked by simd::select.  Internal header, not installed.
#pragma once

#include "tnfast/simd.hpp"

#if TNFAST_SIMD_X86
#include <immintrin.h>
#endif

namespace tnfast {
namespace simd {
namespace lanes {

template <class T>
struct Portable {
  using v = T;
  static constexpr int L = 1;
  static v load(const T* p) { return *p; }
  static void store(T* p, v x) { *p = x; }
  static v set1(T a) { return a; }
  static v zero() { return T(0); }
  static v mul(v a, v b) { return a * b; }
  static v fmadd(v a, v b, v c) { return a * b + c; }
  static T hsum(v a) { return a; }
};

#if TNFAST_SIMD_X86
#pragma GCC push_options
#pragma GCC target("avx2,fma")
template <class T>
struct Avx2;
template <>
struct Avx2<float> {
  using v = __m256;
  static constexpr int L = 8;
  static v load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, v x) { _mm256_storeu_ps(p, x); }
  static v set1(float a) { return _mm256_set1_ps(a); }
  static v zero() { return _mm256_setzero_ps(); }
  static v mul(v a, v b) { return _mm256_mul_ps(a, b); }
  static v fmadd(v a, v b, v c) { return _mm256_fmadd_ps(a, b, c); }
  static float hsum(v a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};
template <>
struct Avx2<double> {
  using v = __m256d;
  static constexpr int L = 4;
  static v load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, v x) { _mm256_storeu_pd(p, x); }
  static v set1(double a) { return _mm256_set1_pd(a); }
  static v zero() { return _mm256_setzero_pd(); }
  static v mul(v a, v b) { return _mm256_mul_pd(a, b); }
  static v fmadd(v a, v b, v c) { return _mm256_fmadd_pd(a, b, c); }
  static double hsum(v a) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
  }
};
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx2,fma")
template <class T>
struct Avx512;
template <>
struct Avx512<float> {
  using v = __m512;
  static constexpr int L = 16;
  static v load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, v x) { _mm512_storeu_ps(p, x); }
  static v set1(float a) { return _mm512_set1_ps(a); }
  static v zero() { return _mm512_setzero_ps(); }
  static v mul(v a, v b) { return _mm512_mul_ps(a, b); }
  static v fmadd(v a, v b, v c) { return _mm512_fmadd_ps(a, b, c); }
  static float hsum(v a) {
    // masked extracts: GCC 12 warns about the undefined upper half behind the plain ones
    const __mmask8 all = 0xFF;
    const __m256 h = _mm256_add_ps(_mm512_maskz_extractf32x8_ps(all, a, 0), _mm512_maskz_extractf32x8_ps(all, a, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};
template <>
struct Avx512<double> {
  using v = __m512d;
  static constexpr int L = 8;
  static v load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, v x) { _mm512_storeu_pd(p, x); }
  static v set1(double a) { return _mm512_set1_pd(a); }
  static v zero() { return _mm512_setzero_pd(); }
  static v mul(v a, v b) { return _mm512_mul_pd(a, b); }
  static v fmadd(v a, v b, v c) { return _mm512_fmadd_pd(a, b, c); }
  static double hsum(v a) {
    const __mmask8 all = 0xFF;
    const __m256d h = _mm256_add_pd(_mm512_maskz_extractf64x4_pd(all, a, 0), _mm512_maskz_extractf64x4_pd(all, a, 1));
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
  }
};
#pragma GCC pop_options
#endif

}  // namespace lanes
}  // namespace simd
}  // namespace tnfast
