"""Smoke runs of ``tnfast repro agreement`` and ``tnfast repro compression`` on scikit-learn's
digits (always present), and the operation counts of the compression study."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tnfast.cli import main  # noqa: E402
from tnfast.experiments import tt_compression as C  # noqa: E402
from tnfast.experiments._tt_common import parse_config  # noqa: E402
from tnfast.nn import MPOLinear, compress  # noqa: E402


def test_agreement_smoke(tmp_path):
    out = tmp_path / "agr"
    assert main(["repro", "agreement", "--smoke", "--out", str(out), "--no-progress"]) == 0
    payload = json.loads((out / "results.json").read_text())
    assert (out / "tables.md").read_text().count("|") > 10
    assert (out / "agreement.png").exists()
    (entry,) = payload["results"].values()
    assert entry["side"] == 8 and 0.5 < entry["net_test_acc"] <= 1.0
    assert sorted({r["N"] for r in entry["samples"]}) == [10, 20]
    recs = entry["samples"] + entry["embedding"] + entry["distill"] + entry["combined"]
    assert {r["config"] for r in entry["embedding"]} == {"poly:2:1", "poly:3:1"}
    for r in recs:
        assert 0.0 <= r["disagreement_pct"] <= 100.0
        assert 0.0 <= r["mps_test_acc"] <= 1.0
        # the accuracies of two classifiers differ by at most the fraction where they disagree
        assert abs(r["mps_test_acc"] - entry["net_test_acc"]) <= r["disagreement_pct"] / 100 + 1e-9
    for r in entry["samples"] + entry["embedding"]:
        assert r["n_evals"] > r["N"] and r["rss_time_s"] > 0 and r["bond_dims_max"] <= 10
    for r in entry["distill"]:
        assert len(r["loss"]) == r["epochs"] == 1 and np.isfinite(r["loss"]).all()
        base = next(s for s in entry["samples"] if s["N"] == r["N"])
        assert r["before_pct"] == base["disagreement_pct"]
    assert len(entry["combined"]) == 1


def test_compression_smoke(tmp_path):
    out = tmp_path / "cmp"
    assert main(["repro", "compression", "--smoke", "--out", str(out), "--no-progress"]) == 0
    payload = json.loads((out / "results.json").read_text())
    assert (out / "compression.png").exists()
    e = payload["results"]["25k"]
    n_in, h = 64, 48
    assert e["params"] == sum(p.numel() for p in C.mlp(n_in, 10, hidden=(h,)).parameters())
    assert e["flops_per_input"] == C.dense_flops(n_in, h) + C.dense_flops(h, 10)
    assert [r["D"] for r in e["ttrss"]] == [r["D"] for r in e["layerwise"]] == [2, 5]
    for r in e["ttrss"]:
        # poly:2 MPS of 64 input sites and one output site of 10 classes, bonds <= D
        assert r["bond_dims_max"] <= r["D"]
        assert 2 * 63 * 1 <= r["params"] <= 64 * 2 * r["D"] ** 2 + 10 * r["D"] ** 2
    for r in e["layerwise"]:
        biases = h + 10
        assert r["params"] == sum(d["mpo_params"] for d in r["layers"])
        assert r["params"] - biases == sum(
            sum(a * b * c * d for a, b, c, d in _core_shapes(layer)) for layer in r["layers"])
    for r in e["ttrss"] + e["layerwise"]:
        for k in ("test_acc_before", "test_acc_after"):
            assert 0.0 <= r[k] <= 1.0
    assert 0.0 <= e["test_acc"] <= 1.0


def _core_shapes(layer):
    ranks = [1] + list(layer["bond_dims"]) + [1]
    return [(ranks[k], o, i, ranks[k + 1]) for k, (o, i) in enumerate(zip(layer["out_modes"], layer["in_modes"]))]


def test_mpo_flops_closed_forms():
    # one core: a dense matrix
    one = MPOLinear(12, 6, in_modes=(12,), out_modes=(6,), bond_dim=1)
    assert C.mpo_flops(one) == C.dense_flops(12, 6)
    # two cores (D, o1, i1) (o2, i2): 2 (o1 D i1 i2) for the first, 2 (o1 D i2 o2) for the second
    two = MPOLinear(20, 6, in_modes=(4, 5), out_modes=(2, 3), bond_dim=3, bias=False)
    assert C.mpo_flops(two) == 2 * (2 * 3 * 4 * 5) + 2 * (2 * 3 * 5 * 3)
    # the count equals the multiplications of an explicit core-by-core contraction, times 2
    layer = MPOLinear(500, 48, in_modes=C.IN_MODES, out_modes=C.HIDDEN_MODES[48], bond_dim=5, bias=False)
    x = torch.randn(1, *C.IN_MODES)
    mults = 0
    state = x.reshape(1, 1, *C.IN_MODES)  # (outs..., D, ins...)
    outs = []
    for k, core in enumerate(layer.cores):
        r, o, i, rr = core.shape
        s = state.reshape(int(np.prod(outs)) if outs else 1, r, i, -1)
        mults += s.shape[0] * r * i * o * rr * s.shape[3]
        state = torch.einsum("arib,roiq->aoqb", s, core.detach())
        outs.append(o)
    assert C.mpo_flops(layer) == 2 * mults
    with torch.no_grad():
        dense = layer.to_dense()
        ref = x.reshape(1, -1) @ dense.T
    assert torch.allclose(state.reshape(1, -1), ref, atol=1e-4)


def test_network_flops_counts_every_layer():
    net = C.mlp(500, 10, hidden=(100,))
    assert C.network_flops(net) == 2 * 500 * 100 + 100 + 2 * 100 * 10 + 10
    comp, _ = compress(net, layers=["0"], max_bond=2, modes={"0": (C.IN_MODES, C.HIDDEN_MODES[100])})
    assert C.network_flops(comp) == C.mpo_flops(comp[0]) + C.dense_flops(100, 10)


def test_parse_config():
    c = parse_config("unit:3:2")
    assert (c.name, c.dim, c.multiplier) == ("unit", 3, 2)
    assert parse_config("poly:2").label == "poly:2:1"
    for bad in ("poly", "poly:x", "poly:1", "poly:2:0", "nosuch:2"):
        with pytest.raises(ValueError):
            parse_config(bad)


@pytest.fixture(scope="module")
def digits_pair():
    from tnfast.experiments._work1 import fit_classifier, load_images, mlp
    from tnfast.nn import tensorize

    Xtr, ytr, Xte, yte, _ = load_images("digits")
    net = mlp(64, 10, hidden=(64, 32), seed=0)
    fit_classifier(net, Xtr, ytr, epochs=15, lr=3e-3, batch_size=64, seed=0, progress=False)
    mps = tensorize(net, Xtr[:20], rank=4, seed=0)
    return net, mps, Xtr, Xte


def test_distill_ce_lowers_disagreement(digits_pair):
    import copy

    from tnfast.nn import argmax_disagreement, distill

    net, mps, Xtr, Xte = digits_pair
    before = argmax_disagreement(mps, net, Xte)
    student = copy.deepcopy(mps)
    net.train()
    w0 = [p.detach().clone() for p in net.parameters()]
    hist = distill(student, net, Xtr, epochs=3, lr=3e-3, batch_size=32, progress=False)
    after = argmax_disagreement(student, net, Xte)
    assert len(hist) == 3 and np.isfinite(hist).all() and hist[-1] < hist[0]
    assert before > 10.0 and after < 0.6 * before, (before, after)
    # the teacher is left untouched and in its mode
    assert net.training and all(torch.equal(a, b) for a, b in zip(w0, net.parameters()))
    net.eval()
    for loss in ("kl", "mse"):
        s = copy.deepcopy(mps)
        h = distill(s, net, Xtr[:200], loss=loss, epochs=1, lr=1e-4, progress=False)
        assert len(h) == 1 and np.isfinite(h[0])


def test_distill_rejects_bad_input(digits_pair):
    from tnfast.nn import distill

    net, mps, Xtr, _ = digits_pair
    for kw, word in (({"loss": "l1"}, "loss"), ({"epochs": -1}, "epochs"), ({"lr": 0.0}, "lr"),
                     ({"batch_size": 0}, "batch_size"), ({"grad_clip": -1.0}, "grad_clip"),
                     ({"temperature": 0.0}, "temperature")):
        with pytest.raises(ValueError, match=word):
            distill(mps, net, Xtr[:10], progress=False, **kw)
    bad = Xtr[:10].copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="X"):
        distill(mps, net, bad, progress=False)
    with pytest.raises(ValueError, match="X"):
        distill(mps, net, Xtr[:0], progress=False)


def test_data_weighted_compression_of_a_tensorized_network(digits_pair):
    import copy

    net, mps, Xtr, Xte = digits_pair
    x = torch.as_tensor(Xte, dtype=torch.float64)
    with torch.no_grad():
        ref = mps(x)
        same = copy.deepcopy(mps)
        info = same.compress(max_rank=max(mps.bond_dims), weights=Xtr)
        # no truncation: the same function
        assert info.discarded_weight < 1e-20
        torch.testing.assert_close(same(x), ref, rtol=1e-8, atol=1e-8 * float(ref.abs().max()))
        small = copy.deepcopy(mps)
        info = small.compress(max_rank=2, weights=Xtr)
        plain = copy.deepcopy(mps)
        plain.compress(max_rank=2)
        assert max(small.bond_dims) <= 2 and max(mps.bond_dims) > 2
        # weighted by the data, the truncation moves the outputs on held-out images less
        err_w = float(((small(x) - ref) ** 2).mean())
        err_p = float(((plain(x) - ref) ** 2).mean())
        assert err_w < err_p, (err_w, err_p)


@pytest.mark.parametrize("command", ["agreement", "compression"])
def test_repro_commands_default_to_one_thread_and_restore_it(command, tmp_path, monkeypatch):
    from tnfast.cli import build_parser
    from tnfast.experiments import tt_agreement as A

    assert build_parser().parse_args(["repro", command]).threads == 1
    module = A if command == "agreement" else C
    seen = []
    # the run's body sees the requested number of threads; the caller's number comes back after
    monkeypatch.setattr(module, "write_results", lambda *a, **k: seen.append(torch.get_num_threads()) or
                        (_ for _ in ()).throw(RuntimeError("stop")))
    before = torch.get_num_threads()
    want = 1 if before != 1 else 2
    with pytest.raises(RuntimeError, match="stop"):
        main(["repro", command, "--smoke", "--out", str(tmp_path), "--no-progress", "--threads", str(want)])
    assert seen == [want]
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        module.run(dataset="digits", threads=0, out=str(tmp_path))
