"""Regression tests: bad or extreme input gives a clear exception or the right answer, never a
silent wrong result, a hang or a late huge allocation."""

import math
import os
import pickle
import zipfile

import numpy as np
import pytest

import tnfast
from tnfast import MPO, MPS, TensorTrain, grids


def _dense_entropy(full, k):
    m = full.reshape(int(np.prod(full.shape[:k + 1])), -1)
    s = np.linalg.svd(m, compute_uv=False)
    p = s ** 2 / np.sum(s ** 2)
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


# ---- the bindings' dtype check ---------------------------------------------------------------

def test_pickled_arrays_are_accepted():
    a = np.random.default_rng(0).random((4, 3))
    b = pickle.loads(pickle.dumps(a))
    assert b.dtype == np.float64 and b.dtype is not np.dtype(np.float64)
    tt = tnfast.tt_svd(b)
    assert np.allclose(tt.full(), a)
    cores = [pickle.loads(pickle.dumps(c)) for c in MPS.random([3, 4, 2], 2, seed=1).cores]
    t = TensorTrain(cores)
    assert math.isclose(t.norm(), np.linalg.norm(t.full()), rel_tol=1e-12)
    rows = tnfast.maxvol(pickle.loads(pickle.dumps(np.random.default_rng(1).standard_normal((20, 3)))))
    assert len(rows) == 3


def test_byte_swapped_arrays_give_correct_values():
    a = np.random.default_rng(0).random((3, 4))
    tt = tnfast.tt_svd(a.astype(">f8"))
    assert np.allclose(tt.full(), a)


# ---- huge, tiny and NaN trains ---------------------------------------------------------------

