"""TT-RSS with the adaptive sketch (few suffixes per site, grown until the rank is revealed)."""

import numpy as np
import pytest

from tnfast.embeddings import Basis
from tnfast.rss import tt_evaluate, tt_rss

from test_rss import random_tt, rel_err, tt_function


def _case(n=60, bond=6, N=40, seed=0):
    rng = np.random.default_rng(seed)
    cores = random_tt(n, 2, bond, rng)
    f = tt_function(cores, Basis(2))
    samples = rng.integers(0, 2, size=(N, n)).astype(float)
    test = rng.integers(0, 2, size=(500, n)).astype(float)
    return f, samples, test


class Counting:
    def __init__(self, f):
        self.f, self.rows = f, 0

    def __call__(self, x):
        self.rows += x.shape[0]
        return self.f(x)


@pytest.mark.parametrize("rank", [6, None])
def test_adaptive_exact_recovery_with_fewer_evaluations(rank):
    f, samples, test = _case()
    paper, info_p = tt_rss(f, samples, embedding="poly", domain=[0.0, 1.0], rank=rank, seed=0)
    g = Counting(f)
    tt, info = tt_rss(g, samples, embedding="poly", domain=[0.0, 1.0], rank=rank, seed=0, sketch="adaptive")
    assert info.sketch == "adaptive"
    assert rel_err(tt_evaluate(tt, test, "poly"), f(test)) < 1e-10
    assert info.pivot_error < 1e-12
    assert max(info.bond_dims) == 6
    # every point passed to f is counted, and the record splits them per site
    assert info.n_evals == g.rows
    assert sum(info.site_evals) + len(samples) == info.n_evals
    assert len(info.site_evals) == len(info.site_columns) == samples.shape[1]
    assert max(info.site_columns) < len(samples)
    # the reduced count: well below the published sketch on the same case
    assert info.n_evals < 0.5 * info_p.n_evals
    assert sum(info_p.site_evals) + len(samples) == info_p.n_evals


def test_adaptive_vector_valued_exact():
    rng = np.random.default_rng(5)
    n, C, pos = 20, 3, 10
    cores = random_tt(n, 2, 4, rng, out_dim=C, out_position=pos)
    f = tt_function(cores, Basis(2), out_position=pos)
    samples = rng.integers(0, 2, size=(40, n)).astype(float)
    labels = rng.integers(0, C, 40)
    kw = dict(embedding="poly", domain=[0.0, 1.0], rank=4, labels=labels, out_position=pos, seed=0)
    tt, info = tt_rss(f, samples, sketch="adaptive", **kw)
    _, info_p = tt_rss(f, samples, **kw)
    test = rng.integers(0, 2, size=(300, n)).astype(float)
    assert rel_err(tt_evaluate(tt, test, "poly", pos), f(test)) < 1e-10
    assert info.n_evals < info_p.n_evals


def test_adaptive_grows_when_the_sketch_is_short():
    """With oversample 1 and no rank, the first guess (the previous bond) is short on the ramp
    of the bonds (1, 2, 4, ...): the sketch must grow to reveal the rank and stay exact."""
    f, samples, test = _case(n=30, bond=8, N=40, seed=3)
    tt, info = tt_rss(f, samples, embedding="basis", domain=[0.0, 1.0], seed=0, sketch="adaptive", oversample=1)
    assert rel_err(tt_evaluate(tt, test, "basis"), f(test)) < 1e-10
    assert max(info.bond_dims) == 8
    assert max(info.site_columns) >= 9


