"""Checks and helpers shared by the objects that hold lists of cores (TensorTrain, MPO).

Nothing here knows those classes, so both (and the npz reader) import it without a circle.
"""

from __future__ import annotations

import numbers
from typing import Callable

import numpy as np

from . import _core
from ._validate import as_array, as_int, core_suffix, result_dtype

__all__ = ["check_cores", "check_dtype", "check_shape", "core_fn", "is_scalar", "short"]


def check_cores(cores, name: str, ndim: int) -> list:
    """``cores`` as C-contiguous arrays of one common floating dtype, each ``ndim``-d.

    The first core's left bond and the last core's right bond must be 1, neighbouring bonds
    must match, every dimension must be >= 1 and every entry finite; otherwise a TypeError or
    ValueError names ``name`` and the offending core.
    """
    if isinstance(cores, np.ndarray) or not hasattr(cores, "__len__"):
        raise TypeError(f"{name}: expected a list of {ndim}-d arrays")
    if len(cores) == 0:
        raise ValueError(f"{name}: expected at least one core")
    arrays = [as_array(c, f"{name}[{k}]", ndim=ndim, finite=True) for k, c in enumerate(cores)]
    dtype = result_dtype(*[a.dtype for a in arrays])
    arrays = [np.ascontiguousarray(a, dtype=dtype) for a in arrays]
    if arrays[0].shape[0] != 1:
        raise ValueError(f"{name}[0]: the first core's left bond must be 1, got {arrays[0].shape[0]}")
    if arrays[-1].shape[-1] != 1:
        raise ValueError(f"{name}[{len(arrays) - 1}]: the last core's right bond must be 1, "
                         f"got {arrays[-1].shape[-1]}")
    for k in range(len(arrays) - 1):
        if arrays[k].shape[-1] != arrays[k + 1].shape[0]:
            raise ValueError(f"{name}[{k}] and {name}[{k + 1}]: bond dimensions do not match "
                             f"({arrays[k].shape[-1]} vs {arrays[k + 1].shape[0]})")
    for k, a in enumerate(arrays):
        if min(a.shape) < 1:
            raise ValueError(f"{name}[{k}]: every dimension must be >= 1, got shape {a.shape}")
    return arrays


def core_fn(name: str, dtype) -> Callable:
    """The compiled function ``name`` for ``dtype`` (``tt_round`` -> ``_core.tt_round_f64``, ...)."""
    return getattr(_core, f"{name}_{core_suffix(dtype)}")


def is_scalar(x) -> bool:
    """Whether ``x`` is a real or complex number (Python or numpy), booleans excluded."""
    return isinstance(x, numbers.Number) and not isinstance(x, (bool, np.bool_)) or (
        isinstance(x, np.generic) and np.issubdtype(type(x), np.number) and not isinstance(x, np.bool_))


def check_dtype(dtype, name: str) -> np.dtype:
    """``dtype`` as one of float32, float64, complex64, complex128 (TypeError otherwise)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: expected float32, float64, complex64 or complex128, got {dtype!r}") from None
    if dt not in (np.float32, np.float64, np.complex64, np.complex128):
        raise TypeError(f"{name}: expected float32, float64, complex64 or complex128, got {dt}")
    return dt


def check_shape(shape, name: str) -> tuple:
    """``shape`` (an int or a non-empty sequence of ints >= 1) as a tuple of ints."""
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"{name}: expected a sequence of positive integers, got {type(shape).__name__}") from None
    if not dims:
        raise ValueError(f"{name}: expected at least one dimension")
    return tuple(as_int(d, f"{name}[{k}]", minimum=1) for k, d in enumerate(dims))


def short(t: tuple, limit: int = 8) -> str:
    """A tuple for a repr, with the middle left out when it has more than ``limit`` entries."""
    if len(t) <= limit:
        return str(t)
    head = ", ".join(str(x) for x in t[:3])
    tail = ", ".join(str(x) for x in t[-2:])
    return f"({head}, ..., {tail})"
