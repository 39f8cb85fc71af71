"""DMRG-like sweep training of the MPO layers of a model: :class:`SweepTrainer`.

A sweep visits the cores of every MPO layer (:class:`~tnfast.nn.MPOLinear`,
:class:`~tnfast.nn.MPOConv2d`) from left to right and back.  At each position every other core
is frozen and the local tensor (one core, ``sites=1``, or the merged pair of two neighbouring
cores, ``sites=2``) takes local gradient steps on mini-batches.  The layer is kept in mixed
canonical form with its orthogonality center at the local tensor (QR moves the center along,
as in DMRG), so the frozen part of the weight is an isometry and a local step acts on the
weight with the step size it has.  A two-site update is split back into two cores by a
truncated SVD (``max_bond``, ``cutoff``), so the bonds grow and shrink as the data asks; the
cut is the one truncation rule of the MPO layers (:func:`tnfast.nn.tt_svd`'s), with the
budget relative to the local tensor (whose norm is the weight's norm in canonical form).

The gradient of the local tensor comes from autograd or from the explicit environment
contraction (``gradient="environment"``): the layer input ``x`` is contracted with the cores
to the left of the local tensor (the left environment of the batch, kept per batch and
advanced core by core while the sweep moves), the cores to the right are merged into the
right environment (kept per position), and the gradient is
``sum_batch  left(x) * dL/dy * right``, where ``dL/dy`` (the gradient of the loss with respect
to the layer output) comes from the rest of the model.  Both give the same numbers (tested to
1e-10 in float64).

Every other parameter (dense layers, the biases of the MPO layers) is trained by an ordinary
optimizer, jointly at every local step (``dense="joint"``), in a pass between sweeps
(``dense="between"``), or not at all (``dense="frozen"``).

Every sweep records the mean loss, the bond dimensions and the entanglement entropy
``S = -sum p ln p`` (``p = s^2 / sum s^2``) of every inner bond of every MPO layer in
:attr:`SweepTrainer.history`; :meth:`SweepTrainer.plot_entropy` draws the entropies per bond
over the sweeps.
"""

from __future__ import annotations

import itertools
import math
import numbers
import time

import torch
from torch import nn
from torch.nn import functional as F

from .._truncation import truncation_rank
from ._native import SUFFIX, native_core, serves
from .decompose import merge_cores, mpo_bond_spectra
from .mpo_layers import MPOConv2d, MPOLinear

__all__ = ["SweepTrainer", "split_pair", "mpo_layers", "environment_gradient", "bond_entropy"]

_OPTIMIZERS = ("sgd", "adam")
_DENSE_MODES = ("joint", "between", "frozen")
_GRADIENTS = ("autograd", "environment")
_ENGINES = ("auto", "native", "torch")
_ENV_KERNEL = "sweep_env_gradient_f64"


# ----------------------------------------------------------------------------------------------
# layers and their cores
# ----------------------------------------------------------------------------------------------

def mpo_layers(model):
    """The MPO layers of ``model`` as ``[(name, layer)]`` (an :class:`MPOConv2d` counts once, not
    its inner :class:`MPOLinear`)."""
    out, inner = [], set()
    for name, mod in model.named_modules():
        if isinstance(mod, MPOConv2d):
            inner.add(id(mod.mpo))
    for name, mod in model.named_modules():
        if isinstance(mod, (MPOLinear, MPOConv2d)) and id(mod) not in inner:
            out.append((name or "(model)", mod))
    return out


def _holder(layer):
    """The :class:`MPOLinear` that owns the cores (the layer itself, or a convolution's ``mpo``)."""
    return layer.mpo if isinstance(layer, MPOConv2d) else layer


def _replace_cores(layer, cores, trainable=None):
    """Reassign the cores of an MPO layer by its :meth:`~tnfast.nn.MPOLinear.set_cores` (their bond
    dimensions may differ from the current ones); ``trainable``: the indices whose parameters
    require gradients (default: all)."""
    layer.set_cores(list(cores))
    for k, p in enumerate(layer.cores):
        p.requires_grad_(trainable is None or k in trainable)


def bond_entropy(s):
    """Entanglement entropy ``-sum p ln p`` with ``p = s^2 / sum s^2`` of singular values ``s``."""
    p = s.to(torch.float64) ** 2
    tot = p.sum()
    if not tot > 0:
        return 0.0
    p = p / tot
    p = p[p > 0]
    return float(-(p * p.log()).sum())


# ----------------------------------------------------------------------------------------------
# contractions on lists of (group) cores
# ----------------------------------------------------------------------------------------------

