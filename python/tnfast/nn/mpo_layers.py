"""Matrix product operator (MPO) layers: :class:`MPOLinear` and :class:`MPOConv2d`.

Convention (the same as :class:`tnfast.MPO`): core ``k`` has shape ``(D_{k-1}, i_k, j_k, D_k)``
with ``i_k`` an *output* mode and ``j_k`` an *input* mode, ``D_0 = D_n = 1``.  The cores
represent the weight ``W[(i_1..i_n), (j_1..j_n)]`` of shape ``(out_features, in_features)``
with C-ordered multi-indices (``i_1`` slowest), and the layer computes ``y = x W^T + b``
like :class:`torch.nn.Linear`.

Forward.  The cores are split into contiguous *groups*; the cores of a group are merged
(a cheap operation on parameter-sized tensors) and the input is swept through the groups
one by one, each step being one matrix product ``(rows, D_a j_g) @ (D_a j_g, i_g D_b)`` and
one transpose.  A single group is the dense path (``W`` rebuilt, then ``x @ W^T``); one
group per core is the plain core-by-core sweep.  The grouping is chosen per batch size
from FLOP and memory-traffic counts (see :meth:`MPOLinear.plan`).  The sweep is a custom
autograd function that keeps only the input (and the merged cores) for the backward pass
and recomputes the intermediate states there, so its activation memory stays that of
:class:`torch.nn.Linear`; states that fit into one extra input-sized budget are kept
instead of recomputed.

On CPU tensors of float32/float64 the sweep runs in the compiled core (``engine="auto"`` or
``"native"``): the batch is cut into chunks whose states stay in cache, the chunks are spread
over threads, and the backward pass recomputes each chunk's states and accumulates every
gradient in one fused pass.  Elsewhere (GPU, half precision, double backward) the torch sweep
runs.
"""

from __future__ import annotations

import itertools
import math
import numbers
import os

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .factorize import bond_caps, check_modes, choose_modes, mpo_num_params, resolve_bond_dims

__all__ = ["MPOLinear", "MPOConv2d", "tt_svd", "merge_cores", "mpo_bond_spectra"]

# cost-model constants, in flop equivalents (measured on a 2-thread x86 CPU)
_GEMM_OVERHEAD = 2.0e5       # fixed cost of one (batched) matmul call
_BATCH_OVERHEAD = 2.0e3      # per matrix of a batched matmul
_COPY_COST = 4.0             # per element read/written (memory traffic)
_GRAM_MIN = 1 << 22          # TT-SVD splits larger than this use the memory-lean Gram route
_SMALL_K_PENALTY = 8         # GEMMs with an inner/outer size below this run at reduced efficiency


# ----------------------------------------------------------------------------------------------
# helpers on lists of cores
# ----------------------------------------------------------------------------------------------

def merge_cores(cores):
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


def _group_matrix(core):
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


def _apply_sweep(x2, mats, shapes, saved_states):
    return _MPOSweep.apply(x2, tuple(shapes), tuple(saved_states), *mats)


def _native_core():
    try:
        from .. import _core
    except ImportError:  # pragma: no cover - the extension is part of the package
        return None
    return _core if hasattr(_core, "mpo_sweep_forward_f32") else None


_NATIVE_SUFFIX = {torch.float32: "f32", torch.float64: "f64"}


def native_available(x):
    """Whether the compiled sweep serves a tensor like ``x`` (CPU, float32 or float64)."""
    return x.device.type == "cpu" and x.dtype in _NATIVE_SUFFIX and _native_core() is not None


class _MPOSweepNative(torch.autograd.Function):
    """The group sweep in the compiled core: batch chunks that stay in cache, spread over threads.

    Only the input and the group matrices are kept for the backward pass, which recomputes the
    states chunk by chunk, so the activation memory is that of :class:`torch.nn.Linear`.
    """

    @staticmethod
    def forward(ctx, x2, shapes, threads, *mats):
        core = _native_core()
        sfx = _NATIVE_SUFFIX[x2.dtype]
        xn = x2.detach().contiguous()
        mn = [m.detach().contiguous() for m in mats]
        y = getattr(core, "mpo_sweep_forward_" + sfx)(xn.numpy(), [m.numpy() for m in mn], shapes, threads)
        ctx.save_for_backward(xn, *mn)
        ctx.shapes, ctx.threads, ctx.sfx = shapes, threads, sfx
        return torch.from_numpy(y)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gy):
        xn, *mn = ctx.saved_tensors
        need_dx = bool(ctx.needs_input_grad[0])
        dx, dm = getattr(_native_core(), "mpo_sweep_backward_" + ctx.sfx)(
            xn.numpy(), [m.numpy() for m in mn], ctx.shapes, gy.contiguous().numpy(), need_dx, ctx.threads)
        dx = torch.from_numpy(dx) if dx is not None else None
        return (dx, None, None, *[torch.from_numpy(d) for d in dm])


