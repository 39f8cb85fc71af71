"""Forward+backward of an MPS classifier: tnfast's compiled kernel vs torch chains vs TensorKrowch.

Batch 512 of 144 features embedded in d=3, 10 classes at the middle site (72), bond 10, gradients
of all cores; same cores and inputs for every contender, side by side, 1 and 2 CPU threads, float64
and float32.

    PYTHONPATH=python python -m pytest bench/bench_mps_contract.py --benchmark-only
    PYTHONPATH=python python bench/bench_mps_contract.py --table [--repeat 30] [--threads 1 2] [--cpu-time]

Contenders: ``mps_contract(engine="native")`` (one compiled call forward, one backward);
``mps_contract(engine="torch")`` (one ``(B, r d) @ (r d, r')`` product per site); a per-site
``torch.einsum`` chain as a user would write it; TensorKrowch 1.1.6 ``tk.models.MPSLayer``
(``pip install tensorkrowch==1.1.6``; auto_stack on, auto_unbind off as its documentation
advises for training, traced once; its ``inline_input``/``inline_mats`` contraction options are
all timed and the fastest is reported).
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import time

import pytest

torch = pytest.importorskip("torch") if __name__ != "__main__" else __import__("torch")

from tnfast.nn._mps_contract import mps_contract  # noqa: E402

BATCH, N_FEATURES, D, CLASSES, BOND = 512, 144, 3, 10, 10
OUT_POSITION = N_FEATURES // 2
KINDS = ("native", "torch", "einsum", "tensorkrowch")
LABELS = {"native": "mps_contract native", "torch": "mps_contract torch", "einsum": "per-site einsum chain",
          "tensorkrowch": "TensorKrowch MPSLayer"}


def _tk():
    try:
        import tensorkrowch as tk
    except ImportError:
        return None
    return tk


def make_inputs(dtype):
    """Cores near the identity (each site matrix has norm about 1) and unit-embedded inputs."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(BATCH, N_FEATURES, generator=g, dtype=torch.float64)
    # unit embedding: sqrt(binom(d-1, s)) cos(pi x/2)^(d-1-s) sin(pi x/2)^s, unit norm
    c, s = torch.cos(math.pi * x / 2), torch.sin(math.pi * x / 2)
    feats = torch.stack([math.sqrt(math.comb(D - 1, k)) * c ** (D - 1 - k) * s ** k for k in range(D)], dim=-1)
    cores = []
    for k in range(N_FEATURES + 1):
        rl = 1 if k == 0 else BOND
        rr = 1 if k == N_FEATURES else BOND
        dk = CLASSES if k == OUT_POSITION else D
        eye = torch.eye(rl, rr, dtype=torch.float64).unsqueeze(1).expand(rl, dk, rr)
        scale = 1.0 if k == OUT_POSITION else 1.0 / 1.45
        cores.append(((eye + 0.05 * torch.randn(rl, dk, rr, generator=g, dtype=torch.float64)) * scale).to(dtype))
    return [c.requires_grad_() for c in cores], feats.to(dtype)


def einsum_chain(cores, x, pos):
    """What a user would write: one torch.einsum per site."""
    b = x.shape[0]
    left = x.new_ones(b, 1)
    for k in range(pos):
        left = torch.einsum("ba,apc,bp->bc", left, cores[k], x[:, k])
    right = x.new_ones(b, 1)
    for k in range(len(cores) - 1, pos, -1):
        right = torch.einsum("apc,bp,bc->ba", cores[k], x[:, k - 1], right)
    return torch.einsum("ba,ayc,bc->by", left, cores[pos], right)


def make_tk(cores, dtype, inline_input=False, inline_mats=False):
    """A TensorKrowch MPSLayer holding the same cores, set up for training as its docs advise."""
    tk = _tk()
    if tk is None:
        return None
    tensors = [t.detach().clone() for t in cores]
    tensors[0] = tensors[0][0]            # (d, r) for the open left end
    tensors[-1] = tensors[-1][:, :, 0]    # (r, d) for the open right end
    mps = tk.models.MPSLayer(tensors=tensors, out_position=OUT_POSITION)
    mps.auto_stack = True
    mps.auto_unbind = False
    mps.trace(torch.zeros(1, N_FEATURES, D, dtype=dtype), inline_input=inline_input, inline_mats=inline_mats)
    return mps, dict(inline_input=inline_input, inline_mats=inline_mats)


