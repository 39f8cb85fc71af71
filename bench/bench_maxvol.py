"""maxvol / rect_maxvol: tnfast vs teneva vs a numpy + LAPACK implementation of the same algorithm.

pytest-benchmark (each case asserts that all implementations select the same rows):

    PYTHONPATH=python python -m pytest bench/bench_maxvol.py --benchmark-group-by=group

Side-by-side ratios, best of N, written to bench/results/maxvol.json:

    PYTHONPATH=python python bench/bench_maxvol.py [--threads N] [--quick]

Both run with one BLAS thread unless told otherwise (--threads 0 leaves the default).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tnfast  # noqa: E402
from _reference import maxvol_ref, rect_maxvol_ref  # noqa: E402

try:
    import teneva
except ImportError:  # pragma: no cover
    teneva = None

SIZES = [(1000, 20), (10000, 50), (100000, 100)]
TOL = 1.05
# teneva.maxvol starts from scipy.linalg.lu(A), which builds the dense n x n permutation
# matrix: 80 GB at n = 100000, so teneva is only run up to this many rows.
TENEVA_MAX_ROWS = 20000


def matrix(n, r, seed=0):
    return np.random.default_rng(seed).standard_normal((n, r))


def square_impls():
    impls = {
        "tnfast": lambda A: tnfast.maxvol(A, tol=TOL, return_coef=True)[0],
        "numpy_lapack": lambda A: maxvol_ref(A, TOL)[0],
    }
    if teneva is not None:
        impls["teneva"] = lambda A: teneva.maxvol(A, TOL, 100)[0]
    return impls


def rect_impls():
    impls = {
        "tnfast": lambda A: tnfast.rect_maxvol(A, tol=1.1, return_coef=True)[0],
        "numpy_lapack": lambda A: rect_maxvol_ref(A, 1.1)[0],
    }
    if teneva is not None:
        # same start: maxvol at 1.05 with up to 100 swaps
        impls["teneva"] = lambda A: teneva.maxvol_rect(A, 1.1, e0=1.05, k0=100)[0]
    return impls


# ---- pytest-benchmark ------------------------------------------------------------------------

@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Single-threaded comparison: tnfast's maxvol is sequential, and multi-threaded OpenBLAS
    on a small, shared machine mostly measures the contention."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(1):
        yield


@pytest.mark.parametrize("shape", SIZES, ids=[f"{n}x{r}" for n, r in SIZES])
@pytest.mark.parametrize("impl", ["tnfast", "numpy_lapack", "teneva"])
def test_maxvol(benchmark, impl, shape):
    fns = square_impls()
    if impl not in fns:
        pytest.skip("teneva not installed")
    if impl == "teneva" and shape[0] > TENEVA_MAX_ROWS:
        pytest.skip("teneva.maxvol needs an n x n permutation matrix")
    A = matrix(*shape)
    benchmark.group = f"maxvol {shape[0]}x{shape[1]}"
    rounds = 10 if impl == "tnfast" else 3
    rows = benchmark.pedantic(fns[impl], args=(A,), rounds=rounds, iterations=1, warmup_rounds=1)
    np.testing.assert_array_equal(np.asarray(rows), tnfast.maxvol(A, tol=TOL))


@pytest.mark.parametrize("impl", ["tnfast", "numpy_lapack", "teneva"])
def test_rect_maxvol(benchmark, impl):
    fns = rect_impls()
    if impl not in fns:
        pytest.skip("teneva not installed")
    A = matrix(10000, 50, seed=1)
    benchmark.group = "rect_maxvol 10000x50"
    rows = benchmark.pedantic(fns[impl], args=(A,), rounds=5, iterations=1, warmup_rounds=1)
    np.testing.assert_array_equal(np.asarray(rows), tnfast.rect_maxvol(A, tol=1.1))


# ---- stand-alone side-by-side run --------------------------------------------------------------

def best_of(fn, A, repeats, budget=20.0):
    """Best of `repeats` timed calls after a warm-up call; stops early once `budget` seconds
    have been spent (at least one timed call)."""
    t0 = time.perf_counter()
    fn(A)
    spent = time.perf_counter() - t0
    best = float("inf")
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(A)
        dt = time.perf_counter() - t0
        best = min(best, dt)
        spent += dt
        if spent > budget:
            break
    return best, np.asarray(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads of numpy/scipy and of tnfast's OpenBLAS (default 1; 0: leave as is)")
    p.add_argument("--quick", action="store_true", help="skip the 100000 x 100 case")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "maxvol.json"))
    args = p.parse_args(argv)
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    results = []
    cases = [("maxvol", s, square_impls()) for s in SIZES if not (args.quick and s[0] >= 100000)]
    cases.append(("rect_maxvol", (10000, 50), rect_impls()))
    for kind, (n, r), fns in cases:
        A = matrix(n, r, seed=0 if kind == "maxvol" else 1)
        big = n * r >= 10 ** 7
        times, rows = {}, {}
        for name, fn in fns.items():
            if name == "teneva" and n > TENEVA_MAX_ROWS:
                continue
            reps = args.repeats if (name == "tnfast" or not big) else 2
            times[name], rows[name] = best_of(fn, A, reps)
        same = all(np.array_equal(rows["tnfast"], v) for v in rows.values())
        rec = {"case": f"{kind} {n}x{r}", "seconds": times, "identical_rows": bool(same),
               "speedup": {k: times[k] / times["tnfast"] for k in times if k != "tnfast"},
               "rows_selected": int(len(rows["tnfast"]))}
        results.append(rec)
        line = "  ".join(f"{k} {v * 1e3:9.2f} ms" for k, v in times.items())
        sp = "  ".join(f"x{v:6.1f} vs {k}" for k, v in rec["speedup"].items())
        print(f"{rec['case']:<24} {line}   {sp}   identical rows: {same}", flush=True)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.machine(),
            "processor": platform.processor(), "cpu_count": os.cpu_count(), "threads": args.threads,
            "numpy": np.__version__, "teneva": getattr(teneva, "__version__", None), "tol": TOL,
            "repeats": args.repeats, "timing": "best of repeats, one warm-up call"}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    print("written", args.out)


if __name__ == "__main__":
    main()
