"""Maximum-volume row selection (square and rectangular maxvol).

Both routines pick rows of a tall matrix ``A`` (``n x r``, ``n >= r``) so that every row of
``A`` is a small combination of the picked ones: ``A ~= coef @ A[rows]`` with bounded
coefficients.  They are the pivoting step of TT-cross / skeleton approximations.
"""

from __future__ import annotations

import numpy as np

from . import _core
from ._validate import as_array, as_float, as_int, core_suffix

__all__ = ["maxvol", "rect_maxvol"]


def _check_matrix(A) -> np.ndarray:
    if isinstance(A, np.ndarray) and A.dtype.kind not in "fcbiu":
        raise TypeError(f"A: expected a float32, float64, complex64 or complex128 array, got dtype {A.dtype}")
    a = as_array(A, "A", ndim=2, finite=False)  # finiteness is checked by the core
    if not a.dtype.isnative:
        a = a.astype(np.dtype(a.dtype.type))
    n, r = a.shape
    if r < 1:
        raise ValueError(f"A: expected at least one column, got shape {a.shape}")
    if n < r:
        raise ValueError(f"A: expected a tall matrix with rows >= columns, got shape {a.shape}")
    return a


def maxvol(A, tol: float = 1.05, max_iters: int = 100, return_coef: bool = False):
    """Rows of a tall matrix spanning a (locally) maximum-volume square submatrix.

    Goreinov et al. (2010): start from the pivot rows of an LU factorization with partial
    pivoting, then, while some entry of ``B = A @ inv(A[rows])`` exceeds ``tol`` in modulus,
    swap the row holding the largest one into the set (rank-1 update of ``B``).  On exit
    ``max |B| <= tol`` unless ``max_iters`` swaps were made.

    Parameters
    ----------
    A : array_like, shape (n, r)
        Tall matrix, ``n >= r >= 1``, of full column rank; float32, float64, complex64 or
        complex128 (integers are converted to float64).
    tol : float, default 1.05
        Stop when ``max |B_ij| <= tol``; must be >= 1.
    max_iters : int, default 100
        Maximum number of row swaps.
    return_coef : bool, default False
        Also return ``B``.

    Returns
    -------
    rows : ndarray of int64, shape (r,)
        Distinct row indices; ``A[rows]`` is the selected submatrix, its k-th row being the
        pivot of column k of ``B``.
    coef : ndarray, shape (n, r), only when ``return_coef``
        ``B = A @ inv(A[rows])`` with ``coef[rows] == eye(r)`` and ``A ~= coef @ A[rows]``.

    Raises
    ------
    ValueError
        Not 2-d, ``n < r``, non-finite entries, ``tol < 1``, or a rank-deficient ``A``.
    TypeError
        Non-numeric dtype.
    """
    a = _check_matrix(A)
    tol = as_float(tol, "tol", minimum=1.0)
    max_iters = as_int(max_iters, "max_iters", minimum=0)
    fn = getattr(_core, "maxvol_" + core_suffix(a.dtype))
    rows, coef, _ = fn(a, tol=tol, max_iters=max_iters, return_coef=bool(return_coef))
    return (rows, coef) if return_coef else rows


def rect_maxvol(A, tol: float = 1.1, min_rows: int | None = None, max_rows: int | None = None,
                return_coef: bool = False, *, start_tol: float = 1.05, start_iters: int = 100):
    """Rows of a tall matrix spanning a rectangular maximum-volume submatrix.

    Mikhalev & Oseledets (2018): start from :func:`maxvol` (tolerance ``start_tol``, at
    most ``start_iters`` swaps), then repeatedly add the row of largest norm in
    ``B = A @ pinv(A[rows])`` while that norm exceeds ``tol``, updating ``B`` by the
    Sherman-Morrison formula, until ``max_rows`` rows are taken; at least ``min_rows`` rows
    are always returned.

    Parameters
    ----------
    A : array_like, shape (n, r)
        Tall matrix, ``n >= r >= 1``, of full column rank (float32/64, complex64/128).
    tol : float, default 1.1
        Stop adding rows when every row of ``B`` has norm <= ``tol``; must be >= 1.
    min_rows : int, optional
        At least this many rows (default ``r``); ``r <= min_rows <= n``.
    max_rows : int, optional
        At most this many rows (default ``n``; larger values are capped at ``n``); must be
        >= ``max(r, min_rows)``.
    return_coef : bool, default False
        Also return ``B``.
    start_tol, start_iters :
        Parameters of the initial square :func:`maxvol`.

    Returns
    -------
    rows : ndarray of int64, shape (k,)
        Distinct row indices, ``min_rows <= k <= max_rows``; the first ``r`` are those of the
        initial square maxvol, the others in the order they were added.
    coef : ndarray, shape (n, k), only when ``return_coef``
        ``B = A @ pinv(A[rows])``: least-squares coefficients, ``A ~= coef @ A[rows]``, every
        row of norm <= ``tol`` unless ``max_rows`` stopped the growth.  ``coef[rows]`` is the
        orthogonal projector ``A[rows] @ pinv(A[rows])`` (the identity when ``k == r``).
    """
    a = _check_matrix(A)
    n, r = a.shape
    tol = as_float(tol, "tol", minimum=1.0)
    start_tol = as_float(start_tol, "start_tol", minimum=1.0)
    start_iters = as_int(start_iters, "start_iters", minimum=0)
    min_rows = as_int(min_rows, "min_rows", minimum=1, allow_none=True)
    max_rows = as_int(max_rows, "max_rows", minimum=1, allow_none=True)
    lo = r if min_rows is None else min_rows
    hi = n if max_rows is None else min(max_rows, n)
    if lo < r or lo > n:
        raise ValueError(f"min_rows: expected {r} <= min_rows <= {n} (columns <= min_rows <= rows), got {lo}")
    if max_rows is not None and max_rows < max(r, lo):
        raise ValueError(f"max_rows: expected max_rows >= {max(r, lo)} (columns and min_rows), got {max_rows}")
    fn = getattr(_core, "rect_maxvol_" + core_suffix(a.dtype))
    opt = _core.RectMaxvolOptions(tol=tol, min_rows=lo, max_rows=hi, start_tol=start_tol, start_iters=start_iters)
    rows, coef = fn(a, opt, return_coef=bool(return_coef))
    return (rows, coef) if return_coef else rows
