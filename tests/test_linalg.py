"""The dense kernels under every algorithm: products, SVD and QR, with and without BLAS."""

import numpy as np
import pytest

import tnfast
from tnfast import _backend, _core

SUFFIX = {np.float32: "f32", np.float64: "f64", np.complex64: "c64", np.complex128: "c128"}
TOL = {np.float32: 1e-4, np.float64: 1e-11, np.complex64: 1e-4, np.complex128: 1e-11}


def rand(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if np.issubdtype(dtype, np.complexfloating):
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


@pytest.fixture(params=[True, False], ids=["blas", "eigen"])
def backend(request):
    if request.param and not tnfast.backend_info()["blas"]:
        pytest.skip("no optimized BLAS available")
    if not request.param:
        _backend.load(disable=True)
    yield request.param
    _backend.load()


@pytest.mark.parametrize("dtype", list(SUFFIX))
@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (3, 5, 2), (70, 60, 50), (130, 1, 7)])
def test_matmul_matches_numpy(rng, backend, dtype, m, k, n):
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    c = getattr(_core, "matmul_" + SUFFIX[dtype])(a, b)
    ref = a.astype(np.complex128) @ b.astype(np.complex128)
    assert c.dtype == dtype
    assert np.abs(c - ref).max() <= TOL[dtype] * max(1.0, np.abs(ref).max()) * k


@pytest.mark.parametrize("dtype", list(SUFFIX))
@pytest.mark.parametrize("m,n", [(1, 1), (5, 3), (3, 5), (40, 25), (25, 40)])
def test_svd_and_qr_reconstruct(rng, backend, dtype, m, n):
    a = rand(rng, (m, n), dtype)
    sfx = SUFFIX[dtype]
    u, s, vh = getattr(_core, "svd_" + sfx)(a)
    k = min(m, n)
    assert u.shape == (m, k) and s.shape == (k,) and vh.shape == (k, n)
    assert np.all(np.diff(s) <= 1e-6 * s[0])
    np.testing.assert_allclose(s, np.linalg.svd(a.astype(np.complex128), compute_uv=False), rtol=TOL[dtype] * 100,
                               atol=TOL[dtype] * 100)
    assert np.abs((u * s) @ vh - a).max() <= 100 * TOL[dtype] * np.abs(a).max()
    q, r = getattr(_core, "qr_" + sfx)(a)
    assert q.shape == (m, k) and r.shape == (k, n)
    assert np.abs(q @ r - a).max() <= 100 * TOL[dtype] * np.abs(a).max()
    assert np.abs(q.conj().T @ q - np.eye(k)).max() <= 100 * TOL[dtype]
    assert np.allclose(np.tril(r, -1), 0)


def test_kernels_reject_bad_input():
    with pytest.raises(TypeError, match="a: expected dtype"):
        _core.matmul_f64(np.ones((2, 2), np.float32), np.ones((2, 2)))
    with pytest.raises(ValueError, match="matmul"):
        _core.matmul_f64(np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="2-d"):
        _core.svd_f64(np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        _core.svd_f64(np.array([[1.0, np.nan], [0.0, 1.0]]))


def test_noncontiguous_input_is_handled(rng):
    a = rng.standard_normal((20, 30))[:, ::2]
    b = rng.standard_normal((15, 4))
    np.testing.assert_allclose(_core.matmul_f64(a, b), a @ b, rtol=1e-12, atol=1e-12)


def test_blas_thread_control():
    if not tnfast.backend_info()["blas"]:
        pytest.skip("no optimized BLAS available")
    before = tnfast.get_num_threads()
    try:
        tnfast.set_num_threads(1)
        assert tnfast.get_num_threads() == 1
        assert tnfast.backend_info()["blas_threads"] == 1
    finally:
        tnfast.set_num_threads(before)
    with pytest.raises(ValueError, match="n: expected an integer >= 1"):
        tnfast.set_num_threads(0)


def test_validation_keeps_zero_dim_arrays():
    from tnfast._validate import as_array

    assert as_array(np.float64(2.0), "x").shape == ()
    assert as_array(np.arange(6.0).reshape(2, 3).T, "x").flags.c_contiguous
