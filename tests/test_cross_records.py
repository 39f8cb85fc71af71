"""tt_cross through the core: options and record as bound classes, and values far from 1
(near 1e-300 or 1e300) handled like any other scale."""
import inspect

import numpy as np
import pytest

from tnfast import _core
from tnfast.cross import tt_cross
from tnfast.grids import grid_function, uniform_grid


def _smooth(shape=(8,) * 5):
    g = uniform_grid(-1.0, 1.0, shape[0])
    return grid_function(lambda x: 1.0 / (1.0 + np.sum(x ** 2, axis=1)), [g] * len(shape)), shape


def _rel_err(tt, f, shape, p=2000):
    rng = np.random.default_rng(5)
    pts = np.stack([rng.integers(0, d, p) for d in shape], axis=1)
    ref = f(pts)
    return np.abs(tt.evaluate(pts) - ref).max() / np.abs(ref).max()


def test_options_defaults_match_tt_cross():
    # tt_cross's keyword defaults and the core's CrossOptions() describe the same run.
    opt = _core.CrossOptions()
    sig = inspect.signature(tt_cross).parameters
    for name in ("rel_tol", "max_sweeps", "full_block_max", "rook_restarts", "rook_tol", "check_samples",
                 "check_fraction", "confirm_fraction", "check_pivots", "check_factor", "batch_size",
                 "init_samples", "maxvol_tol", "global_pivots", "cache"):
        assert getattr(opt, name) == sig[name].default, name
    assert opt.pivot_search == _core.PivotSearch.auto and sig["pivot_search"].default == "auto"
    assert opt.max_rank == 0 and sig["max_rank"].default is None
    assert len(opt.initial_pivots) == 0


def test_core_call_with_bound_options_and_record():
    f, shape = _smooth()
    opt = _core.CrossOptions()
    opt.rel_tol = 1e-10
    opt.seed = 3
    opt.pivot_search = _core.PivotSearch.rook
    opt.initial_pivots = np.full((1, 5), 4, dtype=np.int64)
    assert list(opt.initial_pivots) == [4] * 5
    seen = []
    res = _core.tt_cross_f64(f, list(shape), "tci2", opt, lambda k, s: seen.append((k, s.evals, s.bond_dims)))
    assert isinstance(res, _core.CrossResult_f64)
    assert res.converged and len(res.sweeps) == len(seen)
    assert [k for k, _, _ in seen] == list(range(len(seen)))
    assert [s.evals for s in res.sweeps] == [e for _, e, _ in seen]
    assert sum(s.evals for s in res.sweeps) == res.evals - 1  # the initial pivot comes first
    assert [c.shape[1] for c in res.cores] == list(shape)
    assert res.error_estimate <= 1e-10 and res.check_points >= res.confirm_points >= 64
    assert res.sweeps[-1].rook_blocks > 0 and res.sweeps[-1].full_blocks == 0
    with pytest.raises(ValueError, match="method"):
        _core.tt_cross_f64(f, list(shape), "tci3", opt, None)
    with pytest.raises(TypeError, match="initial_pivots"):
        opt.initial_pivots = np.zeros((1, 5))


def test_same_run_as_the_python_front_end():
    f, shape = _smooth()
    tt, info = tt_cross(f, shape, rel_tol=1e-9, seed=1)
    opt = _core.CrossOptions()
    opt.rel_tol = 1e-9
    opt.seed = 1
    res = _core.tt_cross_f64(f, list(shape), "tci2", opt, None)
    assert res.evals == info.evals and res.converged == info.converged
    for a, b in zip(res.cores, tt.cores):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", ["tci2", "maxvol1"])
@pytest.mark.parametrize("exponent", [-1000, -700, 700, 1000])
def test_power_of_two_scale_gives_the_same_run(method, exponent):
    # Values near 1e-300 (or 1e300) used to fail: squared magnitudes underflowed to 0 in the
    # pivot search (rank 0, "cores[0]: every dimension must be >= 1") or overflowed ("NaN or
    # Inf").  Scaled by a power of two the run must be the same run, its train scaled.
    f, shape = _smooth()
    s = 2.0 ** exponent
    kw = dict(rel_tol=1e-10, seed=2, method=method)
    if method == "maxvol1":
        kw["max_rank"] = 6
    tt1, info1 = tt_cross(f, shape, **kw)
    tt2, info2 = tt_cross(lambda idx: s * f(idx), shape, **kw)
    assert info2.evals == info1.evals and info2.converged == info1.converged
    assert info2.max_abs == s * info1.max_abs
    rng = np.random.default_rng(0)
    pts = np.stack([rng.integers(0, d, 500) for d in shape], axis=1)
    np.testing.assert_allclose(tt2.evaluate(pts) / s, tt1.evaluate(pts), rtol=1e-12, atol=0)


@pytest.mark.parametrize("scale", [1e-300, 3e-306, 1e-310, 1e300, 1e306])
def test_values_near_the_ends_of_the_double_range(scale):
    f, shape = _smooth()
    g = lambda idx: scale * f(idx)  # noqa: E731
    tt, info = tt_cross(g, shape, rel_tol=1e-8, seed=0)
    assert info.converged and info.error_estimate <= 1e-8
    # subnormal values (1e-310) carry about 44 bits: the train is as good as they are
    assert _rel_err(tt, g, shape) <= (1e-6 if scale < 1e-307 else 1e-7)
    assert np.isfinite(tt.evaluate(np.zeros((1, 5), dtype=np.int64))).all()


def test_tiny_complex_values():
    f, shape = _smooth()
    g = lambda idx: 1e-300 * (1 + 2j) * f(idx)  # noqa: E731
    tt, info = tt_cross(g, shape, rel_tol=1e-10, seed=0, dtype=complex)
    assert info.converged and _rel_err(tt, g, shape) <= 1e-9


def test_zero_function_message_still_clear():
    with pytest.raises(ValueError, match="zero at all"):
        tt_cross(lambda idx: np.zeros(len(idx)), (4, 4, 4), seed=0)
