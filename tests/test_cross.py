import numpy as np
import pytest

import tnfast
from tnfast.cross import prrlu, tt_cross
from tnfast.grids import grid_function, quantics, uniform_grid


def random_tt_cores(rng, shape, rank, cplx=False):
    ranks = [1] + [rank] * (len(shape) - 1) + [1]
    cores = []
    for k, d in enumerate(shape):
        c = rng.standard_normal((ranks[k], d, ranks[k + 1]))
        if cplx:
            c = c + 1j * rng.standard_normal(c.shape)
        cores.append(c / np.sqrt(ranks[k]))
    return cores


def tt_function(cores):
    def f(idx):
        v = cores[0][0, idx[:, 0], :]
        for k in range(1, len(cores)):
            v = np.einsum("br,rbs->bs", v, cores[k][:, idx[:, k], :])
        return v[:, 0]
    return f


def fresh_points(rng, shape, p=10_000):
    return np.stack([rng.integers(0, d, size=p) for d in shape], axis=1)


def rel_err(tt, f, pts):
    ref = f(pts)
    return np.linalg.norm(tt.evaluate(pts) - ref) / np.linalg.norm(ref)


@pytest.mark.parametrize("search", ["full", "rook"])
@pytest.mark.parametrize("shape,rank", [((4,) * 10, 3), ((3, 5, 4, 3, 5, 4, 3, 5), 4), ((5,) * 12, 2)])
def test_exact_recovery_random_tt(rng, search, shape, rank):
    cores = random_tt_cores(rng, shape, rank)
    f = tt_function(cores)
    tt, info = tt_cross(f, shape, pivot_search=search, rel_tol=1e-12, seed=7)
    assert info.converged
    assert max(tt.bond_dims) <= rank
    assert rel_err(tt, f, fresh_points(rng, shape)) < 1e-12
    assert info.pivot_error < 1e-12


@pytest.mark.parametrize("shape,rank", [((4,) * 10, 3), ((3, 5, 4, 3, 5, 4, 3, 5), 4), ((5,) * 12, 2)])
def test_exact_recovery_maxvol1(rng, shape, rank):
    cores = random_tt_cores(rng, shape, rank)
    f = tt_function(cores)
    tt, info = tt_cross(f, shape, method="maxvol1", max_rank=rank, rel_tol=1e-12, seed=7)
    assert info.method == "maxvol1" and info.converged
    assert max(tt.bond_dims) == rank
    assert rel_err(tt, f, fresh_points(rng, shape)) < 1e-12


def test_maxvol1_ranks_and_sweeps(rng):
    shape = (16,) * 8
    g = uniform_grid(-1.0, 1.0, 16)
    f = grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 8)
    pts = fresh_points(rng, shape, 5000)
    errs = []
    for rank in (2, 4, 8):
        tt, info = tt_cross(f, shape, method="maxvol1", max_rank=rank, max_sweeps=3, rel_tol=0.0, seed=1)
        assert max(tt.bond_dims) == rank
        assert len(info.sweeps) == 3 and not info.converged
        errs.append(np.abs(tt.evaluate(pts) - f(pts)).max())
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-6
    # bond dimensions are capped by the sizes of the unfoldings
    tt, _ = tt_cross(lambda idx: 1.0 / (1.0 + np.sum(idx ** 2, axis=1)), (2, 2, 16, 2, 2), method="maxvol1",
                     max_rank=8, seed=0)
    assert tt.bond_dims == (2, 4, 4, 2)


def test_maxvol1_complex_and_single_site(rng):
    shape = (4,) * 6
    f = tt_function(random_tt_cores(rng, shape, 2, cplx=True))
    tt, info = tt_cross(f, shape, method="maxvol1", max_rank=2, dtype=complex, seed=3)
    assert rel_err(tt, f, fresh_points(rng, shape, 1000)) < 1e-12
    tt1, _ = tt_cross(lambda idx: idx[:, 0] + 1.0, (5,), method="maxvol1", max_rank=3)
    assert np.allclose(tt1.full(), np.arange(1, 6))


def test_exact_recovery_complex(rng):
    shape = (4,) * 8
    cores = random_tt_cores(rng, shape, 3, cplx=True)
    f = tt_function(cores)
    tt, info = tt_cross(f, shape, dtype=np.complex128, seed=1)
    assert tt.cores[0].dtype == np.complex128
    assert rel_err(tt, f, fresh_points(rng, shape)) < 1e-12