def test_adaptive_takes_every_suffix_where_f_is_approximated():
    """A rank cap below f's bond: every trim discards weight, so every site takes all suffixes
    and the result is the published sketch's; with tail_tol above the discarded weight the
    sketch stays short (fewer evaluations, a different approximation)."""
    f, samples, test = _case(n=20, bond=8, N=30, seed=4)
    kw = dict(embedding="poly", domain=[0.0, 1.0], rank=3, seed=0)
    a, ia = tt_rss(f, samples, **kw)
    b, ib = tt_rss(f, samples, sketch="adaptive", **kw)
    assert max(ia.discarded) > 1e-4
    ea, eb = rel_err(tt_evaluate(a, test, "poly"), f(test)), rel_err(tt_evaluate(b, test, "poly"), f(test))
    assert abs(ea - eb) < 1e-8 * max(1.0, ea)
    assert ib.site_columns[5:-3] == ia.site_columns[5:-3]
    _, ic = tt_rss(f, samples, sketch="adaptive", tail_tol=1.0, **kw)
    assert ic.n_evals < 0.6 * ia.n_evals


def test_adaptive_reproducible_with_a_seed():
    f, samples, _ = _case(n=30, bond=4, N=30, seed=1)
    kw = dict(embedding="poly", domain=[0.0, 1.0], rank=4, sketch="adaptive")
    a, ia = tt_rss(f, samples, seed=7, **kw)
    b, ib = tt_rss(f, samples, seed=7, **kw)
    assert ia.n_evals == ib.n_evals and ia.site_columns == ib.site_columns
    for x, y in zip(a.cores, b.cores):
        np.testing.assert_array_equal(x, y)
    gen = np.random.default_rng(7)
    c, ic = tt_rss(f, samples, seed=gen, **kw)
    assert ic.n_evals == ia.n_evals


def test_adaptive_with_all_suffixes_is_the_published_sketch():
    """When the suffixes are fewer than the expected bond plus the oversampling, every suffix is
    taken: the result is the published algorithm's."""
    f, samples, _ = _case(n=12, bond=4, N=6, seed=2)
    kw = dict(embedding="poly", domain=[0.0, 1.0], rank=4, seed=0)
    a, ia = tt_rss(f, samples, **kw)
    b, ib = tt_rss(f, samples, sketch="adaptive", oversample=8, **kw)
    assert ia.n_evals == ib.n_evals
    for x, y in zip(a.cores, b.cores):
        np.testing.assert_allclose(np.abs(x), np.abs(y), atol=1e-10)


def test_bad_sketch_arguments():
    f, samples, _ = _case(n=6, bond=2, N=5)
    with pytest.raises(ValueError, match="sketch: expected 'samples' or 'adaptive'"):
        tt_rss(f, samples, rank=2, sketch="maxvol")
    with pytest.raises(ValueError, match="sketch"):
        tt_rss(f, samples, rank=2, sketch=None)
    with pytest.raises(ValueError, match="oversample"):
        tt_rss(f, samples, rank=2, sketch="adaptive", oversample=0)
    with pytest.raises(ValueError, match="tail_tol"):
        tt_rss(f, samples, rank=2, sketch="adaptive", tail_tol=-1.0)


def test_verbose_progress_counts_evaluations(capfd, monkeypatch):
    f, samples, _ = _case(n=8, bond=2, N=6)
    tt_rss(f, samples, rank=2, verbose=True, sketch="adaptive")
    out = capfd.readouterr()
    assert "tt_rss" in out.out + out.err
    # without tqdm: one line per site with the running count
    import sys
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    _, info = tt_rss(f, samples, rank=2, verbose=True, sketch="adaptive", seed=0)
    lines = [ln for ln in capfd.readouterr().out.splitlines() if ln.startswith("tt_rss: site")]
    assert len(lines) == 8 and "site 8/8" in lines[-1]
    assert lines[-1].endswith(f"evals={info.n_evals}")


def test_progress_callback_error_propagates():
    f, samples, _ = _case(n=8, bond=2, N=6)
    import tnfast.rss as rss

    def boom(*args):
        raise RuntimeError("stop here")
    orig = rss._progress
    rss._progress = lambda sites, n0: (boom, None)
    try:
        with pytest.raises(RuntimeError, match="stop here"):
            tt_rss(f, samples, rank=2, verbose=True)
    finally:
        rss._progress = orig
