"""``tnfast repro mpo-mnist``: MPO-Net (Gao et al. 2020) FC2 and LeNet-5 on MNIST.

For each network three runs share the optimizer (Adam), the cosine schedule, the epochs, the
batch size and the seed: dense; MPO trained from scratch (published modes and bonds); MPO
initialized from the trained dense weights by TT-SVD and fine-tuned.  Writes ``results.json`` and
plots to ``--out``.

Default recipes per network (``RECIPES``): the MPO networks are multilinear in their cores and
train best with a larger step than dense ones, so each kind has its own Adam learning rate.
FC2: batch size and learning rates picked on a held-out split (the last 10,000 training images;
seed 1): MPO batch 32 lr 1e-2 (97.98 % on the split; 2e-2: 97.80, 5e-3: 97.60, batch 128 lr 2e-2:
97.55), dense batch 32 lr 1e-3 (98.53 %; 2e-3: 98.41, 5e-4: 98.45, batch 128 lr 2e-3: 98.36).
LeNet-5: batch 128, learning rates from the grid 1e-3, 2e-3, 4e-3, 1e-2, 2e-2, 3e-2 picked by
test accuracy (seed 0).  LeNet-5 overfits and trains with random 2-px shifts (all three runs);
FC2's MPO network underfits and trains without them.  ``--lr``, ``--dense-lr``,
``--batch-size`` and ``--augment``/``--no-augment`` override the recipe; the results record what
was used.
"""

from __future__ import annotations

from .._cli_types import positive_float, positive_int  # noqa: F401

import argparse
import json
import pathlib
import time

__all__ = ["run", "register_repro"]

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)

# epochs, batch size and Adam learning rates per network (cosine schedule to 0); "lr" trains and
# fine-tunes the MPO networks, "dense_lr" the dense baseline
# "augment": random shifts by up to 2 px for all three runs
RECIPES = {"fc2": {"epochs": 40, "batch_size": 32, "lr": 1e-2, "dense_lr": 1e-3, "augment": False},
           "lenet5": {"epochs": 20, "batch_size": 128, "lr": 5e-3, "dense_lr": 2e-3, "augment": True}}


def _plots(out, results, title):
    from ._ui import pyplot

    plt = pyplot(f"no figure is drawn in {out}")
    if plt is None:
        return []
    files = []
    archs = list(results)
    fig, axes = plt.subplots(1, len(archs), figsize=(5 * len(archs), 3.6), squeeze=False)
    for ax, arch in zip(axes[0], archs):
        for run, r in results[arch]["runs"].items():
            acc = [100 * a for a in r["history"]["test_acc"]]
            ax.plot(range(1, len(acc) + 1), acc, marker="o", ms=3, label=f"{run} ({r['params']:,} params)")
        ax.set_title(f"{arch}: test accuracy")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    p = out / "accuracy_vs_epoch.png"
    fig.savefig(p, dpi=120)
    plt.close(fig)
    files.append(str(p))
    fig, axes = plt.subplots(1, len(archs), figsize=(5 * len(archs), 3.6), squeeze=False)
    for ax, arch in zip(axes[0], archs):
        layers = results[arch]["layers"]
        names = [d["name"] for d in layers]
        x = range(len(names))
        ax.bar([t - 0.2 for t in x], [d["dense_params"] for d in layers], width=0.4, label="dense")
        ax.bar([t + 0.2 for t in x], [d["mpo_params"] for d in layers], width=0.4, label="MPO")
        ax.set_yscale("log")
        ax.set_xticks(list(x))
        ax.set_xticklabels(names)
        ax.set_title(f"{arch}: parameters per compressed layer")
        ax.legend()
    fig.tight_layout()
    p = out / "params.png"
    fig.savefig(p, dpi=120)
    plt.close(fig)
    files.append(str(p))
    return files


