"""``tnfast repro compression``: a whole network tensorized by TT-RSS versus its layers
compressed one by one by TT-SVD (Pareja Monturiol et al. 2025, Work 1 of the mission).

Task (500 inputs): MNIST center-cropped to 25 x 20 pixels (rows 2-26, columns 4-23 of the
28 x 28 image: the 20-pixel-wide box that holds the digits, and 25 rows of their height),
10 classes.  Networks: ``Linear(500, h)-ReLU-Linear(h, 10)`` with ``h`` = 48, 100, 240, that is
24,538, 51,110 and 122,650 parameters (the "25k", "52k" and "122k" networks).

For each network and each bond dimension D in ``--bonds`` (default 2, 5, 10):

* TT-RSS: ``x -> sqrt(softmax(net(x)))`` tensorized into an :class:`~tnfast.nn.MPSModel` of
  rank D (poly embedding ``(1, x)``, N training images as pivots), output site in the middle;
* layer-wise: every weight matrix written as an MPO by TT-SVD with bond cap D
  (:func:`tnfast.nn.compress`; modes in ``MODES``), the ReLU kept in between;

then both retrained ``--retrain-epochs`` (default 10) epochs on labelled training images
(cross-entropy on the outputs, Adam, cosine schedule, gradient norm clipped at ``--grad-clip``).
Reported: parameters, operations per input and test accuracy before and after retraining,
against the network's.

Retraining the TT-RSS MPS directly on the true labels at the networks' learning rate is
unstable: the MPS takes very large values away from its pivots, so the first steps see huge
gradients and a bond-10 MPS collapsed to chance.  The MPS is therefore (1) brought to mixed
canonical form about its output site (same function, orthonormal cores elsewhere), (2)
distilled on the network's own classes of the retraining images (``--distill-epochs``,
:func:`tnfast.nn.distill`, cross-entropy, ``--distill-lr``), and only then (3) trained on the
true labels at the lower ``--mps-lr``, all with clipped gradients.  The accuracy after step (2)
is reported too.

Operations per input (multiply and add counted apart, as :meth:`MPSModel.flops_per_input`):
a dense layer ``2 n_in n_out + n_out``; an MPO layer contracted core by core from the first
core (the order of :func:`tnfast.nn.compress`'s cores), ``2 prod_{l<k} o_l D_{k-1} i_k o_k D_k
prod_{l>k} i_l`` for core k, plus the bias; ReLUs and the embedding are not counted.
Writes ``results.json``, ``tables.md`` and ``compression.png`` to ``--out``.
"""

from __future__ import annotations

import copy
import pathlib
import time

import numpy as np

from ._tt_common import progress_bar, trained_mlp
from ._work1 import (accuracy, distill, fit_classifier, given_options, in_threads, mlp, pyplot, save_figure,
                     write_results)

__all__ = ["run", "register_repro", "load_cropped", "dense_flops", "mpo_flops", "network_flops"]

CROP = (slice(2, 27), slice(4, 24))  # 25 rows x 20 columns of the 28 x 28 MNIST images
HIDDEN = {"25k": 48, "52k": 100, "122k": 240}
IN_MODES = (4, 5, 5, 5)
HIDDEN_MODES = {48: (2, 3, 4, 2), 100: (2, 5, 5, 2), 240: (4, 5, 4, 3)}
OUT_MODES = (1, 5, 2, 1)
SMOKE = {"dataset": "digits", "nets": ("25k",), "bonds": (2, 5), "n_pivots": 20, "epochs": 20,
         "retrain_epochs": 1, "retrain_size": 300, "test_size": 300, "distill_epochs": 1}
PAPER = {"mps_params_D2_5_10": (4_000, 25_000, 96_000), "mps_ops_D2_5_10": (6_000, 37_000, 144_000),
         "retrained_gap_ttrss_pts": (4, 9), "retrained_gap_layerwise_pts": (-4.0, 0.5)}


