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


# ---- Cholesky QR2, LQ, Hermitian eigensolver ------------------------------------------------------
EPS = {np.float32: np.finfo(np.float32).eps, np.float64: np.finfo(np.float64).eps,
       np.complex64: np.finfo(np.float32).eps, np.complex128: np.finfo(np.float64).eps}


def with_condition(rng, m, n, cond, dtype):
    """m x n matrix with singular values geometrically spaced from 1 down to 1/cond."""
    k = min(m, n)
    u, _ = np.linalg.qr(rand(rng, (m, k), np.complex128 if np.iscomplexobj(dtype(0)) else np.float64))
    v, _ = np.linalg.qr(rand(rng, (n, k), np.complex128 if np.iscomplexobj(dtype(0)) else np.float64))
    return ((u * np.logspace(0, -np.log10(cond), k)) @ v.conj().T).astype(dtype)


@pytest.fixture
def counts():
    _core._reset_route_counts()
    yield _core._route_counts
    _core._reset_route_counts()


@pytest.fixture
def cholqr_everywhere():
    before = _core._cholqr_threshold()
    _core._set_cholqr_threshold(0)
    yield
    _core._set_cholqr_threshold(before)


def positive_diag_qr(a):
    """numpy's Householder QR normalized to a positive real diagonal of R (the unique thin QR)."""
    q, r = np.linalg.qr(a.astype(np.complex128))
    ph = np.diag(r) / np.abs(np.diag(r))
    return q * ph, ph.conj()[:, None] * r


@pytest.mark.parametrize("dtype", list(SUFFIX))
@pytest.mark.parametrize("m,n,cond", [(300, 40, 10.0), (64, 64, 100.0), (50, 1, 1.0), (400, 30, 1e5)])
def test_cholqr2_matches_householder(rng, backend, counts, dtype, m, n, cond):
    if cond > 1e3 and EPS[dtype] > 1e-10:
        cond = 30.0  # single precision: stay well inside the range where Cholesky QR2 applies
    a = with_condition(rng, m, n, cond, dtype)
    out = getattr(_core, "cholqr2_" + SUFFIX[dtype])(a)
    assert out is not None
    q, r = out
    assert q.dtype == dtype and q.shape == (m, n) and r.shape == (n, n)
    assert np.abs(q.conj().T @ q - np.eye(n)).max() <= 20 * n * EPS[dtype]
    assert np.abs(np.tril(r, -1)).max() == 0 and np.all(np.diag(r).real > 0) and np.all(np.diag(r).imag == 0)
    assert np.abs(q @ r - a).max() <= 20 * n * EPS[dtype] * np.abs(a).max()
    q_ref, r_ref = positive_diag_qr(a)
    # R is unique; its accuracy degrades like cond * eps
    assert np.abs(r - r_ref).max() <= 50 * n * cond * EPS[dtype] * np.abs(r_ref).max()
    c = counts()
    assert c.cholqr_one_pass + c.cholqr_two_pass == 1 and c.cholqr_rejected == 0
    if cond >= 1e5:
        assert c.cholqr_two_pass == 1  # one pass leaves Q far from orthonormal at this condition


@pytest.mark.parametrize("dtype", list(SUFFIX))
def test_cholqr2_lq_matches_householder(rng, backend, counts, dtype):
    a = with_condition(rng, 40, 300, 1e3 if EPS[dtype] < 1e-10 else 20.0, dtype)
    el, q = getattr(_core, "cholqr2_lq_" + SUFFIX[dtype])(a)
    assert el.shape == (40, 40) and q.shape == (40, 300)
    assert np.abs(q @ q.conj().T - np.eye(40)).max() <= 1000 * EPS[dtype]
    assert np.abs(np.triu(el, 1)).max() == 0 and np.all(np.diag(el).real > 0)
    assert np.abs(el @ q - a).max() <= 1000 * EPS[dtype] * np.abs(a).max()
    _, r_ref = positive_diag_qr(a.conj().T)  # a^H = Q0 R0 -> a = R0^H Q0^H
    assert np.abs(el - r_ref.conj().T).max() <= 1e4 * 1e3 * EPS[dtype] * np.abs(r_ref).max()


