"""AKLT closed forms, exact sampling, SPT order parameters, spin-1 MPOs and DMRG against exact
diagonalization."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh
from scipy.stats import chisquare

import tnfast
from tnfast import MPO, TensorTrain, phases as P
from tnfast.dmrg import mpo_expectation

S = P.spin_operators(1)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(1):
        yield


def _sparse_hamiltonian(n, D=0.0, beta=None):
    """Exact spin-1 Hamiltonian from Kronecker products (independent of the MPO builders)."""
    eye = sp.identity(3, format="csr")

    def site(op, i):
        m = sp.identity(1, format="csr", dtype=complex)
        for k in range(n):
            m = sp.kron(m, sp.csr_matrix(op) if k == i else eye, format="csr")
        return m

    h = sp.csr_matrix((3 ** n, 3 ** n), dtype=complex)
    for i in range(n - 1):
        ss = sum(site(S[a], i) @ site(S[a], i + 1) for a in ("Sx", "Sy", "Sz"))
        h = h + ss + (beta * ss @ ss if beta is not None else 0)
    for i in range(n):
        h = h + D * site(S["Sz"] @ S["Sz"], i)
    assert abs(h.imag).max() < 1e-12
    return h.real.tocsr()


def _ground_energy(h):
    if h.shape[0] <= 800:
        return float(np.linalg.eigvalsh(h.toarray())[0])
    return float(eigsh(h, k=1, which="SA", tol=1e-12)[0][0])


# ---- single-site operators ------------------------------------------------------------------
def test_spin_operators_algebra():
    sx, sy, sz = S["Sx"], S["Sy"], S["Sz"]
    np.testing.assert_allclose(sx @ sy - sy @ sx, 1j * sz, atol=1e-14)
    np.testing.assert_allclose(sx @ sx + sy @ sy + sz @ sz, 2 * np.eye(3), atol=1e-14)  # s(s+1)
    np.testing.assert_allclose(S["Rx"], np.eye(3) - 2 * sx @ sx, atol=1e-15)
    np.testing.assert_array_equal(S["Rz"], np.diag([-1.0, 1.0, -1.0]))
    half = P.spin_operators(0.5)
    np.testing.assert_allclose(half["Sz"], np.diag([0.5, -0.5]))
    with pytest.raises(ValueError, match="spin"):
        P.spin_operators(0.3)


# ---- AKLT closed forms ----------------------------------------------------------------------
def test_aklt_norm_and_canonical_tensor():
    psi = P.aklt(30)
    assert psi.ranks == (1,) + (2,) * 29 + (1,)
    assert psi.norm() == pytest.approx(1.0, abs=1e-13)
    a = P._aklt_tensor()
    np.testing.assert_allclose(np.einsum("asb,csb->ac", a, a), np.eye(2), atol=1e-15)  # right-orthogonal
    np.testing.assert_allclose(np.einsum("asb,asc->bc", a, a), np.eye(2), atol=1e-15)  # left-orthogonal
    # unnormalized open chain with boundary (0, 1): <psi|psi> = (1 - (-1/3)^n) / 2
    raw = P.aklt(12, normalize=False)
    assert raw.dot(raw) == pytest.approx(0.5 * (1 - (-1 / 3) ** 12), rel=1e-12)


def test_aklt_is_ground_state_of_aklt_hamiltonian():
    n = 8
    h = _sparse_hamiltonian(n, beta=1 / 3)
    e0 = _ground_energy(h)
    assert e0 == pytest.approx(-2 / 3 * (n - 1), abs=1e-9)
    for boundary in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        v = P.aklt(n, boundary=boundary).full().ravel()
        assert v @ (h @ v) == pytest.approx(e0, abs=1e-10)
    # the MPO builder agrees (energy of the long chain too)
    psi = P.aklt(40)
    assert mpo_expectation(P.bilinear_biquadratic(40, beta=1 / 3), psi) == pytest.approx(-2 / 3 * 39, abs=1e-10)


def test_aklt_string_order_correlations_and_correlation_length():
    psi = P.aklt(60)
    for r in (1, 2, 5, 11):
        assert P.string_order(psi, 25, 25 + r) == pytest.approx(-4 / 9, abs=1e-9)
    for r in (1, 2, 3, 6):  # <Sz_i Sz_j> = (4/3) (-1/3)^r in the bulk
        assert P.correlation(psi, S["Sz"], S["Sz"], 28, 28 + r) == pytest.approx(4 / 3 * (-1 / 3) ** r, rel=1e-9)
    assert P.correlation_length(P._aklt_tensor()) == pytest.approx(1 / np.log(3), rel=1e-12)
    assert P.expect(psi, {30: S["Sz"] @ S["Sz"]}) == pytest.approx(2 / 3, abs=1e-12)
    prod = P.product_state(1, 20)
    assert P.string_order(prod, 5, 15) == 0.0


def test_expect_matches_dense():
    rng = np.random.default_rng(0)
    psi = TensorTrain.random([3] * 6, 4, seed=3)
    v = psi.full().ravel()
    a, b = rng.standard_normal((2, 3, 3))
    op = np.kron(np.kron(np.eye(3), a), np.eye(9))
    op = np.kron(op, np.kron(b, np.eye(3)))  # a on site 1, b on site 4
    assert P.expect(psi, {1: a, 4: b}) == pytest.approx(v @ op @ v / (v @ v), rel=1e-10)
    with pytest.raises(ValueError, match="ops"):
        P.expect(psi, {9: a})
    with pytest.raises(ValueError, match=r"\(3, 3\)"):
        P.expect(psi, {0: np.eye(2)})


# ---- SPT order --------------------------------------------------------------------------------
def test_spt_order_aklt_is_minus_one_and_product_plus_one():
    psi = P.aklt(50)
    val, num, den = P.spt_order(psi, block=10, return_parts=True)
    # finite blocks: corrections of order 3^-L
    assert val == pytest.approx(-1.0, abs=1e-3)
    assert den == pytest.approx(0.25, abs=1e-3)  # tr(Lambda^6) with Lambda^2 = 1/2
    assert P.spt_order(psi, block=16) == pytest.approx(-1.0, abs=1e-6)
    assert P.spt_order(P.product_state(1, 30), block=8) == pytest.approx(1.0, abs=1e-14)
    # a symmetric but entangled trivial state: a product of singlets on pairs (2-site unit cell)
    singlet = np.zeros((3, 3))
    singlet[0, 2] = singlet[2, 0] = 1.0
    singlet[1, 1] = -1.0
    u, s, vt = np.linalg.svd(singlet)
    left = (u * np.sqrt(s)).reshape(1, 3, 3)
    right = (np.sqrt(s)[:, None] * vt).reshape(3, 3, 1)
    dimers = TensorTrain([left, right] * 10)
    assert P.spt_order(dimers, block=4, start=2) == pytest.approx(1.0, abs=1e-12)


def test_spt_order_dense_reference():
    """The transfer-matrix contraction equals the dense <SWAP R^x R^z> on a small chain."""
    psi = TensorTrain.random([3] * 7, 3, seed=5)
    v = psi.full()
    L, start = 2, 1
    t = v.copy()
    for k in range(start, start + L):
        t = np.moveaxis(np.tensordot(S["Rx"], t, axes=([1], [k])), 0, k)
    for k in range(start + L, start + 2 * L):
        t = np.moveaxis(np.tensordot(S["Rz"], t, axes=([1], [k])), 0, k)
    perm = list(range(7))
    perm[start:start + L], perm[start + L:start + 2 * L] = perm[start + L:start + 2 * L], perm[start:start + L]
    num = np.vdot(v, np.transpose(t, perm)) / np.vdot(v, v)
    den = np.vdot(v, np.transpose(v, perm)) / np.vdot(v, v)
    val, n2, d2 = P.spt_order(psi, block=L, start=start, return_parts=True)
    assert n2 == pytest.approx(num, rel=1e-10)
    assert d2 == pytest.approx(den, rel=1e-10)
    assert val == pytest.approx(num / den, rel=1e-10)
    with pytest.raises(ValueError, match="block"):
        P.spt_order(psi, block=4)


# ---- sampling and fidelity ---------------------------------------------------------------------
def test_sample_matches_born_distribution():
    psi = P.aklt(6) + 0.3 * TensorTrain.random([3] * 6, 2, seed=1)  # not normalized, not canonical
    p = psi.full().ravel() ** 2
    p /= p.sum()
    x = P.sample(psi, 40000, seed=7)
    assert x.shape == (40000, 6) and x.dtype == np.int64
    counts = np.bincount(np.ravel_multi_index(x.T, (3,) * 6), minlength=p.size)
    keep = p * 40000 >= 5  # chi-square on the well-populated cells, the rest pooled
    obs = np.append(counts[keep], counts[~keep].sum())
    exp = np.append(p[keep], p[~keep].sum()) * 40000
    assert chisquare(obs, exp).pvalue > 1e-3
    assert counts[p == 0].sum() == 0  # forbidden configurations never drawn
    np.testing.assert_array_equal(P.sample(psi, 50, seed=3), P.sample(psi, 50, seed=3))


def test_aklt_samples_alternate():
    """Nonzero S^z in an AKLT configuration alternate in sign (hidden antiferromagnetic order)."""
    x = P.sample(P.aklt(200), 200, seed=0)
    for row in x:
        m = 1 - row[row != 1]
        assert np.all(m[1:] != m[:-1])


def test_fidelity_and_overlap():
    a = P.aklt(400)
    assert P.fidelity(a, 1e-120 * a) == pytest.approx(1.0, abs=1e-12)  # tiny amplitudes: no underflow
    assert P.fidelity(a, P.aklt(400, boundary=(0, 0))) == pytest.approx(0.0, abs=1e-12)  # other S^z sector
    b, c = TensorTrain.random([3] * 5, 2, seed=1), TensorTrain.random([3] * 5, 3, seed=2)
    vb, vc = b.full().ravel(), c.full().ravel()
    ref = (vb @ vc) ** 2 / ((vb @ vb) * (vc @ vc))
    assert P.fidelity(b, c) == pytest.approx(ref, rel=1e-10)
    assert P.overlap(b, c) == pytest.approx(vb @ vc / np.linalg.norm(vb) / np.linalg.norm(vc), rel=1e-10)
    with pytest.raises(ValueError, match="shapes"):
        P.fidelity(b, TensorTrain.random([3] * 4, 2))


# ---- MPO Hamiltonians and DMRG ------------------------------------------------------------
@pytest.mark.parametrize("D", [0.0, 0.7, 1.5])
def test_spin1_chain_mpo_matches_kronecker_sum(D):
    h = P.spin1_chain(5, D=D)
    assert isinstance(h, MPO) and h.bond_dims == (5,) * 4
    np.testing.assert_allclose(h.full(), _sparse_hamiltonian(5, D=D).toarray(), atol=1e-13)


def test_bilinear_biquadratic_mpo_matches_kronecker_sum():
    np.testing.assert_allclose(P.bilinear_biquadratic(4, beta=-0.4).full(),
                               _sparse_hamiltonian(4, beta=-0.4).toarray(), atol=1e-13)
    th = 0.3
    np.testing.assert_allclose(P.bilinear_biquadratic(4, theta=th).full(),
                               P.bilinear_biquadratic(4, beta=np.tan(th)).full() * np.cos(th), atol=1e-13)
    with pytest.raises(ValueError, match="exactly one"):
        P.bilinear_biquadratic(4)


@pytest.mark.parametrize("n, D, beta", [(6, 0.0, None), (8, 0.5, None), (10, 1.3, None), (7, 0.0, -0.3)])
def test_dmrg_matches_exact_diagonalization(n, D, beta):
    e0 = _ground_energy(_sparse_hamiltonian(n, D=D, beta=beta))
    h = P.spin1_chain(n, D=D) if beta is None else P.bilinear_biquadratic(n, beta=beta)
    e, psi, info = tnfast.dmrg(h, bond_dim=81, sweeps=8, seed=0, return_info=True)
    assert e == pytest.approx(e0, abs=1e-9)
    assert psi.norm() == pytest.approx(1.0, abs=1e-12)
    assert mpo_expectation(h, psi) == pytest.approx(e, abs=1e-12)
    assert info.energies[-1] == pytest.approx(e0, abs=1e-8)


def test_dmrg_aklt_point_finds_aklt_state():
    n = 16
    e, psi = tnfast.dmrg(P.bilinear_biquadratic(n, beta=1 / 3), bond_dim=8, sweeps=6, seed=2)
    assert e == pytest.approx(-2 / 3 * (n - 1), abs=1e-9)
    # the ground space is 4-fold (edge spins): the bulk string order is that of AKLT all the same
    assert P.string_order(psi, 5, 10) == pytest.approx(-4 / 9, abs=1e-6)


def test_dmrg_bad_input():
    with pytest.raises(TypeError, match="H"):
        tnfast.dmrg(np.eye(3))
    with pytest.raises(ValueError, match="bond_dim"):
        tnfast.dmrg(P.spin1_chain(4), bond_dim=0)
    with pytest.raises(ValueError, match="psi"):
        tnfast.dmrg(P.spin1_chain(4), init=P.aklt(5))


# ---- the reproduction job at smoke sizes ------------------------------------------------------
def test_repro_phases_smoke(tmp_path):
    import json

    from tnfast.cli import main

    rc = main(["repro", "phases", "--aklt", "--diagram", "--aklt-sizes", "30", "--aklt-samples", "10",
               "--seeds", "1", "--sizes", "8,12", "--D", "0.2,2.0", "--bond-dim", "9", "--sweeps", "3",
               "--samples", "40", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    res = json.loads((tmp_path / "results.json").read_text())
    (row,) = res["aklt"]["table"]
    assert row["fidelity_min"] > 0.999 and row["spt_order_median"] == pytest.approx(-1.0, abs=1e-3)
    pts = res["diagram"]["per_n"]["12"]["points"]
    assert [p["D"] for p in pts] == [0.2, 2.0]
    assert pts[0]["spt_order"] < pts[1]["spt_order"]  # more trivial at large D
    assert pts[1]["spt_order"] > 0.5
    for key in ("tt_fidelity", "tt_spt_order", "string_order", "energy"):
        assert all(key in p for p in pts)
    assert (tmp_path / "aklt.png").exists() and (tmp_path / "diagram.png").exists()


# ---- Marshall sign, edge completions, crossings ---------------------------------------------
def test_marshall_sign_of_aklt_and_dmrg_ground_states():
    x = P.sample(P.aklt(9), 500, seed=1)
    s = np.sign(P.aklt(9).evaluate(x)) * P.marshall_sign(x)
    assert np.all(s == s[0])
    _, psi = tnfast.dmrg(P.spin1_chain(8, D=0.7), bond_dim=27, sweeps=6, seed=0)
    v = psi.full().ravel()
    xa = np.stack(np.unravel_index(np.arange(v.size), (3,) * 8), axis=1)
    keep = np.abs(v) > 1e-8
    s = np.sign(v[keep]) * P.marshall_sign(xa[keep])
    assert np.all(s == s[0])
    np.testing.assert_array_equal(P.marshall_sign(np.array([[1, 0, 0], [0, 1, 2]])), [-1.0, 1.0])
    np.testing.assert_array_equal(P.marshall_sign(np.array([[1, 0, 0]]), sublattice=1), [1.0])
    with pytest.raises(ValueError, match="sublattice"):
        P.marshall_sign(x, sublattice=2)
    with pytest.raises(ValueError, match="x"):
        P.marshall_sign(np.ones((2, 3)))


def test_edge_completions_cover_every_end_configuration():
    from tnfast.experiments.phases import edge_completions

    x = P.sample(P.aklt(10), 5, seed=0)
    e = edge_completions(x, 2, 3)
    assert e.shape == (3 * 2 * 9, 10)
    assert {tuple(r) for r in e[:, :2]} == {(a, b) for a in range(3) for b in range(3)}
    assert {tuple(r) for r in e[:, -2:]} == {(a, b) for a in range(3) for b in range(3)}
    assert edge_completions(x, 0, 3).shape == (0, 10)


def test_edge_completions_make_the_tensorized_dmrg_state_exact():
    """Samples alone miss rare end configurations and truncate the end bonds of a DMRG state;
    a few completed samples restore them (fidelity 1, the same SPT order)."""
    from tnfast.experiments.phases import _edge_sites, tensorize_state

    n = 12
    _, psi = tnfast.dmrg(P.spin1_chain(n, D=1.0), bond_dim=16, sweeps=6, seed=0)
    r = max(psi.bond_dims)
    tt, info, _ = tensorize_state(psi, 150, r, seed=3, edge_sites=_edge_sites(r, n), edge_rows=3)
    assert tuple(info.bond_dims) == tuple(psi.bond_dims)
    assert P.fidelity(tt, psi) > 0.9999
    assert P.spt_order(tt, block=2) == pytest.approx(P.spt_order(psi, block=2), abs=1e-3)


def test_crossing_estimator_on_synthetic_curves():
    from tnfast.experiments.phases import crossing

    xs = np.round(np.arange(0.5, 1.51, 0.1), 4)
    dc = 0.9684713
    a = 0.3 + 0.8 * (xs - dc) + 0.5 * (xs - dc) ** 2
    b = 0.3 + 0.2 * (xs - dc) + 0.2 * (xs - dc) ** 2 + 0.2 * (xs - dc) ** 3  # a - b: a cubic, one root in range
    assert crossing(xs, a, b) == pytest.approx(dc, abs=1e-10)
    lin = crossing(xs, a, b, degree=1)
    assert abs(lin - dc) > 1e-4  # linear interpolation carries the curvature error
    assert crossing(xs, a, a + 1.0) is None
    # smooth non-polynomial curves: the cubic beats linear interpolation
    ta, tb = np.tanh(3 * (xs - dc)), np.tanh(5 * (xs - dc)) + 0.1 * (xs - dc) ** 2
    assert abs(crossing(xs, ta, tb) - dc) < 0.5 * abs(crossing(xs, ta, tb, degree=1) - dc)


def test_extrapolate_crossings_recovers_a_known_limit():
    from tnfast.experiments.phases import extrapolate_crossings

    ns = [20, 28, 36, 44, 56]
    ex = extrapolate_crossings([(n, 0.968 + 3.0 / n - 20.0 / n ** 2) for n in ns])
    assert ex["D_c"] == pytest.approx(0.968, abs=1e-9)  # the parabola in 1/n is exact here
    assert ex["uncertainty"] > 0 and ex["points"] == 5
    assert set(ex["fits"]) == {"linear_all", "linear_largest3", "quadratic_all", "power_law"}
    pw = extrapolate_crossings([(n, 0.968 + 5.0 * n ** -1.2) for n in ns])
    assert pw["fits"]["power_law"] == pytest.approx(0.968, abs=1e-3) and pw["power_exponent"] == pytest.approx(1.2, abs=0.02)
    lin = extrapolate_crossings([(n, 0.968 + 3.0 / n) for n in ns[:2]])
    assert lin["D_c"] == pytest.approx(0.968, abs=1e-9) and lin["uncertainty"] == 0
    assert extrapolate_crossings([(20, 1.0), (28, None)]) is None


# ---- a network trained on the AKLT state, tensorized -------------------------------------------
def test_network_trained_on_aklt_samples_tensorized(tmp_path):
    """An autoregressive network learns |psi|^2 from samples; with the Marshall sign its TT-RSS
    tensor train is close to AKLT and has the Haldane order.  Without the sign the overlap
    vanishes (the samples carry no sign)."""
    pytest.importorskip("torch")
    import json

    from tnfast.cli import main

    rc = main(["repro", "phases", "--network", "--network-n", "10", "--network-states", "aklt",
               "--network-variants", "ar-positive,ar-marshall", "--train-samples", "3000", "--epochs", "6",
               "--hidden", "32", "--network-pivots", "30", "--network-block", "4", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    rows = {r["network"]: r for r in json.loads((tmp_path / "results.json").read_text())["network"]["rows"]}
    m, pos = rows["ar-marshall"], rows["ar-positive"]
    assert m["exact_order"] == pytest.approx(P.spt_order(P.aklt(10), block=4), abs=1e-12)  # -1.128
    assert m["network_fidelity_enumerated"] == pytest.approx(m["network_fidelity"], abs=0.05)  # MC vs enumeration
    assert m["tt_fidelity"] > 0.75  # 0.868 with these seeds (network alone 0.846)
    assert m["tt_spt_order"] < -0.5
    assert pos["network_fidelity"] < 0.1 and pos["tt_fidelity"] < 0.1
    assert 0 <= m["weight_off_support"] < 0.5 and m["train_nll_minus_entropy"] > -0.1


def test_diagram_from_tensorized_networks(tmp_path):
    """--diagram --source network: at each D an ar-marshall network is trained on samples of the
    DMRG state and tensorized; its order is close to the state's (at n = 8 the blocks of 2
    leave both orders positive; the Haldane state's is the smaller)."""
    pytest.importorskip("torch")
    import json

    from tnfast.cli import main

    rc = main(["repro", "phases", "--diagram", "--source", "network", "--sizes", "8", "--D", "0.2,2.0",
               "--bond-dim", "9", "--sweeps", "3", "--samples", "40", "--train-samples", "3000", "--epochs", "6",
               "--hidden", "32", "--order-samples", "4000", "--rss-rank", "9", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    res = json.loads((tmp_path / "results.json").read_text())["diagram"]
    assert res["source"] == "network" and res["rss_rank"] == 9
    pts = res["per_n"]["8"]["points"]
    for p in pts:
        assert p["network_fidelity"] > 0.5 and p["tt_fidelity"] > 0.5  # 0.68 / 0.75 with these seeds
        assert p["tt_spt_order"] == pytest.approx(p["spt_order"], abs=0.15)  # 0.07 / 0.02
        # the network's own order (Monte Carlo over its samples) is as close as its tensor train's
        assert abs(p["network_order_sampled"] - p["spt_order"]) < 0.15 and 0 < p["network_order_sampled_se"] < 0.05
    assert pts[0]["tt_spt_order"] < pts[1]["tt_spt_order"] - 0.2
    assert (tmp_path / "diagram.png").exists()


def test_autoregressive_state_with_a_fixed_magnetization_is_exact_zero_outside_the_sector():
    """With ``magnetization=0`` the masked conditionals give p = 0 off the S^z = 0 sector and a
    distribution normalized inside it (by enumeration), its samples stay in the sector, and
    training on them has finite gradients; without it p is normalized over all 3^n."""
    torch = pytest.importorskip("torch")
    import itertools

    from tnfast.experiments.phases_network import AutoregressiveState, train_autoregressive

    n = 6
    x = torch.as_tensor(np.array(list(itertools.product(range(3), repeat=n))))
    inside = (1 - x).sum(1) == 0
    net = AutoregressiveState(n, hidden=8, seed=1, magnetization=0)
    with torch.no_grad():
        p = net.log_prob(x).double().exp()
    assert float(p.sum()) == pytest.approx(1.0, abs=1e-5)
    assert float(p[inside].sum()) == pytest.approx(1.0, abs=1e-5) and bool(torch.all(p[~inside] == 0))
    xs = net.sample(500, seed=2)
    assert bool(torch.all((1 - xs).sum(1) == 0))
    hist = train_autoregressive(net, xs.numpy(), epochs=2, batch=100)
    assert np.all(np.isfinite(hist))
    assert all(bool(torch.isfinite(q).all()) for q in net.parameters())
    free = AutoregressiveState(n, hidden=8, seed=1)
    with torch.no_grad():
        assert float(free.log_prob(x).double().exp().sum()) == pytest.approx(1.0, abs=1e-5)


def test_network_black_box_skips_the_sector_exactly():
    """The black box of a network with a fixed magnetization returns exactly what the network
    gives (0 off the sector, the signed amplitude inside) while running only the in-sector rows."""
    torch = pytest.importorskip("torch")
    from tnfast.experiments.phases_network import AutoregressiveState, network_amplitudes

    n = 8
    net = AutoregressiveState(n, hidden=8, seed=3, magnetization=0)
    x = np.random.default_rng(4).integers(0, 3, size=(3000, n))
    x[:500] = net.sample(500, seed=5).numpy()
    with torch.no_grad():
        ref = torch.exp(0.5 * net.log_prob(torch.as_tensor(x)).double()).numpy() * P.marshall_sign(x)
    calls = []
    orig = net.log_prob
    net.log_prob = lambda xt: (calls.append(len(xt)), orig(xt))[1]
    got = network_amplitudes(net, "ar-marshall")(x.astype(np.float64))
    assert np.array_equal(got, ref)
    assert sum(calls) == int(np.sum((1 - x).sum(1) == 0)) < len(x)
    assert np.count_nonzero(got) > 400


@pytest.mark.parametrize("which", ["aklt", "product", "dmrg"])
def test_spt_order_sampled_matches_the_exact_order(which):
    """The Monte Carlo order from amplitudes and samples of |psi|^2 agrees with the exact
    contraction within 4 standard errors (and equals it exactly for a product state)."""
    if which == "aklt":
        psi, block = P.aklt(12), 4
    elif which == "product":
        psi, block = TensorTrain([np.array([0.0, 1.0, 0.0]).reshape(1, 3, 1)] * 12), 2
    else:
        _, psi = tnfast.dmrg(P.spin1_chain(10, D=0.8), bond_dim=16, sweeps=4, seed=0)
        block = 4
    exact = P.spt_order(psi, block=block)
    x = P.sample(psi, 20000, seed=7)
    val, se = P.spt_order_sampled(psi.evaluate, x, block=block)
    if which == "product":
        assert val == pytest.approx(exact) and se == pytest.approx(0.0, abs=1e-12)
    else:
        assert 0 < se < 0.03 and abs(val - exact) < 4 * se


def test_spt_order_sampled_bad_input():
    psi = P.aklt(8)
    x = P.sample(psi, 10, seed=0)
    with pytest.raises(ValueError, match="block"):
        P.spt_order_sampled(psi.evaluate, x, block=5)
    with pytest.raises(ValueError, match="x:"):
        P.spt_order_sampled(psi.evaluate, x.astype(float), block=2)
    with pytest.raises(ValueError, match="rotations"):
        P.spt_order_sampled(psi.evaluate, x, block=2, rotations=(np.ones((3, 3)), np.eye(3)))
    with pytest.raises(ValueError, match="amplitude 0"):
        P.spt_order_sampled(lambda c: np.zeros(len(c)), x, block=2)


def test_diagram_runs_at_separate_sizes_merge_into_one(tmp_path):
    """Diagram runs at one size each, merged (--merge), give the same points and crossings as one
    run over all the sizes."""
    import json

    from tnfast.cli import main

    common = ["repro", "phases", "--diagram", "--D", "0.2,0.8,1.4,2.0", "--bond-dim", "9", "--sweeps", "3",
              "--samples", "40", "--tensorize-sizes", "8", "--no-progress"]
    assert main(common + ["--sizes", "6,8,10", "--out", str(tmp_path / "all")]) == 0
    for n in (6, 8, 10):
        assert main(common + ["--sizes", str(n), "--out", str(tmp_path / f"n{n}")]) == 0
    files = ",".join(str(tmp_path / f"n{n}" / "results.json") for n in (10, 6, 8))
    assert main(["repro", "phases", "--merge", files, "--out", str(tmp_path / "merged"), "--no-progress"]) == 0
    whole = json.loads((tmp_path / "all" / "results.json").read_text())["diagram"]
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())["diagram"]
    assert list(merged["per_n"]) == ["6", "8", "10"]
    for n in ("6", "8", "10"):
        for p, q in zip(whole["per_n"][n]["points"], merged["per_n"][n]["points"]):
            assert p["spt_order"] == pytest.approx(q["spt_order"], abs=1e-12)
    got, want = [c["D_cross"] for c in merged["crossings"]], [c["D_cross"] for c in whole["crossings"]]
    assert [g is None for g in got] == [w is None for w in want] and want[0] is not None  # 6 and 8 cross at 1.52
    assert [g for g in got if g is not None] == pytest.approx([w for w in want if w is not None], abs=1e-12)
    assert merged["extrapolated"] == whole["extrapolated"]


def test_diagram_crossings_locate_every_measured_curve():
    """Crossings are found for the DMRG, tensor-train and network-alone curves where they were
    measured (straight lines through known crossing points), and skipped where the network's own
    order was not measured."""
    from tnfast.experiments.phases import diagram_crossings

    Ds = [0.9, 1.0, 1.1, 1.2]
    cross = {"spt_order": 1.05, "tt_spt_order": 1.12, "network_order_sampled": 0.97}

    def pts(n, own=True):
        slope = 0.5 + n / 32
        return [{"D": D, **{k: slope * (D - c) + 0.3 for k, c in cross.items()
                            if own or k != "network_order_sampled"}} for D in Ds]

    per_n = {str(n): {"points": pts(n)} for n in (16, 24, 32)}
    crossings, extrapolated = diagram_crossings(per_n)
    assert len(crossings) == 6
    for c in crossings:
        assert c["D_cross"] == pytest.approx(cross[c["from"]], abs=1e-9)
    assert {k: v["D_c"] for k, v in extrapolated.items()} == pytest.approx(cross, abs=1e-9)
    per_n = {str(n): {"points": pts(n, own=False)} for n in (16, 24, 32)}
    crossings, extrapolated = diagram_crossings(per_n)
    assert {c["from"] for c in crossings} == {"spt_order", "tt_spt_order"}
    assert set(extrapolated) == {"spt_order", "tt_spt_order"}


def test_monte_carlo_fidelity_sees_weight_away_from_the_black_box_samples():
    """The Monte Carlo fidelity that checks a network's tensor train (exact samples of the
    normalized train, the black box evaluated there) matches the exact fidelity, also for a train
    that agrees with the box where the box's samples go but holds extra weight elsewhere."""
    from tnfast import phases as P
    from tnfast import TensorTrain
    from tnfast.experiments.phases_network import autoregressive_fidelity

    psi = P.aklt(10)
    psi = psi / psi.norm()
    f = lambda x: psi.evaluate(np.rint(x).astype(np.int64))
    assert autoregressive_fidelity(f, psi, n_eval=4000, seed=0)[0] == pytest.approx(1.0, abs=1e-9)  # tt = f
    # the same train plus weight on a configuration of AKLT amplitude 0 (never a sample of the box)
    bump = TensorTrain([np.eye(3)[0].reshape(1, 3, 1) for _ in range(10)])
    assert abs(float(psi.evaluate(np.zeros((1, 10), dtype=np.int64))[0])) < 1e-12
    other = psi + 0.8 * bump
    exact = P.fidelity(other, psi)
    assert exact < 0.7
    est, se = autoregressive_fidelity(f, other, n_eval=20000, seed=0)
    assert est == pytest.approx(exact, abs=max(4 * se, 1e-3))
