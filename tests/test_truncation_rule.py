"""The one truncation rule of the C++ core (linalg::truncation_rank) against a direct reference."""

import numpy as np
import pytest

from tnfast import _core


def reference(s, max_rank=0, rel_tol=0.0, abs_budget=-1.0, rel_floor=0.0):
    """Smallest k >= 1 meeting every active bound, capped, above the noise floor, at least one."""
    s = np.asarray(s, dtype=np.float64)
    n = len(s)
    if n == 0:
        return 0, 0.0, 0.0
    tail = [0.0] * (n + 1)
    for i in range(n - 1, -1, -1):  # from the small end, as the core sums
        tail[i] = tail[i + 1] + float(s[i]) * float(s[i])
    bounds = []
    if rel_tol > 0:
        bounds.append(rel_tol**2 * tail[0])
    if abs_budget >= 0:
        bounds.append(abs_budget)
    k = n
    if bounds:
        b = min(bounds)
        k = next(kk for kk in range(1, n + 1) if tail[kk] <= b)
    if max_rank > 0:
        k = min(k, max_rank)
    if rel_floor > 0:
        k = min(k, int(np.sum(s > rel_floor * s[0])))
    k = max(k, 1)
    return k, tail[k], tail[0]


def rule(**kw):
    return _core.TruncationRule(**kw)


SPECTRA = [
    np.array([3.0, 2.0, 1.0, 0.5, 0.25, 0.0, 0.0]),
    np.logspace(0, -12, 13),
    np.array([1.0]),
    np.zeros(4),
    np.array([5.0, 5.0, 5.0, 1e-17]),
]
RULES = [
    {},
    {"max_rank": 2},
    {"rel_tol": 0.1},
    {"rel_tol": 0.3, "max_rank": 1},
    {"abs_budget": 0.0},
    {"abs_budget": 0.3},
    {"abs_budget": 1e9},
    {"rel_tol": 0.5, "abs_budget": 0.01},
    {"rel_floor": 1e-6},
    {"rel_floor": 0.4, "max_rank": 5, "rel_tol": 1e-3},
]


@pytest.mark.parametrize("si", range(len(SPECTRA)))
@pytest.mark.parametrize("ri", range(len(RULES)))
def test_rule_matches_reference(si, ri):
    s, kw = SPECTRA[si], RULES[ri]
    k, disc, total = _core._truncation_rank_f64(s, rule(**kw))
    rk, rdisc, rtotal = reference(s, **kw)
    assert k == rk
    assert disc == pytest.approx(rdisc, rel=1e-12, abs=1e-300)
    assert total == pytest.approx(rtotal, rel=1e-12)
    k32, _, _ = _core._truncation_rank_f32(s.astype(np.float32), rule(**kw))
    assert k32 == reference(s.astype(np.float32), **kw)[0]


def test_rule_fields_and_cases():
    r = _core.TruncationRule(max_rank=3, rel_tol=0.1)
    assert (r.max_rank, r.rel_tol, r.abs_budget, r.rel_floor) == (3, 0.1, -1.0, 0.0)
    assert "max_rank=3" in repr(r)
    # no bound: everything, even exact zeros; a zero budget cuts exactly the zeros
    s = np.array([2.0, 1.0, 0.0, 0.0])
    assert _core._truncation_rank_f64(s, _core.TruncationRule())[0] == 4
    assert _core._truncation_rank_f64(s, _core.TruncationRule(abs_budget=0.0))[0] == 2
    # the discarded weight is what the kept count leaves out
    k, disc, total = _core._truncation_rank_f64(np.array([3.0, 2.0, 1.0]), _core.TruncationRule(max_rank=1))
    assert (k, disc, total) == (1, 5.0, 14.0)
    assert _core._truncation_rank_f64(np.zeros(0), _core.TruncationRule())[0] == 0


def test_rule_rejects_bad_spectra():
    with pytest.raises(ValueError, match="s:"):
        _core._truncation_rank_f64(np.array([1.0, 2.0]), _core.TruncationRule())
    with pytest.raises(ValueError, match="s:"):
        _core._truncation_rank_f64(np.array([np.nan]), _core.TruncationRule())
    with pytest.raises(TypeError):
        _core.TruncationRule(3)  # keywords only