@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32])
def test_cholqr2_refuses_ill_conditioned_and_rank_deficient(rng, backend, counts, cholqr_everywhere, dtype):
    sfx = SUFFIX[dtype]
    # beyond 1/eps the columns are numerically dependent: even the shifted first pass cannot help
    bad = [with_condition(rng, 200, 30, 1e18 if EPS[dtype] < 1e-10 else 1e9, dtype),
           (rand(rng, (200, 5), dtype) @ rand(rng, (5, 30), dtype)),  # rank 5 < 30 columns
           np.zeros((50, 10), dtype)]
    for a in bad:
        assert getattr(_core, "cholqr2_" + sfx)(a) is None
        assert getattr(_core, "cholqr2_lq_" + sfx)(np.ascontiguousarray(a.T)) is None
        # the automatic routes fall back to Householder and stay exact and orthonormal
        q, r = getattr(_core, "qr_fast_" + sfx)(a)
        assert np.abs(q.conj().T @ q - np.eye(q.shape[1])).max() <= 100 * TOL[dtype]
        assert np.abs(q @ r - a).max() <= 100 * TOL[dtype] * max(np.abs(a).max(), 1)
        el, qw = getattr(_core, "lq_" + sfx)(np.ascontiguousarray(a.T))
        assert np.abs(qw @ qw.conj().T - np.eye(qw.shape[0])).max() <= 100 * TOL[dtype]
        assert np.abs(el @ qw - a.T).max() <= 100 * TOL[dtype] * max(np.abs(a).max(), 1)
    nan = rand(rng, (20, 4), dtype)
    nan[3, 1] = np.nan
    assert getattr(_core, "cholqr2_" + sfx)(nan) is None
    assert counts().cholqr_rejected == 3 * 4 + 1
    assert counts().cholqr_one_pass + counts().cholqr_two_pass + counts().cholqr_shifted == 0


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("cond", [1e9, 1e12])
def test_cholqr_shifted_route_for_ill_conditioned(rng, backend, counts, cholqr_everywhere, dtype, cond):
    # beyond 1/sqrt(eps) plain Cholesky QR2 refuses; the shifted first pass makes it apply again
    sfx = SUFFIX[dtype]
    a = with_condition(rng, 300, 40, cond, dtype)
    q, r = getattr(_core, "cholqr2_" + sfx)(a)
    assert np.abs(q.conj().T @ q - np.eye(40)).max() <= 20 * 40 * EPS[dtype]
    assert np.abs(np.tril(r, -1)).max() == 0 and np.all(np.diag(r).real > 0)
    assert np.abs(q @ r - a).max() <= 20 * 40 * EPS[dtype] * np.abs(a).max()
    el, qw = getattr(_core, "cholqr2_lq_" + sfx)(np.ascontiguousarray(a.T))
    assert np.abs(qw @ qw.conj().T - np.eye(40)).max() <= 20 * 40 * EPS[dtype]
    assert np.abs(el @ qw - a.T).max() <= 20 * 40 * EPS[dtype] * np.abs(a).max()
    c = counts()
    assert c.cholqr_shifted == 2 and c.cholqr_rejected == 0
    # the unique R (positive diagonal) agrees with Householder's to the accuracy cond * eps allows
    _, r_ref = positive_diag_qr(a)
    assert np.abs(r - r_ref).max() <= 50 * 40 * cond * EPS[dtype] * np.abs(r_ref).max()