@pytest.mark.parametrize("scale", [1e155, 1e-200, 1e300, 1e-300])
def test_extreme_scales_canonicalize_norm_entropy(scale):
    base = MPS.random([2] * 6, 3, seed=0)
    ref_norm = base.norm()
    ref_entropy = base.entropy()
    t = base * scale
    c = t.canonicalize(3)
    assert all(np.all(np.isfinite(g)) for g in c.cores)
    assert math.isclose(c.norm(), ref_norm * scale, rel_tol=1e-10)
    assert math.isclose(t.norm(), ref_norm * scale, rel_tol=1e-10)
    np.testing.assert_allclose(t.entropy(), ref_entropy, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(c.entropy(), ref_entropy, rtol=1e-8, atol=1e-12)
    sv = t.singular_values()
    for s, s0 in zip(sv, base.singular_values()):
        np.testing.assert_allclose(s, s0 * scale, rtol=1e-8, atol=1e-12 * s0[0] * scale)
    r, info = t.round(max_rank=2, return_info=True)
    r0, info0 = base.round(max_rank=2, return_info=True)
    assert math.isclose(info.discarded_weight, info0.discarded_weight, rel_tol=1e-8, abs_tol=1e-14)
    assert math.isclose(info.norm, info0.norm * scale, rel_tol=1e-10)
    assert math.isclose(r.norm(), r0.norm() * scale, rel_tol=1e-8)
    for k in range(1, 5):
        assert math.isclose(base.entropy()[k], _dense_entropy(base.full(), k), rel_tol=1e-8, abs_tol=1e-12)


def test_extreme_scale_tt_svd():
    a = np.random.default_rng(0).random((4, 5, 6))
    for scale in (1e200, 1e-200, 1e300):
        tt, info = tnfast.tt_svd(a * scale, rel_tol=1e-3, return_info=True)
        tt0, info0 = tnfast.tt_svd(a, rel_tol=1e-3, return_info=True)
        assert tt.ranks == tt0.ranks
        assert math.isclose(info.discarded_weight, info0.discarded_weight, rel_tol=1e-8, abs_tol=1e-15)
        assert math.isclose(info.norm, info0.norm * scale, rel_tol=1e-10)
        np.testing.assert_allclose(tt.full() / scale, tt0.full(), rtol=1e-10, atol=1e-12)
    a32 = a.astype(np.float32)
    tt = tnfast.tt_svd(a32 * np.float32(1e30))
    assert np.allclose(tt.full() / np.float32(1e30), a32, rtol=1e-4)


def test_unrepresentable_results_raise_overflow():
    t = MPS.random([2] * 4, 2, seed=0)
    big = TensorTrain([c * 1e200 for c in t.cores])  # norm ~ 1e800
    with pytest.raises(OverflowError):
        big.norm()
    with pytest.raises(OverflowError):
        big.canonicalize(1)
    with pytest.raises(OverflowError):
        big.evaluate(np.zeros((1, 4), dtype=int))
    assert np.isfinite(big.entropy()).all()  # the entropy does not depend on the scale
    with pytest.raises(ValueError, match="alpha"):
        big * 1e300


def test_nan_written_into_a_core_is_reported():
    t = MPS.random([2] * 4, 2, seed=0)
    t.cores[1][0, 0, 0] = np.nan
    for call in (t.norm, t.entropy, lambda: t.canonicalize(1), lambda: t.round(1), t.singular_values,
                 lambda: t.evaluate(np.zeros((2, 4), dtype=int)), lambda: t.dot(t), lambda: t + t):
        with pytest.raises(ValueError, match="NaN or Inf"):
            call()


def test_nan_diagnostics_never_silent():
    info = tnfast.TruncationInfo(float("nan"), 1.0, (1, 1))
    assert math.isnan(info.rel_error)  # not turned into 0
    with pytest.raises(ValueError, match="f returned NaN"):
        tnfast.tt_cross(lambda idx: np.full(len(idx), np.nan), [4, 4, 4])
    with pytest.raises(ValueError, match="f returned Inf"):
        tnfast.tt_cross(lambda idx: np.where(idx[:, 0] == 3, np.inf, 1.0), [4, 4, 4], initial_pivots=[[3, 0, 0]])
    x = np.random.default_rng(0).random((20, 4))
    with pytest.raises(ValueError, match="non-finite"):
        tnfast.tt_rss(lambda z: np.full(len(z), np.nan), x, rank=2)
    for scale in (1e300, 1e-300):  # the pivot errors of values near the limits are finite, not NaN
        tt, info = tnfast.tt_rss(lambda z: scale * (1.0 + z.sum(axis=1)), x, rank=2)
        assert 0 <= info.pivot_error < 1e-10 and 0 <= info.pivot_error_max < 1e-10
        assert math.isclose(tt.norm() / scale, np.sqrt(5.0), rel_tol=1e-8)


# ---- MPO shape, division, astype -------------------------------------------------------------

def test_mpo_shape_is_exact_for_large_modes():
    cores = [np.ones((1, 2 ** 21, 1, 1)) for _ in range(4)]
    m = MPO(cores)
    assert m.shape == (2 ** 84, 1)
    with pytest.raises(ValueError, match="max_elements"):
        m.full()


def test_division_by_inf_nan_raises_like_multiplication():
    t = MPS.random([2] * 3, 2, seed=0)
    for bad in (np.inf, -np.inf, np.nan):
        with pytest.raises(ValueError, match="alpha"):
            t * bad
        with pytest.raises(ValueError, match="alpha"):
            t / bad
    with pytest.raises(ZeroDivisionError):
        t / 0
    with pytest.raises(ValueError, match="alpha"):
        t / 1e-320  # 1 / alpha overflows
    assert np.allclose((t / 4).full(), t.full() / 4)


def test_astype_only_supported_dtypes():
    t = MPS.random([2] * 3, 2, seed=0)
    for bad in (bool, np.int64, np.float16, object, "U3"):
        with pytest.raises(TypeError, match="dtype"):
            t.astype(bad)
    assert t.astype(np.float32).dtype == np.float32
    assert t.astype(np.complex128).dtype == np.complex128
    tc = t.astype(np.complex128) * 1j
    with pytest.raises(TypeError, match="imaginary"):
        tc.astype(np.float64)
    m = MPO.random([2, 2], [3, 3], 2, seed=0)
    with pytest.raises(TypeError, match="dtype"):
        m.astype(bool)
    assert m.astype(np.float32).dtype == np.float32


# ---- grids -----------------------------------------------------------------------------------

def test_grid_indices_checked():
    with pytest.raises(ValueError, match="digit 2"):
        grids.quantics_to_points(np.array([[2, 0]]), 1, 2)
    with pytest.raises(ValueError, match="digit -1"):
        grids.quantics_to_points(np.array([[0, -1]]), 1, 2)
    with pytest.raises(ValueError, match="out of range"):
        grids.quantics_to_points(np.array([[4, 0]]), 2, 2, layout="fused")
    g = grids.GridFunction(lambda x: x[:, 0], [np.arange(5.0)])
    with pytest.raises(ValueError, match="index -1"):
        g.points(np.array([[-1]]))
    with pytest.raises(ValueError, match="index 5"):
        g(np.array([[5]]))
    with pytest.raises(ValueError, match="NaN"):
        grids.points_to_quantics(np.array([[np.nan]]), 1, 3)
    with pytest.raises(ValueError, match="NaN"):
        grids.GridFunction(lambda x: x, [np.array([0.0, np.nan])])
    x = np.array([[0.25], [0.5]])
    assert np.allclose(grids.quantics_to_points(grids.points_to_quantics(x, 1, 3), 1, 3), x)


# ---- integers beyond 64 bits, thread counts --------------------------------------------------

def test_huge_integers_name_the_argument():
    t = MPS.random([2] * 3, 2, seed=0)
    with pytest.raises(ValueError, match="center"):
        t.canonicalize(2 ** 63)
    with pytest.raises(ValueError, match="max_rank"):
        t.round(max_rank=2 ** 64)
    with pytest.raises(ValueError, match="num_threads"):
        t.evaluate(np.zeros((1, 3), dtype=int), num_threads=2 ** 40)
    with pytest.raises(ValueError, match="rank"):
        MPS.random([2, 2], 2 ** 63)
    with pytest.raises(ValueError, match="shape"):
        MPS.zeros([2 ** 64])
    with pytest.raises(ValueError, match="max_rank"):
        tnfast.tt_svd(np.ones((2, 2)), max_rank=-2 ** 70)


# ---- broadcast views -------------------------------------------------------------------------

def test_broadcast_view_finiteness_checked_without_materializing():
    from tnfast._validate import all_finite

    big = np.broadcast_to(np.ones(3), (10 ** 6, 10 ** 6, 3))  # 3e12 entries, 24 bytes of memory
    assert all_finite(big)
    assert not all_finite(np.broadcast_to(np.array([1.0, np.nan]), (10 ** 7, 10 ** 7, 2)))
    with pytest.raises(ValueError, match="NaN"):
        tnfast.tt_svd(np.broadcast_to(np.array([np.nan]), (10 ** 4,) * 4))
    small = np.broadcast_to(np.arange(3.0), (4, 3))
    assert np.allclose(tnfast.tt_svd(small).full(), small)


# ---- save / load -----------------------------------------------------------------------------

def test_save_load_suffix_and_clear_errors(tmp_path):
    t = MPS.random([2, 3, 4], 2, seed=0)
    written = t.save(tmp_path / "x")
    assert written.endswith("x.npz") and os.path.isfile(written)
    u = MPS.load(tmp_path / "x")
    assert np.allclose(u.full(), t.full())
    u = MPS.load(str(tmp_path / "x.npz"))
    assert np.allclose(u.full(), t.full())
    m = MPO.random([2, 3], [3, 2], 2, seed=0)
    m.save(tmp_path / "m")
    assert np.allclose(MPO.load(tmp_path / "m").full(), m.full())
    with pytest.raises(ValueError, match="not a tnfast MPO file .it holds a tnfast TensorTrain"):
        MPO.load(tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="no such file"):
        MPS.load(tmp_path / "nope")
    # garbage, truncated, altered
    (tmp_path / "g.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="g.npz"):
        MPS.load(tmp_path / "g.npz")
    data = (tmp_path / "x.npz").read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        (tmp_path / "t.npz").write_bytes(data[:cut])
        with pytest.raises(ValueError, match="t.npz"):
            MPS.load(tmp_path / "t.npz")
    np.savez(tmp_path / "k.npz", kind=np.array("TensorTrain"), n=np.array(3))  # cores missing
    with pytest.raises(ValueError, match="k.npz"):
        MPS.load(tmp_path / "k.npz")
    np.savez(tmp_path / "big.npz", kind=np.array("TensorTrain"), n=np.array(10 ** 18), core_0=np.ones((1, 2, 1)))
    with pytest.raises(ValueError, match="n="):
        MPS.load(tmp_path / "big.npz")
    cores = [np.ones((1, 2, 2)), np.ones((3, 2, 1))]
    np.savez(tmp_path / "b.npz", kind=np.array("TensorTrain"), n=np.array(2), core_0=cores[0], core_1=cores[1])
    with pytest.raises(ValueError, match="bond"):
        MPS.load(tmp_path / "b.npz")
    np.savez(tmp_path / "v.npz", format=np.array(99), kind=np.array("TensorTrain"), n=np.array(1),
             core_0=np.ones((1, 2, 1)))
    with pytest.raises(ValueError, match="version 99"):
        MPS.load(tmp_path / "v.npz")
    np.savez(tmp_path / "nan.npz", kind=np.array("TensorTrain"), n=np.array(1), core_0=np.full((1, 2, 1), np.nan))
    with pytest.raises(ValueError, match="NaN"):
        MPS.load(tmp_path / "nan.npz")
    with zipfile.ZipFile(tmp_path / "o.npz", "w") as z:  # an object array (pickle) is never loaded
        with z.open("kind.npy", "w") as fh:
            np.lib.format.write_array(fh, np.array(["TensorTrain"], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="o.npz"):
        MPS.load(tmp_path / "o.npz")


# ---- sizes that cannot fit fail fast ----------------------------------------------------------

def test_cross_of_huge_modes_points_to_quantics():
    calls = []

    def f(idx):
        calls.append(len(idx))
        return np.ones(len(idx))

    with pytest.raises(MemoryError, match=r"shape\[0\].*quantics"):
        tnfast.tt_cross(f, [2 ** 40] * 3)
    with pytest.raises(MemoryError, match=r"shape\[0\].*quantics"):
        tnfast.tt_cross(f, [2 ** 40] * 3, pivot_search="rook")
    assert calls == []


def test_tt_rs_large_alphabet_fails_before_allocating():
    y = np.array([[0, 1999, 5], [1999, 0, 3]])
    with pytest.raises(MemoryError, match="tt_rs"):
        tnfast.tt_rs(y, rank=2)
    t = tnfast.tt_rs(np.array([[0, 1], [1, 0], [1, 1]]), rank=2)  # small ones still work
    assert math.isclose(float(np.sum(t.full())), 1.0, rel_tol=1e-8)


# ---- the PyTorch side ------------------------------------------------------------------------

torch = pytest.importorskip("torch")


def test_mpo_linear_empty_batch_gradients_like_nn_linear():
    from tnfast.nn import MPOLinear

    layer = MPOLinear(12, 6, bond_dim=2, dtype=torch.float64)
    y = layer(torch.zeros(0, 12, dtype=torch.float64))
    assert y.shape == (0, 6)
    y.sum().backward()
    for p in layer.parameters():
        assert p.grad is not None and torch.all(p.grad == 0)
    y = layer(torch.zeros(3, 0, 12, dtype=torch.float64))
    assert y.shape == (3, 0, 6)


def test_mpo_conv2d_empty_batch():
    from tnfast.nn import MPOConv2d

    conv = MPOConv2d(4, 6, 3, padding=1, bond_dim=2)
    y = conv(torch.zeros(0, 4, 5, 5))
    assert y.shape == (0, 6, 5, 5)
    y.sum().backward()
    assert all(p.grad is not None for p in conv.parameters())
    with pytest.raises(ValueError, match="smaller than the kernel"):
        MPOConv2d(4, 6, 5)(torch.zeros(1, 4, 2, 2))


def test_layer_input_type_and_dtype_messages():
    from tnfast.nn import MPOConv2d, MPOLinear

    layer = MPOLinear(12, 6, bond_dim=2)
    with pytest.raises(TypeError, match=r"x: expected a torch.Tensor.*from_numpy"):
        layer(np.zeros((2, 12), dtype=np.float32))
    with pytest.raises(TypeError, match=r"x: dtype torch.float64 differs"):
        layer(torch.zeros(2, 12, dtype=torch.float64))
    with pytest.raises(TypeError, match="x: expected a torch.Tensor"):
        MPOConv2d(2, 2, 1)([[0.0]])


def test_huge_prime_feature_count_fails_fast():
    import time

    from tnfast.nn import MPOLinear, factorize

    t0 = time.perf_counter()
    with pytest.raises(MemoryError, match="parameters"):
        MPOLinear(2 ** 61 - 1, 10)
    assert factorize(2 ** 61 - 1, 3) == (1, 2 ** 61 - 1, 1)
    assert math.prod(factorize(2 ** 89 - 1, 4)) == 2 ** 89 - 1
    assert factorize(784, 4) == (4, 7, 7, 4)
    assert time.perf_counter() - t0 < 30  # generous: it used to run for hours


def test_compress_never_grows_silently_and_cutoff_is_per_layer():
    from tnfast.nn import compress

    from tnfast.nn import MPOLinear

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(256, 256))
    with torch.no_grad():  # a weight of low MPO rank plus noise: a decaying spectrum at every split
        low = MPOLinear(256, 256, bond_dim=3, dtype=torch.float32).to_dense()
        net[0].weight.copy_(low / low.norm() + 0.3 * torch.randn(256, 256) / 256)
    dense = sum(p.numel() for p in net.parameters())
    new, report = compress(net)
    assert report[0]["mpo_params"] > dense and not report[0]["replaced"]
    assert isinstance(new[0], torch.nn.Linear)
    new, report = compress(net, allow_larger=True)
    assert report[0]["replaced"] and sum(p.numel() for p in new.parameters()) == report[0]["mpo_params"]
    for cutoff in (0.05, 0.2, 0.5):
        new, report = compress(net, cutoff=cutoff, allow_larger=True)
        assert report[0]["rel_error"] <= cutoff * (1 + 1e-6)
        assert report[0]["rel_error"] > cutoff / 4  # the budget is used, not cut per split
    with pytest.raises(ValueError, match="cutoff"):
        compress(net, cutoff=float("nan"))


def test_cli_bad_values_are_usage_errors(capsys):
    from tnfast.cli import main

    for argv, word in ((["tour", "--dims", "0"], "--dims"), (["tour", "--grid", "100000"], "--grid"),
                       (["tour", "--grid", "1"], "--grid"), (["tour", "--grid", "x"], "--grid"),
                       (["repro", "mpo-mnist", "--epochs", "0"], "--epochs"),
                       (["repro", "mpo-cifar", "--lr", "nan"], "--lr")):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        text = str(exc.value.code) + capsys.readouterr().err
        assert exc.value.code != 0 and "error" in text and word in text and "Traceback" not in text


def test_fuzz_findings():
    # quantics with 2**31 variables allocated the bounds before checking anything (ran for minutes)
    with pytest.raises(ValueError, match="sites"):
        grids.quantics_to_points(np.zeros((1, 3), dtype=int), 2 ** 31, 3)
    with pytest.raises(ValueError, match="sites"):
        grids.quantics(lambda x: x[:, 0], 2 ** 20, 62)
    with pytest.raises(MemoryError, match="uniform_grid"):
        grids.uniform_grid(0.0, 1.0, 2 ** 50)
    from tnfast._validate import physical_memory_bytes

    # more points than the memory available: twice it, since MemAvailable moves between the two reads
    # (one point over it let a rise of a few pages pass the check and start a ~20 GiB allocation)
    too_many = 2 * (physical_memory_bytes() // 8) + 1
    with pytest.raises(MemoryError, match="available"):
        grids.uniform_grid(0.0, 1.0, too_many)
    t = TensorTrain.ones([2, 2])
    with pytest.raises(TypeError, match="embedding"):
        tnfast.tt_evaluate(t, np.zeros((3, 2)), None)
    with pytest.raises(ValueError, match="n: expected an integer <= 1000"):
        grids.gauss_legendre_grid(0.0, 1.0, 10 ** 6)
    with pytest.raises(MemoryError, match="TensorTrain.random"):
        MPO.random([1, 1], [1, 1], 2 ** 31)
    with pytest.raises(MemoryError, match="TensorTrain.random"):
        MPS.random([2, 2, 2], 2 ** 40)
    # a thread count beyond a C int
    with pytest.raises(ValueError, match="n"):
        tnfast.set_num_threads(2 ** 31)
    from tnfast.nn import MPOConv2d

    with pytest.raises(MemoryError, match="tt_sample"):
        tnfast.tt_sample(TensorTrain.ones([4]), 2 ** 40)
    from tnfast.nn import MPOLinear

    with pytest.raises(TypeError, match="floating-point weight"):
        MPOLinear.from_dense(torch.ones(4, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="1x1"):
        MPOConv2d(4, 2, 1, padding=1)(torch.zeros(1, 4, 0, 0))
