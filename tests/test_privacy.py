"""Gauge obfuscation (random and canonical gauges) and the property-inference attacker."""

import numpy as np
import pytest

from tnfast import MPO, TensorTrain
from tnfast.privacy import (attack_accuracy, black_box_features, canonical_gauge, haar_unitary, obfuscate,
                            random_gauge, white_box_features)

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def _tol(dtype):
    return 1e-5 if np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.complex64)) else 1e-12


def _rel(a, b):
    return np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(np.asarray(b))


def _general_gauge(tt, seed, cond=1e3):
    """Any invertible change of basis on every bond (not orthogonal; condition number ``cond``)."""
    rng = np.random.default_rng(seed)
    cores = [c.astype(np.complex128 if np.iscomplexobj(c) else np.float64) for c in tt.cores]
    for k in range(len(cores) - 1):
        r = cores[k].shape[2]
        u, v = haar_unitary(r, cores[k].dtype, rng), haar_unitary(r, cores[k].dtype, rng)
        s = np.logspace(0, np.log10(cond), r)
        X = (u * s) @ v
        cores[k] = np.tensordot(cores[k], X, axes=(2, 0))
        cores[k + 1] = np.tensordot(np.linalg.inv(X), cores[k + 1], axes=(1, 0))
    return TensorTrain([c.astype(tt.dtype) for c in cores])


def _ghz_like(n, d, seed, dtype=np.float64):
    """Local rotations of sum_a |a a ... a> (a < 2): every bond has two equal Schmidt values."""
    rng = np.random.default_rng(seed)
    cores = []
    for k in range(n):
        U = haar_unitary(d, dtype, rng)
        G = np.zeros((1 if k == 0 else 2, d, 1 if k == n - 1 else 2), dtype=dtype)
        for a in range(2):
            G[0 if k == 0 else a, :, 0 if k == n - 1 else a] = U[:, a]
        cores.append(G)
    return TensorTrain(cores)


def _padded(tt, seed, extra=2):
    """Redundant bond dimensions: zero columns on the left core, random rows on the right one."""
    rng = np.random.default_rng(seed)
    cores = [c.copy() for c in tt.cores]
    for k in range(len(cores) - 1):
        r, d, _ = cores[k].shape
        cores[k] = np.concatenate([cores[k], np.zeros((r, d, extra), dtype=tt.dtype)], axis=2)
        _, d1, r1 = cores[k + 1].shape
        cores[k + 1] = np.concatenate([cores[k + 1], rng.standard_normal((extra, d1, r1)).astype(tt.dtype)], axis=0)
    return TensorTrain(cores)


def _same_cores(a, b, atol):
    assert a.ranks == b.ranks
    for ca, cb in zip(a.cores, b.cores):
        np.testing.assert_allclose(ca, cb, atol=atol * max(1.0, np.abs(cb).max()), rtol=0)


# ------------------------------------------------------------------------------------------------
def test_haar_unitary_is_orthogonal_and_unbiased():
    for dt in (np.float64, np.complex128):
        q = haar_unitary(6, dt, seed=0)
        assert q.dtype == dt
        np.testing.assert_allclose(q.conj().T @ q, np.eye(6), atol=1e-13)
    # Haar: E[q_11^2] = 1/n; the naive QR without the sign fix would bias the diagonal's sign
    diag = np.array([haar_unitary(3, seed=s)[0, 0] for s in range(4000)])
    assert abs(np.mean(diag ** 2) - 1 / 3) < 0.03
    assert abs(np.mean(diag)) < 0.05


@pytest.mark.parametrize("dtype", DTYPES)
def test_random_gauge_keeps_the_tensor_and_changes_every_core(dtype):
    tt = TensorTrain.random((3, 2, 4, 2, 3), [2, 4, 5, 3], dtype=dtype, seed=1)
    g = random_gauge(tt, seed=7)
    assert isinstance(g, TensorTrain) and g.dtype == tt.dtype and g.ranks == tt.ranks
    assert _rel(g.full(), tt.full()) < _tol(dtype) * 10
    for a, b in zip(g.cores, tt.cores):
        assert _rel(a, b) > 0.1
    # from the canonical form: the per-core norms no longer depend on the input's gauge
    double = _tol(dtype) < 1e-6
    a = random_gauge(_general_gauge(tt, seed=4, cond=10) if double else tt, seed=1, canonical=True)
    b = random_gauge(tt, seed=2, canonical=True)
    assert _rel(a.full(), tt.full()) < _tol(dtype) * 10
    np.testing.assert_allclose([np.linalg.norm(c) for c in a.cores], [np.linalg.norm(c) for c in b.cores],
                               rtol=_tol(dtype) * 100)
    # reproducible by seed, and the input is left alone
    np.testing.assert_array_equal(random_gauge(tt, seed=7).cores[2], g.cores[2])


