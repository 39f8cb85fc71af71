"""Tensor cross interpolation: a tensor train from a black-box function of a multi-index.

``tt_cross`` samples ``f`` only on a few fibres chosen by cross interpolation:

* ``method="tci2"`` (default): 2-site tensor cross interpolation (TCI) with a partial
  rank-revealing LU (prrLU) of each 2-site matrix; ranks adapt to ``rel_tol``.  Pivots are
  searched over the whole 2-site matrix (``pivot_search="full"``), by alternating
  row/column searches that only evaluate the rows and columns visited
  (``pivot_search="rook"``), or by the first for small matrices and the second for large
  ones (``"auto"``, the default).  The run stops only once the train matches ``f`` on a
  random sample that grows with the evaluations made, and reports the error it measured
  there (``CrossInfo.error_estimate``).  Optional global pivots add points of large error
  found by a greedy search after each sweep.
* ``method="maxvol1"``: 1-site TT-cross at a fixed rank with QR + maxvol on each unfolding.

The function is called once per batch of multi-indices (never per point) and each distinct
multi-index at most once (a cache, unless ``cache=False``).  All the linear algebra and the
pivot bookkeeping run in C++.

References: I. Oseledets, E. Tyrtyshnikov, Linear Algebra Appl. 432 (2010) 70;
Y. Nunez Fernandez, M. K. Ritter, M. Jeannin, ..., X. Waintal, arXiv:2407.02454 (2024).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _core
from ._validate import as_array, as_float, as_int, check_cross_sizes
from ._cores import check_shape
from .executor import on_executor
from .tensortrain import TensorTrain

__all__ = ["tt_cross", "CrossInfo", "SweepRecord", "prrlu", "PrrLUResult"]


@dataclass
class SweepRecord:
    """What one sweep (a left-to-right and a right-to-left pass) did.

    A converged tci2 run may end after the left-to-right pass of its last sweep; that
    sweep's record then describes that pass.

    Attributes
    ----------
    sweep : int
        Sweep number, from 0.
    pivot_error : float
        tci2: the largest error of the discarded pivots over the bonds of the sweep's last
        pass, relative to the largest ``|f|`` seen.  maxvol1: the largest ``|f - tt|`` on the
        fibres sampled in the sweep's left-to-right pass, relative to the largest ``|f|``.
    bond_dims : tuple of int
        Bond dimensions ``(r_1, ..., r_{n-1})`` after the sweep.
    evals : int
        Distinct points sent to ``f`` during the sweep.
    cache_hits : int
        Requests answered from the cache during the sweep.
    calls : int
        Calls of ``f`` (batches) during the sweep.
    global_added : int
        Global pivots added after the sweep.
    checked : bool
        tci2: the random-point check (``check_samples``) ran during the sweep.
    seconds : float
        Wall time of the sweep.
    check_error : float
        tci2: largest ``|f - tt| / max|f|`` on the sweep's last check (-1: no check).
    check_points : int
        Points of that check (its confirmation included).
    confirm_points : int
        tci2: fresh points of that check's confirmation (0: none ran).
    check_added : int
        Points of failed checks made pivots during the sweep.
    full_blocks, rook_blocks : int
        tci2: 2-site matrices searched in full / by rook search during the sweep.
    """

    sweep: int
    pivot_error: float
    bond_dims: tuple
    evals: int
    cache_hits: int
    calls: int
    global_added: int
    seconds: float
    checked: bool = False
    check_error: float = -1.0
    check_points: int = 0
    check_added: int = 0
    full_blocks: int = 0
    rook_blocks: int = 0
    confirm_points: int = 0


@dataclass
class CrossInfo:
    """Record of a ``tt_cross`` run: one ``SweepRecord`` per sweep and the totals.

    ``error_estimate`` (tci2) is the largest ``|f - tt| / max|f|`` over the ``check_points``
    uniformly random points of the run's last random check (NaN when no check ran), and
    ``converged`` is True only when that check passed (``error_estimate <= check_factor *
    rel_tol``; without the check: by the pivot rule alone).  ``confirm_points`` counts the
    fresh points of that check's confirmation, drawn after the train's last change: the
    independent sample behind ``fraction_bound``.
    """

    method: str
    sweeps: list = field(default_factory=list)
    evals: int = 0          # distinct points sent to f (= calls of f per point)
    cache_hits: int = 0     # requests answered by the cache
    calls: int = 0          # calls of f (batches)
    cache_size: int = 0
    max_abs: float = 0.0    # largest |f| seen
    pivot_error: float = 0.0
    converged: bool = False
    seconds: float = 0.0
    error_estimate: float = float("nan")
    check_points: int = 0
    confirm_points: int = 0

    @property
    def fraction_bound(self) -> float:
        """What a converged run's check promises: with 95 % confidence, the fraction of the grid
        where ``|f - tt| > check_factor * rel_tol * max|f|`` is below ``3 / confirm_points``
        (no failure among that many independent uniform points).  1.0 when no confirmation ran
        or the run did not converge: nothing is promised."""
        if not self.converged or self.confirm_points <= 0:
            return 1.0
        return min(1.0, 3.0 / self.confirm_points)

    @property
    def n_sweeps(self) -> int:
        return len(self.sweeps)

    @property
    def pivot_errors(self) -> list:
        return [s.pivot_error for s in self.sweeps]

    def summary(self) -> str:
        """A small table, one line per sweep."""
        lines = [f"{'sweep':>5} {'pivot_err':>10} {'max_rank':>8} {'evals':>9} {'hits':>9} {'calls':>6} "
                 f"{'global':>6} {'time_s':>8}"]
        for s in self.sweeps:
            r = max(s.bond_dims) if s.bond_dims else 1
            lines.append(f"{s.sweep:>5} {s.pivot_error:>10.3e} {r:>8} {s.evals:>9} {s.cache_hits:>9} "
                         f"{s.calls:>6} {s.global_added:>6} {s.seconds:>8.4f}")
        lines.append(f"total: {self.evals} evaluations in {self.calls} calls, {self.cache_hits} cache hits, "
                     f"{self.seconds:.4f} s, converged={self.converged}, error estimate "
                     f"{self.error_estimate:.3e} on {self.check_points} random points")
        return "\n".join(lines)


def _record(k: int, s) -> SweepRecord:
    """A SweepRecord from the core's record of sweep k."""
    return SweepRecord(sweep=int(k), pivot_error=float(s.pivot_error), bond_dims=tuple(int(r) for r in s.bond_dims),
                       evals=int(s.evals), cache_hits=int(s.cache_hits), calls=int(s.calls),
                       global_added=int(s.global_added), seconds=float(s.seconds), checked=bool(s.checked),
                       check_error=float(s.check_error), check_points=int(s.check_points),
                       check_added=int(s.check_added), full_blocks=int(s.full_blocks), rook_blocks=int(s.rook_blocks),
                       confirm_points=int(s.confirm_points))