@pytest.mark.parametrize("search", ["full", "rook"])
def test_smooth_lorentzian_10d(rng, search):
    shape = (16,) * 10
    g = uniform_grid(-1.0, 1.0, 16)
    f = grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 10)
    tt, info = tt_cross(f, shape, rel_tol=1e-11, pivot_search=search, seed=2)
    pts = fresh_points(rng, shape)
    err = np.abs(tt.evaluate(pts) - f(pts)).max()
    assert err < 1e-8


def test_smooth_sine_of_sum(rng):
    shape = (16,) * 10
    g = uniform_grid(0.0, 1.0, 16)
    f = grid_function(lambda x: np.sin(np.sum(x, axis=1)), [g] * 10)
    tt, info = tt_cross(f, shape, rel_tol=1e-12, seed=3)
    assert max(tt.bond_dims) == 2  # sin(a + b) has rank 2
    pts = fresh_points(rng, shape)
    assert np.abs(tt.evaluate(pts) - f(pts)).max() < 1e-8


@pytest.mark.parametrize("search", ["full", "rook"])
def test_quantics_oscillating_30_bits(rng, search):
    qf = quantics(lambda x: np.cos(20 * x[:, 0]) + np.sin(50 * x[:, 0] ** 2), n_vars=1, bits=30, a=0.0, b=1.0)
    tt, info = tt_cross(qf, qf.shape, rel_tol=1e-12, seed=4, pivot_search=search)
    assert len(tt.cores) == 30 and tt.shape == (2,) * 30
    pts = fresh_points(rng, qf.shape, 5000)
    err = np.abs(tt.evaluate(pts) - qf(pts)).max()
    assert err < 1e-8
    assert max(tt.bond_dims) < 30
    assert info.evals < 2 ** 16  # a tiny fraction of the 2**30 points


def test_pivot_error_tracks_true_error(rng):
    shape = (16,) * 8
    g = uniform_grid(-1.0, 1.0, 16)
    f = grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 8)
    pts = fresh_points(rng, shape, 20_000)
    ref = f(pts)
    for max_rank in (2, 3, 4):
        with pytest.warns(RuntimeWarning, match="without meeting rel_tol"):
            tt, info = tt_cross(f, shape, max_rank=max_rank, max_sweeps=4, seed=5)
        true = np.abs(tt.evaluate(pts) - ref).max() / info.max_abs
        assert info.pivot_error / 10 <= true <= 10 * info.pivot_error, (max_rank, true, info.pivot_error)


class Recorder:
    def __init__(self, f):
        self.f = f
        self.batches = []

    def __call__(self, idx):
        self.batches.append(idx.copy())
        return self.f(idx)


@pytest.mark.parametrize("search", ["full", "rook"])
def test_cache_never_repeats_points(rng, search):
    shape = (4,) * 8
    f = Recorder(tt_function(random_tt_cores(rng, shape, 3)))
    tt, info = tt_cross(f, shape, pivot_search=search, batch_size=50, seed=0, global_pivots=2)
    allpts = np.concatenate(f.batches)
    assert len(np.unique(allpts, axis=0)) == len(allpts)  # no point twice
    assert len(allpts) == info.evals
    assert len(f.batches) == info.calls
    assert max(len(b) for b in f.batches) <= 50
    assert all(b.dtype == np.int64 and b.shape[1] == 8 for b in f.batches)
    assert sum(s.evals for s in info.sweeps) <= info.evals
    assert info.cache_hits > 0


def test_without_cache_counts_every_request(rng):
    shape = (3,) * 6
    f = Recorder(tt_function(random_tt_cores(rng, shape, 2)))
    tt, info = tt_cross(f, shape, cache=False, seed=0, max_sweeps=3)
    allpts = np.concatenate(f.batches)
    assert len(allpts) == info.evals
    assert len(np.unique(allpts, axis=0)) < len(allpts)  # repeats happen without the cache
    assert info.cache_hits == 0
    assert rel_err(tt, f.f, fresh_points(rng, shape, 1000)) < 1e-12


