"""Registers an optimized BLAS/LAPACK with the compiled core.

The C++ core computes small products with Eigen and sends large ones (and SVDs, QRs) to
the BLAS/LAPACK of the ``scipy-openblas32`` wheel, the same OpenBLAS that NumPy and SciPy
are built on, which picks the best kernels for the CPU at run time.  Nothing is linked at
build time: the library is opened here and its entry points are handed to the core.
"""

from __future__ import annotations

import ctypes
import glob
import os

from . import _core

_NAMES = {
    "sgemm": "cblas_sgemm", "dgemm": "cblas_dgemm", "cgemm": "cblas_cgemm", "zgemm": "cblas_zgemm",
    "sgesdd": "LAPACKE_sgesdd", "dgesdd": "LAPACKE_dgesdd", "cgesdd": "LAPACKE_cgesdd", "zgesdd": "LAPACKE_zgesdd",
    "sgeqrf": "LAPACKE_sgeqrf", "dgeqrf": "LAPACKE_dgeqrf", "cgeqrf": "LAPACKE_cgeqrf", "zgeqrf": "LAPACKE_zgeqrf",
    "sorgqr": "LAPACKE_sorgqr", "dorgqr": "LAPACKE_dorgqr", "cungqr": "LAPACKE_cungqr", "zungqr": "LAPACKE_zungqr",
    "ssyrk": "cblas_ssyrk", "dsyrk": "cblas_dsyrk", "cherk": "cblas_cherk", "zherk": "cblas_zherk",
    "strsm": "cblas_strsm", "dtrsm": "cblas_dtrsm", "ctrsm": "cblas_ctrsm", "ztrsm": "cblas_ztrsm",
    "strmm": "cblas_strmm", "dtrmm": "cblas_dtrmm", "ctrmm": "cblas_ctrmm", "ztrmm": "cblas_ztrmm",
    "spotrf": "LAPACKE_spotrf", "dpotrf": "LAPACKE_dpotrf", "cpotrf": "LAPACKE_cpotrf", "zpotrf": "LAPACKE_zpotrf",
    "ssyevd": "LAPACKE_ssyevd", "dsyevd": "LAPACKE_dsyevd", "cheevd": "LAPACKE_cheevd", "zheevd": "LAPACKE_zheevd",
}

_state = {"library": None}


def _find_library():
    try:
        import scipy_openblas32
    except ImportError:
        return None, ""
    libdir = scipy_openblas32.get_lib_dir()
    cands = sorted(glob.glob(os.path.join(libdir, "lib" + scipy_openblas32.get_library() + "*.so*")))
    cands += sorted(glob.glob(os.path.join(libdir, "*.dylib"))) + sorted(glob.glob(os.path.join(libdir, "*.dll")))
    if not cands:
        return None, ""
    prefix = "scipy_"
    return cands[0], prefix


def load(disable: bool | None = None) -> bool:
    """Open the optimized BLAS and register it; returns whether one is in use.

    Set the environment variable ``TNFAST_NO_BLAS=1`` (or pass ``disable=True``) to keep
    every product inside Eigen.
    """
    if disable is None:
        disable = os.environ.get("TNFAST_NO_BLAS", "") not in ("", "0")
    if disable:
        _core._set_backend(_core.BackendPointers())
        _state["library"] = None
        return False
    path, prefix = _find_library()
    if path is None:
        _core._set_backend(_core.BackendPointers())
        return False
    lib = ctypes.CDLL(path, mode=getattr(ctypes, "RTLD_LOCAL", 0))
    pointers = _core.BackendPointers()
    for key, name in _NAMES.items():
        try:
            fn = getattr(lib, prefix + name)
        except AttributeError:
            continue
        setattr(pointers, key, ctypes.cast(fn, ctypes.c_void_p).value)
    _core._set_backend(pointers)
    _state["library"] = (lib, path)
    for name in ("set", "get"):
        try:
            _state[name + "_threads"] = getattr(lib, f"{prefix}openblas_{name}_num_threads")
        except AttributeError:
            _state[name + "_threads"] = None
    if _state["set_threads"] is not None:
        _state["set_threads"].argtypes = [ctypes.c_int]
    if _state["get_threads"] is not None:
        _state["get_threads"].restype = ctypes.c_int
    return _core._has_blas()


def set_num_threads(n: int) -> None:
    """Set the number of threads of the BLAS used by the core (not numpy's own BLAS)."""
    from ._validate import as_int

    n = as_int(n, "n", minimum=1, maximum=2 ** 31 - 1)
    fn = _state.get("set_threads")
    if fn is None:
        raise RuntimeError("no optimized BLAS is in use; the core computes with Eigen on one thread")
    fn(n)


def get_num_threads() -> int:
    """Threads of the BLAS used by the core (1 when the core runs on Eigen alone)."""
    fn = _state.get("get_threads") if _state["library"] else None
    return int(fn()) if fn is not None else 1


def info() -> dict:
    """Which BLAS the core uses, and the product size (m*n*k) above which it is used."""
    lib = _state["library"]
    return {
        "blas": lib[1] if lib else None,
        "blas_threads": get_num_threads(),
        "blas_threshold_mnk": int(_core._blas_threshold()),
    }
