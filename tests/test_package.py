"""Packaging promises: typed stubs in sync with the core, numpy-only import, the command."""

import ast
import pathlib
import subprocess
import sys

import tnfast
from tnfast import _core, cli

PKG = pathlib.Path(tnfast.__file__).parent


def test_core_stubs_match_the_compiled_module():
    stub = PKG / "_core.pyi"
    assert stub.is_file() and (PKG / "py.typed").is_file()
    tree = ast.parse(stub.read_text())
    stubbed = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    compiled = {n for n in dir(_core) if not n.startswith("__") and callable(getattr(_core, n))}
    assert compiled - stubbed == set(), "functions missing from _core.pyi"
    assert stubbed - compiled == set(), "stubs for functions the core does not have"


def test_import_without_torch():
    code = ("import sys; sys.modules['torch'] = None; import tnfast; "
            "t = tnfast.TensorTrain.random((2, 3, 2), 2, seed=0); print(round(t.norm(), 6))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) > 0


def test_cli_info_and_jobs(capsys):
    assert cli.main(["info"]) == 0
    assert '"tnfast"' in capsys.readouterr().out
    parser = cli.build_parser()
    help_text = parser.format_help()
    assert "demo" in help_text and "repro" in help_text
