"""The ``tnfast`` command's global options: --version, and --data on every reproduction."""

import os

import pytest

import tnfast
from tnfast import cli


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"tnfast {tnfast.__version__}"


def test_every_repro_job_takes_data():
    parser = cli.build_parser()
    repro = parser._subparsers._group_actions[0].choices["repro"]
    jobs = repro._subparsers._group_actions[0].choices
    assert len(jobs) >= 5
    for name, job in jobs.items():
        assert "--data" in job._option_string_actions, name


def test_data_that_is_not_a_folder_is_a_clear_usage_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TNFAST_DATA", raising=False)
    with pytest.raises(SystemExit) as e:
        cli.main(["repro", "mpo-mnist", "--data", str(tmp_path / "missing")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "--data" in err and "missing" in err and "mnist/" in err


def test_data_reaches_the_dataset_loader(tmp_path, monkeypatch):
    # An existing but empty folder: the job must look there (and say that MNIST is not in it).
    monkeypatch.delenv("TNFAST_DATA", raising=False)
    monkeypatch.setattr(os, "environ", dict(os.environ))
    with pytest.raises(Exception) as e:
        cli.main(["repro", "mpo-mnist", "--quick", "--arch", "fc2", "--no-progress", "--out", str(tmp_path / "o"),
                  "--data", str(tmp_path)])
    assert str(tmp_path) in str(e.value) or "mnist" in str(e.value).lower()
    assert os.environ["TNFAST_DATA"] == str(tmp_path.resolve())
