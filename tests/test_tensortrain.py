"""TensorTrain algebra against dense numpy references."""

import numpy as np
import pytest

import tnfast
from tnfast import TensorTrain, TruncationInfo, _core, tt_svd

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
RTOL = {np.float32: 2e-4, np.float64: 1e-11, np.complex64: 2e-4, np.complex128: 1e-11}
SHAPES_RANKS = [((5,), 1), ((3, 4), 2), ((2, 3, 4), 3), ((1, 5, 1, 2), 2), ((4, 4, 4, 4, 4), 5), ((2, 2, 2), 1)]


def rtol(dtype):
    return RTOL[np.dtype(dtype).type]


def close(x, ref, dtype, scale=None):
    x, ref = np.asarray(x), np.asarray(ref)
    scale = max(np.abs(ref).max() if ref.size else 0.0, 1e-300) if scale is None else scale
    return np.abs(x - ref).max() <= 50 * rtol(dtype) * scale


def unfold_svals(A, k):
    return np.linalg.svd(A.reshape(int(np.prod(A.shape[:k + 1])), -1), compute_uv=False)


@pytest.fixture(params=[0, 1, 2], ids=["baseline", "avx2", "avx512"])
def isa(request):
    _core._set_simd_level(-1)
    if request.param > _core._simd_level():
        pytest.skip("instruction set not available on this CPU")
    _core._set_simd_level(request.param)
    yield request.param
    _core._set_simd_level(-1)


# ---- constructors ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_random_zeros_ones(dtype):
    t = TensorTrain.random((2, 3, 4), 3, dtype=dtype, seed=0)
    assert t.dtype == dtype and t.shape == (2, 3, 4) and t.ranks == (1, 3, 3, 1)
    assert np.array_equal(t.full(), TensorTrain.random((2, 3, 4), 3, dtype=dtype, seed=0).full())
    assert TensorTrain.random((2, 3, 4), [2, 5], seed=1).ranks == (1, 2, 5, 1)
    assert np.array_equal(TensorTrain.zeros((2, 3), dtype).full(), np.zeros((2, 3)))
    assert np.array_equal(TensorTrain.ones((2, 3), dtype).full(), np.ones((2, 3)))
    if np.dtype(dtype).kind == "c":
        assert np.abs(t.full().imag).max() > 0


def test_random_is_normalized_in_expectation():
    norms = [TensorTrain.random((3, 3, 3, 3), 4, seed=s).norm() ** 2 for s in range(300)]
    assert 0.8 < np.mean(norms) < 1.2


def test_constructor_errors():
    with pytest.raises(ValueError, match="rank"):
        TensorTrain.random((2, 3), 0)
    with pytest.raises(ValueError, match="rank"):
        TensorTrain.random((2, 3, 4), [2, 3, 4])
    with pytest.raises(TypeError, match="shape"):
        TensorTrain.random((2, 2.5), 2)
    with pytest.raises(TypeError):
        TensorTrain.random((2, 3), 2, dtype=np.int32)


# ---- evaluation --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,rank", SHAPES_RANKS)
def test_evaluate_matches_dense(rng, isa, dtype, shape, rank):
    t = TensorTrain.random(shape, rank, dtype=dtype, seed=3)
    A = t.full()
    idx = np.stack([rng.integers(0, d, 37) for d in shape], axis=1)
    y = t.evaluate(idx)
    assert y.dtype == dtype and y.shape == (37,)
    assert close(y, A[tuple(idx.T)], dtype)
    assert close(t.evaluate(idx[5]), A[tuple(idx[5])], dtype) and t.evaluate(idx[5]).shape == ()


@pytest.mark.parametrize("rank", [1, 2, 3, 5, 9, 10, 11, 13, 17, 25, 31, 33, 40])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_evaluate_every_kernel_width(rng, isa, dtype, rank):
    shape = (3, 2, 4, 3)
    t = TensorTrain.random(shape, rank, dtype=dtype, seed=rank)
    A = t.full()
    idx = np.stack([rng.integers(0, d, 23) for d in shape], axis=1)
    assert close(t.evaluate(idx), A[tuple(idx.T)], dtype)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_evaluate_threads_agree(rng, threads):
    t = TensorTrain.random((2,) * 30, 6, seed=0)
    idx = rng.integers(0, 2, (5001, 30))
    ref = t.evaluate(idx, num_threads=1)
    assert np.array_equal(t.evaluate(idx, num_threads=threads), ref)
    assert np.array_equal(t.evaluate(idx), ref)


