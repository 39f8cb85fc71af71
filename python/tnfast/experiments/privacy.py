"""``tnfast repro privacy``: property inference on networks and on their tensorized, gauged images.

Work 1 (Pareja Monturiol et al. 2025), privacy experiment.  The hidden property of a training
set is its mix of two subgroups of real images: *bold* digits (ink above the pool's median) and
*thin* ones.  For each ``p`` two families of models are trained on sets with a share ``p`` and
``1 - p`` of bold images (``--models`` per family, each on its own random draw, with its own
initialization); the attacker must tell the families apart.

Every model is an MLP classifier (10 classes) on images resized to ``--size`` px; it is tensorized
by TT-RSS (:func:`tnfast.nn.tensorize`, ``--samples`` of its own training images as pivots, rank
``--rank``), distilled on the network's own classes of its training images
(:func:`tnfast.nn.distill`, ``--distill-epochs``), retrained on the true labels of the same set
(cross-entropy, ``--retrain-epochs``, clipped gradients), then gauged four ways (all leave the
function unchanged; checked on the queries, per form):
:func:`tnfast.privacy.random_gauge` (Haar orthogonal matrices on the bonds, the paper's private TT),
:func:`tnfast.privacy.canonical_gauge` (the form fixed by the function alone), the canonical form
followed by a random gauge, and :func:`tnfast.privacy.obfuscate` (the balanced canonical form
followed by a random gauge: the form the library offers for release).  A random orthogonal gauge
keeps every core's Frobenius norm, so on its own it still shows how training scaled each core; the
canonical step makes those norms a function of the function.  Rotating the plain canonical form
loses digits where the data excite bond directions of small Schmidt value; the balanced form does
not (the largest output change per form is reported).

Besides the attacker on the raw parameters, the study fits it on one statistic at a time, each
kept by any orthogonal gauge: the norm of every part (layer or core), the norms of every core's
slices ``G[:, i, :]``, and the shape of each part's entry distribution (sorted entries over the
part's norm).  And on the slice norms of the canonical cores, a function of the model's function:
no gauge hides it, so it bounds what any obfuscated form can reach from below.

The attacker (:func:`tnfast.privacy.attack_accuracy`): standardized features, logistic regression,
``--folds``-fold cross-validation over the ``2 * --models`` models of each ``p``.  White box: the
parameters, as stored (``flat``) and sorted within each layer or core (``sorted``); black box:
the outputs on ``--queries`` fixed test images.  The gauged MPS compute the same outputs as the
MPS, so their black-box attack is the MPS's.  Reported per ``p``: attack accuracy on the
networks, the retrained MPS, its random-gauge and its canonical-gauge forms; test accuracy of the
networks, of the MPS straight from TT-RSS and after retraining, and the accuracy cost.
Published shape: white box 97-99 % on networks, 45-54 % on the gauged MPS; black box 74-91 %
on networks, 59-77 % on MPS.  Writes ``privacy.json`` and ``privacy.png`` to ``--out``.
"""

from __future__ import annotations

import time

import numpy as np

from ._ui import progress as _progress
from ._work1 import accuracy, distill, fit_classifier, load_images, mlp, pyplot, write_results

__all__ = ["register_repro", "run", "run_study", "KINDS"]

KINDS = ("nn", "mps", "mps_random_gauge", "mps_canonical_gauge", "mps_canonical_random_gauge", "mps_obfuscated")
GAUGED = KINDS[2:]
DEFAULTS = {"distill_epochs": 10, "distill_lr": 1e-3, "retrain_epochs": 3, "retrain_lr": 3e-4, "grad_clip": 1.0}
LABELS = {"nn": "network", "mps": "MPS (TT-RSS + retrained)", "mps_random_gauge": "MPS, random gauge",
          "mps_canonical_gauge": "MPS, canonical gauge",
          "mps_canonical_random_gauge": "MPS, canonical then random gauge",
          "mps_obfuscated": "MPS, obfuscate() (balanced canonical, random)"}