def _apply_native(x2, mats, shapes):
    return _MPOSweepNative.apply(x2, tuple(shapes), int(torch.get_num_threads()), *mats)


def _merge_costs(out_modes, in_modes, ranks, sizes):
    """Merging the cores of each group: ``(flops, elements written, number of products)``."""
    flops = written = 0.0
    products = 0
    k = 0
    for s in sizes:
        da, acc_i, acc_j = ranks[k], out_modes[k], in_modes[k]
        for t in range(k + 1, k + s):
            flops += 2.0 * da * acc_i * acc_j * ranks[t] * out_modes[t] * in_modes[t] * ranks[t + 1]
            written += da * acc_i * acc_j * out_modes[t] * in_modes[t] * ranks[t + 1]
            acc_i *= out_modes[t]
            acc_j *= in_modes[t]
            products += 1
        k += s
    return flops, written, products


def _native_plan_cost(out_modes, in_modes, ranks, sizes, batch, input_grad=True):
    """Flop count of forward + backward of the compiled sweep for a grouping.

    The compiled sweep recomputes every state but the output in backward, accumulates the
    gradient of every group matrix and (if asked) the input gradient.  One group is the dense
    path (``F.linear`` on the rebuilt weight); measured on a 2-core x86-64 CPU, its library GEMM
    and the sweep's kernels run at about the same rate per flop.
    """
    shapes = _group_shapes(out_modes, in_modes, ranks, sizes)
    n_out, n_in = math.prod(out_modes), math.prod(in_modes)
    merge, _, _ = _merge_costs(out_modes, in_modes, ranks, sizes)
    if len(shapes) == 1:
        return 3.0 * merge + (3.0 if input_grad else 2.0) * 2.0 * batch * n_in * n_out
    steps = []
    a, jr = 1, n_in
    for (da, ig, jg, db) in shapes:
        jr //= jg
        steps.append(2.0 * batch * a * (ig * db) * (da * jg) * jr)
        a *= ig
    fwd = sum(steps)
    total = fwd + (fwd - steps[-1]) + fwd + (fwd if input_grad else fwd - steps[0])
    return total + 3.0 * merge


# ----------------------------------------------------------------------------------------------
# cost model and plan
# ----------------------------------------------------------------------------------------------

def _partitions(n):
    """All ways to split ``range(n)`` into contiguous groups, as tuples of group sizes."""
    for cuts in itertools.product((False, True), repeat=n - 1):
        sizes, cur = [], 1
        for c in cuts:
            if c:
                sizes.append(cur)
                cur = 1
            else:
                cur += 1
        sizes.append(cur)
        yield tuple(sizes)


def _group_shapes(out_modes, in_modes, ranks, sizes):
    shapes, k = [], 0
    for s in sizes:
        shapes.append((ranks[k], math.prod(out_modes[k:k + s]), math.prod(in_modes[k:k + s]), ranks[k + s]))
        k += s
    return shapes


def _plan_cost(out_modes, in_modes, ranks, sizes, batch, budget, input_grad=True):
    """Cost (flop equivalents) of forward + backward for a grouping; also the states to keep."""
    shapes = _group_shapes(out_modes, in_modes, ranks, sizes)
    n_out, n_in = math.prod(out_modes), math.prod(in_modes)
    # merging cost (forward and its backward ~ 3x)
    flops, written, products = _merge_costs(out_modes, in_modes, ranks, sizes)
    merge = flops + _COPY_COST * written + _GEMM_OVERHEAD * products
    step_cost, state_size = [], []
    done_i = 1
    rem_j = n_in
    for (da, ig, jg, db) in shapes:
        rem_j //= jg
        rows = batch * done_i * rem_j
        kdim, ndim = da * jg, ig * db
        small = min(kdim, ndim)
        eff = 1.0 if small >= _SMALL_K_PENALTY else _SMALL_K_PENALTY / max(small, 2)
        flops = 2.0 * rows * kdim * ndim * eff
        state_size.append(rows * kdim)
        step_cost.append(flops + _COPY_COST * rows * max(ndim, kdim) + _GEMM_OVERHEAD + _BATCH_OVERHEAD * done_i)
        done_i *= ig
    m = len(shapes)
    fwd = sum(step_cost)
    # which states to keep within the budget (state 0 is x itself): greedy by saved cost / size
    keep, used = [], 0
    cands = sorted(range(1, m), key=lambda g: -step_cost[g - 1] / max(state_size[g], 1))
    for g in cands:
        if used + state_size[g] <= budget:
            keep.append(g)
            used += state_size[g]
    recompute = sum(step_cost[g - 1] for g in range(1, m) if g not in keep)
    grads = sum(step_cost)
    back_in = sum(step_cost[1:]) + (step_cost[0] if input_grad else 0.0)
    transposes = 3.0 * _COPY_COST * batch * (n_in + n_out) if m > 1 else 0.0
    total = fwd + recompute + grads + back_in + 3.0 * merge + transposes
    del n_out
    return total, tuple(sorted(keep)), shapes


