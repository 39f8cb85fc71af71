"""``tnfast repro agreement``: how often a TT-RSS tensorization of an MLP classifier disagrees
with the network (Pareja Monturiol et al. 2025, Work 1 of the mission).

MLPs ``Linear(s^2, 500)-ReLU-Linear(500, 200)-ReLU-Linear(200, 10)`` are trained on MNIST
resized to ``s x s`` pixels; ``x -> sqrt(softmax(net(x)))`` is tensorized by TT-RSS (bond
``--rank``) with N training images as pivots, and the metric is the percentage of test images
where the MPS's argmax class differs from the network's.  Three levers are studied one at a
time, each against the same baseline (``--base``, default ``poly:2``: the polynomial embedding
``(1, x)`` on the samples' own pixel values):

1. ``samples``: N (the pivot sets are nested: the first N of one random permutation per seed);
2. ``embedding``: embedding name, dimension and ``domain_multiplier`` at a fixed N
   (``--embedding-n``), on the sizes in ``--lever-sizes``;
3. ``distill``: a short fine-tune of the baseline MPS on the network's outputs over unlabeled
   training images (:func:`tnfast.nn.distill`, Adam, cosine schedule, gradient clipping), with
   one or more objectives (``--distill-loss``): ``ce``, cross-entropy against the network's
   argmax classes (the default, and the one that works); ``kl``, soft labels; ``mse``, squared
   error on ``sqrt(softmax)``, the function TT-RSS fits.

``combined`` then applies the best embedding of lever 2 and the distillation of lever 3 (its
first objective) together.  Every tensorization records its TT-RSS time and its number of network evaluations.
Writes ``results.json``, ``tables.md`` and ``agreement.png`` to ``--out``.
"""

from __future__ import annotations

import copy
import pathlib
import time

import numpy as np

from ._tt_common import parse_config, progress_bar, trained_mlp
from ._work1 import (accuracy, distill, fit_classifier, given_options, in_threads, load_images, mlp, pyplot,
                     save_figure, write_results)

__all__ = ["run", "register_repro"]

REFERENCE = {"mnist_n100_disagreement_pct": (21.0, 25.0), "target_pct_s12": 15.0}
LEVERS = ("samples", "embedding", "distill", "combined")
DEFAULT_EMBEDDINGS = ("poly:3", "unit:2", "unit:3", "legendre:2", "legendre:3", "poly:2:2", "poly:3:2")
SMOKE = {"dataset": "digits", "sizes": (8,), "n_list": (10, 20), "embeddings": ("poly:3",), "epochs": 5,
         "distill_epochs": 1, "distill_n": 300, "test_size": 300, "seeds": (0,)}


def _predict(model, X, batch_size: int = 2048) -> np.ndarray:
    import torch

    was = model.training
    model.eval()
    dt = next(model.parameters()).dtype
    with torch.no_grad():
        out = np.concatenate([model(torch.as_tensor(X[i:i + batch_size], dtype=dt)).argmax(1).cpu().numpy()
                              for i in range(0, len(X), batch_size)])
    model.train(was)
    return out


def _score(mps, net_pred, X, y) -> dict:
    pred = _predict(mps, X)
    return {"disagreement_pct": float(100.0 * np.mean(pred != net_pred)),
            "mps_test_acc": float(np.mean(pred == y))}


def _tensorize(net, pivots, cfg, rank, seed, X, y, net_pred):
    from ..nn.tensorize import tensorize

    t0 = time.perf_counter()
    mps = tensorize(net, pivots, rank=rank, seed=seed, **cfg.kwargs())
    wall = time.perf_counter() - t0
    rec = {"config": cfg.label, "N": int(len(pivots)), "seed": int(seed), "rss_time_s": float(mps.info.times["total"]),
           "wall_time_s": float(wall), "n_evals": int(mps.info.n_evals), "pivot_error": float(mps.info.pivot_error),
           "bond_dims_max": int(max(mps.bond_dims)), "params": mps.num_parameters(), "notes": list(mps.info.notes)}
    rec.update(_score(mps, net_pred, X, y))
    return mps, rec


