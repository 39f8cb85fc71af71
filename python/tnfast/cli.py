"""The ``tnfast`` command.

Subcommands come from the modules of :mod:`tnfast.experiments`: each may define
``register(subparsers)`` (a top-level subcommand) and/or ``register_repro(subparsers)``
(a ``tnfast repro NAME`` job).  Handlers are set with ``set_defaults(func=...)``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pathlib
import pkgutil
import sys


def _cmd_info(args) -> int:
    import numpy as np

    import tnfast

    print(json.dumps({"tnfast": tnfast.__version__, "numpy": np.__version__, **tnfast.backend_info()}, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__, experiments

    p = argparse.ArgumentParser(prog="tnfast", description="Tensor-train methods for neural networks.")
    p.add_argument("--version", action="version", version=f"tnfast {__version__}")
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
    # Every reproduction reads real data from one place: a job that does not declare --data itself
    # still takes it, and main() hands it on through TNFAST_DATA (read by tnfast.datasets).
    for job in repro_sub.choices.values():
        if "--data" not in job._option_string_actions:
            job.add_argument("--data", default=None, metavar="DIR",
                             help="data folder holding mnist/, fashion-mnist/, cifar10-jpeg/ "
                                  "(default: $TNFAST_DATA or ../shared/data)")
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    data = getattr(args, "data", None)
    if data is not None:
        path = pathlib.Path(data).expanduser()
        if not path.is_dir():
            parser.error(f"--data: {data!r} is not a folder (expected the folder holding mnist/, "
                         "fashion-mnist/ and cifar10-jpeg/)")
        args.data = str(path.resolve())
        os.environ["TNFAST_DATA"] = args.data
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
