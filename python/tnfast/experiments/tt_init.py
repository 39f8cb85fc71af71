"""``tnfast repro init``: initializing an MPS classifier by tensorizing a trained network.

Work 1 (Pareja Monturiol et al. 2025), initialization experiment: an MPS classifier of bond 5
started from the TT-RSS image of a trained MLP, against random, identity-plus-noise and
canonical initializations of the same model, all trained with the same optimizer, learning
rate, batches and number of steps (cross-entropy on the MPS outputs).  Training and test
accuracy are recorded along the way.  Published shape: the tensorized start begins near 80 %
and ends at 85-88 %; the others stall lower.  Writes ``init.json`` and ``init.png`` to ``--out``.
"""

from __future__ import annotations

import time

import numpy as np

from ._ui import progress
from ._work1 import accuracy, fit_classifier, load_images, mlp, pyplot, write_results

__all__ = ["register_repro", "run"]

INITS = ("tensorized", "random", "identity", "canonical")


def register_repro(subparsers) -> None:
    p = subparsers.add_parser("init", help="MPS classifier initialized by TT-RSS of a trained MLP vs other inits")
    p.add_argument("--dataset", choices=("mnist", "fashion-mnist", "digits"), default="mnist")
    p.add_argument("--data", default=None, help="data folder (default ../shared/data or $TNFAST_DATA)")
    p.add_argument("--size", type=int, default=12, help="image side after resizing (MNIST; default 12)")
    p.add_argument("--n-train", type=int, default=10000)
    p.add_argument("--n-test", type=int, default=2000)
    p.add_argument("--bond", type=int, default=5, help="bond dimension of the MPS classifier (default 5)")
    p.add_argument("--samples", type=int, default=100, help="TT-RSS samples (training images; default 100)")
    p.add_argument("--epochs", type=int, default=2, help="training epochs of every MPS (default 2)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate of every MPS (default 1e-3)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--eval-every", type=int, default=50, help="steps between accuracy records (default 50)")
    p.add_argument("--mlp-epochs", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/init")
    p.set_defaults(func=run)


def _train_recorded(model, Xtr, ytr, Xte, yte, *, epochs, lr, batch_size, eval_every, seed, desc, Xeval, yeval):
    """Adam + cross-entropy; accuracy on a fixed training subset and on the test set every
    ``eval_every`` steps (and at step 0)."""
    import torch

    dt = next(model.parameters()).dtype
    X, y = torch.as_tensor(Xtr, dtype=dt), torch.as_tensor(ytr)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    rec = {"step": [0], "train_acc": [accuracy(model, Xeval, yeval)], "test_acc": [accuracy(model, Xte, yte)],
           "loss": []}
    steps_per_epoch = -(-len(X) // batch_size)
    bar = progress(total=epochs * steps_per_epoch, desc=desc, leave=False)
    step = 0
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=gen)
        for i in range(0, len(X), batch_size):
            idx = order[i:i + batch_size]
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            if not torch.isfinite(loss.detach()):
                rec["diverged_at"] = step
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            rec["loss"].append(loss.item())
            if bar is not None:
                bar.update(1)
            if step % eval_every == 0:
                rec["step"].append(step)
                rec["train_acc"].append(accuracy(model, Xeval, yeval))
                rec["test_acc"].append(accuracy(model, Xte, yte))
        if "diverged_at" in rec:
            break
    if bar is not None:
        bar.close()
    if rec["step"][-1] != step:
        rec["step"].append(step)
        rec["train_acc"].append(accuracy(model, Xeval, yeval))
        rec["test_acc"].append(accuracy(model, Xte, yte))
    return rec


def run(args) -> int:
    import torch

    from ..nn import MPSModel, tensorize

    t_start = time.perf_counter()
    for name in ("bond", "samples", "epochs", "batch_size", "eval_every", "n_train", "n_test"):
        if getattr(args, name) < 1:
            print(f"error: --{name.replace('_', '-')} must be >= 1")
            return 2
    if args.dataset == "digits":
        Xtr, ytr, Xte, yte, side = load_images("digits")
    else:
        Xtr, ytr, Xte, yte, side = load_images(args.dataset, size=args.size, n_train=args.n_train,
                                               n_test=args.n_test, root=args.data, seed=args.seed)
    n = Xtr.shape[1]
    rng = np.random.default_rng(args.seed)
    ev = rng.choice(len(Xtr), size=min(2000, len(Xtr)), replace=False)
    Xeval, yeval = Xtr[ev], ytr[ev]
    print(f"{args.dataset} at {side} x {side} px: {len(Xtr)} training, {len(Xte)} test images")

    net = mlp(n, 10, seed=args.seed)
    fit_classifier(net, Xtr, ytr, epochs=args.mlp_epochs, lr=1e-3, batch_size=64, seed=args.seed, desc="MLP")
    acc_net = accuracy(net, Xte, yte)
    print(f"MLP: test accuracy {100 * acc_net:.2f} %")

    results = {"config": {k: v for k, v in vars(args).items() if k != "func"}, "mlp_test_acc": acc_net,
               "n_features": n, "runs": {}}
    for init in INITS:
        t0 = time.perf_counter()
        if init == "tensorized":
            model = tensorize(net, Xtr[:args.samples], rank=args.bond, seed=args.seed)
            extra = {"tt_rss_seconds": model.info.times["total"], "n_evals": model.info.n_evals,
                     "pivot_error": model.info.pivot_error, "notes": model.info.notes}
        else:
            model = MPSModel(n, 10, embedding="poly", dim=2, bond_dim=args.bond, init=init,
                             dtype=torch.float64, seed=args.seed)
            extra = {}
        rec = _train_recorded(model, Xtr, ytr, Xte, yte, epochs=args.epochs, lr=args.lr,
                              batch_size=args.batch_size, eval_every=args.eval_every, seed=args.seed,
                              desc=f"train ({init})", Xeval=Xeval, yeval=yeval)
        rec.update(extra, seconds=time.perf_counter() - t0, bond_dims=list(model.bond_dims),
                   parameters=model.num_parameters())
        results["runs"][init] = rec
        print(f"{init:<11} start: train {100 * rec['train_acc'][0]:6.2f} %, test {100 * rec['test_acc'][0]:6.2f} %"
              f"   end: train {100 * rec['train_acc'][-1]:6.2f} %, test {100 * rec['test_acc'][-1]:6.2f} %"
              f"   ({rec['seconds']:.1f} s)")
    results["seconds"] = time.perf_counter() - t_start
    path = write_results(args.out, "init.json", results)
    plt = pyplot(f"no figure is drawn in {args.out}")
    wrote = [str(path)]
    if plt is not None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
        for init, rec in results["runs"].items():
            axes[0].plot(rec["step"], [100 * a for a in rec["train_acc"]], label=init)
            axes[1].plot(rec["step"], [100 * a for a in rec["test_acc"]], label=init)
        for ax, what in zip(axes, ("training", "test")):
            ax.axhline(100 * acc_net, color="gray", ls=":", label="MLP (test)")
            ax.set_xlabel("training step")
            ax.set_title(f"{what} accuracy")
        axes[0].set_ylabel("accuracy (%)")
        axes[1].legend()
        fig.suptitle(f"MPS classifier (bond {args.bond}) by initialization, {args.dataset} {side}x{side}")
        fig.tight_layout()
        png = path.with_suffix(".png")
        fig.savefig(png, dpi=120)
        plt.close(fig)
        wrote.append(str(png))
    print(f"wrote {', '.join(wrote)} ({results['seconds']:.0f} s)")
    return 0