def _advance(state, core):
    """Left state ``(B, P, a, J_rest)`` times a core ``(a, i, j, c)`` -> ``(B, P i, c, J_rest / j)``."""
    b, p, a, r = state.shape
    _, i, j, c = core.shape
    s = state.reshape(b, p, a, j, r // j)
    out = torch.einsum("bpajr,aijc->bpicr", s, core)
    return out.reshape(b, p * i, c, r // j)


def environment_gradient(left, gy, right, shape):
    """Gradient of the loss with respect to a local tensor of ``shape = (a, i, j, c)``.

    Parameters
    ----------
    left : (B, P, a, J_rest) the layer input contracted with the cores left of the local tensor
        (``P`` = product of their output modes, ``J_rest = j * J_right``).
    gy : (B, out) gradient of the loss with respect to the layer output (no bias).
    right : (c, I_right, J_right) merged cores right of the local tensor, or None at the right end.

    Returns
    -------
    (a, i, j, c) tensor ``sum_{B, P, I_right, J_right} left * gy * right``.
    """
    a, i, j, c = shape
    b, p = left.shape[0], left.shape[1]
    jr = left.shape[3] // j
    lt = left.reshape(b, p, a, j, jr)
    if right is None:
        right = gy.new_ones(1, 1, 1)
    q = right.shape[1]
    g = gy.reshape(b, p, i, q)
    u = torch.einsum("bpiq,cqr->bpicr", g, right)                           # (B, P, i, c, J_right)
    lm = lt.permute(2, 3, 0, 1, 4).reshape(a * j, b * p * jr)
    um = u.permute(0, 1, 4, 2, 3).reshape(b * p * jr, i * c)
    return (lm @ um).reshape(a, j, i, c).permute(0, 2, 1, 3)


def _flip_group(g, outs, ins):
    """A core or merged group ``(D_a, prod outs, prod ins, D_b)`` with its sites in reverse order:
    ``(D_b, prod reversed(outs), prod reversed(ins), D_a)``."""
    a, i, j, b = g.shape
    n = len(outs)
    t = g.reshape(a, *outs, *ins, b)
    perm = [2 * n + 1] + list(range(n, 0, -1)) + list(range(2 * n, n, -1)) + [0]
    return t.permute(perm).reshape(b, i, j, a)


def _reverse_groups(groups, pos, sites, out_modes, in_modes):
    """The weight of ``groups`` (single cores, and ``sites`` cores merged at ``pos``) with the order
    of the sites reversed; returns the reversed list and the position of the local tensor in it."""
    out, k = [], 0
    for t, g in enumerate(groups):
        s = sites if t == pos else 1
        out.append(_flip_group(g, out_modes[k:k + s], in_modes[k:k + s]))
        k += s
    return out[::-1], len(groups) - 1 - pos


def _reverse_rows(m, modes):
    """Rows ``(B, prod modes)`` with the multi-index order reversed."""
    n = len(modes)
    return m.reshape(m.shape[0], *modes).permute(0, *range(n, 0, -1)).reshape(m.shape[0], -1)


# ----------------------------------------------------------------------------------------------
# splitting a merged pair
# ----------------------------------------------------------------------------------------------

def split_pair(merged, shape_left, shape_right, max_bond=None, cutoff=0.0, center="right"):
    """Split a merged pair ``(D_a, i1 i2, j1 j2, D_b)`` into two cores by a truncated SVD.

    Parameters
    ----------
    merged : torch.Tensor ``(D_a, i1*i2, j1*j2, D_b)`` (C order: ``i1`` slower than ``i2``).
    shape_left, shape_right : ``(i1, j1)`` and ``(i2, j2)``.
    max_bond : int, optional cap of the new bond.
    cutoff : float >= 0: the cut squared singular values sum to at most
        ``cutoff**2 * sum s**2`` (the rule of :func:`tnfast.nn.tt_svd`, relative to the pair).
    center : "right" (left core an isometry, the singular values go right) or "left".

    Returns
    -------
    (left ``(D_a, i1, j1, D)``, right ``(D, i2, j2, D_b)``, s (all singular values, float64),
    discarded (sum of the cut squared singular values)).
    """
    da, ii, jj, db = merged.shape
    i1, j1 = shape_left
    i2, j2 = shape_right
    if i1 * i2 != ii or j1 * j2 != jj:
        raise ValueError(f"split_pair: modes {shape_left}, {shape_right} do not match the pair {tuple(merged.shape)}")
    t = merged.reshape(da, i1, i2, j1, j2, db).permute(0, 1, 3, 2, 4, 5).reshape(da * i1 * j1, i2 * j2 * db)
    u, s, vh = torch.linalg.svd(t, full_matrices=False)
    s64 = s.to(torch.float64)
    budget = (float(cutoff) ** 2) * float((s64 ** 2).sum()) if cutoff else None
    k, _ = truncation_rank(s64, max_bond, budget=budget)
    discarded = float((s64[k:] ** 2).sum())
    if center == "right":
        left, right = u[:, :k], s[:k, None] * vh[:k]
    else:
        left, right = u[:, :k] * s[None, :k], vh[:k]
    return (left.reshape(da, i1, j1, k).contiguous(), right.reshape(k, i2, j2, db).contiguous(), s64, discarded)


def _qr_right(core, nxt):
    """Move the orthogonality center from ``core`` to ``nxt`` (its right neighbour)."""
    a, i, j, b = core.shape
    q, r = torch.linalg.qr(core.reshape(a * i * j, b))
    k = q.shape[1]
    return q.reshape(a, i, j, k), torch.tensordot(r, nxt, dims=([1], [0]))


def _qr_left(prev, core):
    """Move the orthogonality center from ``core`` to ``prev`` (its left neighbour)."""
    a, i, j, b = core.shape
    q, r = torch.linalg.qr(core.reshape(a, i * j * b).t())
    k = q.shape[1]
    return torch.tensordot(prev, r.t(), dims=([3], [0])), q.t().reshape(k, i, j, b)


def _right_canonical(cores):
    """Cores with every core but the first right-orthogonal (same weight)."""
    cores = list(cores)
    for k in range(len(cores) - 1, 0, -1):
        cores[k - 1], cores[k] = _qr_left(cores[k - 1], cores[k])
    return cores


# ----------------------------------------------------------------------------------------------
# the layer as matrices, and its forward with given group cores
# ----------------------------------------------------------------------------------------------

def _as_rows(layer, x):
    """The layer input as the rows its MPO acts on: ``(rows, in_features of the MPO)``."""
    if isinstance(layer, MPOConv2d):
        cols = F.unfold(x, layer.kernel_size, padding=layer.padding, stride=layer.stride)
        return cols.transpose(1, 2).reshape(-1, cols.shape[1])
    return x.reshape(-1, layer.in_features)


def _grad_rows(layer, gy):
    """The gradient of the layer output as rows ``(rows, out_features)`` matching :func:`_as_rows`."""
    if isinstance(layer, MPOConv2d):
        return gy.permute(0, 2, 3, 1).reshape(-1, gy.shape[1])
    return gy.reshape(-1, layer.out_features)


class _Capture:
    """Forward hook that keeps the layer input and the gradient of the layer output."""

    def __init__(self):
        self.x = None
        self.gy = None

    def __call__(self, module, inputs, output):
        self.x = inputs[0].detach()
        if not output.requires_grad:
            output = output.detach().requires_grad_(True)
        output.register_hook(self._grad)
        return output

    def _grad(self, g):
        self.gy = g.detach()


class _TorchEnv:
    """Environment contractions in torch (any device and dtype)."""

    name = "torch"

    @staticmethod
    def advance(state, core):
        return _advance(state, core)

    @staticmethod
    def extend(core, right):
        a, i, j, c = core.shape
        if right is None:
            return core.reshape(a, i, j)
        _, q, r = right.shape
        return torch.einsum("aijc,cqr->aiqjr", core, right).reshape(a, i * q, j * r)

    @staticmethod
    def gradient(left, gy, right, shape):
        return environment_gradient(left, gy, right, shape)


class _NativeEnv:
    """Environment contractions in the compiled core (CPU float32/float64; the GIL released,
    Ctrl-C stops them)."""

    name = "native"

    @staticmethod
    def _fn(kind, t):
        return getattr(native_core(_ENV_KERNEL), f"sweep_env_{kind}_{SUFFIX[t.dtype]}")

    @staticmethod
    def _np(t):
        return t.detach().contiguous().numpy()

    @classmethod
    def advance(cls, state, core):
        out = cls._fn("advance_left", state)(cls._np(state), cls._np(core.to(state.dtype)),
                                             int(torch.get_num_threads()))
        return torch.from_numpy(out)

    @classmethod
    def extend(cls, core, right):
        a, i, j, c = core.shape
        if right is None:
            return core.reshape(a, i, j)
        return torch.from_numpy(cls._fn("extend_right", core)(cls._np(core), cls._np(right.to(core.dtype))))

    @classmethod
    def gradient(cls, left, gy, right, shape):
        r = None if right is None else cls._np(right.to(left.dtype))
        g = cls._fn("gradient", left)(cls._np(left), cls._np(gy.to(left.dtype)), r, tuple(int(d) for d in shape),
                                      int(torch.get_num_threads()))
        return torch.from_numpy(g)


def _env_engine(t, engine="auto"):
    """The environment engine for tensors like ``t``: the compiled one on CPU float32/float64
    (``engine`` "auto" or "native"), torch elsewhere (or with ``engine="torch"``)."""
    if engine == "torch":
        return _TorchEnv
    ok = serves(t, _ENV_KERNEL)
    if engine == "native" and not ok:
        raise RuntimeError("env_engine='native' needs CPU float32/float64 tensors and the compiled extension; "
                           f"got {t.device.type} {t.dtype}")
    return _NativeEnv if ok else _TorchEnv


class _LeftStates:
    """Left environments of the batches of one pass, advanced core by core as the sweep moves.

    A state is kept per batch key with the input it came from; it is reused when the same key
    comes back with an equal input, and dropped when the memory budget would be exceeded.
    """

    def __init__(self, budget_bytes):
        self.budget = budget_bytes
        self.used = 0
        self.states = {}

    def get(self, key, x2, cores, pos, env=_TorchEnv):
        hit = self.states.get(key) if key is not None else None
        if hit is not None and hit[1] <= pos and hit[0].shape == x2.shape and torch.equal(hit[0], x2):
            state, at = hit[2], hit[1]
            self.used -= state.numel() * state.element_size()
        else:
            if hit is not None:
                self.used -= hit[2].numel() * hit[2].element_size()
                self.states.pop(key)
            state, at = x2.reshape(x2.shape[0], 1, 1, -1), 0
        for c in cores[at:pos]:
            state = env.advance(state, c)
        size = state.numel() * state.element_size()
        if key is not None and self.used + size <= self.budget:
            self.states[key] = (x2, pos, state)
            self.used += size
        else:
            self.states.pop(key, None)
        return state


class _RightEnvs:
    """Right environments of one pass: the merge of the cores right of the local tensor, kept per
    start position with the cores it came from and extended by one core as the sweep moves (the
    cores right of the local tensor change only next to it, where the moving center lands)."""

    def __init__(self):
        self.envs = {}

    def get(self, cores, start, env=_TorchEnv):
        """The merge of ``cores[start:]`` as ``(D, I_right, J_right)`` (None if empty)."""
        if start >= len(cores):
            return None
        hit = self.envs.get(start)
        if hit is not None and len(hit[0]) == len(cores) - start and all(
                a.shape == b.shape and torch.equal(a, b) for a, b in zip(hit[0], cores[start:])):
            return hit[1]
        right = env.extend(cores[start], self.get(cores, start + 1, env))
        self.envs[start] = (list(cores[start:]), right)
        return right


# ----------------------------------------------------------------------------------------------
# the trainer
# ----------------------------------------------------------------------------------------------

def _check_real(v, name, minimum=None, strict=False, allow_none=False):
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
        raise ValueError(f"{name}: expected a finite real number, got {v!r}")
    v = float(v)
    if minimum is not None and (v <= minimum if strict else v < minimum):
        raise ValueError(f"{name}: expected a number {'>' if strict else '>='} {minimum:g}, got {v!r}")
    return v


def _check_count(v, name, minimum=1, allow_none=False):
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or int(v) < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {v!r}")
    return int(v)


def _default_loss(out, target):
    if target.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8):
        return F.cross_entropy(out, target.long())
    return F.mse_loss(out, target.reshape(out.shape))


class SweepTrainer:
    """Train the MPO layers of a model core by core with DMRG-like sweeps.

    Parameters
    ----------
    model : torch.nn.Module holding at least one :class:`MPOLinear` or :class:`MPOConv2d`.
    loss_fn : callable ``(output, target) -> scalar``; default: cross-entropy for integer
        targets, mean squared error otherwise.
    lr : float > 0, the step size of the local updates.
    sites : 1 or 2; one core or the merged pair of two neighbouring cores per position.
    max_bond : int >= 1, optional cap of the bonds a two-site split makes (also capped by the
        size of the pair).
    cutoff : float >= 0, relative cut of a two-site split: the squared singular values cut sum to
        at most ``cutoff**2`` times their total (0: keep every singular value, up to ``max_bond``).
    optimizer : "sgd" or "adam", the local optimizer (a fresh one at every position).
    local_steps : int >= 1, mini-batch steps at every position of a sweep.
    gradient : "autograd" or "environment" (explicit contraction of the cached environments).
    dense : "joint" (the other parameters take a step with every local step), "between" (a pass
        over the data after every sweep) or "frozen"; ``dense_optimizer`` ("adam" or "sgd") and
        ``dense_lr`` (default ``lr``) configure their optimizer, which persists across sweeps.
    canonical : keep each layer in mixed canonical form with the center at the local tensor.
    layers : optional list of names (from ``model.named_modules()``) of the MPO layers to sweep.
    env_cache_mb : memory budget of the cached left environments (``gradient="environment"``).
    env_engine : "auto", "native" or "torch": who contracts the environments of
        ``gradient="environment"``.  "native": the compiled core (CPU float32/float64 tensors;
        threads ``torch.get_num_threads()``, the GIL released, Ctrl-C stops it); "torch": torch
        operations (any device and dtype, e.g. CUDA); "auto" (default): the compiled core
        wherever it serves the tensors, torch elsewhere.
    keep_optimizer_state : carry the local optimizer's state (Adam's moments) of a position over
        to the next visit of the same position when the local tensor keeps its shape (default:
        a fresh optimizer at every visit).  With ``canonical=True`` the gauge of a core changes
        between visits, so the carried moments are only approximately those of its entries.
    seed : shuffling of tensor data.

    Attributes
    ----------
    history : list of dicts, one per sweep: ``sweep``, ``loss`` (mean mini-batch loss of the
        sweep), ``steps``, ``time_s``, ``bonds`` and ``entropy`` (per layer name, a tuple per inner
        bond), ``discarded`` (largest cut squared weight of a two-site split, relative).
    """

    def __init__(self, model, loss_fn=None, lr=1e-2, sites=1, max_bond=None, cutoff=0.0, optimizer="sgd",
                 local_steps=1, gradient="autograd", dense="joint", dense_optimizer="adam", dense_lr=None,
                 canonical=True, layers=None, env_cache_mb=256, seed=0, env_engine="auto",
                 keep_optimizer_state=False):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        found = mpo_layers(model)
        if layers is not None:
            names = [layers] if isinstance(layers, str) else list(layers)
            byname = dict(found)
            missing = [n for n in names if n not in byname]
            if missing:
                raise ValueError(f"layers: {missing} are not MPO layers of the model; its MPO layers are "
                                 f"{[n for n, _ in found]}")
            found = [(n, byname[n]) for n in names]
        if not found:
            raise ValueError("model: expected a model holding at least one MPOLinear or MPOConv2d layer, found none "
                             "(tnfast.nn.compress(model) turns its dense layers into MPO layers)")
        if loss_fn is not None and not callable(loss_fn):
            raise TypeError(f"loss_fn: expected a callable (output, target) -> loss, got {type(loss_fn).__name__}")
        if isinstance(sites, bool) or sites not in (1, 2):
            raise ValueError(f"sites: expected 1 or 2, got {sites!r}")
        if optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer: expected 'sgd' or 'adam', got {optimizer!r}")
        if dense_optimizer not in _OPTIMIZERS:
            raise ValueError(f"dense_optimizer: expected 'sgd' or 'adam', got {dense_optimizer!r}")
        if gradient not in _GRADIENTS:
            raise ValueError(f"gradient: expected 'autograd' or 'environment', got {gradient!r}")
        if env_engine not in _ENGINES:
            raise ValueError(f"env_engine: expected 'auto', 'native' or 'torch', got {env_engine!r}")
        if dense not in _DENSE_MODES:
            raise ValueError(f"dense: expected 'joint', 'between' or 'frozen', got {dense!r}")
        self.model = model
        self.layers = found
        self.loss_fn = loss_fn if loss_fn is not None else _default_loss
        self.lr = _check_real(lr, "lr", 0.0, strict=True)
        self.sites = int(sites)
        self.max_bond = _check_count(max_bond, "max_bond", allow_none=True)
        self.cutoff = _check_real(0.0 if cutoff is None else cutoff, "cutoff", 0.0)
        self.optimizer = optimizer
        self.local_steps = _check_count(local_steps, "local_steps")
        self.gradient = gradient
        self.env_engine = env_engine
        self.keep_optimizer_state = bool(keep_optimizer_state)
        self._opt_states = {}
        self.dense = dense
        self.canonical = bool(canonical)
        self.env_cache_bytes = int(_check_real(env_cache_mb, "env_cache_mb", 0.0) * 2 ** 20)
        self.seed = int(seed)
        self.history = []
        for _, layer in self.layers:
            if len(_holder(layer).cores) < self.sites:
                raise ValueError(f"sites=2 needs MPO layers of at least two cores; {layer} has one")
        core_ids = {id(c) for _, l in self.layers for c in _holder(l).cores}
        self._core_ids = core_ids
        self.dense_params = [p for p in model.parameters() if id(p) not in core_ids and p.requires_grad]
        dlr = self.lr if dense_lr is None else _check_real(dense_lr, "dense_lr", 0.0, strict=True)
        self.dense_lr = dlr
        self._dense_opt = None
        if self.dense_params and dense != "frozen":
            self._dense_opt = (torch.optim.Adam(self.dense_params, lr=dlr) if dense_optimizer == "adam"
                               else torch.optim.SGD(self.dense_params, lr=dlr))
        self._sweeps = 0
        self._gen = torch.Generator().manual_seed(self.seed)

    # -- data ------------------------------------------------------------------------------------
    def _batches(self, X, y, batch_size):
        """An endless iterator of ``(key, xb, yb)``; keys repeat for tensor data (cached environments)."""
        if y is None:
            loader = X
            try:
                iter(loader)
            except TypeError:
                raise TypeError("X: expected a tensor (with y) or an iterable of (x, y) batches") from None

            def gen():
                while True:
                    any_batch = False
                    for xb, yb in loader:
                        any_batch = True
                        yield None, xb, yb
                    if not any_batch:
                        raise ValueError("X: the loader gave no batch")
            return gen(), None
        if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
            raise TypeError(f"X, y: expected torch tensors, got {type(X).__name__} and {type(y).__name__}")
        if len(X) != len(y) or len(X) == 0:
            raise ValueError(f"X, y: expected the same nonzero length, got {len(X)} and {len(y)}")
        bs = _check_count(batch_size, "batch_size")
        order = torch.randperm(len(X), generator=self._gen)
        chunks = [order[t:t + bs] for t in range(0, len(X), bs)]

        def gen():
            while True:
                for key, idx in enumerate(chunks):
                    yield key, X[idx], y[idx]
        return gen(), len(chunks)

    # -- one local step --------------------------------------------------------------------------
    def _loss_backward(self, xb, yb):
        out = self.model(xb)
        loss = self.loss_fn(out, yb)
        if not torch.isfinite(loss.detach()):
            raise FloatingPointError(f"sweep training diverged: the loss is {float(loss.detach())} "
                                     f"(lower lr, currently {self.lr:g})")
        loss.backward()
        return float(loss.detach())

    def _local_grad(self, layer, groups, pos, local, key, xb, yb, caches, reverse):
        """Loss and gradient of the local tensor ``groups[pos]`` (a leaf ``local``)."""
        if self.gradient == "autograd":
            local.grad = None
            loss = self._loss_backward(xb, yb)
            g = local.grad
            return loss, (torch.zeros_like(local) if g is None else g)
        cap = _Capture()
        handle = layer.register_forward_hook(cap)
        try:
            loss = self._loss_backward(xb, yb)
        finally:
            handle.remove()
        if cap.gy is None:
            raise RuntimeError(f"the loss does not depend on the output of {type(layer).__name__}")
        h = _holder(layer)
        x2 = _as_rows(layer, cap.x).to(local.dtype)
        gy = _grad_rows(layer, cap.gy).to(local.dtype)
        with torch.no_grad():
            gs = [g.detach() for g in groups]
            sites = len(h.cores) - len(gs) + 1
            if reverse:
                x2 = _reverse_rows(x2, h.in_modes)
                gy = _reverse_rows(gy, h.out_modes)
                gs, rpos = _reverse_groups(gs, pos, sites, h.out_modes, h.in_modes)
            else:
                rpos = pos
            env = _env_engine(x2, self.env_engine)
            left = caches[0].get(key, x2, gs, rpos, env)
            right = caches[1].get(gs, rpos + 1, env)
            g = env.gradient(left, gy, right, tuple(gs[rpos].shape))
            if reverse:
                g = _flip_group(g, tuple(h.out_modes[pos:pos + sites])[::-1], tuple(h.in_modes[pos:pos + sites])[::-1])
        return loss, g.contiguous()

    def local_gradient(self, layer, pos, xb, yb, gradient=None):
        """Gradient of the loss on ``(xb, yb)`` with respect to core ``pos`` of ``layer`` (a name
        or a module), by ``gradient`` ("autograd" or "environment"; default: the trainer's)."""
        layer = self._resolve(layer)
        saved = self.gradient
        self.gradient = saved if gradient is None else gradient
        if self.gradient not in _GRADIENTS:
            self.gradient = saved
            raise ValueError(f"gradient: expected 'autograd' or 'environment', got {gradient!r}")
        try:
            cores = [c.detach() for c in _holder(layer).cores]
            local = nn.Parameter(cores[pos].clone())
            groups = cores[:pos] + [local] + cores[pos + 1:]
            handle = self._install(layer, groups, pos)
            try:
                _, g = self._local_grad(layer, groups, pos, local, None, xb, yb,
                                        (_LeftStates(0), _RightEnvs()), reverse=False)
            finally:
                self._uninstall(layer, [c.detach() for c in groups], handle)
        finally:
            self.gradient = saved
        for p in self.dense_params:
            p.grad = None
        return g

    def _resolve(self, layer):
        for name, l in self.layers:
            if layer is l or layer == name:
                return l
        raise ValueError(f"layer: expected one of the swept MPO layers {[n for n, _ in self.layers]}, got {layer!r}")

    def _install(self, layer, groups, pos):
        """Make the layer compute with ``groups`` while its local tensor trains; returns the hook
        handle to remove afterwards (or None).  Single cores become the layer's cores (its planned
        forward runs); a merged pair is passed to ``layer.forward(x, cores=...)`` by a pre-hook."""
        if self.sites == 1 and len(groups) == len(layer.cores):
            _replace_cores(layer, groups, trainable={pos} if self.gradient == "autograd" else set())
            return None
        detach = self.gradient != "autograd"
        used = [g.detach() if detach else g for g in groups]

        def with_groups(module, args, kwargs):
            return args, {**kwargs, "cores": used}
        return layer.register_forward_pre_hook(with_groups, with_kwargs=True)

    def _uninstall(self, layer, cores, handle):
        if handle is not None:
            handle.remove()
        _replace_cores(layer, cores)

    def _make_opt(self, p):
        return torch.optim.Adam([p], lr=self.lr) if self.optimizer == "adam" else torch.optim.SGD([p], lr=self.lr)

    # -- a position ------------------------------------------------------------------------------
    def _visit(self, layer, pos, direction, reverse, batches, caches, stats):
        h = _holder(layer)
        cores = [c.detach() for c in h.cores]
        n = len(cores)
        if self.sites == 1:
            local = nn.Parameter(cores[pos].clone())
            groups = cores[:pos] + [local] + cores[pos + 1:]
        else:
            local = nn.Parameter(merge_cores(cores[pos:pos + 2]).detach().clone())
            groups = cores[:pos] + [local] + cores[pos + 2:]
        opt = self._make_opt(local)
        state_key = (id(layer), pos, self.sites)
        saved = self._opt_states.get(state_key) if self.keep_optimizer_state else None
        if saved is not None and all(not torch.is_tensor(v) or v.ndim == 0 or v.shape == local.shape
                                     for v in saved.values()):
            opt.state[local] = saved  # same shape: the optimizer goes on where it stopped
        handle = self._install(layer, groups, pos)
        try:
            for _ in range(self.local_steps):
                key, xb, yb = next(batches)
                if self._dense_opt is not None:
                    self._dense_opt.zero_grad(set_to_none=True)
                loss, g = self._local_grad(layer, groups, pos, local, key, xb, yb, caches, reverse)
                local.grad = g
                opt.step()
                if self._dense_opt is not None and self.dense == "joint":
                    self._dense_opt.step()
                stats["loss"] += loss
                stats["steps"] += 1
            if self.keep_optimizer_state:
                self._opt_states[state_key] = opt.state[local]
        finally:
            with torch.no_grad():
                new = self._write_back(cores, local.detach(), pos, direction, stats)
            self._uninstall(layer, new, handle)
        if self._dense_opt is not None:
            self._dense_opt.zero_grad(set_to_none=True)

    def _write_back(self, cores, local, pos, direction, stats):
        cores = list(cores)
        n = len(cores)
        if self.sites == 1:
            cores[pos] = local
            if self.canonical:
                if direction > 0 and pos < n - 1:
                    cores[pos], cores[pos + 1] = _qr_right(cores[pos], cores[pos + 1])
                elif direction < 0 and pos > 0:
                    cores[pos - 1], cores[pos] = _qr_left(cores[pos - 1], cores[pos])
            return cores
        a, i1, j1, _ = cores[pos].shape
        _, i2, j2, b = cores[pos + 1].shape
        center = "right" if direction > 0 else "left"
        left, right, s, cut = split_pair(local, (i1, j1), (i2, j2), self.max_bond, self.cutoff, center=center)
        tot = float((s ** 2).sum())
        stats["discarded"] = max(stats["discarded"], cut / tot if tot > 0 else 0.0)
        cores[pos], cores[pos + 1] = left, right
        return cores

    # -- sweeps ----------------------------------------------------------------------------------
    def _positions(self, n):
        """``(position, move)`` of the right and the left run; ``move`` says where the
        orthogonality center goes after the update (the last position of the right run already
        hands it to the left, where the left run starts)."""
        last = n - self.sites
        right = [(p, +1) for p in range(last)] + [(last, -1)]
        left = [(p, -1) for p in range(last - 1, -1, -1)]
        return right, left

    def sweep(self, X, y=None, batch_size=64, local_steps=None):
        """One sweep over every MPO layer: left to right, then back.

        Parameters
        ----------
        X, y : tensors ``(N, ...)`` and ``(N, ...)`` (shuffled into mini-batches of ``batch_size``),
            or ``X`` an iterable of ``(x, y)`` batches (a loader, cycled as needed) and ``y`` None.
        local_steps : mini-batch steps per position (default: the trainer's).

        Returns
        -------
        dict: the record appended to :attr:`history`.
        """
        steps = self.local_steps if local_steps is None else _check_count(local_steps, "local_steps")
        saved = self.local_steps
        self.local_steps = steps
        batches, n_batches = self._batches(X, y, batch_size)
        t0 = time.perf_counter()
        stats = {"loss": 0.0, "steps": 0, "discarded": 0.0}
        self.model.train()
        try:
            for _, layer in self.layers:
                h = _holder(layer)
                if self.canonical:
                    with torch.no_grad():
                        _replace_cores(layer, _right_canonical([c.detach() for c in h.cores]))
                right, left = self._positions(len(h.cores))
                for run, reverse in ((right, False), (left, True)):
                    cache = (_LeftStates(self.env_cache_bytes), _RightEnvs())
                    for pos, move in run:
                        self._visit(layer, pos, move, reverse, batches, cache, stats)
            if self.dense == "between" and self._dense_opt is not None:
                self._dense_pass(batches, n_batches if n_batches is not None else stats["steps"])
        finally:
            self.local_steps = saved
        self._sweeps += 1
        rec = {"sweep": self._sweeps, "loss": stats["loss"] / max(stats["steps"], 1), "steps": stats["steps"],
               "time_s": time.perf_counter() - t0, "discarded": stats["discarded"]}
        rec.update(self.snapshot())
        self.history.append(rec)
        return rec

    def _dense_pass(self, batches, n):
        frozen = [p for _, l in self.layers for p in _holder(l).cores]
        for p in frozen:
            p.requires_grad_(False)
        try:
            for _ in range(n):
                _, xb, yb = next(batches)
                self._dense_opt.zero_grad(set_to_none=True)
                self._loss_backward(xb, yb)
                self._dense_opt.step()
        finally:
            for p in frozen:
                p.requires_grad_(True)
            self._dense_opt.zero_grad(set_to_none=True)

    def fit(self, X, y=None, sweeps=1, batch_size=64, local_steps=None, callback=None):
        """Run ``sweeps`` sweeps; ``callback(trainer, record)`` after each.  Returns :attr:`history`."""
        for _ in range(_check_count(sweeps, "sweeps", minimum=0)):
            rec = self.sweep(X, y, batch_size=batch_size, local_steps=local_steps)
            if callback is not None:
                callback(self, rec)
        return self.history

    def snapshot(self):
        """Bond dimensions and entanglement entropies of every swept layer (a dict of two dicts)."""
        bonds, ent = {}, {}
        for name, layer in self.layers:
            h = _holder(layer)
            bonds[name] = tuple(int(c.shape[3]) for c in list(h.cores)[:-1])
            ent[name] = tuple(bond_entropy(s) for s in mpo_bond_spectra(list(h.cores)))
        return {"bonds": bonds, "entropy": ent}

    def visits_per_sweep(self):
        """Number of positions one sweep visits (over all swept layers)."""
        total = 0
        for _, layer in self.layers:
            r, l = self._positions(len(_holder(layer).cores))
            total += len(r) + len(l)
        return total

    def plot_entropy(self, path=None):
        """Entanglement entropy per bond over the sweeps (one panel per MPO layer); returns the figure
        (saved to ``path`` when given; needs matplotlib)."""
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("SweepTrainer.plot_entropy needs matplotlib: pip install matplotlib "
                              "(or pip install 'tnfast[nn]'); the entropies are in trainer.history") from None
        if not self.history:
            raise ValueError("plot_entropy: no sweep recorded yet")
        names = [n for n, _ in self.layers]
        fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.4), squeeze=False)
        sw = [r["sweep"] for r in self.history]
        for ax, name in zip(axes[0], names):
            ent = [r["entropy"][name] for r in self.history]
            for b in range(len(ent[0])):
                ax.plot(sw, [e[b] if b < len(e) else float("nan") for e in ent], marker="o", ms=3,
                        label=f"bond {b + 1} (D={self.history[-1]['bonds'][name][b]})")
            ax.set_title(f"{name}: entanglement entropy")
            ax.set_xlabel("sweep")
            ax.set_ylabel("S")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig
