"""Tensor-train kernels side by side with numpy and teneva.

Run:  PYTHONPATH=python python -m pytest bench/bench_tt.py --benchmark-only
      (add ``-s`` to see the GFLOP/s table printed by the rate benchmarks)

Groups
------
evaluate      100 sites, d=2, rank 10, 10,000 index tuples: tnfast vs the fastest numpy
              implementation found (per-site GEMM against all slices + a flat gather) vs
              teneva.get_many.
round         n=20, d=2, all bonds 256 (capped by the unfoldings), rounded to rank 128:
              tnfast vs a plain numpy QR sweep + SVD sweep vs teneva.truncate.
canonicalize  the same train right-canonicalized: tnfast vs a numpy QR sweep.
rate          GFLOP/s of rounding / canonicalizing (nominal Householder-QR and R-SVD counts,
              see ``round_flops``, so an algorithm doing fewer or faster flops shows a higher
              rate) as a percentage of numpy.matmul's rate on a 2000x2000 product measured in
              the same test; also the core's own 2000x2000 product, the numpy implementations
              of the same sweeps, and which factorization routes the core took (Cholesky QR2
              passes, Gram-matrix truncations, and how often each was refused).

BLAS threads: every benchmark here runs under ``threadpoolctl.threadpool_limits(N)`` for both
OpenBLAS builds in the process (numpy's and the one the core uses), N from the environment
variable ``TNFAST_BENCH_BLAS_THREADS`` (default 1).  On a small shared machine a busy-waiting
BLAS thread pool makes multi-threaded timings meaningless; set it to 2 on a quiet machine.
The core's own evaluation threads are compared separately (``num_threads=1`` vs automatic).
"""

import os
import time

import numpy as np
import pytest

import tnfast
from tnfast import TensorTrain, _core

try:
    import teneva
except ImportError:  # pragma: no cover
    teneva = None


# ---- numpy baselines ------------------------------------------------------------------------
def numpy_evaluate(cores, idx):
    """Fastest numpy batched evaluation we found: per site one GEMM of the running rows with
    all d slices at once, then a flat gather of the slice each sample needs."""
    batch = idx.shape[0]
    rows = np.arange(batch)
    v = cores[0][0, idx[:, 0], :]
    for k in range(1, len(cores)):
        c = cores[k]
        rl, d, rr = c.shape
        w = (v @ c.reshape(rl, d * rr)).reshape(batch * d, rr)
        v = w[rows * d + idx[:, k]]
    return v[:, 0]


def numpy_evaluate_blocked(cores, idx, block=2048):
    out = np.empty(idx.shape[0], dtype=cores[0].dtype)
    for s in range(0, idx.shape[0], block):
        out[s:s + block] = numpy_evaluate(cores, idx[s:s + block])
    return out


def numpy_canonicalize(cores):
    """Right-to-left QR sweep (numpy.linalg.qr): every core but the first right-orthogonal."""
    cores = list(cores)
    for k in range(len(cores) - 1, 0, -1):
        rl, d, rr = cores[k].shape
        q, r = np.linalg.qr(cores[k].reshape(rl, d * rr).T)
        cores[k] = q.T.reshape(-1, d, rr)
        cores[k - 1] = np.tensordot(cores[k - 1], r.T, axes=(2, 0))
    return cores


def numpy_round(cores, max_rank):
    """Plain numpy TT-rounding: QR sweep, then an SVD sweep truncating to max_rank."""
    cores = numpy_canonicalize(cores)
    for k in range(len(cores) - 1):
        rl, d, rr = cores[k].shape
        u, s, vh = np.linalg.svd(cores[k].reshape(rl * d, rr), full_matrices=False)
        t = min(len(s), max_rank)
        cores[k] = u[:, :t].reshape(rl, d, t)
        cores[k + 1] = np.tensordot(s[:t, None] * vh[:t], cores[k + 1], axes=(1, 0))
    return cores