# ----------------------------------------------------------------------------------------------
# TT-SVD and spectra
# ----------------------------------------------------------------------------------------------

def _left_factor(m, max_rank, budget):
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
        k = _truncation_rank(s, max_rank, budget)
        u = evecs[:, :k].to(m.dtype)
        rest = u.t() @ m
        return u, rest, s.to(m.dtype)
    u, s, vh = torch.linalg.svd(m, full_matrices=False)
    k = _truncation_rank(s.to(torch.float64), max_rank, budget)
    return u[:, :k], s[:k, None] * vh[:k], s


def _truncation_rank(s, max_rank, budget):
    """Fewest singular values (descending ``s``) whose cut squared weight is at most ``budget``
    (absolute; None or 0: no tolerance), and at most ``max_rank``; at least one."""
    k = int(s.numel())
    if budget is not None and budget > 0 and k > 0:
        # smallest k with  sum_{l>=k} s_l^2 <= budget
        tail = torch.flip(torch.cumsum(torch.flip(s.to(torch.float64) ** 2, [0]), 0), [0])
        ok = (tail <= budget).nonzero()
        k = int(ok[0]) if ok.numel() else k
        k = max(k, 1)
    if max_rank is not None:
        k = min(k, int(max_rank))
    return max(k, 1)


def tt_svd(weight, in_modes, out_modes, max_bond=None, cutoff=None):
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
        are orthogonal, so their sum is the squared error).

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
    return cores


def mpo_bond_spectra(cores):
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


# ----------------------------------------------------------------------------------------------
# layers
# ----------------------------------------------------------------------------------------------

def _check_fits(n_params, dtype, what):
    """MemoryError before allocating parameters that cannot fit in this machine's memory."""
    itemsize = torch.empty((), dtype=dtype).element_size()
    try:
        avail = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        avail = 1 << 50
    if n_params * itemsize > avail:
        raise MemoryError(f"{what} would have {n_params:.3g} parameters ({n_params * itemsize / 2 ** 30:.3g} GiB), "
                          f"more than the {avail / 2 ** 30:.3g} GiB of memory of this machine; choose other "
                          f"in_modes/out_modes (a large prime size cannot be split into small modes)")


def _check_input(x, layer, dtype):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor, got {type(x).__module__}.{type(x).__name__}"
                        + (" (convert it with torch.from_numpy)" if isinstance(x, np.ndarray) else ""))
    if x.dtype != dtype:
        raise TypeError(f"x: dtype {x.dtype} differs from the {layer}'s parameters ({dtype}); convert the input "
                        f"with x.to({dtype}) or the layer with .to({x.dtype})")


def _check_cutoff(cutoff):
    if cutoff is not None and (isinstance(cutoff, bool) or not isinstance(cutoff, numbers.Real)
                               or not 0 <= cutoff < math.inf):
        raise ValueError(f"cutoff: expected a finite real number >= 0, got {cutoff!r}")


def _check_int(x, name, minimum=1):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name}: expected an integer, got {type(x).__name__}")
    if int(x) < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {x}")
    return int(x)


