"""The contraction plan of the MPO layers: which cores to merge into groups, per batch size.

The sweep (:mod:`tnfast.nn._sweep`) runs through contiguous groups of merged cores; one group
is the dense path (the weight rebuilt, then one matrix product), one group per core the plain
core-by-core sweep.  :func:`choose_plan` tries the groupings and keeps the one whose forward plus
backward pass costs the fewest flop equivalents: :func:`plan_cost` for the torch sweep (matrix
products, memory traffic, call overheads and the states kept within a memory budget),
:func:`native_plan_cost` for the compiled sweep.
"""

from __future__ import annotations

import itertools
import math
from typing import Iterator, Sequence

__all__ = ["choose_plan", "plan_cost", "native_plan_cost", "partitions", "group_shapes", "merge_costs"]

Plan = tuple[tuple[int, ...], tuple[int, ...], float]  # (group sizes, kept states, cost)

# cost-model constants, in flop equivalents (measured on a 2-thread x86 CPU)
_GEMM_OVERHEAD = 2.0e5       # fixed cost of one (batched) matmul call
_BATCH_OVERHEAD = 2.0e3      # per matrix of a batched matmul
_COPY_COST = 4.0             # per element read/written (memory traffic)
_SMALL_K_PENALTY = 8         # GEMMs with an inner/outer size below this run at reduced efficiency

Modes = Sequence[int]


def merge_costs(out_modes: Modes, in_modes: Modes, ranks: Modes, sizes: Modes) -> tuple[float, float, int]:
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


def native_plan_cost(out_modes: Modes, in_modes: Modes, ranks: Modes, sizes: Modes, batch: int,
                     input_grad: bool = True) -> float:
    """Flop count of forward + backward of the compiled sweep for a grouping.

    The compiled sweep recomputes every state but the output in backward, accumulates the
    gradient of every group matrix and (if asked) the input gradient.  One group is the dense
    path (``F.linear`` on the rebuilt weight); measured on a 2-core x86-64 CPU, its library GEMM
    and the sweep's kernels run at about the same rate per flop.
    """
    shapes = group_shapes(out_modes, in_modes, ranks, sizes)
    n_out, n_in = math.prod(out_modes), math.prod(in_modes)
    merge, _, _ = merge_costs(out_modes, in_modes, ranks, sizes)
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


def partitions(n: int) -> Iterator[tuple[int, ...]]:
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


def group_shapes(out_modes: Modes, in_modes: Modes, ranks: Modes,
                 sizes: Modes) -> list[tuple[int, int, int, int]]:
    """``(D_a, prod i, prod j, D_b)`` of each group of merged cores."""
    shapes, k = [], 0
    for s in sizes:
        shapes.append((ranks[k], math.prod(out_modes[k:k + s]), math.prod(in_modes[k:k + s]), ranks[k + s]))
        k += s
    return shapes


def plan_cost(out_modes: Modes, in_modes: Modes, ranks: Modes, sizes: Modes, batch: int, budget: float,
              input_grad: bool = True) -> tuple[float, tuple[int, ...], list]:
    """Cost (flop equivalents) of forward + backward for a grouping; also the states to keep."""
    shapes = group_shapes(out_modes, in_modes, ranks, sizes)
    n_out, n_in = math.prod(out_modes), math.prod(in_modes)
    # merging cost (forward and its backward ~ 3x)
    flops, written, products = merge_costs(out_modes, in_modes, ranks, sizes)
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


def choose_plan(out_modes: Modes, in_modes: Modes, ranks: Modes, path, batch: int,
                budget: float, input_grad: bool = True, native: bool = True) -> Plan:
    """The cheapest grouping for a batch of ``batch`` rows: ``(group sizes, kept states, cost)``.

    ``path`` is "auto" (every grouping is tried), "dense", "sequential" or a tuple of group
    sizes; ``budget`` is the number of state entries the torch sweep may keep for the backward
    pass; ``native`` selects the cost model (compiled sweep or torch sweep).
    """
    n = len(in_modes)
    if path == "dense":
        cands = [(n,)]
    elif path == "sequential":
        cands = [(1,) * n]
    elif path == "auto":
        cands = list(partitions(n))
    else:
        cands = [path]
    best = None
    for sizes in cands:
        if native:
            cost, keep = native_plan_cost(out_modes, in_modes, ranks, sizes, batch, input_grad), ()
        else:
            cost, keep, _ = plan_cost(out_modes, in_modes, ranks, sizes, batch, budget, input_grad)
        if best is None or cost < best[2]:
            best = (sizes, keep, cost)
    return best
