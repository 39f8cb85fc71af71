"""TT-RSS (tensor train via recursive sketching from samples) and TT-RS (tensor train of an
empirical distribution by recursive sketching), with sequential sampling from a TT density.

The heavy work (building the query batches, calling the function, embedding fit, SVD trim,
least-squares cores, recursion) runs in the compiled core; this module checks arguments,
prepares embeddings and domains, and packs the results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import _core
from ._validate import as_array, as_float, as_int, core_suffix, require_memory
from .embeddings import Basis, Embedding, get_embedding
from .executor import on_executor
from .tensortrain import TensorTrain

__all__ = ["tt_rss", "RSSInfo", "tt_evaluate", "tt_rs", "tt_sample", "tt_density"]


@dataclass
class RSSInfo:
    """Diagnostics of a :func:`tt_rss` run.

    Attributes
    ----------
    pivot_error : float
        ``||TT(X) - f(X)||_F / ||f(X)||_F`` over the N samples (all outputs).
    pivot_error_max : float
        ``max_i ||TT(x_i) - f(x_i)|| / max_i ||f(x_i)||`` over the samples.
    bond_dims : tuple of int
        Internal bond dimensions of the result.
    n_evals : int
        Number of points passed to ``f`` (sketches, plus the samples themselves).
    n_calls : int
        Number of calls of ``f``.
    n_reused : int
        Grid values copied from the previous site instead of being evaluated again.
    times : dict
        Seconds per phase: ``sketch`` (building batches and calling f; includes ``callback``,
        the time spent inside f), ``fit``, ``trim``, ``solve``, ``recurse``, ``prepare``
        (domains, embeddings, labels), ``check`` (pivot error) and ``total``.
    discarded : tuple of float
        Per bond, ``sqrt(sum of discarded s_i^2 / sum of s_i^2)`` of the trimmed sketch.
    out_position : int or None
        Position of the output (label) site for a vector-valued f, else None.
    labels : ndarray or None
        Label used for each sample (vector-valued f).
    domains : list of ndarray
        Domain values used at each input site.
    embedding : Embedding
    grid_sizes : tuple of int
        Sketch values obtained at each site (``|S| |X_k| |T|``).
    notes : list of str
        Choices the run made on its own that the caller should know of (e.g. sites whose samples
        were too few to give a domain, and what was used instead).
    site_evals : tuple of int
        Points passed to ``f`` for each site's sketch (``n_evals`` is their sum plus the N
        samples).
    site_columns : tuple of int
        Suffixes (columns) in each site's sketch.
    sketch : str
        ``"samples"`` or ``"adaptive"``.
    """

    pivot_error: float
    pivot_error_max: float
    bond_dims: tuple
    n_evals: int
    n_calls: int
    times: dict
    discarded: tuple
    out_position: int | None
    labels: np.ndarray | None
    domains: list
    embedding: Embedding
    grid_sizes: tuple = field(default_factory=tuple)
    n_reused: int = 0
    notes: list = field(default_factory=list)
    site_evals: tuple = field(default_factory=tuple)
    site_columns: tuple = field(default_factory=tuple)
    sketch: str = "samples"


def _to_numpy(out):
    if hasattr(out, "detach") and hasattr(out, "cpu"):
        out = out.detach().cpu().numpy()
    return out


def _call_f(f, x: np.ndarray, batch_size: int, n_out: int | None):
    """f on the rows of x in batches; returns (rows, C) float64 and checks shape / finiteness."""
    parts = []
    for i0 in range(0, x.shape[0], batch_size):
        xb = np.ascontiguousarray(x[i0:i0 + batch_size])
        v = np.asarray(_to_numpy(f(xb)))
        if v.dtype == object or v.dtype.kind not in "biuf":
            raise TypeError(f"f: must return a numeric array, got dtype {v.dtype}")
        v = v.astype(np.float64, copy=False)
        if v.ndim == 1:
            v = v[:, None]
        if v.ndim != 2 or v.shape[0] != xb.shape[0] or (n_out is not None and v.shape[1] != n_out):
            raise ValueError(f"f: returned an array of shape {v.shape} for a batch of {xb.shape[0]} points; "
                             f"expected ({xb.shape[0]},) or ({xb.shape[0]}, C)")
        bad = ~np.isfinite(v)
        if bad.any():
            r = int(np.argwhere(bad)[0, 0])
            raise ValueError(f"f: returned a non-finite value ({v[r][bad[r]][0]}) at the point {xb[r].tolist()}")
        n_out = v.shape[1]
        parts.append(v)
    return np.concatenate(parts, axis=0)


def _progress(sites: int, n_start: int):
    """A per-site progress bar (callback, close) with the running count of evaluations, from the
    package's shared progress helper (without tqdm: no bar, and one notice on stderr)."""
    from ._ui import progress
    bar = progress(total=sites, desc="tt_rss", unit="site", leave=False, mininterval=0.2)

    def report(site, total, bond, columns, n_evals):
        bar.set_postfix_str(f"evals={n_evals + n_start}, bond={bond}, suffixes={columns}")
        bar.update(1)
    return report, bar.close


