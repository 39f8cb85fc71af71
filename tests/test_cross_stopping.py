"""tt_cross: the default pivot search and the stopping rule's promise (rel_tol kept, or the
run says it was not)."""
import warnings

import numpy as np
import pytest

from tnfast.cross import tt_cross
from tnfast.grids import chebyshev_grid, grid_function, quantics, uniform_grid


def max_rel_err(tt, f, shape, p=10_000, seed=0):
    rng = np.random.default_rng(seed)
    pts = np.stack([rng.integers(0, d, p) for d in shape], axis=1)
    ref = f(pts)
    return np.abs(tt.evaluate(pts) - ref).max() / np.abs(ref).max()


def kept_or_reported(tt, info, f, shape, rel_tol):
    """The stopping rule's promise: within 10 x rel_tol, or not converged and an estimate
    above rel_tol."""
    err = max_rel_err(tt, f, shape)
    if err <= 10 * rel_tol:
        return True
    return (not info.converged) and info.error_estimate > rel_tol


def test_quantics_rank_one_trap_is_caught():
    # exp(-x^2 - y^2) on interleaved bits: every 2-site matrix through the first pivot has
    # rank 1 (each couples a bit of x with a bit of y of a product function), so the pivot
    # rule alone stops at rank 1 with a maximum error near 1.  The random check sees it and
    # feeds its failures back as pivots.
    qf = quantics(lambda x: np.exp(-(x ** 2).sum(1)), n_vars=2, bits=10, a=-1, b=1)
    for seed in range(3):
        tt, info = tt_cross(qf, qf.shape, seed=seed)
        assert info.converged, info.summary()
        assert max(tt.bond_dims) > 1
        assert max_rel_err(tt, qf, qf.shape) <= 10 * 1e-10
        assert info.error_estimate <= 1e-10 and info.check_points >= 64
    # one failed check point per check made a pivot (check_pivots=1): recorded 12,193
    # evaluations on seed 0 (18,549 with the earlier 8 per check and full search up to 256
    # entries); the bound leaves about 10% headroom
    _, info = tt_cross(qf, qf.shape, seed=0)
    assert info.converged and info.evals <= 13_500, info.evals
    # the pivot rule alone is fooled (the reason for the check)
    tt0, info0 = tt_cross(qf, qf.shape, seed=0, check_samples=0)
    assert info0.converged and max(tt0.bond_dims) == 1 and max_rel_err(tt0, qf, qf.shape) > 0.5


