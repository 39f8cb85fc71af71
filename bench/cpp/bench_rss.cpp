// TT-RSS in C++ alone (no Python): a random bond-10 tensor train over {0,1}^n is the black box.
// Side by side: the whole TT-RSS pass, and the bare cost of evaluating the black box on the
// same number of points (the floor any sketching method pays), so the ratio is the overhead.
#include <random>

#include "bench.hpp"
#include "tnfast/rss.hpp"

using namespace tnfast;

namespace {

struct RandomTT {
  Index n, bond;
  std::vector<Core3<double>> cores;
  RandomTT(Index n_, Index bond_, unsigned seed) : n(n_), bond(bond_) {
    std::mt19937_64 g(seed);
    std::normal_distribution<double> nd(0.0, 1.0);
    Index r = 1;
    for (Index k = 0; k < n; ++k) {
      Index rr = (k == n - 1) ? 1 : std::min<Index>(bond, r * 2);
      Core3<double> c(r, 2, rr);
      for (auto& v : c.data) v = nd(g) / std::sqrt(double(r));
      cores.push_back(std::move(c));
      r = rr;
    }
  }
  void operator()(const double* pts, Index rows, double* out) const {
    std::vector<double> v(size_t(bond) + 1), w(size_t(bond) + 1);
    for (Index i = 0; i < rows; ++i) {
      v[0] = 1.0;
      for (Index k = 0; k < n; ++k) {
        const auto& c = cores[size_t(k)];
        const Index x = pts[i * n + k] != 0.0 ? 1 : 0;
        for (Index b = 0; b < c.rr; ++b) w[size_t(b)] = 0.0;
        for (Index a = 0; a < c.rl; ++a) {
          const double va = v[size_t(a)];
          const double* row = &c(a, x, 0);
          for (Index b = 0; b < c.rr; ++b) w[size_t(b)] += va * row[b];
        }
        v.swap(w);
      }
      out[i] = v[0];
    }
  }
};

void run_case(tnfast_bench::Reporter& rep, Index n, Index N, int repeats) {
  RandomTT tt(n, 10, 7);
  std::mt19937_64 g(3);
  std::vector<double> samples(size_t(N * n)), feats(size_t(N * n * 2));
  for (Index i = 0; i < N * n; ++i) {
    samples[size_t(i)] = double(g() & 1);
    feats[size_t(2 * i)] = 1.0;
    feats[size_t(2 * i + 1)] = samples[size_t(i)];
  }
  rss::Problem p;
  p.n = n;
  p.n_samples = N;
  p.d = 2;
  p.samples = samples.data();
  p.sample_features = feats.data();
  Mat<double> E(2, 2);
  E << 1, 0, 1, 1;
  for (Index j = 0; j < n; ++j) {
    p.domains.push_back({0.0, 1.0});
    p.domain_features.push_back(E);
  }
  rss::Options opt;
  opt.rank = 10;
  long long evals = 0;
  rss::BatchFn f = [&](const double* pts, Index rows, double* out) { tt(pts, rows, out); };
  double t_rss = tnfast_bench::time_best([&] {
    auto res = rss::tt_rss<double>(p, opt, f);
    evals = res.n_evals;
    tnfast_bench::keep(res);
  }, repeats);
  // the floor: the same number of black-box evaluations on stored points
  std::vector<double> pts(size_t(4096 * n)), out(4096);
  for (size_t i = 0; i < pts.size(); ++i) pts[i] = double(g() & 1);
  double t_f = tnfast_bench::time_best([&] {
    for (long long done = 0; done < evals; done += 4096) tt(pts.data(), Index(std::min<long long>(4096, evals - done)), out.data());
    tnfast_bench::keep(out);
  }, repeats);
  const std::string name = "rss/random_tt_n" + std::to_string(n) + "_N" + std::to_string(N);
  rep.add(name, "tt_rss", t_rss, 0, std::to_string(evals) + " evaluations");
  rep.add(name, "f_only", t_f, 0, "overhead x" + std::to_string(t_rss / t_f));
}

}  // namespace

TNFAST_BENCH("rss/random_tt") {
  run_case(rep, 100, 30, 3);
  run_case(rep, 200, 30, 1);
}
