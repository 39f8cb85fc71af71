// The extension module tnfast._core: registers every binding unit, in an explicit order (types
// a later unit's signatures name are registered first).
#include "bind_common.hpp"
#include "tnfast/memory.hpp"

namespace tnfast::bind {
void register_sweep_env(py::module_& m);  // environments of sweep training
}

PYBIND11_MODULE(_core, m) {
  m.doc() = "tnfast compiled core (private; use the tnfast package)";
  namespace b = tnfast::bind;
  b::register_linalg(m);        // dense kernels, BLAS registration, the truncation rule
  b::register_maxvol(m);        // maxvol and rect_maxvol
  b::register_tt(m);            // tensor-train and MPO algebra, instruction-set level
  b::register_mpo(m);           // MPO sweeps of the layers
  b::register_mps_contract(m);  // MPS classifier contraction
  b::register_cross(m);         // cross interpolation
  b::register_rss(m);           // TT-RSS
  b::register_sweep_env(m);     // environments of sweep training
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
