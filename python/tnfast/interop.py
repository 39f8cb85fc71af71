"""Conversions to and from the tensor-network libraries people already use.

Each converter imports its library only when called and names the package when it is missing.
Conventions (tnfast's cores are ``(r_{k-1}, d_k, r_k)`` for a TensorTrain and
``(r_{k-1}, i_k, j_k, r_k)`` for an MPO, with ``r_0 = r_n = 1``):

- quimb ``MatrixProductState``: open boundaries, the two end tensors have one bond only.  Read
  by index names (bonds shared with the neighbours, ``mps.site_ind(k)``), so any ``shape``
  order is understood; written in quimb's default ``'lrp'`` order.
- quimb ``MatrixProductOperator``: ``upper_ind`` (``k``) is the row (output) index ``i``,
  ``lower_ind`` (``b``) the column (input) index ``j``, as in quimb's ``to_dense``; written in
  ``'lrud'`` order.
- TensorKrowch: ``tensorkrowch.models.MPS`` with ``boundary='obc'`` and the plain list of
  cores its ``decompositions.tt_rss`` returns: first ``(d, r)``, middle ``(r, d, r)``, last
  ``(r, d)`` (torch tensors).
- teneva: a list of 3-d numpy cores ``(r_{k-1}, n_k, r_k)``, the same layout as tnfast.

All conversions copy, and are exact (entries are moved, never recomputed).
"""

from __future__ import annotations

import importlib

import numpy as np

from .mpo import MPO
from .tensortrain import TensorTrain

__all__ = ["tt_from_quimb", "tt_to_quimb", "mpo_from_quimb", "mpo_to_quimb", "tt_from_tensorkrowch",
           "tt_to_tensorkrowch", "tt_from_teneva", "tt_to_teneva"]


def _require(module: str, package: str, what: str):
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"{what} needs the package '{package}' (pip install {package})") from err


def _numpy(a):
    if hasattr(a, "detach") and hasattr(a, "cpu"):
        a = a.detach().cpu().numpy()
    return np.array(a, copy=True)


# ---- quimb ------------------------------------------------------------------------------------
def _quimb_sites(tn, what):
    """The site tensors of a quimb 1-d network and the bond indices between neighbours."""
    qtn = _require("quimb.tensor", "quimb", what)
    L = tn.L
    if getattr(tn, "cyclic", False):
        raise ValueError(f"{what}: expected open boundaries, got a cyclic (periodic) network")
    tensors = [tn[tn.site_tag(k)] for k in range(L)]
    bonds = []
    for k in range(L - 1):
        shared = tuple(qtn.bonds(tensors[k], tensors[k + 1]))
        if len(shared) != 1:
            raise ValueError(f"{what}: expected one bond between sites {k} and {k + 1}, got {len(shared)}")
        bonds.append(shared[0])
    return tensors, bonds


def _ordered(t, left, middle, right):
    """Data of quimb tensor ``t`` as ``(left, *middle, right)``, a bond of 1 where there is none."""
    inds = ([left] if left is not None else []) + list(middle) + ([right] if right is not None else [])
    if set(inds) != set(t.inds):
        raise ValueError(f"unexpected indices {t.inds} (expected {tuple(inds)})")
    a = _numpy(t.transpose(*inds).data)
    if left is None:
        a = a[None]
    if right is None:
        a = a[..., None]
    return a


def tt_from_quimb(mps) -> TensorTrain:
    """A TensorTrain from a quimb ``MatrixProductState`` (open boundaries)."""
    tensors, bonds = _quimb_sites(mps, "TensorTrain.from_quimb")
    L = len(tensors)
    cores = [_ordered(tensors[k], bonds[k - 1] if k > 0 else None, [mps.site_ind(k)],
                      bonds[k] if k < L - 1 else None) for k in range(L)]
    return TensorTrain(cores, copy=False)


def tt_to_quimb(tt: TensorTrain, **kwargs):
    """``quimb.tensor.MatrixProductState`` of ``tt`` (shape ``'lrp'``; ``kwargs`` go to it)."""
    qtn = _require("quimb.tensor", "quimb", "TensorTrain.to_quimb")
    n = len(tt.cores)
    if n == 1:
        arrays = [tt.cores[0][0, :, 0].copy()]
    else:
        arrays = [tt.cores[0][0].T.copy()]
        arrays += [c.transpose(0, 2, 1).copy() for c in tt.cores[1:-1]]
        arrays += [tt.cores[-1][:, :, 0].copy()]
    return qtn.MatrixProductState(arrays, shape="lrp", **kwargs)


