import numpy as np
import pytest
import scipy.linalg as sla

import tnfast
from tnfast import _core
from tnfast import maxvol, rect_maxvol


# ---- compact numpy references (LAPACK LU start, first max in row-major order) -------------

def lu_pivot_rows(A):
    n, r = A.shape
    lu, piv = sla.lu_factor(A, check_finite=False)
    perm = np.arange(n)
    for k, p in enumerate(piv):
        perm[k], perm[p] = perm[p], perm[k]
    return perm[:r].copy()


def ref_maxvol(A, tol=1.05, max_iters=100):
    n, r = A.shape
    rows = lu_pivot_rows(A)
    B = np.linalg.solve(A[rows].T, A.T).T
    for _ in range(max_iters):
        i, j = divmod(int(np.argmax(np.abs(B))), r)
        if abs(B[i, j]) <= tol:
            break
        rows[j] = i
        c = B[i].copy()
        c[j] -= 1
        B -= np.outer(B[:, j], c / B[i, j])
    return rows


def ref_rect(A, tol=1.1, min_rows=None, max_rows=None):
    n, r = A.shape
    kmin = r if min_rows is None else min_rows
    kmax = n if max_rows is None else min(max_rows, n)
    rows = list(ref_maxvol(A))
    B = A @ np.linalg.inv(A[rows])
    while len(rows) < kmax:
        norms = np.sum(np.abs(B) ** 2, axis=1)
        norms[rows] = -1
        i = int(np.argmax(norms))
        if len(rows) >= kmin and norms[i] <= tol * tol:
            break
        rows.append(i)
        B = A @ np.linalg.pinv(A[rows])  # direct recomputation, no update formula
    return np.array(rows)


def max_coef(A, rows):
    return np.abs(np.linalg.solve(A[rows].T.astype(np.complex128 if np.iscomplexobj(A) else np.float64),
                                  A.T.astype(np.complex128 if np.iscomplexobj(A) else np.float64))).max()


SHAPES = [(200, 5), (1000, 20), (3000, 40), (500, 1), (64, 63), (37, 37)]


@pytest.mark.parametrize("shape", SHAPES)
def test_maxvol_matches_reference(rng, shape):
    A = rng.standard_normal(shape)
    rows = maxvol(A)
    assert rows.dtype == np.int64 and rows.shape == (shape[1],)
    np.testing.assert_array_equal(rows, ref_maxvol(A))


@pytest.mark.parametrize("tol", [1.0, 1.01, 1.05, 1.5])
def test_maxvol_defining_property(rng, tol):
    A = rng.standard_normal((800, 12)) @ np.diag(np.logspace(0, -3, 12))
    rows, coef = maxvol(A, tol=tol, return_coef=True)
    assert len(set(rows.tolist())) == 12
    assert max_coef(A, rows) <= tol * (1 + 1e-10)
    # the swaps only increase the volume of the LU start
    start = lu_pivot_rows(A)
    assert abs(np.linalg.det(A[rows])) >= abs(np.linalg.det(A[start])) * (1 - 1e-12)
    # coefficients
    np.testing.assert_allclose(coef, A @ np.linalg.inv(A[rows]), atol=1e-10)
    np.testing.assert_array_equal(coef[rows], np.eye(12))
    np.testing.assert_allclose(coef @ A[rows], A, atol=1e-10)


def test_maxvol_column_scaling_invariant(rng):
    # B = A inv(A[rows]) does not change when columns are scaled, nor do the rows
    A = rng.standard_normal((500, 8))
    scale = np.logspace(0, -20, 8)
    rows, coef = maxvol(A * scale, return_coef=True)
    np.testing.assert_array_equal(rows, maxvol(A))
    np.testing.assert_allclose(coef, maxvol(A, return_coef=True)[1], atol=1e-10)


def test_maxvol_max_iters_zero_is_lu_start(rng):
    A = rng.standard_normal((300, 10))
    np.testing.assert_array_equal(maxvol(A, max_iters=0), lu_pivot_rows(A))
    # one swap at most
    r1 = maxvol(A, max_iters=1)
    assert np.sum(r1 != lu_pivot_rows(A)) <= 1


def test_maxvol_finds_planted_rows(rng):
    # rows 10..14 dominate: maxvol must find exactly them
    A = rng.uniform(-1, 1, (400, 5))
    A[10:15] = 100 * np.eye(5)
    rows = maxvol(A, tol=1.0)
    assert sorted(rows.tolist()) == list(range(10, 15))


