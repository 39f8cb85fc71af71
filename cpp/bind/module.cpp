// The extension module tnfast._core: runs every binding unit's registration.
#include <algorithm>

#include "bind_common.hpp"

namespace tnfast {
namespace bind {
std::vector<std::pair<int, RegisterFn>>& registry() {
  static std::vector<std::pair<int, RegisterFn>> r;
  return r;
}
}  // namespace bind
}  // namespace tnfast

PYBIND11_MODULE(_core, m) {
  m.doc() = "tnfast compiled core (private; use the tnfast package)";
  auto& r = tnfast::bind::registry();
  std::stable_sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, f] : r) f(m);
}
