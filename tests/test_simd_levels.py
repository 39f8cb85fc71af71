"""Every instruction-set level of the vectorized kernels gives the same results.

The level is capped with _core._set_simd_level (or the TNFAST_SIMD_LEVEL environment variable), so
that the AVX2 and portable paths also run on an AVX-512 machine.  Each kernel family is run at
every available level and compared with the portable level's result.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import tnfast
from tnfast import _core

LEVELS = [0, 1, 2]


def available_levels():
    _core._set_simd_level(-1)
    top = _core._simd_level()
    return [lv for lv in LEVELS if lv <= top]


def at_levels(fn):
    """fn() evaluated at every available level (the cap removed afterwards)."""
    out = {}
    try:
        for lv in available_levels():
            _core._set_simd_level(lv)
            assert _core._simd_level() == lv
            out[lv] = fn()
    finally:
        _core._set_simd_level(-1)
    return out


def test_cap_lowers_and_restores_the_level():
    top = available_levels()[-1]
    try:
        _core._set_simd_level(0)
        assert _core._simd_level() == 0
        _core._set_simd_level(7)  # above the machine: the detected level
        assert _core._simd_level() == top
    finally:
        _core._set_simd_level(-1)
    assert _core._simd_level() == top


def test_environment_variable_caps_the_level():
    code = "from tnfast import _core; print(_core._simd_level())"
    env = dict(os.environ, TNFAST_SIMD_LEVEL="0", PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(300, 7), (1000, 24), (64, 64)])
def test_maxvol_same_at_every_level(rng, dtype, shape):
    A = rng.standard_normal(shape).astype(dtype)
    res = at_levels(lambda: tnfast.maxvol(A, return_coef=True))
    I0, B0 = res[0]
    for lv, (I, B) in res.items():
        np.testing.assert_array_equal(I, I0, err_msg=f"level {lv}")
        np.testing.assert_allclose(B, B0, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6, err_msg=f"{lv}")
    # a maxvol set: |A A[I]^-1| <= tol (1.05)
    B = np.linalg.solve(A[I0].astype(np.float64).T, A.astype(np.float64).T).T
    assert np.abs(B).max() <= 1.05 + (1e-3 if dtype == np.float32 else 1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rect_maxvol_same_at_every_level(rng, dtype):
    A = rng.standard_normal((500, 9)).astype(dtype)
    res = at_levels(lambda: tnfast.rect_maxvol(A, tol=1.2, return_coef=True))
    I0, B0 = res[0]
    assert len(I0) > 9
    for lv, (I, B) in res.items():
        np.testing.assert_array_equal(I, I0, err_msg=f"level {lv}")
        np.testing.assert_allclose(B, B0, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-5, err_msg=f"{lv}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rank", [3, 11, 40])
def test_evaluation_same_at_every_level(rng, dtype, rank):
    tt = tnfast.TensorTrain.random([3, 4, 2, 5, 3], rank, dtype=dtype, seed=1)
    idx = np.stack([rng.integers(0, d, 257) for d in tt.shape], axis=1)
    feats = [rng.standard_normal((257, d)).astype(dtype) for d in tt.shape]
    res = at_levels(lambda: (tt.evaluate(idx), tt.evaluate_embedded(feats)))
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for lv, (a, b) in res.items():
        np.testing.assert_allclose(a, res[0][0], rtol=tol, atol=tol * np.abs(res[0][0]).max(), err_msg=f"{lv}")
        np.testing.assert_allclose(b, res[0][1], rtol=tol, atol=tol * np.abs(res[0][1]).max(), err_msg=f"{lv}")


def test_mpo_sweep_same_at_every_level():
    torch = pytest.importorskip("torch")
    from tnfast.nn import MPOLinear

    torch.manual_seed(3)
    layer = MPOLinear(96, 60, (4, 6, 4), (3, 5, 4), bond_dim=3, dtype=torch.float64, engine="native")
    x = torch.randn(41, 96, dtype=torch.float64, requires_grad=True)
    gy = torch.randn(41, 60, dtype=torch.float64)

    def run():
        y = layer(x, path=(1, 2))
        g = torch.autograd.grad(y, [x, *layer.cores], gy)
        return [y.detach().numpy().copy()] + [t.numpy().copy() for t in g]

    res = at_levels(run)
    for lv, outs in res.items():
        for a, b in zip(outs, res[0]):
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11 * np.abs(b).max(), err_msg=f"level {lv}")


def test_mps_contract_same_at_every_level(rng):
    torch = pytest.importorskip("torch")
    from tnfast.nn._mps_contract import mps_contract

    n, d, C, pos = 8, 3, 5, 4
    bonds = [1, 4, 13, 6, 9, 2, 17, 5, 3, 1]
    cores = []
    for k in range(n + 1):
        dk = C if k == pos else d
        g = rng.standard_normal((bonds[k], dk, bonds[k + 1])) / np.sqrt(bonds[k] * dk) * 1.3
        cores.append(torch.tensor(g))
    x = torch.tensor(rng.uniform(-1, 1, (300, n, d)))
    gy = torch.tensor(rng.standard_normal((300, C)))

    def run():
        cs = [c.clone().requires_grad_() for c in cores]
        out = mps_contract(cs, x, pos, engine="native")
        g = torch.autograd.grad(out, cs, gy)
        return [out.detach().numpy().copy()] + [t.numpy().copy() for t in g]

    res = at_levels(run)
    for lv, outs in res.items():
        for a, b in zip(outs, res[0]):
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11 * np.abs(b).max(), err_msg=f"level {lv}")
