"""Forward+backward of MPOLinear vs torch.nn.Linear vs TensorLy-Torch's FactorizedLinear (block-TT).

Same shapes, ranks, batch (256), float32, CPU threads (2) for the three, side by side.

    PYTHONPATH=python python -m pytest bench/bench_mpo.py --benchmark-only
    PYTHONPATH=python python bench/bench_mpo.py --table [--repeat 20] [--threads 2] [--cpu-time]
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import time

import pytest

torch = pytest.importorskip("torch") if __name__ != "__main__" else __import__("torch")

from tnfast.nn import MPOLinear  # noqa: E402

CASES = {
    "784x256": ((4, 7, 7, 4), (4, 4, 4, 4), 4),
    "4096x4096": ((4, 4, 8, 8, 4), (4, 4, 8, 8, 4), 4),
}
BATCH = 256
THREADS = 2


def _tltorch_layer(inm, outm, rank):
    try:
        import tltorch
    except Exception:  # tensorly missing or broken install
        return None
    torch.manual_seed(0)
    return tltorch.FactorizedLinear(in_tensorized_features=inm, out_tensorized_features=outm, bias=True,
                                    factorization="blocktt", rank=[1] + [rank] * (len(inm) - 1) + [1])


def make(case, kind, input_grad=True):
    inm, outm, d = CASES[case]
    nin, nout = math.prod(inm), math.prod(outm)
    torch.manual_seed(0)
    if kind == "dense":
        layer = torch.nn.Linear(nin, nout)
    elif kind == "mpo":
        layer = MPOLinear(nin, nout, inm, outm, bond_dim=d)
    elif kind == "mpo-torch":
        layer = MPOLinear(nin, nout, inm, outm, bond_dim=d, engine="torch")
    elif kind == "tltorch":
        layer = _tltorch_layer(inm, outm, d)
    else:
        raise ValueError(kind)
    x = torch.randn(BATCH, nin, requires_grad=input_grad)
    return layer, x


def step(layer, x):
    x.grad = None
    for p in layer.parameters():
        p.grad = None
    y = layer(x)
    y.backward(torch.ones_like(y))


@pytest.fixture(autouse=True)
def _threads():
    old = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    yield
    torch.set_num_threads(old)


@pytest.mark.parametrize("kind", ["dense", "mpo", "mpo-torch", "tltorch"])
@pytest.mark.parametrize("case", list(CASES))
def test_fwd_bwd(benchmark, case, kind):
    layer, x = make(case, kind)
    if layer is None:
        pytest.skip("tltorch (TensorLy-Torch with tensorly) is not importable")
    benchmark.group = f"mpo-linear {case} batch {BATCH} fwd+bwd"
    benchmark(step, layer, x)


def _best(f, repeat, clock=time.perf_counter):
    f()
    f()
    ts = []
    for _ in range(repeat):
        t = clock()
        f()
        ts.append(clock() - t)
    return 1e3 * min(ts)


def table(repeat=20, threads=THREADS, cpu_time=False):
    torch.set_num_threads(threads)
    clock = time.process_time if cpu_time else time.perf_counter
    record = []
    print(f"forward+backward, batch {BATCH}, float32, {threads} threads, best of {repeat} "
          f"({'process CPU time' if cpu_time else 'wall time'}, ms); "
          f"ratio = time of the baseline / time of MPOLinear")
    for case, input_grad in [(c, g) for c in CASES for g in (True, False)]:
        inm, outm, d = CASES[case]
        layers = {k: make(case, k, input_grad) for k in ("dense", "mpo", "mpo-torch", "tltorch")}
        params = {k: sum(p.numel() for p in v[0].parameters()) for k, v in layers.items() if v[0] is not None}
        times = {}
        # interleave the three so that load changes hit all of them alike
        for k in layers:
            times[k] = []
        for _ in range(3):
            for k, (layer, x) in layers.items():
                if layer is not None:
                    times[k].append(_best(lambda: step(layer, x), max(1, repeat // 3), clock))
        best = {k: min(v) for k, v in times.items() if v}
        plan = layers["mpo"][0].plan(BATCH, input_grad)[0]
        print(f"\n{case}  modes {inm} -> {outm}, D={d}, input requires grad: {input_grad}, "
              f"MPO plan (group sizes) {plan}")
        print(f"  {'layer':<28}{'params':>12}{'ms':>10}{'vs MPO':>10}")
        for k, label in (("dense", "torch.nn.Linear"), ("mpo", "tnfast.nn.MPOLinear"),
                         ("mpo-torch", "MPOLinear, engine='torch'"),
                         ("tltorch", "tltorch FactorizedLinear(blocktt)")):
            if k not in best:
                print(f"  {label:<34}{'n/a':>12}")
                continue
            print(f"  {label:<34}{params[k]:>12,}{best[k]:>10.3f}{best[k] / best['mpo']:>9.2f}x")
        record.append(dict(case=case, input_grad=input_grad, plan=list(plan), ms=best,
                           ratio={k: best[k] / best["mpo"] for k in best}))
    out = pathlib.Path(__file__).parent / "results" / "mpo.json"
    out.write_text(json.dumps(dict(batch=BATCH, threads=threads, clock="cpu" if cpu_time else "wall",
                                   repeat=repeat, date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                   cases=record), indent=1))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--threads", type=int, default=THREADS)
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with the process CPU clock (robust on a shared machine; use with --threads 1)")
    a = ap.parse_args()
    table(a.repeat, a.threads, a.cpu_time)
