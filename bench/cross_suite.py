"""Cross interpolation on a wide suite: tnfast ``tt_cross`` (default options) against
``teneva.cross`` and xfac's ``TensorCI2``, several seeds per function.

    PYTHONPATH=python python bench/cross_suite.py --seeds 10 [--cases a,b] [--no-xfac] [--no-teneva]
        [--xfac-seeds K] [--out bench/results/cross_suite.json]

Per function and seed, every library builds a tensor train of the function to the function's
``rel_tol``; the table gives, per function and library, the median evaluations of ``f``
(distinct points, everything the library asked for: initial samples, probes, random checks,
teneva's validation set), the median wall time of the whole run (``f`` included), the
quantiles (50 % / 90 % / max over seeds) of the true error ``max |f - tt| / max |f|`` on 10^4
fresh uniformly random grid points, and the miss rate: the fraction of seeds whose true error
exceeds 10 x ``rel_tol``.  For tnfast, ``reported`` counts the misses that the run flagged
itself (``info.converged`` False and ``info.error_estimate`` above ``rel_tol``); ``estimate``
is the median of ``info.error_estimate``.

Baselines
---------
* teneva (``pip install teneva``): ``teneva.cross`` from a random rank-2 train, rank growth by
  rectangular maxvol (``dr_max=2``), a cache of evaluated points, and stopping on a
  validation set of 1000 random points (``e_vld=rel_tol``, relative L2 error; its 1000
  evaluations are counted) or after 30 sweeps / 3 * 10^5 requests (its time grows fast with
  the rank: a budget keeps the suite within minutes).
* xfac (tensor4all/xfac, built outside this repository with a small pybind11 driver, see
  bench/README.md): ``TensorCI2<double>`` with its defaults (rook search, ``nRookIter=3``,
  cached function), ``reltol=rel_tol``, ``bondDim=300``, the first pivot the largest ``|f|``
  of the same 64 random points tnfast starts from, half-sweeps until ``isDone()`` (after at
  least one full sweep) or 40 half-sweeps.  xfac calls ``f`` once per point, so its time
  includes one Python call per evaluation; compare evaluations and errors, not its time.
  The driver is imported from ``$XFAC_BENCH_DIR`` (default ``/work/xfac-build``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings

import numpy as np

import tnfast
from tnfast.grids import chebyshev_grid, gauss_legendre_grid, grid_function, quantics, uniform_grid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_cross import Counting, _random_tt  # noqa: E402  (one definition of the shared setup)

try:
    import teneva
except ImportError:  # pragma: no cover
    teneva = None


def _xfac():
    sys.path.insert(0, os.environ.get("XFAC_BENCH_DIR", "/work/xfac-build"))
    try:
        import xfacbench
    except ImportError:
        return None
    finally:
        sys.path.pop(0)
    return xfacbench


# ---- functions ----------------------------------------------------------------------------

def _ackley(x):
    n = x.shape[1]
    return (-20.0 * np.exp(-0.2 * np.sqrt(np.sum(x ** 2, axis=1) / n))
            - np.exp(np.sum(np.cos(2 * np.pi * x), axis=1) / n) + 20.0 + np.e)


def _rosenbrock(x):
    return np.sum(100.0 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1.0 - x[:, :-1]) ** 2, axis=1)


def _corner_peak(x):
    c = 1.0 / np.arange(1, x.shape[1] + 1)
    return (1.0 + x @ c) ** (-(x.shape[1] + 1))


def make_cases():
    """name -> (builder(seed) -> (f, shape), rel_tol, description)."""
    ch24 = chebyshev_grid(-1.0, 1.0, 24)
    u33 = uniform_grid(-1.0, 1.0, 33)
    u16 = uniform_grid(-1.0, 1.0, 16)
    gl16 = gauss_legendre_grid(0.0, 1.0, 16)[0]
    ack = uniform_grid(-32.768, 32.768, 16)
    ros = uniform_grid(-2.0, 2.0, 16)

    def fixed(f, shape):
        return lambda seed: (f, shape)

    q1 = quantics(lambda x: np.cos(300.0 * x[:, 0]) * np.exp(-4.0 * x[:, 0]) + 1.0 / (1.0 + 1e4 * (x[:, 0] - 0.3) ** 2),
                  n_vars=1, bits=20, a=0.0, b=1.0)
    q2 = quantics(lambda x: np.exp(-(x ** 2).sum(1)), n_vars=2, bits=20, a=-1.0, b=1.0)
    q3 = quantics(lambda x: np.exp(-(x ** 2).sum(1)), n_vars=2, bits=10, a=-1.0, b=1.0)
    return {
        "smooth_cheb_10x24": (fixed(grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [ch24] * 10),
                                    (24,) * 10), 1e-12, "1/(1+|x|^2), Chebyshev 24^10"),
        "oscillatory_cheb_8x24": (fixed(grid_function(lambda x: np.sin(6.0 * np.sqrt(np.sum(x ** 2, axis=1) + 0.01)),
                                                      [ch24] * 8), (24,) * 8), 1e-8,
                                  "sin(6 sqrt(|x|^2+0.01)), Chebyshev 24^8"),
        "cusp_uniform_6x33": (fixed(grid_function(lambda x: 1.0 / (1.0 + np.sum(np.abs(x), axis=1)), [u33] * 6),
                                    (33,) * 6), 1e-8, "1/(1+|x|_1), uniform 33^6 (cusps at 0)"),
        "step_uniform_6x16": (fixed(grid_function(lambda x: (np.sum(x, axis=1) > 0.3) + np.exp(-np.sum(x ** 2, 1)),
                                                  [u16] * 6), (16,) * 6), 1e-8,
                              "[sum x > 0.3] + exp(-|x|^2), uniform 16^6"),
        "quantics_1d_2^20": (fixed(q1, q1.shape), 1e-8, "cos(300x)e^(-4x) + 1/(1+1e4(x-0.3)^2), 2^20 points"),
        "quantics_2d_2^20": (fixed(q3, q3.shape), 1e-10, "exp(-x^2-y^2) on [-1,1)^2, 2 x 10 bits interleaved"),
        "quantics_2d_2^40": (fixed(q2, q2.shape), 1e-10, "exp(-x^2-y^2) on [-1,1)^2, 2 x 20 bits interleaved"),
        "random_tt_12x6_r8": (lambda seed: (_random_tt((6,) * 12, 8, 1000 + seed), (6,) * 12), 1e-10,
                              "random TT of rank 8 (a new one per seed), 6^12"),
        "corner_peak_gl_8x16": (fixed(grid_function(_corner_peak, [gl16] * 8), (16,) * 8), 1e-10,
                                "Genz corner peak (1+sum x_k/k)^-9, Gauss-Legendre 16^8 on [0,1]"),
        "ackley_10x16": (fixed(grid_function(_ackley, [ack] * 10), (16,) * 10), 1e-6, "Ackley, uniform 16^10"),
        "rosenbrock_10x16": (fixed(grid_function(_rosenbrock, [ros] * 10), (16,) * 10), 1e-10,
                             "Rosenbrock, uniform 16^10 on [-2,2]"),
    }


# ---- runners ------------------------------------------------------------------------------

def start_point(f, shape, seed):
    rng = np.random.default_rng(seed)
    pts = np.stack([rng.integers(0, d, 64) for d in shape], axis=1)
    return pts[int(np.argmax(np.abs(f(pts))))]


def run_tnfast(f, shape, rel_tol, seed):
    cf = Counting(f)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tt, info = tnfast.tt_cross(cf, shape, rel_tol=rel_tol, seed=seed)
    sec = time.perf_counter() - t0
    return dict(cores=tt.cores, evals=cf.unique, seconds=sec, converged=info.converged,
                estimate=info.error_estimate, check_points=info.check_points,
                confirm_points=info.confirm_points, bound=info.fraction_bound, max_abs=info.max_abs,
                sweeps=info.n_sweeps,
                rank=max(tt.bond_dims) if tt.ndim > 1 else 1)


def run_teneva(f, shape, rel_tol, seed):
    rng = np.random.default_rng(seed + 77)
    vpts = np.stack([rng.integers(0, d, 1000) for d in shape], axis=1)
    cf = Counting(f)
    t0 = time.perf_counter()
    yv = cf(vpts)
    Y0 = teneva.rand(list(shape), 2, seed=seed)
    Y = teneva.cross(cf, Y0, m=300_000, nswp=30, dr_min=1, dr_max=2, cache={}, I_vld=vpts, y_vld=yv,
                     e_vld=rel_tol, info={})
    sec = time.perf_counter() - t0
    cores = [np.asarray(c) for c in Y]
    return dict(cores=cores, evals=cf.unique, seconds=sec, rank=max(c.shape[2] for c in cores[:-1]))


def run_xfac(xfac, f, shape, rel_tol, seed, stable=0):
    p1 = [int(v) for v in start_point(f, shape, seed)]
    count = [0]

    def fp(x):
        count[0] += 1
        return float(f(np.asarray(x, dtype=np.int64)[None, :])[0])
    t0 = time.perf_counter()
    out = xfac.tci2(fp, list(shape), rel_tol, 300, False, 3, 40, p1, stable)
    sec = time.perf_counter() - t0
    cores = [np.ascontiguousarray(c) for c in out["cores"]]
    return dict(cores=cores, evals=int(count[0]), seconds=sec, converged=bool(out["done"]),
                rank=max(c.shape[2] for c in cores[:-1]))


def true_error(cores, pts, ref, rel_tol, max_abs=0.0):
    """max |f - tt| / max |f| on the points, and the share of them where |f - tt| exceeds
    rel_tol * max(max |f| there, max_abs) (what ``CrossInfo.fraction_bound`` bounds, with
    max_abs the largest |f| the run saw)."""
    err = np.abs(tnfast.TensorTrain(cores).evaluate(pts) - ref)
    top = np.abs(ref).max()
    return float(err.max() / top), float(np.mean(err > rel_tol * max(top, max_abs)))


# ---- suite --------------------------------------------------------------------------------

def run_suite(names, seeds, libs, xfac_seeds, partial=None, limits=None, done=()):
    cases = make_cases()
    xfac = _xfac() if "xfac" in libs else None
    if "xfac" in libs and xfac is None:
        print("xfac driver not found: xfac skipped", file=sys.stderr)
        libs = [x for x in libs if not x.startswith("xfac")]
    records = list(done)
    have = {(r["case"], r["lib"], r["seed"]) for r in records}
    limits = limits or {}
    for name in names:
        build, rel_tol, desc = cases[name]
        for seed in range(seeds):
            f, shape = build(seed)
            rng = np.random.default_rng(10_000 + seed)
            pts = np.stack([rng.integers(0, d, 10_000) for d in shape], axis=1)
            ref = f(pts)
            for lib in libs:
                if lib.startswith("xfac") and seed >= xfac_seeds:
                    continue
                if seed >= limits.get((name, lib), seeds) or (name, lib, seed) in have:
                    continue
                if lib == "tnfast":
                    r = run_tnfast(f, shape, rel_tol, seed)
                elif lib == "teneva":
                    r = run_teneva(f, shape, rel_tol, seed)
                elif lib == "xfac":
                    r = run_xfac(xfac, f, shape, rel_tol, seed)
                else:
                    r = run_xfac(xfac, f, shape, rel_tol, seed, stable=4)
                r["error"], r["share"] = true_error(r.pop("cores"), pts, ref, rel_tol, r.get("max_abs", 0.0))
                r.update(case=name, lib=lib, seed=seed, rel_tol=rel_tol)
                records.append(r)
                if partial:  # a record of the runs so far, in case the suite is interrupted
                    with open(partial, "w") as fh:
                        json.dump(records, fh)
                print(f"  {name:24s} {lib:7s} seed {seed}: {r['evals']:>9d} evals {r['seconds']:8.3f} s "
                      f"error {r['error']:.2e} rank {r['rank']}"
                      + (f" est {r['estimate']:.1e} conv {r['converged']}" if lib == "tnfast" else ""),
                      file=sys.stderr, flush=True)
    return records


def summarize(records):
    rows = []
    keys = []
    for r in records:
        if (r["case"], r["lib"]) not in keys:
            keys.append((r["case"], r["lib"]))
    for case, lib in keys:
        rs = [r for r in records if r["case"] == case and r["lib"] == lib]
        tol = rs[0]["rel_tol"]
        err = np.array([r["error"] for r in rs])
        miss = err > 10 * tol
        row = dict(case=case, lib=lib, rel_tol=tol, seeds=len(rs), evals=float(np.median([r["evals"] for r in rs])),
                   seconds=float(np.median([r["seconds"] for r in rs])), err50=float(np.quantile(err, 0.5)),
                   err90=float(np.quantile(err, 0.9)), errmax=float(err.max()), misses=int(miss.sum()),
                   rank=int(np.median([r["rank"] for r in rs])))
        if lib == "tnfast":
            flagged = [(not r["converged"]) and r["estimate"] > tol for r in rs]
            row["reported"] = int(sum(f for f, m in zip(flagged, miss) if m))
            # the promise of a converged run: share of points above rel_tol < 3 / confirm_points
            if all("share" in r and "bound" in r for r in rs):
                row["promise_broken"] = int(sum(r["converged"] and r["share"] >= r["bound"] for r in rs))
                row["share_max"] = float(max(r["share"] for r in rs))
                row["bound_min"] = float(min(r["bound"] for r in rs))
            row["estimate"] = float(np.nanmedian([r["estimate"] for r in rs]))
        rows.append(row)
    return rows


def print_table(rows):
    print(f"| function | rel_tol | library | seeds | evaluations (median) | time s (median) | error 50% / 90% / max "
          f"| misses (> 10 rel_tol) | rank |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        miss = f"{r['misses']}/{r['seeds']}"
        if r["lib"] == "tnfast":
            miss += f" ({r['reported']} reported)" if r["misses"] else ""
            if "promise_broken" in r:
                miss += (f"; share > tol max {r['share_max']:.1e}, 3/N min {r['bound_min']:.1e}, "
                         f"{r['promise_broken']} above")
        print(f"| {r['case']} | {r['rel_tol']:.0e} | {r['lib']} | {r['seeds']} | {r['evals']:,.0f} | "
              f"{r['seconds']:.3f} | {r['err50']:.1e} / {r['err90']:.1e} / {r['errmax']:.1e} | {miss} | {r['rank']} |")
    # ratios against the baselines, per function
    print()
    print("| function | evaluations teneva / tnfast | time teneva / tnfast | evaluations xfac / tnfast "
          "| evaluations xfac_strict / tnfast |")
    print("|---|---|---|---|---|")
    for case in dict.fromkeys(r["case"] for r in rows):
        by = {r["lib"]: r for r in rows if r["case"] == case}
        t = by.get("tnfast")
        if t is None:
            continue
        te, xf, xs = by.get("teneva"), by.get("xfac"), by.get("xfac_strict")
        print(f"| {case} | {te['evals'] / t['evals']:.2f} | {te['seconds'] / t['seconds']:.1f} |" if te else
              f"| {case} | - | - |", end="")
        print(f" {xf['evals'] / t['evals']:.2f} |" if xf else " - |", end="")
        print(f" {xs['evals'] / t['evals']:.2f} |" if xs else " - |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--xfac-seeds", type=int, default=None, help="seeds for xfac (default: --seeds)")
    ap.add_argument("--cases", default="", help="comma-separated subset of: " + ", ".join(make_cases()))
    ap.add_argument("--no-teneva", action="store_true")
    ap.add_argument("--no-xfac", action="store_true")
    ap.add_argument("--limit", action="append", default=[], metavar="CASE:LIB:SEEDS",
                    help="run LIB on CASE for fewer seeds (e.g. a baseline too slow there)")
    ap.add_argument("--resume", default=None, help="records of an interrupted run (OUT.partial) to keep")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "cross_suite.json"))
    args = ap.parse_args(argv)
    names = [c for c in args.cases.split(",") if c] or list(make_cases())
    libs = ["tnfast"] + ([] if args.no_teneva or teneva is None else ["teneva"]) + ([] if args.no_xfac else ["xfac", "xfac_strict"])
    limits = {}
    for item in args.limit:
        case, lib, k = item.split(":")
        limits[(case, lib)] = int(k)
    done = []
    if args.resume:
        with open(args.resume) as fh:
            done = [r for r in json.load(fh) if r["case"] in names and r["lib"] in libs]
    records = run_suite(names, args.seeds, libs, args.seeds if args.xfac_seeds is None else args.xfac_seeds,
                        partial=args.out + ".partial", limits=limits, done=done)
    rows = summarize(records)
    print_table(rows)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(dict(command="python bench/cross_suite.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                       date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=platform.machine(),
                       teneva=getattr(teneva, "__version__", None), rows=rows, records=records), fh, indent=1)
    if os.path.exists(args.out + ".partial"):
        os.remove(args.out + ".partial")


if __name__ == "__main__":
    main()