def test_global_pivots_find_a_second_bump(rng):
    shape = (12,) * 6
    g = uniform_grid(0.0, 1.0, 12)
    c1, c2 = np.full(6, 0.1), np.full(6, 0.9)

    def bumps(x):
        return (np.exp(-np.sum((x - c1) ** 2, axis=1) / 0.02)
                + np.exp(-np.sum((x - c2) ** 2, axis=1) / 0.02))

    f = grid_function(bumps, [g] * 6)
    start = np.full((1, 6), 1)  # near c1
    probe = np.full((1, 6), 10)  # near c2
    # the pivot rule alone (no random check) never sees the second bump
    tt0, _ = tt_cross(f, shape, initial_pivots=start, rel_tol=1e-10, seed=1, check_samples=0)
    tt1, info1 = tt_cross(f, shape, initial_pivots=start, rel_tol=1e-10, global_pivots=2, seed=1)
    ref = f(probe)[0]
    assert abs(tt0.evaluate(probe)[0] - ref) > 0.5 * ref  # the plain run misses the second bump
    assert abs(tt1.evaluate(probe)[0] - ref) < 1e-6 * ref
    assert sum(s.global_added for s in info1.sweeps) >= 1
    pts = fresh_points(rng, shape, 5000)
    assert np.abs(tt1.evaluate(pts) - f(pts)).max() < 1e-6


def test_max_rank_caps_bonds(rng):
    shape = (4,) * 8
    f = tt_function(random_tt_cores(rng, shape, 4))
    with pytest.warns(RuntimeWarning, match="without meeting rel_tol"):
        tt, info = tt_cross(f, shape, max_rank=2, max_sweeps=3, seed=0)
    assert max(tt.bond_dims) <= 2
    assert not info.converged and info.error_estimate > 1e-10 and info.check_points >= 64
    assert len(info.sweeps) == 3
    assert all(max(s.bond_dims) <= 2 for s in info.sweeps)


def test_initial_pivots_and_single_site(rng):
    shape = (5, 4, 6)
    cores = random_tt_cores(rng, shape, 2)
    f = tt_function(cores)
    tt, info = tt_cross(f, shape, initial_pivots=[[0, 0, 0], [1, 2, 3]], seed=0)
    full = np.einsum("aib,bjc,ckd->ijk", *cores)
    assert np.allclose(tt.full(), full, atol=1e-12)
    tt1, info1 = tt_cross(lambda idx: np.cos(idx[:, 0]), (7,))
    assert np.allclose(tt1.full(), np.cos(np.arange(7)))
    assert info1.evals == 7


def test_verbose_and_info(rng, capsys):
    shape = (3,) * 5
    f = tt_function(random_tt_cores(rng, shape, 2))
    tt, info = tt_cross(f, shape, verbose=True, seed=0)
    out = capsys.readouterr().out
    assert "sweep 0" in out and "pivot error" in out
    assert info.n_sweeps == len(info.sweeps) >= 1
    assert "total:" in info.summary()
    assert info.sweeps[0].evals > 0
    assert info.converged and info.sweeps[-1].pivot_error < 1e-10
    assert all(s.seconds >= 0 for s in info.sweeps)


def test_torch_tensor_result(rng):
    torch = pytest.importorskip("torch")
    shape = (4,) * 6
    cores = random_tt_cores(rng, shape, 2)
    f = tt_function(cores)
    tt, info = tt_cross(lambda idx: torch.from_numpy(f(idx)).requires_grad_(True), shape, seed=0)
    assert rel_err(tt, f, fresh_points(rng, shape, 1000)) < 1e-12


class Boom(Exception):
    pass


def test_bad_function_output():
    shape = (3, 3, 3)
    with pytest.raises(ValueError, match=r"f: returned an array of shape \(\d+,\) for a batch of"):
        tt_cross(lambda idx: np.ones(len(idx) + 1), shape)
    with pytest.raises(ValueError, match=r"f returned NaN at index \(2, 1, 0\)"):
        tt_cross(lambda idx: np.where(np.all(idx == [2, 1, 0], axis=1), np.nan, 1.0 + idx.sum(1)), shape,
                 initial_pivots=[[0, 0, 0]])
    with pytest.raises(ValueError, match="f returned Inf"):
        tt_cross(lambda idx: np.full(len(idx), np.inf), shape)
    with pytest.raises(TypeError, match="dtype"):
        tt_cross(lambda idx: np.array(["x"] * len(idx)), shape)
    with pytest.raises(TypeError, match="complex"):
        tt_cross(lambda idx: np.ones(len(idx)) * 1j, shape)
    with pytest.raises(ValueError, match="zero"):
        tt_cross(lambda idx: np.zeros(len(idx)), shape)


