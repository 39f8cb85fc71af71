"""Shared pieces of the tensorized-network experiments (TT-RSS of classifiers): data, the
networks of the paper, training, distillation of a tensorized model, and result files."""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import pathlib

import numpy as np

__all__ = ["load_images", "mlp", "fit_classifier", "accuracy", "distill", "write_results", "pyplot",
           "save_figure", "torch_threads", "in_threads"]


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


@contextlib.contextmanager
def torch_threads(threads):
    """Run the block with ``threads`` torch threads (a positive integer), restoring the former
    number afterwards.  The experiments default to one: their networks are small, and on a
    shared 2-core machine two contending threads were 10-100x slower than one."""
    import torch

    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads: expected a positive integer, got {threads!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def in_threads(fn):
    """Decorator: ``fn`` (which takes a ``threads`` argument) runs inside :func:`torch_threads`."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        with torch_threads(bound.arguments["threads"]):
            return fn(*args, **kwargs)

    return wrapper
