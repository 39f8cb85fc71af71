"""Decompositions of dense arrays into tensor trains."""

from __future__ import annotations

import numpy as np

from ._validate import as_array
from .tensortrain import TensorTrain, TruncationInfo, _fn, _truncation_args

__all__ = ["tt_svd"]


def tt_svd(array, max_rank: int | None = None, rel_tol: float | None = None, return_info: bool = False):
    """TT-SVD (Oseledets 2011): a tensor train of a dense array by sequential truncated SVDs.

    At each of the ``n - 1`` unfoldings the fewest singular values are kept whose cut squared
    weight is at most ``delta**2 = rel_tol**2 * ||A||_F**2 / (n - 1)``, and at most
    ``max_rank``; hence ``||A - TT||_F <= rel_tol * ||A||_F`` whenever the rank cap does not
    bind.  With neither limit only exactly zero singular values are cut (a lossless
    decomposition).

    Parameters
    ----------
    array : array_like, shape (d_1, ..., d_n)
        Finite values; integers are converted to float64.  Non-contiguous input is copied.
    max_rank : int >= 1, optional
    rel_tol : float >= 0, optional
    return_info : bool
        Also return a :class:`~tnfast.tensortrain.TruncationInfo` (``discarded_weight`` =
        sum of the squared singular values cut over ``||A||_F**2``, equal to the squared
        relative error of the result).

    Returns
    -------
    TensorTrain with cores ``(r_{k-1}, d_k, r_k)`` of the array's dtype, or
    ``(TensorTrain, TruncationInfo)`` when ``return_info``.
    """
    if np.ndim(array) < 1:
        raise ValueError("array: expected at least one dimension, got a 0-d array")
    a = as_array(array, "array")
    if a.size == 0:
        raise ValueError(f"array: every dimension must be >= 1, got shape {a.shape}")
    mr, tol = _truncation_args(max_rank, rel_tol)
    cores, info = _fn("tt_svd", a.dtype)(a, mr, tol)
    tt = TensorTrain._wrap(cores)
    return (tt, TruncationInfo._from_core(info)) if return_info else tt