def _resolve_modes(n_in, n_out, in_modes, out_modes, what, default_len=None):
    """Factorizations of ``n_in``/``n_out`` (``what``: "features" or "channels") of equal length.

    Missing ones are chosen by :func:`choose_modes` (with the length of the given one, or
    ``default_len`` when neither is given); given ones are checked.
    """
    in_name, out_name = f"in_{what}", f"out_{what}"
    if in_modes is None and out_modes is None:
        if default_len is None:
            in_modes, out_modes = choose_modes(n_in, n_out)
        else:
            in_modes, out_modes = choose_modes(n_in, n_out, default_len)
    elif in_modes is None:
        out_modes = check_modes(out_modes, n_out, "out_modes", out_name)
        in_modes = choose_modes(n_in, n_out, len(out_modes))[0]
    elif out_modes is None:
        in_modes = check_modes(in_modes, n_in, "in_modes", in_name)
        out_modes = choose_modes(n_in, n_out, len(in_modes))[1]
    in_modes = check_modes(in_modes, n_in, "in_modes", in_name)
    out_modes = check_modes(out_modes, n_out, "out_modes", out_name)
    if len(in_modes) != len(out_modes):
        raise ValueError(f"in_modes/out_modes: expected the same length, got {len(in_modes)} and "
                         f"{len(out_modes)} (pad the shorter with 1s)")
    return in_modes, out_modes


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

    def __init__(self, in_features, out_features, in_modes=None, out_modes=None, bond_dim=4, bias=True,
                 dtype=None, device=None, path="auto", activation_budget=1.0, engine="auto"):
        super().__init__()
        if engine not in ("auto", "native", "torch"):
            raise ValueError(f"engine: expected 'auto', 'native' or 'torch', got {engine!r}")
        self.engine = engine
        if isinstance(activation_budget, bool) or not isinstance(activation_budget, numbers.Real) \
                or not activation_budget >= 0:
            raise ValueError(f"activation_budget: expected a real number >= 0, got {activation_budget!r}")
        self.activation_budget = float(activation_budget)
        in_features = _check_int(in_features, "in_features")
        out_features = _check_int(out_features, "out_features")
        in_modes, out_modes = _resolve_modes(in_features, out_features, in_modes, out_modes, "features")
        self.in_features, self.out_features = in_features, out_features
        self.in_modes, self.out_modes = in_modes, out_modes
        self.bond_dims = resolve_bond_dims(bond_dim, in_modes, out_modes)
        self.path = self._check_path(path)
        factory = {"dtype": dtype, "device": device}
        n_params = mpo_num_params(in_modes, out_modes, self.bond_dims) + (out_features if bias else 0)
        _check_fits(n_params, dtype, f"MPOLinear({in_features}, {out_features}) with in_modes {in_modes}, "
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
    def _check_path(self, path):
        n = len(self.in_modes)
        if isinstance(path, str):
            if path not in ("auto", "sequential", "dense"):
                raise ValueError(f"path: expected 'auto', 'sequential', 'dense' or group sizes, got {path!r}")
            return path
        try:
            sizes = tuple(_check_int(s, "path") for s in path)
        except TypeError:
            raise TypeError(f"path: expected a string or a sequence of ints, got {type(path).__name__}") from None
        if sum(sizes) != n:
            raise ValueError(f"path: group sizes {sizes} must sum to the number of cores {n}")
        return sizes

    @property
    def ranks(self):
        """``(1, D_1, ..., D_{n-1}, 1)``."""
        return (1,) + tuple(self.bond_dims) + (1,)

    @property
    def num_params(self):
        """Number of trainable parameters (cores plus bias)."""
        return mpo_num_params(self.in_modes, self.out_modes, self.bond_dims) + (
            self.out_features if self.bias is not None else 0)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, in_modes={self.in_modes}, "
                f"out_modes={self.out_modes}, bond_dims={self.bond_dims}, bias={self.bias is not None}")

    def reset_parameters(self):
        """Normal cores with the variance that gives ``Var W = 2 / (fan_in + fan_out)``.

        ``Var W = prod_k var_k * prod_k D_k`` (sum over the inner bonds of independent products),
        so every core gets ``var_k = (2 / (fan_in + fan_out) / prod D_k) ** (1 / n)``.
        The bias is uniform in ``+-1/sqrt(fan_in)`` like :class:`torch.nn.Linear`.
        """
        target = 2.0 / (self.in_features + self.out_features)
        n = len(self.cores)
        var = (target / math.prod(self.bond_dims)) ** (1.0 / n)
        with torch.no_grad():
            for c in self.cores:
                c.normal_(0.0, math.sqrt(var))
            if self.bias is not None:
                bound = 1.0 / math.sqrt(self.in_features)
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

    def _set_cores(self, cores):
        for k, c in enumerate(cores):
            self.cores[k] = nn.Parameter(c.detach().clone())
        self.bond_dims = tuple(int(c.shape[3]) for c in cores[:-1])
        self._plans = {}

    # -- conversion ---------------------------------------------------------------------------
    @classmethod
    def from_dense(cls, linear, in_modes=None, out_modes=None, max_bond=None, cutoff=None, path="auto"):
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
        if max_bond is not None and not isinstance(max_bond, (numbers.Integral, list, tuple)):
            raise TypeError(f"max_bond: expected an int or a sequence of ints, got {type(max_bond).__name__}")
        _check_cutoff(cutoff)
        if not weight.dtype.is_floating_point:
            raise TypeError(f"linear: expected a floating-point weight, got dtype {weight.dtype}")
        out_f, in_f = weight.shape
        layer = cls(in_f, out_f, in_modes=in_modes, out_modes=out_modes, bond_dim=1, bias=bias is not None,
                    dtype=weight.dtype, device=weight.device, path=path)
        cores = tt_svd(weight, layer.in_modes, layer.out_modes, max_bond=max_bond, cutoff=cutoff)
        layer._set_cores(cores)
        if bias is not None:
            with torch.no_grad():
                layer.bias.copy_(bias.detach())
        return layer

    def to_dense(self):
        """The weight ``W (out_features, in_features)`` (differentiable)."""
        return merge_cores(list(self.cores)).reshape(self.out_features, self.in_features)

    def to_linear(self):
        """A :class:`torch.nn.Linear` with the reconstructed weight and the same bias."""
        c0 = self.cores[0]
        lin = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None, dtype=c0.dtype,
                        device=c0.device)
        with torch.no_grad():
            lin.weight.copy_(self.to_dense())
            if self.bias is not None:
                lin.bias.copy_(self.bias)
        return lin

    def to_mpo(self):
        """The weight as a numpy :class:`tnfast.MPO` (same core convention)."""
        from ..mpo import MPO
        return MPO([c.detach().cpu().numpy() for c in self.cores])

    @classmethod
    def from_mpo(cls, mpo, bias=None, dtype=None, device=None, path="auto"):
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
    def singular_values(self):
        """Singular values of ``W`` across each inner bond (list of n-1 float64 tensors)."""
        return mpo_bond_spectra(list(self.cores))

    def entropy(self):
        """Entanglement entropy ``S = -sum p ln p`` (``p = s^2 / sum s^2``) at each inner bond (float64)."""
        out = []
        for s in self.singular_values():
            p = s * s
            p = p / p.sum()
            p = p[p > 0]
            out.append(float(-(p * p.log()).sum()))
        return torch.tensor(out, dtype=torch.float64)

    # -- forward -----------------------------------------------------------------------------
    def plan(self, batch, input_grad=True, native=None):
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
        n = len(self.in_modes)
        budget = self.activation_budget * batch * self.in_features
        if self.path == "dense":
            cands = [(n,)]
        elif self.path == "sequential":
            cands = [(1,) * n]
        elif self.path == "auto":
            cands = list(_partitions(n))
        else:
            cands = [self.path]
        best = None
        for sizes in cands:
            if native:
                cost, keep = _native_plan_cost(self.out_modes, self.in_modes, self.ranks, sizes, batch,
                                               input_grad), ()
            else:
                cost, keep, _ = _plan_cost(self.out_modes, self.in_modes, self.ranks, sizes, batch, budget,
                                           input_grad)
            if best is None or cost < best[2]:
                best = (sizes, keep, cost)
        self._plans[key] = best
        return best

    def _native_for(self, x):
        engine = getattr(self, "engine", "auto")
        if engine == "torch":
            return False
        ok = native_available(x)
        if engine == "native" and not ok:
            raise RuntimeError("engine='native' needs CPU float32/float64 tensors and the compiled extension; "
                               f"got {x.device.type} {x.dtype}")
        return ok

    def _contract(self, x2, sizes=None):
        native = self._native_for(x2) and x2.dtype == self.cores[0].dtype
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
        shapes = [tuple(int(d) for d in g.shape) for g in groups]
        mats = [_group_matrix(g) for g in groups]
        if native:
            return _apply_native(x2, mats, shapes)
        return _apply_sweep(x2, mats, shapes, keep)

    def forward(self, x, path=None):
        """``y = x W^T + b``; ``path`` (group sizes, "dense" or "sequential") overrides the plan."""
        _check_input(x, "layer", self.cores[0].dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"x: expected last dimension {self.in_features}, got shape {tuple(x.shape)}")
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
            y = x2.new_zeros(0, self.out_features) + sum((c * 0).sum() for c in self.cores)
        else:
            y = self._contract(x2, sizes)
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

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, in_modes=None, out_modes=None,
                 bond_dim=4, bias=True, dtype=None, device=None, path="auto", engine="auto"):
        super().__init__()
        in_channels = _check_int(in_channels, "in_channels")
        out_channels = _check_int(out_channels, "out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)
        self.in_channels, self.out_channels = in_channels, out_channels
        n = max(1, int(round(math.log(max(in_channels, out_channels, 2)) / math.log(6.0))))
        in_modes, out_modes = _resolve_modes(in_channels, out_channels, in_modes, out_modes, "channels", n)
        kk = self.kernel_size[0] * self.kernel_size[1]
        self.channel_in_modes, self.channel_out_modes = in_modes, out_modes
        self.mpo = MPOLinear(in_channels * kk, out_channels, in_modes=in_modes + (kk,), out_modes=out_modes + (1,),
                             bond_dim=bond_dim, bias=bias, dtype=dtype, device=device, path=path, engine=engine)
        self.reset_parameters()

    @property
    def cores(self):
        return self.mpo.cores

    @property
    def bias(self):
        return self.mpo.bias

    @property
    def bond_dims(self):
        return self.mpo.bond_dims

    @property
    def num_params(self):
        return self.mpo.num_params

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, in_modes={self.channel_in_modes}, out_modes={self.channel_out_modes}, "
                f"bond_dims={self.mpo.bond_dims}, bias={self.mpo.bias is not None}")

    def reset_parameters(self):
        """Cores with ``Var K = 2 / (fan_in + fan_out)``, ``fan = channels * kh * kw``."""
        kk = self.kernel_size[0] * self.kernel_size[1]
        target = 2.0 / (self.in_channels * kk + self.out_channels * kk)
        mpo = self.mpo
        n = len(mpo.cores)
        var = (target / math.prod(mpo.bond_dims)) ** (1.0 / n)
        with torch.no_grad():
            for c in mpo.cores:
                c.normal_(0.0, math.sqrt(var))
            if mpo.bias is not None:
                bound = 1.0 / math.sqrt(self.in_channels * kk)
                mpo.bias.uniform_(-bound, bound)
        mpo._plans = {}

    def to_dense(self):
        """The kernel ``(out_channels, in_channels, kh, kw)`` (differentiable)."""
        return self.mpo.to_dense().reshape(self.out_channels, self.in_channels, *self.kernel_size)

    def to_conv(self):
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
    def from_dense(cls, conv, in_modes=None, out_modes=None, max_bond=None, cutoff=None, path="auto"):
        """An MPOConv2d fitted to a trained :class:`torch.nn.Conv2d` (groups=1, dilation=1) by TT-SVD."""
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(f"conv: expected torch.nn.Conv2d, got {type(conv).__name__}")
        if conv.groups != 1 or tuple(conv.dilation) != (1, 1) or isinstance(conv.padding, str) \
                or conv.padding_mode != "zeros":
            raise ValueError("conv: only groups=1, dilation=1, numeric zero padding are supported")
        _check_cutoff(cutoff)
        w = conv.weight
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride, padding=conv.padding,
                    in_modes=in_modes, out_modes=out_modes, bond_dim=1, bias=conv.bias is not None,
                    dtype=w.dtype, device=w.device, path=path)
        mb = max_bond
        cores = tt_svd(w.reshape(conv.out_channels, -1), layer.mpo.in_modes, layer.mpo.out_modes,
                       max_bond=mb, cutoff=cutoff)
        layer.mpo._set_cores(cores)
        if conv.bias is not None:
            with torch.no_grad():
                layer.mpo.bias.copy_(conv.bias.detach())
        return layer

    def plan(self, batch_positions):
        return self.mpo.plan(batch_positions)

    def forward(self, x, path=None):
        _check_input(x, "layer", self.mpo.cores[0].dtype)
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
            return F.conv2d(x, self.to_dense(), self.bias, stride=self.stride, padding=self.padding)
        cols = F.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)  # (B, C kk, L)
        cols = cols.transpose(1, 2).reshape(rows, -1)
        y = self.mpo(cols, path=sizes)
        return y.reshape(b, ho * wo, self.out_channels).transpose(1, 2).reshape(b, self.out_channels, ho, wo)


def _pair(v, name, minimum):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{name}: expected an int or a pair, got {v!r}")
        return (_check_int(v[0], name, minimum), _check_int(v[1], name, minimum))
    x = _check_int(v, name, minimum)
    return (x, x)
