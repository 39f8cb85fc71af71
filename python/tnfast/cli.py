"""The ``tnfast`` command."""

from __future__ import annotations

import argparse
import json
import sys


def _cmd_info(args) -> int:
    import numpy as np

    import tnfast

    print(json.dumps({"tnfast": tnfast.__version__, "numpy": np.__version__, **tnfast.backend_info()}, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tnfast", description="Tensor-train methods for neural networks.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("info", help="versions and the BLAS in use")
    s.set_defaults(func=_cmd_info)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
