import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tnfast.nn import MPOConv2d, MPOLinear, bond_caps, choose_modes, factorize, mpo_num_params  # noqa: E402
from tnfast.nn import decompose_weight  # noqa: E402
from tnfast.nn._plan import partitions  # noqa: E402

@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


CASES = [
    ((4, 7, 7, 4), (4, 4, 4, 4), 4),
    ((4, 4, 4, 4), (1, 10, 1, 1), 4),
    ((2, 3, 7, 2), (1, 5, 2, 1), 2),
    ((3, 2), (2, 5), 3),
    ((2, 3, 2), (3, 1, 2), (2, 5)),
    ((6,), (5,), 1),
]


def _layer(inm, outm, d, bias=True, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    return MPOLinear(math.prod(inm), math.prod(outm), inm, outm, bond_dim=d, bias=bias, dtype=dtype)


# ------------------------------------------------------------------ factorization and counts
def test_factorize_balanced_and_exact():
    assert factorize(784, 4) == (4, 7, 7, 4)
    assert factorize(256, 4) == (4, 4, 4, 4)
    assert factorize(4096, 5) == (4, 4, 8, 8, 4)
    assert factorize(10, 4) == (1, 2, 5, 1)
    assert factorize(1, 3) == (1, 1, 1)
    for n in (1, 2, 7, 12, 97, 360, 1000, 4096, 3 * 5 * 7 * 11):
        for k in (1, 2, 3, 5):
            f = factorize(n, k)
            assert len(f) == k and math.prod(f) == n
    im, om = choose_modes(784, 256)
    assert len(im) == len(om) and math.prod(im) == 784 and math.prod(om) == 256
    with pytest.raises(ValueError, match="n_factors"):
        factorize(10, 0)
    with pytest.raises(ValueError, match="n"):
        factorize(0, 2)


@pytest.mark.parametrize("inm,outm,d,expected", [
    ((4, 7, 7, 4), (4, 4, 4, 4), 4, 1024),
    ((4, 4, 4, 4), (1, 10, 1, 1), 4, 736),
    ((2, 10, 10, 2), (2, 5, 6, 2), 4, 1792),
    ((2, 5, 6, 2), (2, 3, 7, 2), 4, 944),
    ((2, 3, 7, 2), (1, 5, 2, 1), 2, 124),
    ((4, 4, 8, 8, 4), (4, 4, 8, 8, 4), 4, 2432),
    ((4, 4, 4, 4, 2), (4, 4, 8, 8, 4), 4, 1376),
])
def test_param_counts_match_published_table(inm, outm, d, expected):
    layer = MPOLinear(math.prod(inm), math.prod(outm), inm, outm, bond_dim=d, bias=False)
    assert layer.num_params == expected
    assert sum(p.numel() for p in layer.parameters()) == expected
    assert mpo_num_params(inm, outm, layer.bond_dims) == expected
    with_bias = MPOLinear(math.prod(inm), math.prod(outm), inm, outm, bond_dim=d)
    assert with_bias.num_params == expected + math.prod(outm)


def test_bond_caps():
    assert bond_caps((2, 3), (2, 5)) == (4,)
    assert bond_caps((4, 7, 7, 4), (4, 4, 4, 4)) == (16, 448, 16)
    caps = bond_caps((2, 2, 2), (2, 2, 2))
    assert caps == (4, 4)
    layer = MPOLinear(8, 8, (2, 2, 2), (2, 2, 2), bond_dim=100)
    assert layer.bond_dims == (4, 4)


# ------------------------------------------------------------------ forward / backward vs dense
@pytest.mark.parametrize("inm,outm,d", CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_all_paths_match_dense_float64(inm, outm, d, bias):
    layer = _layer(inm, outm, d, bias)
    x = torch.randn(7, layer.in_features, dtype=torch.float64, requires_grad=True)
    w = layer.to_dense()
    ref = x @ w.T + (layer.bias if bias else 0)
    gy = torch.randn_like(ref)
    params = [x, *layer.cores] + ([layer.bias] if bias else [])
    gref = torch.autograd.grad(ref, params, gy)
    paths = list(partitions(len(inm))) + ["dense", "sequential", None]
    for engine in ("native", "torch"):
        layer.engine = engine
        for path in paths:
            y = layer(x, path=path)
            assert torch.allclose(y, ref, atol=1e-12, rtol=1e-10), (engine, path)
            g = torch.autograd.grad(y, params, gy)
            for a, b in zip(g, gref):
                assert torch.allclose(a, b, atol=1e-11, rtol=1e-9), (engine, path)


@pytest.mark.parametrize("inm,outm,d", CASES[:3])
def test_float32_matches_dense(inm, outm, d):
    layer = _layer(inm, outm, d, dtype=torch.float32)
    x = torch.randn(33, layer.in_features)
    ref = x @ layer.to_dense().T + layer.bias
    for engine in ("native", "torch"):
        layer.engine = engine
        for path in ("sequential", "dense", None):
            y = layer(x, path=path)
            assert y.dtype == torch.float32
            assert torch.allclose(y, ref, atol=1e-5, rtol=1e-4), (engine, path)


def test_input_without_grad_and_leading_dims():
    layer = _layer((2, 3, 2), (3, 1, 2), 3)
    x = torch.randn(2, 5, 12, dtype=torch.float64)
    y = layer(x, path="sequential")
    assert y.shape == (2, 5, 6)
    ref = x @ layer.to_dense().T + layer.bias
    assert torch.allclose(y, ref)
    y.sum().backward()
    g_seq = [c.grad.clone() for c in layer.cores]
    for c in layer.cores:
        c.grad = None
    layer(x, path="dense").sum().backward()
    for a, c in zip(g_seq, layer.cores):
        assert torch.allclose(a, c.grad)
    assert layer(torch.zeros(0, 12, dtype=torch.float64)).shape == (0, 6)


def test_gradcheck_tiny():
    layer = _layer((2, 3), (2, 2), 2)
    x = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)
    cores = [c.detach().clone().requires_grad_(True) for c in layer.cores]

    def f(xx, c0, c1):
        with torch.no_grad():
            layer.cores[0].copy_(c0)
            layer.cores[1].copy_(c1)
        from tnfast.nn._sweep import apply_sweep, group_matrix
        shapes = [tuple(c0.shape), tuple(c1.shape)]
        return apply_sweep(xx, [group_matrix(c0), group_matrix(c1)], shapes, ())

    assert torch.autograd.gradcheck(f, (x, *cores))
    assert torch.autograd.gradgradcheck(lambda xx: layer(xx, path="dense"), (x,))


def test_plan_is_cached_and_valid():
    layer = MPOLinear(4096, 4096, (4, 4, 8, 8, 4), (4, 4, 8, 8, 4), bond_dim=4)
    sizes, keep, cost = layer.plan(256)
    assert sum(sizes) == 5 and cost > 0
    assert layer.plan(256) is layer.plan(256)
    small = MPOLinear(784, 256, (4, 7, 7, 4), (4, 4, 4, 4), bond_dim=4)
    assert sum(small.plan(1)[0]) == 4


# ------------------------------------------------------------------ initialization
def test_initialization_variance():
    torch.manual_seed(0)
    ws = []
    for _ in range(20):
        layer = MPOLinear(784, 256, (4, 7, 7, 4), (4, 4, 4, 4), bond_dim=4)
        ws.append(layer.to_dense().detach())
    var = torch.stack(ws).var().item()
    target = 2.0 / (784 + 256)
    assert 0.7 * target < var < 1.3 * target


def test_deep_stack_keeps_scale():
    torch.manual_seed(0)
    x = torch.randn(256, 256)
    h = x
    for _ in range(10):
        layer = MPOLinear(256, 256, (4, 4, 4, 4), (4, 4, 4, 4), bond_dim=4, bias=False)
        h = layer(h)
    ratio = (h.pow(2).mean() / x.pow(2).mean()).item()
    assert 1e-2 < ratio < 1e2


# ------------------------------------------------------------------ TT-SVD
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 2e-6), (torch.float64, 1e-12)])
def test_from_dense_exact_at_full_bond(dtype, tol):
    torch.manual_seed(1)
    lin = torch.nn.Linear(84, 60, dtype=dtype)
    layer = MPOLinear.from_dense(lin, in_modes=(2, 3, 7, 2), out_modes=(2, 5, 3, 2))
    w = layer.to_dense()
    err = (torch.linalg.norm(w - lin.weight) / torch.linalg.norm(lin.weight)).item()
    assert err < tol
    assert layer.bond_dims == bond_caps((2, 3, 7, 2), (2, 5, 3, 2))
    assert torch.equal(layer.bias, lin.bias)
    x = torch.randn(4, 84, dtype=dtype)
    assert torch.allclose(layer(x), lin(x), atol=10 * tol * 10, rtol=1e-4)


