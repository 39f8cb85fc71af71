"""The compiled environments of sweep training (left advance, right merge, one-core gradient)
against the torch contractions and autograd."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from tnfast.nn import MPOLinear, merge_cores  # noqa: E402
from tnfast.nn._native import native_core  # noqa: E402
from tnfast.nn.sweep_trainer import _NativeEnv, _TorchEnv, _advance, _env_engine  # noqa: E402

core = native_core("sweep_env_gradient_f64")
pytestmark = pytest.mark.skipif(core is None, reason="the compiled extension lacks the sweep environments")

F64 = torch.float64


def _layer(seed=0, in_modes=(3, 2, 4), out_modes=(2, 3, 2), bond=(3, 2), dtype=F64):
    torch.manual_seed(seed)
    return MPOLinear(24, 12, in_modes, out_modes, bond_dim=bond, bias=False, dtype=dtype)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_left_advance_and_right_merge_equal_torch(dtype, tol):
    layer = _layer(dtype=dtype)
    cores = [c.detach() for c in layer.cores]
    x = torch.randn(7, 24, dtype=dtype)
    sn = st = x.reshape(7, 1, 1, -1)
    for c in cores:
        sn, st = _NativeEnv.advance(sn, c), _advance(st, c)
        assert sn.shape == st.shape
        assert torch.allclose(sn, st, rtol=tol, atol=tol)
    # the last state is the layer output
    assert torch.allclose(sn.reshape(7, -1), layer(x).detach(), rtol=tol, atol=tol)
    rn = rt = None
    for c in cores[::-1]:
        rn, rt = _NativeEnv.extend(c, rn), _TorchEnv.extend(c, rt)
        assert torch.allclose(rn, rt, rtol=tol, atol=tol)
    assert torch.allclose(rn.reshape(12, 24), layer.to_dense().detach(), rtol=tol, atol=tol)


@pytest.mark.parametrize("batch", [1, 5, 300])
def test_gradient_equals_autograd_and_torch(batch):
    layer = _layer(1)
    cores = [c.detach() for c in layer.cores]
    x = torch.randn(batch, 24, dtype=F64)
    gy = torch.randn(batch, 12, dtype=F64)
    for p in range(len(cores)):
        local = nn.Parameter(cores[p].clone())
        used = cores[:p] + [local] + cores[p + 1:]
        (layer(x, cores=used) * gy).sum().backward()
        left = x.reshape(batch, 1, 1, -1)
        for c in cores[:p]:
            left = _NativeEnv.advance(left, c)
        right = None
        for c in cores[:p:-1]:
            right = _NativeEnv.extend(c, right)
        gn = _NativeEnv.gradient(left, gy, right, tuple(cores[p].shape))
        gt = _TorchEnv.gradient(left, gy, right, tuple(cores[p].shape))
        assert gn.shape == local.shape
        assert float(local.grad.abs().max()) > 1e-3
        assert torch.allclose(gn, local.grad, rtol=0, atol=1e-10)
        assert torch.allclose(gn, gt, rtol=0, atol=1e-10)


def test_gradient_float32_and_empty_batch():
    layer = _layer(2, dtype=torch.float32)
    cores = [c.detach() for c in layer.cores]
    x, gy = torch.randn(9, 24), torch.randn(9, 12)
    left = _NativeEnv.advance(x.reshape(9, 1, 1, -1), cores[0])
    right = _NativeEnv.extend(cores[2], None)
    g = _NativeEnv.gradient(left, gy, right, tuple(cores[1].shape))
    assert g.dtype == torch.float32
    assert torch.allclose(g, _TorchEnv.gradient(left, gy, right, tuple(cores[1].shape)), rtol=1e-4, atol=1e-5)
    g0 = _NativeEnv.gradient(left[:0], gy[:0], right, tuple(cores[1].shape))
    assert g0.shape == cores[1].shape and not g0.any()


def test_engine_choice():
    assert _env_engine(torch.zeros(1, dtype=F64)) is _NativeEnv
    assert _env_engine(torch.zeros(1, dtype=F64), "torch") is _TorchEnv
    assert _env_engine(torch.zeros(1, dtype=torch.float16)) is _TorchEnv
    with pytest.raises(RuntimeError, match="env_engine='native'"):
        _env_engine(torch.zeros(1, dtype=torch.float16), "native")


def test_bad_shapes_raise():
    a = lambda *s: torch.randn(*s, dtype=F64).numpy()  # noqa: E731
    with pytest.raises(ValueError, match="left"):
        core.sweep_env_advance_left_f64(a(2, 1, 3, 8), a(2, 2, 2, 3))          # bond 3 vs 2
    with pytest.raises(ValueError, match="left"):
        core.sweep_env_advance_left_f64(a(2, 1, 1, 9), a(1, 2, 2, 3))          # 2 does not divide 9
    with pytest.raises(ValueError, match="4-d"):
        core.sweep_env_advance_left_f64(a(2, 9), a(1, 2, 2, 3))
    with pytest.raises(TypeError, match="dtype"):
        core.sweep_env_advance_left_f64(a(2, 1, 1, 4).astype("float32"), a(1, 2, 2, 3))
    with pytest.raises(ValueError, match="right"):
        core.sweep_env_extend_right_f64(a(1, 2, 2, 3), a(2, 2, 2))
    with pytest.raises(ValueError, match="gy"):
        core.sweep_env_gradient_f64(a(4, 1, 1, 6), a(4, 5), a(3, 2, 3), (1, 2, 2, 3))
    with pytest.raises(ValueError, match="right"):
        core.sweep_env_gradient_f64(a(4, 1, 1, 6), a(4, 4), a(2, 2, 3), (1, 2, 2, 3))
    with pytest.raises(ValueError, match="right"):
        core.sweep_env_gradient_f64(a(4, 1, 1, 2), a(4, 2), None, (1, 2, 2, 3))
    with pytest.raises(ValueError, match="left"):
        core.sweep_env_gradient_f64(a(4, 1, 1, 5), a(4, 4), a(3, 2, 3), (1, 2, 2, 3))
    with pytest.raises(ValueError, match="shape"):
        core.sweep_env_gradient_f64(a(4, 1, 1, 6), a(4, 4), a(3, 2, 3), (1, 2, 2))
    bad = a(4, 1, 1, 6)
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        core.sweep_env_gradient_f64(bad, a(4, 4), a(3, 2, 3), (1, 2, 2, 3))