def tt_cross(f, shape, *, method: str = "tci2", rel_tol: float = 1e-10, max_rank=None, max_sweeps: int = 20,
             initial_pivots=None, pivot_search: str = "auto", global_pivots: int = 0, cache: bool = True,
             batch_size: int = 65536, seed=None, verbose: bool = False, dtype=np.float64, init_samples: int = 64,
             global_starts=None, maxvol_tol: float = 1.05, rook_restarts: int = 0, rook_tol: float = 1.2,
             rook_probe: str = "lines", check_samples: int = 64, check_factor: float = 1.0,
             check_fraction: float = 0.02, check_pivots: int = 1, full_block_max: int = 64,
             executor=None, chunk_size=None, retries: int = 2, confirm_fraction: float = 0.05):
    """Tensor train of a function of a multi-index by cross interpolation.

    Parameters
    ----------
    f : callable
        ``f(idx) -> values``: ``idx`` is an int64 array of shape (batch, n) of multi-indices;
        it returns ``batch`` numbers (numpy array, list, or a torch tensor).  Called once per
        batch, never per point.  NaN/Inf, a wrong length or non-numeric values raise errors;
        exceptions raised by ``f`` propagate unchanged.
    shape : sequence of int, length n
        Mode sizes ``(d_1, ..., d_n)``.
    method : {"tci2", "maxvol1"}
        2-site TCI with prrLU (adaptive ranks) or 1-site TT-cross with maxvol (fixed rank).
    rel_tol : float
        tci2: pivots whose error is below ``rel_tol * max|f|`` are discarded, and the run stops
        after the first pass (left-to-right or right-to-left) that leaves no pivot above
        ``rel_tol`` and whose train passes the random check (see ``check_samples`` and the
        Notes); with ``check_samples=0``, after the first such pass that left the bond
        dimensions of the previous pass unchanged.  With global pivots only a right-to-left
        pass after which none was added can stop the run.
        maxvol1: the run stops when the sweep's error estimate is below ``rel_tol``.
    max_rank : int or None
        tci2: cap on every bond dimension (None: no cap).  maxvol1: the rank (required).
    max_sweeps : int
        Most sweeps; one sweep is a left-to-right and a right-to-left pass.
    initial_pivots : array_like of int, shape (p, n), optional
        Starting points (at least one with ``f != 0``).  Default: the largest ``|f|`` among
        ``init_samples`` random points.
    pivot_search : {"auto", "full", "rook"}
        tci2 only: search the whole 2-site matrix (``"full"``: every entry is evaluated, the
        pivot error is exact), or alternate row/column searches evaluating only the rows and
        columns they visit (``"rook"``, see ``rook_tol``), or (``"auto"``, the default) full
        search on a 2-site matrix with at most ``full_block_max`` entries and rook search on
        larger ones, decided per bond and pass.  A full search of an ``(r d) x (d r)`` matrix
        costs ``(r d)^2`` evaluations, a rook search about ``2 r`` lines of ``r d``: rook wins
        once the matrix is large, and on small ones the full search costs little more and
        never misses a pivot.
    full_block_max : int
        ``pivot_search="auto"``: largest number of entries of a 2-site matrix searched in
        full (default 64, e.g. an 8 x 8 matrix: the 2 x 2 sites of a quantics train up to
        bond 4).  On the cross suite of bench/cross_suite.py (11 functions, 10 seeds, median
        evaluations) 64 made fewer evaluations than 256 on 6 functions (quantics 1-d 2^20:
        1,910 against 2,386), as many on 3 and up to 6 % more on 2, with no more misses.
    global_pivots : int
        tci2 only: after each sweep, add up to this many points where ``|f - tt|`` is largest
        (random starts improved one index at a time, in batches).
    cache : bool
        Remember every value so that no point is sent to ``f`` twice.
    batch_size : int
        Most points per call of ``f``.
    seed : int or None
        Seed of the random choices (None: fresh entropy).
    verbose : bool
        Print one line per sweep.
    dtype : float or complex
        ``np.float64`` (default) or ``np.complex128`` values.
    init_samples : int
        Random samples for the default initial pivot.
    global_starts : int or None
        Random starts of the global pivot search (None: ``max(4 * global_pivots, 16)``).
    maxvol_tol : float
        maxvol1 only: the maxvol swap tolerance (>= 1).
    rook_restarts : int
        tci2 with rook search.  Every row and column of a 2-site matrix read during its
        factorization is kept (never read twice); each pivot search takes the largest
        residual entry on them and, while that entry's row or column has not been read,
        reads it and looks again.  When no entry read exceeds the tolerance, ``1 +
        rook_restarts`` probes (see ``rook_probe``) look for one that does before the bond's
        search concludes that no pivot above tolerance is left; an entry above it restarts
        the search from there.  The default 0 makes one probe per bond and pass: a pivot a
        probe misses is looked for again by the fresh probes of every later pass, and the
        run only stops on a pass without any pivot above tolerance after the train matched
        ``f`` on the ``check_samples`` random points (or after a confirming pass), so more
        probes per bond (each costs about ``rows + columns`` evaluations, on every bond of
        every pass) buy little accuracy for their cost.
    rook_probe : {"lines", "entries"}
        tci2 with rook search: a probe reads a random unread line (a column if the 2-site
        matrix has no more rows than columns, else a row) and the line across it through its
        largest residual entry (``"lines"``, a rook step from a random start), or
        ``min(rows, columns)`` random entries off the lines read, in one call (``"entries"``:
        fewer evaluations, but a residual left on a few rows or columns is more easily
        missed, so the error spreads further above ``rel_tol``).
    rook_tol : float
        tci2 with rook search (>= 1): settle on the largest entry whose row and column were
        both read as soon as no entry read so far exceeds it by more than this factor
        (threshold pivoting).  1 takes strict rook pivots (the largest residual entry of its
        row, its column and every line read).  With the default 1.2 a pivot is accepted once
        it is within 20% of the largest entry seen, so the interpolation coefficients (the
        entries of ``L`` and of ``U / pivot``) stay below 1.2 in modulus, as for a
        quasi-maximal-volume submatrix (strict rook pivots keep them below 1, maxvol's
        dominance tolerance ``maxvol_tol=1.05`` below 1.05; a search that walks over more
        than 16 lines for one pivot settles for the largest entry whose row and column were
        read), while the search stops walking from line to line for small gains (each line
        read costs ``rows`` or ``columns`` evaluations).  On the cross suite of
        bench/cross_suite.py (11 functions, 10 seeds) 1.2 made fewer evaluations than 1.05
        on 10 functions (0.86x on the 2^40 quantics function, 0.69x on the oscillatory
        one), 2 % more on one, and no misses.  Larger values read fewer lines per pivot but see less of
        each matrix, which can end a search early and weakens that bound.
    check_samples : int
        tci2 only: the smallest number of new points of each random check.  After every pass
        that leaves no pivot above the pivot tolerance (with global pivots: a right-to-left
        pass after which none was added), ``N_new = max(check_samples, ceil(check_fraction *
        evaluations so far))`` points are drawn uniformly from the grid and join the points
        of the earlier checks (whose values come from the cache: only the new points cost
        evaluations), and the train is compared with ``f`` on all of them.  The run stops if
        ``|f - tt| <= check_factor * rel_tol * max|f|`` everywhere there and on the fresh
        confirmation sample (``confirm_fraction``).  Otherwise the
        ``check_pivots`` points of largest error join the pivot candidates of the next pass,
        and, when the largest error is within 100x the tolerance (the usual excess of the
        interpolation error over the pivot error), the pivot tolerance (initially
        ``rel_tol``) is lowered to about half the tolerance times the ratio (by 2x to 10x);
        the sweeps go on.  0 disables the check: the run then stops on the pivot rule alone,
        which a function of low rank along the first pivots fools (e.g. a product function
        on interleaved quantics bits stops at rank 1).
    check_fraction : float
        tci2 only: the size of each check's new sample as a fraction of the evaluations made
        so far (default 0.02: each check costs at most 2% more evaluations).
    confirm_fraction : float
        tci2 only: when a check passes on its pool (whose older points are reused check
        after check while its failures steer the pivots, so that the train ends up tuned to
        them), ``max(check_samples, ceil(confirm_fraction * evaluations so far))`` fresh
        uniform points must pass as well before the run stops; a failure there counts as a
        failed check.  Default 0.05 (5 % more evaluations, once or twice per run); 0: no
        confirmation, the pool alone decides.
    check_pivots : int
        tci2 only: most failed check points made pivots after a check (default 1).  Each one
        joins every bond's 2-site matrix of the next pass as an extra row and column, read in
        full there, so each costs about the sum of the matrices' sides over the bonds; the
        pivot search then grows the rank from it.  On the cross suite, 1 made fewer
        evaluations than 8 on 9 of 11 functions (0.67x on the 2^40 quantics function), as
        many on one, and 1.4x more on the step function, where it resolved the step on 8
        seeds of 10 instead of 6 (9 with ``full_block_max=64``).
    check_factor : float
        tci2 only: the tolerance factor of that check (>= 1).
    executor, chunk_size, retries
        Evaluate each batch on an executor (a ``concurrent.futures`` pool or a Dask
        ``distributed.Client``) in chunks of at most ``chunk_size`` points, a failed chunk
        submitted again up to ``retries`` times before :class:`tnfast.executor.ChunkError`
        reports it with its points; see :func:`tnfast.executor.parallel_function`.  Default:
        ``f`` is called in-process.

    Notes
    -----
    What a converged tci2 run guarantees (with the default check): ``max |f - tt| <=
    check_factor * rel_tol * max|f|`` (``max|f|``: the largest ``|f|`` the run saw) held on
    all ``info.check_points`` points of its last check, of which ``info.confirm_points``
    were drawn uniformly and independently from the whole grid after the train's last
    change; ``info.error_estimate`` is the largest relative error there.  This estimates the
    relative error in the max norm over the grid; it is not a bound.  What it promises is
    ``info.fraction_bound``: with 95 % confidence, the fraction of the grid where the error
    exceeds the tolerance is below ``3 / info.confirm_points``.  A region smaller than that
    (a narrow spike, the few points next to a discontinuity) can still be missed; raise
    ``confirm_fraction`` (or pass ``pivot_search="full"``) when such a region matters.
    When the run ends without a passing check (``max_sweeps`` reached, ``max_rank`` too
    small), ``info.converged`` is False, a last check measures ``info.error_estimate`` and a
    ``RuntimeWarning`` names it.  With ``check_samples=0`` nothing is estimated
    (``error_estimate`` is NaN) and ``converged`` only says that the pivot rule stopped.

    Returns
    -------
    tt : TensorTrain
        Cores of shape (r_{k-1}, d_k, r_k).
    info : CrossInfo
        Per sweep: pivot error, bond dimensions, evaluations, cache hits, time; plus totals.
    """
    if not callable(f):
        raise TypeError(f"f: expected a callable, got {type(f).__name__}")
    dims = list(check_shape(shape, "shape"))
    n = len(dims)
    if method not in ("tci2", "maxvol1"):
        raise ValueError(f"method: expected 'tci2' or 'maxvol1', got {method!r}")
    if pivot_search not in ("auto", "full", "rook"):
        raise ValueError(f"pivot_search: expected 'auto', 'full' or 'rook', got {pivot_search!r}")
    check_cross_sizes(dims, method == "tci2" and pivot_search == "full")
    if rook_probe not in ("lines", "entries"):
        raise ValueError(f"rook_probe: expected 'lines' or 'entries', got {rook_probe!r}")
    rel_tol = as_float(rel_tol, "rel_tol", minimum=0.0)
    max_rank = as_int(max_rank, "max_rank", minimum=1, allow_none=True)
    if method == "maxvol1" and max_rank is None:
        raise ValueError("max_rank: method='maxvol1' works at a fixed rank; give max_rank")
    max_sweeps = as_int(max_sweeps, "max_sweeps", minimum=1)
    global_pivots = as_int(global_pivots, "global_pivots", minimum=0)
    global_starts = as_int(global_starts, "global_starts", minimum=1, allow_none=True)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    init_samples = as_int(init_samples, "init_samples", minimum=1)
    maxvol_tol = as_float(maxvol_tol, "maxvol_tol", minimum=1.0)
    rook_restarts = as_int(rook_restarts, "rook_restarts", minimum=0)
    rook_tol = as_float(rook_tol, "rook_tol", minimum=1.0)
    check_samples = as_int(check_samples, "check_samples", minimum=0)
    check_factor = as_float(check_factor, "check_factor", minimum=1.0)
    check_fraction = as_float(check_fraction, "check_fraction", minimum=0.0)
    check_pivots = as_int(check_pivots, "check_pivots", minimum=0)
    full_block_max = as_int(full_block_max, "full_block_max", minimum=0)
    confirm_fraction = as_float(confirm_fraction, "confirm_fraction", minimum=0.0)
    if not isinstance(cache, (bool, np.bool_)):
        raise TypeError(f"cache: expected a bool, got {type(cache).__name__}")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0])
    else:
        seed = as_int(seed, "seed", minimum=0)
    dt = np.dtype(dtype)
    if dt == np.float64:
        suffix = "f64"
    elif dt == np.complex128:
        suffix = "c128"
    else:
        raise TypeError(f"dtype: expected float64 or complex128, got {dt}")
    pivots = None
    if initial_pivots is not None:
        p = np.asarray(initial_pivots)
        if p.ndim == 1:
            p = p[None, :]
        if p.dtype.kind not in "iu" or p.ndim != 2 or p.shape[1] != n or p.shape[0] < 1:
            raise ValueError(f"initial_pivots: expected integers of shape (p, {n}), got dtype {p.dtype} and "
                             f"shape {p.shape}")
        bad = np.argwhere((p < 0) | (p >= np.asarray(dims)[None, :]))
        if bad.size:
            a, k = bad[0]
            raise ValueError(f"initial_pivots[{a}, {k}] = {p[a, k]} is out of range for a dimension of size "
                             f"{dims[k]}")
        pivots = np.ascontiguousarray(p, dtype=np.int64)

    on_sweep = None
    if verbose:
        def on_sweep(k, s):
            r = max(s.bond_dims) if len(s.bond_dims) else 1
            print(f"tt_cross[{method}] sweep {k}: pivot error {s.pivot_error:.3e}, max rank {r}, "
                  f"{s.evals} evaluations, {s.cache_hits} cache hits, {s.seconds:.3f} s"
                  + (f", check {s.check_error:.3e} on {s.check_points} points" if s.checked else ""),
                  flush=True)

    opt = _core.CrossOptions()
    opt.rel_tol = rel_tol
    opt.max_rank = 0 if max_rank is None else max_rank
    opt.max_sweeps = max_sweeps
    opt.pivot_search = getattr(_core.PivotSearch, pivot_search)
    opt.full_block_max = full_block_max
    opt.global_pivots = global_pivots
    opt.global_starts = 0 if global_starts is None else global_starts
    opt.cache = bool(cache)
    opt.batch_size = batch_size
    opt.seed = seed
    opt.initial_pivots = pivots
    opt.init_samples = init_samples
    opt.maxvol_tol = maxvol_tol
    opt.rook_restarts = rook_restarts
    opt.rook_tol = rook_tol
    opt.rook_entry_probes = rook_probe == "entries"
    opt.check_samples = check_samples
    opt.check_fraction = check_fraction
    opt.confirm_fraction = confirm_fraction
    opt.check_pivots = check_pivots
    opt.check_factor = check_factor
    f = on_executor(f, executor, chunk_size, retries)
    out = getattr(_core, "tt_cross_" + suffix)(f, dims, method, opt, on_sweep)
    tt = TensorTrain(out.cores, copy=False)
    info = CrossInfo(method=method, sweeps=[_record(k, s) for k, s in enumerate(out.sweeps)], evals=int(out.evals),
                     cache_hits=int(out.cache_hits), calls=int(out.calls), cache_size=int(out.cache_size),
                     max_abs=float(out.max_abs), pivot_error=float(out.pivot_error), converged=bool(out.converged),
                     seconds=float(out.seconds), error_estimate=float(out.error_estimate),
                     check_points=int(out.check_points), confirm_points=int(out.confirm_points))
    if method == "tci2" and not info.converged and check_samples > 0 and n > 1:
        warnings.warn(f"tt_cross: stopped after {info.n_sweeps} sweeps without meeting rel_tol={rel_tol:g}: "
                      f"largest relative error {info.error_estimate:.3e} on {info.check_points} random points "
                      f"(pivot error {info.pivot_error:.3e}); raise max_sweeps or max_rank, or add global_pivots",
                      RuntimeWarning, stacklevel=2)
    return tt, info


