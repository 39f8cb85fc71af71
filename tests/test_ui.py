"""Commands degrade loudly without tqdm or matplotlib."""

import sys

import pytest

from tnfast import _ui


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(_ui, "_told", set())


def test_missing_tqdm_gives_a_working_stand_in_and_one_notice(fresh, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    bar = _ui.progress(range(3), desc="x")
    assert list(bar) == [0, 1, 2]
    bar.update(2)
    bar.close()
    _ui.progress(total=5).update()
    err = capsys.readouterr().err
    assert err.count("tqdm is not installed") == 1 and "pip install tqdm" in err


def test_missing_matplotlib_returns_none_and_says_what_is_not_drawn(fresh, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert _ui.pyplot("the figure phases.png is not written") is None
    err = capsys.readouterr().err
    assert "matplotlib is not installed" in err and "phases.png" in err


def test_disabled_bar_is_silent_and_present_tqdm_is_used(fresh, capsys):
    assert list(_ui.progress([1, 2], enabled=False)) == [1, 2]
    tqdm = pytest.importorskip("tqdm")
    bar = _ui.progress(total=2, desc="t", disable=True)
    assert isinstance(bar, tqdm.tqdm)
    bar.close()
    assert capsys.readouterr().err == ""


# ---- every command uses the one rule ---------------------------------------------------------
def _hide(monkeypatch, *packages):
    for name in packages:
        for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")] + [name]:
            monkeypatch.setitem(sys.modules, mod, None)


def test_the_rule_is_written_once():
    import pathlib

    import tnfast

    root = pathlib.Path(tnfast.__file__).parent
    files = sorted(root.rglob("*.py"))
    own = [f.relative_to(root).as_posix() for f in files
           if f.name != "_ui.py" and ("from tqdm" in f.read_text() or "matplotlib.use" in f.read_text())]
    assert own == []


def test_shared_helpers_degrade_loudly(fresh, monkeypatch, capsys):
    from tnfast.experiments import _tt_common, _work1

    _hide(monkeypatch, "tqdm", "matplotlib")
    bar = _tt_common.progress_bar(3, "x")
    bar.set_postfix_str("y")
    bar.update()
    bar.close()
    assert _work1.pyplot("the figure f.png is not drawn") is None
    err = capsys.readouterr().err
    assert err.count("tqdm is not installed") == 1
    assert err.count("matplotlib is not installed") == 1 and "f.png" in err


def test_training_loops_say_once_that_bars_are_missing(fresh, monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    from tnfast.nn.training import TensorLoader, distill, train

    _hide(monkeypatch, "tqdm")
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 5, generator=g), torch.randint(0, 3, (40,), generator=g)
    net = torch.nn.Linear(5, 3)
    hist = train(net, TensorLoader(x, y, batch_size=8), epochs=2, progress=True)
    assert len(hist["train_loss"]) == 2
    distill(torch.nn.Linear(5, 3), net, x, epochs=1, progress=True)
    err = capsys.readouterr().err
    assert err.count("tqdm is not installed") == 1


def test_demo_without_tqdm_and_matplotlib_says_so(fresh, monkeypatch, capsys, tmp_path):
    pytest.importorskip("torch")
    from tnfast.cli import main

    _hide(monkeypatch, "tqdm", "matplotlib")
    plot = tmp_path / "demo.png"
    assert main(["demo", "--dataset", "digits", "--quick", "--samples", "20", "--rank", "4",
                 "--plot", str(plot)]) == 0
    cap = capsys.readouterr()
    assert "4. MPS compressed" in cap.out  # the numbers are still computed and printed
    assert not plot.exists()
    assert cap.err.count("tqdm is not installed") == 1
    assert cap.err.count("matplotlib is not installed") == 1 and "--plot figure is not drawn" in cap.err


def test_phases_without_matplotlib_lists_only_what_it_wrote(fresh, monkeypatch, capsys, tmp_path):
    from tnfast.cli import main

    _hide(monkeypatch, "matplotlib")
    assert main(["repro", "phases", "--aklt", "--aklt-sizes", "30", "--aklt-samples", "10", "--seeds", "1",
                 "--out", str(tmp_path), "--no-progress"]) == 0
    cap = capsys.readouterr()
    (line,) = [ln for ln in cap.out.splitlines() if ln.startswith("wrote ")]
    assert line == f"wrote {tmp_path / 'results.json'}"
    assert not list(tmp_path.glob("*.png"))
    assert "matplotlib is not installed" in cap.err and str(tmp_path) in cap.err


def test_compression_smoke_without_matplotlib(fresh, monkeypatch, capsys, tmp_path):
    pytest.importorskip("torch")
    from tnfast.cli import main

    _hide(monkeypatch, "tqdm", "matplotlib")
    out = tmp_path / "cmp"
    assert main(["repro", "compression", "--smoke", "--out", str(out)]) == 0
    assert (out / "results.json").exists() and not list(out.glob("*.png"))
    err = capsys.readouterr().err
    assert err.count("matplotlib is not installed") == 1 and err.count("tqdm is not installed") == 1


def test_library_progress_and_plots_degrade_loudly(fresh, monkeypatch, capsys):
    import numpy as np

    import tnfast
    from tnfast.nn import sweep_trainer

    _hide(monkeypatch, "tqdm", "matplotlib")
    e, _ = tnfast.dmrg(tnfast.phases.spin1_chain(4), bond_dim=4, sweeps=2, seed=0, progress=True)
    assert np.isfinite(e)
    assert capsys.readouterr().err.count("tqdm is not installed") == 1
    trainer = sweep_trainer.SweepTrainer.__new__(sweep_trainer.SweepTrainer)
    with pytest.raises(ImportError, match="plot_entropy needs matplotlib"):
        trainer.plot_entropy()
