"""Array-level decompositions: dense arrays in, lists of core arrays out.

Nothing here knows the classes users hold; :class:`tnfast.TensorTrain` and :class:`tnfast.MPO`
wrap these results (see :func:`tnfast.tt_svd`), so this module imports none of them.
"""

from __future__ import annotations

import numpy as np

from ._cores import core_fn
from ._truncation import truncation_args
from ._validate import as_array

__all__ = ["tt_svd_cores"]


def tt_svd_cores(array, max_rank: int | None = None, rel_tol: float | None = None) -> tuple[list, object]:
    """TT-SVD of a dense array (Oseledets 2011) as plain arrays.

    ``array``, ``max_rank`` and ``rel_tol`` (and the rank rule, the error bound) are those of
    :func:`tnfast.tt_svd`, which wraps this.

    Returns
    -------
    cores : list of n arrays of shape ``(r_{k-1}, d_k, r_k)`` (the array's dtype)
    info : the compiled core's record, with attributes ``discarded_weight`` (squared singular
        values cut over ``||A||_F**2``), ``norm`` (``||A||_F``) and ``ranks`` (``(1, r_1, ..., 1)``).
    """
    if np.ndim(array) < 1:
        raise ValueError("array: expected at least one dimension, got a 0-d array")
    a = as_array(array, "array")
    if a.size == 0:
        raise ValueError(f"array: every dimension must be >= 1, got shape {a.shape}")
    mr, tol = truncation_args(max_rank, rel_tol)
    cores, info = core_fn("tt_svd", a.dtype)(a, mr, tol)
    return list(cores), info
