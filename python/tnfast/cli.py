"""The ``tnfast`` command.

Subcommands come from the modules of :mod:`tnfast.experiments`: each may define
``register(subparsers)`` (a top-level subcommand) and/or ``register_repro(subparsers)``
(a ``tnfast repro NAME`` job).  Handlers are set with ``set_defaults(func=...)``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys


def _cmd_info(args) -> int:
    import numpy as np

    import tnfast

    print(json.dumps({"tnfast": tnfast.__version__, "numpy": np.__version__, **tnfast.backend_info()}, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import experiments

    p = argparse.ArgumentParser(prog="tnfast", description="Tensor-train methods for neural networks.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("info", help="versions and the BLAS in use")
    s.set_defaults(func=_cmd_info)
    repro = sub.add_parser("repro", help="reproduce a published experiment on real data")
    repro_sub = repro.add_subparsers(dest="job", required=True)
    for mod in sorted(pkgutil.iter_modules(experiments.__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{experiments.__name__}.{mod.name}")
        if hasattr(module, "register"):
            module.register(sub)
        if hasattr(module, "register_repro"):
            module.register_repro(repro_sub)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