# ---- nominal flop counts ----------------------------------------------------------------------
def qr_flops(m, n):
    """Householder QR of m x n (m >= n) plus forming the thin Q (Golub & Van Loan)."""
    k = min(m, n)
    return 2 * m * n * k - 2 * k ** 3 / 3 + 2 * m * k * k - 2 * k ** 3 / 3


def svd_flops(m, n):
    """Thin SVD with U, S and V by R-SVD (Golub & Van Loan, 6 m n^2 + 20 n^3, m >= n)."""
    m, n = max(m, n), min(m, n)
    return 6 * m * n * n + 20 * n ** 3


def canonicalize_flops(ranks, dims):
    """QR sweep from the right: per site a QR of the (d r_k) x r_{k-1} unfolding and the
    product of its R factor into the left neighbour."""
    r = list(ranks)
    f = 0.0
    for k in range(len(dims) - 1, 0, -1):
        m = dims[k] * r[k + 1]
        q = min(m, r[k])
        f += qr_flops(m, r[k]) + 2.0 * q * r[k] * r[k - 1] * dims[k - 1]
        r[k] = q
    return f, r


def round_flops(ranks, dims, out_ranks):
    f, r = canonicalize_flops(ranks, dims)
    for k in range(len(dims) - 1):
        f += svd_flops(r[k] * dims[k], r[k + 1])
        t = out_ranks[k + 1]
        f += 2.0 * dims[k + 1] * r[k + 2] * r[k + 1] * t
        r[k + 1] = t
    return f


def best_time(fn, repeats=3):
    fn()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def matmul_rate(fn, n=2000):
    a = np.random.default_rng(0).standard_normal((n, n))
    b = np.random.default_rng(1).standard_normal((n, n))
    return 2.0 * n ** 3 / best_time(lambda: fn(a, b)) / 1e9


@pytest.fixture(autouse=True, scope="module")
def blas_threads():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(int(os.environ.get("TNFAST_BENCH_BLAS_THREADS", "1"))):
        yield


# ---- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eval_case():
    t = TensorTrain.random((2,) * 100, 10, seed=0)
    idx = np.random.default_rng(1).integers(0, 2, (10_000, 100))
    ref = numpy_evaluate(t.cores, idx)
    assert np.allclose(t.evaluate(idx), ref, rtol=1e-10, atol=1e-14 * np.abs(ref).max())
    return t, idx


def big_train(d=2, n=20, r=256):
    ranks = [min(r, d ** k, d ** (n - k)) for k in range(n + 1)]
    return TensorTrain.random((d,) * n, ranks, seed=0)


@pytest.fixture(scope="module")
def round_case():
    return big_train()


# ---- evaluation ----------------------------------------------------------------------------------
@pytest.mark.benchmark(group="evaluate")
def test_evaluate_tnfast(benchmark, eval_case):
    t, idx = eval_case
    benchmark(t.evaluate, idx)


@pytest.mark.benchmark(group="evaluate")
def test_evaluate_tnfast_one_thread(benchmark, eval_case):
    t, idx = eval_case
    benchmark(t.evaluate, idx, num_threads=1)


@pytest.mark.benchmark(group="evaluate")
def test_evaluate_numpy(benchmark, eval_case):
    t, idx = eval_case
    benchmark(numpy_evaluate_blocked, t.cores, idx)


@pytest.mark.skipif(teneva is None, reason="teneva not installed")
@pytest.mark.benchmark(group="evaluate")
def test_evaluate_teneva(benchmark, eval_case):
    t, idx = eval_case
    y = teneva.get_many(t.cores, idx)
    assert np.allclose(y, t.evaluate(idx), rtol=1e-8, atol=1e-14 * np.abs(y).max())
    benchmark.pedantic(teneva.get_many, args=(t.cores, idx), rounds=3, iterations=1)


