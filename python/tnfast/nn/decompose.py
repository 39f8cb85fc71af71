"""Weights to MPO cores and back: the weight TT-SVD, merging cores, bond spectra.

Functions on plain lists of torch cores of shape ``(D_{k-1}, i_k, j_k, D_k)`` (``i`` an output
mode, ``j`` an input mode), the convention of :class:`tnfast.MPO` and of the MPO layers.  For
a dense numpy array to a :class:`tnfast.TensorTrain` see :func:`tnfast.tt_svd`.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import torch

from .._truncation import truncation_rank
from .factorize import bond_caps, resolve_bond_dims

__all__ = ["decompose_weight", "merge_cores", "mpo_bond_spectra", "tt_svd"]

_GRAM_MIN = 1 << 22          # TT-SVD splits larger than this use the memory-lean Gram route


def merge_cores(cores: Sequence[torch.Tensor]) -> torch.Tensor:
    """Merge consecutive cores ``(D_a, i, j, D)`` ... into one ``(D_a, prod i, prod j, D_b)``.

    Parameters
    ----------
    cores : sequence of torch.Tensor, each 4-d, bonds matching.

    Returns
    -------
    torch.Tensor of shape ``(D_a, prod i, prod j, D_b)`` (differentiable).
    """
    res = cores[0]
    for c in cores[1:]:
        da, i1, j1, d = res.shape
        _, i2, j2, db = c.shape
        m = (res.reshape(da * i1 * j1, d) @ c.reshape(d, i2 * j2 * db)).reshape(da, i1, j1, i2, j2, db)
        res = m.permute(0, 1, 3, 2, 4, 5).reshape(da, i1 * i2, j1 * j2, db)
    return res


def _left_factor(m: torch.Tensor, max_rank: int | None,
                 budget: float | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Truncated left factor of a matrix ``m (a, b)``: returns ``(u (a, k), rest (k, b), s)``.

    For large matrices with ``a <= b`` (more than ``_GRAM_MIN`` entries) the left singular
    vectors come from the (float64, column-chunked) Gram matrix ``m m^T``, so nothing larger
    than ``m`` itself is allocated besides ``rest``; singular values below ``~1e-8 * s_max``
    are then not resolved (relevant only for cutoffs under 1e-8).  Otherwise a thin SVD is
    used.  ``rest = u^T m`` is the exact projection, so at full rank the split is exact to rounding.
    """
    a, b = m.shape
    if a <= b and a * b > _GRAM_MIN:
        gram = torch.zeros(a, a, dtype=torch.float64, device=m.device)
        chunk = max(1, (1 << 22) // max(a, 1))
        for c0 in range(0, b, chunk):
            mc = m[:, c0:c0 + chunk].to(torch.float64)
            gram += mc @ mc.t()
        evals, evecs = torch.linalg.eigh(gram)
        evals = torch.flip(evals, [0]).clamp_min(0.0)
        evecs = torch.flip(evecs, [1])
        s = evals.sqrt()
        k, _ = truncation_rank(s, max_rank=max_rank, budget=budget)
        u = evecs[:, :k].to(m.dtype)
        rest = u.t() @ m
        return u, rest, s.to(m.dtype)
    u, s, vh = torch.linalg.svd(m, full_matrices=False)
    k, _ = truncation_rank(s, max_rank=max_rank, budget=budget)
    return u[:, :k], s[:k, None] * vh[:k], s


def decompose_weight(weight: torch.Tensor, in_modes: Sequence[int], out_modes: Sequence[int],
                     max_bond: int | Sequence[int] | None = None,
                     cutoff: float | None = None) -> list[torch.Tensor]:
    """Split a weight ``(prod out_modes, prod in_modes)`` into MPO cores by sequential SVDs.

    The weight is reshaped to ``(i_1..i_n, j_1..j_n)`` and permuted to ``(i_1, j_1, .., i_n, j_n)``
    (one copy of the weight), then factorized left to right on progressively smaller
    remainders (the permuted copy is released after the first split).

    Parameters
    ----------
    weight : torch.Tensor (out, in)
    in_modes, out_modes : sequences of int of equal length n
    max_bond : int or sequence of n-1 ints, optional; bonds are also capped by :func:`bond_caps`.
    cutoff : float, optional; relative Frobenius error allowed for the whole weight:
        ``||W - W_mpo||_F <= cutoff * ||W||_F`` whenever ``max_bond`` does not bind (each of the
        ``n - 1`` splits may cut ``cutoff**2 ||W||_F**2 / (n - 1)`` of squared weight; the cuts
        are orthogonal, so their sum is the squared error).  Each split keeps the rank that
        :func:`tnfast._truncation.truncation_rank` gives for that budget and cap.

    Returns
    -------
    list of n torch.Tensor cores of shape ``(D_{k-1}, i_k, j_k, D_k)``.
    """
    n = len(in_modes)
    caps = bond_caps(in_modes, out_modes)
    if max_bond is None:
        maxes = list(caps)
    else:
        maxes = list(resolve_bond_dims(max_bond, in_modes, out_modes, name="max_bond"))
    with torch.no_grad():
        w = weight.detach()
        # half precision has no SVD in torch: factorize in float32, return cores in the weight's dtype
        out_dtype = w.dtype
        if w.dtype in (torch.float16, torch.bfloat16):
            w = w.to(torch.float32)
        budget = None
        if cutoff is not None and cutoff > 0 and n > 1:
            total = float(torch.linalg.vector_norm(w.to(torch.float64)) ** 2)
            budget = cutoff ** 2 * total / (n - 1)
        perm = [p for k in range(n) for p in (k, n + k)]
        rem = w.reshape(*out_modes, *in_modes).permute(*perm).contiguous()
        cores = []
        r = 1
        for k in range(n - 1):
            size = out_modes[k] * in_modes[k]
            mat = rem.reshape(r * size, -1)
            u, rem_new, _ = _left_factor(mat, maxes[k], budget)
            del rem, mat
            rem = rem_new
            kk = u.shape[1]
            cores.append(u.reshape(r, out_modes[k], in_modes[k], kk).contiguous())
            r = kk
        cores.append(rem.reshape(r, out_modes[-1], in_modes[-1], 1).contiguous())
    return [c.to(out_dtype) for c in cores]


def mpo_bond_spectra(cores: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Singular values of the weight across every inner bond, from the cores (no dense weight).

    The cores are left-orthogonalized by QR, then a right-to-left SVD sweep moves the
    orthogonality center; the singular values at bond ``k`` are those of the unfolding
    ``W[(i_1 j_1 .. i_k j_k), (i_{k+1} j_{k+1} ..)]``.

    Returns
    -------
    list of n-1 1-d tensors (descending), computed in float64.
    """
    with torch.no_grad():
        cs = [c.detach().to(torch.float64) for c in cores]
        n = len(cs)
        mats = [c.reshape(c.shape[0], -1, c.shape[3]) for c in cs]  # (Da, i j, Db)
        for k in range(n - 1):
            da, p, db = mats[k].shape
            q, r = torch.linalg.qr(mats[k].reshape(da * p, db))
            mats[k] = q.reshape(da, p, -1)
            mats[k + 1] = torch.tensordot(r, mats[k + 1], dims=([1], [0]))
        spectra = [None] * (n - 1)
        for k in range(n - 1, 0, -1):
            da, p, db = mats[k].shape
            u, s, vh = torch.linalg.svd(mats[k].reshape(da, p * db), full_matrices=False)
            mats[k] = vh.reshape(-1, p, db)
            mats[k - 1] = torch.tensordot(mats[k - 1], u * s, dims=([2], [0]))
            spectra[k - 1] = s
    return spectra


def tt_svd(weight: torch.Tensor, in_modes: Sequence[int], out_modes: Sequence[int],
           max_bond: int | Sequence[int] | None = None, cutoff: float | None = None) -> list[torch.Tensor]:
    """Deprecated name of :func:`decompose_weight` (it clashed with :func:`tnfast.tt_svd`).

    Emits a FutureWarning and forwards every argument; it will be removed in the next release.
    """
    warnings.warn("tnfast.nn.tt_svd is deprecated and will be removed in the next release; use "
                  "tnfast.nn.decompose_weight (same arguments and result)", FutureWarning, stacklevel=2)
    return decompose_weight(weight, in_modes, out_modes, max_bond=max_bond, cutoff=cutoff)
