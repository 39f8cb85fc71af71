"""Dense kernels of the core: run-time BLAS/LAPACK vs Eigen only vs numpy.

The core sends large products, SVDs and QRs to the OpenBLAS registered at import time
(tnfast._backend) and computes everything with Eigen when none is registered.  This measures
what that choice is worth: a 2000 x 2000 product (float64, float32) and the SVD / QR of a
2000 x 500 matrix through ``tnfast._core`` with the BLAS registered, with Eigen only
(``tnfast._backend.load(disable=True)``), and through numpy.

pytest-benchmark:

    PYTHONPATH=python python -m pytest bench/bench_linalg.py --benchmark-group-by=group

Side by side, best of N, written to bench/results/linalg.json (``--threads 1`` limits the BLAS
of numpy and of tnfast to one thread; Eigen is always single-threaded):

    PYTHONPATH=python python bench/bench_linalg.py [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import pytest

import tnfast
from tnfast import _backend, _core

N = 2000
M, K = 2000, 500


def operands(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N, N)).astype(dtype), rng.standard_normal((N, N)).astype(dtype),
            rng.standard_normal((M, K)).astype(dtype))


def cases(dtype):
    """name -> (callable, flop count or None)."""
    a, b, t = operands(dtype)
    sfx = "f64" if dtype == np.float64 else "f32"
    mm = getattr(_core, "matmul_" + sfx)
    svd = getattr(_core, "svd_" + sfx)
    qr = getattr(_core, "qr_" + sfx)
    return {
        "matmul": ({"tnfast": lambda: mm(a, b), "numpy": lambda: np.matmul(a, b)}, 2.0 * N ** 3),
        "svd": ({"tnfast": lambda: svd(t), "numpy": lambda: np.linalg.svd(t, full_matrices=False)}, None),
        "qr": ({"tnfast": lambda: qr(t), "numpy": lambda: np.linalg.qr(t)}, 2.0 * M * K * K - 2.0 / 3.0 * K ** 3),
    }


def set_blas(on: bool):
    if on:
        _backend.load(disable=False)
    else:
        _backend.load(disable=True)


@pytest.fixture(params=["blas", "eigen"])
def backend(request):
    set_blas(request.param == "blas")
    if request.param == "blas" and not _core._has_blas():
        pytest.skip("no BLAS registered")
    yield request.param
    _backend.load()


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("op", ["matmul", "svd", "qr"])
def test_core_kernels(benchmark, backend, op, dtype):
    fns, _ = cases(dtype)[op]
    benchmark.group = f"{op} {np.dtype(dtype).name}"
    benchmark.pedantic(fns["tnfast"], rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("op", ["matmul", "svd", "qr"])
def test_numpy_kernels(benchmark, op, dtype):
    fns, _ = cases(dtype)[op]
    benchmark.group = f"{op} {np.dtype(dtype).name}"
    benchmark.pedantic(fns["numpy"], rounds=3, iterations=1, warmup_rounds=1)


def best_of(fn, repeats):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=None, help="BLAS threads (default: as is)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                   "linalg.json" if args.threads is None else f"linalg_threads{args.threads}.json")
    results = []
    print(f"{'case':<16} {'variant':<8} {'seconds':>10} {'GFLOP/s':>9}")
    for dtype in (np.float64, np.float32):
        for op, (fns, flops) in cases(dtype).items():
            times = {}
            set_blas(True)
            if _core._has_blas():
                times["tnfast_blas"] = best_of(fns["tnfast"], args.repeats)
            set_blas(False)
            times["tnfast_eigen"] = best_of(fns["tnfast"], args.repeats)
            set_blas(True)
            times["numpy"] = best_of(fns["numpy"], args.repeats)
            name = f"{op} {np.dtype(dtype).name}"
            shape = f"{N}x{N}x{N}" if op == "matmul" else f"{M}x{K}"
            rec = {"case": name, "shape": shape, "seconds": times,
                   "gflops": {k: (flops / v / 1e9 if flops else None) for k, v in times.items()}}
            if "tnfast_blas" in times:
                rec["blas_over_eigen"] = times["tnfast_eigen"] / times["tnfast_blas"]
            results.append(rec)
            for k, v in times.items():
                g = f"{flops / v / 1e9:9.2f}" if flops else f"{'-':>9}"
                print(f"{name:<16} {k:<13} {v:10.4f} {g}", flush=True)
    _backend.load()
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.machine(),
            "cpu_count": os.cpu_count(), "threads": args.threads, "numpy": np.__version__,
            "backend": tnfast.backend_info(), "timing": f"best of {args.repeats}, one warm-up call"}
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    print("written", out)


if __name__ == "__main__":
    main()
