// maxvol / rect_maxvol: time of the core routines on random Gaussian matrices, side by side
// with a straightforward Eigen implementation of the same algorithm (scan |B| for the first
// maximum, then a separate rank-1 update pass), started from the same rows.
#include <Eigen/LU>
#include <random>

#include "bench.hpp"
#include "tnfast/maxvol.hpp"

using namespace tnfast;

namespace {

RowMat<double> gaussian(Index n, Index r, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> dist;
  RowMat<double> A(n, r);
  for (Index i = 0; i < A.size(); ++i) A.data()[i] = dist(gen);
  return A;
}

// Baseline: B from a direct solve at the LU start rows, then two passes per iteration.
std::vector<Index> maxvol_two_pass(const RowMat<double>& A, const std::vector<Index>& start, double tol, Index iters) {
  const Index r = A.cols();
  std::vector<Index> I = start;
  Mat<double> Asub(r, r);
  for (Index k = 0; k < r; ++k) Asub.row(k) = A.row(I[size_t(k)]);
  RowMat<double> B = Asub.transpose().partialPivLu().solve(A.transpose()).transpose();
  Eigen::RowVectorXd c(r);
  Eigen::VectorXd bj;
  for (Index it = 0; it < iters; ++it) {
    Index i, j;
    const double v = B.cwiseAbs().maxCoeff(&i, &j);
    if (v <= tol) break;
    I[size_t(j)] = i;
    c = B.row(i) / B(i, j);
    c[j] = (B(i, j) - 1.0) / B(i, j);
    bj = B.col(j);
    B.noalias() -= bj * c;
  }
  return I;
}

void case_maxvol(tnfast_bench::Reporter& rep, Index n, Index r, int repeats) {
  const RowMat<double> A = gaussian(n, r, 7);
  const std::string name = "maxvol/" + std::to_string(n) + "x" + std::to_string(r);
  std::vector<Index> I, I0, Ib;
  Index iters = 0;
  RowMat<double> B(n, r);
  double t = tnfast_bench::time_best([&] { I = maxvol_rowmajor<double>(A.data(), n, r, 1.05, 100, B.data(), &iters); },
                                     repeats);
  double t0 = tnfast_bench::time_best([&] { I0 = maxvol_rowmajor<double>(A.data(), n, r, 1.05, 0, B.data()); },
                                      repeats);
  double tb = tnfast_bench::time_best([&] { Ib = maxvol_two_pass(A, I0, 1.05, 100); }, repeats);
  // The column-major entry point must agree with the row-major one.
  Mat<double> Ac = A;
  const bool same_api = maxvol<double>(Ac, 1.05, 100) == I;
  rep.add(name, "tnfast", t, 0, std::to_string(iters) + " swaps" + (same_api ? "" : ", Mat API DIFFERS"));
  rep.add(name, "tnfast_lu_start_only", t0);
  rep.add(name, "eigen_two_pass", tb, 0, Ib == I ? "same rows" : "DIFFERENT rows");
  const RowMat<float> Af = A.cast<float>();
  RowMat<float> Bf(n, r);
  double tf = tnfast_bench::time_best([&] { maxvol_rowmajor<float>(Af.data(), n, r, 1.05, 100, Bf.data(), &iters); },
                                      repeats);
  rep.add(name, "tnfast_f32", tf, 0, std::to_string(iters) + " swaps");
}

}  // namespace

TNFAST_BENCH("maxvol/square") {
  case_maxvol(rep, 1000, 20, 20);
  case_maxvol(rep, 10000, 50, 10);
  case_maxvol(rep, 100000, 100, 3);
}

TNFAST_BENCH("maxvol/rect") {
  for (auto [n, r] : {std::pair<Index, Index>{10000, 50}, {100000, 20}}) {
    const RowMat<double> A = gaussian(n, r, 11);
    const std::string name = "rect_maxvol/" + std::to_string(n) + "x" + std::to_string(r);
    RowMat<double> C;
    std::vector<Index> I;
    double t = tnfast_bench::time_best(
        [&] { I = rect_maxvol_rowmajor<double>(A.data(), n, r, 1.1, 0, 0, &C, 1.05, 100); }, 5);
    double t0 = tnfast_bench::time_best(
        [&] { maxvol_rowmajor<double>(A.data(), n, r, 1.05, 100); }, 5);
    rep.add(name, "tnfast", t, 0, std::to_string(I.size()) + " rows");
    rep.add(name, "tnfast_square_part", t0);
  }
}
