"""The MPO layers of this source tree against those of another tree, side by side in one process.

For refactors of the Python side: both trees share this tree's compiled core, the other tree's
``tnfast`` package is loaded under the name ``tnfast_base``, and the two copies of each layer
(same shapes, same seed, hence the same parameters) alternate step by step.  Reported: best and
median time of forward+backward (batch 256, float32, bench_mpo.py's cases, both engines), of ``from_dense``
(the weight TT-SVD with a cutoff) and of a cold plan search, and the ratio this tree / base.

    git worktree add /tmp/base <rev>          # or any checkout of the baseline
    PYTHONPATH=python python bench/bench_mpo_trees.py --base /tmp/base/python [--repeat 40] [--threads 1]

With ``--threads 1`` (default) the times are process CPU time, robust on a loaded machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import statistics
import sys
import time

import torch

import tnfast
import tnfast.nn
from bench_mpo import BATCH, CASES, step  # the cases and the step of bench_mpo.py (this folder)


def load_base(path: str):
    """The ``tnfast`` package under ``path`` as ``tnfast_base`` (its ``_core`` is this tree's)."""
    sys.modules["tnfast_base._core"] = tnfast._core
    spec = importlib.util.spec_from_file_location("tnfast_base", f"{path}/tnfast/__init__.py",
                                                  submodule_search_locations=[f"{path}/tnfast"])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["tnfast_base"] = mod
    spec.loader.exec_module(mod)
    import tnfast_base.nn  # noqa: F401
    return mod


def _pair(fa, fb, repeat, clock):
    """Alternate ``fa`` and ``fb``; returns the two lists of times (ms)."""
    ta, tb = [], []
    fa(), fb(), fa(), fb()
    for i in range(repeat):
        for f, t in ((fa, ta), (fb, tb)) if i % 2 == 0 else ((fb, tb), (fa, ta)):
            t0 = clock()
            f()
            t.append(1e3 * (clock() - t0))
    return ta, tb


def main(base_path: str, repeat: int, threads: int) -> None:
    torch.set_num_threads(threads)
    clock = time.process_time if threads == 1 else time.perf_counter
    base = load_base(base_path)
    print(f"this tree: {tnfast.nn.__file__}\nbase:      {base.nn.__file__}")
    rows = []
    for case, (inm, outm, d) in CASES.items():
        nin, nout = math.prod(inm), math.prod(outm)
        for engine in ("auto", "torch"):
            for grad in (True, False):
                layers = []
                for mod in (tnfast.nn, base.nn):
                    torch.manual_seed(0)
                    layers.append(mod.MPOLinear(nin, nout, inm, outm, bond_dim=d, engine=engine))
                x = torch.randn(BATCH, nin, requires_grad=grad)
                ta, tb = _pair(lambda: step(layers[0], x), lambda: step(layers[1], x), repeat, clock)
                rows.append((f"{case} {engine}, input grad {grad}", ta, tb))
    torch.manual_seed(0)
    lin = torch.nn.Linear(1024, 1024)
    modes = ((4, 4, 8, 8), (4, 4, 8, 8))
    ta, tb = _pair(lambda: tnfast.nn.MPOLinear.from_dense(lin, *modes, cutoff=0.3),
                   lambda: base.nn.MPOLinear.from_dense(lin, *modes, cutoff=0.3), max(4, repeat // 8), clock)
    rows.append(("from_dense 1024x1024, cutoff 0.3", ta, tb))
    la = tnfast.nn.MPOLinear(4096, 4096, *CASES["4096x4096"][:2], bond_dim=4)
    lb = base.nn.MPOLinear(4096, 4096, *CASES["4096x4096"][:2], bond_dim=4)

    def cold(layer):
        layer._plans = {}
        layer.plan(BATCH)
    ta, tb = _pair(lambda: cold(la), lambda: cold(lb), repeat * 4, time.perf_counter)
    rows.append(("plan search, 5 cores (cold cache)", ta, tb))
    print(f"{'this tree vs base':<40}{'best':>9}{'base':>9}{'ratio':>8}{'median':>9}{'base':>9}{'ratio':>8}   "
          f"({'CPU' if clock is time.process_time else 'wall'} ms, {threads} thread(s), {repeat} pairs)")
    for name, ta, tb in rows:
        ba, bb, ma, mb = min(ta), min(tb), statistics.median(ta), statistics.median(tb)
        print(f"{name:<40}{ba:>9.3f}{bb:>9.3f}{ba / bb:>8.3f}{ma:>9.3f}{mb:>9.3f}{ma / mb:>8.3f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the python/ folder of the baseline tree")
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    main(a.base, a.repeat, a.threads)
