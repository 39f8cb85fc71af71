"""The truncation rule: how many singular values a bond keeps.

Every Python place that chooses a rank from a spectrum (the weight TT-SVD of the MPO layers,
the DMRG two-site split) calls :func:`truncation_rank`; the compiled core applies the same rule
(``linalg::truncation_rank`` in ``cpp/src/linalg.cpp``) in rounding, TT-SVD and TT-RSS.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float, as_int

__all__ = ["truncation_args", "truncation_rank"]


def truncation_args(max_rank, rel_tol) -> tuple[int, float]:
    """Validate ``(max_rank, rel_tol)`` as given by a user (None: no cap / no tolerance).

    Returns the values the compiled core takes: ``max_rank`` as an int (0: no cap) and
    ``rel_tol`` as a float (0.0: no tolerance).  ``max_rank`` must be an integer >= 1 and
    ``rel_tol`` a finite real >= 0 (TypeError / ValueError naming the argument otherwise).
    """
    mr = as_int(max_rank, "max_rank", minimum=1, allow_none=True)
    tol = as_float(rel_tol, "rel_tol", minimum=0.0, allow_none=True)
    return (0 if mr is None else mr), (0.0 if tol is None else tol)


def truncation_rank(s, max_rank: int | None = None, rel_tol: float | None = None,
                    budget: float | None = None) -> tuple[int, float]:
    """Number of singular values to keep, and the squared weight the cut discards.

    Parameters
    ----------
    s : 1-d array_like (numpy array, sequence or torch tensor)
        Singular values in descending order, all >= 0.
    max_rank : int, optional
        At most this many are kept (None or 0: no cap).
    rel_tol : float, optional
        Relative tolerance: the cut may discard squared weight up to
        ``rel_tol**2 * sum_i s_i**2``, i.e. ``||cut|| <= rel_tol * ||s||``.
    budget : float, optional
        Absolute tolerance instead: the cut may discard squared weight up to ``budget``
        (used where one error budget is shared by several bonds).  Give at most one of
        ``rel_tol`` and ``budget``.

    Returns
    -------
    (k, discarded) : (int, float)
        ``k`` and ``discarded = sum_{i >= k} s_i**2`` (absolute, in float64).

    Notes
    -----
    With ``n = len(s)`` and ``tail[k] = sum_{i >= k} s_i**2`` (summed from the small end):

    1. ``k = n``; with a cap, ``k = min(k, max_rank)``.
    2. A tolerance applies when ``rel_tol > 0`` or ``budget > 0``: then
       ``k = min(k, k_tol)`` with ``k_tol`` the smallest ``k' >= 1`` whose ``tail[k'] <= allowed``
       (``allowed = budget`` or ``rel_tol**2 * tail[0]``).  Without one (None or 0) nothing is cut
       for weight, not even exactly zero values.
    3. ``k = max(k, 1)``: at least one value is kept (``k = 0`` only for an empty ``s``).

    This is the rule of the compiled ``linalg::truncation_rank(s, max_rank, rel_tol)``; for
    example ``s = (3, 2, 1, 0.5)``, ``rel_tol = 0.3`` allows ``0.09 * 14.25 = 1.2825``:
    ``tail = (14.25, 5.25, 1.25, 0.25, 0)``, so ``k = 2`` and ``discarded = 1.25``.
    """
    if rel_tol is not None and budget is not None:
        raise ValueError("truncation_rank: give rel_tol or budget, not both")
    if hasattr(s, "detach") and hasattr(s, "cpu"):  # a torch tensor
        s = s.detach().cpu().numpy()
    s = np.asarray(s, dtype=np.float64).reshape(-1)
    n = s.size
    if n == 0:
        return 0, 0.0
    tail = np.empty(n + 1)
    tail[n] = 0.0
    tail[:n] = np.cumsum((s * s)[::-1])[::-1]
    k = n
    if max_rank is not None and max_rank > 0:
        k = min(k, int(max_rank))
    if rel_tol is not None and rel_tol > 0:
        allowed = float(rel_tol) ** 2 * tail[0]
    elif budget is not None and budget > 0:
        allowed = float(budget)
    else:
        allowed = None
    if allowed is not None:
        k_tol = int(np.flatnonzero(tail[1:] <= allowed)[0]) + 1  # tail[n] = 0 always qualifies
        k = min(k, k_tol)
    k = max(k, 1)
    return k, float(tail[k])