def test_exception_inside_f_propagates():
    calls = []

    def f(idx):
        calls.append(1)
        if len(calls) == 3:
            raise Boom("from f")
        return 1.0 + idx.sum(axis=1)

    with pytest.raises(Boom, match="from f"):
        tt_cross(f, (4, 4, 4, 4), pivot_search="rook")
    # the interpreter is fine afterwards
    tt, _ = tt_cross(lambda idx: 1.0 + idx.sum(axis=1), (4, 4, 4, 4))
    assert max(tt.bond_dims) == 2


def test_bad_arguments():
    f = lambda idx: np.ones(len(idx))  # noqa: E731
    with pytest.raises(ValueError, match="shape"):
        tt_cross(f, ())
    with pytest.raises(ValueError, match=r"shape\[1\]"):
        tt_cross(f, (3, 0, 2))
    with pytest.raises(TypeError, match=r"shape\[0\]"):
        tt_cross(f, (2.5, 3))
    with pytest.raises(ValueError, match="rel_tol"):
        tt_cross(f, (3, 3), rel_tol=-1.0)
    with pytest.raises(ValueError, match="rel_tol"):
        tt_cross(f, (3, 3), rel_tol=float("nan"))
    with pytest.raises(ValueError, match="method"):
        tt_cross(f, (3, 3), method="dmrg")
    with pytest.raises(ValueError, match="pivot_search"):
        tt_cross(f, (3, 3), pivot_search="partial")
    with pytest.raises(ValueError, match="max_rank"):
        tt_cross(f, (3, 3), max_rank=0)
    with pytest.raises(ValueError, match="max_sweeps"):
        tt_cross(f, (3, 3), max_sweeps=0)
    with pytest.raises(ValueError, match="batch_size"):
        tt_cross(f, (3, 3), batch_size=0)
    with pytest.raises(ValueError, match="initial_pivots"):
        tt_cross(f, (3, 3), initial_pivots=[[0, 3]])
    with pytest.raises(ValueError, match="initial_pivots"):
        tt_cross(f, (3, 3), initial_pivots=[[0, 1, 2]])
    with pytest.raises(TypeError, match="callable"):
        tt_cross("f", (3, 3))
    with pytest.raises(ValueError, match="max_rank"):
        tt_cross(f, (3, 3), method="maxvol1")
    with pytest.raises(TypeError, match="dtype"):
        tt_cross(f, (3, 3), dtype=np.float32)


def test_exported():
    assert tnfast.tt_cross is tt_cross


@pytest.mark.parametrize("search", ["full", "rook"])
def test_sparse_and_partly_zero_functions(search):
    shape = (6,) * 5
    p = np.array([3, 1, 4, 1, 5])
    tt, info = tt_cross(lambda idx: np.all(idx == p, axis=1).astype(float), shape, initial_pivots=[p],
                        pivot_search=search)
    ref = np.zeros(shape)
    ref[tuple(p)] = 1.0
    assert np.array_equal(tt.full(), ref) and tt.bond_dims == (1, 1, 1, 1)
    g = lambda idx: np.maximum(0, idx[:, 0] - 2.5) * np.cos(idx.sum(1))  # noqa: E731
    tt, _ = tt_cross(g, shape, pivot_search=search, seed=1)
    grid = np.indices(shape).reshape(5, -1).T
    assert np.abs(tt.full().ravel() - g(grid)).max() < 1e-12


@pytest.mark.parametrize("search", ["full", "rook"])
def test_random_check_replaces_the_confirming_pass(search):
    # Ranks grow in the first right-to-left pass (the left-to-right pass only saw one right
    # pivot).  Without the check a further pass must confirm them; with it the run stops at
    # the first pass with no pivot above tolerance whose train passes the check.
    g = uniform_grid(-1.0, 1.0, 8)
    f = grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 6)
    shape = (8,) * 6
    pts = fresh_points(np.random.default_rng(3), shape, 2000)
    kw = dict(rook_tol=1.0) if search == "rook" else {}  # strict rook pivots: the same pivots in both runs
    tt0, info0 = tt_cross(f, shape, pivot_search=search, rel_tol=1e-12, seed=3, check_samples=0, **kw)
    tt1, info1 = tt_cross(f, shape, pivot_search=search, rel_tol=1e-12, seed=3, **kw)
    assert info0.converged and info1.converged
    assert info0.n_sweeps == 2 and not any(s.checked for s in info0.sweeps)
    assert np.isnan(info0.error_estimate) and info0.check_points == 0
    assert info1.n_sweeps <= 2 and info1.sweeps[-1].checked
    assert info1.error_estimate <= 1e-12 and info1.check_points >= 64
    assert rel_err(tt0, f, pts) < 1e-11 and rel_err(tt1, f, pts) < 1e-11


