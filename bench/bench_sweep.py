"""Cost of one mini-batch step of SweepTrainer against plain Adam on the same MPO model.

The model is the tnn MNIST network (784 -> MPO 256, D=4 -> ReLU -> 10) on random inputs; every
variant runs the same number of steps of batch 32 in one process, one thread, and the process CPU
time per step is reported (best of ``--repeat``) with its ratio to Adam.

    PYTHONPATH=python python bench/bench_sweep.py [--repeat 3] [--steps 280]
"""

from __future__ import annotations

import argparse
import time

import torch

from tnfast.experiments.tnn import tnn_model
from tnfast.nn import SweepTrainer


def _adam(x, y, steps):
    model = tnn_model("mnist", bond=4)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    c0 = time.process_time()
    for t in range(steps):
        i = (t * 32) % (len(x) - 32)
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x[i:i + 32]), y[i:i + 32]).backward()
        opt.step()
    return (time.process_time() - c0) / steps


def _sweep(x, y, steps, **kw):
    bond = 2 if kw.get("sites") == 2 else 4
    model = tnn_model("mnist", bond=bond)
    tr = SweepTrainer(model, lr=1e-2, optimizer="adam", dense="joint", max_bond=8, **kw)
    local = max(1, steps // tr.visits_per_sweep())
    c0 = time.process_time()
    rec = tr.sweep(x, y, batch_size=32, local_steps=local)
    return (time.process_time() - c0) / rec["steps"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=280)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x, y = torch.randn(4096, 784), torch.randint(0, 10, (4096,))
    variants = {"adam (all parameters)": lambda: _adam(x, y, args.steps),
                "sweep one-site, autograd": lambda: _sweep(x, y, args.steps, sites=1),
                "sweep one-site, environment": lambda: _sweep(x, y, args.steps, sites=1, gradient="environment"),
                "sweep two-site, autograd": lambda: _sweep(x, y, args.steps, sites=2),
                "sweep two-site, environment": lambda: _sweep(x, y, args.steps, sites=2, gradient="environment")}
    best = {k: min(f() for _ in range(args.repeat)) for k, f in variants.items()}
    ref = best["adam (all parameters)"]
    print("| variant | CPU ms per step | ratio to Adam |\n|---|---|---|")
    for k, v in best.items():
        print(f"| {k} | {1000 * v:.2f} | {v / ref:.2f} |")


if __name__ == "__main__":
    main()
