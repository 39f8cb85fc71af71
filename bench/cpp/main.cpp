// tnfast_bench: the compiled benchmark program.
//   tnfast_bench [substring ...] [--json FILE]
// runs every registered benchmark whose name contains one of the substrings (all when none).
#include <cstring>
#include <fstream>

#include "bench.hpp"

namespace tnfast_bench {
std::vector<std::pair<std::string, BenchFn>>& registry() {
  static std::vector<std::pair<std::string, BenchFn>> r;
  return r;
}
}  // namespace tnfast_bench

int main(int argc, char** argv) {
  using namespace tnfast_bench;
  std::vector<std::string> filters;
  std::string json;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json") && i + 1 < argc) json = argv[++i];
    else if (!std::strcmp(argv[i], "--list")) {
      for (auto& [name, f] : registry()) std::printf("%s\n", name.c_str());
      return 0;
    } else filters.emplace_back(argv[i]);
  }
  Reporter rep;
  for (auto& [name, fn] : registry()) {
    bool run = filters.empty();
    for (auto& f : filters) run = run || name.find(f) != std::string::npos;
    if (!run) continue;
    std::printf("%s\n", name.c_str());
    fn(rep);
  }
  if (!json.empty()) {
    std::ofstream out(json);
    out << "[\n";
    for (size_t i = 0; i < rep.rows.size(); ++i) {
      const auto& r = rep.rows[i];
      out << "  {\"bench\": \"" << r.bench << "\", \"variant\": \"" << r.variant << "\", \"seconds\": " << r.seconds
          << ", \"gflops\": " << r.gflops << ", \"note\": \"" << r.note << "\"}" << (i + 1 < rep.rows.size() ? ",\n" : "\n");
    }
    out << "]\n";
  }
  return 0;
}
