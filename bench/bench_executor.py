"""Black boxes on executors: in-process vs a 2-worker Dask LocalCluster vs a 2-process pool.

Cases (each run side by side in one process, best of --repeats):
  rss         tt_rss, n=24 variables, N=80 uniform samples on [0, 1], poly embedding d=2, rank 8,
              batch_size 16384: 281,908 evaluations in 24 batches of up to 12,800 points.
  cross-full  tt_cross of 1 / (1 + |x|^2 / 10) on the grid 16^8 (index / 15 per axis), rel_tol
              1e-8, pivot_search="full": 33,028 evaluations in 17 batches (whole 2-site blocks).
  cross       the same with the default options (pivot search "auto": rook lines on blocks
              above 256 entries): about 7,300 evaluations in about 110 small batches.
Black boxes:
  slow      costs about 10 ms per 1,000 points: --cost sleep (time.sleep(10 us per point),
            the default: the cost does not compete for this machine's 2 cores) or --cost numpy
            (a real computation: 6 products with a 256 x 256 matrix per point, one BLAS
            thread per process, calibrated at start to 10 ms per 1,000 points in-process);
  free      the same values with no cost: the overhead alone.
Executors: none (today's in-process path), dask (distributed.LocalCluster, 2 worker processes,
1 thread each), pool (concurrent.futures.ProcessPoolExecutor(2)); chunk_size --chunk (1024).
Reported: time, speedup over in-process, chunks sent, and the overhead per chunk
((time with the executor - time in-process) / chunks, free f).

Then the in-process path against the code before executors existed (--base, a git revision of
this repository, default the commit before the executor module), free f, interleaved runs in
subprocesses: the cost of ``executor=None``.

  python bench/bench_executor.py                   # sleep cost, 3 repeats
  python bench/bench_executor.py --cost numpy
  python bench/bench_executor.py --quick           # one repeat, no base comparison
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # workers and this process: one BLAS thread each
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "python"), str(ROOT / "bench")]
                                           + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
sys.path.insert(0, str(ROOT / "bench"))

import tnfast  # noqa: E402

SECONDS_PER_POINT = 1e-5  # 10 ms per 1,000 points


class BlackBox:
    """Picklable black box; ``cost`` in {"free", "sleep", "numpy"}."""

    def __init__(self, cost: str, reps: int = 0, index_grid: bool = False):
        self.cost = cost
        self.reps = reps
        self.index_grid = index_grid
        self.seconds_per_point = SECONDS_PER_POINT  # travels with the object to the workers
        self.W = np.random.default_rng(0).standard_normal((256, 256)) / 16.0 if cost == "numpy" else None

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float64)
        if self.index_grid:
            x = x / 15.0
        if self.cost == "sleep":
            time.sleep(self.seconds_per_point * len(x))
        elif self.cost == "numpy":
            z = np.tile(x[:, :1], (1, 256))
            for _ in range(self.reps):
                z = np.tanh(z @ self.W)
            x = x + 0.0 * z[:, :1]  # the work stays on the path of the values, which do not change
        if self.index_grid:
            return 1.0 / (1.0 + (x * x).sum(axis=1) / 10.0)
        return np.cos((x * np.linspace(0.3, 1.2, x.shape[1])).sum(axis=1)) + 1.5


def calibrate_numpy() -> int:
    x = np.random.default_rng(1).random((1000, 24))
    lo = 1
    while True:
        f = BlackBox("numpy", lo)
        t = min(_timed(lambda: f(x)) for _ in range(3))
        if t >= 0.010 or lo > 4096:
            return max(1, round(lo * 0.010 / t))
        lo *= 2


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_case(case: str, f, executor=None, chunk_size=None):
    kw = {} if executor is None else dict(executor=executor, chunk_size=chunk_size)  # the baseline has no executor=
    if case == "rss":
        samples = np.random.default_rng(0).random((80, 24))
        tt, info = tnfast.tt_rss(f, samples, rank=8, seed=0, batch_size=16384, **kw)
        return tt, info.n_evals
    tt, info = tnfast.tt_cross(f, [16] * 8, rel_tol=1e-8, seed=0, batch_size=16384, **kw,
                               pivot_search="full" if case == "cross-full" else "auto")
    return tt, info.evals


def box(case, cost, reps):
    return BlackBox(cost, reps, index_grid=case.startswith("cross"))


class BatchLog:
    """Free f that records the batch sizes the core asks for (to count chunks)."""

    def __init__(self, f):
        self.f = f
        self.sizes = []

    def __call__(self, x):
        self.sizes.append(len(x))
        return self.f(x)


def chunks_of(sizes, chunk, workers=2):
    if not chunk:  # the default: two chunks per worker in each batch
        return sum(math.ceil(s / max(1, math.ceil(s / (2 * workers)))) for s in sizes)
    return sum(math.ceil(s / chunk) for s in sizes)


def _best_call(fn, *a, k=5):
    ts = []
    for _ in range(k):
        t0 = time.perf_counter()
        fn(*a)
        ts.append(time.perf_counter() - t0)
    return min(ts)


def dask_probe(client, reps):
    """The scheduler's round trip for a trivial task, and one chunk of the numpy black box computed
    in this process and on each worker (with ``client.run``, no task machinery)."""
    trips = []
    for _ in range(20):
        t0 = time.perf_counter()
        client.submit(abs, -1, pure=False).result()
        trips.append(time.perf_counter() - t0)
    f = BlackBox("numpy", max(reps, 1))
    x = np.random.default_rng(3).random((1024, 24))
    here = _best_call(f, x)
    there = client.run(_best_call, f, x)
    print(f"# dask round trip of a trivial task: min {1e3 * min(trips):.1f} ms, median "
          f"{1e3 * float(np.median(trips)):.1f} ms; numpy black box on 1,024 points: {1e3 * here:.1f} ms here, "
          + ", ".join(f"{1e3 * t:.1f} ms" for t in there.values()) + " on the workers (at once)", flush=True)


def executor_table(args, reps):
    import concurrent.futures as cf
    import multiprocessing

    import distributed

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=50)
    client = distributed.Client(cluster)
    pool = cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
    executors = {"in-process": None, "dask 2 workers": client, "process pool 2": pool}
    rows = []
    try:
        # start the workers (imports) before timing
        list(pool.map(abs, [1, 2]))
        dask_probe(client, reps)
        if args.probe:
            return rows
        for case in ("rss", "cross-full", "cross"):
            log = BatchLog(box(case, "free", 0))
            ref, evals = run_case(case, log)
            n_chunks = chunks_of(log.sizes, args.chunk)
            for cost in (args.cost, "free"):
                f = box(case, cost, reps)
                times = {}
                for name, ex in executors.items():
                    best = math.inf
                    for _ in range(args.repeats):
                        t0 = time.perf_counter()
                        tt, ev = run_case(case, f, ex, args.chunk or None)
                        best = min(best, time.perf_counter() - t0)
                        same = all(np.array_equal(a, b) for a, b in zip(tt.cores, ref.cores))
                    times[name] = best
                    rows.append(dict(case=case, cost=cost, executor=name, seconds=best, evals=ev,
                                     calls=len(log.sizes), chunks=0 if ex is None else n_chunks,
                                     speedup=times["in-process"] / best, identical=bool(same),
                                     overhead_per_chunk_ms=(None if ex is None else
                                                            1e3 * (best - times["in-process"]) / n_chunks)))
                    print(json.dumps(rows[-1]), flush=True)
    finally:
        pool.shutdown()
        client.close()
        cluster.close()
    return rows


BASE_SNIPPET = r"""
import sys, time, json, math
sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2])
import numpy as np, tnfast
from bench_executor import BlackBox, run_case, box
assert tnfast.__file__.startswith(sys.argv[1]), tnfast.__file__
out = {}
for case in ("rss", "cross-full", "cross"):
    f = box(case, "free", 0)
    run_case(case, f)
    best = math.inf
    for _ in range(int(sys.argv[3])):
        t0 = time.perf_counter(); run_case(case, f); best = min(best, time.perf_counter() - t0)
    out[case] = best
