import numpy as np
import pytest

import tnfast
from tnfast.cross import prrlu


def low_rank(rng, m, n, r, cplx=False):
    left, right = rng.standard_normal((m, r)), rng.standard_normal((r, n))
    if cplx:
        left = left + 1j * rng.standard_normal((m, r))
        right = right + 1j * rng.standard_normal((r, n))
    return left @ right


@pytest.mark.parametrize("search", ["full", "rook"])
@pytest.mark.parametrize("cplx", [False, True])
def test_rank_revealing_on_low_rank(rng, search, cplx):
    a = low_rank(rng, 60, 45, 5, cplx)
    res = prrlu(a, rel_tol=1e-12, pivot_search=search, seed=3)
    assert res.rank == 5
    assert res.L.shape == (60, 5) and res.U.shape == (5, 45)
    rec = res.L @ res.U
    assert np.abs(rec - a).max() < 1e-11 * np.abs(a).max()
    # the cross form: L U = a[:, cols] a[rows, cols]^-1 a[rows, :]
    P = a[np.ix_(res.rows, res.cols)]
    cross = a[:, res.cols] @ np.linalg.solve(P, a[res.rows, :])
    assert np.abs(rec - cross).max() < 1e-10 * np.abs(a).max()
    assert np.allclose(res.left, a[:, res.cols] @ np.linalg.inv(P), atol=1e-10)
    assert np.allclose(res.right, np.linalg.solve(P, a[res.rows, :]), atol=1e-10)
    assert np.allclose(res.left[res.rows], np.eye(5))
    assert np.allclose(res.right[:, res.cols], np.eye(5))


def test_full_pivoting_reference(rng):
    # first pivot = the largest entry; error = the largest entry of the dense residual
    a = rng.standard_normal((30, 20))
    res = prrlu(a, max_rank=6)
    i, j = np.unravel_index(np.argmax(np.abs(a)), a.shape)
    assert res.rows[0] == i and res.cols[0] == j
    assert res.pivots[0] == pytest.approx(np.abs(a).max())
    resid = a - res.L @ res.U
    assert res.error == pytest.approx(np.abs(resid).max(), rel=1e-12)
    # residual vanishes on the pivot rows and columns
    assert np.abs(resid[res.rows]).max() < 1e-12
    assert np.abs(resid[:, res.cols]).max() < 1e-12
    # dense reference: Gaussian elimination with complete pivoting
    r = a.copy()
    for k in range(6):
        i, j = np.unravel_index(np.argmax(np.abs(r)), r.shape)
        assert res.rows[k] == i and res.cols[k] == j
        r = r - np.outer(r[:, j], r[i, :]) / r[i, j]
    assert np.allclose(r, resid, atol=1e-12)


def test_decaying_spectrum_tolerance(rng):
    u, _ = np.linalg.qr(rng.standard_normal((80, 40)))
    v, _ = np.linalg.qr(rng.standard_normal((60, 40)))
    s = 10.0 ** (-np.arange(40) / 3.0)
    a = (u * s) @ v.T
    for tol in (1e-3, 1e-6, 1e-9):
        res = prrlu(a, rel_tol=tol)
        err = np.abs(a - res.L @ res.U).max()
        assert err <= tol * np.abs(a).max() * (1 + 1e-9)
        assert res.error == pytest.approx(err, rel=1e-6, abs=1e-15)
    r1 = prrlu(a, rel_tol=1e-3).rank
    r2 = prrlu(a, rel_tol=1e-9).rank
    assert r1 < r2 <= 40


def test_rook_close_to_full(rng):
    a = low_rank(rng, 100, 80, 12) + 1e-8 * rng.standard_normal((100, 80))
    full = prrlu(a, rel_tol=1e-6)
    rook = prrlu(a, rel_tol=1e-6, pivot_search="rook", seed=1)
    assert full.rank == 12 and rook.rank == 12
    assert np.abs(a - rook.L @ rook.U).max() < 1e-6 * np.abs(a).max()


def test_zero_and_tiny_inputs():
    res = prrlu(np.zeros((4, 3)))
    assert res.rank == 0 and res.error == 0.0
    res = prrlu(np.array([[2.0]]))
    assert res.rank == 1 and np.allclose(res.L @ res.U, 2.0)


def test_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        prrlu(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="pivot_search"):
        prrlu(np.eye(3), pivot_search="partial")
    with pytest.raises(ValueError, match="2-d"):
        prrlu(np.ones(3))
    with pytest.raises(ValueError, match="max_rank"):
        prrlu(np.eye(3), max_rank=0)
    with pytest.raises(TypeError, match="numeric"):
        prrlu(np.array([["a", "b"]]))


def test_exported():
    assert tnfast.prrlu is prrlu


def _pivot_ratios(a, res):
    """For each pivot: |pivot| over the largest residual entry of its row and column."""
    r = np.array(a, dtype=complex if np.iscomplexobj(a) else float)
    used_r, used_c, ratios = [], [], []
    for i, j in zip(res.rows, res.cols):
        row = np.abs(r[i]).copy()
        col = np.abs(r[:, j]).copy()
        row[used_c] = 0
        col[used_r] = 0
        ratios.append(abs(r[i, j]) / max(row.max(), col.max()))
        r = r - np.outer(r[:, j], r[i, :]) / r[i, j]
        used_r.append(i)
        used_c.append(j)
    return np.array(ratios)


@pytest.mark.parametrize("cplx", [False, True])
def test_rook_pivots_dominate_their_row_and_column(rng, cplx):
    a = low_rank(rng, 70, 50, 9, cplx) + 1e-9 * rng.standard_normal((70, 50))
    strict = prrlu(a, rel_tol=1e-7, pivot_search="rook", seed=2)
    assert strict.rank == 9
    assert np.all(_pivot_ratios(a, strict) >= 1 - 1e-9)  # strict rook pivots
    loose = prrlu(a, rel_tol=1e-7, pivot_search="rook", seed=2, rook_tol=3.0)
    assert loose.rank == 9
    assert np.all(_pivot_ratios(a, loose) >= 1 / 3 - 1e-9)  # threshold pivots
    for res in (strict, loose):
        assert np.abs(a - res.L @ res.U).max() < 1e-6 * np.abs(a).max()
        # the error reported is a residual entry actually seen, never above the true largest one
        assert res.error <= np.abs(a - res.L @ res.U).max() + 1e-12 * np.abs(a).max()


def test_rook_tol_argument():
    with pytest.raises(ValueError, match="rook_tol"):
        prrlu(np.eye(3), pivot_search="rook", rook_tol=0.5)
    with pytest.raises(TypeError, match="rook_tol"):
        prrlu(np.eye(3), pivot_search="rook", rook_tol="2")
