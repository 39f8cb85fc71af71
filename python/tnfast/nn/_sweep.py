"""The group sweep of the MPO layers: ``x (B, in) -> x W^T`` through merged core groups, with autograd.

Two engines compute the same thing.  The torch sweep (:func:`apply_sweep`) is a custom
autograd function of batched matrix products that keeps the input (and the states a budget
allows) for the backward pass and recomputes the others; it runs on any device and dtype and
supports double backward.  The compiled sweep (:func:`apply_native`, CPU float32/float64) cuts
the batch into chunks whose states stay in cache, spreads them over threads and recomputes
each chunk's states in one fused backward pass.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ._native import SUFFIX, native_core, serves

__all__ = ["group_matrix", "apply_sweep", "apply_native", "native_available"]

Shape4 = tuple[int, int, int, int]


def group_matrix(core: torch.Tensor) -> torch.Tensor:
    """``(D_a, I, J, D_b)`` core -> ``(I D_b, D_a J)`` matrix applied by the sweep."""
    da, i, j, db = core.shape
    return core.permute(1, 3, 0, 2).reshape(i * db, da * j)


def _lmul(a, s):
    """``a (N, K)`` times every matrix of ``s (I, K, M)`` -> ``(I, N, M)`` (no transposed copies)."""
    if s.shape[0] == 1:
        return torch.mm(a, s[0]).unsqueeze(0)
    return torch.bmm(a.unsqueeze(0).expand(s.shape[0], -1, -1), s)


def _sweep_forward(x2, mats, shapes, keep=None):
    """Sweep ``x2 (B, in)`` through the group matrices.

    State ``g`` has shape ``(I_{<g}, D_a J_g, J_{>g} B)`` (batch index fastest), so each step is
    one batched product ``mats[g] (I_g D_b, D_a J_g) @ state`` whose result, read as
    ``(I_{<=g}, D_b J_{g+1}, J_{>g+1} B)``, is the next state without any copy.  Returns the
    output ``(B, out)`` and the states listed in ``keep``.
    """
    b = x2.shape[0]
    s = x2.t().contiguous().reshape(1, shapes[0][0] * shapes[0][2], -1)
    states = {}
    m = len(mats)
    for g in range(m):
        if keep is not None and g in keep:
            states[g] = s
        r = _lmul(mats[g], s)
        if g < m - 1:
            da, ig, jg, db = shapes[g + 1]
            s = r.reshape(-1, da * jg, r.shape[2] // jg)
        else:
            s = r
    return s.reshape(-1, b).t(), states


class _MPOSweep(torch.autograd.Function):
    """Autograd function for the group sweep that recomputes intermediate states in backward."""

    @staticmethod
    def forward(ctx, x2, shapes, saved_states, *mats):
        keep = set(saved_states)
        y, states = _sweep_forward(x2, mats, shapes, keep=keep if keep else None)
        ctx.shapes = shapes
        ctx.saved_idx = tuple(sorted(states))
        ctx.save_for_backward(x2, *mats, *[states[g] for g in ctx.saved_idx])
        ctx.n_mats = len(mats)
        return y

    @staticmethod
    def backward(ctx, gy):
        saved = ctx.saved_tensors
        n = ctx.n_mats
        x2, mats, kept = saved[0], saved[1:1 + n], saved[1 + n:]
        kept = dict(zip(ctx.saved_idx, kept))
        shapes = ctx.shapes
        b = x2.shape[0]
        # recompute the states 0..n-1 (state n-1 is the input of the last group)
        states = [None] * n
        s = x2.t().contiguous().reshape(1, shapes[0][0] * shapes[0][2], -1)
        for g in range(n):
            if g in kept:
                s = kept[g]
            states[g] = s
            if g < n - 1 and (g + 1) not in kept:
                r = _lmul(mats[g], s)
                da, ig, jg, db = shapes[g + 1]
                s = r.reshape(-1, da * jg, r.shape[2] // jg)
        need_x = ctx.needs_input_grad[0]
        grads = [None] * n
        dr = gy.t().contiguous()
        dx = None
        for g in range(n - 1, -1, -1):
            st = states[g]
            dr = dr.reshape(st.shape[0], -1, st.shape[2])
            if ctx.needs_input_grad[3 + g]:
                if st.shape[0] == 1:
                    grads[g] = torch.mm(dr[0], st[0].t())
                else:
                    grads[g] = torch.bmm(dr, st.transpose(1, 2)).sum(0)
            if g == 0 and not need_x:
                break
            dr = _lmul(mats[g].t(), dr)
            states[g] = None
        if need_x:
            dx = dr.reshape(-1, b).t()
        return (dx, None, None, *grads)


def apply_sweep(x2: torch.Tensor, mats: Sequence[torch.Tensor], shapes: Sequence[Shape4],
                saved_states: Sequence[int]) -> torch.Tensor:
    """The torch sweep of ``x2 (B, in)`` (see :class:`_MPOSweep`); ``saved_states``: states kept for backward."""
    return _MPOSweep.apply(x2, tuple(shapes), tuple(saved_states), *mats)


_KERNEL = "mpo_sweep_forward_f32"


def native_available(x: torch.Tensor) -> bool:
    """Whether the compiled sweep serves a tensor like ``x`` (CPU, float32 or float64)."""
    return serves(x, _KERNEL)


class _MPOSweepNative(torch.autograd.Function):
    """The group sweep in the compiled core: batch chunks that stay in cache, spread over threads.

    Only the input and the group matrices are kept for the backward pass, which recomputes the
    states chunk by chunk, so the activation memory is that of :class:`torch.nn.Linear`.
    """

    @staticmethod
    def forward(ctx, x2, shapes, threads, *mats):
        core = native_core(_KERNEL)
        sfx = SUFFIX[x2.dtype]
        xn = x2.detach().contiguous()
        mn = [m.detach().contiguous() for m in mats]
        y = getattr(core, "mpo_sweep_forward_" + sfx)(xn.numpy(), [m.numpy() for m in mn], shapes,
                                                           num_threads=threads)
        ctx.save_for_backward(xn, *mn)
        ctx.shapes, ctx.threads, ctx.sfx = shapes, threads, sfx
        return torch.from_numpy(y)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gy):
        xn, *mn = ctx.saved_tensors
        need_dx = bool(ctx.needs_input_grad[0])
        dx, dm = getattr(native_core(_KERNEL), "mpo_sweep_backward_" + ctx.sfx)(
            xn.numpy(), [m.numpy() for m in mn], ctx.shapes, gy.contiguous().numpy(), need_dx=need_dx,
            num_threads=ctx.threads)
        dx = torch.from_numpy(dx) if dx is not None else None
        return (dx, None, None, *[torch.from_numpy(d) for d in dm])


def apply_native(x2: torch.Tensor, mats: Sequence[torch.Tensor], shapes: Sequence[Shape4]) -> torch.Tensor:
    """The compiled sweep of ``x2 (B, in)`` on ``torch.get_num_threads()`` threads."""
    return _MPOSweepNative.apply(x2, tuple(shapes), int(torch.get_num_threads()), *mats)
