"""``tnfast repro mpo-cifar``: MPO-Net style compression of VGG/ResNet/DenseNet-like nets on CIFAR-10.

Runs, with the same optimizer, schedule, epochs and seed: the dense network; the network with
MPO convolutions and FC layers trained from scratch; the dense network compressed by TT-SVD
(every conv with >= 8 input channels and every hidden FC layer, bond ``--bond``) and fine-tuned.

On a CPU the default budget is reduced (a class-balanced subset, few epochs, narrow nets) and the
JSON says so; ``--device cuda --full`` trains on all 50,000 images for longer.
Data: the CIFAR-10 JPEG copy (see :func:`tnfast.datasets.load_cifar10`).
"""

from __future__ import annotations

from .._cli_types import positive_float, positive_int  # noqa: F401

import json
import pathlib
import time

__all__ = ["run", "register_repro"]

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


def _subset(labels, n, seed):
    import numpy as np
    rng = np.random.default_rng(seed)
    per = n // 10
    idx = []
    for c in range(10):
        cand = np.flatnonzero(labels == c)
        idx.append(rng.choice(cand, size=min(per, len(cand)), replace=False))
    idx = np.concatenate(idx)
    rng.shuffle(idx)
    return idx


def _targets(model, bond):
    from torch import nn

    from tnfast.nn.compress import compressible_layers
    names = []
    mods = dict(model.named_modules())
    all_names = compressible_layers(model)
    for name in all_names:
        m = mods[name]
        if isinstance(m, nn.Conv2d) and m.in_channels >= 8 and m.kernel_size != (1, 1):
            names.append(name)
        elif isinstance(m, nn.Linear) and m.in_features >= 64 and m.out_features >= 64:
            names.append(name)
    return names