def load_cropped(dataset: str = "mnist", n_train=None, n_test=None, root=None, seed: int = 0):
    """``(Xtr, ytr, Xte, yte)``: MNIST / Fashion-MNIST cropped to the 500 pixels of ``CROP`` as
    float32 rows in [0, 1]; ``"digits"`` keeps scikit-learn's 64 pixels (tests)."""
    from .. import datasets

    if dataset == "digits":
        from ._work1 import load_images
        Xtr, ytr, Xte, yte, _ = load_images("digits", n_train=n_train, n_test=n_test, seed=seed)
        return Xtr, ytr, Xte, yte
    if dataset not in ("mnist", "fashion-mnist"):
        raise ValueError(f"dataset: expected 'mnist', 'fashion-mnist' or 'digits', got {dataset!r}")
    load = datasets.load_mnist if dataset == "mnist" else datasets.load_fashion_mnist
    rng = np.random.default_rng(seed)
    out = []
    for split, n in (("train", n_train), ("test", n_test)):
        x, y = load(split, root=root)
        if n is not None and n < len(x):
            idx = np.sort(rng.choice(len(x), size=n, replace=False))
            x, y = x[idx], y[idx]
        x = (x[:, CROP[0], CROP[1]] / 255.0).astype(np.float32)
        out += [x.reshape(len(x), -1), np.asarray(y, dtype=np.int64)]
    return tuple(out)


def dense_flops(n_in: int, n_out: int, bias: bool = True) -> int:
    """Operations of ``x W^T + b`` for one input: ``2 n_in n_out`` (+ ``n_out`` for the bias)."""
    return 2 * n_in * n_out + (n_out if bias else 0)


def mpo_flops(layer) -> int:
    """Operations of an :class:`~tnfast.nn.MPOLinear` for one input, cores contracted one by one
    from the first: core k ``(D_{k-1}, o_k, i_k, D_k)`` costs ``2 prod_{l<k} o_l D_{k-1} i_k o_k
    D_k prod_{l>k} i_l``; plus ``out_features`` for the bias."""
    total = 0
    ins, outs = list(layer.in_modes), list(layer.out_modes)
    for k, c in enumerate(layer.cores):
        r, o, i, rr = (int(s) for s in c.shape)
        total += 2 * int(np.prod(outs[:k])) * r * i * o * rr * int(np.prod(ins[k + 1:]))
    if layer.bias is not None:
        total += layer.out_features
    return int(total)


def network_flops(model) -> int:
    """Operations per input of a stack of Linear / MPOLinear layers (ReLUs not counted)."""
    import torch

    from ..nn.mpo_layers import MPOLinear

    total = 0
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            total += dense_flops(m.in_features, m.out_features, m.bias is not None)
        elif isinstance(m, MPOLinear):
            total += mpo_flops(m)
    return int(total)


def _count(model) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _retrain(model, Xtr, ytr, Xte, yte, epochs, lr, batch_size, seed, progress, desc, curve=False, grad_clip=None):
    t0 = time.perf_counter()
    if epochs > 0:
        h = fit_classifier(model, Xtr, ytr, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                           X_test=Xte if curve else None, y_test=yte if curve else None, progress=progress,
                           desc=desc, grad_clip=grad_clip)
        curve = [float(a) for a in h.get("test_acc", [])] if curve else []
    else:
        curve = []
    return {"test_acc": accuracy(model, Xte, yte), "curve": curve, "time_s": float(time.perf_counter() - t0)}


def _mpo_modes(n_in, h, n_out):
    if n_in == 500 and h in HIDDEN_MODES and n_out == 10:
        return {"0": (IN_MODES, HIDDEN_MODES[h]), "2": (HIDDEN_MODES[h], OUT_MODES)}
    return None  # other inputs (e.g. the 64 pixels of digits): balanced modes


