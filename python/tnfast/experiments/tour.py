"""``tnfast tour``: a short tour of the tensor-train toolbox (well under 30 s).

Sections (each a function taking the shared ``rng`` and printing a small table):
  1. a random MPS: norm, canonical forms, rounding
  2. TT-SVD of a smooth function sampled on a grid, at several tolerances
  3. entanglement entropy per bond
  4. batched evaluation at random points against the dense tensor, timed against numpy
  5. an MPO applied to an MPS, compressed afterwards
"""

from __future__ import annotations

import time

import numpy as np

from .._cli_types import positive_int


def register(subparsers) -> None:
    p = subparsers.add_parser("tour", help="a short tour of the tensor-train toolbox (MPS algebra, TT-SVD, "
                                           "cross interpolation, TT-RSS, MPO)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--grid", type=positive_int, default=10, help="grid points per axis of the function tensor (default 10)")
    p.add_argument("--dims", type=positive_int, default=6, help="number of axes of the function tensor (default 6)")
    p.set_defaults(func=run_tour)


def _header(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def _timed(fn, repeats: int = 3):
    out = fn()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def section_random_mps(rng) -> None:
    from tnfast import TensorTrain

    _header("1. random MPS: canonical forms and rounding")
    t = TensorTrain.random((2,) * 16, 24, seed=int(rng.integers(1 << 31)))
    s = t + 0.5 * t  # exact rank doubles; the tensor is 1.5 t
    print(f"  t        : {t}")
    print(f"  s = t + t/2 ranks up to {max(s.ranks)}, ||s|| = {s.norm():.6f} (1.5 ||t|| = {1.5 * t.norm():.6f})")
    c = s.canonicalize(8)
    orth = max(np.abs(g.reshape(-1, g.shape[2]).T @ g.reshape(-1, g.shape[2]) - np.eye(g.shape[2])).max()
               for g in c.cores[:8])
    print(f"  canonicalize(8): max deviation from left-orthogonality {orth:.1e}")
    r, info = s.round(rel_tol=1e-10, return_info=True)
    print(f"  round(rel_tol=1e-10): max rank {max(s.ranks)} -> {max(r.ranks)}, "
          f"relative error {info.rel_error:.1e}")
    for mr in (16, 8, 4):
        r, info = s.round(max_rank=mr, return_info=True)
        print(f"  round(max_rank={mr:2d}): relative error {info.rel_error:.3e} (discarded weight "
              f"{info.discarded_weight:.3e})")


def section_tt_svd(rng, grid: int, dims: int) -> np.ndarray:
    from tnfast import tt_svd

    _header(f"2. TT-SVD of f(x) = 1/(1 + x_1 + ... + x_{dims}) + sin(x_1 x_{dims}) on a {grid}^{dims} grid")
    x = np.linspace(0.0, 1.0, grid)
    X = np.meshgrid(*([x] * dims), indexing="ij", sparse=True)
    A = 1.0 / (1.0 + sum(X)) + np.sin(X[0] * X[-1])
    print(f"  dense tensor: {A.size:,} entries ({A.nbytes / 2**20:.1f} MiB)")
    print(f"  {'rel_tol':>8} {'max rank':>8} {'params':>9} {'compression':>11} {'true error':>11} {'time':>8}")
    for tol in (1e-2, 1e-4, 1e-6, 1e-8):
        (tt, info), sec = _timed(lambda: tt_svd(A, rel_tol=tol, return_info=True), repeats=1)
        err = np.linalg.norm(tt.full() - A) / np.linalg.norm(A)
        print(f"  {tol:8.0e} {max(tt.ranks):8d} {tt.num_params:9d} {A.size / tt.num_params:10.0f}x "
              f"{err:11.2e} {sec * 1e3:6.1f}ms")
    return A


def section_entropy(A: np.ndarray) -> None:
    from tnfast import tt_svd

    _header("3. entanglement entropy per bond of the function tensor (rel_tol=1e-8)")
    tt = tt_svd(A, rel_tol=1e-8)
    ent = tt.entropy()
    sv = tt.singular_values()
    for k, (e, s) in enumerate(zip(ent, sv)):
        print(f"  bond {k + 1}: rank {len(s):3d}  S = {e:.4f}  leading Schmidt values "
              + " ".join(f"{v:.2e}" for v in s[:4]))


def section_evaluate(rng, A: np.ndarray) -> None:
    from tnfast import tt_svd

    _header("4. batched evaluation at random grid points")
    tt = tt_svd(A, rel_tol=1e-8)
    idx = np.stack([rng.integers(0, d, 100_000) for d in A.shape], axis=1)
    vals, t_tt = _timed(lambda: tt.evaluate(idx))
    dense = A[tuple(idx.T)]
    print(f"  100,000 points: max |TT - dense| = {np.abs(vals - dense).max():.2e}")

    def numpy_eval():
        rows = np.arange(idx.shape[0])
        v = tt.cores[0][0, idx[:, 0], :]
        for k in range(1, tt.ndim):
            c = tt.cores[k]
            w = (v @ c.reshape(c.shape[0], -1)).reshape(-1, c.shape[2])
            v = w[rows * c.shape[1] + idx[:, k]]
        return v[:, 0]

    ref, t_np = _timed(numpy_eval)
    assert np.allclose(ref, vals)
    print(f"  tnfast {t_tt * 1e3:7.2f} ms   numpy (per-site GEMM + gather) {t_np * 1e3:7.2f} ms   "
          f"speed-up x{t_np / t_tt:.1f}")
    big = tt.__class__.random((2,) * 100, 10, seed=1)
    idx2 = rng.integers(0, 2, (10_000, 100))
    _, t_big = _timed(lambda: big.evaluate(idx2))
    print(f"  100 sites, d=2, rank 10, 10,000 tuples: {t_big * 1e3:.2f} ms")


def section_mpo(rng) -> None:
    from tnfast import MPO, TensorTrain

    _header("5. MPO x MPS: a 1-d Laplacian-like operator on 2^10 points")
    n = 10
    N = 2 ** n
    L = 2 * np.eye(N) - np.eye(N, k=1) - np.eye(N, k=-1)
    W, info = MPO.from_matrix(L, (2,) * n, (2,) * n, rel_tol=1e-12, return_info=True)
    print(f"  MPO.from_matrix: ranks {W.ranks}, relative error {info.rel_error:.1e}")
    x = TensorTrain.random((2,) * n, 4, seed=int(rng.integers(1 << 31)))
    y = W @ x
    z, zinfo = y.round(rel_tol=1e-10, return_info=True)
    err = np.linalg.norm(z.full().ravel() - L @ x.full().ravel()) / np.linalg.norm(L @ x.full().ravel())
    print(f"  W @ x: ranks up to {max(y.ranks)} exact, {max(z.ranks)} after round(1e-10); "
          f"error vs dense {err:.1e}")


def section_maxvol(rng) -> None:
    import tnfast

    _header("6. maxvol: a well-conditioned 50 x 50 submatrix of a 10000 x 50 matrix")
    A = rng.standard_normal((10_000, 50))
    (rows, coef), t = _timed(lambda: tnfast.maxvol(A, tol=1.05, return_coef=True))
    print(f"  {t * 1e3:.1f} ms; max |A A[rows]^-1| = {np.abs(coef).max():.3f} (<= 1.05); "
          f"log10|det A[rows]| = {np.linalg.slogdet(A[rows])[1] / np.log(10):.1f}")


def section_cross(rng) -> None:
    import tnfast

    _header("7. cross interpolation of a black box: 1/(1 + |x|^2) on a 16^10 grid")
    grid = np.linspace(-1.0, 1.0, 16)
    calls = {"n": 0}

    def f(idx):
        calls["n"] += 1
        x = grid[idx]
        return 1.0 / (1.0 + np.sum(x * x, axis=1))

    (tt, info), t = _timed(lambda: tnfast.tt_cross(f, [16] * 10, rel_tol=1e-10, pivot_search="rook", seed=0),
                           repeats=1)
    pts = rng.integers(0, 16, (10_000, 10))
    err = np.linalg.norm(tt.evaluate(pts) - f(pts)) / np.linalg.norm(f(pts))
    print(f"  {t:.2f} s, {info.evals:,} evaluations of f (of 16^10 = {16 ** 10:,}) in {info.calls} batched "
          f"calls; max rank {max(tt.ranks)}; relative error on 10,000 fresh points {err:.1e}")


def section_rss(rng) -> None:
    import tnfast

    _header("8. TT-RSS: tensorize a black box from 30 samples (random TT, 60 sites, bond 6)")
    n = 60
    target = tnfast.TensorTrain.random((2,) * n, 6, seed=int(rng.integers(1 << 31)))
    target = target * (1.0 / target.norm())

    def f(x):  # a black box over bit strings
        return target.evaluate(x.astype(np.int64))

    samples = rng.integers(0, 2, (30, n)).astype(float)
    (tt, info), t = _timed(lambda: tnfast.tt_rss(f, samples, embedding="basis", rank=6, seed=0), repeats=1)
    test = rng.integers(0, 2, (1000, n))
    ref = f(test.astype(float))
    err = np.linalg.norm(tnfast.tt_evaluate(tt, test, "basis") - ref) / np.linalg.norm(ref)
    print(f"  {t:.2f} s, {info.n_evals:,} evaluations; pivot error {info.pivot_error:.1e}; "
          f"relative error on 1,000 fresh points {err:.1e}; bonds up to {max(tt.ranks)}")


def run_tour(args) -> int:
    grid, dims = getattr(args, "grid", 10), getattr(args, "dims", 6)
    if not 2 <= grid or not 2 <= dims or grid ** dims > 2 ** 24:
        raise SystemExit(f"tnfast tour: error: expected --grid >= 2, --dims >= 2 and grid**dims <= 2**24 "
                         f"(a dense tensor of at most 16.8 million entries), got --grid {grid} --dims {dims}")
    t0 = time.perf_counter()
    rng = np.random.default_rng(getattr(args, "seed", 0))
    import tnfast

    info = tnfast.backend_info()
    print(f"tnfast {tnfast.__version__}  (BLAS: {info['blas'] or 'none, Eigen only'})")
    section_random_mps(rng)
    A = section_tt_svd(rng, getattr(args, "grid", 10), getattr(args, "dims", 6))
    section_entropy(A)
    section_evaluate(rng, A)
    section_mpo(rng)
    section_maxvol(rng)
    section_cross(rng)
    section_rss(rng)
    print(f"\ndone in {time.perf_counter() - t0:.1f} s")
    return 0
