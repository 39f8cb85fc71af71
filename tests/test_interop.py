"""Round trips with quimb, TensorKrowch and teneva (each skipped when its package is absent)."""

import sys

import numpy as np
import pytest

import tnfast
from tnfast import MPO, TensorTrain


def same(a, b):
    return len(a.cores) == len(b.cores) and all(
        x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a.cores, b.cores))


@pytest.fixture(params=[1, 2, 5])
def tt(request):
    n = request.param
    return TensorTrain.random([2, 3, 4, 2, 3][:n], 3, seed=n)


def test_quimb_round_trip(tt):
    qtn = pytest.importorskip("quimb.tensor")
    q = tt.to_quimb()
    assert isinstance(q, qtn.MatrixProductState) and q.L == len(tt.cores)
    assert same(TensorTrain.from_quimb(q), tt)
    # same tensor in quimb's eyes (its dense order is site 0 slowest, as ours)
    np.testing.assert_allclose(np.asarray(q.to_dense()).ravel(), tt.full().ravel(), rtol=1e-12, atol=1e-14)


def test_quimb_native_mps_any_shape_order():
    qtn = pytest.importorskip("quimb.tensor")
    m = qtn.MPS_rand_state(6, 4, phys_dim=3, dtype="complex128", seed=0)
    t = TensorTrain.from_quimb(m)
    assert t.shape == (3,) * 6 and t.dtype == np.complex128
    np.testing.assert_allclose(t.full().ravel(), np.asarray(m.to_dense()).ravel(), atol=1e-13)
    # the same state written in another index order reads the same
    lrp = [np.asarray(a) for a in t.to_quimb().arrays]
    plr = [lrp[0].T] + [a.transpose(2, 0, 1) for a in lrp[1:-1]] + [lrp[-1].T]
    m2 = qtn.MatrixProductState(plr, shape="plr")
    assert same(TensorTrain.from_quimb(m2), t)
    assert same(TensorTrain.from_quimb(t.to_quimb()), t)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_quimb_mpo_round_trip(n):
    qtn = pytest.importorskip("quimb.tensor")
    W = MPO.random([2, 3, 2, 2][:n], [3, 2, 2, 1][:n], 3, seed=n)
    q = W.to_quimb()
    assert isinstance(q, qtn.MatrixProductOperator)
    assert same(MPO.from_quimb(q), W)
    # rows are quimb's upper indices, columns its lower ones
    np.testing.assert_allclose(np.asarray(q.to_dense()), W.full(), rtol=1e-12, atol=1e-14)
    native = qtn.MPO_rand(4, 3, phys_dim=2, seed=1)
    np.testing.assert_allclose(MPO.from_quimb(native).full(), np.asarray(native.to_dense()), atol=1e-13)


def test_tensorkrowch_round_trip(tt):
    torch = pytest.importorskip("torch")
    tk = pytest.importorskip("tensorkrowch")
    cores = tt.to_tensorkrowch(as_list=True)
    assert all(isinstance(c, torch.Tensor) for c in cores)
    assert same(TensorTrain.from_tensorkrowch(cores), tt)
    if len(tt.cores) > 1:
        assert cores[0].shape == (tt.shape[0], tt.ranks[1]) and cores[-1].ndim == 2
        m = tt.to_tensorkrowch()
        assert isinstance(m, tk.models.MPS)
        assert same(TensorTrain.from_tensorkrowch(m), tt)


def test_tensorkrowch_values():
    torch = pytest.importorskip("torch")
    pytest.importorskip("tensorkrowch")
    t = TensorTrain.random([3] * 5, 2, seed=4)
    m = t.to_tensorkrowch()
    idx = np.random.default_rng(0).integers(0, 3, size=(7, 5))
    data = torch.nn.functional.one_hot(torch.from_numpy(idx), 3).double()
    m.trace(data)
    np.testing.assert_allclose(m(data).detach().numpy(), t.evaluate(idx), rtol=1e-12)


def test_tensorkrowch_tt_rss_cores():
    torch = pytest.importorskip("torch")
    tk = pytest.importorskip("tensorkrowch")
    torch.manual_seed(0)
    samples = torch.rand(8, 4, dtype=torch.float64)

    def f(x):
        return (1.0 + x).prod(dim=1, keepdim=True)  # rank 1 in the features (1, x)

    def emb(x):
        return tk.embeddings.poly(x, degree=1)

    cores = tk.decompositions.tt_rss(f, emb, samples, rank=2, cum_percentage=1.0, verbose=False)
    t = TensorTrain.from_tensorkrowch(cores)
    assert t.shape == (2, 2, 2, 2)
    x = samples.numpy()
    np.testing.assert_allclose(tnfast.tt_evaluate(t, x, "poly"), np.prod(1.0 + x, axis=1), rtol=1e-10)
    assert same(TensorTrain.from_tensorkrowch(t.to_tensorkrowch(as_list=True)), t)


def test_teneva_round_trip(tt):
    teneva = pytest.importorskip("teneva")
    y = tt.to_teneva()
    assert isinstance(y, list) and all(c.ndim == 3 for c in y)
    assert same(TensorTrain.from_teneva(y), tt)
    i = np.zeros(len(tt.cores), dtype=int) + 1
    assert teneva.get(y, i) == pytest.approx(float(tt.evaluate(i[None])[0]), rel=1e-12)
    y2 = teneva.rand([4, 5, 3], 2, seed=3)
    assert np.array_equal(TensorTrain.from_teneva(y2).to_teneva()[1], y2[1])


def test_missing_package_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "quimb", None)  # import quimb now fails, installed or not
    monkeypatch.setitem(sys.modules, "quimb.tensor", None)
    with pytest.raises(ImportError, match="'quimb'"):
        TensorTrain.random([2, 2], 1).to_quimb()
    with pytest.raises(ImportError, match="'quimb'"):
        MPO.from_quimb(object())


def test_bad_inputs():
    with pytest.raises(TypeError, match="list of 3-d cores"):
        TensorTrain.from_teneva(np.zeros((1, 2, 1)))
    with pytest.raises(ValueError, match="open boundaries"):
        TensorTrain.from_tensorkrowch([np.zeros((2, 2, 2)), np.zeros((2, 2))])
    with pytest.raises(ValueError, match="core 1"):
        TensorTrain.from_tensorkrowch([np.zeros((2, 2)), np.zeros((2, 2, 2, 2)), np.zeros((2, 2))])
    assert tnfast.interop.tt_to_teneva(TensorTrain.random([2], 1))[0].shape == (1, 2, 1)