def _distill(mps, net, X_unlab, objective, epochs, lr, batch_size, seed, progress, X, y, net_pred, desc):
    student = copy.deepcopy(mps)
    t0 = time.perf_counter()
    try:
        hist = distill(student, net, X_unlab, loss=objective, epochs=epochs, lr=lr, batch_size=batch_size,
                       grad_clip=1.0, seed=seed, progress=progress, desc=desc)
    except FloatingPointError:
        student, hist = copy.deepcopy(mps), [float("nan")] * int(epochs)  # diverged: reported as NaN losses
    rec = {"objective": objective, "epochs": int(epochs), "n_images": int(len(X_unlab)), "lr": float(lr),
           "batch_size": int(batch_size), "grad_clip": 1.0, "loss": [float(v) for v in hist],
           "time_s": float(time.perf_counter() - t0)}
    rec.update(_score(student, net_pred, X, y))
    return rec


def _mean_std(vals):
    a = np.asarray(vals, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def _aggregate(recs, key="disagreement_pct"):
    out = {}
    for r in recs:
        out.setdefault(r["N"], []).append(r[key])
    return {n: _mean_std(v) for n, v in sorted(out.items())}


@in_threads
def run(dataset="mnist", sizes=(12, 16, 20), n_list=(30, 50, 100, 150), levers=LEVERS, base="poly:2",
        embeddings=DEFAULT_EMBEDDINGS, embedding_n=None, combined_n=None, lever_sizes=None, distill_epochs=2,
        distill_n=5000, distill_lr=3e-4, distill_batch=32, distill_losses=("ce",), rank=10, train_size=None,
        test_size=None, epochs=10, seeds=(0,), out="results/tt-agreement", root=None, cache=None, threads=1,
        progress=True):
    """Run the study; returns the results dict (also written to ``out/results.json``).

    ``sizes``: image sides (``None`` entries or the native side keep the images as they are);
    ``n_list``: numbers of pivots; ``levers``: any of ``samples``, ``embedding``, ``distill``,
    ``combined``; ``base``/``embeddings``: configurations ``name:dim[:multiplier]``;
    ``embedding_n``: N of the embedding lever (default ``max(n_list)``); ``combined_n``: N of
    ``combined`` (default ``max(n_list)``);
    ``lever_sizes``: sizes on which levers 2, 3 and ``combined`` run (default: the first size);
    ``distill_n``: unlabeled training images of the fine-tune (the pivots are not excluded);
    ``distill_losses``: objectives of :func:`tnfast.nn.distill` (``ce``, ``kl``, ``mse``), each
    run from the same TT-RSS MPS;
    ``train_size``/``test_size``: subsets (default: all); ``epochs``: of the network (Adam,
    cosine schedule); ``seeds``: one pivot permutation each; ``cache``: folder of trained
    networks (default ``out/nets``); ``threads``: torch threads during the run (default 1,
    the former number restored after).
    """
    import torch

    levers = tuple(levers)
    bad = [lv for lv in levers if lv not in LEVERS]
    if bad:
        raise ValueError(f"levers: expected some of {LEVERS}, got {bad}")
    base_cfg = parse_config(base)
    emb_cfgs = [parse_config(e) for e in embeddings]
    n_list = sorted({int(n) for n in n_list})
    if not n_list or n_list[0] < 1:
        raise ValueError(f"n_list: expected positive numbers of pivots, got {n_list}")
    embedding_n = max(n_list) if embedding_n is None else int(embedding_n)
    combined_n = max(n_list) if combined_n is None else int(combined_n)
    sizes = list(sizes)
    lever_sizes = sizes[:1] if lever_sizes is None else list(lever_sizes)
    out = pathlib.Path(out)
    cache = out / "nets" if cache is None else pathlib.Path(cache)
    seeds = [int(s) for s in seeds]
    distill_losses = tuple(distill_losses)
    if not distill_losses or any(o not in ("ce", "kl", "mse") for o in distill_losses):
        raise ValueError(f"distill_losses: expected some of ('ce', 'kl', 'mse'), got {distill_losses}")

    results = {}
    for size in sizes:
        Xtr, ytr, Xte, yte, side = load_images(dataset, size=size, n_train=train_size, n_test=test_size, root=root)
        key = {"dataset": dataset, "side": side, "n_train": len(Xtr), "epochs": int(epochs), "seed": 0,
               "hidden": [500, 200]}

        def _train(model, Xtr=Xtr, ytr=ytr, side=side):
            h = fit_classifier(model, Xtr, ytr, epochs=epochs, progress=progress, desc=f"MLP {side}px")
            return {"history": h}

        net, record = trained_mlp(cache, key, lambda side=side: mlp(side * side), _train)
        net.eval()
        net_pred = _predict(net, Xte)
        entry = {"side": side, "n_train": int(len(Xtr)), "n_test": int(len(Xte)),
                 "net_test_acc": accuracy(net, Xte, yte), "net_cached": record["cached"],
                 "net_train_time_s": record.get("train_time_s"), "samples": [], "embedding": [], "distill": [],
                 "combined": []}
        on_levers = size in lever_sizes
        todo_emb = [c for c in emb_cfgs if c.label != base_cfg.label] if on_levers and (
            "embedding" in levers or "combined" in levers) else []
        n_base = n_list if ("samples" in levers or "distill" in levers) else []
        if on_levers and "embedding" in levers:
            n_base = sorted(set(n_base) | {embedding_n})
        if on_levers and "combined" in levers:
            n_base = sorted(set(n_base) | {combined_n})
        total = len(seeds) * (len(n_base) + len(todo_emb))
        bar = progress_bar(total, f"TT-RSS {side}px", progress)
        print(f"[{side}px] network test accuracy {100 * entry['net_test_acc']:.2f}% "
              f"({'cached' if record['cached'] else 'trained'}, {len(Xtr)} images, {epochs} epochs)", flush=True)
        base_models = {}
        for seed in seeds:
            perm = np.random.default_rng(seed).permutation(len(Xtr))
            for N in n_base:
                if N > len(Xtr):
                    raise ValueError(f"n_list: N={N} exceeds the {len(Xtr)} training images")
                mps, rec = _tensorize(net, Xtr[perm[:N]], base_cfg, rank, seed, Xte, yte, net_pred)
                base_models[(seed, N)] = mps
                entry["samples"].append(rec)
                bar.set_postfix_str(f"{base_cfg.label} N={N}: {rec['disagreement_pct']:.1f}%")
                bar.update()
            for cfg in todo_emb:
                _, rec = _tensorize(net, Xtr[perm[:embedding_n]], cfg, rank, seed, Xte, yte, net_pred)
                entry["embedding"].append(rec)
                bar.set_postfix_str(f"{cfg.label} N={embedding_n}: {rec['disagreement_pct']:.1f}%")
                bar.update()
        bar.close()
        base_recs = list(entry["samples"])
        if on_levers and ("embedding" in levers or "combined" in levers):
            entry["embedding"] = [r for r in entry["samples"] if r["N"] == embedding_n] + entry["embedding"]
        if "samples" not in levers:
            entry["samples"] = []
        if on_levers and ("distill" in levers or "combined" in levers):
            rng = np.random.default_rng(10_000)
            unlab = Xtr[np.sort(rng.choice(len(Xtr), size=min(int(distill_n), len(Xtr)), replace=False))]
        if on_levers and "distill" in levers:
            for (seed, N), mps in sorted(base_models.items()):
                if N not in n_list:
                    continue
                for objective in distill_losses:
                    rec = _distill(mps, net, unlab, objective, distill_epochs, distill_lr, distill_batch, seed,
                                   progress, Xte, yte, net_pred, f"distill {objective} N={N}")
                    rec.update({"config": base_cfg.label, "N": N, "seed": seed,
                                "before_pct": next(r["disagreement_pct"] for r in base_recs
                                                   if r["N"] == N and r["seed"] == seed)})
                    entry["distill"].append(rec)
                    print(f"[{side}px] distill ({objective}) N={N} seed {seed}: {rec['before_pct']:.2f}% -> "
                          f"{rec['disagreement_pct']:.2f}% ({rec['time_s']:.0f} s)", flush=True)
        if on_levers and "combined" in levers and entry["embedding"]:
            by_cfg = {}
            for r in entry["embedding"]:
                by_cfg.setdefault(r["config"], []).append(r["disagreement_pct"])
            best = min(by_cfg, key=lambda c: np.mean(by_cfg[c]))
            best_cfg = parse_config(best)
            for seed in seeds:
                perm = np.random.default_rng(seed).permutation(len(Xtr))
                if best == base_cfg.label and (seed, combined_n) in base_models:
                    mps = base_models[(seed, combined_n)]
                    rec0 = next(r for r in base_recs if r["seed"] == seed and r["N"] == combined_n)
                else:
                    mps, rec0 = _tensorize(net, Xtr[perm[:combined_n]], best_cfg, rank, seed, Xte, yte, net_pred)
                rec = _distill(mps, net, unlab, distill_losses[0], distill_epochs, distill_lr, distill_batch, seed,
                               progress, Xte, yte, net_pred, f"combined {best}")
                rec.update({"config": best, "N": combined_n, "seed": seed, "before_pct": rec0["disagreement_pct"],
                            "rss_time_s": rec0["rss_time_s"], "n_evals": rec0["n_evals"]})
                entry["combined"].append(rec)
                print(f"[{side}px] combined {best} N={combined_n} seed {seed}: {rec['before_pct']:.2f}% -> "
                      f"{rec['disagreement_pct']:.2f}%", flush=True)
        results[str(side)] = entry

    payload = {"meta": {"dataset": dataset, "sizes": [results[k]["side"] for k in results], "n_list": n_list,
                        "levers": list(levers), "base": base_cfg.label, "embeddings": [c.label for c in emb_cfgs],
                        "embedding_n": embedding_n, "combined_n": combined_n, "lever_sizes": lever_sizes, "rank": rank,
                        "distill_epochs": distill_epochs, "distill_n": distill_n, "distill_lr": distill_lr,
                        "distill_batch": distill_batch, "distill_losses": list(distill_losses), "epochs": epochs,
                        "train_size": train_size,
                        "test_size": test_size, "seeds": seeds, "threads": threads, "torch": torch.__version__,
                        "reference": REFERENCE,
                        "metric": "percentage of test images whose MPS argmax differs from the network's"},
               "results": results}
    write_results(out, "results.json", payload)
    tables = _tables(payload)
    (out / "tables.md").write_text(tables)
    print(tables)
    plot = _plot(out, payload)
    print(f"wrote {out / 'results.json'}, {out / 'tables.md'}" + (f" and {plot}" if plot else ""))
    return payload


def _fmt(ms):
    m, s = ms
    return f"{m:.2f} ± {s:.2f}" if s else f"{m:.2f}"


def _tables(payload) -> str:
    lines = []
    meta = payload["meta"]
    for key, e in payload["results"].items():
        s = e["side"]
        lines.append(f"### {meta['dataset']} {s}x{s} px (network test accuracy {100 * e['net_test_acc']:.2f} %, "
                     f"rank {meta['rank']}, seeds {meta['seeds']})\n")
        if e["samples"]:
            objs = list(dict.fromkeys(r.get("objective", "mse") for r in e["distill"]))
            after = {o: _aggregate([r for r in e["distill"] if r.get("objective", "mse") == o]) for o in objs}
            lines.append(f"Lever 1, samples ({meta['base']}): disagreement % vs N (mean ± std over seeds)"
                         + (", and after distillation (lever 3)" if objs else "") + "\n")
            lines.append("| N | disagreement % | " + "".join(f"+ distill {o} % | " for o in objs)
                         + "MPS test acc % | TT-RSS time s | network evaluations | pivot error |")
            lines.append("|---|---|" + "---|" * len(objs) + "---|---|---|---|")
            dis = _aggregate(e["samples"])
            for N, ms in dis.items():
                rs = [r for r in e["samples"] if r["N"] == N]
                cols = "".join(f"{_fmt(after[o][N]) if N in after[o] else '-'} | " for o in objs)
                lines.append(f"| {N} | {_fmt(ms)} | {cols}{100 * np.mean([r['mps_test_acc'] for r in rs]):.2f} | "
                             f"{np.mean([r['rss_time_s'] for r in rs]):.1f} | "
                             f"{int(np.mean([r['n_evals'] for r in rs])):,} | "
                             f"{np.mean([r['pivot_error'] for r in rs]):.3f} |")
            lines.append("")
        if e["embedding"]:
            lines.append(f"Lever 2, embedding / dim / domain multiplier at N = {meta['embedding_n']}\n")
            lines.append("| config (name:dim:multiplier) | disagreement % | TT-RSS time s | network evaluations |")
            lines.append("|---|---|---|---|")
            cfgs = list(dict.fromkeys(r["config"] for r in e["embedding"]))
            for c in cfgs:
                rs = [r for r in e["embedding"] if r["config"] == c]
                lines.append(f"| {c} | {_fmt(_mean_std([r['disagreement_pct'] for r in rs]))} | "
                             f"{np.mean([r['rss_time_s'] for r in rs]):.1f} | "
                             f"{int(np.mean([r['n_evals'] for r in rs])):,} |")
            lines.append("")
        if e["distill"]:
            r0 = e["distill"][0]
            lines.append(f"Lever 3, distillation ({r0['epochs']} epochs on {r0['n_images']} unlabeled training "
                         f"images, Adam lr {r0['lr']:g} cosine, batch {r0['batch_size']}, gradient norm clipped "
                         f"at {r0.get('grad_clip', '-')}) of the {r0['config']} MPS; ce: network's classes, "
                         f"kl: its softmax, mse: its sqrt(softmax)\n")
            lines.append("| objective | N | before % | after % | MPS test acc % after | fine-tune time s |")
            lines.append("|---|---|---|---|---|---|")
            for o in list(dict.fromkeys(r.get("objective", "mse") for r in e["distill"])):
                rs_o = [r for r in e["distill"] if r.get("objective", "mse") == o]
                before, after = _aggregate(rs_o, "before_pct"), _aggregate(rs_o)
                for N in before:
                    rn = [r for r in rs_o if r["N"] == N]
                    lines.append(f"| {o} | {N} | {_fmt(before[N])} | {_fmt(after[N])} | "
                                 f"{100 * np.mean([r['mps_test_acc'] for r in rn]):.2f} | "
                                 f"{np.mean([r['time_s'] for r in rn]):.0f} |")
            lines.append("")
        if e["combined"]:
            c = e["combined"][0]
            lines.append(f"Combined: best embedding {c['config']} at N = {c['N']}, then the same distillation "
                         f"({c.get('objective', 'mse')}): "
                         f"{_fmt(_mean_std([r['before_pct'] for r in e['combined']]))} % -> "
                         f"{_fmt(_mean_std([r['disagreement_pct'] for r in e['combined']]))} %\n")
    return "\n".join(lines) + "\n"


def _plot(out, payload):
    plt = pyplot(f"no figure is drawn in {out}")
    if plt is None:
        return None
    res = payload["results"]
    meta = payload["meta"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    ax = axes[0]
    for key, e in res.items():
        if not e["samples"]:
            continue
        agg = _aggregate(e["samples"])
        ns = list(agg)
        ax.errorbar(ns, [agg[n][0] for n in ns], yerr=[agg[n][1] for n in ns], marker="o", capsize=3,
                    label=f"{e['side']}px")
    lo, hi = REFERENCE["mnist_n100_disagreement_pct"]
    ax.axhspan(lo, hi, color="gray", alpha=0.2, label="reference at N=100")
    ax.axhline(REFERENCE["target_pct_s12"], color="red", ls="--", lw=1, label="target (12 px)")
    ax.set_xlabel("pivots N")
    ax.set_ylabel("argmax disagreement (%)")
    ax.set_title(f"lever 1: samples ({meta['base']}, rank {meta['rank']})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[1]
    for key, e in res.items():
        if not e["embedding"]:
            continue
        cfgs = list(dict.fromkeys(r["config"] for r in e["embedding"]))
        vals = [_mean_std([r["disagreement_pct"] for r in e["embedding"] if r["config"] == c]) for c in cfgs]
        ax.bar(range(len(cfgs)), [v[0] for v in vals], yerr=[v[1] for v in vals], capsize=3)
        ax.set_xticks(range(len(cfgs)))
        ax.set_xticklabels(cfgs, rotation=45, ha="right", fontsize=7)
        ax.set_title(f"lever 2: embedding:dim:multiplier ({e['side']}px, N={meta['embedding_n']})")
        break
    ax.set_ylabel("argmax disagreement (%)")
    ax.grid(alpha=0.3, axis="y")
    ax = axes[2]
    for key, e in res.items():
        if not e["distill"]:
            continue
        b = _aggregate(e["distill"], "before_pct")
        ns = list(b)
        ax.plot(ns, [b[n][0] for n in ns], marker="o", label=f"{e['side']}px TT-RSS")
        for o in list(dict.fromkeys(r.get("objective", "mse") for r in e["distill"])):
            a = _aggregate([r for r in e["distill"] if r.get("objective", "mse") == o])
            ns_o = list(a)
            ax.plot(ns_o, [a[n][0] for n in ns_o], marker="s", label=f"{e['side']}px + distill ({o})")
        if e["combined"]:
            c = e["combined"]
            ax.scatter([c[0]["N"]], [np.mean([r["disagreement_pct"] for r in c])], marker="*", s=120, color="k",
                       zorder=5, label=f"{c[0]['config']} + distill")
    ax.axhline(REFERENCE["target_pct_s12"], color="red", ls="--", lw=1)
    ax.set_xlabel("pivots N")
    ax.set_title(f"lever 3: distillation ({meta['distill_epochs']} epochs)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.suptitle(f"TT-RSS of MLPs on {meta['dataset']}: test images where the MPS's argmax differs from the network's")
    fig.tight_layout()
    return save_figure(fig, out, "agreement.png")


def _cmd(args):
    names = ("dataset", "sizes", "n_list", "embeddings", "epochs", "distill_epochs", "distill_n", "test_size",
             "seeds", "train_size")
    kw = given_options(args, names, SMOKE)
    if kw.get("sizes") is not None:
        kw["sizes"] = tuple(None if s == 0 else s for s in kw["sizes"])
    lever_sizes = args.lever_sizes
    if lever_sizes is not None:
        lever_sizes = [None if s == 0 else s for s in lever_sizes]
    run(levers=tuple(args.levers), base=args.base, embedding_n=args.embedding_n, combined_n=args.combined_n,
        lever_sizes=lever_sizes,
        distill_lr=args.distill_lr, distill_batch=args.distill_batch, distill_losses=tuple(args.distill_loss),
        rank=args.rank, out=args.out, root=args.data,
        cache=args.cache, threads=args.threads, progress=not args.no_progress, **kw)
    return 0


def register_repro(sub):
    p = sub.add_parser("agreement", help="TT-RSS of MLPs on MNIST: argmax disagreement vs pivots, embeddings, "
                                         "distillation")
    p.add_argument("--dataset", default=None, choices=["mnist", "fashion-mnist", "digits"],
                   help="default mnist (digits with --smoke)")
    p.add_argument("--data", default=None, help="data folder (default: TNFAST_DATA or shared/data)")
    p.add_argument("--sizes", type=int, nargs="+", default=None, help="image sides (default 12 16 20; 0: native)")
    p.add_argument("--n-list", type=int, nargs="+", default=None, help="numbers of pivots (default 30 50 100 150)")
    p.add_argument("--levers", nargs="+", choices=list(LEVERS), default=list(LEVERS))
    p.add_argument("--base", default="poly:2", help="baseline configuration name:dim[:domain_multiplier]")
    p.add_argument("--embeddings", nargs="+", default=None,
                   help=f"configurations of lever 2 (default {' '.join(DEFAULT_EMBEDDINGS)})")
    p.add_argument("--embedding-n", type=int, default=None, help="N of lever 2 (default: largest N)")
    p.add_argument("--combined-n", type=int, default=None, help="N of combined (default: largest N)")
    p.add_argument("--lever-sizes", type=int, nargs="+", default=None,
                   help="sizes on which levers 2-3 run (default: the first size)")
    p.add_argument("--rank", type=int, default=10)
    p.add_argument("--epochs", type=int, default=None, help="network training epochs (default 10)")
    p.add_argument("--train-size", type=int, default=None, help="training images (default: all)")
    p.add_argument("--test-size", type=int, default=None, help="test images (default: all)")
    p.add_argument("--distill-epochs", type=int, default=None, help="default 2")
    p.add_argument("--distill-n", type=int, default=None, help="unlabeled images for distillation (default 5000)")
    p.add_argument("--distill-lr", type=float, default=3e-4)
    p.add_argument("--distill-batch", type=int, default=32)
    p.add_argument("--distill-loss", nargs="+", choices=["ce", "kl", "mse"], default=["ce"],
                   help="distillation objectives, each from the same MPS (default ce: the network's classes)")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="pivot permutations (default 0)")
    p.add_argument("--out", default="results/tt-agreement")
    p.add_argument("--cache", default=None, help="folder of trained networks (default OUT/nets)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: two contending threads on a busy 2-core machine were "
                        "10-100x slower)")
    p.add_argument("--smoke", action="store_true", help="digits, two small N, one epoch of distillation (seconds)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd)
