"""Shared pieces of the tensorized-network experiments (TT-RSS of classifiers): data, the
networks of the paper, training, distillation of a tensorized model, and result files."""

from __future__ import annotations

import json
import pathlib

import numpy as np

__all__ = ["load_images", "mlp", "fit_classifier", "accuracy", "distill", "compress_on_data", "write_results", "pyplot",
           "save_figure"]


def load_images(dataset: str = "mnist", size: int | None = None, n_train: int | None = None,
                n_test: int | None = None, root=None, seed: int = 0):
    """Images as flat float32 rows in [0, 1] and int64 labels: ``(Xtr, ytr, Xte, yte, side)``.

    ``dataset``: ``"mnist"``, ``"fashion-mnist"`` (from the data folder, see
    :mod:`tnfast.datasets`) or ``"digits"`` (scikit-learn's 8x8 digits, always present).
    ``size`` resizes to ``size x size`` by area averaging; ``n_train``/``n_test`` take a random
    subset (seeded) of each split.
    """
    import torch

    from .. import datasets

    if dataset == "digits":
        imgs, labels = datasets.load_digits()
        imgs = imgs / 16.0
        rng = np.random.default_rng(1234)  # one fixed split of the 1,797 digits
        perm = rng.permutation(len(imgs))
        cut = int(0.7 * len(imgs))
        tr, te = (imgs[perm[:cut]], labels[perm[:cut]]), (imgs[perm[cut:]], labels[perm[cut:]])
    elif dataset in ("mnist", "fashion-mnist"):
        load = datasets.load_mnist if dataset == "mnist" else datasets.load_fashion_mnist
        tr = load("train", root=root)
        te = load("test", root=root)
        tr = (tr[0] / 255.0, tr[1])
        te = (te[0] / 255.0, te[1])
    else:
        raise ValueError(f"dataset: expected 'mnist', 'fashion-mnist' or 'digits', got {dataset!r}")
    rng = np.random.default_rng(seed)
    out = []
    for (x, y), n in ((tr, n_train), (te, n_test)):
        if n is not None and n < len(x):
            idx = np.sort(rng.choice(len(x), size=n, replace=False))
            x, y = x[idx], y[idx]
        t = torch.as_tensor(np.asarray(x, dtype=np.float32))[:, None]
        if size is not None and size != t.shape[-1]:
            t = torch.nn.functional.adaptive_avg_pool2d(t, (size, size))
        out += [t.reshape(len(t), -1).numpy(), np.asarray(y, dtype=np.int64)]
    side = int(round(np.sqrt(out[0].shape[1])))
    return out[0], out[1], out[2], out[3], side


def mlp(n_in: int, n_classes: int = 10, hidden=(500, 200), seed: int = 0):
    """``Linear(n_in, h1) - ReLU - Linear(h1, h2) - ReLU - Linear(h2, C)`` (the paper's MLP)."""
    import torch

    torch.manual_seed(seed)
    layers, prev = [], n_in
    for h in hidden:
        layers += [torch.nn.Linear(prev, h), torch.nn.ReLU()]
        prev = h
    layers.append(torch.nn.Linear(prev, n_classes))
    return torch.nn.Sequential(*layers)


def fit_classifier(model, X, y, *, epochs: int, lr: float = 1e-3, batch_size: int = 128, seed: int = 0,
                   X_test=None, y_test=None, desc: str = "train", progress: bool = True, optimizer="adam",
                   grad_clip=None):
    """Cross-entropy training with Adam and a cosine schedule (gradient norm clipped at
    ``grad_clip`` when given); returns the per-epoch history."""
    import torch

    from ..nn.training import TensorLoader, train

    dt = next(model.parameters()).dtype
    loader = TensorLoader(torch.as_tensor(X, dtype=dt), torch.as_tensor(y), batch_size=batch_size, shuffle=True,
                          seed=seed)
    test = None
    if X_test is not None:
        test = TensorLoader(torch.as_tensor(X_test, dtype=dt), torch.as_tensor(y_test), batch_size=2048)
    return train(model, loader, epochs, lr=lr, test_loader=test, progress=progress, desc=desc, optimizer=optimizer,
                 grad_clip=grad_clip)