def register_repro(subparsers) -> None:
    p = subparsers.add_parser("privacy", help="property inference on networks vs tensorized, gauge-obfuscated MPS")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist", "digits"), default="mnist")
    p.add_argument("--data", default=None, help="data folder (default ../shared/data or $TNFAST_DATA)")
    p.add_argument("--size", type=int, default=8, help="image side after resizing (default 8; digits are 8)")
    p.add_argument("--pool", type=int, default=20000, help="training images the models draw from (default 20000)")
    p.add_argument("--n-test", type=int, default=2000, help="test images for the accuracies (default 2000)")
    p.add_argument("--p", type=float, nargs="+", default=[0.1, 0.25, 0.4],
                   help="shares of bold images; each p is attacked as p vs 1-p (default 0.1 0.25 0.4)")
    p.add_argument("--models", type=int, default=50, help="models per property value (default 50)")
    p.add_argument("--train-size", type=int, default=1000, help="training images per model (default 1000)")
    p.add_argument("--hidden", type=int, nargs="+", default=[64, 32], help="MLP hidden widths (default 64 32)")
    p.add_argument("--epochs", type=int, default=30, help="MLP epochs (default 30)")
    p.add_argument("--lr", type=float, default=1e-2, help="MLP Adam learning rate (default 1e-2)")
    p.add_argument("--rank", type=int, default=8, help="TT-RSS rank of the MPS (default 8)")
    p.add_argument("--samples", type=int, default=40, help="TT-RSS pivots: the model's first training images")
    p.add_argument("--distill-epochs", type=int, default=DEFAULTS["distill_epochs"],
                   help=f"epochs of distillation of the MPS on the network's classes (default "
                        f"{DEFAULTS['distill_epochs']})")
    p.add_argument("--distill-lr", type=float, default=DEFAULTS["distill_lr"],
                   help=f"distillation Adam learning rate (default {DEFAULTS['distill_lr']:g})")
    p.add_argument("--retrain-epochs", type=int, default=DEFAULTS["retrain_epochs"],
                   help=f"MPS retraining epochs on the true labels (default {DEFAULTS['retrain_epochs']})")
    p.add_argument("--retrain-lr", type=float, default=DEFAULTS["retrain_lr"],
                   help=f"MPS retraining Adam learning rate (default {DEFAULTS['retrain_lr']:g})")
    p.add_argument("--queries", type=int, default=100, help="black-box queries (fixed test images; default 100)")
    p.add_argument("--folds", type=int, default=10, help="cross-validation folds of the attacker (default 10)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/privacy")
    p.set_defaults(func=run)


def _bold_split(X):
    """Boolean mask of the 'bold' images: total ink above the median of ``X``."""
    ink = X.sum(axis=1)
    return ink > np.median(ink)


def _params(model):
    return [p.detach().cpu().numpy().copy() for p in model.parameters()]


def _core_norms(params):
    """Frobenius norm of every part (layer weight and bias, or core): kept by any orthogonal gauge."""
    return np.array([np.linalg.norm(p) for p in params])


def _slice_norms(params):
    """Norms of every core's slices ``G[:, i, :]`` (one per embedding feature or class): kept by any
    orthogonal gauge.  Of the canonical cores they are a function of the model's function (how
    strongly each input enters it)."""
    return np.concatenate([np.linalg.norm(p, axis=(0, 2)) if p.ndim == 3 else [np.linalg.norm(p)] for p in params])


def _entry_shape(params):
    """Each part's sorted entries divided by its norm: the distribution within a part, without its scale."""
    return np.concatenate([np.sort(p.ravel()) / max(np.linalg.norm(p), 1e-300) for p in params])


STATS = {"part_norms": _core_norms, "slice_norms": _slice_norms, "entry_shape": _entry_shape}


def _stack(rows):
    width = max(len(r) for r in rows)
    return np.array([np.pad(np.asarray(r, dtype=np.float64), (0, width - len(r))) for r in rows])


def _outputs(model, Q):
    import torch

    dt = next(model.parameters()).dtype
    was = model.training
    model.eval()
    with torch.no_grad():
        out = model(torch.as_tensor(Q, dtype=dt))
    model.train(was)
    return out.cpu().numpy().astype(np.float64)