def test_random_gauge_on_adversarial_trains():
    big = TensorTrain.random((2,) * 12, 6, seed=2)
    exact = big.full()
    cores = [c * (1e8 if k % 2 else 1e-8) for k, c in enumerate(big.cores)]  # wild scales, same product
    wild = _general_gauge(TensorTrain(cores), seed=3, cond=1e2)
    for tt in (wild, _ghz_like(6, 3, seed=4), _padded(TensorTrain.random((2, 3, 2, 3), 2, seed=5), seed=6)):
        g = random_gauge(tt, seed=1)
        assert _rel(g.full(), tt.full()) < 1e-10
    # an ill-conditioned gauge (condition 1e6 per bond) already costs the train digits by itself:
    # both gauges stay within a small multiple of that loss
    bad = _general_gauge(TensorTrain(cores), seed=3, cond=1e6)
    own = _rel(bad.full(), exact)
    assert own > 1e-9
    assert _rel(random_gauge(bad, seed=1).full(), exact) < 5 * own
    assert _rel(canonical_gauge(bad).full(), exact) < 5 * own


@pytest.mark.parametrize("dtype", DTYPES)
def test_canonical_gauge_maps_gauged_copies_to_the_same_cores(dtype):
    tt = TensorTrain.random((3, 2, 4, 2, 3), [2, 4, 5, 3], dtype=dtype, seed=1)
    copies = [tt, random_gauge(tt, seed=2)]
    if np.dtype(dtype) in (np.dtype(np.float64), np.dtype(np.complex128)):
        copies.append(_general_gauge(tt, seed=3))
    for center in (None, 0, 2, -1):
        ref = canonical_gauge(tt, center)
        assert _rel(ref.full(), tt.full()) < _tol(dtype) * 10
        for other in copies[1:]:
            _same_cores(canonical_gauge(other, center), ref, atol=_tol(dtype) * 100)


def test_canonical_gauge_structure():
    """Left of the center left-orthogonal, right of it right-orthogonal; bonds carry the Schmidt
    values in decreasing order; the largest local entry of each basis vector is positive."""
    tt = TensorTrain.random((2, 3, 3, 2, 2), 3, seed=8)
    c = canonical_gauge(tt, 2)
    for k in (0, 1):
        G = c.cores[k]
        np.testing.assert_allclose(np.einsum("aib,aic->bc", G, G), np.eye(G.shape[2]), atol=1e-13)
        M = G.reshape(-1, G.shape[2])
        j = np.abs(M).argmax(axis=0)
        assert np.all(M[j, np.arange(M.shape[1])] > 0)
    for k in (3, 4):
        G = c.cores[k]
        np.testing.assert_allclose(np.einsum("aib,cib->ac", G, G), np.eye(G.shape[0]), atol=1e-13)
    # bond 1 (between sites 1 and 2): the center's left-bond Gram is diagonal with s^2 decreasing
    C = c.cores[2].reshape(c.cores[2].shape[0], -1)
    gram = C @ C.T
    s_ref = tt.singular_values()[1]
    np.testing.assert_allclose(np.sqrt(np.diag(gram)), s_ref[:len(gram)], rtol=1e-10)
    np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_canonical_gauge_with_degenerate_schmidt_values(dtype):
    tt = _ghz_like(6, 3, seed=4, dtype=dtype)
    for s in tt.singular_values():
        assert np.allclose(s, s[0])  # every bond degenerate
    ref = canonical_gauge(tt)
    assert _rel(ref.full(), tt.full()) < 1e-12
    for seed in range(3):
        _same_cores(canonical_gauge(_general_gauge(tt, seed=seed)), ref, atol=1e-9)
        _same_cores(canonical_gauge(random_gauge(tt, seed=seed)), ref, atol=1e-9)


