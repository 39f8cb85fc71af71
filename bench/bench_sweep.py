"""Cost of one mini-batch step of SweepTrainer against plain Adam on the same MPO model, and the
gradient of one sweep by the compiled environments, the torch environments and autograd.

The model is the tnn MNIST network (784 -> MPO 256, D=4 -> ReLU -> 10) on random inputs; every
variant runs the same number of steps of batch 32 in one process, one thread, and the process CPU
time per step is reported (best of ``--repeat``) with its ratio to Adam.

The second table (``--gradients``) times the local gradients of one one-site sweep (every position
right and back, the environments cached and moved by one site as in a sweep) of an MPO layer
784 -> 256 (modes 4,7,7,4 / 4,4,4,4) at bond ``--bonds`` for a batch of ``--batch`` given inputs
and output gradients: the compiled kernel (``env_engine="native"``), the same contractions in
torch, and autograd (one forward and backward through the layer per position); ratios to autograd.

    PYTHONPATH=python python bench/bench_sweep.py [--repeat 3] [--steps 280] [--gradients-only]
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


def _sweep_gradients(layer, x, gy, how):
    """Process CPU seconds for the gradients of every position of one one-site sweep of ``layer``."""
    from tnfast.nn.sweep_trainer import _LeftStates, _RightEnvs, _env_engine, _reverse_groups, _reverse_rows
    cores = [c.detach() for c in layer.cores]
    n = len(cores)
    c0 = time.process_time()
    if how == "autograd":
        for pos in list(range(n)) + list(range(n - 2, -1, -1)):
            local = torch.nn.Parameter(cores[pos].clone())
            used = cores[:pos] + [local] + cores[pos + 1:]
            (layer(x, cores=used) * gy).sum().backward()
        return time.process_time() - c0
    env = _env_engine(x, how)
    for reverse, run in ((False, range(n)), (True, range(n - 2, -1, -1))):
        left, right = _LeftStates(1 << 30), _RightEnvs()
        xr, gr = (_reverse_rows(x, layer.in_modes), _reverse_rows(gy, layer.out_modes)) if reverse else (x, gy)
        for pos in run:
            gs, rpos = _reverse_groups(cores, pos, 1, layer.out_modes, layer.in_modes) if reverse else (cores, pos)
            lt = left.get(0, xr, gs, rpos, env)
            rt = right.get(gs, rpos + 1, env)
            env.gradient(lt, gr, rt, tuple(gs[rpos].shape))
    return time.process_time() - c0


def gradient_table(bonds=(4, 8, 16), batch=256, repeat=3):
    """Markdown table: one sweep's local gradients, compiled vs torch environments vs autograd."""
    from tnfast.nn import MPOLinear
    lines = ["| bond | batch | autograd ms | torch environments ms | compiled environments ms | "
             "autograd / compiled | torch env / compiled |", "|---|---|---|---|---|---|---|"]
    for d in bonds:
        torch.manual_seed(0)
        layer = MPOLinear(784, 256, (4, 7, 7, 4), (4, 4, 4, 4), bond_dim=d, bias=False)
        x, gy = torch.randn(batch, 784), torch.randn(batch, 256)
        t = {h: min(_sweep_gradients(layer, x, gy, h) for _ in range(repeat)) for h in ("autograd", "torch", "native")}
        lines.append(f"| {d} | {batch} | {1000 * t['autograd']:.1f} | {1000 * t['torch']:.1f} | "
                     f"{1000 * t['native']:.1f} | {t['autograd'] / t['native']:.2f} | "
                     f"{t['torch'] / t['native']:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=280)
    ap.add_argument("--bonds", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--gradients-only", action="store_true", help="only the table of one sweep's gradients")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(gradient_table(tuple(args.bonds), args.batch, args.repeat))
    if args.gradients_only:
        return
    torch.manual_seed(0)
    x, y = torch.randn(4096, 784), torch.randint(0, 10, (4096,))
    variants = {"adam (all parameters)": lambda: _adam(x, y, args.steps),
                "sweep one-site, autograd": lambda: _sweep(x, y, args.steps, sites=1),
                "sweep one-site, environment": lambda: _sweep(x, y, args.steps, sites=1, gradient="environment"),
                "sweep one-site, environment (torch)": lambda: _sweep(x, y, args.steps, sites=1,
                                                                      gradient="environment", env_engine="torch"),
                "sweep two-site, autograd": lambda: _sweep(x, y, args.steps, sites=2),
                "sweep two-site, environment": lambda: _sweep(x, y, args.steps, sites=2, gradient="environment")}
    best = {k: min(f() for _ in range(args.repeat)) for k, f in variants.items()}
    ref = best["adam (all parameters)"]
    print("| variant | CPU ms per step | ratio to Adam |\n|---|---|---|")
    for k, v in best.items():
        print(f"| {k} | {1000 * v:.2f} | {v / ref:.2f} |")


if __name__ == "__main__":
    main()