def run(arch="vgg", epochs=None, subset=None, out=None, quick=False, full=False, device="cpu", seed=0,
        batch_size=128, lr=2e-3, bond=4, threads=2, width=None, augment=None, root=None, progress=True):
    """Train dense vs MPO variants of one architecture; returns the results (also ``out/results.json``)."""
    import numpy as np
    import torch

    from tnfast.datasets import load_cifar10
    from tnfast.nn import compress
    from tnfast.nn import models as M
    from tnfast.nn.training import TensorLoader, evaluate, fine_tune, random_crop_flip, to_tensors, train

    if arch not in ("vgg", "resnet", "densenet"):
        raise ValueError(f"arch: expected 'vgg', 'resnet' or 'densenet', got {arch!r}")
    torch.set_num_threads(int(threads))
    if full:
        epochs = 30 if epochs is None else epochs
        subset = None
        width = width or {"vgg": 64, "resnet": 32, "densenet": 16}[arch]
    else:
        epochs = (1 if quick else 3) if epochs is None else epochs
        subset = (2000 if quick else 5000) if subset is None else subset
        width = width or {"vgg": 16, "resnet": 16, "densenet": 8}[arch]
    augment = full if augment is None else augment
    out = pathlib.Path(out or f"results/mpo-cifar-{arch}")
    out.mkdir(parents=True, exist_ok=True)
    xtr, ytr = load_cifar10("train", root=root)
    xte, yte = load_cifar10("test", root=root)
    if subset is not None:
        idx = _subset(ytr, int(subset), seed)
        xtr, ytr = xtr[idx], ytr[idx]
        tidx = _subset(yte, max(1000, int(subset) // 5), seed + 1)
        xte, yte = xte[tidx], yte[tidx]
    xtr, ytr = to_tensors(xtr, ytr, CIFAR_MEAN, CIFAR_STD, channels_last_input=True)
    xte, yte = to_tensors(xte, yte, CIFAR_MEAN, CIFAR_STD, channels_last_input=True)
    test_loader = TensorLoader(xte, yte, batch_size=500)

    def loader():
        return TensorLoader(xtr, ytr, batch_size=batch_size, shuffle=True, seed=seed,
                            transform=random_crop_flip if augment else None)

    build = {"vgg": lambda **k: M.vgg_small(width=width, fc_width=8 * width, **k),
             "resnet": lambda **k: M.resnet_small(width=width, **k),
             "densenet": lambda **k: M.densenet_small(growth=width, **k)}[arch]
    runs = {}
    torch.manual_seed(seed)
    dense = build()
    t0 = time.perf_counter()
    h = train(dense, loader(), epochs, lr=lr, test_loader=test_loader, device=device, progress=progress,
              desc=f"{arch} dense")
    runs["dense"] = {"history": h, "params": M.count_params(dense), "time_s": time.perf_counter() - t0}

    torch.manual_seed(seed)
    scratch = build(mpo_convs=True, mpo_fc=True, bond_dim=bond)
    t0 = time.perf_counter()
    h = train(scratch, loader(), epochs, lr=lr, test_loader=test_loader, device=device, progress=progress,
              desc=f"{arch} mpo scratch")
    runs["mpo_scratch"] = {"history": h, "params": M.count_params(scratch), "time_s": time.perf_counter() - t0}

    torch.manual_seed(seed)
    t0 = time.perf_counter()
    dense_cpu = dense.to("cpu")
    compressed, report = compress(dense_cpu, layers=_targets(dense_cpu, bond), max_bond=bond)
    init = evaluate(compressed.to(device), test_loader, device=device)["accuracy"]
    h = fine_tune(compressed, loader(), epochs, lr=lr, test_loader=test_loader, device=device, progress=progress,
                  desc=f"{arch} mpo pretrained")
    runs["mpo_pretrained"] = {"history": h, "params": M.count_params(compressed), "time_s": time.perf_counter() - t0,
                              "accuracy_after_ttsvd": init}
    final = {k: v["history"]["test_acc"][-1] for k, v in runs.items()}
    budget = "full" if full else "reduced (CPU): class-balanced subset, few epochs, narrow network"
    meta = {"arch": arch, "epochs": epochs, "train_size": int(len(xtr)), "test_size": int(len(xte)),
            "width": width, "bond": bond, "augment": bool(augment), "batch_size": batch_size, "lr": lr,
            "optimizer": "adam, cosine schedule", "device": str(device), "threads": threads, "seed": seed,
            "budget": budget, "data": "CIFAR-10 (JPEG copy)", "torch": torch.__version__}
    payload = {"meta": meta, "runs": runs, "layers": report, "final_test_acc": final}
    (out / "results.json").write_text(json.dumps(payload, indent=2))
    print(f"[{arch}, {budget}; {len(xtr)} train / {len(xte)} test images, {epochs} epochs] test accuracy: "
          f"dense {100 * final['dense']:.2f}% ({runs['dense']['params']:,} params)  "
          f"MPO scratch {100 * final['mpo_scratch']:.2f}% ({runs['mpo_scratch']['params']:,})  "
          f"MPO pretrained {100 * final['mpo_pretrained']:.2f}% ({runs['mpo_pretrained']['params']:,}; "
          f"{100 * init:.2f}% right after TT-SVD)", flush=True)
    from ._ui import pyplot

    plt = pyplot(f"the figure {out / 'cifar.png'} is not drawn")
    if plt is not None:
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
        for k, v in runs.items():
            acc = [100 * a for a in v["history"]["test_acc"]]
            ax[0].plot(range(1, len(acc) + 1), acc, marker="o", ms=3, label=f"{k} ({v['params']:,})")
        ax[0].set_xlabel("epoch")
        ax[0].set_ylabel("test accuracy (%)")
        ax[0].legend(fontsize=7)
        ax[0].set_title(f"{arch} on CIFAR-10 (JPEG copy), {budget.split(':')[0]}")
        ax[1].bar(list(runs), [v["params"] for v in runs.values()])
        ax[1].set_yscale("log")
        ax[1].set_title("parameters")
        fig.tight_layout()
        fig.savefig(out / "cifar.png", dpi=120)
        plt.close(fig)
    del np
    return payload


def _cmd(args):
    run(arch=args.arch, epochs=args.epochs, subset=args.subset, out=args.out, quick=args.quick, full=args.full,
        device=args.device, seed=args.seed, batch_size=args.batch_size, lr=args.lr, bond=args.bond,
        threads=args.threads, width=args.width, progress=not args.no_progress)
    return 0


def register_repro(sub):
    p = sub.add_parser("mpo-cifar", help="MPO-Net style VGG/ResNet/DenseNet on CIFAR-10 (JPEG copy), dense vs MPO")
    p.add_argument("--arch", choices=["vgg", "resnet", "densenet"], default="vgg")
    p.add_argument("--epochs", type=positive_int, default=None)
    p.add_argument("--subset", type=positive_int, default=None, help="training images (class balanced); CPU default 5000")
    p.add_argument("--out", default=None)
    p.add_argument("--quick", action="store_true", help="2,000 images, 1 epoch")
    p.add_argument("--full", action="store_true", help="all data, 30 epochs, wider nets, augmentation (GPU)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--lr", type=positive_float, default=2e-3)
    p.add_argument("--bond", type=positive_int, default=4)
    p.add_argument("--threads", type=positive_int, default=2)
    p.add_argument("--width", type=positive_int, default=None)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd)