def accuracy(model, X, y, batch_size: int = 4096) -> float:
    """Fraction of rows of X whose argmax output equals y."""
    import torch

    was = model.training
    model.eval()
    dt = next(model.parameters()).dtype
    correct = 0
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            out = model(torch.as_tensor(X[i:i + batch_size], dtype=dt))
            correct += int((out.argmax(1).cpu().numpy() == y[i:i + batch_size]).sum())
    model.train(was)
    return correct / max(len(X), 1)


def distill(student, teacher, X, **kwargs):
    """:func:`tnfast.nn.distill` (imported when called: this module loads without torch)."""
    from ..nn.training import distill as _distill

    return _distill(student, teacher, X, **kwargs)


def compress_on_data(mps, X, max_rank: int, eps: float = 1e-4):
    """A copy of the :class:`~tnfast.nn.MPSModel` ``mps`` with bonds at most ``max_rank``,
    truncated in the norm of the data rather than of the coefficients.

    :meth:`MPSModel.compress` truncates in the Frobenius norm of the coefficient tensor, which
    weighs every corner of the feature space alike; a tensorized network takes its largest
    values far from the data, so that norm is spent where no input lies (on 12 px MNIST a bond-5
    truncation of a bond-10 MPS discarded 85 % of it and broke the classifier).  Here every
    input site's core is first multiplied, on its feature index, by ``G^(1/2)`` where ``G =
    mean(phi(x) phi(x)^T)`` over the rows of ``X`` (eigenvalues floored at ``eps`` times the
    largest), the train is rounded (SVD truncation), and ``G^(-1/2)`` is applied back: the error
    is then measured in the mean square over the product of the data's per-site feature
    distributions.  Returns ``(model, info)`` with ``info`` the
    :class:`~tnfast.TruncationInfo` of the weighted train.
    """
    import copy

    import torch

    from ..tensortrain import TensorTrain

    if int(max_rank) < 1:
        raise ValueError(f"max_rank: expected an integer >= 1, got {max_rank}")
    if not (np.isfinite(eps) and 0 < eps < 1):
        raise ValueError(f"eps: expected a number in (0, 1), got {eps}")
    with torch.no_grad():
        feats = mps.features(torch.as_tensor(np.asarray(X))).double().cpu().numpy()
    if len(feats) == 0:
        raise ValueError("X: expected at least one input")
    cores = [c.detach().double().cpu().numpy() for c in mps.cores]
    sites = [k for k in range(len(cores)) if k != mps.out_position]
    up, down = {}, {}
    for j, k in enumerate(sites):
        w, V = np.linalg.eigh(feats[:, j, :].T @ feats[:, j, :] / len(feats))
        w = np.maximum(w, eps * max(float(w.max()), 1e-300))
        up[k], down[k] = (V * np.sqrt(w)) @ V.T, (V / np.sqrt(w)) @ V.T
    weighted = [np.einsum("ij,ajb->aib", up[k], c) if k in up else c for k, c in enumerate(cores)]
    tt, info = TensorTrain(weighted).round(max_rank=int(max_rank), return_info=True)
    out = copy.deepcopy(mps)
    out._set_cores([np.einsum("ij,ajb->aib", down[k], c) if k in down else c for k, c in enumerate(tt.cores)])
    return out, info


def write_results(out, name: str, obj) -> pathlib.Path:
    """Write ``obj`` as indented JSON to ``out/name`` (folder created); returns the path."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_text(json.dumps(obj, indent=2, default=float))
    return path


def pyplot(what: str = "no figure is drawn"):
    """matplotlib.pyplot with the Agg backend, or None after a notice on stderr (see ``_ui.pyplot``)."""
    from ._ui import pyplot as _pyplot

    return _pyplot(what)


def save_figure(fig, out, name: str, dpi: int = 110) -> str:
    """Save ``fig`` as ``out/name`` (folder created), close it, and return the path as a string."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    fig.savefig(path, dpi=dpi)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return str(path)


def given_options(args, names, smoke: dict | None = None) -> dict:
    """The options in ``names`` that the command line set (lists as tuples), over ``smoke``'s
    values when ``--smoke`` was given."""
    kw = dict(smoke) if (smoke and getattr(args, "smoke", False)) else {}
    for name in names:
        v = getattr(args, name)
        if v is not None:
            kw[name] = tuple(v) if isinstance(v, list) else v
    return kw
