"""MPSModel.compress: plain truncation and truncation in the norm of the data (weights=X)."""

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tnfast import TensorTrain  # noqa: E402
from tnfast.nn import MPSModel  # noqa: E402


def _out(model, x):
    with torch.no_grad():
        return model(x).numpy()


def test_without_weights_it_is_the_plain_rounding():
    m = MPSModel(7, 3, embedding="poly", dim=3, bond_dim=6, init="random", dtype=torch.float64, seed=2)
    ref, ref_info = m.to_tensor_train().round(max_rank=2, rel_tol=0.1, return_info=True)
    info = m.compress(max_rank=2, cutoff=0.1, weights=None)
    assert info.discarded_weight == ref_info.discarded_weight
    for a, b in zip(m.to_tensor_train().cores, ref.cores):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_with_weights_and_no_truncation_the_function_is_unchanged(dtype):
    m = MPSModel(6, 4, embedding="legendre", dim=3, bond_dim=5, init="random", dtype=dtype, seed=0)
    X = np.random.default_rng(1).uniform(0.2, 0.6, (40, 6))  # on a part of the interval only
    Y = np.random.default_rng(2).uniform(-1, 1, (30, 6))
    y0 = _out(m, Y)
    info = m.compress(max_rank=max(m.bond_dims), weights=X)
    assert info.discarded_weight < (1e-20 if dtype == torch.float64 else 1e-10)
    tol = 1e-9 if dtype == torch.float64 else 2e-4
    np.testing.assert_allclose(_out(m, Y), y0, rtol=tol, atol=tol * np.abs(y0).max())
    assert m.cores[0].dtype == dtype


def _two_term_model(n=6, big=3.0):
    """Output = u * big^n * prod_j x_j + v (bond 2, diagonal cores, poly features (1, x)).

    The first term has by far the larger coefficient norm but vanishes on inputs near 0; the
    second, the constant v, is all there is on such data."""
    C, pos = 3, 3
    cores = []
    for k in range(n + 1):
        if k == pos:
            G = np.zeros((2, C, 2))
            G[0, :, 0] = [1.0, -2.0, 0.5]  # u
            G[1, :, 1] = [0.2, 0.1, 0.3]  # v
        else:
            G = np.zeros((2, 2, 2))
            G[0, 1, 0] = big  # x-feature, first term
            G[1, 0, 1] = 1.0  # constant feature, second term
        if k == 0:
            G = G[:1] + G[1:]
        if k == n:
            G = G[..., :1] + G[..., 1:]
        cores.append(G)
    return MPSModel.from_tensor_train(TensorTrain(cores), "poly", pos)


def test_with_weights_the_truncation_keeps_the_outputs_on_the_data():
    X = np.random.default_rng(0).normal(0.0, 0.05, (200, 6))
    Xh = np.random.default_rng(1).normal(0.0, 0.05, (200, 6))  # held out, same distribution
    exact = _two_term_model()
    y = _out(exact, Xh)
    plain = _two_term_model()
    plain.compress(max_rank=1)
    weighted = _two_term_model()
    info = weighted.compress(max_rank=1, weights=X)
    assert max(plain.bond_dims) == max(weighted.bond_dims) == 1
    err_plain = np.sqrt(np.mean((_out(plain, Xh) - y) ** 2))
    err_weighted = np.sqrt(np.mean((_out(weighted, Xh) - y) ** 2))
    # plain truncation keeps the large term (zero on the data) and loses the constant
    assert err_plain > 0.1
    assert err_weighted < 1e-3 * err_plain, (err_weighted, err_plain)
    assert info.discarded_weight < 1e-6
    assert (np.argmax(_out(weighted, Xh), 1) == np.argmax(y, 1)).all()


def test_weighted_discarded_weight_is_the_mean_squared_error_over_the_product_of_site_distributions():
    """With full-rank feature moments, ||A - A'||^2 in the data's norm equals the mean of
    ||out(x) - out'(x)||^2 over every input whose site j takes its value from any row of X."""
    n, B = 4, 5
    m = MPSModel(n, 2, embedding="poly", dim=2, bond_dim=4, init="random", dtype=torch.float64, seed=5)
    X = np.random.default_rng(3).random((B, n))
    grid = np.array([[X[rows[j], j] for j in range(n)] for rows in itertools.product(range(B), repeat=n)])
    y0 = _out(m, grid)
    info = m.compress(max_rank=1, weights=X, eps=1e-12)
    y1 = _out(m, grid)
    assert info.discarded_weight > 1e-4
    np.testing.assert_allclose(info.norm ** 2, np.mean(np.sum(y0 ** 2, 1)), rtol=1e-9)
    np.testing.assert_allclose(info.discarded_weight * info.norm ** 2, np.mean(np.sum((y1 - y0) ** 2, 1)),
                               rtol=1e-8)


def test_weights_accept_the_input_shape_and_bad_weights_raise():
    m = MPSModel(4, 2, embedding="poly", dim=2, bond_dim=3, input_shape=(2, 2), dtype=torch.float64, seed=0)
    X = np.random.default_rng(0).random((10, 2, 2))
    m.compress(max_rank=2, weights=torch.as_tensor(X))
    assert max(m.bond_dims) <= 2
    bad = X.reshape(10, 4).copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="weights: holds NaN"):
        m.compress(max_rank=1, weights=bad)
    with pytest.raises(ValueError, match="weights: expected 4 features"):
        m.compress(max_rank=1, weights=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="weights: expected at least one input"):
        m.compress(max_rank=1, weights=np.zeros((0, 4)))
    with pytest.raises(TypeError, match="weights"):
        m.compress(max_rank=1, weights=np.array([["a"] * 4]))
    for eps in (0.0, 1.0, float("nan"), "x"):
        with pytest.raises(ValueError, match="eps"):
            m.compress(max_rank=1, weights=X, eps=eps)
    with pytest.raises(ValueError, match="max_rank"):
        m.compress(max_rank=0, weights=X)