def test_from_dense_error_decreases_with_bond():
    torch.manual_seed(2)
    w = torch.randn(64, 64, dtype=torch.float64)
    errs = []
    for d in (1, 2, 4, 8, 16, 64):
        layer = MPOLinear.from_dense(torch.nn.Linear(64, 64, bias=False, dtype=torch.float64).requires_grad_(False),
                                     in_modes=(4, 4, 4), out_modes=(4, 4, 4))
        cores = decompose_weight(w, (4, 4, 4), (4, 4, 4), max_bond=d)
        layer._set_cores(cores)
        errs.append((torch.linalg.norm(layer.to_dense() - w) / torch.linalg.norm(w)).item())
    assert all(a >= b - 1e-12 for a, b in zip(errs, errs[1:]))
    assert errs[0] > 0.5 and errs[-1] < 1e-12
    # a single split at bond 4 is the optimal rank-4 approximation (Eckart-Young)
    lay2 = MPOLinear.from_dense(w, in_modes=(8, 8), out_modes=(8, 8), max_bond=4)
    m = w.reshape(8, 8, 8, 8).permute(0, 2, 1, 3).reshape(64, 64)
    s = torch.linalg.svdvals(m)
    best = torch.sqrt((s[4:] ** 2).sum()) / torch.sqrt((s ** 2).sum())
    got = torch.linalg.norm(lay2.to_dense() - w) / torch.linalg.norm(w)
    assert abs(got.item() - best.item()) < 1e-10