def test_random_check_factor():
    # A factor so large that any train passes stops every run after its first sweep whose
    # passes left no pivot above tolerance; the default factor keeps the train accurate.
    g = uniform_grid(-1.0, 1.0, 8)
    f = grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 6)
    shape = (8,) * 6
    _, info = tt_cross(f, shape, rel_tol=1e-12, seed=0, pivot_search="rook", check_factor=1e30)
    assert info.n_sweeps == 1 and info.sweeps[0].checked


def test_random_check_rejects_an_inaccurate_train():
    # Here the first left-to-right pass finds rank 9 at the middle bond while reporting no
    # pivot above tolerance; the train is off by ~1e-12 relative, the check sees it on its
    # random points (its failures become pivots, the pivot tolerance is lowered) and the
    # right-to-left pass finds the tenth pivot.
    g = uniform_grid(-1.0, 1.0, 8)
    f = grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 6)
    shape = (8,) * 6
    tt, info = tt_cross(f, shape, rel_tol=1e-12, seed=0)
    assert info.sweeps[0].checked and info.sweeps[0].check_added > 0 and info.converged
    assert info.sweeps[-1].bond_dims[2] == 10
    assert info.error_estimate <= 1e-12
    assert rel_err(tt, f, fresh_points(np.random.default_rng(4), shape, 2000)) < 1e-13


def test_check_arguments():
    f = lambda idx: np.ones(len(idx))  # noqa: E731
    with pytest.raises(ValueError, match="check_samples"):
        tt_cross(f, (3, 3), check_samples=-1)
    with pytest.raises(ValueError, match="check_factor"):
        tt_cross(f, (3, 3), check_factor=0.5)


@pytest.mark.parametrize("search", ["full", "rook"])
def test_random_check_complex(rng, search):
    shape = (4,) * 8
    cores = random_tt_cores(rng, shape, 3, cplx=True)
    f = tt_function(cores)
    tt, info = tt_cross(f, shape, dtype=complex, pivot_search=search, seed=1, rel_tol=1e-12)
    assert info.converged and any(s.checked for s in info.sweeps)
    assert max(tt.bond_dims) <= 3
    assert rel_err(tt, f, fresh_points(rng, shape, 2000)) < 1e-11


@pytest.mark.parametrize("probe,bound", [("lines", 40_000), ("entries", 45_000)])
def test_rook_counts_every_point_and_reads_few(rng, probe, bound):
    # Every point f receives is counted once (no repeats, probes and the random-point check
    # included), and the rook search's lines are never read twice: on the 10-d Lorentzian
    # it needs far fewer points than a full search, at the same accuracy.
    shape = (16,) * 10
    g = uniform_grid(-1.0, 1.0, 16)
    f = Recorder(grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 10))
    tt, info = tt_cross(f, shape, rel_tol=1e-12, pivot_search="rook", rook_probe=probe, seed=0)
    allpts = np.concatenate(f.batches)
    assert len(allpts) == info.evals == info.cache_size
    assert len(np.unique(allpts, axis=0)) == len(allpts)
    assert len(f.batches) == info.calls
    assert info.converged
    pts = fresh_points(rng, shape)
    assert rel_err(tt, f.f, pts) < 1e-12
    # the strict rook search before lines were kept needed 42,478 points here
    assert info.evals < bound


