"""``tnfast demo``: the main job, end to end in a few minutes on a laptop CPU.

A small network is trained on real images (MNIST resized to 12 x 12 when the data folder has it,
scikit-learn's 8 x 8 digits otherwise), tensorized into a matrix product state with TT-RSS from
a hundred training images, fine-tuned on the network's classes of unlabeled images (distillation
to hard labels, :func:`tnfast.nn.distill`), compressed (an SVD truncation weighted by the data,
:meth:`MPSModel.compress(weights=X) <tnfast.nn.MPSModel.compress>`) and fine-tuned again, and compared with the
network and with an MPO-compressed copy of it: accuracy, agreement with the network, parameters,
operations and inference time.  ``--plot FILE`` draws the entanglement profile of
the tensorized model and the accuracy / size trade-off.
"""

from __future__ import annotations

import copy
import os
import time

import numpy as np

from ._ui import progress
from ._work1 import accuracy, distill, fit_classifier, load_images, mlp, pyplot

__all__ = ["register", "run_demo"]

FT_LR = 3e-4  # fine-tuning step of the tensorized model (distillation to the network's classes)


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="train a network, tensorize it (TT-RSS), fine-tune, compress, compare")
    p.add_argument("--dataset", choices=("auto", "mnist", "digits"), default="auto",
                   help="auto: MNIST at 12x12 px when the data folder has it, else scikit-learn digits")
    p.add_argument("--data", default=None, help="data folder holding mnist/ (default: ../shared/data or $TNFAST_DATA)")
    p.add_argument("--samples", type=int, default=100, help="training images used as TT-RSS samples (default 100)")
    p.add_argument("--rank", type=int, default=10, help="bond dimension of the tensorized model (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", default=None, metavar="FILE", help="save a figure (entanglement, accuracy vs size)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: these small networks gain little from more, and on a "
                        "busy machine two threads were 10-100x slower than one)")
    p.add_argument("--quick", action="store_true", help="smallest sizes (a smoke run of a few seconds)")
    p.set_defaults(func=run_demo)


def _best_time(fn, repeats=3) -> float:
    fn()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def argmax_disagreement_models(a, b, X, batch_size: int = 4096) -> float:
    """Percentage of rows of X where two classifiers' argmax classes differ."""
    import torch

    da, db = next(a.parameters()).dtype, next(b.parameters()).dtype
    diff = 0
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            x = torch.as_tensor(X[i:i + batch_size])
            diff += int((a(x.to(da)).argmax(1) != b(x.to(db)).argmax(1)).sum())
    return 100.0 * diff / max(len(X), 1)


def run_demo(args) -> int:
    import torch

    threads = getattr(args, "threads", 1)
    if threads is None or threads < 1:
        print("error: --threads must be >= 1")
        return 2
    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        return _run_demo(args)
    finally:
        torch.set_num_threads(before)


