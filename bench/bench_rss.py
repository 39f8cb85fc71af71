"""TT-RSS: tnfast.tt_rss vs tensorkrowch.decompositions.tt_rss, side by side.

Cases (same function, samples, domain and embedding for both):
  random TT   d=2, bond 10, n=100 (N=30) and n=500 (N=35), poly embedding (1, x) on {0, 1};
              test error on 1000 fresh random bitstrings.  f contracts the TT in torch, one
              small product per site ("tt-<n>-<N>"), or with tnfast's compiled batched
              evaluation ("ttc-<n>-<N>": a cheap black box, where the algorithm's cost decides).
  MLP         Linear(144,500)-ReLU-Linear(500,200)-ReLU-Linear(200,10) trained on MNIST resized
              to 12x12 (binarised pixels), tensorized sqrt(softmax) with rank 10, N training
              images as pivots; metric: % of 1000 test images whose argmax differs from the NN's.
  noisy       the random TT (n=100, N=30, torch f) plus Gaussian noise of standard deviation 1e-6 x
              the rms value, drawn afresh at each call ("noisy-<n>-<N>"); test error against the
              noiseless TT.
Methods: tnfast (batch_size 4096, the published sketch), tnfast-adaptive (sketch="adaptive";
tnfast-adaptive-o<p>: with oversample=p),
tnfast-b1024 (batch_size 1024), tnfast-base (the published sketch from the package tree given by
--baseline, e.g. a copy of an earlier build, for before/after ratios) and tensorkrowch
(batch_size 4096; it never puts more than one site's grid in a batch).  Each (case, method) runs in its own
subprocess (timing: best of --repeats); peak memory comes from one more subprocess run: the rise
of the process's peak resident set during the call (VmHWM cleared just before the call), with
blocks >= 64 KiB mmapped so that freed memory leaves the resident set.

  python bench/bench_rss.py --table            # all cases, prints the table
  python bench/bench_rss.py --table --quick    # n=100 random TT and the MLP with N=30 only
  python bench/bench_rss.py --table --methods tnfast tnfast-adaptive tensorkrowch \
      --cases tt-100-30 tt-500-35 mlp-30 mlp-100 noisy-100-30
  python bench/bench_rss.py --table --methods tnfast-base tnfast --baseline /tmp/base/python
  python bench/bench_rss.py --curve bench/results/rss_curve.json --sizes 30 100 --seeds 0 1 2 \
      --settings '[{"capture_tol": 0.1}, {"capture_tol": 0.5}]'   # evaluations vs disagreement
  (case mlp-<N>-<seed>: the MLP case with samples, labels and adaptive draws from that seed)
  pytest bench/bench_rss.py                    # pytest-benchmark, n=100 case
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, os.environ.get("BENCH_RSS_TNFAST") or str(ROOT / "python"))
CACHE = pathlib.Path(os.environ.get("TNFAST_CACHE") or pathlib.Path.home() / ".cache" / "tnfast")


# ---- memory probes ------------------------------------------------------------------------

def _status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


# ---- cases --------------------------------------------------------------------------------

def random_tt_case(n, N, bond=10, d=2, seed=0, compiled_f=False, noise=0.0):
    import torch
    rng = np.random.default_rng(seed)
    # well-conditioned random TT: every slice G[:, p, :] is a block of a random orthogonal matrix
    ranks = [1] + [int(min(bond, d ** min(k + 1, n - k - 1))) for k in range(n - 1)] + [1]
    cores = []
    for k in range(n):
        r, rr = ranks[k], ranks[k + 1]
        G = np.empty((r, d, rr))
        for p in range(d):
            q, _ = np.linalg.qr(rng.standard_normal((max(r, rr), max(r, rr))))
            G[:, p, :] = q[:r, :rr]
        cores.append(G)
    # f(x) = TT contracted with (1 - x, x) per site, for x in {0, 1}: one matmul per site
    mats = [torch.from_numpy(np.ascontiguousarray(G.reshape(G.shape[0], -1))) for G in cores]

    def f_torch(x):
        x = x.to(torch.float64)
        v = torch.ones(x.shape[0], 1, dtype=torch.float64)
        for k, M in enumerate(mats):
            rr = M.shape[1] // 2
            W = v @ M
            xk = x[:, k:k + 1]
            v = W[:, :rr] + xk * (W[:, rr:] - W[:, :rr])
        return v  # (batch, 1)

    f = f_torch
    if compiled_f:
        # the same function, evaluated by a compiled batched kernel (tnfast's TT evaluation):
        # the regime of a cheap black box, where the algorithm's own cost decides
        import tnfast
        tt = tnfast.TensorTrain(cores)

        def f_compiled(x):
            idx = x.numpy().astype(np.int64)
            return torch.from_numpy(tt.evaluate(idx, num_threads=1)[:, None])
        f = f_compiled
    samples = rng.integers(0, 2, (N, n)).astype(np.float64)
    test = rng.integers(0, 2, (1000, n)).astype(np.float64)
    case = dict(f=f, samples=samples, test=test, domain=np.array([0.0, 1.0]), rank=bond, vector=False, cores=cores)
    if noise > 0:
        # a noisy black box: fresh Gaussian noise at every call, relative to the rms value
        with torch.no_grad():
            scale = noise * float(f_torch(torch.from_numpy(test)).pow(2).mean().sqrt())
        gen = torch.Generator().manual_seed(seed + 1)

        def f_noisy(x):
            v = f_torch(x)
            return v + scale * torch.randn(v.shape, generator=gen, dtype=v.dtype)
        case.update(f=f_noisy, f_clean=f_torch)
    return case


def _mnist12():
    import torch
    from tnfast.datasets import load_mnist
    xs = {}
    for split in ("train", "test"):
        img, lab = load_mnist(split)
        t = torch.from_numpy(img.astype(np.float32) / 255.0)[:, None]
        small = torch.nn.functional.interpolate(t, size=(12, 12), mode="area")[:, 0]
        xs[split] = ((small.reshape(len(img), -1) > 0.5).to(torch.float64).numpy(), lab)
    return xs


def mlp_case(N, seed=0):
    import torch
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "bench_rss_mlp12.pt"
    data = _mnist12()
    (xtr, ytr), (xte, yte) = data["train"], data["test"]

    def make():
        return torch.nn.Sequential(torch.nn.Linear(144, 500), torch.nn.ReLU(), torch.nn.Linear(500, 200),
                                   torch.nn.ReLU(), torch.nn.Linear(200, 10))
    model = make()
    if path.is_file():
        model.load_state_dict(torch.load(path))
    else:
        torch.manual_seed(0)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        X, Y = torch.from_numpy(xtr).float(), torch.from_numpy(ytr)
        for _ in range(3):
            perm = torch.randperm(len(X))
            for i in range(0, len(X), 128):
                idx = perm[i:i + 128]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(X[idx]), Y[idx]).backward()
                opt.step()
        torch.save(model.state_dict(), path)
    model = model.double().eval()
    with torch.no_grad():
        acc = float((model(torch.from_numpy(xte)).argmax(1).numpy() == yte).mean())

    def f_torch(x):
        with torch.no_grad():
            return torch.softmax(model(x.to(torch.float64)), -1).sqrt()

    rng = np.random.default_rng(seed)
    samples = xtr[rng.choice(len(xtr), N, replace=False)]
    with torch.no_grad():
        p = f_torch(torch.from_numpy(samples)).numpy() ** 2
    labels = np.array([rng.choice(10, p=pi / pi.sum()) for pi in p])
    return dict(f=f_torch, samples=samples, test=xte[:1000], domain=np.array([0.0, 1.0]), rank=10, vector=True,
                labels=labels, model=model, nn_acc=acc, out_position=72)


def build_case(name):
    kind, *rest = name.split("-")
    if kind == "tt":
        return random_tt_case(int(rest[0]), int(rest[1]))
    if kind == "ttc":
        return random_tt_case(int(rest[0]), int(rest[1]), compiled_f=True)
    if kind == "noisy":
        return random_tt_case(int(rest[0]), int(rest[1]), noise=1e-6)
    if kind == "mlp":  # mlp-<N> or mlp-<N>-<seed> (the seed picks the samples, labels and adaptive suffixes)
        case = mlp_case(int(rest[0]), seed=int(rest[1]) if len(rest) > 1 else 0)
        case["seed"] = int(rest[1]) if len(rest) > 1 else 0
        return case
    raise ValueError(name)


# ---- methods ------------------------------------------------------------------------------

def _eval_cores_poly(cores, x, out_position=None):
    """Evaluate 3-d cores with the (1, x) embedding; output site left open."""
    B = x.shape[0]
    v = np.ones((B, 1, 1))
    j = 0
    for k, G in enumerate(cores):
        r, dk, rr = G.shape
        W = (v.reshape(-1, r) @ G.reshape(r, dk * rr)).reshape(B, v.shape[1], dk, rr)
        if k == out_position:
            v = W.reshape(B, dk, rr)
        else:
            v = W[:, :, 0] + x[:, j, None, None] * W[:, :, 1]
            j += 1
    return v[:, :, 0]


def run_tnfast(case, batch_size=4096, sketch="samples", oversample=4):
    import torch
    import tnfast
    f_t = case["f"]
    t_in_f = [0.0, 0]

    def f(x):
        t0 = time.perf_counter()
        out = f_t(torch.from_numpy(x))
        t_in_f[0] += time.perf_counter() - t0
        t_in_f[1] += x.shape[0]
        return out
    kw = dict(embedding="poly", domain=case["domain"], rank=case["rank"], batch_size=batch_size,
              seed=case.get("seed", 0))
    if sketch != "samples":
        kw.update(sketch=sketch, oversample=oversample, **EXTRA)
    if case["vector"]:
        kw.update(labels=case["labels"], out_position=case["out_position"])
    t0 = time.perf_counter()
    tt, info = tnfast.tt_rss(f, case["samples"], **kw)
    elapsed = time.perf_counter() - t0
    cores = tt.cores
    PHASES.clear()
    PHASES.update({k: round(v, 4) for k, v in info.times.items()})
    return elapsed, t_in_f[0], cores, info.out_position, t_in_f[1]


def run_tensorkrowch(case):
    import torch
    import tensorkrowch as tk
    f_t = case["f"]
    t_in_f = [0.0, 0]

    # tensorkrowch's vector-output path builds its one-hot label features in float32 and fails
    # with float64 data, so vector-valued cases run it in float32 (f itself still in float64).
    fdt = torch.float32 if case["vector"] else torch.float64

    def f(x):
        t0 = time.perf_counter()
        out = f_t(x).to(fdt)
        t_in_f[0] += time.perf_counter() - t0
        t_in_f[1] += x.shape[0]
        return out

    def emb(x):
        return tk.embeddings.poly(x, degree=1)
    kw = dict(domain=torch.from_numpy(case["domain"]).to(fdt), rank=case["rank"], cum_percentage=1.0,
              batch_size=4096, verbose=False)
    if case["vector"]:
        kw.update(labels=torch.from_numpy(case["labels"]), out_position=case["out_position"])
    torch.manual_seed(0)
    t0 = time.perf_counter()
    cores = tk.decompositions.tt_rss(f, emb, torch.from_numpy(case["samples"]).to(fdt), **kw)
    elapsed = time.perf_counter() - t0
    cores = [c.detach().numpy().astype(np.float64) for c in cores]
    cores = [c.reshape(1, *c.shape) if k == 0 else (c.reshape(*c.shape, 1) if c.ndim == 2 else c)
             for k, c in enumerate(cores)]
    return elapsed, t_in_f[0], cores, case.get("out_position"), t_in_f[1]


def worker(method, case_name, repeats):
    import torch
    torch.set_num_threads(1)
    case = build_case(case_name)
    if method == "tensorkrowch":
        run = run_tensorkrowch
    elif method in ("tnfast", "tnfast-base"):
        run = run_tnfast
    elif method.startswith("tnfast-adaptive"):  # tnfast-adaptive or tnfast-adaptive-o<oversample>
        over = int(method.split("-o")[1]) if "-o" in method else 4
        run = lambda c: run_tnfast(c, sketch="adaptive", oversample=over)  # noqa: E731
    else:  # tnfast-b<batch size>
        run = lambda c: run_tnfast(c, batch_size=int(method.split("-b")[1]))  # noqa: E731
    run(random_tt_case(6, 4, bond=2))  # warm-up: load every code path before measuring memory
    base = _status("VmRSS")
    exact = _reset_peak()
    elapsed, t_f, cores, outp, evals = run(case)
    peak = (_status("VmHWM") - base) if exact else None
    times, f_times = [elapsed], [t_f]
    for _ in range(repeats - 1):
        e, tf, _, _, _ = run(case)
        times.append(e)
        f_times.append(tf)
    best = int(np.argmin(times))
    import torch as _t
    x = case["test"]
    f_ref = case.get("f_clean", case["f"])
    with _t.no_grad():
        ref = f_ref(_t.from_numpy(x)).numpy()
    approx = _eval_cores_poly(cores, x, outp if case["vector"] else None)
    res = dict(method=method, case=case_name, time=times[best], f_time=f_times[best], peak_bytes=peak, evals=evals,
               bonds=max(c.shape[2] for c in cores[:-1]))
    if PHASES:
        res["phases"] = dict(PHASES)  # seconds per phase of tnfast's record (info.times)
    if case["vector"]:
        res["disagree_pct"] = float(100 * np.mean(approx.argmax(1) != ref.argmax(1)))
        res["test_error"] = float(np.linalg.norm(approx - ref) / np.linalg.norm(ref))
        res["nn_acc"] = case["nn_acc"]
    else:
        res["test_error"] = float(np.linalg.norm(approx[:, 0] - ref[:, 0]) / np.linalg.norm(ref))
    s = case["samples"]
    with _t.no_grad():
        fs = f_ref(_t.from_numpy(s)).numpy()
    ps = _eval_cores_poly(cores, s, outp if case["vector"] else None)
    res["pivot_error"] = float(np.linalg.norm(ps - fs) / np.linalg.norm(fs))
    print("RESULT " + json.dumps(res))


BASELINE = None  # package tree of the tnfast-base method (--baseline)
EXTRA = json.loads(os.environ.get("BENCH_RSS_EXTRA", "{}"))  # more keyword arguments of the adaptive runs
PHASES = {}  # info.times of the latest tnfast run


def _subprocess(method, case_name, repeats, memory_mode, extra=None):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if extra is not None:
        env["BENCH_RSS_EXTRA"] = json.dumps(extra)
    if method == "tnfast-base":
        if BASELINE is None:
            return dict(method=method, case=case_name, error="tnfast-base needs --baseline DIR")
        env["BENCH_RSS_TNFAST"] = str(BASELINE)
    if memory_mode:
        # Large blocks are mmapped and returned on free, so the resident-set peak follows the
        # live allocations of the call (and not what the allocator kept from earlier work).
        # This slows allocation-heavy code, so timings come from a separate run without it.
        env.update(MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    cmd = [sys.executable, __file__, "--worker", method, case_name, "--repeats", str(repeats)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return dict(method=method, case=case_name,
                error=f"exit status {out.returncode}: " + (out.stderr or out.stdout)[-800:])


def run_in_subprocess(method, case_name, repeats):
    res = _subprocess(method, case_name, repeats, memory_mode=False)
    if "error" not in res:
        mem = _subprocess(method, case_name, 1, memory_mode=True)
        res["peak_bytes"] = mem.get("peak_bytes")
    return res


def table(cases, repeats, methods=("tnfast", "tnfast-adaptive", "tnfast-b1024", "tensorkrowch"), memory=True):
    """Every method on every case; the ratios are against the last method (the reference)."""
    rows = []
    for name in cases:
        pair = {}
        for method in methods:
            rep = repeats if "-500-" not in name else 1
            r = run_in_subprocess(method, name, rep) if memory else _subprocess(method, name, rep, memory_mode=False)
            pair[method] = r
            rows.append(r)
            print(json.dumps(r), file=sys.stderr)
        b = pair[methods[-1]]
        if "error" in b:
            continue
        for m in methods[:-1]:
            a = pair[m]
            if "error" in a:
                continue
            a["speedup"] = b["time"] / a["time"]
            a["speedup_excl_f"] = (b["time"] - b["f_time"]) / max(1e-9, a["time"] - a["f_time"])
            a["evals_ratio"] = a["evals"] / max(1, b["evals"])
    print(f"ratios: against {methods[-1]} (speedup = its time / this time; evals/ref = this count / its count)")
    hdr = (f"{'case':<12} {'method':<15} {'time s':>9} {'in f s':>8} {'algo s':>8} {'evals':>8} {'evals/ref':>9} "
           f"{'peak MiB':>9} {'test err':>10} {'pivot err':>10} {'disagree%':>9} {'speedup':>8} {'algo x':>8}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        if "error" in r:
            print(f"{r['case']:<12} {r['method']:<15} FAILED: {r['error'][-200:]!r}")
            continue
        mem = f"{r['peak_bytes'] / 2**20:9.1f}" if r.get("peak_bytes") is not None else f"{'n/a':>9}"
        dis = f"{r['disagree_pct']:9.1f}" if "disagree_pct" in r else f"{'':>9}"
        sp = f"{r['speedup']:8.1f}" if "speedup" in r else f"{'':>8}"
        sa = f"{r['speedup_excl_f']:8.1f}" if "speedup_excl_f" in r else f"{'':>8}"
        er = f"{r['evals_ratio']:9.3f}" if "evals_ratio" in r else f"{'':>9}"
        print(f"{r['case']:<12} {r['method']:<15} {r['time']:9.3f} {r['f_time']:8.3f} "
              f"{r['time'] - r['f_time']:8.3f} {r.get('evals', 0):8d} {er} {mem} {r['test_error']:10.2e} "
              f"{r['pivot_error']:10.2e} {dis} {sp} {sa}")
    nn = [r for r in rows if "nn_acc" in r]
    if nn:
        print(f"MLP test accuracy (MNIST 12x12 binarised): {nn[0]['nn_acc']:.3f}")


def curve(sizes, seeds, settings, out, methods=("tnfast", "tensorkrowch")):
    """Evaluations against argmax disagreement on the MNIST MLP: the published sketch and
    tensorkrowch at each number of samples N, the adaptive sketch at each setting (keyword
    arguments of tt_rss), each on every seed (samples, labels and the adaptive choice).  Writes
    the rows to `out` (JSON) and a plot next to it (PNG)."""
    rows = []
    runs = [(m, None) for m in methods] + [("tnfast-adaptive", dict(st)) for st in settings]
    for N in sizes:
        for seed in seeds:
            name = f"mlp-{N}-{seed}"
            for method, extra in runs:
                r = _subprocess(method, name, 1, memory_mode=False, extra=extra if extra is not None else {})
                r.update(N=N, seed=seed, setting=extra)
                rows.append(r)
                print(json.dumps({k: r.get(k) for k in ("case", "method", "setting", "evals", "disagree_pct",
                                                        "test_error", "time", "error")}), file=sys.stderr)
    out = pathlib.Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(command=" ".join([os.path.basename(sys.executable)] + sys.argv), sizes=list(sizes), seeds=list(seeds),
                settings=list(settings), date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                load=os.getloadavg())
    out.write_text(json.dumps(dict(meta=meta, rows=rows), indent=1))
    _plot_curve(rows, out.with_suffix(".png"))
    _print_curve(rows)


def _curve_groups(rows):
    """(label, N) -> [evals, disagreement %] of each seed."""
    groups = {}
    for r in rows:
        if "error" in r:
            continue
        label = r["method"] if r.get("setting") is None else "adaptive " + ",".join(
            f"{k}={v}" for k, v in sorted(r["setting"].items()))
        groups.setdefault((label, r["N"]), []).append((r["evals"], r["disagree_pct"]))
    return groups


def _print_curve(rows):
    print(f"{'method':<34} {'N':>4} {'evals (mean)':>13} {'disagree % (mean, min-max)':>28}")
    for (label, N), v in sorted(_curve_groups(rows).items(), key=lambda kv: (kv[0][1], kv[0][0])):
        e, d = np.array(v).T
        print(f"{label:<34} {N:>4} {e.mean():13.0f} {d.mean():10.1f} ({d.min():.1f}-{d.max():.1f}) x{len(v)}")


def _plot_curve(rows, path):
    sys.path.insert(0, str(ROOT / "python"))
    try:
        from tnfast.experiments._ui import pyplot
    except ImportError:
        return
    plt = pyplot("the curve is not drawn")
    if plt is None:
        return
    by_label = {}
    for (label, N), v in _curve_groups(rows).items():
        e, d = np.array(v).T
        by_label.setdefault(label, []).append((e.mean(), d.mean(), d.min(), d.max(), N))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, pts in sorted(by_label.items()):
        pts.sort()
        e, d, lo, hi, Ns = map(np.array, zip(*pts))
        ax.errorbar(e, d, yerr=[d - lo, hi - d], marker="o", capsize=3, label=label)
        for x, y, N in zip(e, d, Ns):
            ax.annotate(f"N={N}", (x, y), textcoords="offset points", xytext=(3, 3), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("evaluations of f")
    ax.set_ylabel("argmax disagreement, % (mean; bars: min-max)")
    ax.set_title("TT-RSS of the MNIST 12x12 MLP, rank 10")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


# ---- pytest-benchmark ---------------------------------------------------------------------

def _pytest_case():
    return random_tt_case(100, 30)


def test_bench_rss_tnfast(benchmark):
    case = _pytest_case()
    benchmark.pedantic(lambda: run_tnfast(case), rounds=3, iterations=1)


def test_bench_rss_tnfast_adaptive(benchmark):
    case = _pytest_case()
    benchmark.pedantic(lambda: run_tnfast(case, sketch="adaptive"), rounds=3, iterations=1)


def test_bench_rss_tensorkrowch(benchmark):
    pytest = __import__("pytest")
    pytest.importorskip("tensorkrowch")
    case = _pytest_case()
    benchmark.pedantic(lambda: run_tensorkrowch(case), rounds=1, iterations=1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", action="store_true", help="run every case and print the table")
    ap.add_argument("--quick", action="store_true", help="only the small cases")
    ap.add_argument("--cases", nargs="*", help="case names, e.g. tt-100-30 tt-500-35 mlp-30 mlp-100")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", nargs="*", help="methods, the last one the reference of the ratios "
                    "(default: tnfast tnfast-adaptive tnfast-b1024 tensorkrowch)")
    ap.add_argument("--baseline", help="package tree (holding tnfast/) of the tnfast-base method")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory run")
    ap.add_argument("--extra", help="JSON keyword arguments added to the adaptive runs, e.g. '{\"tail_tol\": 1e-4}'")
    ap.add_argument("--curve", metavar="OUT.json", help="evaluations vs disagreement on the MLP (see curve()); "
                    "uses --sizes, --seeds, --settings")
    ap.add_argument("--sizes", nargs="*", type=int, default=[30, 100], help="--curve: numbers of samples N")
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2], help="--curve: seeds")
    ap.add_argument("--settings", default='[{"capture_tol": 0.1}]',
                    help="--curve: JSON list of keyword arguments of the adaptive runs")
    ap.add_argument("--worker", nargs=2, metavar=("METHOD", "CASE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker[0], args.worker[1], args.repeats)
        return
    if args.curve:
        curve(args.sizes, args.seeds, json.loads(args.settings), args.curve,
              *([tuple(args.methods)] if args.methods else []))
        return
    cases = args.cases or (["tt-100-30", "ttc-100-30", "mlp-30"] if args.quick else
                           ["tt-100-30", "ttc-100-30", "tt-500-35", "ttc-500-35", "mlp-30", "mlp-100"])
    global BASELINE
    BASELINE = args.baseline
    if args.extra:
        EXTRA.update(json.loads(args.extra))
        os.environ["BENCH_RSS_EXTRA"] = args.extra  # read by the worker subprocesses
    table(cases, args.repeats, *([tuple(args.methods)] if args.methods else []), memory=not args.no_memory)


if __name__ == "__main__":
    main()
