"""The trim's SVD on rank-deficient sketches: the published sketch recovers a tensor train whose
sketches have many numerically zero singular values (these once came back with wrong singular
vectors from the divide-and-conquer SVD, a pivot error of 0.16 instead of 1e-14)."""

import numpy as np
import pytest

from tnfast import TensorTrain, _backend, _core
from tnfast.rss import tt_evaluate, tt_rss

from test_rss import rel_err


def _orthogonal_tt(n, N, bond=10, seed=18):
    """A random TT with slices that are blocks of random orthogonal matrices (d=2) and N samples."""
    rng = np.random.default_rng(seed)
    ranks = [1] + [int(min(bond, 2 ** min(k + 1, n - k - 1))) for k in range(n - 1)] + [1]
    cores = []
    for k in range(n):
        r, rr = ranks[k], ranks[k + 1]
        G = np.empty((r, 2, rr))
        for p in range(2):
            q, _ = np.linalg.qr(rng.standard_normal((max(r, rr), max(r, rr))))
            G[:, p, :] = q[:r, :rr]
        cores.append(G)
    samples = rng.integers(0, 2, (N, n)).astype(np.float64)
    return cores, samples


def _sketches(cores, samples):
    """The embedded sketch of every inner site on all distinct sample prefixes and suffixes, in
    order of first occurrence as tt_rss takes them, with the values of the train's evaluation."""
    tt = TensorTrain(cores)
    N, n = samples.shape
    out = []
    for k in range(1, n - 1):
        pre = np.sort(np.unique(samples[:, :k], axis=0, return_index=True)[1])
        suf = np.sort(np.unique(samples[:, k + 1:], axis=0, return_index=True)[1])
        pts = np.array([np.concatenate([samples[a, :k], [x], samples[b, k + 1:]])
                        for a in pre for x in (0.0, 1.0) for b in suf])
        v = tt.evaluate(pts.astype(np.int64)).reshape(len(pre), 2, len(suf))
        out.append(np.stack([v[:, 0], v[:, 1] - v[:, 0]], 1).reshape(-1, len(suf)))
    return out


@pytest.fixture
def no_blas():
    """The compiled core's own SVD (the fallback where no LAPACK is registered)."""
    had = _backend.info().get("blas") is not None
    _backend.load(disable=True)
    yield
    if had:
        _backend.load()


def test_svd_of_rank_deficient_sketches(no_blas):
    cores, samples = _orthogonal_tt(40, 35)
    for C in _sketches(cores, samples):
        U, s, V = _core.svd_f64(np.asfortranarray(C))
        back = (U * s) @ (V if V.shape[0] == s.size else V.T)
        assert np.linalg.norm(back - C) <= 1e-12 * np.linalg.norm(C)
        assert np.sum(s > 1e-12 * s[0]) == min(10, *C.shape)


@pytest.mark.parametrize("sketch", ["samples", "adaptive"])
def test_rank_deficient_sketches_recovered_exactly(no_blas, sketch):
    cores, samples = _orthogonal_tt(40, 35)
    tt0 = TensorTrain(cores)

    def f(x):
        return tt0.evaluate(x.astype(np.int64))
    tt, info = tt_rss(f, samples, embedding="poly", domain=[0.0, 1.0], rank=10, seed=0, sketch=sketch)
    assert info.pivot_error < 1e-10
    assert rel_err(tt_evaluate(tt, samples, "poly"), f(samples)) < 1e-10
    assert max(info.bond_dims) == 10
