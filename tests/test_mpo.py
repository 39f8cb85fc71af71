"""MPO algebra against dense matrices."""

import numpy as np
import pytest

from tnfast import MPO, TensorTrain

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
RTOL = {np.float32: 2e-4, np.float64: 1e-11, np.complex64: 2e-4, np.complex128: 1e-11}
CASES = [((3,), (2,), 2), ((2, 3), (3, 2), 2), ((2, 2, 2), (3, 1, 2), 3), ((1, 4, 2), (2, 2, 1), 1)]


def close(x, ref, dtype):
    scale = max(np.abs(ref).max(), 1e-300)
    return np.abs(np.asarray(x) - ref).max() <= 50 * RTOL[np.dtype(dtype).type] * scale


def rand_matrix(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows,cols,rank", CASES)
def test_apply_and_compose_match_dense(dtype, rows, cols, rank):
    W = MPO.random(rows, cols, rank, dtype=dtype, seed=1)
    x = TensorTrain.random(cols, rank + 1, dtype=dtype, seed=2)
    Wd = W.full()
    assert Wd.shape == (int(np.prod(rows)), int(np.prod(cols)))
    y = W.apply(x)
    assert isinstance(y, TensorTrain) and y.shape == rows and y.dtype == dtype
    assert y.ranks == tuple(a * b for a, b in zip(W.ranks, x.ranks))
    assert close(y.full().ravel(), Wd @ x.full().ravel(), dtype)
    assert close((W @ x).full(), y.full(), dtype)
    V = MPO.random(cols, (2,) * len(rows), 2, dtype=dtype, seed=3)
    WV = W @ V
    assert isinstance(WV, MPO) and WV.row_dims == rows and WV.col_dims == (2,) * len(rows)
    assert WV.ranks == tuple(a * b for a, b in zip(W.ranks, V.ranks))
    assert close(WV.full(), Wd @ V.full(), dtype)
    assert close(WV.to_matrix(), WV.full(), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_transpose_adjoint_and_linear_combinations(dtype):
    W = MPO.random((2, 3), (3, 2), 3, dtype=dtype, seed=0)
    V = MPO.random((2, 3), (3, 2), 2, dtype=dtype, seed=1)
    Wd, Vd = W.full(), V.full()
    assert close(W.T.full(), Wd.T, dtype) and W.T.row_dims == (3, 2)
    assert close(W.H.full(), Wd.conj().T, dtype)
    assert close(W.conj().full(), Wd.conj(), dtype)
    assert close((W + V).full(), Wd + Vd, dtype)
    assert close((W - V).full(), Wd - Vd, dtype)
    assert close((2 * W).full(), 2 * Wd, dtype) and close((-W).full(), -Wd, dtype)
    assert np.isclose(W.dot(V), np.vdot(Wd, Vd), rtol=1e-4)
    assert np.isclose(W.norm(), np.linalg.norm(Wd), rtol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_from_matrix_round_trip(rng, dtype):
    rows, cols = (2, 3, 2), (3, 2, 2)
    A = rand_matrix(rng, (12, 12), dtype)
    W = MPO.from_matrix(A, rows, cols)
    assert W.dtype == dtype and W.row_dims == rows and W.col_dims == cols
    assert close(W.full(), A, dtype)
    # a low-rank operator is recovered with its ranks
    V = MPO.random(rows, cols, 2, dtype=dtype, seed=5)
    tol = 1e-3 if RTOL[np.dtype(dtype).type] > 1e-6 else 1e-9
    U, info = MPO.from_matrix(V.full(), rows, cols, rel_tol=tol, return_info=True)
    assert U.ranks == (1, 2, 2, 1) and close(U.full(), V.full(), dtype)
    assert info.discarded_weight <= tol ** 2


def test_from_matrix_truncation_and_identity():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((16, 16))
    W, info = MPO.from_matrix(A, (4, 4), (4, 4), rel_tol=0.5, return_info=True)
    err = np.linalg.norm(W.full() - A) / np.linalg.norm(A)
    assert err <= 0.5 and np.isclose(info.discarded_weight, err ** 2, rtol=1e-8)
    Wc = MPO.from_matrix(A, (4, 4), (4, 4), max_rank=3)
    assert max(Wc.ranks) <= 3
    # the identity is a rank-1 product of identities, and applies as the identity
    I = MPO.identity((2, 3, 4))
    assert np.array_equal(I.full(), np.eye(24)) and I.ranks == (1, 1, 1, 1)
    assert MPO.from_matrix(np.eye(24), (2, 3, 4), (2, 3, 4), rel_tol=1e-12).ranks == (1, 1, 1, 1)
    x = TensorTrain.random((2, 3, 4), 3, seed=0)
    assert np.allclose((I @ x).full(), x.full())


def test_round_spectra_entropy():
    W = MPO.random((2, 2, 2), (2, 2, 2), 3, seed=4)
    Wd = W.full()
    S = W + W
    r, info = S.round(rel_tol=1e-10, return_info=True)
    assert r.ranks == W.ranks and np.allclose(r.full(), 2 * Wd)
    r1, info1 = W.round(max_rank=1, return_info=True)
    err2 = np.linalg.norm(r1.full() - Wd) ** 2 / np.linalg.norm(Wd) ** 2
    assert np.isclose(info1.discarded_weight, err2, rtol=1e-8)
    # operator Schmidt values across bond 1 = singular values of the regrouped matrix
    T = Wd.reshape(2, 2, 2, 2, 2, 2).transpose(0, 3, 1, 4, 2, 5).reshape(4, 16)
    s = np.linalg.svd(T, compute_uv=False)
    sv = W.singular_values()
    assert np.allclose(sv[0], s[:len(sv[0])], rtol=1e-10)
    p = s ** 2 / (s ** 2).sum()
    p = p[p > 0]
    assert np.isclose(W.entropy()[0], -(p * np.log(p)).sum(), atol=1e-10)
    c = W.canonicalize(1)
    assert np.allclose(c.full(), Wd)


def test_compressing_an_applied_operator():
    W = MPO.random((2,) * 8, (2,) * 8, 4, seed=0)
    x = TensorTrain.random((2,) * 8, 4, seed=1)
    y = W @ x
    assert max(y.ranks) == 16
    z, info = y.round(rel_tol=1e-10, return_info=True)
    assert max(z.ranks) <= 16 and np.allclose(z.full(), y.full())
    ref = W.full() @ x.full().ravel()
    assert np.allclose(y.full().ravel(), ref)


def test_mixed_dtypes_promote():
    W = MPO.random((2, 2), (2, 2), 2, dtype=np.float32, seed=0)
    x = TensorTrain.random((2, 2), 2, dtype=np.complex128, seed=0)
    y = W @ x
    assert y.dtype == np.complex128
    assert np.allclose(y.full().ravel(), W.full().astype(np.complex128) @ x.full().ravel(), rtol=1e-5)
    V = MPO.random((2, 2), (2, 2), 2, dtype=np.float64, seed=1)
    assert (W @ V).dtype == np.float64


def test_bad_inputs():
    W = MPO.random((2, 3), (3, 2), 2, seed=0)
    with pytest.raises(ValueError, match="state"):
        W.apply(TensorTrain.random((2, 3), 2, seed=0))
    with pytest.raises(TypeError, match="state"):
        W.apply(np.ones(6))
    with pytest.raises(ValueError, match="other"):
        W @ W
    with pytest.raises(ValueError, match="other"):
        W @ MPO.random((3,), (2,), 1)
    with pytest.raises(TypeError, match="other"):
        W.compose(TensorTrain.random((3, 2), 1))
    with pytest.raises(ValueError, match="matrix"):
        MPO.from_matrix(np.ones((5, 6)), (2, 3), (3, 2))
    with pytest.raises(ValueError, match="matrix"):
        MPO.from_matrix(np.ones(36), (2, 3), (3, 2))
    with pytest.raises(ValueError, match="row_dims and col_dims"):
        MPO.from_matrix(np.ones((6, 6)), (2, 3), (6,))
    with pytest.raises(ValueError, match="matrix"):
        MPO.from_matrix(np.full((6, 6), np.inf), (2, 3), (3, 2))
    with pytest.raises(ValueError, match="rel_tol"):
        MPO.from_matrix(np.ones((6, 6)), (2, 3), (3, 2), rel_tol=-1.0)
    with pytest.raises(ValueError, match="dims"):
        W + MPO.random((3, 2), (2, 3), 2)
    with pytest.raises(ValueError, match="max_rank"):
        W.round(max_rank=0)
    with pytest.raises(ValueError, match="cores"):
        MPO([np.ones((1, 2, 2, 2)), np.ones((3, 2, 2, 1))])


def test_save_load(tmp_path):
    W = MPO.random((2, 3), (3, 2), 2, dtype=np.complex128, seed=0)
    W.save(tmp_path / "w.npz")
    V = MPO.load(tmp_path / "w.npz")
    assert V.dtype == W.dtype and np.array_equal(V.full(), W.full())
    TensorTrain.random((2, 3), 2).save(tmp_path / "t.npz")
    with pytest.raises(ValueError, match="not a tnfast MPO"):
        MPO.load(tmp_path / "t.npz")
