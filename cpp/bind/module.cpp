// The extension module tnfast._core: runs every binding unit's registration.
#include <algorithm>

#include "bind_common.hpp"
#include "tnfast/memory.hpp"

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
  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const tnfast::cancel::cancelled&) {
      // the signal handler's exception (KeyboardInterrupt) is already set; keep it
      if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const tnfast::too_large& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });
}
