import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tnfast  # noqa: E402
from tnfast.nn import MPSModel, argmax_disagreement, tensorize  # noqa: E402

ENGINES = ["native", "torch"]


def dense_reference(model: MPSModel, x: np.ndarray) -> np.ndarray:
    """out[b, y] by contracting the full coefficient tensor with the embedded inputs."""
    A = model.to_tensor_train().full().astype(np.float64)
    feats = model.embedding(x)  # (B, n, d)
    out = []
    for b in range(x.shape[0]):
        T = A
        if model.out_position is None:
            T = T[..., None]
            pos = model.n_features
        else:
            pos = model.out_position
            T = np.moveaxis(T, pos, -1)
        for j in range(model.n_features):
            T = np.tensordot(feats[b, j], T, axes=([0], [0]))
        out.append(T)
    return np.array(out)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("out_position", [0, 2, 5, None])
def test_forward_matches_dense_reference(engine, out_position):
    C = None if out_position is None else 3
    m = MPSModel(5, C, embedding="legendre", dim=3, bond_dim=4, out_position=out_position, init="random",
                 dtype=torch.float64, engine=engine, seed=1)
    x = np.random.default_rng(0).uniform(-1, 1, (7, 5))
    with torch.no_grad():
        y = m(x).numpy()
    assert y.shape == (7, 1 if C is None else C)
    np.testing.assert_allclose(y, dense_reference(m, x).reshape(y.shape), rtol=1e-11, atol=1e-12)
    assert m(torch.as_tensor(x, dtype=torch.float32)).dtype == torch.float64  # inputs take the model's dtype


def test_tensorizing_an_mps_model_recovers_it():
    """An MPSModel used as the black box is recovered to 1e-10 on fresh inputs."""
    net = MPSModel(8, 4, embedding="poly", dim=2, bond_dim=3, init="random", dtype=torch.float64, seed=3)
    X = np.random.default_rng(1).random((24, 8))
    mps = tensorize(net, X, softmax_sqrt=False, embedding="poly", dim=2, rank=3, seed=0)
    assert mps.info.pivot_error < 1e-10 and isinstance(mps, MPSModel)
    Y = np.random.default_rng(2).random((200, 8))
    with torch.no_grad():
        a, b = net(Y).numpy(), mps(Y).numpy()
    assert np.linalg.norm(a - b) <= 1e-10 * np.linalg.norm(a)
    assert argmax_disagreement(mps, net, Y) == 0.0


@pytest.mark.parametrize("engine", ENGINES)
def test_gradients_match_finite_differences(engine):
    m = MPSModel(4, 3, embedding="unit", dim=2, bond_dim=3, init="random", dtype=torch.float64, engine=engine,
                 seed=0)
    x = torch.rand(5, 4, dtype=torch.float64)
    names = [f"cores.{k}" for k in range(len(m.cores))]
    params = tuple(p.detach().clone().requires_grad_(True) for p in m.cores)

    def f(*cores):
        return torch.func.functional_call(m, dict(zip(names, cores)), (x,))

    assert torch.autograd.gradcheck(f, params, eps=1e-6, atol=1e-8, rtol=1e-6)


