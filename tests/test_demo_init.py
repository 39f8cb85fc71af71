"""The main job (`tnfast demo`) and `tnfast repro init` run end to end at smoke size."""

import json

import pytest

pytest.importorskip("torch")

from tnfast.cli import build_parser, main  # noqa: E402


def test_demo_quick_on_digits(capsys, tmp_path):
    import torch

    threads = torch.get_num_threads()
    plot = tmp_path / "demo.png"
    assert main(["demo", "--dataset", "digits", "--quick", "--samples", "20", "--rank", "4",
                 "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    for step in ("1. network", "2. TT-RSS from 20 training images", "3. fine-tuned", "4. MPS compressed",
                 "5. MPO-compressed network", "MPS (TT-RSS)"):
        assert step in out
    assert "nan" not in out.lower()
    assert "time per step: data" in out
    assert torch.get_num_threads() == threads  # the demo's thread setting does not leak
    assert plot.stat().st_size > 10_000
    args = build_parser().parse_args(["demo"])
    assert args.samples == 100 and args.rank == 10 and args.dataset == "auto"


def test_demo_rejects_bad_values(capsys):
    assert main(["demo", "--dataset", "digits", "--samples", "0"]) == 2
    assert "--samples" in capsys.readouterr().out
    assert main(["demo", "--dataset", "digits", "--threads", "0"]) == 2
    assert "--threads" in capsys.readouterr().out


def test_repro_init_smoke(tmp_path):
    assert main(["repro", "init", "--dataset", "digits", "--epochs", "1", "--samples", "20", "--bond", "3",
                 "--mlp-epochs", "3", "--eval-every", "10", "--out", str(tmp_path)]) == 0
    r = json.loads((tmp_path / "init.json").read_text())
    assert set(r["runs"]) == {"tensorized", "random", "identity", "canonical"}
    for rec in r["runs"].values():
        assert all(0.0 <= a <= 1.0 for a in rec["train_acc"] + rec["test_acc"])
        assert rec["step"][0] == 0 and rec["step"][-1] > 0
    # the tensorized start already classifies (far above the 10 % of chance)
    assert r["runs"]["tensorized"]["test_acc"][0] > 0.4
    assert (tmp_path / "init.png").exists()
