"""Plain numpy + LAPACK reference implementations of maxvol and rect_maxvol.

The same algorithms as tnfast.maxvol / tnfast.rect_maxvol (LU start from LAPACK getrf via
scipy.linalg.lu_factor, first maximum in row-major order, the same rank-1 and
Sherman-Morrison updates), written the straightforward way; the benchmarks time them as the
baseline and check that tnfast selects the same rows.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla


def lu_rows(A):
    """Pivot rows of the LU factorization with partial pivoting of the tall matrix A, and L."""
    n, r = A.shape
    lu, piv = sla.lu_factor(A, check_finite=False)
    perm = np.arange(n)
    for k, p in enumerate(piv):
        perm[k], perm[p] = perm[p], perm[k]
    return perm, lu


def maxvol_ref(A, tol=1.05, max_iters=100):
    """Square maxvol; returns (rows, B) with B = A inv(A[rows])."""
    n, r = A.shape
    perm, lu = lu_rows(A)
    rows = perm[:r].copy()
    # A[perm] = L U  =>  A inv(A[rows]) = P^T L inv(L1)
    L = np.tril(lu, -1)
    L[:r] += np.eye(r, dtype=A.dtype)
    X = sla.solve_triangular(L[:r], L.T, trans=1, lower=True, unit_diagonal=True, check_finite=False).T
    B = np.empty_like(X)
    B[perm] = X
    for _ in range(max_iters):
        i, j = divmod(int(np.argmax(np.abs(B))), r)
        if abs(B[i, j]) <= tol:
            break
        rows[j] = i
        c = B[i].copy()
        c[j] -= 1
        c /= B[i, j]
        B -= np.outer(B[:, j], c)
    B[rows] = np.eye(r, dtype=B.dtype)
    return rows, B


def rect_maxvol_ref(A, tol=1.1, min_rows=None, max_rows=None, start_tol=1.05, start_iters=100):
    """Rectangular maxvol; returns (rows, B) with B = A pinv(A[rows])."""
    n, r = A.shape
    kmin = r if min_rows is None else min_rows
    kmax = n if max_rows is None else min(max_rows, n)
    rows, B = maxvol_ref(A, start_tol, start_iters)
    rows = list(rows)
    F = np.sum(np.abs(B) ** 2, axis=1)
    F[rows] = -np.inf
    for k in range(r, kmax):
        i = int(np.argmax(F))
        if k >= kmin and F[i] <= tol * tol:
            break
        b = B[i].copy()
        v = B @ b.conj()
        lam = 1.0 / (1.0 + v[i].real)
        B = np.hstack([B - lam * np.outer(v, b), lam * v[:, None]])
        F = F - lam * np.abs(v) ** 2
        F[i] = -np.inf
        rows.append(i)
    return np.array(rows, dtype=np.int64), B