def test_engines_agree_float32_and_train():
    torch.manual_seed(0)
    x = torch.rand(64, 10)
    y = (x[:, :5].sum(1) > x[:, 5:].sum(1)).long()
    grads = {}
    for engine in ENGINES:
        m = MPSModel(10, 2, embedding="poly", dim=2, bond_dim=4, init="identity", engine=engine, seed=0)
        loss = torch.nn.functional.cross_entropy(m(x), y)
        loss.backward()
        grads[engine] = [c.grad.clone() for c in m.cores]
    for a, b in zip(*grads.values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    # a few Adam steps lower the loss
    m = MPSModel(10, 2, embedding="poly", dim=2, bond_dim=4, init="identity", seed=0)
    opt = torch.optim.Adam(m.parameters(), lr=0.05)
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(m(x), y)
        first = loss.item() if first is None else first
        loss.backward()
        opt.step()
    assert loss.item() < 0.7 * first


@pytest.mark.parametrize("init", ["random", "identity", "canonical"])
def test_initializations_stay_finite_on_long_chains(init):
    m = MPSModel(144, 10, embedding="poly", dim=3, bond_dim=10, init=init, dtype=torch.float64, seed=0)
    x = torch.rand(32, 144, dtype=torch.float64)
    with torch.no_grad():
        y = m(x)
    assert torch.isfinite(y).all()
    if init == "identity":  # starts near the constant 1
        assert torch.allclose(y, torch.ones_like(y), atol=0.5)
    if init in ("random", "canonical"):  # a usable start: outputs of order one, not vanishing
        assert 1e-3 < float(y.pow(2).mean()) < 1e3
    if init == "canonical":  # every core but the output site's is orthonormal (left / right)
        out = m.out_position
        for k, c in enumerate(m.cores):
            c = c.detach().numpy()
            if k < out:
                M = c.reshape(-1, c.shape[2])
                assert np.allclose(M.T @ M, np.eye(M.shape[1]), atol=1e-10)
            elif k > out:
                M = c.reshape(c.shape[0], -1)
                assert np.allclose(M @ M.T, np.eye(M.shape[0]), atol=1e-10)
    assert max(m.bond_dims) == 10 and m.bond_dims[0] == 3


def test_structure_counts():
    m = MPSModel(6, 4, embedding="poly", dim=3, bond_dim=5, out_position=3, seed=0)
    shapes = [tuple(c.shape) for c in m.cores]
    assert shapes[3][1] == 4 and len(shapes) == 7
    assert m.num_parameters() == sum(a * b * c for a, b, c in shapes)
    assert m.flops_per_input() == sum(2 * a * b * c + 2 * b * c for a, b, c in shapes)
    assert "n_features=6" in repr(m) and "bond_dims" in repr(m)


def test_canonicalize_and_compress_keep_the_function():
    m = MPSModel(9, 3, embedding="unit", dim=2, bond_dim=8, init="random", dtype=torch.float64, seed=4)
    x = np.random.default_rng(0).random((50, 9))
    with torch.no_grad():
        y0 = m(x).numpy()
        m.canonicalize(2)
        np.testing.assert_allclose(m(x).numpy(), y0, rtol=1e-10, atol=1e-12)
        assert len(m.entropy()) == len(m.cores) - 1
        n_before = m.num_parameters()
        info = m.compress(max_rank=3)
        y1 = m(x).numpy()
    assert max(m.bond_dims) <= 3 and m.num_parameters() < n_before
    # unit features have norm 1, so every output vector moves by at most ||A - A'||
    bound = np.sqrt(info.discarded_weight) * info.norm
    assert bound > 0
    assert np.max(np.linalg.norm(y1 - y0, axis=1)) <= bound * (1 + 1e-8)
    with torch.no_grad():  # a cutoff: relative error of the coefficient tensor
        m2 = MPSModel(9, 3, embedding="unit", dim=2, bond_dim=8, init="random", dtype=torch.float64, seed=4)
        A = m2.to_tensor_train()
        info2 = m2.compress(cutoff=0.3)
        assert (A - m2.to_tensor_train()).norm() <= 0.3 * A.norm() * (1 + 1e-8)
        assert np.sqrt(info2.discarded_weight) <= 0.3 + 1e-12


def test_save_load_and_state_dict_round_trips(tmp_path):
    m = MPSModel(6, 3, embedding="fourier", dim=3, bond_dim=4, init="random", dtype=torch.float64, seed=0,
                 input_shape=(2, 3), domains=[np.linspace(0, 1, 3)] * 6)
    x = torch.rand(5, 2, 3, dtype=torch.float64)
    path = m.save(tmp_path / "model")
    assert path.endswith(".npz")
    for p in (tmp_path / "model", path):
        r = MPSModel.load(p)
        torch.testing.assert_close(r(x), m(x), rtol=0, atol=0)
        assert r.input_shape == (2, 3) and r.embedding.name == "fourier" and r.out_position == m.out_position
        np.testing.assert_array_equal(r.domains[4], m.domains[4])
    # state_dict into a model of the same sites, also after compression changed the bonds
    m.compress(max_rank=2)
    fresh = MPSModel(6, 3, embedding="fourier", dim=3, bond_dim=4, dtype=torch.float64, input_shape=(2, 3))
    fresh.load_state_dict(m.state_dict())
    torch.testing.assert_close(fresh(x), m(x))


def test_bad_inputs_raise_clear_errors(tmp_path):
    m = MPSModel(6, 3, bond_dim=3, seed=0)
    with pytest.raises(ValueError, match="x: expected 6 features"):
        m(torch.rand(4, 7))
    with pytest.raises(ValueError, match="NaN"):
        m(torch.tensor([[0.1, 0.2, float("nan"), 0.3, 0.4, 0.5]]))
    with pytest.raises(TypeError, match="x"):
        m(torch.zeros(2, 6, dtype=torch.complex64))
    with pytest.raises(TypeError, match="x"):
        m(np.array([["a"] * 6]))
    with pytest.raises(ValueError, match="init"):
        MPSModel(6, 3, init="zeros")
    with pytest.raises(ValueError, match="out_position"):
        MPSModel(6, 3, out_position=7)
    with pytest.raises(ValueError, match="engine"):
        MPSModel(6, 3, engine="gpu")
    with pytest.raises(ValueError, match="input_shape"):
        MPSModel(6, 3, input_shape=(4, 4))
    with pytest.raises(ValueError, match="tt"):
        MPSModel.from_tensor_train(tnfast.TensorTrain.random([3, 2, 4], 2), "poly", out_position=1)
    path = m.save(tmp_path / "ok.npz")
    raw = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    for name in ("trunc.npz", "junk.npz", "other.npz"):
        with pytest.raises(ValueError, match="not a valid tnfast MPSModel file"):
            MPSModel.load(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="path"):
        MPSModel.load(tmp_path / "missing")
    with pytest.raises(TypeError, match="user-defined"):
        MPSModel(2, 2, embedding=tnfast.embeddings.FunctionEmbedding(lambda v: np.stack([v, v], -1), 2)).save(
            tmp_path / "f")


def test_tensorize_real_images_with_constant_pixels():
    """scikit-learn digits: the border pixels are 0 in every image; tensorize must still work and
    predict like the network on held-out images."""
    from sklearn.datasets import load_digits
    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)
    y = d.target
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    Xt, yt = torch.as_tensor(X[:1200]), torch.as_tensor(y[:1200])
    for _ in range(60):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt), yt).backward()
        opt.step()
    mps = tensorize(net, X[:40], embedding="poly", dim=2, rank=10, seed=0)
    assert mps.info.notes and "sites hold fewer than 2 distinct" in mps.info.notes[0]
    assert mps.input_shape == (8, 8)
    dis = argmax_disagreement(mps, net, X[1200:])
    assert dis < 60.0  # far better than chance (90 %); the exact figure is reported by `tnfast repro agreement`
    with torch.no_grad():
        assert mps(X[1200:1210]).shape == (10, 10)
