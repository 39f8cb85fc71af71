"""mps_contract: both engines against a per-sample numpy loop, gradients, bad input."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tnfast import _core  # noqa: E402
from tnfast.nn._mps_contract import mps_contract, mps_native_available  # noqa: E402

ENGINES = ["native", "torch"]


def make_cores(rng, n, d, C, out_position, ranks, dtype=torch.float64):
    """Random cores for n inputs; `ranks` gives the inner bonds (len N - 1)."""
    N = n + (out_position is not None)
    bonds = [1, *ranks, 1]
    assert len(bonds) == N + 1
    cores = []
    for k in range(N):
        dk = C if k == out_position else d
        g = rng.standard_normal((bonds[k], dk, bonds[k + 1])) / np.sqrt(bonds[k] * dk) * 1.3
        cores.append(torch.tensor(g, dtype=dtype))
    return cores


def make_features(rng, B, n, d, dtype=torch.float64):
    return torch.tensor(rng.uniform(-1, 1, (B, n, d)), dtype=dtype)


def reference(cores, features, out_position):
    """The chain evaluated sample by sample with numpy (float64)."""
    G = [c.detach().double().numpy() for c in cores]
    F = features.detach().double().numpy()
    B, n, d = F.shape
    C = 1 if out_position is None else G[out_position].shape[1]
    out = np.zeros((B, C))
    for b in range(B):
        if out_position is None:
            v = np.ones(1)
            for k in range(n):
                v = v @ np.einsum("apb,p->ab", G[k], F[b, k])
            out[b, 0] = v[0]
            continue
        v = np.ones(1)
        for k in range(out_position):
            v = v @ np.einsum("apb,p->ab", G[k], F[b, k])
        w = np.ones(1)
        for k in range(len(G) - 1, out_position, -1):
            w = np.einsum("apb,p->ab", G[k], F[b, k - 1]) @ w
        for y in range(C):
            out[b, y] = v @ G[out_position][:, y, :] @ w
    return out


def positions(n):
    return [0, n // 2, n, None]


@pytest.fixture(params=[0, 1, 2], ids=["baseline", "avx2", "avx512"])
def isa(request):
    _core._set_simd_level(-1)
    if request.param > _core._simd_level():
        pytest.skip("instruction set not available on this CPU")
    _core._set_simd_level(request.param)
    yield request.param
    _core._set_simd_level(-1)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("pos", [0, 3, 6, None], ids=["out0", "outmid", "outn", "noout"])
def test_forward_matches_reference(engine, pos):
    rng = np.random.default_rng(0)
    n, d, C = 6, 3, 4
    N = n + (pos is not None)
    ranks = [2, 5, 3, 7, 4, 6][:N - 1]
    cores = make_cores(rng, n, d, C, pos, ranks)
    x = make_features(rng, 37, n, d)
    out = mps_contract(cores, x, pos, engine=engine)
    assert out.shape == (37, C if pos is not None else 1)
    np.testing.assert_allclose(out.numpy(), reference(cores, x, pos), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pos", [0, 5, 9, None], ids=["out0", "outmid", "outn", "noout"])
def test_native_every_isa_threads_and_chunks(isa, pos):
    """Every kernel set, bonds wider than one register tile, several chunks and threads."""
    rng = np.random.default_rng(1)
    n, d, C = 9, 2, 17
    N = n + (pos is not None)
    ranks = [3, 17, 16, 1, 9, 20, 13, 2, 11][:N - 1]
    cores = make_cores(rng, n, d, C, pos, ranks)
    x = make_features(rng, 1100, n, d)
    ref = reference(cores, x, pos)
    g = torch.tensor(rng.standard_normal(ref.shape))
    old = torch.get_num_threads()
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            cs = [c.clone().requires_grad_() for c in cores]
            out = mps_contract(cs, x, pos, engine="native")
            np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-11, atol=1e-11)
            (out * g).sum().backward()
            ct = [c.clone().requires_grad_() for c in cores]
            (mps_contract(ct, x, pos, engine="torch") * g).sum().backward()
            for a, b in zip(cs, ct):
                np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-10)
    finally:
        torch.set_num_threads(old)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("pos", [0, 2, 4, None], ids=["out0", "outmid", "outn", "noout"])
def test_gradcheck(engine, pos):
    rng = np.random.default_rng(2)
    n, d, C = 4, 2, 3
    N = n + (pos is not None)
    cores = [c.requires_grad_() for c in make_cores(rng, n, d, C, pos, [2, 3, 3, 2][:N - 1])]
    x = make_features(rng, 5, n, d)
    assert torch.autograd.gradcheck(lambda *cs: mps_contract(list(cs), x, pos, engine=engine), cores)


def test_torch_engine_double_backward_and_feature_grad():
    rng = np.random.default_rng(3)
    n, d, C, pos = 3, 2, 2, 1
    cores = [c.requires_grad_() for c in make_cores(rng, n, d, C, pos, [2, 2, 2])]
    x = make_features(rng, 4, n, d).requires_grad_()
    assert torch.autograd.gradgradcheck(lambda *a: mps_contract(list(a[1:]), a[0], pos, engine="torch"),
                                        [x, *cores])
    # "auto" falls back to the torch engine when the features need a gradient
    out = mps_contract(cores, x, pos)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-11), (torch.float32, 2e-4)])
@pytest.mark.parametrize("pos", [0, 10, 20, None], ids=["out0", "outmid", "outn", "noout"])
def test_native_equals_torch(dtype, tol, pos):
    rng = np.random.default_rng(4)
    n, d, C, B = 20, 3, 10, 200
    N = n + (pos is not None)
    cores = make_cores(rng, n, d, C, pos, [1 + (k * 7) % 10 for k in range(N - 1)], dtype=dtype)
    x = make_features(rng, B, n, d, dtype=dtype)
    g = torch.tensor(rng.standard_normal((B, C if pos is not None else 1)), dtype=dtype)
    res = {}
    for engine in ENGINES:
        cs = [c.clone().requires_grad_() for c in cores]
        out = mps_contract(cs, x, pos, engine=engine)
        assert out.dtype == dtype
        (out * g).sum().backward()
        res[engine] = (out.detach().double(), [c.grad.double() for c in cs])
    (o1, g1), (o2, g2) = res["native"], res["torch"]
    assert (o1 - o2).abs().max() <= tol * o2.abs().max()
    for a, b in zip(g1, g2):
        assert a.shape == b.shape
        assert (a - b).abs().max() <= tol * max(b.abs().max(), 1e-30)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("pos", [1, None])
def test_batch_of_one_and_empty_batch(engine, pos):
    rng = np.random.default_rng(5)
    n, d, C = 3, 2, 4
    N = n + (pos is not None)
    cores = make_cores(rng, n, d, C, pos, [3] * (N - 1))
    width = C if pos is not None else 1
    x1 = make_features(rng, 1, n, d)
    np.testing.assert_allclose(mps_contract(cores, x1, pos, engine=engine).numpy(), reference(cores, x1, pos),
                               rtol=1e-12, atol=1e-12)
    cs = [c.clone().requires_grad_() for c in cores]
    out = mps_contract(cs, make_features(rng, 0, n, d), pos, engine=engine)
    assert out.shape == (0, width)
    out.sum().backward()
    for c in cs:
        assert c.grad is not None and c.grad.shape == c.shape and not c.grad.any()


def test_auto_engine_picks_native_on_cpu():
    rng = np.random.default_rng(6)
    cores = [c.requires_grad_() for c in make_cores(rng, 3, 2, 2, 1, [2, 2, 2])]
    x = make_features(rng, 3, 3, 2)
    assert mps_native_available(x)
    out = mps_contract(cores, x, 1)
    assert type(out.grad_fn).__name__.startswith("_MPSContractNative")
    assert not type(mps_contract(cores, x, 1, engine="torch").grad_fn).__name__.startswith("_MPSContractNative")


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_input(engine):
    rng = np.random.default_rng(7)
    n, d, C = 4, 3, 2
    cores = make_cores(rng, n, d, C, 2, [2, 3, 3, 2])
    x = make_features(rng, 5, n, d)
    with pytest.raises(ValueError, match="features"):
        bad = x.clone()
        bad[1, 2, 0] = float("nan")
        mps_contract(cores, bad, 2, engine=engine)
    with pytest.raises(ValueError, match="features"):
        bad = x.clone()
        bad[0, 0, 1] = float("inf")
        mps_contract(cores, bad, 2, engine=engine)
    with pytest.raises(TypeError, match="features"):
        mps_contract(cores, x.float(), 2, engine=engine)
    with pytest.raises(ValueError, match="features"):
        mps_contract(cores, x[0], 2, engine=engine)
    with pytest.raises(ValueError, match=r"cores\[0\]: physical dimension"):
        mps_contract(cores, make_features(rng, 5, n, 2), 2, engine=engine)
    with pytest.raises(ValueError, match="cores: expected 5 cores"):
        mps_contract(cores[:-1], x, 2, engine=engine)
    with pytest.raises(ValueError, match="cores: expected 4 cores"):
        mps_contract(cores, x, None, engine=engine)
    with pytest.raises(ValueError, match="out_position"):
        mps_contract(cores, x, 5, engine=engine)
    with pytest.raises(ValueError, match="out_position"):
        mps_contract(cores, x, -1, engine=engine)
    with pytest.raises(TypeError, match="out_position"):
        mps_contract(cores, x, 2.0, engine=engine)
    with pytest.raises(ValueError, match=r"cores\[3\]: left bond"):
        mps_contract([*cores[:3], torch.zeros(4, d, 2, dtype=torch.float64), cores[4]], x, 2, engine=engine)
    with pytest.raises(ValueError, match=r"cores\[0\]: the left bond"):
        mps_contract([torch.zeros(2, d, 2, dtype=torch.float64), *cores[1:]], x, 2, engine=engine)
    with pytest.raises(ValueError, match=r"cores\[1\]: expected a 3-d"):
        mps_contract([cores[0], cores[1][0], *cores[2:]], x, 2, engine=engine)
    with pytest.raises(TypeError, match=r"cores\[2\]: dtype"):
        mps_contract([*cores[:2], cores[2].float(), *cores[3:]], x, 2, engine=engine)
    with pytest.raises(ValueError, match="engine"):
        mps_contract(cores, x, 2, engine="fast")


def test_native_refusals():
    rng = np.random.default_rng(8)
    cores = make_cores(rng, 3, 2, 2, 1, [2, 2, 2])
    x = make_features(rng, 3, 3, 2)
    with pytest.raises(RuntimeError, match="features requires grad"):
        mps_contract(cores, x.clone().requires_grad_(), 1, engine="native")
    with pytest.raises(RuntimeError, match="engine='native'"):
        mps_contract([c.to(torch.bfloat16) for c in cores], x.to(torch.bfloat16), 1, engine="native")


def test_compiled_core_checks_its_arguments():
    rng = np.random.default_rng(9)
    cores = [c.numpy() for c in make_cores(rng, 3, 2, 4, 1, [2, 3, 2])]
    x = rng.uniform(-1, 1, (5, 3, 2))
    out, envs = _core.mps_forward_f64(cores, x, out_position=1)
    np.testing.assert_allclose(out, reference([torch.tensor(c) for c in cores], torch.tensor(x), 1), rtol=1e-12)
    g = rng.standard_normal(out.shape)
    grads = _core.mps_backward_f64(cores, x, out_position=1, envs=envs, grad_out=g)
    assert [a.shape for a in grads] == [c.shape for c in cores]
    with pytest.raises(ValueError, match="envs"):
        _core.mps_backward_f64(cores, x, out_position=1, envs=envs[:-1], grad_out=g)
    with pytest.raises(ValueError, match="grad_out"):
        _core.mps_backward_f64(cores, x, out_position=1, envs=envs, grad_out=g[:, :2])
    with pytest.raises(ValueError, match="out_position"):
        _core.mps_forward_f64(cores, x, out_position=4)
    with pytest.raises(ValueError, match="cores"):
        _core.mps_forward_f64(cores, x, out_position=-1)
    with pytest.raises(TypeError, match="features"):
        _core.mps_forward_f64(cores, x.astype(np.float32), out_position=1)


@pytest.mark.parametrize("engine", ENGINES)
def test_output_site_alone(engine):
    """No input sites: every sample gets the output core itself."""
    core = torch.arange(5.0, dtype=torch.float64).reshape(1, 5, 1).requires_grad_()
    x = torch.zeros(3, 0, 2, dtype=torch.float64)
    out = mps_contract([core], x, 0, engine=engine)
    np.testing.assert_array_equal(out.detach().numpy(), np.tile(np.arange(5.0), (3, 1)))
    out.sum().backward()
    np.testing.assert_array_equal(core.grad.numpy(), np.full((1, 5, 1), 3.0))