def test_rook_default_one_probe_per_bond(rng):
    # By default a bond's rook search ends after a single probe (rook_restarts=0): later
    # passes and the random-point check catch what it misses, at the same accuracy and with
    # fewer evaluations than two probes per bond.
    shape = (16,) * 10
    g = uniform_grid(-1.0, 1.0, 16)
    f = grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 10)
    pts = fresh_points(rng, shape)
    tt, info = tt_cross(f, shape, rel_tol=1e-12, pivot_search="rook", seed=0)
    tt0, info0 = tt_cross(f, shape, rel_tol=1e-12, pivot_search="rook", seed=0, rook_restarts=0)
    tt1, info1 = tt_cross(f, shape, rel_tol=1e-12, pivot_search="rook", seed=0, rook_restarts=1)
    assert info.evals == info0.evals
    assert info.evals < info1.evals
    assert info.converged and info1.converged
    assert rel_err(tt, f, pts) < 1e-12 and rel_err(tt1, f, pts) < 1e-12
    # exact recovery of a random TT is unaffected
    shape2 = (3, 5, 4, 3, 5, 4, 3, 5)
    h = tt_function(random_tt_cores(rng, shape2, 4))
    for seed in range(3):
        tt2, info2 = tt_cross(h, shape2, pivot_search="rook", rel_tol=1e-12, seed=seed)
        assert info2.converged and max(tt2.bond_dims) <= 4
        assert rel_err(tt2, h, fresh_points(rng, shape2, 2000)) < 1e-12


def test_rook_default_threshold(rng):
    # By default a rook pivot is accepted within 1.2 of the largest entry seen (1.05: the
    # maxvol dominance tolerance): the interpolation coefficients stay below the threshold
    # in modulus, the accuracy matches strict rook pivots and fewer lines are read.
    shape = (16,) * 10
    g = uniform_grid(-1.0, 1.0, 16)
    f = grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 10)
    pts = fresh_points(rng, shape)
    tt, info = tt_cross(f, shape, rel_tol=1e-12, pivot_search="rook", seed=0)
    tt2, info2 = tt_cross(f, shape, rel_tol=1e-12, pivot_search="rook", seed=0, rook_tol=1.2)
    tt5, info5 = tt_cross(f, shape, rel_tol=1e-12, pivot_search="rook", seed=0, rook_tol=1.05)
    tt1, info1 = tt_cross(f, shape, rel_tol=1e-12, pivot_search="rook", seed=0, rook_tol=1.0)
    assert info.evals == info2.evals
    assert info.evals < info5.evals < info1.evals
    assert rel_err(tt5, f, pts) < 1e-12
    assert rel_err(tt, f, pts) < 1e-12 and rel_err(tt1, f, pts) < 1e-12
    # the bound on the factors' coefficients that the threshold keeps
    a = rng.standard_normal((60, 8)) @ rng.standard_normal((8, 70))
    for thr in (1.05, 1.2):
        lu = prrlu(a, pivot_search="rook", rook_tol=thr, rel_tol=1e-10, seed=1)
        assert lu.rank == 8
        assert np.abs(lu.L).max() <= thr * (1 + 1e-12)
        u = lu.U / lu.U[np.arange(lu.rank), lu.cols][:, None]
        assert np.abs(u).max() <= thr * (1 + 1e-12)


@pytest.mark.parametrize("rook_tol", [1.0, 2.0, 4.0])
def test_rook_tol_exact_recovery(rng, rook_tol):
    shape = (3, 5, 4, 3, 5, 4, 3, 5)
    f = tt_function(random_tt_cores(rng, shape, 4))
    tt, info = tt_cross(f, shape, pivot_search="rook", rook_tol=rook_tol, rel_tol=1e-12, seed=7)
    assert info.converged and max(tt.bond_dims) <= 4
    assert rel_err(tt, f, fresh_points(rng, shape)) < 1e-12


@pytest.mark.parametrize("cplx", [False, True])
def test_entry_probes_exact_recovery(rng, cplx):
    shape = (4,) * 8
    f = tt_function(random_tt_cores(rng, shape, 3, cplx=cplx))
    tt, info = tt_cross(f, shape, pivot_search="rook", rook_probe="entries", rel_tol=1e-12, seed=2,
                        dtype=complex if cplx else float)
    assert info.converged and max(tt.bond_dims) <= 3
    assert rel_err(tt, f, fresh_points(rng, shape, 2000)) < 1e-11


def test_rook_tol_argument():
    f = lambda idx: np.ones(len(idx))  # noqa: E731
    with pytest.raises(ValueError, match="rook_probe"):
        tt_cross(f, (3, 3), pivot_search="rook", rook_probe="points")
    with pytest.raises(ValueError, match="rook_tol"):
        tt_cross(f, (3, 3), pivot_search="rook", rook_tol=0.9)
    with pytest.raises(ValueError, match="rook_tol"):
        tt_cross(f, (3, 3), rook_tol=float("inf"))
