"""Commands degrade loudly without tqdm or matplotlib."""

import sys

import pytest

from tnfast.experiments import _ui


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