print(json.dumps(out))
"""


def base_comparison(args):
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tnfast-base-"))
    try:
        subprocess.run(f"git -C {ROOT} archive {args.base} python | tar -x -C {tmp}", shell=True, check=True)
        for so in (ROOT / "python" / "tnfast").glob("_core*.so"):  # the same compiled core for both
            shutil.copy(so, tmp / "python" / "tnfast" / so.name)
        trees = {"this tree": str(ROOT / "python"), f"base {args.base}": str(tmp / "python")}
        best = {k: {} for k in trees}
        for rnd in range(args.base_rounds):
            order = list(trees.items())
            for name, path in (order if rnd % 2 == 0 else order[::-1]):  # neither tree always runs first
                r = subprocess.run([sys.executable, "-c", BASE_SNIPPET, path, str(ROOT / "bench"), "5"],
                                   capture_output=True, text=True, check=True)
                for case, t in json.loads(r.stdout.strip().splitlines()[-1]).items():
                    best[name][case] = min(best[name].get(case, math.inf), t)
        return best
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cost", choices=["sleep", "numpy"], default="sleep")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--chunk", type=int, default=1024, help="chunk_size (0: the default, 2 chunks per worker)")
    p.add_argument("--base", default="a4ad998", help="git revision of the in-process baseline")
    p.add_argument("--base-rounds", type=int, default=4)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-base", action="store_true", help="skip the comparison with --base")
    p.add_argument("--probe", action="store_true", help="only the Dask round trip and chunk-time probe")
    p.add_argument("--base-only", action="store_true", help="only the in-process comparison with --base")
    p.add_argument("--us-per-point", type=float, default=10.0, help="sleep cost in microseconds per point (10)")
    args = p.parse_args()
    if args.quick:
        args.repeats = 1
    global SECONDS_PER_POINT
    SECONDS_PER_POINT = args.us_per_point * 1e-6
    reps = calibrate_numpy() if args.cost == "numpy" or args.probe else 0
    print(f"# cost {args.cost}" + (f" ({reps} products per point)" if reps else "")
          + (f" ({args.us_per_point:g} us per point)" if args.cost == "sleep" else "") + f", chunk {args.chunk}, "
          f"load {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores", flush=True)
    rows = [] if args.base_only else executor_table(args, reps)
    if args.probe:
        return
    if rows:
        print("\n| case | f | executor | time (s) | speedup | evaluations | calls | chunks | overhead/chunk (ms) "
              "| identical |\n|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        oh = "" if r["overhead_per_chunk_ms"] is None or r["cost"] != "free" else f"{r['overhead_per_chunk_ms']:.2f}"
        print(f"| {r['case']} | {r['cost']} | {r['executor']} | {r['seconds']:.3f} | {r['speedup']:.2f}x | "
              f"{r['evals']} | {r['calls']} | {r['chunks']} | {oh} | {r['identical']} |")
    if not (args.quick or args.no_base):
        best = base_comparison(args)
        (a, ta), (b, tb) = best.items()
        print(f"\nin-process, free f, best of {5 * args.base_rounds} (interleaved subprocesses)\n"
              f"| case | {a} (s) | {b} (s) | ratio |\n|---|---|---|---|")
        for case in ta:
            print(f"| {case} | {ta[case]:.4f} | {tb[case]:.4f} | {ta[case] / tb[case]:.3f} |")
    print(f"# load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