@dataclass
class PrrLUResult:
    """Partial rank-revealing LU ``a ~= L @ U`` with pivot rows/columns.

    ``L`` (m, k) is unit lower triangular on the pivot rows (in pivot order), ``U`` (k, n)
    upper triangular on the pivot columns, and ``L @ U = a[:, cols] @ inv(a[rows][:, cols])
    @ a[rows, :]``.  ``left = a[:, cols] @ inv(a[rows][:, cols])`` and ``right =
    inv(a[rows][:, cols]) @ a[rows, :]`` are computed from the triangular factors.
    ``error`` is the largest remaining ``|residual|`` (exact for full search, the largest one
    found for rook search); ``pivots`` the ``|pivot|`` of each step.
    """

    L: np.ndarray
    U: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    pivots: np.ndarray
    error: float
    left: np.ndarray
    right: np.ndarray

    @property
    def rank(self) -> int:
        return len(self.rows)


def prrlu(a, *, max_rank=None, abs_tol: float = 0.0, rel_tol: float = 0.0, pivot_search: str = "full",
          seed=0, rook_tol: float = 1.0) -> PrrLUResult:
    """Partial rank-revealing LU of a dense matrix with full or rook pivoting.

    Parameters
    ----------
    a : array_like, shape (m, n)
        Real or complex matrix.
    max_rank : int or None
        Most pivots (None: ``min(m, n)``).
    abs_tol, rel_tol : float
        Stop when the best pivot found has ``|value| <= max(abs_tol, rel_tol * max|a|)``.
    pivot_search : {"full", "rook"}
        Full search of the residual, or rook search: every row and column read is kept, each
        pivot is the largest residual entry of its row, its column and every line read, and
        before stopping three probes (a random line and the line across it through its
        largest entry) confirm that no entry above tolerance is left.
    seed : int
        Seed of the rook search's random lines.
    rook_tol : float
        Rook search only (>= 1): accept an entry whose row and column were both read once no
        entry of the rows and columns read so far exceeds it by more than this factor
        (1: strict rook pivots, each the largest residual entry of its row and column).

    Returns
    -------
    PrrLUResult
    """
    A = as_array(a, "a", ndim=2)
    if pivot_search not in ("full", "rook"):
        raise ValueError(f"pivot_search: expected 'full' or 'rook', got {pivot_search!r}")
    max_rank = as_int(max_rank, "max_rank", minimum=1, allow_none=True)
    abs_tol = as_float(abs_tol, "abs_tol", minimum=0.0)
    rel_tol = as_float(rel_tol, "rel_tol", minimum=0.0)
    seed = as_int(seed, "seed", minimum=0)
    rook_tol = as_float(rook_tol, "rook_tol", minimum=1.0)
    cplx = np.iscomplexobj(A)
    A = A.astype(np.complex128 if cplx else np.float64)
    tol = max(abs_tol, rel_tol * (float(np.abs(A).max()) if A.size else 0.0))
    fn = _core.prrlu_c128 if cplx else _core.prrlu_f64
    L, U, rows, cols, piv, err, left, right = fn(A, 0 if max_rank is None else max_rank, tol,
                                                pivot_search == "rook", seed, rook_tol)
    return PrrLUResult(L=L, U=U, rows=np.asarray(rows, dtype=np.int64), cols=np.asarray(cols, dtype=np.int64),
                       pivots=np.asarray(piv, dtype=np.float64), error=float(err), left=left, right=right)