def test_quantics_trap_reported_when_sweeps_run_out():
    # With a single sweep allowed the run may not recover; it must then say so.
    qf = quantics(lambda x: np.exp(-(x ** 2).sum(1)), n_vars=2, bits=10, a=-1, b=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tt, info = tt_cross(qf, qf.shape, seed=0, max_sweeps=1, check_pivots=0)
    assert not info.converged
    assert info.error_estimate > 1e-10
    assert max_rel_err(tt, qf, qf.shape) > 1e-9
    assert any(issubclass(w.category, RuntimeWarning) and "error" in str(w.message) for w in caught)


def _bump_function():
    # A smooth background of rank 1 and a narrow bump that couples the first and the last
    # variable only: every pivot of a sweep from the background's maximum (the centre) stays
    # on the centre's fibres, no 2-site matrix contains both variables, and the bump's tail is
    # below 1e-30 there, so the sweeps see nothing of it.
    g = uniform_grid(-1.0, 1.0, 16)

    def f(x):
        base = np.exp(-0.5 * np.sum(x ** 2, axis=1))
        bump = np.exp(-((x[:, 0] - 0.6) ** 2 + (x[:, -1] - 0.6) ** 2) / (2 * 0.05 ** 2))
        return base + bump
    return grid_function(f, [g] * 6), (16,) * 6


@pytest.mark.parametrize("search", ["auto", "full", "rook"])
def test_bump_away_from_the_first_pivots(search):
    f, shape = _bump_function()
    centre = np.full((1, 6), 7)
    for seed in range(4):
        tt, info = tt_cross(f, shape, rel_tol=1e-10, seed=seed, initial_pivots=centre, pivot_search=search)
        assert kept_or_reported(tt, info, f, shape, 1e-10), info.summary()
    # the last run found the bump (here every run does) ...
    assert info.converged and max_rel_err(tt, f, shape) <= 1e-9
    # ... through a failed check whose points became pivots
    assert any(s.check_added > 0 for s in info.sweeps)
    # without the check one sweep's pivot rule misses it and claims convergence
    tt0, info0 = tt_cross(f, shape, rel_tol=1e-10, seed=0, initial_pivots=centre, check_samples=0,
                          pivot_search=search)
    assert info0.converged and max_rel_err(tt0, f, shape) > 0.1


def test_bump_reported_when_the_rank_is_capped():
    f, shape = _bump_function()
    with pytest.warns(RuntimeWarning, match="without meeting rel_tol"):
        tt, info = tt_cross(f, shape, rel_tol=1e-10, seed=0, initial_pivots=np.full((1, 6), 7), max_rank=1,
                            max_sweeps=3)
    assert not info.converged and info.error_estimate > 1e-10
    assert kept_or_reported(tt, info, f, shape, 1e-10)


def test_auto_search_picks_rook_for_large_blocks():
    # 24 points per axis: the 2-site matrices (24 r) x (24 r') pass 256 entries at once and
    # are searched by rook; the 2 x 2 sites of a low-rank quantics train stay in full search.
    g = chebyshev_grid(-1.0, 1.0, 24)
    f = grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 6)
    tt, info = tt_cross(f, (24,) * 6, rel_tol=1e-10, seed=0)
    assert sum(s.rook_blocks for s in info.sweeps) > 0
    assert info.converged and max_rel_err(tt, f, (24,) * 6) <= 1e-9
    _, full = tt_cross(f, (24,) * 6, rel_tol=1e-10, seed=0, pivot_search="full")
    assert sum(s.rook_blocks for s in full.sweeps) == 0
    assert info.evals < full.evals / 2
    qf = quantics(lambda x: np.cos(20 * x[:, 0]), n_vars=1, bits=16)
    _, qinfo = tt_cross(qf, qf.shape, rel_tol=1e-10, seed=0)
    assert sum(s.rook_blocks for s in qinfo.sweeps) == 0 and sum(s.full_blocks for s in qinfo.sweeps) > 0
    # the threshold is an option: 0 sends every block to rook search
    _, rinfo = tt_cross(qf, qf.shape, rel_tol=1e-10, seed=0, full_block_max=0)
    assert sum(s.full_blocks for s in rinfo.sweeps) == 0


def test_evaluations_on_a_fixed_random_tt_stay_within_bound():
    # A fixed random TT of rank 5 on 8^10 (the bench_cross case); default options recover it
    # exactly.  Recorded: 2,029 evaluations, 94 of them the confirmation sample (1,935
    # without it; full search: 2,550; rook: 2,027); the bound leaves about 10% headroom.
    rng = np.random.default_rng(0)
    shape = (8,) * 10
    ranks = [1] + [5] * 9 + [1]
    cores = [rng.standard_normal((ranks[k], 8, ranks[k + 1])) / np.sqrt(ranks[k]) for k in range(10)]

    def f(idx):
        v = cores[0][0, idx[:, 0], :]
        for k in range(1, 10):
            v = np.einsum("br,rbs->bs", v, cores[k][:, idx[:, k], :])
        return v[:, 0]
    tt, info = tt_cross(f, shape, rel_tol=1e-12, seed=0)
    assert info.converged and max(tt.bond_dims) == 5
    assert max_rel_err(tt, f, shape) < 1e-11
    assert info.evals <= 2_200, info.evals


def test_check_grows_with_evaluations():
    g = chebyshev_grid(-1.0, 1.0, 24)
    f = grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 6)
    _, info = tt_cross(f, (24,) * 6, rel_tol=1e-10, seed=0, check_fraction=0.05, confirm_fraction=0)
    last = [s for s in info.sweeps if s.checked][-1]
    assert info.check_points == last.check_points >= 0.05 * (info.evals - last.check_points) - 1
    assert info.check_points > 64 and info.confirm_points == 0
    _, info0 = tt_cross(f, (24,) * 6, rel_tol=1e-10, seed=0, check_fraction=0.0, confirm_fraction=0)
    # 64 new points per check (at most two checks per sweep), less the failed ones made pivots
    assert 64 <= info0.check_points <= 2 * 64 * info0.n_sweeps