@in_threads
def run(dataset="mnist", nets=tuple(HIDDEN), bonds=(2, 5, 10), n_pivots=100, embedding="poly", dim=2,
        epochs=10, lr=1e-3, retrain_epochs=10, retrain_size=10000, mps_lr=1e-4, mpo_lr=1e-3, batch_size=128,
        distill_epochs=2, distill_lr=3e-4, grad_clip=1.0, train_size=None, test_size=None, seed=0,
        out="results/tt-compression", root=None, cache=None, threads=1, progress=True, curve=False):
    """Run the comparison; returns the results dict (also written to ``out/results.json``).

    ``nets``: keys of ``HIDDEN``; ``bonds``: D of the MPS and of the MPO layers; ``n_pivots``:
    TT-RSS pivots (training images); ``epochs``/``lr``: the network's training (Adam, cosine);
    ``retrain_epochs`` on ``retrain_size`` training images (one seeded subset, shared by all
    models) with ``mps_lr`` / ``mpo_lr``, after ``distill_epochs`` of distillation of the MPS
    on the network's classes of the same images (``distill_lr``; 0 skips it); ``grad_clip``:
    maximum gradient norm of every step (None: no clipping); ``curve``: test accuracy after
    every retraining epoch too; ``cache``: folder of trained networks (default ``out/nets``);
    ``threads``: torch threads during the run (default 1, the former number restored after).
    """
    import torch

    from ..nn import compress
    from ..nn.tensorize import tensorize

    bad = [k for k in nets if k not in HIDDEN]
    if bad:
        raise ValueError(f"nets: expected some of {tuple(HIDDEN)}, got {bad}")
    bonds = [int(b) for b in bonds]
    if not bonds or min(bonds) < 1:
        raise ValueError(f"bonds: expected positive bond dimensions, got {bonds}")
    out = pathlib.Path(out)
    cache = out / "nets" if cache is None else pathlib.Path(cache)
    Xtr, ytr, Xte, yte = load_cropped(dataset, n_train=train_size, n_test=test_size, root=root, seed=seed)
    n_in = Xtr.shape[1]
    rng = np.random.default_rng(seed)
    pivots = Xtr[rng.choice(len(Xtr), size=min(int(n_pivots), len(Xtr)), replace=False)]
    ridx = np.sort(rng.choice(len(Xtr), size=min(int(retrain_size), len(Xtr)), replace=False))
    Xre, yre = Xtr[ridx], ytr[ridx]
    results = {}
    for name in nets:
        h = HIDDEN[name]
        key = {"task": f"{dataset}-crop500" if dataset != "digits" else dataset, "n_in": n_in, "hidden": [h],
               "n_train": len(Xtr), "epochs": int(epochs), "lr": float(lr), "seed": int(seed)}

        def _train(model, h=h):
            hist = fit_classifier(model, Xtr, ytr, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                                  progress=progress, desc=f"MLP {name}")
            return {"history": hist}

        net, record = trained_mlp(cache, key, lambda h=h: mlp(n_in, 10, hidden=(h,), seed=seed), _train)
        net.eval()
        entry = {"hidden": h, "params": _count(net), "flops_per_input": network_flops(net),
                 "test_acc": accuracy(net, Xte, yte), "cached": record["cached"], "ttrss": [], "layerwise": []}
        print(f"[{name}] network: {entry['params']:,} parameters, {entry['flops_per_input']:,} operations per input, "
              f"test accuracy {100 * entry['test_acc']:.2f}%", flush=True)
        bar = progress_bar(2 * len(bonds), f"{name} D={bonds}", progress)
        for D in bonds:
            t0 = time.perf_counter()
            mps = tensorize(net, pivots, embedding=embedding, dim=dim, rank=D, seed=seed)
            wall = time.perf_counter() - t0
            mps = mps.canonicalize().float()
            rec = {"D": D, "params": mps.num_parameters(), "flops_per_input": mps.flops_per_input(),
                   "bond_dims_max": int(max(mps.bond_dims)), "rss_time_s": float(mps.info.times["total"]),
                   "wall_time_s": float(wall), "n_evals": int(mps.info.n_evals),
                   "pivot_error": float(mps.info.pivot_error), "test_acc_before": accuracy(mps, Xte, yte)}
            bar.set_postfix_str(f"TT-RSS D={D}: {100 * rec['test_acc_before']:.1f}%")
            t1 = time.perf_counter()
            if distill_epochs > 0:
                distill(mps, net, Xre, loss="ce", epochs=distill_epochs, lr=distill_lr, batch_size=32,
                        grad_clip=grad_clip, seed=seed, progress=progress, desc=f"{name} distill D={D}")
            rec.update({"test_acc_distilled": accuracy(mps, Xte, yte), "distill_time_s": time.perf_counter() - t1})
            r = _retrain(mps, Xre, yre, Xte, yte, retrain_epochs, mps_lr, batch_size, seed, progress,
                         f"{name} TT-RSS D={D}", curve, grad_clip)
            rec.update({"test_acc_after": r["test_acc"], "retrain_curve": r["curve"], "retrain_time_s": r["time_s"]})
            entry["ttrss"].append(rec)
            bar.update()
            modes = _mpo_modes(n_in, h, 10)
            comp, report = compress(copy.deepcopy(net), layers=["0", "2"], max_bond=D, modes=modes)
            rec = {"D": D, "params": _count(comp), "flops_per_input": network_flops(comp),
                   "layers": [{k: d[k] for k in ("name", "dense_params", "mpo_params", "rel_error", "bond_dims",
                                                 "in_modes", "out_modes")} for d in report],
                   "test_acc_before": accuracy(comp, Xte, yte)}
            bar.set_postfix_str(f"layer-wise D={D}: {100 * rec['test_acc_before']:.1f}%")
            r = _retrain(comp, Xre, yre, Xte, yte, retrain_epochs, mpo_lr, batch_size, seed, progress,
                         f"{name} MPO D={D}", curve, grad_clip)
            rec.update({"test_acc_after": r["test_acc"], "retrain_curve": r["curve"], "retrain_time_s": r["time_s"]})
            entry["layerwise"].append(rec)
            bar.update()
        bar.close()
        results[name] = entry

    payload = {"meta": {"dataset": dataset, "task": ("MNIST center-cropped to 25x20 = 500 pixels (rows 2-26, "
                                                     "columns 4-23)") if dataset != "digits" else
                        "scikit-learn digits, 64 pixels", "n_inputs": n_in, "nets": list(nets),
                        "hidden": {k: HIDDEN[k] for k in nets}, "bonds": bonds, "n_pivots": int(len(pivots)),
                        "embedding": f"{embedding}:{dim}", "epochs": epochs, "lr": lr,
                        "retrain_epochs": retrain_epochs, "retrain_size": int(len(Xre)), "mps_lr": mps_lr,
                        "distill_epochs": distill_epochs, "distill_lr": distill_lr, "grad_clip": grad_clip,
                        "mps_start": "mixed canonical form about the output site",
                        "mpo_lr": mpo_lr, "batch_size": batch_size, "train_size": int(len(Xtr)),
                        "test_size": int(len(Xte)), "seed": seed, "threads": threads, "torch": torch.__version__,
                        "flops": "multiply and add counted apart; MPO layers contracted core by core",
                        "paper": PAPER},
               "results": results}
    write_results(out, "results.json", payload)
    tables = _tables(payload)
    (out / "tables.md").write_text(tables)
    print(tables)
    plot = _plot(out, payload)
    print(f"wrote {out / 'results.json'}, {out / 'tables.md'}" + (f" and {plot}" if plot else ""))
    return payload