def test_evaluate_long_chain_against_numpy(rng):
    t = TensorTrain.random((2,) * 100, 10, seed=1)
    idx = rng.integers(0, 2, (300, 100))
    v = np.ones((300, 1))
    for k, c in enumerate(t.cores):
        v = np.einsum("ba,bas->bs", v, c.transpose(1, 0, 2)[idx[:, k]])
    assert np.allclose(t.evaluate(idx), v[:, 0], rtol=1e-10, atol=1e-12 * np.abs(v).max())


def test_evaluate_bad_input():
    t = TensorTrain.random((2, 3, 4), 2, seed=0)
    with pytest.raises(ValueError, match=r"indices\[1, 2\] = 4"):
        t.evaluate([[0, 0, 0], [1, 2, 4]])
    with pytest.raises(ValueError, match="indices"):
        t.evaluate([[0, -1, 0]])
    with pytest.raises(TypeError, match="indices"):
        t.evaluate([[0.0, 1.0, 2.0]])
    with pytest.raises(TypeError, match="indices"):
        t.evaluate(np.array([[True, False, True]]))
    with pytest.raises(ValueError, match="indices"):
        t.evaluate([[0, 1]])
    with pytest.raises(ValueError, match="indices"):
        t.evaluate(np.zeros((2, 2, 3), dtype=int))
    with pytest.raises(ValueError, match="num_threads"):
        t.evaluate([[0, 1, 2]], num_threads=0)
    assert t.evaluate(np.zeros((0, 3), dtype=int)).shape == (0,)
    # non-contiguous and other integer types are accepted
    idx = np.array([[0, 1, 2, 0], [1, 2, 3, 1], [0, 0, 0, 0]], dtype=np.int16)[:, :3]
    assert np.allclose(t.evaluate(idx), t.full()[tuple(idx.T)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,rank", SHAPES_RANKS)
def test_evaluate_embedded_matches_dense(rng, isa, dtype, shape, rank):
    t = TensorTrain.random(shape, rank, dtype=dtype, seed=4)
    A = t.full()
    feats = [rng.standard_normal((9, d)).astype(dtype) for d in shape]
    letters = "cdefghijkl"[:len(shape)]
    expr = letters + "," + ",".join("b" + c for c in letters) + "->b"
    ref = np.einsum(expr, A, *feats)
    y = t.evaluate_embedded(feats)
    assert y.dtype == dtype and close(y, ref, dtype, scale=max(1.0, np.abs(ref).max()))
    if len(set(shape)) == 1:
        y3 = t.evaluate_embedded(np.stack(feats, axis=1))
        assert close(y3, ref, dtype, scale=max(1.0, np.abs(ref).max()))


def test_evaluate_embedded_onehot_equals_evaluate(rng, isa):
    t = TensorTrain.random((3,) * 12, 7, seed=5)
    idx = rng.integers(0, 3, (64, 12))
    onehot = np.eye(3)[idx]  # (64, 12, 3)
    assert np.allclose(t.evaluate_embedded(onehot), t.evaluate(idx), rtol=1e-12, atol=1e-14)


def test_evaluate_embedded_promotes_and_validates(rng):
    t = TensorTrain.random((2, 2, 2), 2, dtype=np.float32, seed=0)
    f = rng.standard_normal((4, 3, 2))
    y = t.evaluate_embedded(f)
    assert y.dtype == np.float64
    assert np.allclose(y, np.einsum("ijk,bi,bj,bk->b", t.full().astype(np.float64), f[:, 0], f[:, 1], f[:, 2]),
                       rtol=1e-5)
    assert t.evaluate_embedded(f.astype(np.complex64)).dtype == np.complex64
    assert np.allclose(t.evaluate_embedded(np.asfortranarray(f)), y)
    with pytest.raises(ValueError, match="features"):
        t.evaluate_embedded(rng.standard_normal((4, 2, 2)))
    with pytest.raises(ValueError, match="features"):
        t.evaluate_embedded(rng.standard_normal((4, 3, 3)))
    bad = f.copy()
    bad[1, 1, 1] = np.nan
    with pytest.raises(ValueError, match="features"):
        t.evaluate_embedded(bad)
    with pytest.raises(ValueError, match=r"features\[1\]"):
        t.evaluate_embedded([f[:, 0], f[:3, 1], f[:, 2]])
    with pytest.raises(ValueError, match="features"):
        t.evaluate_embedded([f[:, 0], f[:, 1]])
    with pytest.raises(TypeError, match="features"):
        t.evaluate_embedded(np.array([["a"]]))


# ---- inner products, norms, sums ------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,rank", SHAPES_RANKS)
def test_dot_norm_add_scale_hadamard(dtype, shape, rank):
    a = TensorTrain.random(shape, rank, dtype=dtype, seed=1)
    b = TensorTrain.random(shape, rank + 1, dtype=dtype, seed=2)
    A, B = a.full(), b.full()
    assert close(a.dot(b), np.vdot(A, B), dtype, scale=np.linalg.norm(A) * np.linalg.norm(B))
    assert close(a.norm(), np.linalg.norm(A), dtype)
    s = a + b
    assert s.dtype == dtype and close(s.full(), A + B, dtype)
    if len(shape) > 1:
        assert s.bond_dims == tuple(x + y for x, y in zip(a.bond_dims, b.bond_dims))
    assert close((a - b).full(), A - B, dtype)
    assert close((-a).full(), -A, dtype)
    assert close((2.5 * a).full(), 2.5 * A, dtype) and close((a * 2.5).full(), 2.5 * A, dtype)
    assert close((a / 4).full(), A / 4, dtype)
    h = a.hadamard(b)
    assert close(h.full(), A * B, dtype)
    assert h.ranks == tuple(x * y for x, y in zip(a.ranks, b.ranks))


def test_mixed_dtypes_promote():
    a = TensorTrain.random((2, 3, 2), 2, dtype=np.float32, seed=0)
    b = TensorTrain.random((2, 3, 2), 2, dtype=np.complex128, seed=1)
    assert (a + b).dtype == np.complex128
    assert a.hadamard(b).dtype == np.complex128
    assert np.isclose(a.dot(b), np.vdot(a.full().astype(np.complex128), b.full()), rtol=1e-5)
    assert isinstance(a.dot(a), float) and isinstance(b.dot(b), complex)
    assert (1j * a).dtype == np.complex64
    assert np.allclose((1j * a).full(), 1j * a.full(), rtol=1e-5)
    c = TensorTrain.random((2, 3, 2), 2, dtype=np.float64, seed=2)
    assert (a + c).dtype == np.float64


def test_norm_survives_large_and_small_scales():
    t = TensorTrain.random((3,) * 6, 3, seed=0)
    ref = t.norm()
    cores = [c.copy() for c in t.cores]
    cores[0] *= 1e200
    cores[1] *= 1e-200
    cores[3] *= 1e180
    cores[5] *= 1e-180
    u = TensorTrain(cores)
    assert np.isclose(u.norm(), ref, rtol=1e-10)
    assert np.isclose(u.dot(t), t.dot(t), rtol=1e-10)
    tiny = TensorTrain([c * 1e-100 for c in t.cores])  # norm 1e-600 underflows: zero, not NaN
    assert tiny.norm() == 0.0
    big = TensorTrain([c * 1e-40 for c in t.cores])
    assert np.isclose(big.norm(), ref * 1e-240, rtol=1e-10)


def test_algebra_errors():
    a = TensorTrain.random((2, 3), 2, seed=0)
    b = TensorTrain.random((2, 4), 2, seed=0)
    c = TensorTrain.random((2, 3, 1), 2, seed=0)
    for op in (lambda: a + b, lambda: a.dot(b), lambda: a.hadamard(c), lambda: a - c):
        with pytest.raises(ValueError, match="shapes differ"):
            op()
    with pytest.raises(TypeError, match="other"):
        a.dot(np.ones((2, 3)))
    with pytest.raises(TypeError, match="hadamard"):
        a * a
    with pytest.raises(TypeError):
        a * "x"
    with pytest.raises(TypeError):
        a + 1.0
    with pytest.raises(ValueError, match="alpha"):
        a * np.nan
    with pytest.raises(ZeroDivisionError):
        a / 0


# ---- canonical forms ---------------------------------------------------------------------------
def left_orth_err(g):
    r = g.shape[2]
    m = g.reshape(-1, r)
    return np.abs(m.conj().T @ m - np.eye(r)).max()


def right_orth_err(g):
    r = g.shape[0]
    m = g.reshape(r, -1)
    return np.abs(m @ m.conj().T - np.eye(r)).max()


def assert_mixed_canonical(c, center, A, dtype):
    """c represents A, with left-orthonormal cores before ``center`` and right-orthonormal after."""
    assert close(c.full(), A, dtype)
    for k in range(center):
        assert left_orth_err(c.cores[k]) < 100 * rtol(dtype)
    for k in range(center + 1, len(c.cores)):
        assert right_orth_err(c.cores[k]) < 100 * rtol(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,rank", SHAPES_RANKS + [((2, 2, 2, 2), 6)])
def test_canonical_forms(dtype, shape, rank):
    t = TensorTrain.random(shape, rank, dtype=dtype, seed=7)
    A = t.full()
    n = len(shape)
    for center in range(n):
        c = t.canonicalize(center)
        assert_mixed_canonical(c, center, A, dtype)
        assert all(x <= y for x, y in zip(c.ranks, t.ranks))
        assert np.isclose(np.linalg.norm(c.cores[center]), np.linalg.norm(A), rtol=100 * rtol(dtype))
    lc, rc = t.left_canonicalize(), t.right_canonicalize()
    assert all(left_orth_err(g) < 100 * rtol(dtype) for g in lc.cores[:-1])
    assert all(right_orth_err(g) < 100 * rtol(dtype) for g in rc.cores[1:])
    assert close(t.canonicalize(-1).full(), A, dtype)
    # over-ranked bonds shrink to what the unfoldings allow (a sweep only bounds them from its side)
    if shape == (2, 2, 2, 2):
        assert lc.ranks == (1, 2, 4, 6, 1)
        assert rc.ranks == (1, 6, 4, 2, 1)
        assert lc.right_canonicalize().ranks == (1, 2, 4, 2, 1)


def test_canonicalize_errors():
    t = TensorTrain.random((2, 3, 4), 2, seed=0)
    with pytest.raises(ValueError, match="center"):
        t.canonicalize(3)
    with pytest.raises(ValueError, match="center"):
        t.canonicalize(-4)
    with pytest.raises(TypeError, match="center"):
        t.canonicalize(1.0)


# ---- rounding ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_is_exact_above_true_rank(dtype):
    t = TensorTrain.random((3, 4, 5, 4, 3), 3, dtype=dtype, seed=2)
    s = t + t + t  # ranks 9, true rank 3
    tol = 1e-4 if rtol(dtype) > 1e-6 else 1e-10
    r, info = s.round(rel_tol=tol, return_info=True)
    assert r.ranks == t.ranks
    assert close(r.full(), 3 * t.full(), dtype)
    assert isinstance(info, TruncationInfo) and info.discarded_weight <= tol ** 2
    r2 = s.round(max_rank=3)
    assert r2.ranks == t.ranks and close(r2.full(), 3 * t.full(), dtype)
    r3 = s.round()  # no limits: lossless
    assert close(r3.full(), 3 * t.full(), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32])
@pytest.mark.parametrize("rel_tol", [0.05, 0.2, 0.5])
def test_round_error_bound_and_discarded_weight(dtype, rel_tol):
    t = TensorTrain.random((4, 5, 4, 5, 4), 8, dtype=dtype, seed=11)
    A = t.full()
    r, info = t.round(rel_tol=rel_tol, return_info=True)
    err2 = np.linalg.norm(A - r.full()) ** 2 / np.linalg.norm(A) ** 2
    assert np.sqrt(err2) <= rel_tol * (1 + 1e-6)
    assert max(r.ranks) <= max(t.ranks)
    assert np.isclose(info.discarded_weight, err2, rtol=1e-3 if rtol(dtype) > 1e-6 else 1e-8, atol=1e-7)
    assert abs(info.rel_error - np.sqrt(err2)) <= 1e-3 * np.sqrt(err2) + (1e-5 if rtol(dtype) > 1e-6 else 1e-12)
    assert np.isclose(info.norm, np.linalg.norm(A), rtol=1e-5)
    assert info.ranks == r.ranks
    # the result is left-canonical up to its last core
    assert all(left_orth_err(g) < 1e3 * rtol(dtype) for g in r.cores[:-1])


@pytest.mark.parametrize("max_rank", [1, 2, 4])
def test_round_max_rank(max_rank):
    t = TensorTrain.random((3, 4, 5, 4, 3), 6, seed=5)
    A = t.full()
    r, info = t.round(max_rank=max_rank, return_info=True)
    assert max(r.ranks) <= max_rank
    err2 = np.linalg.norm(A - r.full()) ** 2 / np.linalg.norm(A) ** 2
    assert np.isclose(info.discarded_weight, err2, rtol=1e-8)
    # the first bond's truncation is the optimal rank-max_rank approximation of that unfolding
    s = unfold_svals(A, 0)
    assert err2 >= (s[max_rank:] ** 2).sum() / (s ** 2).sum() - 1e-12


def test_round_zero_and_single_site():
    z = TensorTrain.zeros((2, 3, 4))
    r, info = (z + z).round(rel_tol=0.1, return_info=True)
    assert r.ranks == (1, 1, 1, 1) and info.discarded_weight == 0.0 and np.all(r.full() == 0)
    one = TensorTrain([np.arange(5.0).reshape(1, 5, 1)])
    r, info = one.round(max_rank=1, return_info=True)
    assert np.allclose(r.full(), np.arange(5.0)) and info.discarded_weight == 0.0
    assert one.singular_values() == [] and one.entropy().shape == (0,)


def test_round_errors():
    t = TensorTrain.random((2, 3), 2, seed=0)
    with pytest.raises(ValueError, match="max_rank"):
        t.round(max_rank=0)
    with pytest.raises(ValueError, match="max_rank"):
        t.round(max_rank=-3)
    with pytest.raises(ValueError, match="rel_tol"):
        t.round(rel_tol=-0.1)
    with pytest.raises(ValueError, match="rel_tol"):
        t.round(rel_tol=np.nan)
    with pytest.raises(TypeError, match="max_rank"):
        t.round(max_rank=2.5)
    with pytest.raises(TypeError, match="rel_tol"):
        t.round(rel_tol="0.1")


# ---- spectra ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,rank", [((3, 4), 2), ((2, 3, 4, 3), 3), ((2, 2, 2, 2, 2), 4)])
def test_singular_values_and_entropy(dtype, shape, rank):
    t = TensorTrain.random(shape, rank, dtype=dtype, seed=9)
    A = t.full()
    sv = t.singular_values()
    ent = t.entropy()
    assert len(sv) == len(shape) - 1 and ent.shape == (len(shape) - 1,)
    for k, s in enumerate(sv):
        ref = unfold_svals(A, k)
        assert s.dtype == np.dtype(dtype).type(0).real.dtype
        assert np.all(np.diff(s) <= 1e-6 * s[0])
        m = min(len(s), len(ref))
        assert close(s[:m], ref[:m], dtype, scale=ref[0])
        assert np.all(ref[m:] <= 100 * rtol(dtype) * ref[0])
        p = ref ** 2 / (ref ** 2).sum()
        p = p[p > 0]
        assert np.isclose(ent[k], -(p * np.log(p)).sum(), atol=1e-3 if rtol(dtype) > 1e-6 else 1e-9)


def test_entropy_closed_forms():
    # product state: zero entropy; GHZ-like (|000> + |111>)/sqrt2: ln 2 at every bond
    prod = TensorTrain.random((2, 2, 2), 1, seed=0)
    assert np.allclose(prod.entropy(), 0.0, atol=1e-12)
    g = np.zeros((2, 2, 2))
    g[0, 0, 0] = g[1, 1, 1] = 1 / np.sqrt(2)
    ghz = tt_svd(g)
    assert ghz.ranks == (1, 2, 2, 1)
    assert np.allclose(ghz.entropy(), np.log(2), atol=1e-12)


# ---- TT-SVD ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,rank", SHAPES_RANKS)
def test_tt_svd_round_trip_and_rank(dtype, shape, rank):
    t = TensorTrain.random(shape, rank, dtype=dtype, seed=13)
    A = t.full()
    x = tt_svd(A, rel_tol=1e-3 if rtol(dtype) > 1e-6 else 1e-9)
    assert x.dtype == dtype
    assert close(x.full(), A, dtype, scale=max(np.abs(A).max(), 1e-3 * np.linalg.norm(A)))
    true = tuple([1] + [int(np.sum(unfold_svals(A, k) > 1e-4 * unfold_svals(A, k)[0]))
                        for k in range(len(shape) - 1)] + [1])
    assert x.ranks == true
    exact = tt_svd(A)
    assert close(exact.full(), A, dtype)


@pytest.mark.parametrize("rel_tol", [0.01, 0.1, 0.3])
def test_tt_svd_error_bound_on_smooth_function(rel_tol):
    g = np.linspace(0, 1, 12)
    X = np.meshgrid(*([g] * 5), indexing="ij")
    A = 1.0 / (1.0 + sum(X)) + np.sin(X[0] * X[3])
    x, info = tt_svd(A, rel_tol=rel_tol, return_info=True)
    err = np.linalg.norm(A - x.full()) / np.linalg.norm(A)
    assert err <= rel_tol * (1 + 1e-9)
    assert np.isclose(info.discarded_weight, err ** 2, rtol=1e-6, atol=1e-20)
    assert max(x.ranks) < 12
    y, info_y = tt_svd(A, max_rank=2, return_info=True)
    assert max(y.ranks) <= 2
    assert np.isclose(info_y.discarded_weight, (np.linalg.norm(A - y.full()) / np.linalg.norm(A)) ** 2, rtol=1e-6)


def test_tt_svd_inputs():
    a = np.arange(24).reshape(2, 3, 4)  # integers -> float64
    x = tt_svd(a)
    assert x.dtype == np.float64 and np.allclose(x.full(), a)
    b = np.asfortranarray(np.random.default_rng(0).standard_normal((3, 4, 5)))[:, ::2, :]
    assert np.allclose(tt_svd(b).full(), b)
    assert np.allclose(tt_svd(np.arange(5.0)).full(), np.arange(5.0))
    assert tt_svd(np.ones((1, 1, 1))).ranks == (1, 1, 1, 1)
    assert TensorTrain.from_dense(a, max_rank=1).ranks == (1, 1, 1, 1)
    with pytest.raises(ValueError, match="array"):
        tt_svd(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="array"):
        tt_svd(np.float64(3.0))
    with pytest.raises(ValueError, match="array"):
        tt_svd(np.zeros((2, 0, 3)))
    with pytest.raises(ValueError, match="rel_tol"):
        tt_svd(a, rel_tol=-1e-3)
    with pytest.raises(ValueError, match="max_rank"):
        tt_svd(a, max_rank=0)
    with pytest.raises(TypeError, match="array"):
        tt_svd(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="max_rank"):
        tt_svd(a, max_rank=True)


# ---- edge cases and persistence -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_single_site_and_unit_dims(dtype, rng):
    t = TensorTrain.random((1, 4, 1), 3, dtype=dtype, seed=0)
    A = t.full()
    assert close(t.evaluate([[0, 2, 0]]), [A[0, 2, 0]], dtype)
    assert close(t.round(max_rank=1).full(), A, dtype)
    s = TensorTrain.random((6,), [], dtype=dtype, seed=1)
    S = s.full()
    assert close(s.evaluate(np.arange(6)[:, None]), S, dtype)
    assert close(s.norm(), np.linalg.norm(S), dtype)
    assert close((s + s).full(), 2 * S, dtype) and (s + s).ranks == (1, 1)
    assert close(s.hadamard(s).full(), S * S, dtype)
    assert close(s.canonicalize(0).full(), S, dtype)
    f = rng.standard_normal((3, 6)).astype(dtype)
    assert close(s.evaluate_embedded([f]), f @ S, dtype, scale=max(1.0, np.abs(f @ S).max()))


def test_save_load_round_trip(tmp_path):
    for dtype in DTYPES:
        t = TensorTrain.random((2, 3, 4), 3, dtype=dtype, seed=0)
        path = tmp_path / f"t_{np.dtype(dtype).name}.npz"
        t.save(path)
        u = TensorTrain.load(path)
        assert u.dtype == dtype and u.ranks == t.ranks
        assert all(np.array_equal(a, b) for a, b in zip(t.cores, u.cores))
    tnfast.MPO.identity((2, 2)).save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="not a tnfast"):
        TensorTrain.load(tmp_path / "m.npz")


def test_operations_do_not_modify_inputs():
    t = TensorTrain.random((3, 4, 3), 4, seed=0)
    before = [c.copy() for c in t.cores]
    t.round(max_rank=2)
    t.canonicalize(1)
    t.singular_values()
    t + t
    t * 3.0
    t.hadamard(t)
    assert all(np.array_equal(a, b) for a, b in zip(t.cores, before))


# ---- BLAS-3 routes of canonical forms and rounding ------------------------------------------------
@pytest.fixture
def route(request):
    """Force (threshold 0) or forbid (huge threshold) Cholesky QR2 and the Gram-matrix rounding
    route, and reset the route counters."""
    before = _core._cholqr_threshold()
    _core._set_cholqr_threshold(0 if request.param == "blas3" else 1 << 60)
    _core._reset_route_counts()
    yield request.param
    _core._set_cholqr_threshold(before)
    _core._reset_route_counts()


def with_route(name, fn):
    before = _core._cholqr_threshold()
    _core._set_cholqr_threshold(0 if name == "blas3" else 1 << 60)
    try:
        return fn()
    finally:
        _core._set_cholqr_threshold(before)


def decaying_train(shape, rank, dtype, seed, decay=0.7):
    """Random train whose bonds carry geometrically decaying weights (Schmidt values with gaps)."""
    t = TensorTrain.random(shape, rank, dtype=dtype, seed=seed)
    cores = [c.copy() for c in t.cores]
    for k in range(len(cores) - 1):
        cores[k] = cores[k] * (decay ** np.arange(cores[k].shape[2]))
    return TensorTrain(cores)


@pytest.mark.parametrize("route", ["blas3"], indirect=True)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,rank", [((3, 4, 5, 4, 3), 6), ((2, 2, 2, 2), 6), ((4, 4, 4, 4, 4), 5)])
def test_canonical_forms_cholqr_route(route, dtype, shape, rank):
    t = TensorTrain.random(shape, rank, dtype=dtype, seed=3)
    A = t.full()
    n = len(shape)
    for center in range(n):
        assert_mixed_canonical(t.canonicalize(center), center, A, dtype)
    counts = _core._route_counts()
    assert counts.cholqr_one_pass + counts.cholqr_two_pass > 0
    if shape == (2, 2, 2, 2):
        # the over-ranked bond 3 (rank 6 > 4 = d * r_2) has a wide unfolding: Householder shrinks it
        assert t.left_canonicalize().ranks == (1, 2, 4, 6, 1)
        assert t.left_canonicalize().right_canonicalize().ranks == (1, 2, 4, 2, 1)


@pytest.mark.parametrize("route", ["blas3"], indirect=True)
@pytest.mark.parametrize("dtype", DTYPES)
def test_canonicalize_square_unfoldings_need_no_factorization(route, dtype):
    # full ranks 1, 2, 4, 8, 4, 2, 1: every unfolding met by sweeps from both ends to the middle
    # is square, so the orthogonal factor can be the identity and the whole unfolding moves on
    t = TensorTrain.random((2,) * 6, [1, 2, 4, 8, 4, 2, 1], dtype=dtype, seed=5)
    assert t.ranks == (1, 2, 4, 8, 4, 2, 1)
    A = t.full()
    c = t.canonicalize(3)
    counts = _core._route_counts()
    assert counts.cholqr_one_pass + counts.cholqr_two_pass + counts.cholqr_rejected == 0
    for k in range(3):
        assert np.allclose(c.cores[k].reshape(-1, c.cores[k].shape[2]), np.eye(c.cores[k].shape[2]))
    for center in range(6):
        c = t.canonicalize(center)
        assert_mixed_canonical(c, center, A, dtype)
        assert c.ranks == t.ranks


@pytest.mark.parametrize("route", ["blas3"], indirect=True)
@pytest.mark.parametrize("dtype", DTYPES)
def test_canonicalize_rank_deficient_train_cholqr_route(route, dtype):
    t = TensorTrain.random((3, 4, 5, 4, 3), 3, dtype=dtype, seed=2)
    s = t + t + t  # ranks 9, true rank 3: every Gram matrix of an interior unfolding is singular
    A = s.full()
    for c in (s.left_canonicalize(), s.right_canonicalize(), s.canonicalize(2)):
        assert close(c.full(), A, dtype)
    lc, rc = s.left_canonicalize(), s.right_canonicalize()
    assert all(left_orth_err(g) < 100 * rtol(dtype) for g in lc.cores[:-1])
    assert all(right_orth_err(g) < 100 * rtol(dtype) for g in rc.cores[1:])
    assert _core._route_counts().cholqr_rejected > 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_within_cap_orthogonalizes_without_svd(dtype):
    # bonds already within max_rank (no tolerance) can only lose exactly zero singular values; a
    # successful Cholesky QR proves there are none, so rounding just orthogonalizes them
    t = TensorTrain.random((3, 4, 5, 4, 3), [1, 3, 6, 6, 3, 1], dtype=dtype, seed=6)
    A = t.full()
    _core._reset_route_counts()
    r = with_route("blas3", lambda: t.round(max_rank=6))
    c = _core._route_counts()
    assert c.gram_svd + c.gram_svd_rejected == 0 and c.cholqr_one_pass + c.cholqr_two_pass > 0
    assert r.ranks == t.ranks and close(r.full(), A, dtype)
    assert all(left_orth_err(g) < 100 * rtol(dtype) for g in r.cores[:-1])
    # an exactly zero singular value is still cut, as by the SVD route
    cores = [g.copy() for g in t.cores]
    cores[1][:, :, -1] = 0
    z = TensorTrain(cores)
    r3 = with_route("blas3", lambda: z.round(max_rank=6))
    r0 = with_route("householder", lambda: z.round(max_rank=6))
    assert r3.ranks == r0.ranks and r3.ranks[2] == 5
    assert close(r3.full(), z.full(), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128, np.float32, np.complex64])