def test_from_dense_cutoff():
    torch.manual_seed(3)
    # a weight of exact MPO rank 3
    src = MPOLinear(64, 64, (4, 4, 4), (4, 4, 4), bond_dim=3, bias=False, dtype=torch.float64)
    w = src.to_dense().detach()
    layer = MPOLinear.from_dense(w, in_modes=(4, 4, 4), out_modes=(4, 4, 4), cutoff=1e-10)
    assert layer.bond_dims == (3, 3)
    assert torch.allclose(layer.to_dense(), w, atol=1e-10)


def test_singular_values_and_entropy_match_dense_unfoldings():
    layer = _layer((2, 3, 2), (3, 2, 2), (4, 3))
    w = layer.to_dense().detach()
    n = 3
    inm, outm = layer.in_modes, layer.out_modes
    t = w.reshape(*outm, *inm).permute(*[p for k in range(n) for p in (k, n + k)])
    sv = layer.singular_values()
    ent = layer.entropy()
    for k in range(1, n):
        rows = math.prod(outm[:k]) * math.prod(inm[:k])
        s = torch.linalg.svdvals(t.reshape(rows, -1))
        s = s[:len(sv[k - 1])]
        assert torch.allclose(sv[k - 1], s, atol=1e-10)
        p = s ** 2 / (s ** 2).sum()
        p = p[p > 1e-30]
        assert abs(ent[k - 1].item() - float(-(p * p.log()).sum())) < 1e-9


