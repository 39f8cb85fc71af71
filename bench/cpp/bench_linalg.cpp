// Large products inside the core: Eigen (baseline x86-64 build) vs the registered BLAS is
// measured from Python (bench/bench_linalg.py), where the BLAS is registered; here the
// program measures Eigen's own rate (products, SVD, QR) so that the gap is visible without Python.
#include "bench.hpp"
#include "tnfast/linalg.hpp"

using namespace tnfast;

TNFAST_BENCH("linalg/gemm_eigen_2000") {
  const Index n = 2000;
  Mat<double> A = Mat<double>::Random(n, n), B = Mat<double>::Random(n, n), C(n, n);
  double t = tnfast_bench::time_best([&] { linalg::gemm<double>('N', 'N', 1.0, A, B, 0.0, C); }, 2);
  rep.add("linalg/gemm_2000x2000", linalg::has_blas() ? "blas" : "eigen", t, 2.0 * n * n * n / t / 1e9);
}

TNFAST_BENCH("linalg/gemm_eigen_2000_f32") {
  const Index n = 2000;
  Mat<float> A = Mat<float>::Random(n, n), B = Mat<float>::Random(n, n), C(n, n);
  double t = tnfast_bench::time_best([&] { linalg::gemm<float>('N', 'N', 1.0f, A, B, 0.0f, C); }, 2);
  rep.add("linalg/gemm_2000x2000_f32", linalg::has_blas() ? "blas" : "eigen", t, 2.0 * n * n * n / t / 1e9);
}

// Thin SVD and QR of a 2000 x 500 matrix (the shapes of bench_linalg.py).
TNFAST_BENCH("linalg/svd_qr_2000x500") {
  const Index m = 2000, k = 500;
  Mat<double> A = Mat<double>::Random(m, k), U, V, Q, R;
  Vec<double> s;
  double ts = tnfast_bench::time_best([&] { linalg::svd<double>(A, U, s, V); }, 2);
  rep.add("linalg/svd_2000x500", linalg::has_blas() ? "blas" : "eigen", ts);
  double tq = tnfast_bench::time_best([&] { linalg::qr<double>(A, Q, R); }, 2);
  const double qflops = 2.0 * m * k * k - 2.0 / 3.0 * double(k) * k * k;
  rep.add("linalg/qr_2000x500", linalg::has_blas() ? "blas" : "eigen", tq, qflops / tq / 1e9, "Householder QR + Q");
}