def _train_family(share, n_models, seed0, data, cfg, bar):
    """Train, tensorize, retrain and gauge ``n_models`` models on sets with bold share ``share``."""
    import torch

    from ..nn import tensorize
    from ..privacy import canonical_gauge, obfuscate, random_gauge

    Xtr, ytr, Xte, yte, Q, bold_idx, thin_idx = data
    rec = {k: [] for k in ("params_" + k for k in KINDS)}
    rec.update(out_nn=[], out_mps=[], acc_nn=[], acc_tt=[], acc_distilled=[], acc_mps=[],
               gauge_change={k: [] for k in GAUGED}, pivot_error=[], function_stats=[])
    n_bold = int(round(share * cfg["train_size"]))
    for m in range(n_models):
        seed = seed0 + m
        rng = np.random.default_rng(seed)
        idx = np.concatenate([rng.choice(bold_idx, n_bold, replace=False),
                              rng.choice(thin_idx, cfg["train_size"] - n_bold, replace=False)])
        idx = rng.permutation(idx)
        X, y = Xtr[idx], ytr[idx]
        net = mlp(X.shape[1], 10, hidden=tuple(cfg["hidden"]), seed=seed).double()
        fit_classifier(net, X, y, epochs=cfg["epochs"], lr=cfg["lr"], batch_size=64, seed=seed, progress=False)
        rec["acc_nn"].append(accuracy(net, Xte, yte))
        rec["params_nn"].append(_params(net))
        with torch.no_grad():
            rec["out_nn"].append(torch.softmax(torch.as_tensor(_outputs(net, Q)), -1).sqrt().numpy())
        mps = tensorize(net, X[:cfg["samples"]], rank=cfg["rank"], seed=seed)
        rec["pivot_error"].append(float(mps.info.pivot_error))
        rec["acc_tt"].append(accuracy(mps, Xte, yte))
        if cfg["distill_epochs"] > 0:
            distill(mps, net, X, epochs=cfg["distill_epochs"], lr=cfg["distill_lr"], batch_size=32,
                    grad_clip=cfg["grad_clip"], seed=seed, progress=False)
        rec["acc_distilled"].append(accuracy(mps, Xte, yte))
        fit_classifier(mps, X, y, epochs=cfg["retrain_epochs"], lr=cfg["retrain_lr"], batch_size=64, seed=seed,
                       progress=False, grad_clip=cfg["grad_clip"])
        rec["acc_mps"].append(accuracy(mps, Xte, yte))
        out = _outputs(mps, Q)
        rec["out_mps"].append(out)
        rec["params_mps"].append(_params(mps))
        can = canonical_gauge(mps)
        for kind, g in (("mps_random_gauge", random_gauge(mps, seed=seed)), ("mps_canonical_gauge", can),
                        ("mps_canonical_random_gauge", random_gauge(can, seed=seed + 1)),
                        ("mps_obfuscated", obfuscate(mps, seed=seed + 1))):
            rec["params_" + kind].append(_params(g))
            rec["gauge_change"][kind].append(float(np.linalg.norm(_outputs(g, Q) - out) / np.linalg.norm(out)))
        rec["function_stats"].append(_slice_norms(_params(can)))
        if bar is not None:
            bar.update(1)
    return rec


