import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tnfast.nn.tensorize import argmax_disagreement, model_function, tensorize  # noqa: E402
from tnfast.rss import tt_evaluate  # noqa: E402


def small_mlp(n, C, seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(n, 16), torch.nn.ReLU(), torch.nn.Linear(16, C)).to(dtype)


def test_model_function_values_and_modes():
    model = small_mlp(6, 3)
    model.train()
    f = model_function(model)
    x = np.random.default_rng(0).random((5, 6))
    out = f(x)
    assert out.dtype == np.float64 and out.shape == (5, 3)
    ref = torch.softmax(model(torch.as_tensor(x, dtype=torch.float32)), -1).sqrt().detach().numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-6)
    np.testing.assert_allclose((out ** 2).sum(1), 1.0, rtol=1e-6)
    f64 = model_function(model, dtype=torch.float64, softmax_sqrt=False)
    assert next(model.parameters()).dtype == torch.float32  # the user's model is untouched
    np.testing.assert_allclose(f64(x), model.double()(torch.as_tensor(x)).detach().numpy(), rtol=1e-12)


def test_tensorize_exact_on_all_points():
    """With every point of {0,1}^8 as a sample, TT-RSS reproduces the network exactly."""
    n, C = 8, 3
    model = small_mlp(n, C, dtype=torch.float64)
    model.train()
    allx = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    mps = tensorize(model, allx, embedding="basis", domain=[0.0, 1.0], rank=64, seed=0)
    info = mps.info
    assert model.training  # restored
    tt = mps.to_tensor_train()
    assert tt.ndim == n + 1 and tt.shape[info.out_position] == C and mps.out_position == info.out_position
    ref = torch.softmax(model(torch.as_tensor(allx)), -1).sqrt().detach().numpy()
    np.testing.assert_allclose(tt_evaluate(tt, allx, "basis", info.out_position), ref, atol=1e-10)
    with torch.no_grad():
        np.testing.assert_allclose(mps(allx).numpy(), ref, atol=1e-10)
    assert argmax_disagreement(mps, model, allx) == 0.0


def test_tensorize_images_low_rank_runs():
    from sklearn.datasets import load_digits
    x = (load_digits().images[:40] > 7).astype(np.float32)[:, None]  # (40, 1, 8, 8) binary
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                torch.nn.Linear(32, 10))
    mps = tensorize(model, x[:20], embedding="poly", domain=[0.0, 1.0], rank=4, seed=0, batch_size=512)
    info = mps.info
    assert len(mps.cores) == 65 and max(info.bond_dims) <= 4 and mps.input_shape == (1, 8, 8)
    assert mps(torch.as_tensor(x[:3])).shape == (3, 10)
    dis = argmax_disagreement(mps, model, x)
    assert 0.0 <= dis <= 100.0
    assert np.isfinite(info.pivot_error)
    with pytest.raises(TypeError, match="model"):
        tensorize(lambda t: t, x)


def test_tensorize_adaptive_sketch_exact_on_all_points():
    n, C = 8, 3
    model = small_mlp(n, C, seed=2, dtype=torch.float64)
    allx = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    mps = tensorize(model, allx, embedding="basis", domain=[0.0, 1.0], rank=64, seed=0, sketch="adaptive")
    info = mps.info
    assert info.sketch == "adaptive" and sum(info.site_evals) + len(allx) == info.n_evals
    ref = torch.softmax(model(torch.as_tensor(allx)), -1).sqrt().detach().numpy()
    tt = mps.to_tensor_train()
    np.testing.assert_allclose(tt_evaluate(tt, allx, "basis", info.out_position), ref, atol=1e-10)


def test_tensorize_passes_the_adaptive_options_to_tt_rss():
    """capture_tol and all_outputs reach tt_rss: the same evaluations and cores as calling it on the
    network's function directly, and the options change the run."""
    from tnfast import tt_rss
    from tnfast.nn.tensorize import model_function

    model = small_mlp(12, 4, seed=3, dtype=torch.float64)
    x = np.random.default_rng(1).random((25, 12))
    runs = {}
    for opts in ({"capture_tol": 0.0, "all_outputs": False}, {"capture_tol": 4.0, "all_outputs": True}):
        mps = tensorize(model, x, embedding="poly", rank=6, seed=0, sketch="adaptive", **opts)
        tt, info = tt_rss(model_function(model), x, embedding="poly", rank=6, seed=0, sketch="adaptive", **opts)
        assert mps.info.n_evals == info.n_evals
        np.testing.assert_allclose(tt_evaluate(mps.to_tensor_train(), x, "poly", info.out_position),
                                   tt_evaluate(tt, x, "poly", info.out_position), atol=1e-12)
        runs[opts["capture_tol"]] = info.n_evals
    assert runs[0.0] != runs[4.0]