def make_step(kind, dtype, tk_options=None):
    """A closure running forward + backward (gradients of every core) once, and its output."""
    cores, x = make_inputs(dtype)
    gy = torch.ones(BATCH, CLASSES, dtype=dtype) / BATCH
    if kind in ("native", "torch"):
        def run():
            return mps_contract(cores, x, OUT_POSITION, engine=kind)
        params = cores
    elif kind == "einsum":
        def run():
            return einsum_chain(cores, x, OUT_POSITION)
        params = cores
    elif kind == "tensorkrowch":
        made = make_tk(cores, dtype, **(tk_options or {}))
        if made is None:
            return None
        mps, opts = made
        params = list(mps.parameters())

        def run():
            return mps(x, **opts)
    else:
        raise ValueError(kind)

    def step():
        for p in params:
            p.grad = None
        out = run()
        out.backward(gy)
        return out
    return step


def tk_options():
    return [dict(inline_input=a, inline_mats=b) for a in (False, True) for b in (False, True)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("kind", KINDS)
def test_fwd_bwd(benchmark, kind, dtype, threads):
    if kind == "tensorkrowch" and _tk() is None:
        pytest.skip("tensorkrowch is not installed (pip install tensorkrowch==1.1.6)")
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        step = make_step(kind, dtype)
        benchmark.group = f"mps B={BATCH} n={N_FEATURES} d={D} C={CLASSES} D={BOND} {dtype} {threads} thr"
        benchmark(step)
    finally:
        torch.set_num_threads(old)


def _best(f, repeat, clock=time.perf_counter):
    f()
    f()
    ts = []
    for _ in range(repeat):
        t = clock()
        f()
        ts.append(clock() - t)
    return 1e3 * min(ts)


def table(repeat=30, threads_list=(1, 2), cpu_time=False):
    tk = _tk()
    clock = time.process_time if cpu_time else time.perf_counter
    print(f"MPS classifier forward+backward: B={BATCH}, n={N_FEATURES}, d={D}, C={CLASSES} at site "
          f"{OUT_POSITION}, bond {BOND}; best of {repeat} ({'process CPU' if cpu_time else 'wall'} ms); "
          f"ratio = contender / native")
    record = []
    for dtype in (torch.float64, torch.float32):
        # the outputs agree (same cores and inputs)
        outs = {k: make_step(k, dtype)() for k in KINDS if k != "tensorkrowch" or tk is not None}
        ref = outs["native"].detach().double()
        for k, o in outs.items():
            err = float((o.detach().double() - ref).abs().max() / ref.abs().max())
            assert err < (1e-10 if dtype == torch.float64 else 1e-3), (k, err)
        for threads in threads_list:
            torch.set_num_threads(threads)
            steps = {k: make_step(k, dtype) for k in KINDS[:3]}
            tk_steps = {}
            if tk is not None:
                for o in tk_options():
                    tk_steps[(o["inline_input"], o["inline_mats"])] = make_step("tensorkrowch", dtype, o)
            times = {k: [] for k in steps}
            tk_times = {k: [] for k in tk_steps}
            for _ in range(3):  # interleaved, so that load changes hit every contender alike
                for k, f in steps.items():
                    times[k].append(_best(f, max(1, repeat // 3), clock))
                for k, f in tk_steps.items():
                    tk_times[k].append(_best(f, max(1, repeat // 6), clock))
            best = {k: min(v) for k, v in times.items()}
            tk_best = {k: min(v) for k, v in tk_times.items()}
            if tk_best:
                opt = min(tk_best, key=tk_best.get)
                best["tensorkrowch"] = tk_best[opt]
            print(f"\n{str(dtype).replace('torch.', '')}, {threads} thread(s)")
            print(f"  {'contender':<28}{'ms':>10}{'vs native':>12}")
            for k in KINDS:
                if k not in best:
                    print(f"  {LABELS[k]:<28}{'n/a':>10}")
                    continue
                print(f"  {LABELS[k]:<28}{best[k]:>10.2f}{best[k] / best['native']:>11.1f}x")
            if tk_best:
                print("  TensorKrowch options (inline_input, inline_mats): " +
                      ", ".join(f"{k}: {v:.1f} ms" for k, v in sorted(tk_best.items())))
            record.append(dict(dtype=str(dtype), threads=threads, ms=best,
                               ratio={k: best[k] / best["native"] for k in best},
                               tensorkrowch_options={str(k): v for k, v in tk_best.items()}))
    out = pathlib.Path(__file__).parent / "results" / ("mps_contract_cpu.json" if cpu_time else "mps_contract.json")
    out.write_text(json.dumps(dict(batch=BATCH, n=N_FEATURES, d=D, classes=CLASSES, bond=BOND, repeat=repeat,
                                   clock="cpu" if cpu_time else "wall",
                                   date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), rows=record),
                              indent=1))
    print(f"\nwritten {out}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with the process CPU clock (robust on a shared machine; use with --threads 1)")
    a = ap.parse_args()
    table(a.repeat, tuple(a.threads), a.cpu_time)