# ------------------------------------------------------------------ conversions and state
def test_state_dict_round_trip_and_truncated_load():
    layer = _layer((4, 7, 7, 4), (4, 4, 4, 4), 4)
    sd = layer.state_dict()
    other = _layer((4, 7, 7, 4), (4, 4, 4, 4), 4, seed=5)
    other.load_state_dict(sd)
    x = torch.randn(3, 784, dtype=torch.float64)
    assert torch.equal(other(x), layer(x))
    lin = torch.nn.Linear(784, 256, dtype=torch.float64)
    trunc = MPOLinear.from_dense(lin, in_modes=(4, 7, 7, 4), out_modes=(4, 4, 4, 4), max_bond=(3, 5, 2))
    fresh = _layer((4, 7, 7, 4), (4, 4, 4, 4), 4)
    fresh.load_state_dict(trunc.state_dict())
    assert fresh.bond_dims == (3, 5, 2)
    assert torch.equal(fresh(x), trunc(x))


def test_mpo_conversion_round_trip():
    import tnfast
    layer = _layer((2, 3, 2), (3, 1, 2), 3)
    mpo = layer.to_mpo()
    assert isinstance(mpo, tnfast.MPO)
    assert np.allclose(mpo.full(), layer.to_dense().detach().numpy())
    back = MPOLinear.from_mpo(mpo, bias=layer.bias.detach().numpy())
    x = torch.randn(4, 12, dtype=torch.float64)
    assert torch.allclose(back(x), layer(x))
    lin = layer.to_linear()
    assert torch.allclose(lin(x), layer(x))
    with pytest.raises(TypeError, match="mpo"):
        MPOLinear.from_mpo(np.zeros(3))


def test_repr_mentions_structure():
    layer = _layer((4, 7, 7, 4), (4, 4, 4, 4), 4)
    r = repr(layer)
    assert "in_modes=(4, 7, 7, 4)" in r and "bond_dims=(4, 4, 4)" in r


# ------------------------------------------------------------------ bad arguments
def test_bad_arguments():
    with pytest.raises(ValueError, match="in_modes"):
        MPOLinear(784, 256, in_modes=(4, 7, 7, 5), out_modes=(4, 4, 4, 4))
    with pytest.raises(ValueError, match="out_modes"):
        MPOLinear(784, 256, in_modes=(4, 7, 7, 4), out_modes=(4, 4, 4, 3))
    with pytest.raises(ValueError, match="bond_dim"):
        MPOLinear(784, 256, bond_dim=0)
    with pytest.raises(ValueError, match="bond_dim"):
        MPOLinear(784, 256, in_modes=(4, 7, 7, 4), out_modes=(4, 4, 4, 4), bond_dim=(4, 4))
    with pytest.raises(ValueError, match="in_modes/out_modes"):
        MPOLinear(784, 256, in_modes=(28, 28), out_modes=(4, 4, 4, 4))
    with pytest.raises(ValueError, match="in_features"):
        MPOLinear(0, 3)
    with pytest.raises(TypeError, match="out_features"):
        MPOLinear(3, 2.5)
    with pytest.raises(ValueError, match="path"):
        MPOLinear(784, 256, path="fastest")
    with pytest.raises(ValueError, match="path"):
        MPOLinear(784, 256, in_modes=(4, 7, 7, 4), out_modes=(4, 4, 4, 4), path=(2, 1))
    layer = MPOLinear(12, 6)
    with pytest.raises(ValueError, match="x"):
        layer(torch.randn(2, 13))
    with pytest.raises(ValueError, match="cutoff"):
        MPOLinear.from_dense(torch.nn.Linear(12, 6), cutoff=-1.0)
    with pytest.raises(ValueError, match="kernel_size"):
        MPOConv2d(4, 4, 0)