@pytest.mark.parametrize("max_rank", [2, 5])
def test_round_gram_route_matches_svd_route(dtype, max_rank):
    t = decaying_train((4, 5, 6, 5, 4), 8, dtype, seed=4)
    A = t.full()
    _core._reset_route_counts()
    r3, i3 = with_route("blas3", lambda: t.round(max_rank=max_rank, return_info=True))
    counts = _core._route_counts()
    r0, i0 = with_route("householder", lambda: t.round(max_rank=max_rank, return_info=True))
    assert counts.gram_svd > 0
    assert r3.ranks == r0.ranks
    assert max(r3.ranks) == max_rank
    tol = 1e-10 if rtol(dtype) < 1e-6 else 1e-4
    assert np.linalg.norm(r3.full() - r0.full()) <= tol * np.linalg.norm(A)
    err2 = np.linalg.norm(A - r3.full()) ** 2 / np.linalg.norm(A) ** 2
    assert np.isclose(i3.discarded_weight, i0.discarded_weight, rtol=1e-8 if tol < 1e-6 else 1e-3)
    assert np.isclose(i3.discarded_weight, err2, rtol=1e-6 if tol < 1e-6 else 1e-2)
    assert all(left_orth_err(g) < 100 * rtol(dtype) for g in r3.cores[:-1])
    # the first truncation is the optimal rank-max_rank approximation of the first unfolding
    s = unfold_svals(A, 0)
    assert err2 >= (s[max_rank:] ** 2).sum() / (s ** 2).sum() * (1 - 1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("rel_tol", [1e-3, 0.1])
def test_round_gram_route_with_tolerance(dtype, rel_tol):
    t = decaying_train((4, 5, 6, 5, 4), 8, dtype, seed=6, decay=0.3)
    A = t.full()
    _core._reset_route_counts()
    r3, i3 = with_route("blas3", lambda: t.round(rel_tol=rel_tol, return_info=True))
    used = _core._route_counts().gram_svd
    r0, i0 = with_route("householder", lambda: t.round(rel_tol=rel_tol, return_info=True))
    assert used > 0
    assert r3.ranks == r0.ranks
    assert np.linalg.norm(r3.full() - r0.full()) <= 1e-10 * np.linalg.norm(A)
    err = np.linalg.norm(A - r3.full()) / np.linalg.norm(A)
    assert err <= rel_tol * (1 + 1e-8)
    assert np.isclose(i3.discarded_weight, err ** 2, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_gram_route_refused_when_unsafe(dtype):
    # tiny tolerance / lossless rounding / cut values near round-off: the Gram route must step aside
    t = TensorTrain.random((3, 4, 5, 4, 3), 3, dtype=dtype, seed=2)
    s = t + t + t
    ref = 3 * t.full()
    _core._reset_route_counts()
    tol = 1e-4 if rtol(dtype) > 1e-6 else 1e-10
    r, info = with_route("blas3", lambda: s.round(rel_tol=tol, return_info=True))
    r2 = with_route("blas3", lambda: s.round())
    r3 = with_route("blas3", lambda: s.round(max_rank=3))
    counts = _core._route_counts()
    assert counts.gram_svd_rejected > 0
    assert r.ranks == t.ranks and r3.ranks == t.ranks
    assert close(r.full(), ref, dtype) and close(r2.full(), ref, dtype) and close(r3.full(), ref, dtype)
    assert info.discarded_weight <= tol ** 2


@pytest.mark.parametrize("dtype", [np.float64, np.complex64])
def test_singular_values_cholqr_route(dtype):
    t = TensorTrain.random((2, 3, 4, 3, 2), 4, dtype=dtype, seed=9)
    A = t.full()
    _core._reset_route_counts()
    sv = with_route("blas3", t.singular_values)
    assert _core._route_counts().cholqr_one_pass + _core._route_counts().cholqr_two_pass > 0
    for k, s in enumerate(sv):
        ref = unfold_svals(A, k)
        m = min(len(s), len(ref))
        assert close(s[:m], ref[:m], dtype, scale=ref[0])


def test_large_train_takes_blas3_route_by_default():
    t = decaying_train((4,) * 8, 64, np.float64, seed=1, decay=0.97)
    A = t.full()
    _core._reset_route_counts()
    r, info = t.round(max_rank=32, return_info=True)
    c = t.canonicalize(0)
    counts = _core._route_counts()
    assert counts.cholqr_one_pass + counts.cholqr_two_pass > 0 and counts.gram_svd > 0
    r0 = with_route("householder", lambda: t.round(max_rank=32))
    assert np.linalg.norm(r.full() - r0.full()) <= 1e-10 * np.linalg.norm(A)
    assert np.isclose(info.discarded_weight, np.linalg.norm(A - r.full()) ** 2 / np.linalg.norm(A) ** 2, rtol=1e-8)
    assert np.linalg.norm(c.full() - A) <= 1e-12 * np.linalg.norm(A)
    assert all(right_orth_err(g) < 1e-13 for g in c.cores[1:])


@pytest.mark.parametrize("dtype", [np.float64, np.complex64])
def test_round_gram_route_refused_for_small_kept_values(dtype):
    # kept Schmidt values far below s_1 are not resolved by the Gram matrix: the SVD routes must cut
    t = decaying_train((4, 5, 6, 5, 4), 8, dtype, seed=4, decay=0.05)
    A = t.full()
    _core._reset_route_counts()
    r3, i3 = with_route("blas3", lambda: t.round(max_rank=6, return_info=True))
    counts = _core._route_counts()
    r0, i0 = with_route("householder", lambda: t.round(max_rank=6, return_info=True))
    assert counts.gram_svd_rejected > 0 and counts.gram_svd == 0
    assert r3.ranks == r0.ranks and max(r3.ranks) == 6
    assert np.linalg.norm(r3.full() - r0.full()) <= 50 * rtol(dtype) * np.linalg.norm(A)
    assert np.isclose(i3.discarded_weight, i0.discarded_weight, rtol=1e-6, atol=1e-3 * rtol(dtype))