def _domains(domain, samples, emb, multiplier, rng, n):
    """Per-site domain values (list of 1-d float64 arrays) and a note on filled sites (or None).

    Without a given domain, a site whose samples hold fewer distinct values than the embedding
    dimension (a constant pixel, say) keeps its values and is filled up with points spread
    evenly over the range of all samples (all sites together), or over the embedding's
    :attr:`~tnfast.embeddings.Embedding.interval` when that range is a single value or the
    embedding is one-hot.
    """
    d = emb.dim
    want = multiplier * d
    note = None
    if domain is None:
        out, filled = [], []
        fill = None
        for j in range(n):
            u = np.unique(samples[:, j])
            if u.size > want:
                u = np.sort(rng.choice(u, size=want, replace=False))
            elif u.size < d:
                if fill is None:
                    lo, hi = float(samples.min()), float(samples.max())
                    discrete = isinstance(emb, Basis)
                    fill = emb.default_domain(want) if discrete or not hi > lo else np.linspace(lo, hi, want)
                u = np.union1d(u, fill)
                filled.append(j)
            out.append(u)
        if filled:
            shown = ", ".join(str(j) for j in filled[:12]) + (", ..." if len(filled) > 12 else "")
            note = (f"domain: {len(filled)} of {n} sites hold fewer than {d} distinct sample values (sites "
                    f"{shown}); each was filled up with {fill.size} points spread over "
                    f"[{fill.min():g}, {fill.max():g}]")
    elif isinstance(domain, (list, tuple)) and len(domain) and all(np.ndim(dj) >= 1 for dj in domain):
        if len(domain) != n:
            raise ValueError(f"domain: expected one domain per input variable ({n}), got {len(domain)}")
        out = [as_array(dj, f"domain[{j}]", ndim=1, allow_complex=False).astype(np.float64)
               for j, dj in enumerate(domain)]
    else:
        dom = as_array(domain, "domain", ndim=1, allow_complex=False).astype(np.float64)
        out = [dom] * n
    for j, dj in enumerate(out):
        dj = np.unique(dj)
        if not np.all(np.isfinite(dj)):
            raise ValueError(f"domain: site {j}: holds NaN or Inf")
        if dj.size < d:
            raise ValueError(f"domain: site {j}: the domain holds only {dj.size} distinct value(s), fewer than "
                             f"the embedding dimension {d}; pass a larger domain")
        out[j] = np.ascontiguousarray(dj)
    return out, note


