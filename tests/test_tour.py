"""The toolbox tour runs end to end and reports every section."""

import argparse

from tnfast.cli import build_parser
from tnfast.experiments import tour


def test_tour_runs(capsys):
    args = argparse.Namespace(seed=1, grid=6, dims=4)
    assert tour.run_tour(args) == 0
    out = capsys.readouterr().out
    for section in ("1. random MPS", "2. TT-SVD", "3. entanglement entropy", "4. batched evaluation", "5. MPO x MPS"):
        assert section in out
    assert "nan" not in out.lower()


def test_tour_is_a_cli_command():
    args = build_parser().parse_args(["tour", "--grid", "5", "--dims", "3"])
    assert args.func is tour.run_tour and args.grid == 5 and args.dims == 3