def run_study(*, dataset="mnist", data=None, size=8, pool=20000, n_test=2000, ps=(0.1, 0.25, 0.4), models=50,
              train_size=1000, hidden=(64, 32), epochs=30, lr=1e-2, rank=8, samples=40,
              distill_epochs=DEFAULTS["distill_epochs"], distill_lr=DEFAULTS["distill_lr"],
              retrain_epochs=DEFAULTS["retrain_epochs"], retrain_lr=DEFAULTS["retrain_lr"],
              grad_clip=DEFAULTS["grad_clip"], queries=100, folds=10, seed=0, progress=True) -> dict:
    """The whole study; returns the results (what ``privacy.json`` holds).  See the module notes."""
    from ..privacy import attack_accuracy, black_box_features, white_box_features

    cfg = dict(dataset=dataset, size=size, pool=pool, n_test=n_test, ps=list(ps), models=models,
               train_size=train_size, hidden=list(hidden), epochs=epochs, lr=lr, rank=rank, samples=samples,
               distill_epochs=distill_epochs, distill_lr=distill_lr, retrain_epochs=retrain_epochs,
               retrain_lr=retrain_lr, grad_clip=grad_clip, queries=queries, folds=folds, seed=seed)
    t_start = time.perf_counter()
    if dataset == "digits":
        Xtr, ytr, Xte, yte, side = load_images("digits")
        keep = np.sort(np.random.default_rng(seed).permutation(len(Xte))[:n_test])
        Xte, yte = Xte[keep], yte[keep]
    else:
        Xtr, ytr, Xte, yte, side = load_images(dataset, size=size, n_train=pool, n_test=n_test, root=data,
                                               seed=seed)
    cfg.update(side=side, pool_used=len(Xtr), n_test_used=len(Xte))
    bold = _bold_split(Xtr)
    bold_idx, thin_idx = np.flatnonzero(bold), np.flatnonzero(~bold)
    for p in ps:
        if not 0 <= p <= 1:
            raise ValueError(f"ps: expected shares in [0, 1], got {p}")
        need = int(round(max(p, 1 - p) * train_size))
        if need > min(len(bold_idx), len(thin_idx)):
            raise ValueError(f"train_size: {train_size} images at share {max(p, 1 - p)} need {need} of a subgroup, "
                             f"the pool has {min(len(bold_idx), len(thin_idx))}")
    Q = Xte[np.random.default_rng(seed + 7).choice(len(Xte), size=min(queries, len(Xte)), replace=False)]
    dat = (Xtr, ytr, Xte, yte, Q, bold_idx, thin_idx)
    results = {"config": cfg, "per_p": []}
    bar = _progress(total=2 * models * len(ps), desc="models", enabled=progress)
    for pi, p in enumerate(ps):
        t0 = time.perf_counter()
        fams = [_train_family(share, models, seed + 100000 * pi + 10000 * lab, dat, cfg, bar)
                for lab, share in enumerate((p, 1 - p))]
        y = np.repeat([0, 1], models)
        row = {"p": p, "models_per_value": models, "seconds_models": time.perf_counter() - t0,
               "white_box": {}, "black_box": {}}
        t1 = time.perf_counter()
        for kind in KINDS:
            sets = fams[0]["params_" + kind] + fams[1]["params_" + kind]
            row["white_box"][kind] = {mode: attack_accuracy(white_box_features(sets, mode), y, folds=folds, seed=seed)
                                      for mode in ("sorted", "flat")}
            row["white_box"][kind]["features"] = int(white_box_features(sets, "flat").shape[1])
        # which gauge-invariant statistics carry the property: the attacker on each one alone
        row["white_box_stats"] = {kind: {name: attack_accuracy(_stack([f(ps) for ps in fams[0]["params_" + kind]
                                                                       + fams[1]["params_" + kind]]), y,
                                                               folds=folds, seed=seed)["accuracy"]
                                         for name, f in STATS.items()} for kind in KINDS}
        # what no gauge hides: the canonical slice norms, a function of the function (the same for every
        # MPS form, since each computes the same function)
        row["white_box_stats"]["function_slice_norms"] = attack_accuracy(
            _stack(fams[0]["function_stats"] + fams[1]["function_stats"]), y, folds=folds, seed=seed)["accuracy"]
        for kind in ("nn", "mps"):
            row["black_box"][kind] = attack_accuracy(
                black_box_features(fams[0]["out_" + kind] + fams[1]["out_" + kind]), y, folds=folds, seed=seed)
        row["seconds_attacks"] = time.perf_counter() - t1
        for key in ("acc_nn", "acc_tt", "acc_distilled", "acc_mps"):
            v = np.array(fams[0][key] + fams[1][key])
            row[key] = {"mean": float(v.mean()), "std": float(v.std())}
        row["accuracy_cost"] = row["acc_nn"]["mean"] - row["acc_mps"]["mean"]
        row["gauge_output_change"] = {k: {"max": float(np.max(fams[0]["gauge_change"][k] + fams[1]["gauge_change"][k])),
                                          "median": float(np.median(fams[0]["gauge_change"][k]
                                                                    + fams[1]["gauge_change"][k]))}
                                      for k in GAUGED}
        row["gauge_max_output_change"] = max(v["max"] for v in row["gauge_output_change"].values())
        row["pivot_error_median"] = float(np.median(fams[0]["pivot_error"] + fams[1]["pivot_error"]))
        row["parameters"] = {"nn": int(sum(a.size for a in fams[0]["params_nn"][0])),
                             "mps": int(sum(a.size for a in fams[0]["params_mps"][0]))}
        results["per_p"].append(row)
    if bar is not None:
        bar.close()
    results["seconds"] = time.perf_counter() - t_start
    return results


