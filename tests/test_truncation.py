"""The truncation rule (tnfast._truncation.truncation_rank) and its agreement with the compiled one."""

import ast
import pathlib

import numpy as np
import pytest

import tnfast
from tnfast import TensorTrain
from tnfast._truncation import truncation_args, truncation_rank

S = [3.0, 2.0, 1.0, 0.5]  # squares 9, 4, 1, 0.25; tail = (14.25, 5.25, 1.25, 0.25, 0)


@pytest.mark.parametrize("kwargs, expected", [
    ({}, (4, 0.0)),                                    # no limit: nothing cut
    ({"max_rank": 1}, (1, 5.25)),
    ({"max_rank": 0}, (4, 0.0)),                       # 0: no cap
    ({"max_rank": 9}, (4, 0.0)),
    ({"rel_tol": 0.3}, (2, 1.25)),                     # allows 0.09 * 14.25 = 1.2825
    ({"rel_tol": 0.29}, (3, 0.25)),                    # allows 1.198...
    ({"rel_tol": 0.3, "max_rank": 1}, (1, 5.25)),      # the smaller wins
    ({"rel_tol": 0.0}, (4, 0.0)),                      # 0: no tolerance
    ({"rel_tol": 2.0}, (1, 5.25)),                     # at least one value stays
    ({"budget": 0.25}, (3, 0.25)),                     # absolute, <= is allowed
    ({"budget": 0.2499}, (4, 0.0)),
    ({"budget": 5.25}, (1, 5.25)),
    ({"budget": 0.0}, (4, 0.0)),
])
def test_hand_computed_spectrum(kwargs, expected):
    k, disc = truncation_rank(S, **kwargs)
    assert (k, disc) == expected


def test_edge_cases_and_inputs():
    assert truncation_rank([]) == (0, 0.0)
    assert truncation_rank(np.zeros(3), rel_tol=0.1) == (1, 0.0)
    assert truncation_rank(np.zeros(3)) == (3, 0.0)          # exact zeros are kept without a tolerance
    assert truncation_rank(np.array(S, dtype=np.float32), rel_tol=0.3) == (2, 1.25)
    torch = pytest.importorskip("torch")
    assert truncation_rank(torch.tensor(S, dtype=torch.float64), rel_tol=0.3) == (2, 1.25)
    with pytest.raises(ValueError, match="rel_tol or budget"):
        truncation_rank(S, rel_tol=0.1, budget=1.0)


def test_truncation_args():
    assert truncation_args(None, None) == (0, 0.0)
    assert truncation_args(3, 1e-3) == (3, 1e-3)
    with pytest.raises(ValueError, match="max_rank"):
        truncation_args(0, None)
    with pytest.raises(TypeError, match="max_rank"):
        truncation_args(True, None)
    with pytest.raises(ValueError, match="rel_tol"):
        truncation_args(None, -1.0)


def _two_site_train(s, rng):
    """A 2-site train whose only bond has the singular values ``s`` (distinct, descending)."""
    r = len(s)
    u, _ = np.linalg.qr(rng.standard_normal((r + 3, r)))
    v, _ = np.linalg.qr(rng.standard_normal((r + 2, r)))
    return TensorTrain([u.reshape(1, r + 3, r), (np.asarray(s)[:, None] * v.T).reshape(r, r + 2, 1)])


def _spectra(rng):
    yield np.array(S)
    yield np.array([1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125])
    yield np.array([5.0, 4.0, 1e-3, 1e-4])
    for _ in range(12):
        r = int(rng.integers(2, 9))
        yield np.sort(rng.random(r) ** 3 + 1e-3)[::-1]


def test_same_rank_as_the_compiled_rounding():
    """On a 2-site train ``round(max_rank, rel_tol)`` cuts its one bond with ``rel_tol**2 * ||T||**2`` of
    squared weight: the compiled rule must keep as many values as the Python one, and discard as much."""
    rng = np.random.default_rng(7)
    checked = 0
    for s in _spectra(rng):
        tail = np.cumsum((s ** 2)[::-1])[::-1]
        total = float(np.sum(s ** 2))
        for rel_tol in (None, 0.02, 0.1, 0.3, 0.6):
            if rel_tol is not None and np.min(np.abs(tail - rel_tol ** 2 * total)) < 1e-6 * total:
                continue  # too close to a tie for a comparison across rounding errors
            for max_rank in (None, 1, 2, len(s) - 1):
                tt = _two_site_train(s, rng)
                out, info = tt.round(max_rank=max_rank, rel_tol=rel_tol, return_info=True)
                k, disc = truncation_rank(s, max_rank=max_rank, rel_tol=rel_tol)
                assert out.ranks == (1, k, 1), (s, rel_tol, max_rank)
                assert info.discarded_weight == pytest.approx(disc / total, abs=1e-12)
                checked += 1
    assert checked > 100


def _imports(module):
    tree = ast.parse(pathlib.Path(module.__file__).read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_decompositions_know_no_classes():
    """Array-level decompositions import neither TensorTrain nor MPO (no import circle)."""
    import tnfast.decompositions as dec
    assert not {".tensortrain", ".mpo", "tnfast.tensortrain", "tnfast.mpo"} & _imports(dec)
    import tnfast._cores as cores
    import tnfast._train as train
    for mod in (cores, train):
        assert not {".tensortrain", ".mpo"} & _imports(mod)
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    cs, info = dec.tt_svd_cores(a)
    assert isinstance(cs, list) and all(isinstance(c, np.ndarray) for c in cs)
    assert np.allclose(tnfast.TensorTrain(cs).full(), a)
    assert tuple(info.ranks) == (1, 2, 4, 1)
    assert info.norm == pytest.approx(np.linalg.norm(a))
