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


def test_adaptive_takes_every_suffix_where_f_is_approximated_with_capture_tol_0():
    """A rank cap below f's bond: every trim discards weight; with capture_tol=0 every site then
    takes all suffixes and the result is the published sketch's; with tail_tol above the
    discarded weight the sketch stays short (fewer evaluations, a different approximation)."""
    f, samples, test = _case(n=20, bond=8, N=30, seed=4)
    kw = dict(embedding="poly", domain=[0.0, 1.0], rank=3, seed=0)
    a, ia = tt_rss(f, samples, **kw)
    b, ib = tt_rss(f, samples, sketch="adaptive", capture_tol=0, **kw)
    assert max(ia.discarded) > 1e-4
    ea, eb = rel_err(tt_evaluate(a, test, "poly"), f(test)), rel_err(tt_evaluate(b, test, "poly"), f(test))
    assert abs(ea - eb) < 1e-8 * max(1.0, ea)
    assert ib.site_columns[5:-3] == ia.site_columns[5:-3]
    _, ic = tt_rss(f, samples, sketch="adaptive", tail_tol=1.0, **kw)
    assert ic.n_evals < 0.6 * ia.n_evals


def _gapped_case(seed):
    """A bond-3 TT plus 1e-3 times a bond-4 one: fitted at rank 3, the kept space is well
    separated from the rest (a gap in the sketch's singular values)."""
    rng = np.random.default_rng(seed)
    n = 30
    f1 = tt_function(random_tt(n, 2, 3, rng), Basis(2))
    f2 = tt_function(random_tt(n, 2, 4, rng), Basis(2))
    samples = rng.integers(0, 2, size=(40, n)).astype(float)
    test = rng.integers(0, 2, size=(500, n)).astype(float)
    return (lambda x: f1(x) + 1e-3 * f2(x)), samples, test


@pytest.mark.parametrize("seed", [0, 1])
def test_adaptive_capture_check_where_f_is_approximated(seed):
    """Where the trim discards weight, the sketch grows only until the space it keeps captures
    held-out suffixes about as well as its own: with a gap after the kept rank, a few suffixes
    do, at close to the published sketch's error."""
    f, samples, test = _gapped_case(seed)
    kw = dict(embedding="poly", domain=[0.0, 1.0], rank=3, seed=0)
    a, ia = tt_rss(f, samples, **kw)
    b, ib = tt_rss(f, samples, sketch="adaptive", **kw)  # capture_tol 0.1
    c, ic = tt_rss(f, samples, sketch="adaptive", capture_tol=0.5, **kw)
    d, id_ = tt_rss(f, samples, sketch="adaptive", capture_tol=4.0, **kw)
    assert min(ia.discarded[3:-3]) > 1e-8  # f is approximated at every inner bond
    ea, eb, ec, ed = (rel_err(tt_evaluate(t, test, "poly"), f(test)) for t in (a, b, c, d))
    assert ea < 2e-3
    assert ib.n_evals < 0.95 * ia.n_evals and eb < 1.3 * ea
    assert max(ib.site_columns[3:-3]) < len(samples)
    # a looser check takes fewer suffixes (never more), at an error that stays close
    assert ic.n_evals < 0.7 * ia.n_evals and ec < 1.5 * ea
    assert id_.n_evals <= ic.n_evals and ed < 2 * ea


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
    with pytest.raises(ValueError, match="capture_tol"):
        tt_rss(f, samples, rank=2, sketch="adaptive", capture_tol=-0.5)
    with pytest.raises(TypeError, match="all_outputs"):
        tt_rss(f, samples, rank=2, sketch="adaptive", all_outputs="yes")


def test_verbose_progress_counts_evaluations(capfd, monkeypatch):
    pytest.importorskip("tqdm")
    f, samples, _ = _case(n=8, bond=2, N=6)
    _, info = tt_rss(f, samples, rank=2, verbose=True, sketch="adaptive", seed=0)
    err = capfd.readouterr().err
    assert "tt_rss" in err and f"evals={info.n_evals}" in err
    # without tqdm: the shared helper's stand-in, and one notice on stderr (as for every command)
    import sys
    from tnfast import _ui
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setattr(_ui, "_told", set())
    _, info2 = tt_rss(f, samples, rank=2, verbose=True, sketch="adaptive", seed=0)
    out = capfd.readouterr()
    assert "tqdm is not installed" in out.err and "evals=" not in out.err + out.out
    assert info2.n_evals == info.n_evals


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


def test_all_outputs_exact_and_counted_per_suffix():
    """Before the label site every output of f may be a sketch column: a vector-valued tensor
    train is still recovered exactly (by both sketches), with the same points passed to f by
    the published sketch, and the record counts suffixes, not columns."""
    rng = np.random.default_rng(9)
    n, C, pos = 16, 4, 8
    cores = random_tt(n, 2, 4, rng, out_dim=C, out_position=pos)
    f = tt_function(cores, Basis(2), out_position=pos)
    samples = rng.integers(0, 2, size=(30, n)).astype(float)
    labels = rng.integers(0, C, 30)
    test = rng.integers(0, 2, size=(300, n)).astype(float)
    kw = dict(embedding="poly", domain=[0.0, 1.0], rank=4, labels=labels, out_position=pos, seed=0)
    a, ia = tt_rss(f, samples, **kw)
    b, ib = tt_rss(f, samples, all_outputs=True, **kw)
    c, ic = tt_rss(f, samples, sketch="adaptive", **kw)  # all_outputs by default
    for t in (a, b, c):
        assert rel_err(tt_evaluate(t, test, "poly", pos), f(test)) < 1e-10
    assert ib.n_evals == ia.n_evals and ib.site_columns == ia.site_columns and ib.grid_sizes == ia.grid_sizes
    assert ic.n_evals < ia.n_evals
    # before the label site the adaptive sketch needs fewer suffixes than with one output each
    _, id_ = tt_rss(f, samples, sketch="adaptive", all_outputs=False, **kw)
    assert sum(ic.site_columns[2:pos]) <= sum(id_.site_columns[2:pos])