def format_table(results) -> str:
    """The results as plain-text tables: attack accuracy (%) per model kind, then per statistic."""
    kinds = [k for k in KINDS if k in results["per_p"][0]["white_box"]]
    short = {"nn": "network", "mps": "MPS", "mps_random_gauge": "random", "mps_canonical_gauge": "canonical",
             "mps_canonical_random_gauge": "canon.+rand", "mps_obfuscated": "obfuscate()"}
    lines = ["attack accuracy (%), white box as sorted / flat features; black box on the outputs; test accuracy (%)",
             "p     | " + " | ".join(f"{short[k]:<11}" for k in kinds) + " | black box  | "
             "NN / TT-RSS / distilled / MPS (cost)"]
    for r in results["per_p"]:
        wb = r["white_box"]
        cells = [f"{100 * wb[k]['sorted']['accuracy']:4.0f} / {100 * wb[k]['flat']['accuracy']:4.0f}" for k in kinds]
        bb = r["black_box"]
        lines.append(f"{r['p']:<5} | " + " | ".join(f"{c:<11}" for c in cells) + " | "
                     f"{100 * bb['nn']['accuracy']:3.0f} / {100 * bb['mps']['accuracy']:3.0f}  | "
                     f"{100 * r['acc_nn']['mean']:.1f} / {100 * r['acc_tt']['mean']:.1f} / "
                     f"{100 * r.get('acc_distilled', {}).get('mean', float('nan')):.1f} / "
                     f"{100 * r['acc_mps']['mean']:.1f} ({100 * r['accuracy_cost']:+.1f})")
    if "white_box_stats" in results["per_p"][0]:
        lines += ["", "attack accuracy (%) on one statistic alone (part norms / slice norms / entry shape); "
                      "function: slice norms of the canonical cores"]
        lines.append("p     | " + " | ".join(f"{short[k]:<14}" for k in kinds) + " | function")
        for r in results["per_p"]:
            st = r["white_box_stats"]
            cells = [" / ".join(f"{100 * st[k][n]:3.0f}" for n in STATS) for k in kinds]
            lines.append(f"{r['p']:<5} | " + " | ".join(f"{c:<14}" for c in cells) +
                         f" | {100 * st['function_slice_norms']:3.0f}")
    if "gauge_output_change" in results["per_p"][0]:
        lines += ["", "largest relative change of the outputs on the queries, per gauged form"]
        for r in results["per_p"]:
            lines.append(f"{r['p']:<5} | " + " | ".join(f"{short[k]} {v['max']:.1e}"
                                                       for k, v in r["gauge_output_change"].items()))
    return "\n".join(lines)


def _plot(results, path):
    plt = pyplot(f"the figure {path} is not drawn")
    if plt is None:
        return None
    ps = [r["p"] for r in results["per_p"]]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5), sharey=True)
    kinds = [k for k in KINDS if k in results["per_p"][0]["white_box"]]
    colors = dict(zip(KINDS, ("C0", "C1", "C2", "C3", "C4", "C5")))
    for kind in kinds:
        for mode, ls, mk in (("sorted", "-", "o"), ("flat", "--", "x")):
            acc = [100 * r["white_box"][kind][mode]["accuracy"] for r in results["per_p"]]
            axes[0].plot(ps, acc, ls, color=colors[kind], marker=mk, label=f"{LABELS[kind]} ({mode})")
    for kind in ("nn", "mps"):
        acc = [100 * r["black_box"][kind]["accuracy"] for r in results["per_p"]]
        axes[1].plot(ps, acc, color=colors[kind], marker="o",
                     label=LABELS[kind] + (" (= every gauged form)" if kind == "mps" else ""))
    for ax, title in zip(axes, ("white box: parameters", f"black box: outputs on {results['config']['queries']} "
                                                          "queries")):
        ax.axhline(50, color="gray", ls=":", label="chance")
        ax.set_xlabel("share p of bold images (attack: p vs 1-p)")
        ax.set_title(title)
        ax.set_ylim(0, 102)
        ax.set_xticks(ps)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    axes[0].set_ylabel("attack accuracy (%)")
    c = results["config"]
    fig.suptitle(f"property inference, {c['dataset']} {c['side']}x{c['side']}, {c['models']} models per value, "
                 f"MPS rank {c['rank']}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def run(args) -> int:
    import torch

    for name in ("models", "train_size", "epochs", "rank", "samples", "queries", "threads", "pool", "n_test"):
        if getattr(args, name) < 1:
            print(f"error: --{name.replace('_', '-')} must be >= 1")
            return 2
    for name in ("retrain_epochs", "distill_epochs"):
        if getattr(args, name) < 0:
            print(f"error: --{name.replace('_', '-')} must be >= 0")
            return 2
    if args.folds < 2 or args.models < args.folds:
        print("error: --folds must be >= 2 and --models >= --folds")
        return 2
    torch.set_num_threads(args.threads)
    results = run_study(dataset=args.dataset, data=args.data, size=args.size, pool=args.pool, n_test=args.n_test,
                        ps=args.p, models=args.models, train_size=args.train_size, hidden=args.hidden,
                        epochs=args.epochs, lr=args.lr, rank=args.rank, samples=args.samples,
                        distill_epochs=args.distill_epochs, distill_lr=args.distill_lr,
                        retrain_epochs=args.retrain_epochs, retrain_lr=args.retrain_lr, queries=args.queries,
                        folds=args.folds, seed=args.seed)
    results["config"]["threads"] = args.threads
    path = write_results(args.out, "privacy.json", results)
    png = _plot(results, path.with_suffix(".png"))
    print(format_table(results))
    print(f"wrote {path}" + (f", {png}" if png else "") + f" ({results['seconds']:.0f} s)")
    return 0