# ------------------------------------------------------------------ convolution
@pytest.mark.parametrize("stride,padding,ks", [(1, 0, 3), (2, 1, 3), (1, 2, (3, 5)), (1, 0, 1)])
def test_conv_matches_conv2d_with_dense_kernel(stride, padding, ks):
    torch.manual_seed(4)
    conv = MPOConv2d(6, 8, ks, stride=stride, padding=padding, in_modes=(2, 3), out_modes=(4, 2), bond_dim=3,
                     dtype=torch.float64)
    x = torch.randn(2, 6, 9, 10, dtype=torch.float64, requires_grad=True)
    k = conv.to_dense()
    assert k.shape == (8, 6, *((ks, ks) if isinstance(ks, int) else ks))
    ref = torch.nn.functional.conv2d(x, k, conv.bias, stride=stride, padding=padding)
    gy = torch.randn_like(ref)
    params = [x, *conv.cores, conv.bias]
    gref = torch.autograd.grad(ref, params, gy)
    for path in ("dense", "sequential", None):
        y = conv(x, path=path)
        assert torch.allclose(y, ref, atol=1e-11), path
        for a, b in zip(torch.autograd.grad(y, params, gy), gref):
            assert torch.allclose(a, b, atol=1e-10), path


def test_conv_from_dense_round_trip():
    torch.manual_seed(5)
    dense = torch.nn.Conv2d(8, 12, 3, padding=1, dtype=torch.float64)
    conv = MPOConv2d.from_dense(dense, in_modes=(2, 4), out_modes=(3, 4))
    assert torch.allclose(conv.to_dense(), dense.weight, atol=1e-12)
    x = torch.randn(2, 8, 6, 6, dtype=torch.float64)
    assert torch.allclose(conv(x), dense(x), atol=1e-11)
    assert torch.allclose(conv.to_conv()(x), dense(x), atol=1e-11)
    small = MPOConv2d.from_dense(dense, in_modes=(2, 4), out_modes=(3, 4), max_bond=2)
    err = torch.linalg.norm(small.to_dense() - dense.weight) / torch.linalg.norm(dense.weight)
    assert 0 < err.item() < 1
    assert small.num_params < sum(p.numel() for p in dense.parameters())


def test_gram_route_for_large_splits(monkeypatch):
    import tnfast.nn.decompose as ml
    torch.manual_seed(6)
    w = torch.randn(48, 80, dtype=torch.float64)
    ref = decompose_weight(w, (4, 4, 5), (4, 3, 4), max_bond=5)
    monkeypatch.setattr(ml, "_GRAM_MIN", 0)
    full = decompose_weight(w, (4, 4, 5), (4, 3, 4))
    lay = MPOLinear.from_dense(w, in_modes=(4, 4, 5), out_modes=(4, 3, 4))
    lay._set_cores(full)
    assert torch.allclose(lay.to_dense(), w, atol=1e-12)
    gram = decompose_weight(w, (4, 4, 5), (4, 3, 4), max_bond=5)
    lay._set_cores(gram)
    e_gram = torch.linalg.norm(lay.to_dense() - w)
    lay._set_cores(ref)
    e_svd = torch.linalg.norm(lay.to_dense() - w)
    assert abs(e_gram.item() - e_svd.item()) < 1e-8 * e_svd.item()


@pytest.mark.parametrize("budget", [0.0, 1.0, float("inf")])
def test_kept_states_give_same_gradients(budget):
    torch.manual_seed(7)
    layer = MPOLinear(64, 48, (2, 4, 8), (4, 3, 4), bond_dim=3, dtype=torch.float64, activation_budget=budget,
                      path=(1, 1, 1), engine="torch")
    x = torch.randn(10, 64, dtype=torch.float64, requires_grad=True)
    params = [x, *layer.cores, layer.bias]
    ref = x @ layer.to_dense().T + layer.bias
    gy = torch.randn_like(ref)
    gref = torch.autograd.grad(ref, params, gy)
    if budget == float("inf"):
        assert layer.plan(10, True)[1] == (1, 2)
    if budget == 0.0:
        assert layer.plan(10, True)[1] == ()
    y = layer(x)
    assert torch.allclose(y, ref)
    for a, b in zip(torch.autograd.grad(y, params, gy), gref):
        assert torch.allclose(a, b, atol=1e-11)
    with pytest.raises(ValueError, match="activation_budget"):
        MPOLinear(64, 48, activation_budget=-1)


