"""Contraction of an MPS classifier with a batch of embedded inputs, with gradients for its cores.

The chain has cores ``G_0 .. G_{N-1}`` of shapes ``(r_k, d_k, r_{k+1})`` with ``r_0 = r_N = 1``.
Inputs are embedded already: ``features`` has shape ``(B, n, d)``.  With an output site at
``out_position = c`` (``0 <= c <= n``, ``N = n + 1`` cores, core ``c`` of shape ``(r_c, C, r_{c+1})``)
the result is ::

    out[b, y] = G_0[F_0] ... G_{c-1}[F_{c-1}] G_c[:, y, :] G_{c+1}[F_c] ... G_n[F_{n-1}]

with ``G_k[F_j] = sum_p features[b, j, p] G_k[:, p, :]``; without one (``out_position=None``,
``N = n`` cores, every ``d_k = d``) it is the scalar chain, returned as ``(B, 1)``.

Two engines compute it.  ``"native"`` runs the whole chain in one compiled call for the forward
pass and one for the backward pass (CPU float32/float64): it keeps the left environments up to
the output site and the right ones after it, vectorizes over the samples and spreads chunks of
the batch over ``torch.get_num_threads()`` threads.  It gives gradients for the cores only (not
for ``features``) and does not support double backward.  ``"torch"`` is a chain of torch matrix
products (any device and floating dtype, gradients for everything, double backward).  ``"auto"``
takes the compiled kernel for CPU float32/float64 tensors when the features need no gradient,
and the torch chain otherwise.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch

from ._native import SUFFIX, native_core, serves

__all__ = ["mps_contract", "mps_native_available"]

_ENGINES = ("auto", "native", "torch")
_KERNEL = "mps_forward_f64"


def mps_native_available(t: torch.Tensor) -> bool:
    """Whether the compiled kernel serves tensors like ``t`` (CPU, float32 or float64)."""
    return serves(t, _KERNEL)


def _check(cores, features, out_position):
    """Validate the arguments of :func:`mps_contract`; returns the cores as a list."""
    if isinstance(cores, torch.Tensor) or not hasattr(cores, "__len__"):
        raise TypeError("cores: expected a sequence of 3-d tensors")
    cores = list(cores)
    if not cores:
        raise ValueError("cores: expected at least one core")
    if not isinstance(features, torch.Tensor):
        raise TypeError(f"features: expected a torch.Tensor, got {type(features).__name__}")
    dtype = cores[0].dtype if isinstance(cores[0], torch.Tensor) else None
    for k, c in enumerate(cores):
        if not isinstance(c, torch.Tensor):
            raise TypeError(f"cores[{k}]: expected a torch.Tensor, got {type(c).__name__}")
        if c.ndim != 3:
            raise ValueError(f"cores[{k}]: expected a 3-d tensor (r_left, d, r_right), got shape {tuple(c.shape)}")
        if c.dtype != dtype:
            raise TypeError(f"cores[{k}]: dtype {c.dtype} differs from the dtype {dtype} of cores[0]")
    if not cores[0].is_floating_point():
        raise TypeError(f"cores: expected a floating dtype, got {dtype}")
    device = cores[0].device
    for k, c in enumerate(cores):
        if c.device != device:
            raise ValueError(f"cores[{k}]: device {c.device} differs from the device {device} of cores[0]")
    if features.ndim != 3:
        raise ValueError(f"features: expected shape (batch, n, d), got {tuple(features.shape)}")
    if features.dtype != dtype:
        raise TypeError(f"features: dtype {features.dtype} differs from the cores' dtype {dtype}")
    if features.device != device:
        raise ValueError(f"features: device {features.device} differs from the cores' device {device}")
    _, n, d = features.shape
    if out_position is not None and (isinstance(out_position, bool) or not isinstance(out_position, numbers.Integral)):
        raise TypeError(f"out_position: expected an int or None, got {type(out_position).__name__}")
    if out_position is not None and not 0 <= out_position <= n:
        raise ValueError(f"out_position: expected 0..{n} (features have {n} inputs) or None, got {out_position}")
    want = n + (out_position is not None)
    if len(cores) != want:
        site = " and an output site" if out_position is not None else ""
        raise ValueError(f"cores: expected {want} cores for features of shape {tuple(features.shape)} "
                         f"({n} input sites{site}), got {len(cores)}")
    shapes = [tuple(c.shape) for c in cores]
    if shapes[0][0] != 1:
        raise ValueError(f"cores[0]: the left bond must be 1, got shape {shapes[0]}")
    if shapes[-1][2] != 1:
        raise ValueError(f"cores[{len(cores) - 1}]: the right bond must be 1, got shape {shapes[-1]}")
    prev = 1
    for k, (rl, dk, rr) in enumerate(shapes):
        if rl != prev:
            raise ValueError(f"cores[{k}]: left bond {rl} does not match the right bond {prev} of cores[{k - 1}]")
        if dk != d and k != out_position:
            raise ValueError(f"cores[{k}]: physical dimension {dk} does not match the feature dimension "
                             f"{d} of features")
        if min(rl, dk, rr) < 1:
            raise ValueError(f"cores[{k}]: every dimension must be at least 1, got shape {shapes[k]}")
        prev = rr
    # one reduction instead of an elementwise test: a NaN or an infinity makes the sum non-finite
    # (the exact test runs only when the sum is not finite, which large finite values can cause too)
    if features.numel() and not bool(torch.isfinite(features.sum())) and not bool(torch.isfinite(features).all()):
        raise ValueError("features: contains NaN or Inf values")
    return cores


# ----------------------------------------------------------------------------------------------
# torch engine
# ----------------------------------------------------------------------------------------------

def _contract_torch(cores, features, out_position):
    """The chain as torch matrix products: one ``(B, r d) @ (r d, r')`` product per input site."""
    b = features.shape[0]
    c = len(cores) if out_position is None else out_position
    left = features.new_ones(b, 1)
    for k in range(c):
        g = cores[k]
        u = (left.unsqueeze(2) * features[:, k, :].unsqueeze(1)).reshape(b, g.shape[0] * g.shape[1])
        left = u @ g.reshape(g.shape[0] * g.shape[1], g.shape[2])                # (B, r')
    if out_position is None:
        return left
    right = features.new_ones(b, 1)
    for k in range(len(cores) - 1, c, -1):
        g = cores[k]
        u = (features[:, k - 1, :].unsqueeze(2) * right.unsqueeze(1)).reshape(b, g.shape[1] * g.shape[2])
        right = u @ g.reshape(g.shape[0], g.shape[1] * g.shape[2]).t()            # (B, r)
    g = cores[c]
    t = (left @ g.reshape(g.shape[0], g.shape[1] * g.shape[2])).reshape(b, g.shape[1], g.shape[2])
    return torch.bmm(t, right.unsqueeze(2)).squeeze(2)


# ----------------------------------------------------------------------------------------------
# native engine
# ----------------------------------------------------------------------------------------------

class _MPSContractNative(torch.autograd.Function):
    """The chain in the compiled core: one call forward (keeping the environments), one backward."""

    @staticmethod
    def forward(ctx, features, position, threads, *cores):
        core = native_core(_KERNEL)
        sfx = SUFFIX[features.dtype]
        fn = features.detach()
        cn = [c.detach() for c in cores]
        # the compiled core copies arrays that are not C-contiguous
        out, envs = getattr(core, "mps_forward_" + sfx)([c.numpy() for c in cn], fn.numpy(),
                                                         out_position=position, num_threads=threads)
        ctx.save_for_backward(fn, *cn)
        ctx.envs, ctx.position, ctx.threads, ctx.sfx = envs, position, threads, sfx
        return torch.from_numpy(out)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        fn, *cn = ctx.saved_tensors
        grads = getattr(native_core(_KERNEL), "mps_backward_" + ctx.sfx)(
            [c.numpy() for c in cn], fn.numpy(), out_position=ctx.position, envs=ctx.envs,
            grad_out=grad_out.to(fn.dtype).contiguous().numpy(), num_threads=ctx.threads)
        return (None, None, None, *[torch.from_numpy(g) for g in grads])


def mps_contract(cores: Sequence[torch.Tensor], features: torch.Tensor, out_position: int | None,
                 engine: str = "auto") -> torch.Tensor:
    """Contract an MPS classifier with a batch of embedded inputs.

    Parameters
    ----------
    cores : sequence of torch.Tensor
        ``n + 1`` cores with an output site, ``n`` without; core ``k`` has shape
        ``(r_k, d_k, r_{k+1})``, ``r_0 = r_N = 1``; ``d_k = d`` for input sites and ``C`` for the
        output site.  All of one floating dtype and device.
    features : torch.Tensor of shape (B, n, d)
        Embedded inputs, same dtype and device as the cores, finite.
    out_position : int or None
        Index of the output core (``0 <= out_position <= n``), or ``None`` for a scalar chain.
    engine : "auto", "native" or "torch"
        ``"native"``: the compiled kernel (CPU float32/float64; gradients for the cores only, so
        ``features`` must not require grad; no double backward).  ``"torch"``: torch matrix
        products (any device, gradients for everything, double backward).  ``"auto"`` (default):
        native where it applies (CPU float32/float64, ``features`` not requiring grad), torch
        otherwise.

    Returns
    -------
    torch.Tensor of shape (B, C), or (B, 1) when ``out_position`` is None.

    Raises
    ------
    TypeError, ValueError
        On cores or features of wrong types, shapes, dtypes or devices, and on non-finite features.
    RuntimeError
        ``engine="native"`` on tensors it does not serve, or with ``features`` requiring grad.
    """
    if engine not in _ENGINES:
        raise ValueError(f"engine: expected 'auto', 'native' or 'torch', got {engine!r}")
    cores = _check(cores, features, out_position)
    native = False
    if engine != "torch":
        ok = mps_native_available(features)
        if engine == "native":
            if not ok:
                raise RuntimeError("engine='native' needs CPU float32/float64 tensors and the compiled extension; "
                                   f"got {features.device.type} {features.dtype}")
            if features.requires_grad:
                raise RuntimeError("engine='native' gives gradients for the cores only, but features requires "
                                   "grad: detach the features or use engine='torch'")
        native = ok and not features.requires_grad
    if not native:
        return _contract_torch(cores, features, out_position)
    position = -1 if out_position is None else int(out_position)
    return _MPSContractNative.apply(features, position, int(torch.get_num_threads()), *cores)