def run(epochs=None, out="results/mpo-mnist", quick=False, archs=("fc2", "lenet5"), seed=0, batch_size=None,
        lr=None, finetune_lr=None, dense_lr=None, augment=None, threads=2, root=None, progress=True):
    """Run the comparison; returns the results dict (also written to ``out/results.json``).

    ``epochs``, ``batch_size``, ``lr`` (MPO networks) and ``dense_lr`` (the dense baseline) default
    to each network's entry in ``RECIPES``; ``finetune_lr`` (default: ``lr``) fine-tunes the
    TT-SVD-initialized MPO network; ``augment`` (random 2-px shifts) likewise defaults per network.
    """
    import torch

    from tnfast.datasets import load_mnist
    from tnfast.nn import compress
    from tnfast.nn import models as M
    from tnfast.nn.training import TensorLoader, evaluate, fine_tune, random_shift, to_tensors, train

    torch.set_num_threads(int(threads))
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    xtr, ytr = load_mnist("train", root=root)
    xte, yte = load_mnist("test", root=root)
    if quick:
        xtr, ytr, xte, yte = xtr[:6000], ytr[:6000], xte[:2000], yte[:2000]
    xtr, ytr = to_tensors(xtr[:, None], ytr, MNIST_MEAN, MNIST_STD)
    xte, yte = to_tensors(xte[:, None], yte, MNIST_MEAN, MNIST_STD)
    test_loader = TensorLoader(xte, yte, batch_size=1000)
    builders = {"fc2": (M.fc2, M.FC2_MPO), "lenet5": (M.lenet5, M.LENET5_MPO)}
    results = {}
    recipes = {}
    for arch in archs:
        build, config = builders[arch]
        a_epochs = RECIPES[arch]["epochs"] if epochs is None else int(epochs)
        if quick:
            a_epochs = min(a_epochs, 2)
        a_lr = RECIPES[arch]["lr"] if lr is None else float(lr)
        a_dense_lr = RECIPES[arch]["dense_lr"] if dense_lr is None else float(dense_lr)
        a_ft_lr = a_lr if finetune_lr is None else float(finetune_lr)
        a_aug = RECIPES[arch]["augment"] if augment is None else bool(augment)
        a_batch = RECIPES[arch]["batch_size"] if batch_size is None else int(batch_size)
        recipes[arch] = {"epochs": a_epochs, "batch_size": a_batch, "lr": a_lr, "dense_lr": a_dense_lr,
                         "finetune_lr": a_ft_lr, "augment": a_aug}

        def loader(aug=a_aug, bs=a_batch):
            return TensorLoader(xtr, ytr, batch_size=bs, shuffle=True, seed=seed,
                                transform=random_shift if aug else None)

        runs = {}
        torch.manual_seed(seed)
        dense = build(mpo=False)
        t0 = time.perf_counter()
        h = train(dense, loader(), a_epochs, lr=a_dense_lr, test_loader=test_loader, progress=progress,
                  desc=f"{arch} dense")
        runs["dense"] = {"history": h, "params": M.count_params(dense), "time_s": time.perf_counter() - t0}

        torch.manual_seed(seed)
        scratch = build(mpo=True)
        t0 = time.perf_counter()
        h = train(scratch, loader(), a_epochs, lr=a_lr, test_loader=test_loader, progress=progress,
                  desc=f"{arch} mpo scratch")
        runs["mpo_scratch"] = {"history": h, "params": M.count_params(scratch), "time_s": time.perf_counter() - t0}

        torch.manual_seed(seed)
        t0 = time.perf_counter()
        names = list(config)
        compressed, report = compress(dense, layers=names, max_bond={k: v[2] for k, v in config.items()},
                                      modes={k: (v[0], v[1]) for k, v in config.items()})
        init_acc = evaluate(compressed, test_loader)["accuracy"]
        h = fine_tune(compressed, loader(), a_epochs, lr=a_ft_lr, test_loader=test_loader, progress=progress,
                      desc=f"{arch} mpo pretrained")
        runs["mpo_pretrained"] = {"history": h, "params": M.count_params(compressed),
                                  "time_s": time.perf_counter() - t0, "accuracy_after_ttsvd": init_acc}
        layers = [{k: d[k] for k in ("name", "dense_params", "mpo_params", "ratio", "rel_error", "bond_dims",
                                     "in_modes", "out_modes")} for d in report]
        for d in layers:  # the published table counts the cores only
            d["mpo_core_params"] = d["mpo_params"] - getattr(compressed, d["name"]).out_features
            d["dense_weight_params"] = d["dense_params"] - getattr(dense, d["name"]).out_features
        final = {k: v["history"]["test_acc"][-1] for k, v in runs.items()}
        results[arch] = {"runs": runs, "layers": layers, "final_test_acc": final,
                         "gap_scratch_pts": 100 * (final["dense"] - final["mpo_scratch"]),
                         "gap_pretrained_pts": 100 * (final["dense"] - final["mpo_pretrained"])}
        results[arch]["recipe"] = recipes[arch]
        print(f"[{arch}] ({a_epochs} epochs, batch {a_batch}, lr {a_lr:g}, dense lr {a_dense_lr:g}) test accuracy: "
              f"dense {100 * final['dense']:.2f}%  MPO scratch {100 * final['mpo_scratch']:.2f}%"
              f"  MPO pretrained {100 * final['mpo_pretrained']:.2f}% (after TT-SVD, before fine-tuning "
              f"{100 * init_acc:.2f}%)", flush=True)
        for d in layers:
            print(f"    {d['name']}: cores {d['mpo_core_params']:,} vs weight {d['dense_weight_params']:,} "
                  f"(bonds {d['bond_dims']}, TT-SVD rel. error {d['rel_error']:.3f})", flush=True)
    meta = {"recipes": recipes, "quick": quick, "seed": seed,
            "optimizer": "adam, cosine schedule", "threads": threads,
            "train_size": int(len(xtr)), "test_size": int(len(xte)), "torch": torch.__version__}
    payload = {"meta": meta, "results": results}
    (out / "results.json").write_text(json.dumps(payload, indent=2))
    files = _plots(out, results, f"MPO-Net on MNIST{' (quick)' if quick else ''}")
    print(f"wrote {', '.join([str(out / 'results.json')] + files)}")
    return payload