def test_canonical_gauge_drops_redundant_bonds():
    tt = TensorTrain.random((2, 3, 2, 3, 2), 2, seed=5)
    pad = _general_gauge(_padded(tt, seed=6), seed=7, cond=10)
    assert max(pad.ranks) == 4
    a, b = canonical_gauge(tt), canonical_gauge(pad)
    assert b.ranks == tt.ranks
    _same_cores(b, a, atol=1e-9)
    assert _rel(b.full(), tt.full()) < 1e-10


def test_canonical_gauge_of_a_wildly_scaled_train():
    tt = TensorTrain.random((2,) * 10, 4, seed=9)
    cores = [c * (1e6 if k % 2 else 1e-6) for k, c in enumerate(tt.cores)]
    wild = _general_gauge(TensorTrain(cores), seed=1, cond=1e2)
    _same_cores(canonical_gauge(wild), canonical_gauge(tt), atol=1e-9)


def test_canonical_gauge_zero_train_and_bad_input():
    z = canonical_gauge(TensorTrain.zeros((2, 3)))
    assert z.ranks == (1, 1, 1) and not np.any(z.full())
    tt = TensorTrain.random((2, 2, 2), 2, seed=0)
    with pytest.raises(ValueError, match="center"):
        canonical_gauge(tt, 3)
    with pytest.raises(ValueError, match="degeneracy_tol"):
        canonical_gauge(tt, degeneracy_tol=2.0)
    with pytest.raises(TypeError, match="tt"):
        random_gauge(np.ones((2, 2, 2)))
    bad = tt.copy()
    bad.cores[1][0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        random_gauge(bad)


def test_gauges_on_a_numpy_mpo():
    W = MPO.random((2, 3, 2), (3, 2, 2), 3, seed=1)
    g = random_gauge(W, seed=0)
    assert isinstance(g, MPO) and g.row_dims == W.row_dims and g.col_dims == W.col_dims
    a, b = W.as_tensor_train().full(), g.as_tensor_train().full()
    assert _rel(b, a) < 1e-12
    _same_cores(canonical_gauge(g).as_tensor_train(), canonical_gauge(W).as_tensor_train(), atol=1e-10)


def _graded(big=1e8, seed=0):
    """Two sites, bond 2 with Schmidt values (big, 1); on the rows 2, 3 of the first site only the
    small Schmidt direction lives, while every column excites the large one: there the entries
    are O(1) and a rotation that mixes the two directions costs eps * big."""
    rng = np.random.default_rng(seed)
    U = np.zeros((4, 2))
    U[:2, 0], U[2:, 1] = rng.standard_normal(2), rng.standard_normal(2)
    U /= np.linalg.norm(U, axis=0)
    V = haar_unitary(4, seed=rng)[:, :2]
    return TensorTrain([U[None], (np.diag([big, 1.0]) @ V.T)[:, :, None]])


def test_obfuscate_keeps_a_graded_function_where_it_is_small():
    tt = _graded()
    ref = tt.full()[2:]
    for seed in range(3):
        for g in (obfuscate(tt, seed=seed), random_gauge(tt, seed=seed, canonical=True)):
            assert _rel(g.full()[2:], ref) < 1e-10
    # the same rotation of the plain canonical form loses eps * 1e8 there
    assert max(_rel(random_gauge(canonical_gauge(tt), seed=s).full()[2:], ref) for s in range(3)) > 1e-10


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_obfuscate_depends_on_the_function_alone(dtype):
    tt = TensorTrain.random((3, 2, 4, 2, 3), [2, 4, 5, 3], dtype=dtype, seed=1)
    ref = obfuscate(tt, seed=5)
    assert _rel(ref.full(), tt.full()) < 1e-12
    for other in (random_gauge(tt, seed=2), _general_gauge(tt, seed=3)):
        _same_cores(obfuscate(other, seed=5), ref, atol=1e-9)  # same function, same seed: same cores
    assert _rel(obfuscate(tt, seed=6).cores[2], ref.cores[2]) > 0.1
    # balanced: on every bond the left part's and the right part's Gram matrices are both diag(s)
    b = canonical_gauge(tt, 2, balanced=True)
    s_ref = tt.singular_values()
    cores = b.cores
    for k in range(len(cores) - 1):
        left = cores[0].reshape(-1, cores[0].shape[2])
        for c in cores[1:k + 1]:
            left = (left @ c.reshape(c.shape[0], -1)).reshape(-1, c.shape[2])
        right = cores[-1].reshape(cores[-1].shape[0], -1)
        for c in cores[k + 1:-1][::-1]:
            right = (c.reshape(-1, c.shape[2]) @ right).reshape(c.shape[0], -1)
        s = s_ref[k][:left.shape[1]]
        np.testing.assert_allclose(left.conj().T @ left, np.diag(s), atol=1e-10 * s[0])
        np.testing.assert_allclose(right @ right.conj().T, np.diag(s), atol=1e-10 * s[0])


# ------------------------------------------------------------------------------------------------
def test_feature_builders():
    sets = [[np.array([[3.0, 1.0], [2.0, 0.0]]), np.array([5.0, 4.0])],
            [np.array([[1.0, 3.0], [0.0, 2.0]]), np.array([4.0, 5.0, 6.0])]]
    flat = white_box_features(sets, "flat")
    np.testing.assert_array_equal(flat, [[3, 1, 2, 0, 5, 4, 0], [1, 3, 0, 2, 4, 5, 6]])
    srt = white_box_features(sets, "sorted")
    np.testing.assert_array_equal(srt[:, :4], [[0, 1, 2, 3], [0, 1, 2, 3]])  # a permutation is invisible
    assert white_box_features([[np.array([1 + 2j])]], "flat").tolist() == [[1.0, 2.0]]
    assert black_box_features([np.ones((4, 3)), np.zeros((4, 3))]).shape == (2, 12)
    with pytest.raises(ValueError, match="mode"):
        white_box_features(sets, "other")
    with pytest.raises(ValueError, match="same shape"):
        black_box_features([np.ones((4, 3)), np.zeros((4, 2))])


def test_attacker_finds_a_planted_leak_and_not_noise():
    rng = np.random.default_rng(0)
    n, f = 100, 40
    y = np.repeat([0, 1], n // 2)
    noise = rng.standard_normal((n, f))
    leak = noise.copy()
    leak[:, 17] = np.where(y == 1, 0.7, 0.3) + 0.05 * rng.standard_normal(n)  # one parameter encodes p
    assert attack_accuracy(leak, y)["accuracy"] >= 0.95
    chance = [attack_accuracy(rng.standard_normal((n, f)), y, seed=s)["accuracy"] for s in range(3)]
    assert 0.35 <= np.mean(chance) <= 0.65
    with pytest.raises(ValueError, match="two distinct"):
        attack_accuracy(noise, np.zeros(n))
    with pytest.raises(ValueError, match="folds"):
        attack_accuracy(noise[:12], y[44:56], folds=10)


def test_gauged_train_defeats_a_white_box_attacker_that_reads_a_planted_gauge():
    """Trains of one function whose gauge encodes the label: the raw cores leak it, the
    randomly and canonically gauged cores do not (the functions are identical)."""
    tt = TensorTrain.random((2,) * 6, 3, seed=1)
    y = np.repeat([0, 1], 30)
    raw, rnd, can = [], [], []
    for m, lab in enumerate(y):
        rng = np.random.default_rng(m)
        cores = [c.copy() for c in tt.cores]
        X = np.eye(3) * (2.0 if lab else 0.5) + 0.05 * rng.standard_normal((3, 3))  # label in the gauge
        cores[2] = np.tensordot(cores[2], X, axes=(2, 0))
        cores[3] = np.tensordot(np.linalg.inv(X), cores[3], axes=(1, 0))
        t = TensorTrain(cores)
        raw.append(t.cores)
        rnd.append(random_gauge(t, seed=m).cores)
        can.append(canonical_gauge(t).cores)
    assert attack_accuracy(white_box_features(raw, "flat"), y)["accuracy"] >= 0.95
    assert attack_accuracy(white_box_features(rnd, "flat"), y)["accuracy"] <= 0.75
    feats = white_box_features(can, "flat")
    assert np.ptp(feats, axis=0).max() < 1e-10  # every canonical copy is the same


# ------------------------------------------------------------------------------------------------
torch = pytest.importorskip("torch")


def test_gauges_on_an_mps_model_keep_its_function():
    from tnfast.nn import MPSModel

    for dt, tol in ((torch.float64, 1e-10), (torch.float32, 1e-5)):
        m = MPSModel(7, 3, embedding="poly", dim=2, bond_dim=4, init="random", dtype=dt, seed=1)
        m.domains = [np.array([0.0, 1.0])] * 7
        x = torch.as_tensor(np.random.default_rng(0).random((50, 7)), dtype=dt)
        with torch.no_grad():
            y = m(x)
            gr, gc = random_gauge(m, seed=3), canonical_gauge(m)
            assert isinstance(gr, MPSModel) and gr.cores[0].dtype == dt and gr.domains is None
            assert m.domains is not None  # the input is left alone
            for g in (gr, gc):
                assert float(torch.linalg.norm(g(x) - y) / torch.linalg.norm(y)) < tol
            # a differently gauged copy of the model has the same canonical cores
            gc2 = canonical_gauge(random_gauge(m, seed=4))
            for a, b in zip(gc.cores, gc2.cores):
                assert float((a - b).abs().max()) < tol * 100 * float(b.abs().max())
        assert all(p.requires_grad for p in gr.parameters())


def test_obfuscate_on_an_mps_model():
    from tnfast.nn import MPSModel

    m = MPSModel(7, 3, embedding="poly", dim=2, bond_dim=4, init="random", dtype=torch.float64, seed=1)
    x = torch.as_tensor(np.random.default_rng(0).random((50, 7)))
    with torch.no_grad():
        y = m(x)
        g = obfuscate(m, seed=3)
        assert isinstance(g, MPSModel) and g.domains is None
        assert float(torch.linalg.norm(g(x) - y) / torch.linalg.norm(y)) < 1e-10
        g2 = obfuscate(random_gauge(m, seed=4), seed=3)
        for a, b in zip(g.cores, g2.cores):
            assert float((a - b).abs().max()) < 1e-9 * float(b.abs().max())


def test_gauges_on_mpo_layers_keep_their_maps():
    from tnfast.nn import MPOConv2d, MPOLinear

    torch.manual_seed(0)
    lin = MPOLinear(24, 12, in_modes=(2, 3, 4), out_modes=(3, 2, 2), bond_dim=4, dtype=torch.float64)
    conv = MPOConv2d(6, 8, 3, padding=1, in_modes=(2, 3), out_modes=(2, 4), bond_dim=3, dtype=torch.float64)
    x, xc = torch.randn(5, 24, dtype=torch.float64), torch.randn(2, 6, 7, 7, dtype=torch.float64)
    with torch.no_grad():
        for layer, inp in ((lin, x), (conv, xc)):
            y = layer(inp)
            gr, gc = random_gauge(layer, seed=1), canonical_gauge(layer)
            assert type(gr) is type(layer)
            for g in (gr, gc):
                assert float(torch.linalg.norm(g(inp) - y) / torch.linalg.norm(y)) < 1e-10
            assert float((gr.cores[0] - layer.cores[0]).abs().max()) > 1e-3
            gc2 = canonical_gauge(random_gauge(layer, seed=2))
            for a, b in zip(gc.cores, gc2.cores):
                assert float((a - b).abs().max()) < 1e-9
            torch.testing.assert_close(gr.bias, layer.bias)


def test_privacy_study_smoke():
    """The whole study at a tiny size (scikit-learn's digits): every number is produced, and the
    gauged MPS compute the network-tensorized function unchanged."""
    pytest.importorskip("sklearn")
    from tnfast.experiments.privacy import KINDS, format_table, run_study

    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        res = run_study(dataset="digits", ps=(0.2,), models=4, train_size=60, n_test=100, hidden=(8,), epochs=2,
                        rank=2, samples=6, distill_epochs=1, retrain_epochs=1, queries=10, folds=2,
                        progress=False)
    finally:
        torch.set_num_threads(threads)
    (row,) = res["per_p"]
    assert row["models_per_value"] == 4 and row["gauge_max_output_change"] < 1e-8
    assert row["gauge_output_change"]["mps_obfuscated"]["max"] < 1e-10
    assert set(row["white_box_stats"]) == set(KINDS) | {"function_slice_norms"}
    for kind in KINDS:
        for mode in ("sorted", "flat"):
            assert 0.0 <= row["white_box"][kind][mode]["accuracy"] <= 1.0
            assert len(row["white_box"][kind][mode]["folds"]) == 2
    assert set(row["black_box"]) == {"nn", "mps"}
    assert row["accuracy_cost"] == pytest.approx(row["acc_nn"]["mean"] - row["acc_mps"]["mean"])
    assert 0.0 <= row["acc_distilled"]["mean"] <= 1.0
    assert "0.2" in format_table(res)