def tt_rss(f, samples, embedding="poly", domain=None, domain_multiplier: int = 1, rank=None, cutoff=None,
           labels=None, out_position=None, batch_size: int = 4096, seed=None, dtype=np.float64,
           verbose: bool = False, dim: int | None = None, recursion: str = "sketch", reuse: bool = True,
           executor=None, chunk_size=None, retries: int = 2,
           sketch: str = "samples", oversample: int = 4, tail_tol: float = 1e-8,
           capture_tol: float = 0.1, all_outputs: bool | None = None):
    r"""Tensorize a black-box function into a tensor train from samples (TT-RSS).

    One left-to-right pass.  At site k, with S the distinct sample prefixes ``x_{1:k-1}`` and T
    the distinct suffixes ``x_{k+1:n}``: (1) ``f`` is evaluated on the grid ``S x X_k x T``,
    streamed in batches of ``batch_size`` points (the grid is never built as a whole); (2) the
    embedding is fitted by least squares ``E_k C = Phi`` with ``E_k[i, p] = phi_p(X_k[i])``;
    (3) ``C`` reshaped ``(|S| d) x |T|`` is trimmed by a thin SVD, keeping ``B_k``, the leading
    left singular vectors; (4) the core solves ``min ||A_{k-1} G - B_k||`` where ``A_{k-1}`` is
    the left factor on the embedded prefixes in S (the partial tensor train there when the
    equations are consistent); (5) ``A_k`` follows on the prefixes of length k.  The last core
    absorbs the remaining right factor.  When f is a tensor train (in the embedded variables)
    of bond dimension <= rank and the samples are rich enough, the result is exact up to gauge.

    Evaluation: the grids do not depend on earlier results, so one batch may hold the points of
    several consecutive sites (look-ahead bounded by ``batch_size`` values), and a point that
    also belongs to the previous site's grid is copied, not re-evaluated (``reuse``).  Peak
    memory is ``O(batch_size * n + N^2 * max|X_k|)`` besides f's own; at most
    ``sum_k |S_k| |X_k| |T_k| <= n |X| N^2`` evaluations (plus N on the samples).

    The adaptive sketch (``sketch="adaptive"``) evaluates the same grids on fewer suffixes:
    ``|T| = r + oversample`` to start with instead of all N distinct ones, where r is the
    expected bond (``rank`` when given, else the latest bond found).  The suffixes of site k are
    the tails ``t`` of the suffixes ``(x_t, t)`` of site k - 1, so that the points
    ``(s, x_t, t)`` are copies (about ``1/|X_k|`` of the grid), topped up with suffixes drawn at
    random (``seed``) among the samples', spread over the labels for a vector-valued f.  Before
    the label site of a vector-valued f every output of f is a column (``all_outputs``, on by
    default here): f returns all C outputs of each point anyway, and the published sketch keeps
    only the one of the suffix's label; so ``ceil((r + oversample) / C)`` suffixes (at least
    ``step + 1``, see below) start such a site.  After the trim the sketch grows when
    (a) the rank it keeps comes within ``oversample`` of the number of columns (the rank may
    not be revealed): more suffixes are evaluated and the site trimmed again; or (b) the trim
    discards more than ``tail_tol`` of the sketch's weight (f is approximated at this bond) and
    the kept space does not yet capture new suffixes as well as its own: the space the trim
    keeps from all but the latest ``step = max(oversample, ceil(rank / 2))`` suffixes leaves out
    more than ``(1 + capture_tol)`` times the share of their weight that it leaves out of its
    own columns; ``step`` suffixes more are then evaluated, until the check passes or every
    suffix is in.  The next approximated site starts with ``step`` suffixes fewer than this
    one ended with, so the count can shrink as well as grow.

    Why it keeps the error: the trim uses only the column space of the sketch ``C_k`` (its
    leading left singular vectors).  When the full sketch has rank r and the chosen suffixes
    span its column space, the kept space is the same, so a function that is exactly a tensor
    train of bond <= rank is recovered as exactly as by the published sketch, with about
    ``N |X| (r + oversample) / 2`` evaluations per site instead of ``N^2 |X| / 2``.  Where f is
    approximated at a capped rank, what matters is whether the kept space captures the
    function's columns as the full sketch's would, not whether the tail is small: check (b)
    measures exactly that on suffixes the space was not fitted to.  With a gap after the kept
    rank fewer suffixes pass it (a bond-3 train plus 1e-3 of a bond-4 one, rank 3: 0.81-0.89x
    the published sketch's evaluations at 1.03-1.14x its error; ``capture_tol=0.5``: 0.55x at
    1.07-1.25x).  Without a gap (a network: singular values 1, .15, .09, .05, ... , .01 at
    rank 10) the top-r space of a subset keeps moving until nearly every suffix is in, and the
    error grows with ``capture_tol``.  On a tensorized MNIST MLP (rank 10, 3 seeds) the extra
    columns of ``all_outputs`` more than pay for the shorter sketch: N=100 samples, 0.73x the
    published sketch's evaluations at 15.8 % mean argmax disagreement against its 17.6 %;
    N=30, all but a few suffixes at 21.9 % against 27.9 % (bench/README.md, tt_rss rows;
    ``bench/bench_rss.py --curve``).  When it saves little:
    after the label site (no output columns to add), on few samples, or on noisy values above
    ``tail_tol`` (a short sketch's smallest kept singular value is smaller and amplifies the
    noise more).

    Parameters
    ----------
    f : callable
        ``f(x)`` with ``x`` a (batch, n) float64 array returns (batch,) or (batch, C) values
        (numpy, or anything with ``.detach().cpu().numpy()`` such as a torch tensor).
    samples : array_like, shape (N, n)
        Sample points (pivots).
    embedding : str or Embedding
        Feature map ``phi: R -> R^d`` (see :mod:`tnfast.embeddings`); a name uses ``dim``
        (default 2).
    domain : array_like (m,) or list of n arrays, optional
        Values each variable may take (shared or per site); at least ``d`` distinct values
        per site.  Default: the samples' distinct values per site, ``domain_multiplier * d`` of
        them chosen at random (all when fewer).  A site whose samples hold fewer than ``d``
        distinct values (e.g. a pixel that is blank in every image) is filled up with
        ``domain_multiplier * d`` points spread evenly over the range of all samples (over
        the embedding's ``interval`` when that range is one value or the embedding is one-hot);
        ``info.notes`` says which sites.
    domain_multiplier : int
    rank : int, optional
        Maximal bond dimension.
    cutoff : float, optional
        Relative threshold on the discarded singular weight: at each bond keep the fewest
        singular values ``s_1 >= s_2 >= ...`` such that
        ``sum_{discarded} s_i^2 <= cutoff^2 * sum_i s_i^2``.  With both ``rank`` and
        ``cutoff`` the smaller bond wins.  With neither, only numerically zero singular values
        (``<= max(shape) * eps * s_1``) are dropped; this floor always applies.
    labels : array_like of int, shape (N,), optional
        For a vector-valued f (C > 1): the output index attached to each sample.  Default:
        drawn with probability ``f(x)_y^2 / sum_y f(x)_y^2`` (f is taken to return square roots
        of probabilities), using ``seed``.
    out_position : int, optional
        Position (0..n) of the output site for a vector-valued f; default ``(n + 1) // 2``.
    batch_size : int
        Maximal number of points per call of f.
    seed : int or numpy Generator, optional
        Randomness for domain selection and label drawing.
    dtype : float32 or float64
        Dtype of the cores and of the linear algebra (f's values are read as float64).
    verbose : bool
        A progress bar over the sites with the running count of evaluations (tqdm when it is
        installed, else one printed line per site).
    dim : int, optional
        Embedding dimension when ``embedding`` is a name.
    recursion : {"sketch", "tt"}
        How ``A_k`` (the left factor on the prefixes of length k) is formed.  ``"sketch"``
        (default, as in TT-RS): ``A_k[s] = sum_p B_k[prefix(s), p, :] phi_p(x_k^(s))``, from the
        trimmed sketch.  ``"tt"``: ``A_k`` is the left partial tensor train (cores 1..k) evaluated
        at the embedded prefixes, i.e. ``A_{k-1} G_k`` in place of ``B_k``.  The two coincide when
        f is exactly representable (``A_{k-1} G_k = B_k``); for approximations the sketch form
        is measurably better (e.g. a tensorized MNIST MLP: 20 % vs 36 % argmax disagreement).
    reuse : bool
        Copy the values of grid points that were already evaluated at the previous site
        (``(s, x, t)`` at site k is ``(s[:k-1], s[k-1], (x, t))`` at site k - 1 whenever
        ``s[k-1]`` is in ``X_{k-1}``), instead of calling f again.  Same result, fewer
        evaluations; f must be deterministic.
    executor, chunk_size, retries
        Evaluate each batch on an executor (a ``concurrent.futures`` pool or a Dask
        ``distributed.Client``) in chunks of at most ``chunk_size`` points, a failed chunk
        submitted again up to ``retries`` times before :class:`tnfast.executor.ChunkError`
        reports it with its points; see :func:`tnfast.executor.parallel_function`.  Default:
        ``f`` is called in-process.
    sketch : {"samples", "adaptive"}
        ``"samples"`` (default): every distinct sample suffix, the published algorithm.
        ``"adaptive"``: few suffixes, grown until the trim's rank is revealed and, where f is
        approximated, until the kept space captures held-out suffixes (see above).
    oversample : int
        Adaptive sketch: suffixes kept beyond the expected bond (>= 1).
    tail_tol : float
        Adaptive sketch: a site whose trim discards more than this relative weight
        (``info.discarded``) counts as approximated and grows by the capture check (see above).
    capture_tol : float
        Adaptive sketch, approximated sites: the held-out suffixes may lose up to
        ``1 + capture_tol`` times the share of weight the fitted ones lose (see above); larger
        takes fewer evaluations at a larger error.  ``0``: every suffix at those sites (the
        published sketch's columns).
    all_outputs : bool, optional
        Before the label site of a vector-valued f, one sketch column per output of f and
        suffix instead of the output of the suffix's label only (same points, C times the
        columns).  Default: on for the adaptive sketch, off for the published one.

    Returns
    -------
    tt : TensorTrain
        n cores of shape (r_{k-1}, d, r_k) for a scalar f; n + 1 for a vector-valued f, the
        output site (one-hot, dimension C) at ``out_position``.  Evaluate with
        :func:`tt_evaluate`.
    info : RSSInfo
    """
    t_start = time.perf_counter()
    if not callable(f):
        raise TypeError("f: expected a callable")
    f = on_executor(f, executor, chunk_size, retries)
    samples = as_array(samples, "samples", allow_complex=False).astype(np.float64, copy=False)
    if samples.ndim != 2:
        raise ValueError(f"samples: expected a 2-d array (N, n), got shape {samples.shape}")
    N, n = samples.shape
    if N < 1 or n < 1:
        raise ValueError(f"samples: expected at least one sample of at least one variable, got shape {samples.shape}")
    if dim is not None:
        dim = as_int(dim, "dim", minimum=1)
    emb = get_embedding(embedding, 2 if dim is None else dim) if isinstance(embedding, str) else embedding
    if not isinstance(emb, Embedding):
        raise TypeError(f"embedding: expected a name or an Embedding, got {type(embedding).__name__}")
    domain_multiplier = as_int(domain_multiplier, "domain_multiplier", minimum=1)
    rank = as_int(rank, "rank", minimum=1, allow_none=True)
    cutoff = as_float(cutoff, "cutoff", minimum=0.0, allow_none=True)
    batch_size = as_int(batch_size, "batch_size", minimum=1)
    if recursion not in ("tt", "sketch"):
        raise ValueError(f"recursion: expected 'tt' or 'sketch', got {recursion!r}")
    if not isinstance(sketch, str) or sketch not in ("samples", "adaptive"):
        raise ValueError(f"sketch: expected 'samples' or 'adaptive', got {sketch!r}")
    oversample = as_int(oversample, "oversample", minimum=1)
    tail_tol = as_float(tail_tol, "tail_tol", minimum=0.0)
    capture_tol = as_float(capture_tol, "capture_tol", minimum=0.0)
    if all_outputs is not None and not isinstance(all_outputs, (bool, np.bool_)):
        raise TypeError(f"all_outputs: expected True, False or None, got {type(all_outputs).__name__}")
    suffix = core_suffix(dtype)
    if suffix not in ("f32", "f64"):
        raise TypeError(f"dtype: expected float32 or float64, got {np.dtype(dtype)}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    # Values of f on the samples: output size, labels, and later the pivot error.
    f_samples = _call_f(f, samples, batch_size, None)
    n_calls0 = -(-N // batch_size)
    C = f_samples.shape[1]
    if C > 1:
        if out_position is None:
            out_position = (n + 1) // 2
        out_position = as_int(out_position, "out_position")
        if not 0 <= out_position <= n:
            raise ValueError(f"out_position: expected an integer in [0, {n}], got {out_position}")
        if labels is None:
            p = f_samples ** 2
            tot = p.sum(axis=1, keepdims=True)
            p = np.where(tot > 0, p / np.where(tot > 0, tot, 1), 1.0 / C)
            u = rng.random(N)
            lab = (p.cumsum(axis=1) < u[:, None]).sum(axis=1)
            lab = np.minimum(lab, C - 1).astype(np.int64)
        else:
            lab = np.asarray(_to_numpy(labels))
            if lab.shape != (N,):
                raise ValueError(f"labels: expected shape ({N},), got {lab.shape}")
            if lab.dtype.kind not in "iu" and not (lab.dtype.kind == "f" and np.all(lab == np.rint(lab))):
                raise TypeError(f"labels: expected integers, got dtype {lab.dtype}")
            lab = lab.astype(np.int64)
            if lab.size and (lab.min() < 0 or lab.max() >= C):
                raise ValueError(f"labels: expected integers in [0, {C - 1}]")
    else:
        if out_position is not None:
            raise ValueError("out_position: only meaningful for a vector-valued f (C > 1)")
        if labels is not None:
            raise ValueError("labels: only meaningful for a vector-valued f (C > 1)")
        lab = None

    doms, domain_note = _domains(domain, samples, emb, domain_multiplier, rng, n)
    dom_feats = [np.ascontiguousarray(emb(dj), dtype=np.float64) for dj in doms]
    feats = np.ascontiguousarray(emb(samples), dtype=np.float64)
    if feats.shape != (N, n, emb.dim):
        raise ValueError(f"embedding: returned shape {feats.shape} for samples of shape {samples.shape}")
    if not np.all(np.isfinite(feats)):
        raise ValueError("embedding: produced NaN or Inf on the samples")
    t_prep = time.perf_counter() - t_start

    opt = _core.RSSOptions()
    opt.rank = int(rank or 0)
    opt.cutoff = -1.0 if cutoff is None else float(cutoff)
    opt.batch_size = int(batch_size)
    opt.recurse_sketch = recursion == "sketch"
    opt.reuse = bool(reuse)
    opt.sketch = sketch
    opt.oversample = int(oversample)
    opt.tail_tol = float(tail_tol)
    opt.capture_tol = float(capture_tol)
    opt.all_outputs = bool(sketch == "adaptive" if all_outputs is None else all_outputs)
    if sketch == "adaptive":
        opt.seed = int(rng.integers(0, 2 ** 63))
    progress, close = _progress(n + (1 if C > 1 else 0), N) if verbose else (None, None)
    try:
        res = getattr(_core, f"tt_rss_{suffix}")(
            f, samples, lab if lab is not None else np.zeros(0, np.int64), feats, doms, dom_feats,
            int(C), int(out_position) if C > 1 else -1, opt, progress)
    finally:
        if close is not None:
            close()
    tt = TensorTrain(res.cores, copy=False)

    t0 = time.perf_counter()
    approx = tt_evaluate(tt, samples, emb, out_position if C > 1 else None).reshape(N, C)
    big = float(np.max(np.abs(f_samples))) if f_samples.size else 0.0
    if big > 0:  # relative errors of values near the overflow threshold: norms of scaled copies
        approx, f_samples = approx / big, f_samples / big
    diff = np.linalg.norm(approx - f_samples)
    ref = np.linalg.norm(f_samples)
    piv = float(diff / ref) if ref > 0 else float(diff)
    row_ref = np.linalg.norm(f_samples, axis=1).max()
    row_err = np.linalg.norm(approx - f_samples, axis=1).max()
    piv_max = float(row_err / row_ref) if row_ref > 0 else float(row_err)
    t_check = time.perf_counter() - t0
    times = {k: getattr(res.times, k) for k in ("sketch", "callback", "fit", "trim", "solve", "recurse")}
    times["prepare"] = t_prep
    times["check"] = t_check
    times["total"] = time.perf_counter() - t_start
    info = RSSInfo(pivot_error=piv, pivot_error_max=piv_max, bond_dims=tuple(res.bonds),
                   n_evals=int(res.n_evals) + N, n_calls=int(res.n_calls) + n_calls0, times=times,
                   discarded=tuple(res.discarded), out_position=out_position if C > 1 else None,
                   labels=lab, domains=doms, embedding=emb, grid_sizes=tuple(res.grid_sizes),
                   n_reused=int(res.n_reused), notes=[domain_note] if domain_note else [],
                   site_evals=tuple(res.site_evals), site_columns=tuple(res.site_columns), sketch=sketch)
    return tt, info


def tt_evaluate(tt: TensorTrain, x, embedding, out_position=None) -> np.ndarray:
    """Values of a tensor train over embedded inputs.

    ``value(x) = sum G_1[:, phi(x_1), :] ... G_n[:, phi(x_n), :]`` with each core contracted with
    the embedded input on its physical index; an output site (at ``out_position``) stays open.

    Parameters
    ----------
    tt : TensorTrain
        n cores (scalar) or n + 1 cores (output site at ``out_position``).
    x : array_like, shape (B, n)
    embedding : str or Embedding
        A name means dimension ``tt.shape`` of the first input site.
    out_position : int, optional
        Required when ``tt`` has one more site than ``x`` has columns.

    Returns
    -------
    ndarray, shape (B,) or (B, C)
    """
    if not isinstance(tt, TensorTrain):
        raise TypeError("tt: expected a TensorTrain")
    x = as_array(x, "x", allow_complex=False)
    if x.ndim != 2:
        raise ValueError(f"x: expected a 2-d array (B, n), got shape {x.shape}")
    B, n = x.shape
    m = tt.ndim
    if m == n + 1:
        if out_position is None:
            raise ValueError("out_position: the tensor train has an output site; give its position")
        out_position = as_int(out_position, "out_position")
        if not 0 <= out_position <= n:
            raise ValueError(f"out_position: expected an integer in [0, {n}], got {out_position}")
    elif m == n:
        out_position = None
    else:
        raise ValueError(f"x: has {n} columns but the tensor train has {m} sites")
    in_sites = [k for k in range(m) if k != out_position]
    if isinstance(embedding, str):
        embedding = get_embedding(embedding, tt.shape[in_sites[0]])
    elif not callable(embedding):
        raise TypeError(f"embedding: expected a name or an Embedding, got {type(embedding).__name__}")
    feats = embedding(x)
    dt = tt.dtype
    V = np.ones((B, 1, 1), dtype=dt)
    j = 0
    for k, G in enumerate(tt.cores):
        r, dk, rr = G.shape
        W = (V.reshape(-1, r) @ G.reshape(r, dk * rr)).reshape(B, V.shape[1], dk, rr)
        if k == out_position:
            V = W.reshape(B, dk, rr)
        else:
            if feats.shape[-1] != dk:
                raise ValueError(f"embedding: dimension {feats.shape[-1]} does not match site {k} ({dk})")
            V = np.einsum("bcpr,bp->bcr", W, feats[:, j, :].astype(dt, copy=False))
            j += 1
    V = V[:, :, 0]
    return V[:, 0] if out_position is None else V


# ---- TT-RS: tensor train of an empirical distribution --------------------------------------

def _cluster_sketch(n, d, size, side):
    """Indicator functions of the ``size`` variables next to each cut, as TT cores."""
    cores = []
    if side == "left":
        for k in range(n - 1):  # core for variable k: states = last min(k, size) values
            ml, mr = d ** min(k, size), d ** min(k + 1, size)
            W = np.zeros((ml, d, mr))
            for a in range(ml):
                for x in range(d):
                    b = (a * d + x) % mr
                    W[a, x, b] = 1.0
            cores.append(W)
    else:
        for k in range(1, n):  # core for variable k: states = first min(n - k, size) values of x_{k:}
            ml, mr = d ** min(n - k, size), d ** min(n - k - 1, size)
            V = np.zeros((ml, d, mr))
            for x in range(d):
                for b in range(mr):
                    # state of x_{k:} = its first min(n - k, size) digits, x_k most significant:
                    # prepend x_k to the state b of x_{k+1:} and keep the leading digits.
                    s_new, s_old = min(n - k, size), min(n - k - 1, size)
                    a = (x * d ** s_old + b) // d ** (s_old + 1 - s_new)
                    V[a, x, b] = 1.0
            cores.append(V)
    return cores


def _random_sketch(n, d, m, side, rng):
    """Random tensor-train sketch whose slices are blocks of random orthogonal matrices (so the
    sketch functions of long prefixes / suffixes stay well conditioned)."""
    cores = []
    for k in range(n - 1):
        if side == "left":
            ml, mr = (1 if k == 0 else m), m
        else:
            ml, mr = m, (1 if k == n - 2 else m)
        W = np.empty((ml, d, mr))
        for x in range(d):
            q, _ = np.linalg.qr(rng.standard_normal((max(ml, mr), max(ml, mr))))
            W[:, x, :] = q[:ml, :mr]
        cores.append(W)
    return cores


def tt_rs(samples, d=None, rank=None, cutoff=None, sketch: str = "cluster", cluster_size: int = 1,
          sketch_dim=None, seed=None, dtype=np.float64):
    r"""Tensor train of the empirical distribution of discrete samples (TT-RS, recursive sketching).

    For ``p(x) = (1/N) sum_i [x = y_i]``, each site k forms the sketch
    ``Phi_k(alpha, x_k, beta) = (1/N) sum_i L_alpha(y_{i,1:k-1}) [y_{i,k} = x_k] R_beta(y_{i,k+1:n})``
    with left/right sketch functions L, R that are themselves tensor trains (so the sketches are
    computed sample by sample); then the same trim (SVD), core solve
    ``min ||A_{k-1} G_k - B_k||`` and recursion ``A_k = W_k^T B_k`` as TT-RSS.

    Parameters
    ----------
    samples : array_like of int, shape (N, n)
        Values in ``{0, ..., d-1}``.
    d : int, optional
        Number of states per variable (default: max value + 1).
    rank, cutoff
        Bond rule, as in :func:`tt_rss` (at least one is advised).
    sketch : {"cluster", "random"}
        ``"cluster"``: indicator functions of the ``cluster_size`` variables next to the cut
        (exact for Markov chains of that order); ``"random"``: Gaussian tensor-train sketches
        of dimension ``sketch_dim`` (default ``2 * rank + 2``, or 10).
    seed : int, optional
        For the random sketch.
    dtype : float32 or float64

    Returns
    -------
    TensorTrain
        Cores (r_{k-1}, d, r_k); the represented tensor approximates the probability table
        (it sums to about 1; small negative entries may occur).

    Notes
    -----
    TT-RS reads its samples and calls no black box, so it takes no ``executor``.
    """
    y = np.asarray(_to_numpy(samples))
    if y.ndim != 2:
        raise ValueError(f"samples: expected a 2-d array (N, n), got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(y == np.rint(y)):
            raise ValueError("samples: expected integer values")
    elif y.dtype.kind not in "iub":
        raise TypeError(f"samples: expected integers, got dtype {y.dtype}")
    y = np.ascontiguousarray(y, dtype=np.int64)
    N, n = y.shape
    if n < 2:
        raise ValueError(f"samples: need at least two variables, got {n}")
    if N < 1:
        raise ValueError("samples: need at least one sample")
    if y.min() < 0:
        raise ValueError("samples: values must be >= 0")
    d = int(y.max()) + 1 if d is None else as_int(d, "d", minimum=1)
    if y.max() >= d:
        raise ValueError(f"samples: values must be < d = {d}")
    rank = as_int(rank, "rank", minimum=1, allow_none=True)
    cutoff = as_float(cutoff, "cutoff", minimum=0.0, allow_none=True)
    suffix = core_suffix(dtype)
    if suffix not in ("f32", "f64"):
        raise TypeError(f"dtype: expected float32 or float64, got {np.dtype(dtype)}")
    if sketch == "cluster":
        cluster_size = as_int(cluster_size, "cluster_size", minimum=1)
        m = float(d) ** min(cluster_size, n - 1)
        require_memory(2 * 8 * (n - 1) * m * d * m, f"tt_rs: the cluster sketch of {n} variables with d={d} "
                       f"states and cluster_size={cluster_size}", "; use sketch='random' with a small sketch_dim")
        left = _cluster_sketch(n, d, cluster_size, "left")
        right = _cluster_sketch(n, d, cluster_size, "right")
    elif sketch == "random":
        rng = np.random.default_rng(seed)
        m = as_int(sketch_dim, "sketch_dim", minimum=1) if sketch_dim is not None else (2 * rank + 2 if rank else 10)
        require_memory(2 * 8 * (n - 1) * float(m) * d * m, f"tt_rs: the random sketch of {n} variables with "
                       f"d={d} states and sketch_dim={m}", "; use a smaller sketch_dim")
        left = _random_sketch(n, d, m, "left", rng)
        right = _random_sketch(n, d, m, "right", rng)
    else:
        raise ValueError(f"sketch: expected 'cluster' or 'random', got {sketch!r}")
    res = getattr(_core, f"tt_rs_{suffix}")(y, d, left, right, int(rank or 0),
                                           -1.0 if cutoff is None else float(cutoff))
    return TensorTrain(res["cores"], copy=False)


def _right_marginals(tt: TensorTrain):
    """m[k] = sum over x_{k:} of the train from site k on (vector of size r_{k-1}); m[n] = [1]."""
    n = tt.ndim
    m = [None] * (n + 1)
    m[n] = np.ones(1, dtype=np.float64)
    for k in range(n - 1, -1, -1):
        G = tt.cores[k].astype(np.float64)
        m[k] = G.sum(axis=1) @ m[k + 1]
    return m


def tt_density(tt: TensorTrain, x, normalize: bool = True) -> np.ndarray:
    """Values ``p(x)`` of a tensor-train density at integer points.

    Parameters
    ----------
    tt : TensorTrain
    x : array_like of int, shape (B, n)
    normalize : bool
        Divide by the total sum of the tensor.

    Returns
    -------
    ndarray, shape (B,)
    """
    if not isinstance(tt, TensorTrain):
        raise TypeError("tt: expected a TensorTrain")
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != tt.ndim:
        raise ValueError(f"x: expected shape (B, {tt.ndim}), got {x.shape}")
    xi = x.astype(np.int64)
    if np.any(xi != x) or np.any(xi < 0) or np.any(xi >= np.array(tt.shape)):
        raise ValueError("x: expected integers with 0 <= x[:, k] < tt.shape[k]")
    v = np.ones((x.shape[0], 1))
    for k, G in enumerate(tt.cores):
        v = np.einsum("ba,bac->bc", v, G.astype(np.float64).transpose(1, 0, 2)[xi[:, k]])
    out = v[:, 0]
    if normalize:
        z = float(_right_marginals(tt)[0][0])
        if z == 0:
            raise ValueError("tt: the tensor sums to zero; cannot normalize")
        out = out / z
    return out


def tt_sample(tt: TensorTrain, n_samples: int, seed=None) -> np.ndarray:
    """Exact sequential sampling from a nonnegative tensor-train density.

    ``x_1 ~ p(x_1)``, then ``x_k ~ p(x_k | x_{1:k-1})`` using right marginals; the conditionals
    are computed exactly from the cores.  Negative conditional weights (a slightly non-positive
    approximate density) are clipped to zero before normalizing.

    Parameters
    ----------
    tt : TensorTrain
    n_samples : int
    seed : int or numpy Generator, optional

    Returns
    -------
    ndarray of int64, shape (n_samples, n)
    """
    if not isinstance(tt, TensorTrain):
        raise TypeError("tt: expected a TensorTrain")
    n_samples = as_int(n_samples, "n_samples", minimum=0)
    require_memory(8.0 * n_samples * (tt.ndim + 4 * max(tt.shape) * max(tt.ranks)),
                   f"tt_sample: {n_samples} samples of {tt.ndim} variables")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    marg = _right_marginals(tt)
    if not marg[0][0] > 0:
        raise ValueError("tt: the tensor must have a positive total sum to be sampled")
    n = tt.ndim
    out = np.empty((n_samples, n), dtype=np.int64)
    v = np.ones((n_samples, 1))
    for k, G in enumerate(tt.cores):
        G = G.astype(np.float64)
        W = np.einsum("ba,apc->bpc", v, G)  # (B, d, r)
        w = np.maximum(W @ marg[k + 1], 0.0)  # (B, d)
        tot = w.sum(axis=1, keepdims=True)
        if np.any(tot <= 0):
            raise ValueError(f"tt: a conditional at site {k} has no positive weight; not a density")
        cdf = np.cumsum(w / tot, axis=1)
        u = rng.random(n_samples)
        xk = np.minimum((cdf < u[:, None]).sum(axis=1), G.shape[1] - 1)
        out[:, k] = xk
        v = W[np.arange(n_samples), xk]
        scale = np.abs(v).max(axis=1, keepdims=True)
        v = v / np.where(scale > 0, scale, 1.0)
    return out