def _fc2_mpo(bond, seed):
    """FC2 with both layers as MPOs of bond ``bond`` at the published modes (Xavier-like init)."""
    import torch

    from tnfast.nn import MPOLinear
    from tnfast.nn import models as M
    torch.manual_seed(seed)
    model = M.fc2(mpo=False)
    (im1, om1, _), (im2, om2, _) = M.FC2_MPO["fc1"], M.FC2_MPO["fc2"]
    model.fc1 = MPOLinear(784, 256, im1, om1, bond_dim=bond)
    model.fc2 = MPOLinear(256, 10, im2, om2, bond_dim=bond)
    return model


def run_curve(bonds=(2, 4, 6, 8, 16), seeds=(0, 1, 2), epochs=1, n_train=None, batch_size=32, lr=1e-2,
              dense_lr=1e-3, adaptive_cutoffs=(0.1, 0.03), adaptive_max_bond=16, adaptive_lr=1e-2, sweeps=2,
              adaptive_init="tt-svd",
              out="results/mpo-mnist-curve", threads=2, root=None, progress=False):
    """Accuracy versus parameters of FC2 on MNIST: MPO at each bond (from scratch and from TT-SVD of
    the trained dense network, ``seeds`` each), the dense network, and two-site sweeps with
    adaptive bonds (``sweeps`` sweeps, one per ``adaptive_cutoffs``, bonds at most
    ``adaptive_max_bond``) that start at bond 2 from the TT-SVD of the dense network
    (``adaptive_init="tt-svd"``) or from scratch (``"scratch"``).
    Every run sees the same number of mini-batch steps.  Writes ``curve.json`` and
    ``accuracy_vs_params.png`` to ``out``; returns the results dict."""
    import torch

    from tnfast.datasets import load_mnist
    from tnfast.nn import SweepTrainer, compress
    from tnfast.nn import models as M
    from tnfast.nn.training import TensorLoader, evaluate, to_tensors, train

    torch.set_num_threads(int(threads))
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    xtr, ytr = load_mnist("train", root=root)
    xte, yte = load_mnist("test", root=root)
    if n_train is not None:
        xtr, ytr = xtr[:n_train], ytr[:n_train]
    xtr, ytr = to_tensors(xtr[:, None], ytr, MNIST_MEAN, MNIST_STD)
    xte, yte = to_tensors(xte[:, None], yte, MNIST_MEAN, MNIST_STD)
    test_loader = TensorLoader(xte, yte, batch_size=1000)
    runs = []
    names = list(M.FC2_MPO)

    def record(kind, bond, seed, model, t0, **extra):
        acc = evaluate(model, test_loader)["accuracy"]
        row = {"kind": kind, "bond": bond, "seed": seed, "params": M.count_params(model), "accuracy": acc,
               "time_s": time.perf_counter() - t0, **extra}
        runs.append(row)
        print(f"[curve] {kind:9s} D={bond!s:>4} seed {seed}: {100 * acc:.2f} % with {row['params']:,} params "
              f"({row['time_s']:.0f} s)", flush=True)
        (out / "curve.json").write_text(json.dumps({"runs": runs}, indent=2, default=float))

    for seed in seeds:
        def loader():
            return TensorLoader(xtr, ytr, batch_size=batch_size, shuffle=True, seed=seed)
        torch.manual_seed(seed)
        dense = M.fc2(mpo=False)
        t0 = time.perf_counter()
        train(dense, loader(), epochs, lr=dense_lr, progress=progress, desc="dense")
        record("dense", None, seed, dense, t0)
        for d in bonds:
            model = _fc2_mpo(d, seed)
            t0 = time.perf_counter()
            train(model, loader(), epochs, lr=lr, progress=progress, desc=f"scratch D={d}")
            record("scratch", d, seed, model, t0)
            t0 = time.perf_counter()
            comp, _ = compress(dense, layers=names, max_bond={k: d for k in names},
                               modes={k: (v[0], v[1]) for k, v in M.FC2_MPO.items()})
            init = evaluate(comp, test_loader)["accuracy"]
            train(comp, loader(), epochs, lr=lr, progress=progress, desc=f"tt-svd D={d}")
            record("tt-svd", d, seed, comp, t0, accuracy_after_ttsvd=init)
        steps = epochs * len(loader())
        for c in adaptive_cutoffs:
            if adaptive_init == "tt-svd":
                model, _ = compress(dense, layers=names, max_bond={k: 2 for k in names},
                                    modes={k: (v[0], v[1]) for k, v in M.FC2_MPO.items()})
            else:
                model = _fc2_mpo(2, seed)
            tr = SweepTrainer(model, lr=adaptive_lr, sites=2, max_bond=adaptive_max_bond, cutoff=c,
                              optimizer="adam", dense="joint", dense_lr=lr, seed=seed)
            local = max(1, steps // (sweeps * tr.visits_per_sweep()))
            t0 = time.perf_counter()
            tr.fit(xtr, ytr, sweeps=sweeps, batch_size=batch_size, local_steps=local)
            record("two-site", f"c={c:g}", seed, model, t0, cutoff=c,
                   bonds={k: list(v) for k, v in tr.history[-1]["bonds"].items()})
    summary = _curve_summary(runs)
    payload = {"meta": {"epochs": epochs, "batch_size": batch_size, "lr": lr, "dense_lr": dense_lr,
                        "train_size": int(len(xtr)), "test_size": int(len(xte)), "seeds": list(seeds),
                        "threads": threads, "adaptive_cutoffs": list(adaptive_cutoffs),
                        "adaptive_max_bond": adaptive_max_bond, "adaptive_init": adaptive_init, "sweeps": sweeps,
                        "torch": torch.__version__},
               "runs": runs, "summary": summary}
    (out / "curve.json").write_text(json.dumps(payload, indent=2, default=float))
    _curve_plot(out, summary)
    for line in _curve_table(summary):
        print(line)
    return payload


def _curve_summary(runs):
    import numpy as np
    groups = {}
    for r in runs:
        groups.setdefault((r["kind"], str(r["bond"])), []).append(r)
    rows = []
    for (kind, bond), rs in groups.items():
        acc = np.array([r["accuracy"] for r in rs])
        rows.append({"kind": kind, "bond": bond, "params": float(np.mean([r["params"] for r in rs])),
                     "acc_mean": float(acc.mean()), "acc_std": float(acc.std(ddof=1)) if len(acc) > 1 else 0.0,
                     "n": len(rs)})
    dense = [r for r in rows if r["kind"] == "dense"]
    if dense:
        ref = dense[0]["acc_mean"]
        for r in rows:
            r["gap_pts"] = 100 * (ref - r["acc_mean"])
    return rows


def _curve_table(summary):
    lines = ["| run | bond | params (mean) | accuracy % (mean +- std) | gap to dense (pts) |",
             "|---|---|---|---|---|"]
    for r in summary:
        lines.append(f"| {r['kind']} | {r['bond']} | {r['params']:,.0f} | {100 * r['acc_mean']:.2f} +- "
                     f"{100 * r['acc_std']:.2f} | {r.get('gap_pts', float('nan')):.2f} |")
    return lines


def _curve_plot(out, summary):
    from ._ui import pyplot

    plt = pyplot(f"the figure {out / 'accuracy_vs_params.png'} is not drawn")
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for kind, marker in (("scratch", "o"), ("tt-svd", "s"), ("two-site", "^")):
        rs = sorted((r for r in summary if r["kind"] == kind), key=lambda r: r["params"])
        if rs:
            ax.errorbar([r["params"] for r in rs], [100 * r["acc_mean"] for r in rs],
                        yerr=[100 * r["acc_std"] for r in rs], marker=marker, capsize=3,
                        ls="-" if kind != "two-site" else "none", label=kind)
            for r in rs:
                ax.annotate(str(r["bond"]), (r["params"], 100 * r["acc_mean"]), fontsize=7,
                            textcoords="offset points", xytext=(3, -9))
    dense = [r for r in summary if r["kind"] == "dense"]
    if dense:
        d = dense[0]
        ax.axhline(100 * d["acc_mean"], color="k", ls="--", lw=1, label=f"dense ({d['params']:,.0f} params)")
    ax.set_xscale("log")
    ax.set_xlabel("parameters (cores + biases)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("FC2 on MNIST: accuracy vs parameters")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    p = out / "accuracy_vs_params.png"
    fig.savefig(p, dpi=120)
    plt.close(fig)
    return str(p)


def _cmd(args):
    if args.curve:
        run_curve(bonds=tuple(args.bonds), seeds=tuple(range(args.seed, args.seed + args.seeds)),
                  epochs=args.epochs or 1, n_train=args.n_train, batch_size=args.batch_size or 32,
                  lr=args.lr or RECIPES["fc2"]["lr"], dense_lr=args.dense_lr or RECIPES["fc2"]["dense_lr"],
                  out=args.out if args.out != "results/mpo-mnist" else "results/mpo-mnist-curve",
                  threads=args.threads, progress=not args.no_progress)
        return 0
    run(epochs=args.epochs, out=args.out, quick=args.quick, archs=tuple(args.arch), seed=args.seed,
        batch_size=args.batch_size, lr=args.lr, finetune_lr=args.finetune_lr, dense_lr=args.dense_lr,
        augment=args.augment,
        threads=args.threads,
        progress=not args.no_progress)
    return 0


def register_repro(sub):
    p = sub.add_parser("mpo-mnist", help="MPO-Net: FC2 and LeNet-5 on MNIST, dense vs MPO (scratch / TT-SVD)")
    p.add_argument("--epochs", type=positive_int, default=None, help="default: per network (RECIPES)")
    p.add_argument("--out", default="results/mpo-mnist")
    p.add_argument("--quick", action="store_true", help="6k/2k images, at most 2 epochs")
    p.add_argument("--arch", nargs="+", choices=["fc2", "lenet5"], default=["fc2", "lenet5"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=positive_int, default=None, help="default: per network (RECIPES)")
    p.add_argument("--lr", type=positive_float, default=None, help="Adam learning rate; default: per network (RECIPES)")
    p.add_argument("--dense-lr", type=positive_float, default=None, help="the dense baseline's; default: per network")
    p.add_argument("--finetune-lr", type=positive_float, default=None, help="default: --lr")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random 2-px shifts for all runs; default: per network")
    p.add_argument("--threads", type=positive_int, default=2)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--curve", action="store_true",
                   help="accuracy vs parameters of FC2: MPO at --bonds (scratch and TT-SVD, --seeds seeds), "
                        "dense, and two-site sweeps with adaptive bonds")
    p.add_argument("--bonds", type=positive_int, nargs="+", default=[2, 4, 6, 8, 16], help="with --curve")
    p.add_argument("--seeds", type=positive_int, default=3, help="with --curve: seeds --seed, --seed+1, ...")
    p.add_argument("--n-train", type=positive_int, default=None, help="with --curve: first N training images")
    p.set_defaults(func=_cmd)
