"""Matrix product operator (MPO) layers: :class:`MPOLinear` and :class:`MPOConv2d`.

Convention (the same as :class:`tnfast.MPO`): core ``k`` has shape ``(D_{k-1}, i_k, j_k, D_k)``
with ``i_k`` an *output* mode and ``j_k`` an *input* mode, ``D_0 = D_n = 1``.  The cores
represent the weight ``W[(i_1..i_n), (j_1..j_n)]`` of shape ``(out_features, in_features)``
with C-ordered multi-indices (``i_1`` slowest), and the layer computes ``y = x W^T + b``
like :class:`torch.nn.Linear`.

Forward.  The cores are split into contiguous *groups*; the cores of a group are merged
(a cheap operation on parameter-sized tensors) and the input is swept through the groups
one by one (:mod:`tnfast.nn._sweep`), each step being one matrix product
``(rows, D_a j_g) @ (D_a j_g, i_g D_b)`` and one transpose.  A single group is the dense
path (``W`` rebuilt, then ``x @ W^T``); one group per core is the plain core-by-core sweep.
The grouping is chosen per batch size from FLOP and memory-traffic counts
(:mod:`tnfast.nn._plan`, :meth:`MPOLinear.plan`).  The sweep is a custom autograd function
that keeps only the input (and the merged cores) for the backward pass and recomputes the
intermediate states there, so its activation memory stays that of :class:`torch.nn.Linear`;
states that fit into one extra input-sized budget are kept instead of recomputed.

The weight TT-SVD, core merging and bond spectra are in :mod:`tnfast.nn.decompose`, the
argument checks in :mod:`tnfast.nn._checks`.

On CPU tensors of float32/float64 the sweep runs in the compiled core (``engine="auto"`` or
``"native"``): the batch is cut into chunks whose states stay in cache, the chunks are spread
over threads, and the backward pass recomputes each chunk's states and accumulates every
gradient in one fused pass.  Elsewhere (GPU, half precision, double backward) the torch sweep
runs.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Sequence, Union

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._checks import check_cutoff, check_fits, check_input, check_int, check_max_bond, pair
from ._plan import Plan, choose_plan
from ._sweep import apply_native, apply_sweep, group_matrix, native_available
from .decompose import decompose_weight, merge_cores, mpo_bond_spectra, tt_svd  # noqa: F401 (older import path)
from .factorize import mpo_num_params, resolve_bond_dims, resolve_modes

if TYPE_CHECKING:
    from ..mpo import MPO

__all__ = ["MPOLinear", "MPOConv2d"]

Path = Union[str, Sequence[int]]  # "auto", "sequential", "dense" or group sizes


class MPOLinear(nn.Module):
    """A fully connected layer whose weight is a matrix product operator.

    ``y = x W^T + b`` with ``W (out_features, in_features)`` given by the cores
    ``cores[k]`` of shape ``(D_{k-1}, i_k, j_k, D_k)`` (``i`` = out modes, ``j`` = in modes).

    Parameters
    ----------
    in_features, out_features : int
    in_modes, out_modes : sequences of int, optional
        Factorizations of ``in_features`` / ``out_features`` of equal length; chosen by
        :func:`tnfast.nn.factorize.choose_modes` when omitted (if only one is given, the
        other is factorized with the same length).
    bond_dim : int or sequence of n-1 ints
        Inner bond dimensions, capped at ``min(prod_{l<=k} i_l j_l, prod_{l>k} i_l j_l)``.
    bias : bool
    dtype, device : torch dtype and device of the parameters.
    path : "auto", "sequential", "dense" or a tuple of group sizes summing to n
        Contraction order; ``"auto"`` picks the cheapest per batch size.
    activation_budget : float >= 0
        Intermediate states kept for the backward pass, in units of the input's size (the
        input itself is always kept, as by :class:`torch.nn.Linear`); the other states are
        recomputed.  ``1.0`` caps the activation memory at twice that of ``nn.Linear``;
        ``float("inf")`` keeps them all (fastest, most memory).  The compiled sweep keeps
        only the input whatever the budget.
    engine : "auto", "native" or "torch"
        Who runs the sweep.  ``"native"``: the compiled core (CPU, float32/float64): the batch
        is cut into chunks whose intermediate states stay in cache, spread over
        ``torch.get_num_threads()`` threads, with a fused backward pass.  ``"torch"``: batched
        torch matrix products (any device and dtype, double backward).  ``"auto"`` (default)
        takes the compiled sweep wherever it applies.

    Input ``(..., in_features)``, output ``(..., out_features)``.
    """

    def __init__(self, in_features: int, out_features: int, in_modes: Sequence[int] | None = None,
                 out_modes: Sequence[int] | None = None, bond_dim: int | Sequence[int] = 4, bias: bool = True,
                 dtype: torch.dtype | None = None, device: torch.device | str | None = None, path: Path = "auto",
                 activation_budget: float = 1.0, engine: str = "auto") -> None:
        super().__init__()
        if engine not in ("auto", "native", "torch"):
            raise ValueError(f"engine: expected 'auto', 'native' or 'torch', got {engine!r}")
        self.engine = engine
        if isinstance(activation_budget, bool) or not isinstance(activation_budget, numbers.Real) \
                or not activation_budget >= 0:
            raise ValueError(f"activation_budget: expected a real number >= 0, got {activation_budget!r}")
        self.activation_budget = float(activation_budget)
        in_features = check_int(in_features, "in_features")
        out_features = check_int(out_features, "out_features")
        in_modes, out_modes = resolve_modes(in_features, out_features, in_modes, out_modes, "features")
        self.in_features, self.out_features = in_features, out_features
        self.in_modes, self.out_modes = in_modes, out_modes
        self.bond_dims = resolve_bond_dims(bond_dim, in_modes, out_modes)
        self.path = self._check_path(path)
        factory = {"dtype": dtype, "device": device}
        n_params = mpo_num_params(in_modes, out_modes, self.bond_dims) + (out_features if bias else 0)
        check_fits(n_params, dtype, f"MPOLinear({in_features}, {out_features}) with in_modes {in_modes}, "
                                     f"out_modes {out_modes} and bond dims {self.bond_dims}")
        ranks = self.ranks
        self.cores = nn.ParameterList([
            nn.Parameter(torch.empty(ranks[k], out_modes[k], in_modes[k], ranks[k + 1], **factory))
            for k in range(len(in_modes))])
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features, **factory))
        else:
            self.register_parameter("bias", None)
        self._plans = {}
        self.reset_parameters()

    # -- structure ---------------------------------------------------------------------------
    def _check_path(self, path: Path) -> Path:
        n = len(self.in_modes)
        if isinstance(path, str):
            if path not in ("auto", "sequential", "dense"):
                raise ValueError(f"path: expected 'auto', 'sequential', 'dense' or group sizes, got {path!r}")
            return path
        try:
            sizes = tuple(check_int(s, "path") for s in path)
        except TypeError:
            raise TypeError(f"path: expected a string or a sequence of ints, got {type(path).__name__}") from None
        if sum(sizes) != n:
            raise ValueError(f"path: group sizes {sizes} must sum to the number of cores {n}")
        return sizes

    @property
    def ranks(self) -> tuple[int, ...]:
        """``(1, D_1, ..., D_{n-1}, 1)``."""
        return (1,) + tuple(self.bond_dims) + (1,)

    @property
    def num_params(self) -> int:
        """Number of trainable parameters (cores plus bias)."""
        return mpo_num_params(self.in_modes, self.out_modes, self.bond_dims) + (
            self.out_features if self.bias is not None else 0)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, in_modes={self.in_modes}, "
                f"out_modes={self.out_modes}, bond_dims={self.bond_dims}, bias={self.bias is not None}")

    def reset_parameters(self) -> None:
        """Normal cores with the variance that gives ``Var W = 2 / (fan_in + fan_out)``.

        ``Var W = prod_k var_k * prod_k D_k`` (sum over the inner bonds of independent products),
        so every core gets ``var_k = (2 / (fan_in + fan_out) / prod D_k) ** (1 / n)``.
        The bias is uniform in ``+-1/sqrt(fan_in)`` like :class:`torch.nn.Linear`.
        """
        self._init_parameters(self.in_features, self.out_features)

    def _init_parameters(self, fan_in: int, fan_out: int) -> None:
        """Cores drawn for ``Var W = 2 / (fan_in + fan_out)``, bias uniform in ``+-1/sqrt(fan_in)``."""
        target = 2.0 / (fan_in + fan_out)
        n = len(self.cores)
        var = (target / math.prod(self.bond_dims)) ** (1.0 / n)
        with torch.no_grad():
            for c in self.cores:
                c.normal_(0.0, math.sqrt(var))
            if self.bias is not None:
                bound = 1.0 / math.sqrt(fan_in)
                self.bias.uniform_(-bound, bound)
        self._plans = {}

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # bond dimensions follow the stored cores (so truncated layers load into a fresh module)
        new = []
        for k in range(len(self.in_modes)):
            key = f"{prefix}cores.{k}"
            if key in state_dict:
                new.append(tuple(state_dict[key].shape))
        if len(new) == len(self.in_modes):
            bonds = tuple(s[3] for s in new[:-1])
            if bonds != tuple(self.bond_dims):
                for k, s in enumerate(new):
                    if tuple(self.cores[k].shape) != s:
                        self.cores[k] = nn.Parameter(torch.empty(s, dtype=self.cores[k].dtype,
                                                                 device=self.cores[k].device))
                self.bond_dims = bonds
                self._plans = {}
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _set_cores(self, cores: Sequence[torch.Tensor]) -> None:
        for k, c in enumerate(cores):
            self.cores[k] = nn.Parameter(c.detach().clone())
        self.bond_dims = tuple(int(c.shape[3]) for c in cores[:-1])
        self._plans = {}

    def set_cores(self, cores: Sequence[torch.Tensor]) -> None:
        """Replace the cores (their bond dimensions may differ from the current ones).

        Parameters
        ----------
        cores : sequence of ``n`` tensors ``(D_{k-1}, out_modes[k], in_modes[k], D_k)`` with
            ``D_0 = D_n = 1``, of the layer's dtype and device, finite.  An ``nn.Parameter`` is
            kept as it is (an optimizer holding it trains the layer); any other tensor is copied
            into a new parameter that requires gradients.

        Raises
        ------
        TypeError for a non-tensor, ValueError for a wrong count, shape, dtype, device or a NaN/Inf.
        """
        cores = _check_cores(cores, self.out_modes, self.in_modes, self.cores[0], exact=True)
        for k, c in enumerate(cores):
            self.cores[k] = c if isinstance(c, nn.Parameter) else nn.Parameter(c.detach().clone())
        self.bond_dims = tuple(int(c.shape[3]) for c in cores[:-1])
        self._plans = {}

    # -- conversion ---------------------------------------------------------------------------
    @classmethod
    def from_dense(cls, linear: nn.Linear | torch.Tensor, in_modes: Sequence[int] | None = None,
                   out_modes: Sequence[int] | None = None, max_bond: int | Sequence[int] | None = None,
                   cutoff: float | None = None, path: Path = "auto") -> MPOLinear:
        """An MPOLinear fitted to a trained :class:`torch.nn.Linear` by TT-SVD.

        Parameters
        ----------
        linear : torch.nn.Linear (or a weight tensor of shape (out, in))
        in_modes, out_modes : optional mode factorizations
        max_bond : int or sequence, optional (default: the bond caps, i.e. exact)
        cutoff : float, optional: relative Frobenius error allowed for the whole weight
            (``||W - W_mpo||_F <= cutoff ||W||_F`` when ``max_bond`` does not bind)

        Returns
        -------
        MPOLinear with the same dtype/device as the weight.
        """
        if isinstance(linear, nn.Linear):
            weight, bias = linear.weight, linear.bias
        elif isinstance(linear, torch.Tensor) and linear.ndim == 2:
            weight, bias = linear, None
        else:
            raise TypeError(f"linear: expected torch.nn.Linear or a 2-d tensor, got {type(linear).__name__}")
        check_max_bond(max_bond)
        check_cutoff(cutoff)
        if not weight.dtype.is_floating_point:
            raise TypeError(f"linear: expected a floating-point weight, got dtype {weight.dtype}")
        out_f, in_f = weight.shape
        layer = cls(in_f, out_f, in_modes=in_modes, out_modes=out_modes, bond_dim=1, bias=bias is not None,
                    dtype=weight.dtype, device=weight.device, path=path)
        cores = decompose_weight(weight, layer.in_modes, layer.out_modes, max_bond=max_bond, cutoff=cutoff)
        layer._set_cores(cores)
        if bias is not None:
            with torch.no_grad():
                layer.bias.copy_(bias.detach())
        return layer

    def to_dense(self) -> torch.Tensor:
        """The weight ``W (out_features, in_features)`` (differentiable)."""
        return merge_cores(list(self.cores)).reshape(self.out_features, self.in_features)

    def to_linear(self) -> nn.Linear:
        """A :class:`torch.nn.Linear` with the reconstructed weight and the same bias."""
        c0 = self.cores[0]
        lin = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None, dtype=c0.dtype,
                        device=c0.device)
        with torch.no_grad():
            lin.weight.copy_(self.to_dense())
            if self.bias is not None:
                lin.bias.copy_(self.bias)
        return lin

    def to_mpo(self) -> MPO:
        """The weight as a numpy :class:`tnfast.MPO` (same core convention)."""
        from ..mpo import MPO
        return MPO([c.detach().cpu().numpy() for c in self.cores])

    @classmethod
    def from_mpo(cls, mpo: MPO, bias=None, dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None, path: Path = "auto") -> MPOLinear:
        """An MPOLinear holding the cores of a :class:`tnfast.MPO` (``bias``: optional (out,) array)."""
        from ..mpo import MPO
        if not isinstance(mpo, MPO):
            raise TypeError(f"mpo: expected tnfast.MPO, got {type(mpo).__name__}")
        if np.iscomplexobj(mpo.cores[0]):
            raise TypeError("mpo: complex cores are not supported by MPOLinear")
        out_f, in_f = mpo.shape
        cores = [torch.as_tensor(np.ascontiguousarray(c), dtype=dtype, device=device) for c in mpo.cores]
        layer = cls(in_f, out_f, in_modes=mpo.col_dims, out_modes=mpo.row_dims, bond_dim=1,
                    bias=bias is not None, dtype=cores[0].dtype, device=cores[0].device, path=path)
        layer._set_cores(cores)
        if bias is not None:
            b = torch.as_tensor(np.asarray(bias), dtype=cores[0].dtype, device=cores[0].device)
            if b.shape != (out_f,):
                raise ValueError(f"bias: expected shape ({out_f},), got {tuple(b.shape)}")
            with torch.no_grad():
                layer.bias.copy_(b)
        return layer

    # -- analysis ----------------------------------------------------------------------------
    def singular_values(self) -> list[torch.Tensor]:
        """Singular values of ``W`` across each inner bond (list of n-1 float64 tensors)."""
        return mpo_bond_spectra(list(self.cores))

    def entropy(self) -> torch.Tensor:
        """Entanglement entropy ``S = -sum p ln p`` (``p = s^2 / sum s^2``) at each inner bond (float64)."""
        out = []
        for s in self.singular_values():
            p = s * s
            p = p / p.sum()
            p = p[p > 0]
            out.append(float(-(p * p.log()).sum()))
        return torch.tensor(out, dtype=torch.float64)

    # -- forward -----------------------------------------------------------------------------
    def plan(self, batch: int, input_grad: bool = True, native: bool | None = None) -> Plan:
        """The grouping used for a batch of ``batch`` rows: ``(group sizes, kept states, cost)``.

        ``native`` selects the cost model: the compiled sweep (the default where it serves the
        layer's parameters, see ``engine``) or the torch sweep.
        """
        if native is None:
            native = self._native_for(self.cores[0])
        key = (int(batch), bool(input_grad), bool(native),
               self.path if isinstance(self.path, str) else tuple(self.path))
        if key in self._plans:
            return self._plans[key]
        budget = self.activation_budget * batch * self.in_features
        best = choose_plan(self.out_modes, self.in_modes, self.ranks, self.path, batch, budget, input_grad, native)
        self._plans[key] = best
        return best

    def _native_for(self, x: torch.Tensor) -> bool:
        engine = getattr(self, "engine", "auto")
        if engine == "torch":
            return False
        ok = native_available(x)
        if engine == "native" and not ok:
            raise RuntimeError("engine='native' needs CPU float32/float64 tensors and the compiled extension; "
                               f"got {x.device.type} {x.dtype}")
        return ok

    def _contract(self, x2: torch.Tensor, sizes: tuple[int, ...] | None = None,
                  groups: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        native = self._native_for(x2) and x2.dtype == self.cores[0].dtype
        if groups is not None:
            # given cores or merged runs of cores: swept as they are (merged into one for "dense")
            groups, keep = list(groups), ()
            if sizes is not None and len(sizes) == 1:
                groups = [merge_cores(groups)]
            if len(groups) == 1:
                return F.linear(x2, groups[0].reshape(self.out_features, self.in_features))
            return self._apply_groups(x2, groups, keep, native)
        if sizes is None:
            sizes, keep, _ = self.plan(x2.shape[0], x2.requires_grad, native)
        else:
            keep = ()
        cores = list(self.cores)
        if len(sizes) == 1:
            w = merge_cores(cores).reshape(self.out_features, self.in_features)
            return F.linear(x2, w)
        groups, k = [], 0
        for s in sizes:
            groups.append(merge_cores(cores[k:k + s]))
            k += s
        return self._apply_groups(x2, groups, keep, native)

    @staticmethod
    def _apply_groups(x2, groups, keep, native):
        shapes = [tuple(int(d) for d in g.shape) for g in groups]
        mats = [group_matrix(g) for g in groups]
        if native:
            return apply_native(x2, mats, shapes)
        return apply_sweep(x2, mats, shapes, keep)

    def forward(self, x: torch.Tensor, path: Path | None = None,
                cores: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        """``y = x W^T + b``; ``path`` (group sizes, "dense" or "sequential") overrides the plan.

        ``cores``: optional tensors used in place of the layer's cores for this call (gradients
        flow into them): the ``n`` cores, or runs of consecutive cores merged as by
        :func:`tnfast.nn.merge_cores` (``(D_a, prod out modes, prod in modes, D_b)``, e.g. the
        merged pair of a two-site update), of the layer's dtype and device; they are swept one
        by one ("dense" merges them into one weight, other paths are ignored).
        """
        check_input(x, "layer", self.cores[0].dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"x: expected last dimension {self.in_features}, got shape {tuple(x.shape)}")
        if cores is not None:
            cores = _check_cores(cores, self.out_modes, self.in_modes, self.cores[0], exact=False)
        lead = x.shape[:-1]
        x2 = x.reshape(-1, self.in_features)
        sizes = None
        if path is not None:
            if path == "dense":
                sizes = (len(self.in_modes),)
            elif path == "sequential":
                sizes = (1,) * len(self.in_modes)
            else:
                sizes = self._check_path(path)
        if x2.shape[0] == 0:
            # no rows: an empty output that still depends on every core, so that backward
            # leaves zero gradients (as nn.Linear does) rather than None
            used = self.cores if cores is None else cores
            y = x2.new_zeros(0, self.out_features) + sum((c * 0).sum() for c in used)
        else:
            y = self._contract(x2, sizes, cores)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*lead, self.out_features)


class MPOConv2d(nn.Module):
    """A 2-d convolution whose kernel is a matrix product operator.

    The kernel ``K (out_channels, in_channels, kh, kw)`` is the matrix
    ``W[(i_1..i_n), (j_1..j_n, w)]`` with ``in_channels = prod j_k``, ``out_channels = prod i_k``
    and the window ``w = (kh, kw)`` on its own last core of shape ``(D_n, 1, kh*kw, 1)``.
    The forward pass either rebuilds the kernel and calls :func:`torch.nn.functional.conv2d`
    or applies the MPO to the unfolded (im2col) patches, whichever the cost model finds cheaper.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride, padding : int or (int, int)
    in_modes, out_modes : channel factorizations (optional, equal length)
    bond_dim : int or sequence of n ints (the n-th is the bond to the window core)
    bias : bool

    Input ``(B, in_channels, H, W)``, output ``(B, out_channels, H', W')``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 in_modes: Sequence[int] | None = None, out_modes: Sequence[int] | None = None,
                 bond_dim: int | Sequence[int] = 4, bias: bool = True, dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None, path: Path = "auto", engine: str = "auto") -> None:
        super().__init__()
        in_channels = check_int(in_channels, "in_channels")
        out_channels = check_int(out_channels, "out_channels")
        self.kernel_size = pair(kernel_size, "kernel_size", 1)
        self.stride = pair(stride, "stride", 1)
        self.padding = pair(padding, "padding", 0)
        self.in_channels, self.out_channels = in_channels, out_channels
        n = max(1, int(round(math.log(max(in_channels, out_channels, 2)) / math.log(6.0))))
        in_modes, out_modes = resolve_modes(in_channels, out_channels, in_modes, out_modes, "channels", n)
        kk = self.kernel_size[0] * self.kernel_size[1]
        self.channel_in_modes, self.channel_out_modes = in_modes, out_modes
        self.mpo = MPOLinear(in_channels * kk, out_channels, in_modes=in_modes + (kk,), out_modes=out_modes + (1,),
                             bond_dim=bond_dim, bias=bias, dtype=dtype, device=device, path=path, engine=engine)
        self.reset_parameters()

    @property
    def cores(self) -> nn.ParameterList:
        return self.mpo.cores

    @property
    def bias(self) -> nn.Parameter | None:
        return self.mpo.bias

    @property
    def bond_dims(self) -> tuple[int, ...]:
        return self.mpo.bond_dims

    @property
    def num_params(self) -> int:
        return self.mpo.num_params

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, in_modes={self.channel_in_modes}, out_modes={self.channel_out_modes}, "
                f"bond_dims={self.mpo.bond_dims}, bias={self.mpo.bias is not None}")

    def reset_parameters(self) -> None:
        """Cores with ``Var K = 2 / (fan_in + fan_out)``, ``fan = channels * kh * kw``."""
        kk = self.kernel_size[0] * self.kernel_size[1]
        self.mpo._init_parameters(self.in_channels * kk, self.out_channels * kk)

    def to_dense(self) -> torch.Tensor:
        """The kernel ``(out_channels, in_channels, kh, kw)`` (differentiable)."""
        return self.mpo.to_dense().reshape(self.out_channels, self.in_channels, *self.kernel_size)

    def to_conv(self) -> nn.Conv2d:
        """A :class:`torch.nn.Conv2d` with the reconstructed kernel."""
        c0 = self.mpo.cores[0]
        conv = nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size, stride=self.stride,
                         padding=self.padding, bias=self.bias is not None, dtype=c0.dtype, device=c0.device)
        with torch.no_grad():
            conv.weight.copy_(self.to_dense())
            if self.bias is not None:
                conv.bias.copy_(self.bias)
        return conv

    @classmethod
    def from_dense(cls, conv: nn.Conv2d, in_modes: Sequence[int] | None = None,
                   out_modes: Sequence[int] | None = None, max_bond: int | Sequence[int] | None = None,
                   cutoff: float | None = None, path: Path = "auto") -> MPOConv2d:
        """An MPOConv2d fitted to a trained :class:`torch.nn.Conv2d` (groups=1, dilation=1) by TT-SVD."""
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(f"conv: expected torch.nn.Conv2d, got {type(conv).__name__}")
        if conv.groups != 1 or tuple(conv.dilation) != (1, 1) or isinstance(conv.padding, str) \
                or conv.padding_mode != "zeros":
            raise ValueError("conv: only groups=1, dilation=1, numeric zero padding are supported")
        check_cutoff(cutoff)
        w = conv.weight
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride, padding=conv.padding,
                    in_modes=in_modes, out_modes=out_modes, bond_dim=1, bias=conv.bias is not None,
                    dtype=w.dtype, device=w.device, path=path)
        mb = max_bond
        cores = decompose_weight(w.reshape(conv.out_channels, -1), layer.mpo.in_modes, layer.mpo.out_modes,
                       max_bond=mb, cutoff=cutoff)
        layer.mpo._set_cores(cores)
        if conv.bias is not None:
            with torch.no_grad():
                layer.mpo.bias.copy_(conv.bias.detach())
        return layer

    def plan(self, batch_positions: int) -> Plan:
        """The plan of the MPO applied to ``batch_positions`` patches (see :meth:`MPOLinear.plan`)."""
        return self.mpo.plan(batch_positions)

    def set_cores(self, cores: Sequence[torch.Tensor]) -> None:
        """Replace the cores of the kernel's MPO (the last one holds the window); see
        :meth:`MPOLinear.set_cores`."""
        self.mpo.set_cores(cores)

    def forward(self, x: torch.Tensor, path: Path | None = None,
                cores: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        """The convolution of ``x (B, in_channels, H, W)``; ``path`` overrides the plan as in :class:`MPOLinear`;
        ``cores`` (cores or merged runs of cores, as in :meth:`MPOLinear.forward`) replace the layer's for
        this call."""
        check_input(x, "layer", self.mpo.cores[0].dtype)
        if cores is not None:
            cores = _check_cores(cores, self.mpo.out_modes, self.mpo.in_modes, self.mpo.cores[0], exact=False)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x: expected shape (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        b, _, h, w = x.shape
        kh, kw = self.kernel_size
        ho = (h + 2 * self.padding[0] - kh) // self.stride[0] + 1
        wo = (w + 2 * self.padding[1] - kw) // self.stride[1] + 1
        if h < 1 or w < 1:
            raise ValueError(f"x: expected an image of at least 1x1 pixels, got shape {tuple(x.shape)}")
        if ho < 1 or wo < 1:
            raise ValueError(f"x: the input of {h}x{w} pixels (padding {self.padding}) is smaller than the kernel "
                             f"{self.kernel_size}")
        rows = b * ho * wo
        n = len(self.mpo.in_modes)
        if rows == 0:
            path = "dense"  # an empty batch: the kernel route gives the empty output (and zero gradients)
        if path is None:
            sizes = self.mpo.plan(rows, x.requires_grad)[0]
        elif path == "dense":
            sizes = (n,)
        elif path == "sequential":
            sizes = (1,) * n
        else:
            sizes = self.mpo._check_path(path)
        if len(sizes) == 1:
            kernel = self.to_dense() if cores is None else \
                merge_cores(cores).reshape(self.out_channels, self.in_channels, *self.kernel_size)
            return F.conv2d(x, kernel, self.bias, stride=self.stride, padding=self.padding)
        cols = F.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)  # (B, C kk, L)
        cols = cols.transpose(1, 2).reshape(rows, -1)
        y = self.mpo(cols, path=sizes, cores=cores)
        return y.reshape(b, ho * wo, self.out_channels).transpose(1, 2).reshape(b, self.out_channels, ho, wo)


def _check_cores(cores, out_modes, in_modes, like: torch.Tensor, exact: bool) -> list[torch.Tensor]:
    """Checked cores for an MPO of ``out_modes``/``in_modes``: a list of 4-d finite tensors of
    ``like``'s dtype and device whose bonds chain from 1 to 1; ``exact``: one core per mode pair,
    else each tensor may be a merged run of consecutive cores (matched by its mode products)."""
    if isinstance(cores, torch.Tensor) or not isinstance(cores, (list, tuple, nn.ParameterList)):
        raise TypeError(f"cores: expected a sequence of tensors, got {type(cores).__name__}")
    cores = list(cores)
    n = len(out_modes)
    if exact and len(cores) != n:
        raise ValueError(f"cores: expected {n} cores, got {len(cores)}")
    if not 1 <= len(cores) <= n:
        raise ValueError(f"cores: expected 1 to {n} tensors (cores or merged runs of cores), got {len(cores)}")
    k, prev = 0, 1
    for t, c in enumerate(cores):
        name = f"cores[{t}]"
        if not isinstance(c, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(c).__name__}")
        if c.dtype != like.dtype:
            raise ValueError(f"{name}: expected dtype {like.dtype} (the layer's), got {c.dtype}")
        if c.device != like.device:
            raise ValueError(f"{name}: expected device {like.device} (the layer's), got {c.device}")
        if c.ndim != 4:
            raise ValueError(f"{name}: expected a 4-d tensor (D_left, out mode, in mode, D_right), got shape "
                             f"{tuple(c.shape)}")
        if c.shape[0] != prev:
            raise ValueError(f"{name}: expected left bond {prev}, got shape {tuple(c.shape)}")
        if k >= n:
            raise ValueError(f"cores: more modes than the layer's out_modes {tuple(out_modes)} and in_modes "
                             f"{tuple(in_modes)}")
        # the run of cores this tensor covers: the shortest whose mode products match
        oi, ij, e = out_modes[k], in_modes[k], k + 1
        while not exact and (oi, ij) != (c.shape[1], c.shape[2]) and e < n and oi <= c.shape[1] \
                and ij <= c.shape[2]:
            oi, ij, e = oi * out_modes[e], ij * in_modes[e], e + 1
        if (oi, ij) != (c.shape[1], c.shape[2]):
            want = f"({out_modes[k]}, {in_modes[k]})" if exact else f"products of consecutive modes from core {k}"
            raise ValueError(f"{name}: expected modes {want}, got shape {tuple(c.shape)}")
        if c.shape[3] < 1:
            raise ValueError(f"{name}: expected a right bond >= 1, got shape {tuple(c.shape)}")
        if not bool(torch.isfinite(c.detach()).all()):
            raise ValueError(f"{name}: holds NaN or Inf")
        k, prev = e, int(c.shape[3])
    if k != n:
        raise ValueError(f"cores: cover {k} of the layer's {n} cores")
    if prev != 1:
        raise ValueError(f"cores[{len(cores) - 1}]: expected right bond 1, got {prev}")
    return cores
