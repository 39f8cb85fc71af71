"""Cross interpolation: ``tnfast.tt_cross`` against ``teneva.cross`` on the same functions.

Table (best-of-N wall time, error on 10^4 fresh random points, function evaluations: every
point passed to f, and the distinct ones):

    PYTHONPATH=python python bench/bench_cross.py [--repeats 3]

pytest-benchmark (same cases, one benchmark per method):

    PYTHONPATH=python python -m pytest bench/bench_cross.py --benchmark-only

teneva is run three ways: with its convergence check (``e`` set: it stops when the relative
change between sweeps falls below ``e``), with a fixed number of sweeps (``e`` unset), and
with validation on a held-out set (``I_vld``/``y_vld``/``e_vld``).  It starts from a random
train of the target rank and grows ranks with its default rectangular maxvol (``dr_max=1``);
the result is truncated with ``teneva.truncate`` before measuring the error.  Both libraries
get a cache of evaluated points (teneva's ``cache=dict``).  tci2 also runs with
``check_samples=0`` (no random-point check: each run ends with a confirming pass) as the
pivot rule's baseline.  The first tnfast row uses the default options (``pivot_search="auto"``);
the wide comparison over many functions and seeds is ``bench/cross_suite.py``.

Evaluations are counted by wrapping f, so they include everything either side asks for:
tnfast's random-point stopping check, its initial samples and probes; teneva's count adds
the 1000 points of its validation set.  The error/evaluations trade-off of each side is
shown by tnfast rook at looser ``rel_tol`` (and with ``rook_probe="entries"``) and teneva
(with validation) at a higher rank;
rows with strict rook pivots (``rook_tol=1``; with two probes per bond,
``rook_restarts=1``, the earlier default) show what the default threshold and single probe save;
the summary compares each teneva run with the tnfast runs whose relative L2 error is equal
or better (below 1e-13 both count as round-off).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pytest

import tnfast
from tnfast.grids import grid_function, uniform_grid

try:
    import teneva
except ImportError:  # pragma: no cover
    teneva = None


# ---- cases ---------------------------------------------------------------------------------
def _random_tt(shape, rank, seed=0):
    """f(idx) of a random tensor train (Gaussian cores, bond `rank`); also used by cross_suite.py."""
    rng = np.random.default_rng(seed)
    ranks = [1] + [rank] * (len(shape) - 1) + [1]
    cores = [rng.standard_normal((ranks[k], d, ranks[k + 1])) / np.sqrt(ranks[k]) for k, d in enumerate(shape)]

    def f(idx):
        idx = np.asarray(idx)
        v = cores[0][0, idx[:, 0], :]
        for k in range(1, len(cores)):
            v = np.einsum("br,rbs->bs", v, cores[k][:, idx[:, k], :])
        return v[:, 0]
    return f


def make_cases():
    shape_r = (8,) * 10
    g1 = uniform_grid(-1.0, 1.0, 16)
    g2 = uniform_grid(0.0, 1.0, 16)
    return {
        # name: (f, shape, rank for fixed-rank methods, sweeps for fixed-sweep methods)
        "random_tt_10x8_r5": (_random_tt(shape_r, 5), shape_r, 5, 4),
        "lorentzian_10x16": (grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g1] * 10),
                             (16,) * 10, 11, 4),
        "sin_sum_10x16": (grid_function(lambda x: np.sin(np.sum(x, axis=1)), [g2] * 10), (16,) * 10, 2, 4),
    }


class Counting:
    """Counts the points passed to f (evaluations as the function sees them).

    ``points`` counts every point of every call; ``unique`` (computed after the run, outside
    the timed region) counts distinct multi-indices.
    """

    def __init__(self, f):
        self.f = f
        self.points = 0
        self.calls = 0
        self.batches = []

    def __call__(self, idx):
        idx = np.asarray(idx)
        self.points += len(idx)
        self.calls += 1
        self.batches.append(idx)
        return self.f(idx)

    @property
    def unique(self):
        if not self.batches:
            return 0
        return len(np.unique(np.concatenate(self.batches), axis=0))


# ---- runners: each returns (list of cores, evaluations, distinct points evaluated) ---------
def run_tnfast(f, shape, rank, sweeps, method="tci2", search="full", check=True, rel_tol=1e-12, probe="lines",
               **extra):
    kw = dict(rel_tol=rel_tol, seed=0, **extra)
    if method == "maxvol1":
        kw.update(method="maxvol1", max_rank=rank, max_sweeps=sweeps)
    else:
        kw.update(pivot_search=search)
        if search == "rook":
            kw.update(rook_probe=probe)
        if not check:
            kw.update(check_samples=0)
    cf = Counting(f)
    tt, info = tnfast.tt_cross(cf, shape, **kw)
    return tt.cores, cf.points, cf


def run_teneva(f, shape, rank, sweeps, mode="e", vld=None):
    cf = Counting(f)
    Y0 = teneva.rand(list(shape), rank, seed=0)
    info = {}
    kw = dict(cache={}, info=info)
    if mode == "e":
        kw.update(e=1e-10, nswp=20)
    elif mode == "fixed":
        kw.update(nswp=sweeps)
    else:
        kw.update(I_vld=vld[0], y_vld=vld[1], e_vld=1e-10, nswp=20)
    Y = teneva.cross(cf, Y0, **kw)
    Y = teneva.truncate(Y, 1e-12)
    extra = len(vld[0]) if mode == "vld" else 0  # the validation set costs evaluations too
    return [np.asarray(c) for c in Y], cf.points + extra, (cf, extra)


def measure(cores, f, pts, ref):
    tt = tnfast.TensorTrain(cores)
    val = tt.evaluate(pts)
    return (float(np.abs(val - ref).max() / np.abs(ref).max()), float(np.linalg.norm(val - ref) / np.linalg.norm(ref)),
            max(tt.bond_dims) if tt.ndim > 1 else 1)


def best_time(fn, repeats):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def table(repeats=3):
    rows = []
    rng = np.random.default_rng(123)
    for name, (f, shape, rank, sweeps) in make_cases().items():
        pts = np.stack([rng.integers(0, d, 10_000) for d in shape], axis=1)
        ref = f(pts)
        vpts = np.stack([rng.integers(0, d, 1000) for d in shape], axis=1)
        vld = (vpts, f(vpts))
        methods = [
            ("tnfast tci2 default options", lambda: run_tnfast(f, shape, rank, sweeps, search="auto")),
            ("tnfast tci2 full", lambda: run_tnfast(f, shape, rank, sweeps)),
            ("tnfast tci2 rook", lambda: run_tnfast(f, shape, rank, sweeps, search="rook")),
            # looser tolerances: the error / evaluations trade-off
            ("tnfast tci2 rook, rel_tol=1e-11",
             lambda: run_tnfast(f, shape, rank, sweeps, search="rook", rel_tol=1e-11)),
            ("tnfast tci2 rook, rel_tol=1e-10",
             lambda: run_tnfast(f, shape, rank, sweeps, search="rook", rel_tol=1e-10)),
            # strict rook pivots (rook_tol=1), with one and two probes per bond (the latter
            # was the earlier default)
            ("tnfast tci2 rook, strict pivots",
             lambda: run_tnfast(f, shape, rank, sweeps, search="rook", rook_tol=1.0)),
            ("tnfast tci2 rook, strict, 2 probes",
             lambda: run_tnfast(f, shape, rank, sweeps, search="rook", rook_tol=1.0, rook_restarts=1)),
            # probes of random entries instead of lines
            ("tnfast tci2 rook, entry probes",
             lambda: run_tnfast(f, shape, rank, sweeps, search="rook", probe="entries")),
            ("tnfast tci2 rook, entries, 1e-11",
             lambda: run_tnfast(f, shape, rank, sweeps, search="rook", probe="entries", rel_tol=1e-11)),
            ("tnfast maxvol1", lambda: run_tnfast(f, shape, rank, sweeps, method="maxvol1")),
            # without the random-point check: converged only after a confirming pass
            ("tnfast tci2 full, no check", lambda: run_tnfast(f, shape, rank, sweeps, check=False)),
            ("tnfast tci2 rook, no check", lambda: run_tnfast(f, shape, rank, sweeps, search="rook", check=False)),
        ]
        if teneva is not None:
            methods += [
                ("teneva e=1e-10 (conv. check)", lambda: run_teneva(f, shape, rank, sweeps, "e")),
                (f"teneva nswp={sweeps} (no check)", lambda: run_teneva(f, shape, rank, sweeps, "fixed")),
                ("teneva + validation set", lambda: run_teneva(f, shape, rank, sweeps, "vld", vld)),
                # its trade-off: the same at rank + 2
                (f"teneva + validation, rank {rank + 2}",
                 lambda: run_teneva(f, shape, rank + 2, sweeps, "vld", vld)),
            ]
        for label, fn in methods:
            t, (cores, evals, counter) = best_time(fn, repeats)
            if isinstance(counter, tuple):  # teneva: its calls of f plus the validation set
                unique = counter[0].unique + counter[1]
            else:
                unique = counter.unique
            emax, e2, r = measure(cores, f, pts, ref)
            rows.append((name, label, t, emax, e2, evals, unique, r))
    return rows


def print_table(rows):
    print(f"{'case':<20} {'method':<34} {'time_s':>9} {'max_err':>9} {'rel_l2':>9} {'evals':>8} {'unique':>8} "
          f"{'rank':>4}")
    last = None
    for name, label, t, emax, e2, evals, unique, r in rows:
        if last is not None and name != last:
            print()
        last = name
        print(f"{name:<20} {label:<34} {t:>9.4f} {emax:>9.2e} {e2:>9.2e} {evals:>8} {unique:>8} {r:>4}")
    # Each teneva run against the fastest / most frugal tnfast run whose relative L2 error is
    # equal or better (errors below 1e-13 count as equal: both at round-off).
    print()
    for name in dict.fromkeys(r[0] for r in rows):
        ours = [r for r in rows if r[0] == name and r[1].startswith("tnfast")]
        for th in (r for r in rows if r[0] == name and r[1].startswith("teneva")):
            ok = [r for r in ours if r[4] <= max(th[4], 1e-13)]
            if not ok:
                print(f"{name:<20} {th[1]}: no tnfast run reached its error {th[4]:.1e}")
                continue
            fast = min(ok, key=lambda r: r[2])
            frugal = min(ok, key=lambda r: r[5])
            print(f"{name:<20} vs {th[1]:<32} {th[2] / fast[2]:7.1f}x faster ({fast[1]}), "
                  f"{th[5] / max(frugal[5], 1):5.2f}x fewer evaluations ({frugal[1]})")


# ---- pytest-benchmark -----------------------------------------------------------------------
CASES = make_cases()


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("method", ["tci2_auto", "tci2_full", "tci2_rook", "maxvol1"])
def test_tnfast_cross(benchmark, case, method):
    f, shape, rank, sweeps = CASES[case]
    kw = {"tci2_auto": dict(search="auto"), "tci2_full": dict(), "tci2_rook": dict(search="rook"),
          "maxvol1": dict(method="maxvol1")}[method]
    benchmark(lambda: run_tnfast(f, shape, rank, sweeps, **kw))


@pytest.mark.skipif(teneva is None, reason="teneva not installed")
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("mode", ["e", "fixed"])
def test_teneva_cross(benchmark, case, mode):
    f, shape, rank, sweeps = CASES[case]
    benchmark(lambda: run_teneva(f, shape, rank, sweeps, mode))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print_table(table(args.repeats))
