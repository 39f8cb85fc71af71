"""Whole-model compression: replace Linear / Conv2d layers by MPO layers fitted by TT-SVD."""

from __future__ import annotations

import copy
from typing import Sequence

import torch
from torch import nn

from ._checks import check_cutoff
from .mpo_layers import MPOConv2d, MPOLinear

__all__ = ["compress", "compressible_layers"]


def compressible_layers(model: nn.Module) -> list[str]:
    """Names of the :class:`torch.nn.Linear` and :class:`torch.nn.Conv2d` (groups=1, dilation=1) modules.

    Returned in registration order (``model.named_modules()``).
    """
    out = []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Linear):
            out.append(name)
        elif isinstance(mod, nn.Conv2d) and mod.groups == 1 and tuple(mod.dilation) == (1, 1) \
                and not isinstance(mod.padding, str) and mod.padding_mode == "zeros":
            out.append(name)
    return out


def _set_module(model, name, new):
    parts = name.split(".")
    parent = model
    for p in parts[:-1]:
        parent = getattr(parent, p)
    setattr(parent, parts[-1], new)


def compress(model: nn.Module, layers: Sequence[str] | None = None,
             max_bond: int | Sequence[int] | dict | None = None, cutoff: float | dict | None = None,
             modes: dict | None = None, inplace: bool = False, skip_first: bool = False, skip_last: bool = False,
             allow_larger: bool = False) -> tuple[nn.Module, list[dict]]:
    """Replace dense layers of ``model`` by MPO layers initialized from their trained weights.

    Parameters
    ----------
    model : torch.nn.Module
    layers : sequence of str, optional
        Qualified module names to compress (default: every Linear and Conv2d, see
        :func:`compressible_layers`, minus the first/last when ``skip_first``/``skip_last``).
    max_bond : int, or dict name -> int/sequence, optional
        Bond cap for all layers or per layer (default: exact bonds).
    cutoff : float or dict name -> float, optional
        Relative Frobenius error allowed for each layer's whole weight:
        ``||W - W_mpo||_F <= cutoff * ||W||_F`` whenever ``max_bond`` does not bind (the budget
        is shared among the layer's SVD splits).
    modes : dict name -> (in_modes, out_modes), optional
        Mode factorizations per layer (channels for convolutions); balanced ones otherwise.
    inplace : bool
        Modify ``model`` itself instead of a deep copy.
    allow_larger : bool
        By default a layer whose MPO would have more parameters than the dense layer (exact
        bonds usually do) is left dense, and its report entry says so (``replaced`` False);
        ``True`` replaces it anyway.

    Returns
    -------
    (new_model, report) : the compressed model and a list of dicts, one per layer, with keys
        ``name, kind, dense_params, mpo_params, ratio, rel_error, bond_dims, in_modes, out_modes,
        replaced`` (``rel_error`` = ``||W - W_mpo||_F / ||W||_F``; parameter counts include the
        bias; ``replaced`` False when the layer was kept dense because the MPO would be larger).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    available = compressible_layers(model)
    if layers is None:
        chosen = list(available)
        if skip_first and chosen:
            chosen = chosen[1:]
        if skip_last and chosen:
            chosen = chosen[:-1]
    else:
        if isinstance(layers, str):
            raise TypeError("layers: expected a sequence of module names, got a single string")
        chosen = list(layers)
        for name in chosen:
            if name not in available:
                raise ValueError(f"layers: {name!r} is not a Linear/Conv2d module of the model "
                                 f"(candidates: {available})")
    modes = dict(modes or {})
    for name in modes:
        if name not in chosen:
            raise ValueError(f"modes: {name!r} is not among the layers to compress")
    if not isinstance(cutoff, dict):
        check_cutoff(cutoff)
    target = model if inplace else copy.deepcopy(model)
    named = dict(target.named_modules())
    report = []
    for name in chosen:
        mod = named[name]
        mb = max_bond.get(name) if isinstance(max_bond, dict) else max_bond
        co = cutoff.get(name) if isinstance(cutoff, dict) else cutoff
        im, om = modes.get(name, (None, None))
        if isinstance(mod, nn.Linear):
            new = MPOLinear.from_dense(mod, in_modes=im, out_modes=om, max_bond=mb, cutoff=co)
            kind = "linear"
            w_ref = mod.weight.detach()
        else:
            new = MPOConv2d.from_dense(mod, in_modes=im, out_modes=om, max_bond=mb, cutoff=co)
            kind = "conv2d"
            w_ref = mod.weight.detach()
        new.train(mod.training)
        with torch.no_grad():
            w_new = new.to_dense().reshape(w_ref.shape)
            err = float(torch.linalg.norm((w_new - w_ref).reshape(-1)) /
                        torch.linalg.norm(w_ref.reshape(-1)).clamp_min(torch.finfo(w_ref.dtype).tiny))
        dense_params = sum(p.numel() for p in mod.parameters())
        mpo_params = sum(p.numel() for p in new.parameters())
        report.append({
            "name": name, "kind": kind, "dense_params": int(dense_params), "mpo_params": int(mpo_params),
            "ratio": float(dense_params / mpo_params), "rel_error": err,
            "bond_dims": list(new.bond_dims),
            "in_modes": list(new.in_modes if kind == "linear" else new.channel_in_modes),
            "out_modes": list(new.out_modes if kind == "linear" else new.channel_out_modes),
            "replaced": bool(allow_larger or mpo_params <= dense_params),
        })
        if report[-1]["replaced"]:
            _set_module(target, name, new)
    return target, report
