// A tiny benchmark harness for the compiled benchmark program (bench/cpp).
// Each bench_*.cpp registers functions with TNFAST_BENCH(name); main.cpp runs them.
// A benchmark times its candidate and its baseline side by side in the same run and
// reports both, so the ratio is meaningful on a shared, noisy machine.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace tnfast_bench {

struct Row {
  std::string bench, variant;
  double seconds;      // best of the repeats
  double gflops;       // 0 when not meaningful
  std::string note;
};

struct Reporter {
  std::vector<Row> rows;
  void add(std::string bench, std::string variant, double seconds, double gflops = 0, std::string note = "") {
    rows.push_back({std::move(bench), std::move(variant), seconds, gflops, std::move(note)});
    std::printf("  %-34s %-22s %12.6f s %10.2f GFLOP/s  %s\n", rows.back().bench.c_str(),
                rows.back().variant.c_str(), seconds, gflops, rows.back().note.c_str());
    std::fflush(stdout);
  }
};

// Best wall time of `repeats` calls (after one warm-up call).
inline double time_best(const std::function<void()>& fn, int repeats = 5) {
  fn();
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  return best;
}

using BenchFn = void (*)(Reporter&);
std::vector<std::pair<std::string, BenchFn>>& registry();
struct Register {
  Register(const char* name, BenchFn f) { registry().emplace_back(name, f); }
};

// Keeps the optimizer from dropping a result.
template <class T>
inline void keep(const T& v) {
  asm volatile("" : : "g"(&v) : "memory");
}

}  // namespace tnfast_bench

#define TNFAST_BENCH_CAT2(a, b) a##b
#define TNFAST_BENCH_CAT(a, b) TNFAST_BENCH_CAT2(a, b)
#define TNFAST_BENCH(name)                                                                        \
  static void TNFAST_BENCH_CAT(bench_fn_, __LINE__)(tnfast_bench::Reporter&);                      \
  static tnfast_bench::Register TNFAST_BENCH_CAT(bench_reg_, __LINE__)(name, &TNFAST_BENCH_CAT(bench_fn_, __LINE__)); \
  static void TNFAST_BENCH_CAT(bench_fn_, __LINE__)(tnfast_bench::Reporter & rep)