# ---- rounding and canonical forms ---------------------------------------------------------
@pytest.mark.benchmark(group="round")
def test_round_tnfast(benchmark, round_case):
    out = benchmark.pedantic(round_case.round, kwargs={"max_rank": 128}, rounds=3, iterations=1)
    assert max(out.ranks) == 128


@pytest.mark.benchmark(group="round")
def test_round_numpy(benchmark, round_case):
    out = benchmark.pedantic(numpy_round, args=(round_case.cores, 128), rounds=3, iterations=1)
    ref = round_case.round(max_rank=128)
    assert np.isclose(TensorTrain(out).norm(), ref.norm(), rtol=1e-8)


@pytest.mark.skipif(teneva is None, reason="teneva not installed")
@pytest.mark.benchmark(group="round")
def test_round_teneva(benchmark, round_case):
    benchmark.pedantic(teneva.truncate, args=(round_case.cores,), kwargs={"e": 1e-14, "r": 128}, rounds=3,
                       iterations=1)


@pytest.mark.benchmark(group="canonicalize")
def test_canonicalize_tnfast(benchmark, round_case):
    benchmark.pedantic(round_case.canonicalize, args=(0,), rounds=3, iterations=1)


@pytest.mark.benchmark(group="canonicalize")
def test_canonicalize_numpy(benchmark, round_case):
    benchmark.pedantic(numpy_canonicalize, args=(round_case.cores,), rounds=3, iterations=1)


# ---- GFLOP/s against numpy.matmul in the same run -------------------------------------------
@pytest.mark.benchmark(group="rate")
@pytest.mark.parametrize("d", [2, 4])
def test_rate_vs_numpy_matmul(benchmark, d):
    t = big_train(d=d)
    out_ranks = t.round(max_rank=128).ranks
    f_round = round_flops(t.ranks, t.shape, out_ranks)
    f_canon, _ = canonicalize_flops(t.ranks, t.shape)
    np_rate = matmul_rate(np.matmul)
    core_rate = matmul_rate(_core.matmul_f64)
    _core._reset_route_counts()
    t_round = benchmark.pedantic(t.round, kwargs={"max_rank": 128}, rounds=5, iterations=1)
    t_round = benchmark.stats.stats.min
    counts = _core._route_counts()
    routes = {k: getattr(counts, k) for k in dir(counts) if not k.startswith("_")}
    t_canon = best_time(lambda: t.canonicalize(0), repeats=5)
    t_np_round = best_time(lambda: numpy_round(t.cores, 128), repeats=2)
    t_np_canon = best_time(lambda: numpy_canonicalize(t.cores), repeats=2)
    np_rate = max(np_rate, matmul_rate(np.matmul))  # again after, keep the better
    rows = {
        "numpy.matmul 2000": np_rate,
        "core matmul_f64 2000": core_rate,
        f"round n=20 d={d} r=256->128": f_round / t_round / 1e9,
        f"canonicalize n=20 d={d} r=256": f_canon / t_canon / 1e9,
        f"numpy round n=20 d={d}": f_round / t_np_round / 1e9,
        f"numpy canonicalize n=20 d={d}": f_canon / t_np_canon / 1e9,
    }
    print(f"\n  GFLOP/s (nominal counts; % of numpy.matmul in the same run)  [{tnfast.backend_info()['blas']}]")
    for name, rate in rows.items():
        print(f"  {name:34s} {rate:8.1f} GFLOP/s  {100 * rate / np_rate:6.1f} %")
        benchmark.extra_info[name] = round(rate, 2)
    print(f"  tnfast vs numpy implementation: round {t_np_round / t_round:.2f}x faster, "
          f"canonicalize {t_np_canon / t_canon:.2f}x faster (best times)")
    print(f"  factorization routes taken by the timed roundings: {routes}")
    benchmark.extra_info["numpy_matmul_gflops"] = round(np_rate, 2)
    benchmark.extra_info["routes"] = routes
