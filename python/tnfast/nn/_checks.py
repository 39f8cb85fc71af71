"""Argument checks of the MPO layers: each raises an error that names the argument.

Integers are checked by :func:`check_int` (the numpy front end's ``as_int`` without its 64-bit
bound: sizes here are Python integers), modes by :mod:`tnfast.nn.factorize`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from .._validate import as_int

__all__ = ["check_int", "check_cutoff", "check_max_bond", "check_input", "check_fits", "pair"]


def check_int(x, name: str, minimum: int = 1) -> int:
    """``x`` as an int >= ``minimum`` (TypeError for a non-integer or a bool, ValueError below)."""
    return as_int(x, name, minimum=minimum, maximum=None)


def check_cutoff(cutoff) -> None:
    """``cutoff`` is None or a finite real >= 0 (ValueError otherwise)."""
    if cutoff is not None and (isinstance(cutoff, bool) or not isinstance(cutoff, numbers.Real)
                               or not 0 <= cutoff < math.inf):
        raise ValueError(f"cutoff: expected a finite real number >= 0, got {cutoff!r}")


def check_max_bond(max_bond) -> None:
    """``max_bond`` is None, an int or a sequence of ints (TypeError otherwise; values are checked later)."""
    if max_bond is not None and not isinstance(max_bond, (numbers.Integral, list, tuple)):
        raise TypeError(f"max_bond: expected an int or a sequence of ints, got {type(max_bond).__name__}")


def check_input(x, layer: str, dtype: torch.dtype) -> None:
    """``x`` is a torch tensor of the layer's parameter dtype."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor, got {type(x).__module__}.{type(x).__name__}"
                        + (" (convert it with torch.from_numpy)" if isinstance(x, np.ndarray) else ""))
    if x.dtype != dtype:
        raise TypeError(f"x: dtype {x.dtype} differs from the {layer}'s parameters ({dtype}); convert the input "
                        f"with x.to({dtype}) or the layer with .to({x.dtype})")


def check_fits(n_params: int, dtype: torch.dtype | None, what: str) -> None:
    """MemoryError before allocating parameters that cannot fit in the memory available now."""
    from .._validate import physical_memory_bytes

    itemsize = torch.empty((), dtype=dtype).element_size()
    avail = physical_memory_bytes()
    if n_params * itemsize > avail:
        raise MemoryError(f"{what} would have {n_params:.3g} parameters ({n_params * itemsize / 2 ** 30:.3g} GiB), "
                          f"more than the {avail / 2 ** 30:.3g} GiB of memory available on this machine; choose other "
                          f"in_modes/out_modes (a large prime size cannot be split into small modes)")


def pair(v, name: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (each >= ``minimum``) as a pair."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name}: expected an int or a pair, got {v!r}")
        return (check_int(v[0], name, minimum), check_int(v[1], name, minimum))
    x = check_int(v, name, minimum)
    return (x, x)
