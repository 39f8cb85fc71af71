// Large products inside the core: Eigen (baseline x86-64 build) vs the registered BLAS is
// measured from Python (bench/bench_linalg.py), where the BLAS is registered; here the
// program measures Eigen's own rate so that the gap is visible without Python.
#include "bench.hpp"
#include "tnfast/linalg.hpp"

using namespace tnfast;

TNFAST_BENCH("linalg/gemm_eigen_2000") {
  const Index n = 2000;
  Mat<double> A = Mat<double>::Random(n, n), B = Mat<double>::Random(n, n), C(n, n);
  double t = tnfast_bench::time_best([&] { linalg::gemm<double>('N', 'N', 1.0, A, B, 0.0, C); }, 2);
  rep.add("linalg/gemm_2000x2000", linalg::has_blas() ? "blas" : "eigen", t, 2.0 * n * n * n / t / 1e9);
}