def test_maxvol_square_and_rank_one(rng):
    A = rng.standard_normal((9, 9))
    rows, coef = maxvol(A, return_coef=True)
    assert sorted(rows.tolist()) == list(range(9))
    np.testing.assert_allclose(coef[rows], np.eye(9))
    v = rng.standard_normal((50, 1))
    rows = maxvol(v)
    assert rows.tolist() == [int(np.argmax(np.abs(v[:, 0])))]


def test_maxvol_float32(rng):
    A = rng.standard_normal((2000, 30)).astype(np.float32)
    rows, coef = maxvol(A, return_coef=True)
    assert coef.dtype == np.float32
    assert len(set(rows.tolist())) == 30
    assert max_coef(A, rows) <= 1.05 * (1 + 1e-3)
    np.testing.assert_allclose(coef, A.astype(np.float64) @ np.linalg.inv(A[rows].astype(np.float64)), atol=1e-3)


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_maxvol_complex(rng, dtype):
    A = (rng.standard_normal((600, 10)) + 1j * rng.standard_normal((600, 10))).astype(dtype)
    rows, coef = maxvol(A, return_coef=True)
    assert coef.dtype == dtype
    assert len(set(rows.tolist())) == 10
    assert max_coef(A, rows) <= 1.05 * (1 + (1e-3 if dtype == np.complex64 else 1e-10))
    atol = 1e-3 if dtype == np.complex64 else 1e-10
    np.testing.assert_allclose(coef, A @ np.linalg.inv(A[rows]), atol=atol)


def test_maxvol_accepts_lists_ints_and_views(rng):
    A = rng.integers(-5, 6, size=(40, 4))
    rows = maxvol(A.tolist())
    assert max_coef(A.astype(float), rows) <= 1.05 + 1e-10
    B = rng.standard_normal((4, 300)).T  # Fortran-ordered view
    np.testing.assert_array_equal(maxvol(B), maxvol(np.ascontiguousarray(B)))
    np.testing.assert_array_equal(maxvol(B.astype(">f8")), maxvol(B))
    np.testing.assert_array_equal(rect_maxvol(B[::2]), rect_maxvol(np.ascontiguousarray(B[::2])))


