"""Argument checking shared by the numpy front end: clear errors that name the argument."""

from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64, np.complex64, np.complex128)


def as_array(x, name: str, ndim: int | None = None, dtype=None, allow_complex: bool = True,
             finite: bool = True) -> np.ndarray:
    """Return ``x`` as a C-contiguous numpy array of a floating dtype.

    Integers and booleans are promoted to float64; object, string and other dtypes raise
    TypeError.  ``ndim`` is checked (ValueError), and so is finiteness when ``finite``.
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x)
    except Exception as exc:  # pragma: no cover - numpy's own message is kept
        raise TypeError(f"{name}: cannot be converted to a numpy array ({exc})") from None
    if a.dtype == object or a.dtype.kind in "USVMm":
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype}")
    if a.dtype.kind in "biu":
        a = a.astype(np.float64)
    if a.dtype.kind == "c" and not allow_complex:
        raise TypeError(f"{name}: complex values are not supported here (got dtype {a.dtype})")
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    if a.dtype.type not in FLOAT_DTYPES:
        a = a.astype(np.float64)
    if dtype is not None:
        a = a.astype(dtype, copy=False)
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array, got shape {a.shape}")
    if finite and a.size and not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: holds NaN or Inf")
    return a if a.flags.c_contiguous else np.array(a, order="C")


def as_int(x, name: str, minimum: int | None = None, allow_none: bool = False):
    if x is None and allow_none:
        return None
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(x).__name__}")
    x = int(x)
    if minimum is not None and x < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {x}")
    return x


def as_float(x, name: str, minimum: float | None = None, allow_none: bool = False, strict: bool = False):
    if x is None and allow_none:
        return None
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(x).__name__}")
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(f"{name}: expected a finite number, got {x}")
    if minimum is not None and (x < minimum or (strict and x == minimum)):
        op = ">" if strict else ">="
        raise ValueError(f"{name}: expected a number {op} {minimum}, got {x}")
    return x


def result_dtype(*dtypes) -> np.dtype:
    """Common floating dtype (float32 stays float32 only when every input is float32)."""
    return np.result_type(*dtypes, np.float32)


def core_suffix(dtype) -> str:
    """Suffix of the typed compiled entry points for ``dtype``."""
    dt = np.dtype(dtype)
    table = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64",
             np.dtype(np.complex64): "c64", np.dtype(np.complex128): "c128"}
    if dt not in table:
        raise TypeError(f"unsupported dtype {dt}; expected float32, float64, complex64 or complex128")
    return table[dt]