def _tables(payload) -> str:
    meta = payload["meta"]
    lines = [f"{meta['task']}; TT-RSS with {meta['n_pivots']} pivots ({meta['embedding']}); MPS distilled "
             f"{meta.get('distill_epochs', 0)} epochs on the network's classes (lr {meta.get('distill_lr', 0):g}), "
             f"then retraining {meta['retrain_epochs']} epochs on {meta['retrain_size']} labelled images (MPS lr "
             f"{meta['mps_lr']:g}, MPO lr {meta['mpo_lr']:g}, gradient norm clipped at {meta.get('grad_clip')}); "
             f"accuracies on {meta['test_size']} test images; gap: network minus retrained model, points\n",
             "| network | model | D | parameters | operations / input | test acc % before | after distillation "
             "| after retraining | gap | TT-RSS s | network evaluations |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, e in payload["results"].items():
        lines.append(f"| {name} (h={e['hidden']}) | network | - | {e['params']:,} | {e['flops_per_input']:,} | "
                     f"{100 * e['test_acc']:.2f} | - | - | - | - | - |")
        for kind, label in (("ttrss", "TT-RSS MPS"), ("layerwise", "layer-wise TT-SVD")):
            for r in e[kind]:
                extra = (f"{r['rss_time_s']:.1f} | {r['n_evals']:,}" if kind == "ttrss" else "- | -")
                dist = f"{100 * r['test_acc_distilled']:.2f}" if "test_acc_distilled" in r else "-"
                gap = 100 * (e["test_acc"] - r["test_acc_after"])
                lines.append(f"| | {label} | {r['D']} | {r['params']:,} | {r['flops_per_input']:,} | "
                             f"{100 * r['test_acc_before']:.2f} | {dist} | {100 * r['test_acc_after']:.2f} | "
                             f"{gap:+.2f} | {extra} |")
    return "\n".join(lines) + "\n"


def _plot(out, payload):
    plt = pyplot(f"no figure is drawn in {out}")
    if plt is None:
        return None
    res = payload["results"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ci, (name, e) in enumerate(res.items()):
        col = colors[ci % len(colors)]
        for ax, key in ((axes[0], "params"), (axes[1], "flops_per_input")):
            ax.axhline(e[key], color=col, ls=":", lw=1)
            for kind, mk in (("ttrss", "o"), ("layerwise", "s")):
                ax.plot([r["D"] for r in e[kind]], [r[key] for r in e[kind]], marker=mk, color=col,
                        ls="-" if kind == "ttrss" else "--", label=f"{name} {'TT-RSS' if kind == 'ttrss' else 'MPO'}")
        ax = axes[2]
        ax.axhline(100 * e["test_acc"], color=col, ls=":", lw=1)
        for kind, mk in (("ttrss", "o"), ("layerwise", "s")):
            ax.plot([r["D"] for r in e[kind]], [100 * r["test_acc_after"] for r in e[kind]], marker=mk, color=col,
                    ls="-" if kind == "ttrss" else "--", label=f"{name} {'TT-RSS' if kind == 'ttrss' else 'MPO'}")
            ax.plot([r["D"] for r in e[kind]], [100 * r["test_acc_before"] for r in e[kind]], marker=mk,
                    color=col, ls="none", alpha=0.35)
    for ax, t in zip(axes, ("parameters", "operations per input", "test accuracy % (faint: before retraining)")):
        ax.set_xlabel("bond dimension D")
        ax.set_title(t)
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=6)
    fig.suptitle(f"TT-RSS MPS vs layer-wise TT-SVD (dotted: the network) - {payload['meta']['task']}")
    fig.tight_layout()
    return save_figure(fig, out, "compression.png")


def _cmd(args):
    names = ("dataset", "nets", "bonds", "n_pivots", "epochs", "retrain_epochs", "retrain_size", "train_size",
             "test_size", "distill_epochs")
    kw = given_options(args, names, SMOKE)
    run(embedding=args.embedding, dim=args.dim, lr=args.lr, mps_lr=args.mps_lr, mpo_lr=args.mpo_lr,
        distill_lr=args.distill_lr,
        grad_clip=None if args.grad_clip <= 0 else args.grad_clip,
        batch_size=args.batch_size, seed=args.seed, out=args.out, root=args.data, cache=args.cache,
        threads=args.threads, progress=not args.no_progress, curve=args.curve, **kw)
    return 0


def register_repro(sub):
    p = sub.add_parser("compression", help="TT-RSS MPS vs layer-wise TT-SVD (MPO) of MLPs with 500 inputs: "
                                           "parameters, operations, accuracy before/after retraining")
    p.add_argument("--dataset", default=None, choices=["mnist", "fashion-mnist", "digits"],
                   help="default mnist cropped to 25x20 (digits with --smoke)")
    p.add_argument("--data", default=None, help="data folder (default: TNFAST_DATA or shared/data)")
    p.add_argument("--nets", nargs="+", choices=list(HIDDEN), default=None, help="default: all three")
    p.add_argument("--bonds", type=int, nargs="+", default=None, help="default 2 5 10")
    p.add_argument("--n-pivots", type=int, default=None, help="TT-RSS pivots (default 100)")
    p.add_argument("--embedding", default="poly")
    p.add_argument("--dim", type=int, default=2)
    p.add_argument("--epochs", type=int, default=None, help="network training epochs (default 10)")
    p.add_argument("--lr", type=float, default=1e-3, help="the network's Adam learning rate")
    p.add_argument("--retrain-epochs", type=int, default=None, help="default 10")
    p.add_argument("--retrain-size", type=int, default=None, help="labelled images for retraining (default 10000)")
    p.add_argument("--mps-lr", type=float, default=1e-4, help="MPS retraining learning rate (default 1e-4)")
    p.add_argument("--distill-epochs", type=int, default=None,
                   help="epochs of distillation of the MPS on the network's classes before retraining (default 2)")
    p.add_argument("--distill-lr", type=float, default=3e-4)
    p.add_argument("--grad-clip", type=float, default=1.0, help="maximum gradient norm (0: no clipping)")
    p.add_argument("--mpo-lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--train-size", type=int, default=None, help="default: all")
    p.add_argument("--test-size", type=int, default=None, help="default: all")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/tt-compression")
    p.add_argument("--cache", default=None, help="folder of trained networks (default OUT/nets)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: two contending threads on a busy 2-core machine were "
                        "10-100x slower)")
    p.add_argument("--smoke", action="store_true", help="digits, the 25k network, D = 2 and 5, one epoch (seconds)")
    p.add_argument("--curve", action="store_true", help="test accuracy after every retraining epoch (slower)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd)
