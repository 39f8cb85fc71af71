// Tensor-train kernels against straightforward Eigen implementations, in the same run.
//   build:  JOBS=1 scripts/devbuild.sh -DTNFAST_BUILD_BENCH=ON
//   run:    build/dev/tnfast_bench tt
// No BLAS is registered in this program, so linalg:: runs on Eigen for both sides of the
// rounding comparison; the evaluation kernel does not use BLAS at all.
#include <Eigen/QR>
#include <Eigen/SVD>
#include <random>

#include "bench.hpp"
#include "tnfast/linalg.hpp"
#include "tnfast/tt.hpp"

using namespace tnfast;

namespace {

tt::Cores<double> random_train(const std::vector<Index>& dims, const std::vector<Index>& ranks, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> nd(0.0, 1.0);
  tt::Cores<double> cores;
  for (size_t k = 0; k < dims.size(); ++k) {
    Core3<double> c(ranks[k], dims[k], ranks[k + 1]);
    const double sigma = 1.0 / std::sqrt(double(dims[k]) * std::sqrt(double(ranks[k] * ranks[k + 1])));
    for (auto& x : c.data) x = sigma * nd(gen);
    cores.push_back(std::move(c));
  }
  return cores;
}

// Baseline evaluation: per sample, a dynamic-size Eigen row vector times each core slice.
void eigen_evaluate(const tt::Cores<double>& cores, const std::vector<std::int64_t>& idx, Index batch,
                    std::vector<double>& out) {
  const Index n = Index(cores.size());
  Eigen::RowVectorXd v, w;
  for (Index b = 0; b < batch; ++b) {
    v = Eigen::RowVectorXd::Ones(1);
    for (Index k = 0; k < n; ++k) {
      const auto& G = cores[size_t(k)];
      Eigen::Map<const RowMat<double>, 0, Eigen::OuterStride<>> slice(&G(0, idx[size_t(b * n + k)], 0), G.rl, G.rr,
                                                                     Eigen::OuterStride<>(G.d * G.rr));
      w.noalias() = v * slice;
      v.swap(w);
    }
    out[size_t(b)] = v(0);
  }
}

// Baseline rounding with Eigen only: right-to-left Householder QR sweep, left-to-right BDCSVD
// sweep truncating to max_rank, on row-major unfoldings copied out of and back into the cores.
void eigen_round(tt::Cores<double> c, Index max_rank) {
  const Index n = Index(c.size());
  for (Index k = n - 1; k > 0; --k) {
    auto& G = c[size_t(k)];
    auto& P = c[size_t(k - 1)];
    Mat<double> X = G.right().transpose();  // (d rr) x rl
    Eigen::HouseholderQR<Mat<double>> h(X);
    const Index q = std::min(X.rows(), X.cols());
    Mat<double> Q = h.householderQ() * Mat<double>::Identity(X.rows(), q);
    Mat<double> R = h.matrixQR().topRows(q).triangularView<Eigen::Upper>();
    Core3<double> Gn(q, G.d, G.rr);
    Gn.right() = Q.transpose();
    Core3<double> Pn(P.rl, P.d, q);
    Pn.left() = P.left() * R.transpose();
    G = std::move(Gn);
    P = std::move(Pn);
  }
  for (Index k = 0; k + 1 < n; ++k) {
    auto& G = c[size_t(k)];
    auto& N = c[size_t(k + 1)];
    Mat<double> L = G.left();
    Eigen::BDCSVD<Mat<double>> sv(L, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Index t = std::min<Index>(max_rank, sv.singularValues().size());
    Core3<double> Gn(G.rl, G.d, t);
    Gn.left() = sv.matrixU().leftCols(t);
    Mat<double> SV = sv.singularValues().head(t).asDiagonal() * sv.matrixV().leftCols(t).transpose();
    Core3<double> Nn(t, N.d, N.rr);
    Nn.right() = SV * N.right();
    G = std::move(Gn);
    N = std::move(Nn);
  }
  tnfast_bench::keep(c);
}

}  // namespace

TNFAST_BENCH("tt/evaluate_100x2_r10") {
  const Index n = 100, d = 2, r = 10, batch = 10000;
  std::vector<Index> dims(size_t(n), d), ranks(size_t(n + 1), r);
  ranks.front() = ranks.back() = 1;
  auto cores = random_train(dims, ranks, 1);
  std::mt19937_64 gen(2);
  std::vector<std::int64_t> idx(size_t(batch * n));
  for (auto& x : idx) x = std::int64_t(gen() % d);
  std::vector<double> out(static_cast<size_t>(batch)), ref(static_cast<size_t>(batch));
  const double flops = 2.0 * double(batch) * double(n) * double(r * r);
  double t = tnfast_bench::time_best([&] { eigen_evaluate(cores, idx, batch, ref); }, 5);
  rep.add("tt/evaluate 10k x 100 sites r10", "eigen per-sample", t, flops / t / 1e9);
  const double base = t;
  t = tnfast_bench::time_best([&] { tt::evaluate<double>(cores, idx.data(), batch, out.data(), 1); }, 5);
  double err = 0;
  for (Index b = 0; b < batch; ++b) err = std::max(err, std::abs(out[size_t(b)] - ref[size_t(b)]) / (std::abs(ref[size_t(b)]) + 1e-300));
  rep.add("tt/evaluate 10k x 100 sites r10", "tnfast 1 thread", t, flops / t / 1e9,
          "x" + std::to_string(base / t).substr(0, 5) + " vs eigen, max rel diff " + std::to_string(err));
  t = tnfast_bench::time_best([&] { tt::evaluate<double>(cores, idx.data(), batch, out.data(), 0); }, 5);
  rep.add("tt/evaluate 10k x 100 sites r10", "tnfast auto threads", t, flops / t / 1e9,
          "x" + std::to_string(base / t).substr(0, 5) + " vs eigen");
}

TNFAST_BENCH("tt/round_16x2_r128") {
  const Index n = 16, d = 2, r = 128;
  std::vector<Index> dims(size_t(n), d), ranks(size_t(n + 1));
  for (Index k = 0; k <= n; ++k) ranks[size_t(k)] = std::min<Index>(r, std::min<Index>(Index(1) << k, Index(1) << (n - k)));
  auto cores = random_train(dims, ranks, 3);
  double t = tnfast_bench::time_best([&] { eigen_round(cores, 64); }, 2);
  rep.add("tt/round n16 d2 r128->64", "eigen qr+bdcsvd", t);
  const double base = t;
  t = tnfast_bench::time_best([&] {
    auto c = cores;
    tt::round<double>(c, 64, 0.0);
    tnfast_bench::keep(c);
  }, 2);
  rep.add("tt/round n16 d2 r128->64", "tnfast round", t, 0, "x" + std::to_string(base / t).substr(0, 5) + " vs eigen");
  t = tnfast_bench::time_best([&] {
    auto c = cores;
    tt::canonicalize<double>(c, 0);
    tnfast_bench::keep(c);
  }, 2);
  rep.add("tt/round n16 d2 r128->64", "tnfast canonicalize", t);
}