def _run_demo(args) -> int:
    import torch

    import tnfast
    from tnfast import datasets
    from tnfast.nn import argmax_disagreement, compress, tensorize

    class Counting(torch.nn.Module):
        """The network, with a progress bar counting the inputs TT-RSS evaluates."""

        def __init__(self, net, bar):
            super().__init__()
            self.net, self.bar = net, bar

        def forward(self, x):
            if self.bar is not None:
                self.bar.update(int(x.shape[0]))
            return self.net(x)

    t_start = time.perf_counter()
    steps, mark = {}, [t_start]

    def lap(name):  # wall time of each step, printed at the end
        now = time.perf_counter()
        steps[name] = now - mark[0]
        mark[0] = now
    torch.manual_seed(args.seed)
    if args.samples < 2 or args.rank < 1:
        print("error: --samples must be >= 2 and --rank >= 1")
        return 2
    quick = bool(getattr(args, "quick", False))
    dataset = args.dataset
    if dataset == "auto":
        try:
            datasets.find_data_dir(args.data)
            (datasets.find_data_dir(args.data) / "mnist").resolve(strict=True)
            dataset = "mnist"
        except (datasets.DatasetNotFoundError, FileNotFoundError):
            dataset = "digits"
    if dataset == "mnist":
        n_train, n_test = (2000, 500) if quick else (20000, 2000)
        Xtr, ytr, Xte, yte, side = load_images("mnist", size=12, n_train=n_train, n_test=n_test, root=args.data,
                                               seed=args.seed)
        label = "MNIST, 12 x 12 px"
    else:
        Xtr, ytr, Xte, yte, side = load_images("digits")
        label = "scikit-learn digits, 8 x 8 px"
    n = Xtr.shape[1]
    lap("data")
    # epochs of the network (digits: 1,257 images, so more passes), of the fine-tunes
    epochs = 1 if quick else (4 if dataset == "mnist" else 30)
    ft_epochs = 1 if quick else (2 if dataset == "mnist" else 6)
    ft_images = min(len(Xtr), 300 if quick else 5000)
    hidden = (64, 32) if quick else (500, 200)

    print(f"tnfast {tnfast.__version__}: tensorizing a trained network ({label}; {len(Xtr)} training and "
          f"{len(Xte)} test images)\n")
    # 1. the network
    net = mlp(n, 10, hidden, seed=args.seed)
    t0 = time.perf_counter()
    fit_classifier(net, Xtr, ytr, epochs=epochs, lr=1e-3, batch_size=64, seed=args.seed, desc="network")
    acc_net = accuracy(net, Xte, yte)
    n_par_net = sum(p.numel() for p in net.parameters())
    print(f"1. network {n}-{hidden[0]}-{hidden[1]}-10 trained in {time.perf_counter() - t0:.1f} s: "
          f"test accuracy {100 * acc_net:.2f} %, {n_par_net:,} parameters")
    lap("1 network")

    # 2. TT-RSS
    N = min(args.samples, len(Xtr))
    bar = progress(desc="TT-RSS: network evaluations", unit=" pts", mininterval=0.5, leave=False)
    t0 = time.perf_counter()
    mps = tensorize(Counting(net, bar), Xtr[:N], rank=args.rank, seed=args.seed)
    t_rss = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    info = mps.info
    dis0 = argmax_disagreement(mps, net, Xte)
    acc0 = accuracy(mps, Xte, yte)
    print(f"2. TT-RSS from {N} training images: {t_rss:.1f} s, {info.n_evals:,} network evaluations, "
          f"pivot error {info.pivot_error:.2e}, bonds <= {max(info.bond_dims)}")
    for note in info.notes:
        print(f"   note: {note}")
    print(f"   the MPS disagrees with the network on {dis0:.1f} % of test images; test accuracy {100 * acc0:.2f} %")
    lap("2 TT-RSS")

    # 3. fine-tune on the network's own classes (distillation to hard labels: no true labels used)
    raw = copy.deepcopy(mps)
    t0 = time.perf_counter()
    distill(mps, net, Xtr[:ft_images], loss="ce", epochs=ft_epochs, lr=FT_LR, batch_size=32, grad_clip=1.0,
            seed=args.seed, desc="fine-tune")
    dis1 = argmax_disagreement(mps, net, Xte)
    acc1 = accuracy(mps, Xte, yte)
    print(f"3. fine-tuned on the network's classes of {ft_images} unlabeled images x {ft_epochs} epochs "
          f"(cross-entropy, Adam {FT_LR:g}; {time.perf_counter() - t0:.1f} s): disagreement {dis1:.1f} %, "
          f"test accuracy {100 * acc1:.2f} %")
    lap("3 fine-tune")

    # 4. compress the fine-tuned model, and fine-tune it again the same way
    t0 = time.perf_counter()
    small_rank = max(2, args.rank // 2)
    small = copy.deepcopy(mps)
    cinfo = small.compress(max_rank=small_rank, weights=Xtr[:ft_images])
    acc2a = accuracy(small, Xte, yte)
    distill(small, net, Xtr[:ft_images], loss="ce", epochs=ft_epochs, lr=FT_LR, batch_size=32, grad_clip=1.0,
            seed=args.seed, desc="fine-tune (compressed)")
    dis2 = argmax_disagreement(small, net, Xte)
    acc2 = accuracy(small, Xte, yte)
    print(f"4. MPS compressed to bond {max(small.bond_dims)} (SVD truncation weighted by the data's features; "
          f"relative weight discarded {np.sqrt(cinfo.discarded_weight):.2e}): test accuracy {100 * acc2a:.2f} %, "
          f"after the same fine-tune "
          f"{100 * acc2:.2f} %, disagreement {dis2:.1f} % ({time.perf_counter() - t0:.1f} s), "
          f"{small.num_parameters():,} parameters")
    lap("4 compress")

    # 5. the MPO-Net copy of the network
    t0 = time.perf_counter()
    mpo_net, _ = compress(net, max_bond=4)
    acc3a = accuracy(mpo_net, Xte, yte)
    fit_classifier(mpo_net, Xtr, ytr, epochs=max(1, epochs // 4), lr=5e-3, batch_size=128, seed=args.seed,
                   desc="MPO fine-tune")
    acc3 = accuracy(mpo_net, Xte, yte)
    dis3 = argmax_disagreement_models(mpo_net, net, Xte)
    n_par_mpo = sum(p.numel() for p in mpo_net.parameters())
    print(f"5. MPO-compressed network (bond 4, TT-SVD of every weight): test accuracy {100 * acc3a:.2f} %, after "
          f"fine-tuning {100 * acc3:.2f} % ({time.perf_counter() - t0:.1f} s), {n_par_mpo:,} parameters")
    lap("5 MPO network")

    # 6. the comparison
    xt = torch.as_tensor(Xte)
    xt64 = xt.double()
    rows = []
    with torch.no_grad():
        for name, model, acc, dis, x in (("network", net, acc_net, 0.0, xt),
                                         ("MPO network", mpo_net, acc3, dis3, xt),
                                         ("MPS (TT-RSS)", raw, acc0, dis0, xt64),
                                         ("MPS fine-tuned", mps, acc1, dis1, xt64),
                                         ("MPS compressed", small, acc2, dis2, xt64)):
            t = _best_time(lambda: model(x))
            params = sum(p.numel() for p in model.parameters())
            flops = model.flops_per_input() if hasattr(model, "flops_per_input") else None
            rows.append((name, acc, dis, params, flops, 1e6 * t / len(x)))
    print(f"\n{'model':<16}{'test acc %':>11}{'disagree %':>11}{'parameters':>12}{'flops/input':>13}{'us/input':>10}")
    for name, acc, dis, params, flops, us in rows:
        print(f"{name:<16}{100 * acc:>11.2f}{dis:>11.1f}{params:>12,}{(f'{flops:,}' if flops else '-'):>13}"
              f"{us:>10.2f}")
    print("(disagree: test images where the model's class differs from the network's; the MPS rows run in "
          "float64;\n flops: multiply and add counted apart; time: whole test set, one call)")
    lap("6 comparison")

    if args.plot:
        plt = pyplot("the --plot figure is not drawn")
        if plt is not None:
            fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
            a1.plot(mps.entropy(), label="fine-tuned MPS")
            a1.plot(small.entropy(), label=f"compressed (bond {max(small.bond_dims)})")
            a1.axvline(mps.out_position - 0.5, color="gray", ls=":", label="output site")
            a1.set_xlabel("bond")
            a1.set_ylabel("entanglement entropy")
            a1.legend()
            for name, acc, _, params, _, _ in rows:
                a2.scatter(params, 100 * acc)
                a2.annotate(name, (params, 100 * acc), fontsize=8)
            a2.set_xscale("log")
            a2.set_xlabel("parameters")
            a2.set_ylabel("test accuracy (%)")
            fig.suptitle(f"tnfast demo: {label}")
            fig.tight_layout()
            fig.savefig(args.plot, dpi=120)
            plt.close(fig)
            print(f"wrote {args.plot}")
        lap("plot")
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print("\ntime per step: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    print(f"done in {time.perf_counter() - t_start:.1f} s{load}")
    return 0