def test_maxvol_bad_input(rng):
    A = rng.standard_normal((20, 4))
    with pytest.raises(ValueError, match="tol"):
        maxvol(A, tol=0.9)
    with pytest.raises(ValueError, match="A"):
        maxvol(A[:, 0])
    with pytest.raises(ValueError, match="tall"):
        maxvol(A.T)
    with pytest.raises(ValueError, match="column"):
        maxvol(np.zeros((5, 0)))
    B = A.copy()
    B[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        maxvol(B)
    with pytest.raises(TypeError):
        maxvol(np.array([["a", "b"], ["c", "d"], ["e", "f"]]))
    with pytest.raises(TypeError, match="max_iters"):
        maxvol(A, max_iters=1.5)
    with pytest.raises(ValueError, match="max_iters"):
        maxvol(A, max_iters=-1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_maxvol_rank_deficient(rng, dtype):
    A = rng.standard_normal((100, 6)).astype(dtype)
    A[:, 5] = A[:, 0] + 2 * A[:, 1]
    with pytest.raises(ValueError, match="rank-deficient"):
        maxvol(A)
    with pytest.raises(ValueError, match="rank-deficient"):
        maxvol(np.zeros((10, 3), dtype=dtype))
    with pytest.raises(ValueError, match="rank-deficient"):
        rect_maxvol(A)
    low = rng.standard_normal((200, 3)) @ rng.standard_normal((3, 8))
    with pytest.raises(ValueError, match="rank-deficient"):
        maxvol(low.astype(dtype))


# ---- rectangular maxvol --------------------------------------------------------------------

@pytest.mark.parametrize("shape,tol", [((300, 5), 1.1), ((1000, 20), 1.2), ((500, 8), 1.0), ((60, 1), 1.5)])
def test_rect_maxvol_matches_direct_recomputation(rng, shape, tol):
    A = rng.standard_normal(shape)
    rows, coef = rect_maxvol(A, tol=tol, return_coef=True)
    np.testing.assert_array_equal(rows, ref_rect(A, tol))
    k = len(rows)
    assert len(set(rows.tolist())) == k and shape[1] <= k <= shape[0]
    lst = np.linalg.lstsq(A[rows].T, A.T, rcond=None)[0].T  # A[rows]^T coef^T = A^T, min-norm
    np.testing.assert_allclose(coef, lst, atol=1e-9)
    np.testing.assert_allclose(coef, A @ np.linalg.pinv(A[rows]), atol=1e-9)
    # on the selected rows B is the orthogonal projector A[rows] pinv(A[rows]) (I when k == r)
    P = coef[rows]
    np.testing.assert_allclose(P, P.T, atol=1e-9)
    np.testing.assert_allclose(P @ P, P, atol=1e-9)
    assert abs(np.trace(P) - shape[1]) < 1e-9
    assert np.linalg.norm(coef, axis=1).max() <= tol * (1 + 1e-9)
    np.testing.assert_allclose(coef @ A[rows], A, atol=1e-9)
    np.testing.assert_array_equal(rows[:shape[1]], maxvol(A))


def test_rect_maxvol_min_max_rows(rng):
    A = rng.standard_normal((400, 6))
    free = rect_maxvol(A, tol=1.0)
    cap = len(free) - 2
    assert cap >= 6
    rows, coef = rect_maxvol(A, tol=1.0, max_rows=cap, return_coef=True)
    assert len(rows) == cap and coef.shape == (400, cap)
    np.testing.assert_array_equal(rows, free[:cap])
    # capped: norms may exceed tol, but the coefficients are still least-squares ones
    np.testing.assert_allclose(coef, A @ np.linalg.pinv(A[rows]), atol=1e-9)
    rows = rect_maxvol(A, tol=100.0, min_rows=15)
    assert len(rows) == 15 and len(set(rows.tolist())) == 15
    np.testing.assert_array_equal(rows, ref_rect(A, 100.0, min_rows=15))
    assert len(rect_maxvol(A, tol=100.0)) == 6
    assert len(rect_maxvol(A, tol=1.0, max_rows=10 ** 6)) <= 400
    rows = rect_maxvol(A[:9], tol=1.0, min_rows=9)
    assert sorted(rows.tolist()) == list(range(9))


def test_rect_maxvol_more_rows_than_growth_capacity(rng):
    # forces the coefficient storage to grow several times
    A = rng.standard_normal((600, 3))
    rows, coef = rect_maxvol(A, tol=1.0, min_rows=200, return_coef=True)
    assert len(rows) >= 200 and len(set(rows.tolist())) == len(rows)
    np.testing.assert_allclose(coef, A @ np.linalg.pinv(A[rows]), atol=1e-9)


def test_rect_maxvol_float32_and_complex(rng):
    A = rng.standard_normal((500, 10)).astype(np.float32)
    rows, coef = rect_maxvol(A, return_coef=True)
    assert coef.dtype == np.float32 and len(set(rows.tolist())) == len(rows)
    A64 = A.astype(np.float64)
    np.testing.assert_allclose(coef, A64 @ np.linalg.pinv(A64[rows]), atol=1e-3)
    Z = rng.standard_normal((300, 6)) + 1j * rng.standard_normal((300, 6))
    rows, coef = rect_maxvol(Z, tol=1.05, return_coef=True)
    np.testing.assert_allclose(coef, Z @ np.linalg.pinv(Z[rows]), atol=1e-9)
    assert np.linalg.norm(coef, axis=1).max() <= 1.05 * (1 + 1e-9)


def test_rect_maxvol_bad_input(rng):
    A = rng.standard_normal((30, 5))
    with pytest.raises(ValueError, match="tol"):
        rect_maxvol(A, tol=0.5)
    with pytest.raises(ValueError, match="min_rows"):
        rect_maxvol(A, min_rows=3)
    with pytest.raises(ValueError, match="min_rows"):
        rect_maxvol(A, min_rows=31)
    with pytest.raises(ValueError, match="max_rows"):
        rect_maxvol(A, max_rows=4)
    with pytest.raises(ValueError, match="max_rows"):
        rect_maxvol(A, min_rows=10, max_rows=8)
    with pytest.raises(TypeError, match="min_rows"):
        rect_maxvol(A, min_rows=7.0)
    with pytest.raises(ValueError, match="tall"):
        rect_maxvol(A.T)


def test_exported():
    assert tnfast.maxvol is maxvol and "rect_maxvol" in tnfast.__all__


def test_compiled_kernels_take_their_options_by_keyword(rng):
    A = rng.standard_normal((20, 4))
    with pytest.raises(TypeError):
        _core.maxvol_f64(A, 1.05, 100, False)
    rows, coef, _ = _core.maxvol_f64(A, tol=1.05, max_iters=100, return_coef=False)
    assert coef is None and sorted(rows) == sorted(maxvol(A))
    with pytest.raises(TypeError):
        _core.rect_maxvol_f64(A, _core.RectMaxvolOptions(), True)