# ------------------------------------------------------------------ compiled sweep
@pytest.mark.parametrize("batch", [1, 15, 16, 17, 300])
@pytest.mark.parametrize("threads", [1, 3])
def test_native_sweep_chunks_and_threads_match_dense(batch, threads):
    # 4096 -> 4096 style shapes have large states: several chunks even at small batches
    torch.manual_seed(3)
    layer = MPOLinear(512, 384, (8, 8, 8), (8, 6, 8), bond_dim=5, dtype=torch.float64, engine="native")
    x = torch.randn(batch, 512, dtype=torch.float64, requires_grad=True)
    params = [x, *layer.cores, layer.bias]
    ref = x @ layer.to_dense().T + layer.bias
    gy = torch.randn_like(ref)
    gref = torch.autograd.grad(ref, params, gy)
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for path in ((1, 1, 1), (2, 1), (1, 2)):
            y = layer(x, path=path)
            assert torch.allclose(y, ref, atol=1e-12, rtol=1e-10), path
            for a, b in zip(torch.autograd.grad(y, params, gy), gref):
                assert torch.allclose(a, b, atol=1e-10, rtol=1e-9), path
    finally:
        torch.set_num_threads(old)


@pytest.mark.parametrize("level", [0, 1, 2])
def test_native_sweep_every_instruction_set(level):
    from tnfast import _core
    if level > _core._simd_level():
        pytest.skip("instruction set not available on this CPU")
    torch.manual_seed(5)
    layer = MPOLinear(96, 60, (4, 6, 4), (3, 5, 4), bond_dim=3, dtype=torch.float64, engine="native")
    x = torch.randn(37, 96, dtype=torch.float64, requires_grad=True)
    params = [x, *layer.cores, layer.bias]
    ref = x @ layer.to_dense().T + layer.bias
    gy = torch.randn_like(ref)
    gref = torch.autograd.grad(ref, params, gy)
    _core._set_simd_level(level)
    try:
        for dtype, tol in ((torch.float64, 1e-10), (torch.float32, 1e-4)):
            lay = layer.to(dtype)
            xx = x.detach().to(dtype).requires_grad_()
            y = lay(xx, path=(1, 2))
            assert torch.allclose(y.double(), ref, atol=tol, rtol=tol)
            g = torch.autograd.grad(y, [xx, *lay.cores, lay.bias], gy.to(dtype))
            for a, b in zip(g, gref):
                assert torch.allclose(a.double(), b, atol=tol, rtol=tol)
            layer.to(torch.float64)
    finally:
        _core._set_simd_level(-1)


def test_native_chunk_size_follows_state_size():
    from tnfast import _core
    small = [(1, 16, 28, 4), (4, 16, 28, 1)]          # 784 -> 256
    large = [(1, 16, 16, 4), (4, 8, 8, 4), (4, 32, 32, 1)]  # 4096 -> 4096
    cs, cl = (_core.mpo_sweep_chunk(s, batch=4096, num_threads=1, backward=True) for s in (small, large))
    assert cs % 16 == 0 and cl % 16 == 0
    assert cs > cl >= 16
    # never more than one thread's share of the batch (rounded up to the padding)
    assert _core.mpo_sweep_chunk(small, batch=40, num_threads=2, backward=False) == 32


def test_native_gradcheck_and_once_differentiable():
    from tnfast.nn._sweep import apply_native, group_matrix
    torch.manual_seed(1)
    layer = _layer((2, 3), (2, 2), 2)
    x = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    c0, c1 = (c.detach().clone().requires_grad_(True) for c in layer.cores)

    def f(xx, a, b):
        return apply_native(xx, [group_matrix(a), group_matrix(b)], [tuple(a.shape), tuple(b.shape)])

    assert torch.autograd.gradcheck(f, (x, c0, c1))
    y = f(x, c0, c1)
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):
        g.sum().backward()