def mpo_from_quimb(mpo) -> MPO:
    """An MPO from a quimb ``MatrixProductOperator`` (rows: upper indices, columns: lower)."""
    tensors, bonds = _quimb_sites(mpo, "MPO.from_quimb")
    L = len(tensors)
    cores = [_ordered(tensors[k], bonds[k - 1] if k > 0 else None, [mpo.upper_ind(k), mpo.lower_ind(k)],
                      bonds[k] if k < L - 1 else None) for k in range(L)]
    return MPO(cores, copy=False)


def mpo_to_quimb(mpo: MPO, **kwargs):
    """``quimb.tensor.MatrixProductOperator`` of ``mpo`` (shape ``'lrud'``; ``kwargs`` go to it)."""
    qtn = _require("quimb.tensor", "quimb", "MPO.to_quimb")
    n = len(mpo.cores)
    if n == 1:
        arrays = [mpo.cores[0][0, :, :, 0].copy()]
    else:
        arrays = [mpo.cores[0][0].transpose(2, 0, 1).copy()]
        arrays += [c.transpose(0, 3, 1, 2).copy() for c in mpo.cores[1:-1]]
        arrays += [mpo.cores[-1][..., 0].copy()]
    return qtn.MatrixProductOperator(arrays, shape="lrud", **kwargs)


# ---- TensorKrowch -----------------------------------------------------------------------------
def tt_from_tensorkrowch(mps) -> TensorTrain:
    """A TensorTrain from a ``tensorkrowch.models.MPS`` (open boundaries) or from a list of
    cores as its ``tt_rss`` returns: first ``(d, r)``, middle ``(r, d, r)``, last ``(r, d)``
    (3-d end cores with an outer bond of 1 are accepted too)."""
    what = "TensorTrain.from_tensorkrowch"
    if hasattr(mps, "tensors") and not isinstance(mps, (list, tuple)):
        if getattr(mps, "boundary", "obc") != "obc":
            raise ValueError(f"{what}: expected an MPS with boundary='obc', got {mps.boundary!r}")
        mps = mps.tensors
    if not isinstance(mps, (list, tuple)) or len(mps) == 0:
        raise TypeError(f"{what}: expected a tensorkrowch MPS or a non-empty list of cores, got {type(mps).__name__}")
    arrays = [_numpy(c) for c in mps]
    n = len(arrays)
    cores = []
    for k, a in enumerate(arrays):
        if n == 1 and a.ndim == 1:
            a = a[None, :, None]
        elif a.ndim == 2 and k == 0:
            a = a[None]
        elif a.ndim == 2 and k == n - 1:
            a = a[..., None]
        if a.ndim != 3:
            raise ValueError(f"{what}: core {k} has shape {a.shape}; expected (d, r) first, (r, d, r) in the "
                             f"middle, (r, d) last")
        cores.append(a)
    if cores[0].shape[0] != 1 or cores[-1].shape[2] != 1:
        raise ValueError(f"{what}: expected open boundaries (outer bonds of 1), got {cores[0].shape} first and "
                         f"{cores[-1].shape} last")
    return TensorTrain(cores, copy=False)


def tt_to_tensorkrowch(tt: TensorTrain, as_list: bool = False):
    """``tensorkrowch.models.MPS(tensors=...)`` of ``tt`` (open boundaries), or with
    ``as_list=True`` the list of torch cores in the layout its ``tt_rss`` returns."""
    torch = _require("torch", "torch", "TensorTrain.to_tensorkrowch")
    n = len(tt.cores)
    if n == 1:
        arrays = [tt.cores[0][0, :, 0]]
    else:
        arrays = [tt.cores[0][0]] + list(tt.cores[1:-1]) + [tt.cores[-1][:, :, 0]]
    cores = [torch.from_numpy(np.array(a, copy=True)) for a in arrays]
    if as_list:
        return cores
    tk = _require("tensorkrowch", "tensorkrowch", "TensorTrain.to_tensorkrowch")
    return tk.models.MPS(tensors=cores, boundary="obc")


# ---- teneva -----------------------------------------------------------------------------------
def tt_from_teneva(cores) -> TensorTrain:
    """A TensorTrain from a teneva tensor train (a list of 3-d cores ``(r_{k-1}, n_k, r_k)``)."""
    if not isinstance(cores, (list, tuple)):
        raise TypeError(f"TensorTrain.from_teneva: expected a list of 3-d cores, got {type(cores).__name__}")
    return TensorTrain([_numpy(c) for c in cores], copy=False)


def tt_to_teneva(tt: TensorTrain) -> list:
    """The cores as teneva holds a tensor train: a list of 3-d numpy arrays (copies)."""
    return [np.array(c, copy=True) for c in tt.cores]