@pytest.mark.parametrize("dtype", list(SUFFIX))
def test_cholqr_probe_accepts_one_pass_only_when_orthonormal(rng, backend, counts, cholqr_everywhere, dtype):
    # well conditioned: the random-probe check accepts the first pass, and the result is orthonormal
    sfx = SUFFIX[dtype]
    a = with_condition(rng, 500, 60, 2.0, dtype)
    q, _ = getattr(_core, "cholqr2_" + sfx)(a)
    assert np.abs(q.conj().T @ q - np.eye(60)).max() <= 60 * EPS[dtype]
    assert counts().cholqr_one_pass == 1
    # cond 1e6 (double) / 1e3 (single): one pass leaves Q^H Q - I near cond^2 eps, so a second
    # pass must run, and the result is orthonormal to working precision
    _core._reset_route_counts()
    a = with_condition(rng, 500, 60, 1e6 if EPS[dtype] < 1e-10 else 1e3, dtype)
    q, _ = getattr(_core, "cholqr2_" + sfx)(a)
    assert np.abs(q.conj().T @ q - np.eye(60)).max() <= 20 * 60 * EPS[dtype]
    c = counts()
    assert c.cholqr_two_pass + c.cholqr_shifted == 1 and c.cholqr_one_pass == 0


@pytest.mark.parametrize("dtype", list(SUFFIX))
@pytest.mark.parametrize("m,n", [(30, 7), (7, 30), (12, 12), (1, 5), (5, 1)])
def test_fast_qr_and_lq_any_shape(rng, backend, cholqr_everywhere, dtype, m, n):
    a = rand(rng, (m, n), dtype)
    sfx = SUFFIX[dtype]
    k = min(m, n)
    q, r = getattr(_core, "qr_fast_" + sfx)(a)
    assert q.shape == (m, k) and r.shape == (k, n) and np.allclose(np.tril(r, -1), 0)
    assert np.abs(q.conj().T @ q - np.eye(k)).max() <= 100 * TOL[dtype]
    assert np.abs(q @ r - a).max() <= 100 * TOL[dtype] * np.abs(a).max()
    el, qw = getattr(_core, "lq_" + sfx)(a)
    assert el.shape == (m, k) and qw.shape == (k, n) and np.allclose(np.triu(el, 1), 0)
    assert np.abs(qw @ qw.conj().T - np.eye(k)).max() <= 100 * TOL[dtype]
    assert np.abs(el @ qw - a).max() <= 100 * TOL[dtype] * np.abs(a).max()


def test_cholqr2_shape_errors():
    with pytest.raises(ValueError, match="tall"):
        _core.cholqr2_f64(np.ones((3, 5)))
    with pytest.raises(ValueError, match="wide"):
        _core.cholqr2_lq_f64(np.ones((5, 3)))
    with pytest.raises(ValueError, match="square"):
        _core.eigh_f64(np.ones((5, 3)))


@pytest.mark.parametrize("dtype", list(SUFFIX))
@pytest.mark.parametrize("n", [1, 9, 80])
def test_eigh_matches_numpy(rng, backend, dtype, n):
    b = rand(rng, (n, n), dtype)
    h = (b + b.conj().T) / 2
    w, z = getattr(_core, "eigh_" + SUFFIX[dtype])((np.tril(h) + np.triu(rand(rng, (n, n), dtype), 1)).astype(dtype))
    ref = np.linalg.eigvalsh(h.astype(np.complex128))
    scale = np.abs(ref).max()
    assert np.all(np.diff(w) >= 0)
    assert np.abs(w - ref).max() <= 100 * n * EPS[dtype] * scale
    assert np.abs(z.conj().T @ z - np.eye(n)).max() <= 100 * n * EPS[dtype]
    assert np.abs(h @ z - z * w).max() <= 100 * n * EPS[dtype] * scale


def test_route_counts_is_a_read_only_record(counts):
    c = counts()
    assert isinstance(c, _core.RouteCounts)
    assert c.cholqr_one_pass == c.cholqr_two_pass == c.gram_svd == 0
    with pytest.raises(AttributeError):
        c.gram_svd = 1
    assert "gram_svd_rejected=0" in repr(c)
