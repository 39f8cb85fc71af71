// Cross interpolation in the compiled program: prrLU on a 500 x 500 low-rank matrix (full
// vs rook search, against a dense column-pivoted QR of the same matrix as the baseline), and
// a full 2-site TCI of a C++ lambda (random tensor train of known rank, and a smooth function).
#include <Eigen/QR>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "bench.hpp"
#include "tnfast/cross.hpp"
#include "tnfast/prrlu.hpp"

using namespace tnfast;

namespace {
std::string sci(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", x);
  return buf;
}
}  // namespace

TNFAST_BENCH("cross/prrlu_500") {
  const Index n = 500, r = 20;
  std::mt19937_64 rng(0);
  Mat<double> A = Mat<double>::Random(n, r) * Mat<double>::Random(r, n);
  PrrLUOptions opt;
  opt.abs_tol = 1e-12 * A.cwiseAbs().maxCoeff();
  PrrLU<double> lu;
  double t_full = tnfast_bench::time_best([&] { lu = prrlu_full<double>(A, opt); }, 3);
  double err_full = (A - lu.L * lu.U).cwiseAbs().maxCoeff();
  rep.add("cross/prrlu_500x500_rank20", "full", t_full, 0,
          "rank " + std::to_string(lu.rank()) + ", max err " + sci(err_full));
  double t_rook = tnfast_bench::time_best([&] { lu = prrlu_rook<double>(A, opt, rng); }, 3);
  double err_rook = (A - lu.L * lu.U).cwiseAbs().maxCoeff();
  rep.add("cross/prrlu_500x500_rank20", "rook", t_rook, 0,
          "rank " + std::to_string(lu.rank()) + ", max err " + sci(err_rook));
  Index qr_rank = 0;
  double t_qr = tnfast_bench::time_best([&] {
    Eigen::ColPivHouseholderQR<Mat<double>> qr(A);
    qr_rank = qr.rank();
  }, 3);
  rep.add("cross/prrlu_500x500_rank20", "baseline: colpiv QR", t_qr, 0, "rank " + std::to_string(qr_rank));
}

namespace {

// A random tensor train of rank r as a batch function.
struct RandomTT {
  std::vector<Core3<double>> cores;
  RandomTT(Index n, Index d, Index r, uint64_t seed) {
    std::mt19937_64 g(seed);
    std::normal_distribution<double> N(0, 1);
    for (Index k = 0; k < n; ++k) {
      Core3<double> c(k == 0 ? 1 : r, d, k == n - 1 ? 1 : r);
      for (auto& x : c.data) x = N(g) / std::sqrt(double(c.rl));
      cores.push_back(std::move(c));
    }
  }
  void operator()(const int64_t* idx, Index batch, Index n, double* out) const {
    cross::tt_values<double>(cores, idx, batch, out);
  }
};

}  // namespace

TNFAST_BENCH("cross/tci2_lambda") {
  const Index n = 10, d = 8, r = 5;
  RandomTT tt(n, d, r, 1);
  cross::BatchFunction<double> f = [&](const int64_t* idx, Index batch, Index nn, double* out) {
    tt(idx, batch, nn, out);
  };
  std::vector<Index> shape(size_t(n), d);
  cross::CrossOptions opt;
  opt.rel_tol = 1e-12;
  opt.seed = 3;
  for (bool rook : {false, true}) {
    opt.pivot_search = rook ? tnfast::cross::PivotSearch::rook : tnfast::cross::PivotSearch::full;
    cross::CrossResult<double> res;
    double t = tnfast_bench::time_best([&] { res = cross::tci2<double>(f, shape, opt); }, 3);
    // error on random points
    std::mt19937_64 g(9);
    const Index p = 10000;
    std::vector<int64_t> pts(static_cast<size_t>(p * n));
    for (auto& v : pts) v = std::uniform_int_distribution<int64_t>(0, d - 1)(g);
    std::vector<double> a(static_cast<size_t>(p)), b(static_cast<size_t>(p));
    tt(pts.data(), p, n, a.data());
    cross::tt_values<double>(res.cores, pts.data(), p, b.data());
    double num = 0, den = 0;
    for (Index k = 0; k < p; ++k) {
      num += (a[size_t(k)] - b[size_t(k)]) * (a[size_t(k)] - b[size_t(k)]);
      den += a[size_t(k)] * a[size_t(k)];
    }
    rep.add("cross/tci2_random_tt_10x8_r5", rook ? "rook" : "full", t, 0,
            "evals " + std::to_string(res.evals) + ", rel err " + sci(std::sqrt(num / den)));
  }
  // smooth function 1 / (1 + |x|^2) on 10 x 16 points in [-1, 1]
  const Index d2 = 16;
  cross::BatchFunction<double> g = [&](const int64_t* idx, Index batch, Index nn, double* out) {
    for (Index a = 0; a < batch; ++a) {
      double s = 0;
      for (Index k = 0; k < nn; ++k) {
        const double x = -1.0 + 2.0 * double(idx[a * nn + k]) / double(d2 - 1);
        s += x * x;
      }
      out[a] = 1.0 / (1.0 + s);
    }
  };
  std::vector<Index> shape2(size_t(n), d2);
  opt.rel_tol = 1e-10;
  for (bool rook : {false, true}) {
    opt.pivot_search = rook ? tnfast::cross::PivotSearch::rook : tnfast::cross::PivotSearch::full;
    cross::CrossResult<double> res;
    double t = tnfast_bench::time_best([&] { res = cross::tci2<double>(g, shape2, opt); }, 3);
    Index rmax = 0;
    for (auto& c : res.cores) rmax = std::max(rmax, c.rr);
    rep.add("cross/tci2_lorentzian_10x16", rook ? "rook" : "full", t, 0,
            "evals " + std::to_string(res.evals) + ", max rank " + std::to_string(rmax) + ", pivot err " +
                sci(res.pivot_error));
  }
}