def test_native_engine_rejects_what_it_cannot_run():
    layer = MPOLinear(12, 6, (2, 3, 2), (3, 1, 2), bond_dim=2, dtype=torch.float16, engine="native")
    with pytest.raises(RuntimeError, match="engine='native'"):
        layer(torch.randn(4, 12, dtype=torch.float16))
    auto = MPOLinear(12, 6, (2, 3, 2), (3, 1, 2), bond_dim=2, dtype=torch.bfloat16)
    assert auto(torch.randn(4, 12, dtype=torch.bfloat16), path="sequential").shape == (4, 6)
    with pytest.raises(ValueError, match="engine"):
        MPOLinear(12, 6, engine="gpu")


def test_native_core_bad_arguments():
    from tnfast import _core
    shapes = [(1, 2, 3, 2), (2, 3, 2, 1)]
    mats = [np.zeros((4, 3)), np.zeros((3, 4))]
    x = np.zeros((5, 6))
    assert _core.mpo_sweep_forward_f64(x, mats, shapes).shape == (5, 6)
    with pytest.raises(ValueError, match="x"):
        _core.mpo_sweep_forward_f64(np.zeros((5, 7)), mats, shapes)
    with pytest.raises(ValueError, match=r"mats\[1\]"):
        _core.mpo_sweep_forward_f64(x, [mats[0], np.zeros((4, 4))], shapes)
    with pytest.raises(ValueError, match="bond"):
        _core.mpo_sweep_forward_f64(x, mats, [(1, 2, 3, 2), (3, 3, 2, 1)])
    with pytest.raises(ValueError, match="left bond"):
        _core.mpo_sweep_forward_f64(x, mats, [(2, 2, 3, 2), (2, 3, 2, 1)])
    with pytest.raises(TypeError, match="dtype"):
        _core.mpo_sweep_forward_f64(x.astype(np.float32), mats, shapes)
    with pytest.raises(ValueError, match="gy"):
        _core.mpo_sweep_backward_f64(x, mats, shapes, np.zeros((4, 6)), need_dx=True)


def test_tt_svd_alias_warns_and_forwards():
    import tnfast.nn as tn
    torch.manual_seed(3)
    w = torch.randn(12, 20, dtype=torch.float64)
    with pytest.warns(FutureWarning, match="decompose_weight"):
        old = tn.tt_svd(w, (4, 5), (3, 4), max_bond=3, cutoff=0.5)
    new = tn.decompose_weight(w, (4, 5), (3, 4), max_bond=3, cutoff=0.5)
    assert len(old) == len(new) == 2
    assert all(torch.equal(a, b) for a, b in zip(old, new))
    assert "decompose_weight" in tn.__all__ and "tt_svd" in tn.__all__


def test_public_names_stay_importable():
    import tnfast.nn as tn
    import tnfast.nn.mpo_layers as ml
    names = ["MPOLinear", "MPOConv2d", "compress", "factorize", "choose_modes", "bond_caps", "mpo_num_params",
             "merge_cores", "mpo_bond_spectra", "tt_svd", "train", "evaluate", "fine_tune", "MPSModel",
             "tensorize", "model_function", "argmax_disagreement"]
    assert set(names) <= set(tn.__all__)
    assert all(callable(getattr(tn, n)) for n in tn.__all__)
    assert ml.MPOLinear is tn.MPOLinear and ml.merge_cores is tn.merge_cores and ml.tt_svd is tn.tt_svd


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_from_dense_half_precision_weight_is_factorized(dtype):
    # torch has no half-precision SVD: the weight is factorized in float32 and the layer keeps its dtype
    torch.manual_seed(0)
    lin = torch.nn.Linear(12, 6).to(dtype)
    layer = MPOLinear.from_dense(lin)
    assert all(p.dtype == dtype for p in layer.parameters())
    x = torch.randn(5, 12)
    with torch.no_grad():
        ref = lin.float()(x)
        out = layer(x.to(dtype)).float()
    tol = 1e-2 if dtype == torch.float16 else 5e-2
    assert torch.allclose(out, ref, atol=tol * float(ref.abs().max()) + tol)
