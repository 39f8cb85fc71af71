"""Embeddings evaluated on torch tensors (any device), matching :mod:`tnfast.embeddings`."""

from __future__ import annotations

from math import comb, pi

import numpy as np
import torch

from ..embeddings import Basis, Embedding, Fourier, Legendre, Poly, Quantics, Unit

__all__ = ["embed"]


def embed(emb: Embedding, x: torch.Tensor) -> torch.Tensor:
    """Features ``phi(x)`` of shape ``x.shape + (emb.dim,)``, in ``x``'s dtype and on its device.

    The built-in embeddings are computed with torch operations; a user-defined embedding
    (:class:`tnfast.embeddings.FunctionEmbedding` or a subclass of its own) goes through numpy
    on the CPU and comes back to ``x``'s device.
    """
    d = emb.dim
    kind = type(emb)
    if kind is Poly:
        return x.unsqueeze(-1) ** torch.arange(d, device=x.device, dtype=x.dtype)
    if kind is Unit:
        k = torch.arange(d, device=x.device, dtype=x.dtype)
        coef = torch.tensor([comb(d - 1, j) for j in range(d)], device=x.device, dtype=x.dtype).sqrt()
        c, s = torch.cos(0.5 * pi * x).unsqueeze(-1), torch.sin(0.5 * pi * x).unsqueeze(-1)
        return coef * c ** (d - 1 - k) * s ** k
    if kind is Fourier:
        w = 2 * pi / emb.period
        cols = [torch.ones_like(x)]
        for j in range(1, d):
            h = (j + 1) // 2
            cols.append(torch.cos(h * w * x) if j % 2 == 1 else torch.sin(h * w * x))
        return torch.stack(cols, dim=-1)
    if kind is Legendre:
        cols = [torch.ones_like(x)]
        if d > 1:
            cols.append(x)
        for j in range(2, d):
            cols.append(((2 * j - 1) * x * cols[-1] - (j - 1) * cols[-2]) / j)
        return torch.stack(cols, dim=-1)
    if kind in (Basis, Quantics):
        idx = torch.round(x)
        if x.numel() and (bool((idx != x).any()) or float(idx.min()) < 0 or float(idx.max()) > d - 1):
            raise ValueError(f"x: the {emb.name} embedding needs integers in [0, {d - 1}]")
        return torch.nn.functional.one_hot(idx.long(), d).to(x.dtype)
    feats = emb(x.detach().cpu().numpy())
    return torch.as_tensor(np.ascontiguousarray(feats), device=x.device).to(x.dtype)