def test_confirmation_is_fresh_and_sized_by_the_evaluations():
    g = chebyshev_grid(-1.0, 1.0, 24)
    f = grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * 6)
    tt, info = tt_cross(f, (24,) * 6, rel_tol=1e-10, seed=0)
    assert info.converged
    # drawn after the pool passed: 5 % of the evaluations made before that check
    assert 0.05 * 0.9 * info.evals <= info.confirm_points <= 0.05 * info.evals
    assert info.fraction_bound == pytest.approx(3 / info.confirm_points)
    assert max_rel_err(tt, f, (24,) * 6) <= 1e-9
    # a run that did not converge promises nothing
    with pytest.warns(RuntimeWarning, match="without meeting rel_tol"):
        _, bad = tt_cross(f, (24,) * 6, rel_tol=1e-10, seed=0, max_rank=2, max_sweeps=2)
    assert not bad.converged and bad.fraction_bound == 1.0


def _half_space(shape, w, c):
    # a step across a tilted hyperplane plus a smooth background: the error of a train that
    # has not resolved the step lives on a thin layer of grid points along the hyperplane
    g = uniform_grid(-1.0, 1.0, shape[0])
    w = np.asarray(w, dtype=float)
    return grid_function(lambda x: (x @ w > c) + np.exp(-np.sum(x ** 2, axis=1)), [g] * len(shape))


def _share_above(tt, f, shape, tol, p=20_000, seed=0):
    rng = np.random.default_rng(seed)
    pts = np.stack([rng.integers(0, d, p) for d in shape], axis=1)
    ref = f(pts)
    return np.mean(np.abs(tt.evaluate(pts) - ref) > tol * np.abs(ref).max())


def test_step_used_to_stop_silently():
    # The suite's step function (uniform 16^6), seed 1: the pooled check alone passed at a
    # true error of 0.53 with 0.08 % of the grid wrong, all next to the step (the pool had
    # been steered by its own failures).  The fresh confirmation sees that layer, and the run
    # goes on until the share of the grid above tolerance is below its stated bound.
    shape = (16,) * 6
    f = _half_space(shape, np.ones(6), 0.3)
    # (with the search settings of that time: 8 check pivots, full search up to 256 entries)
    tt, info = tt_cross(f, shape, rel_tol=1e-8, seed=1, confirm_fraction=0, check_pivots=8, full_block_max=256)
    assert info.converged and _share_above(tt, f, shape, 1e-8) > 1e-4  # the old rule: fooled
    tt, info = tt_cross(f, shape, rel_tol=1e-8, seed=1)
    assert info.converged and info.fraction_bound < 5e-4
    assert _share_above(tt, f, shape, 1e-8) <= info.fraction_bound, info.summary()


@pytest.mark.parametrize("seed", [1])
def test_tilted_step_not_in_the_suite(seed):
    # What the run promises on a function of full rank: the share of the grid where the error
    # is above tolerance is below info.fraction_bound (3 / fresh confirmation points).
    shape = (12,) * 5
    f = _half_space(shape, [1.0, -0.7, 0.4, 1.3, -0.2], 0.1)
    tt, info = tt_cross(f, shape, rel_tol=1e-8, seed=seed)
    assert info.converged and info.fraction_bound < 1e-3
    assert _share_above(tt, f, shape, 1e-8, seed=seed) <= info.fraction_bound, info.summary()


def test_new_arguments_are_checked():
    f = lambda idx: np.ones(len(idx))  # noqa: E731
    with pytest.raises(ValueError, match="pivot_search"):
        tt_cross(f, (3, 3), pivot_search="partial")
    with pytest.raises(ValueError, match="check_fraction"):
        tt_cross(f, (3, 3), check_fraction=-0.1)
    with pytest.raises(ValueError, match="check_pivots"):
        tt_cross(f, (3, 3), check_pivots=-1)
    with pytest.raises(ValueError, match="full_block_max"):
        tt_cross(f, (3, 3), full_block_max=-1)
    with pytest.raises(ValueError, match="confirm_fraction"):
        tt_cross(f, (3, 3), confirm_fraction=-1)


def test_chebyshev_grid():
    x = chebyshev_grid(-2.0, 4.0, 7)
    assert np.all(np.diff(x) > 0) and x[0] > -2.0 and x[-1] < 4.0
    # the nodes are the roots of T_7 mapped to [-2, 4]
    t = (x - 1.0) / 3.0
    assert np.abs(np.cos(7 * np.arccos(t))).max() < 1e-12
    with pytest.raises(ValueError, match="b"):
        chebyshev_grid(1.0, 1.0, 3)
