"""Training and evaluation loops for classifiers (tqdm progress bars)."""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._ui import progress as _progress

__all__ = ["TensorLoader", "train", "fine_tune", "evaluate", "random_crop_flip", "random_shift", "distill",
           "DISTILL_LOSSES"]


class TensorLoader:
    """Mini-batches over in-memory tensors (much lighter than a DataLoader for small data).

    Parameters
    ----------
    x : torch.Tensor (N, ...) inputs;  y : torch.Tensor (N,) int64 labels
    batch_size : int
    shuffle : bool; seed : int (shuffling is reproducible and changes every epoch)
    transform : callable applied to each input batch (e.g. :func:`random_crop_flip`), optional
    """

    def __init__(self, x, y, batch_size=128, shuffle=False, seed=0, transform=None, drop_last=False):
        if len(x) != len(y):
            raise ValueError(f"x, y: expected the same length, got {len(x)} and {len(y)}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size: expected an integer >= 1, got {batch_size}")
        self.x, self.y = x, y
        self.batch_size = int(batch_size)
        self.shuffle, self.transform, self.drop_last = shuffle, transform, drop_last
        self._gen = torch.Generator().manual_seed(int(seed))

    def __len__(self):
        n = len(self.x)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.x)
        order = torch.randperm(n, generator=self._gen) if self.shuffle else None
        for t in range(len(self)):
            sl = slice(t * self.batch_size, min(n, (t + 1) * self.batch_size))
            if order is not None:
                idx = order[sl]
                xb, yb = self.x[idx], self.y[idx]
            else:
                xb, yb = self.x[sl], self.y[sl]
            if self.transform is not None:
                xb = self.transform(xb, self._gen)
            yield xb, yb


def random_shift(x, gen, pad=2):
    """Digit-style augmentation of a batch ``(B, C, H, W)``: random shifts by up to ``pad`` px.

    The border is filled with the batch's minimum (the background of normalized digit images);
    no flips, which would change what a digit is.
    """
    b, c, h, w = x.shape
    xp = F.pad(x, (pad, pad, pad, pad), value=float(x.min()))
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    out = torch.empty_like(x)
    for t in range(b):
        out[t] = xp[t, :, dy[t]:dy[t] + h, dx[t]:dx[t] + w]
    return out


def random_crop_flip(x, gen, pad=4):
    """CIFAR-style augmentation of a batch ``(B, C, H, W)``: random shifts by up to ``pad`` px and h-flips."""
    b, c, h, w = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    flip = torch.rand(b, generator=gen) < 0.5
    out = torch.empty_like(x)
    for t in range(b):
        patch = xp[t, :, dy[t]:dy[t] + h, dx[t]:dx[t] + w]
        out[t] = patch.flip(-1) if flip[t] else patch
    return out


@torch.no_grad()
def evaluate(model, loader, device="cpu"):
    """Accuracy (fraction in [0, 1]) and mean cross-entropy of ``model`` over ``loader``.

    Returns
    -------
    dict with keys ``accuracy``, ``loss``, ``n``.
    """
    was = model.training
    model.eval()
    correct, total, loss = 0, 0, 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        out = model(xb)
        loss += float(F.cross_entropy(out, yb, reduction="sum"))
        correct += int((out.argmax(1) == yb).sum())
        total += len(yb)
    model.train(was)
    return {"accuracy": correct / max(total, 1), "loss": loss / max(total, 1), "n": total}


def train(model, loader, epochs, lr=1e-3, optimizer="adam", weight_decay=0.0, test_loader=None, device="cpu",
          schedule="cosine", progress=True, desc="train", grad_clip=None):
    """Train a classifier with cross-entropy; evaluates on ``test_loader`` after every epoch.

    Parameters
    ----------
    model : torch.nn.Module mapping a batch to logits (B, C)
    loader : iterable of (x, y) batches (e.g. :class:`TensorLoader`)
    epochs : int >= 0
    lr : float; optimizer : "adam", "adamw" or "sgd" (momentum 0.9, nesterov) or a torch optimizer
    schedule : "cosine" (per step, to 0) or None
    grad_clip : float, optional max gradient norm

    Returns
    -------
    dict of per-epoch lists: ``train_loss``, ``train_acc``, ``test_acc``, ``test_loss``, ``epoch_time``.
    """
    epochs = int(epochs)
    if epochs < 0:
        raise ValueError(f"epochs: expected an integer >= 0, got {epochs}")
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if isinstance(optimizer, torch.optim.Optimizer):
        opt = optimizer
    elif optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "adamw":
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer: expected 'adam', 'adamw', 'sgd' or a torch optimizer, got {optimizer!r}")
    steps = max(1, epochs * len(loader))
    sched = None
    if schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, steps) / steps)))
    elif schedule is not None:
        raise ValueError(f"schedule: expected 'cosine' or None, got {schedule!r}")
    hist = {"train_loss": [], "train_acc": [], "test_acc": [], "test_loss": [], "epoch_time": []}
    for ep in range(epochs):
        model.train()
        t0 = time.perf_counter()
        tot, correct, loss_sum = 0, 0, 0.0
        it = loader
        if progress:
            it = _progress(loader, desc=f"{desc} {ep + 1}/{epochs}", leave=False)
        for xb, yb in it:
            xb, yb = xb.to(device), yb.to(device)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            if not torch.isfinite(loss.detach()):
                raise FloatingPointError(f"training diverged: loss is {float(loss.detach())} at epoch {ep + 1}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(params, grad_clip)
            opt.step()
            if sched is not None:
                sched.step()
            loss_sum += float(loss.detach()) * len(yb)
            correct += int((out.detach().argmax(1) == yb).sum())
            tot += len(yb)
        hist["epoch_time"].append(time.perf_counter() - t0)
        hist["train_loss"].append(loss_sum / max(tot, 1))
        hist["train_acc"].append(correct / max(tot, 1))
        if test_loader is not None:
            ev = evaluate(model, test_loader, device=device)
            hist["test_acc"].append(ev["accuracy"])
            hist["test_loss"].append(ev["loss"])
        else:
            hist["test_acc"].append(float("nan"))
            hist["test_loss"].append(float("nan"))
    return hist


def fine_tune(model, loader, epochs, lr=3e-4, **kwargs):
    """:func:`train` with a smaller default learning rate, for models initialized from trained weights."""
    return train(model, loader, epochs, lr=lr, **kwargs)


DISTILL_LOSSES = ("ce", "kl", "mse")


def _teacher_outputs(teacher, x, batch_size=4096):
    """Logits of ``teacher`` on the rows of ``x`` (eval mode, no gradient; its flag restored)."""
    was = teacher.training
    teacher.eval()
    tdt = next(iter(teacher.parameters()), torch.empty(0)).dtype
    try:
        with torch.no_grad():
            out = torch.cat([teacher(x[i:i + batch_size].to(tdt)) for i in range(0, len(x), batch_size)])
    finally:
        teacher.train(was)
    return out


def distill(student, teacher, X, *, loss="ce", epochs=2, lr=3e-4, batch_size=32, grad_clip=1.0, temperature=1.0,
            schedule="cosine", seed=0, progress=True, desc="distill"):
    """Fit ``student`` to ``teacher`` on unlabeled inputs: knowledge distillation, with Adam.

    Made for a tensorized network (:func:`tnfast.nn.tensorize` returns an
    :class:`~tnfast.nn.MPSModel` fitted to ``sqrt(softmax(teacher))`` on a few pivots) that
    should agree with its network on many more inputs, but works for any pair of classifiers.

    Parameters
    ----------
    student, teacher : torch.nn.Module mapping a batch (B, ...) to outputs (B, C)
    X : array_like or torch.Tensor (N, ...) inputs (no labels needed)
    loss : ``"ce"`` (default) cross-entropy of the student's outputs (as logits) against the
        teacher's argmax classes (hard labels); ``"kl"`` the divergence
        ``T^2 KL(softmax(teacher / T) || softmax(student / T))`` (soft labels, ``temperature``
        T); ``"mse"`` mean squared error between the student's outputs and
        ``sqrt(softmax(teacher))``, the function TT-RSS fits.  On MNIST the hard labels work
        best for a tensorized MLP: the squared error is dominated by the few inputs where the
        MPS takes large values.
    epochs : int >= 0; lr : float > 0 (Adam); batch_size : int >= 1
    grad_clip : float > 0 or None, maximum gradient norm of a step
    schedule : ``"cosine"`` (per step, to 0) or None
    seed : shuffling seed; progress : tqdm bars

    Returns
    -------
    list of float: the mean loss of each epoch.

    Raises
    ------
    FloatingPointError when a loss turns NaN or infinite (the student is left as it was then).
    """
    if loss not in DISTILL_LOSSES:
        raise ValueError(f"loss: expected one of {DISTILL_LOSSES}, got {loss!r}")
    epochs, batch_size = int(epochs), int(batch_size)
    if epochs < 0:
        raise ValueError(f"epochs: expected an integer >= 0, got {epochs}")
    if batch_size < 1:
        raise ValueError(f"batch_size: expected an integer >= 1, got {batch_size}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr: expected a positive learning rate, got {lr}")
    if grad_clip is not None and not (np.isfinite(grad_clip) and grad_clip > 0):
        raise ValueError(f"grad_clip: expected a positive maximum norm or None, got {grad_clip}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature: expected a positive number, got {temperature}")
    if schedule not in ("cosine", None):
        raise ValueError(f"schedule: expected 'cosine' or None, got {schedule!r}")
    params = [p for p in student.parameters() if p.requires_grad]
    if not params:
        raise ValueError("student: expected a module with trainable parameters")
    x = X.detach().cpu() if isinstance(X, torch.Tensor) else torch.as_tensor(np.asarray(X))
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"X: expected a non-empty batch of inputs (N, ...), got shape {tuple(x.shape)}")
    if not torch.is_floating_point(x):
        x = x.to(torch.get_default_dtype())
    if not bool(torch.isfinite(x).all()):
        raise ValueError("X: holds NaN or infinite values")
    sdt = params[0].dtype
    logits = _teacher_outputs(teacher, x)
    if logits.ndim != 2:
        raise ValueError(f"teacher: expected outputs (B, C), got shape {tuple(logits.shape)}")
    if loss == "ce":
        target = logits.argmax(1)
    elif loss == "kl":
        target = torch.softmax(logits.double() / temperature, -1).to(sdt)
    else:
        target = torch.softmax(logits.double(), -1).sqrt().to(sdt)
    xs = x.to(sdt)
    opt = torch.optim.Adam(params, lr=lr)
    steps = max(1, epochs * math.ceil(len(xs) / batch_size))
    sched = None
    if schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, steps) / steps)))
    gen = torch.Generator().manual_seed(int(seed))
    was = student.training
    student.train()
    hist = []
    try:
        for ep in range(epochs):
            order = torch.randperm(len(xs), generator=gen)
            batches = range(0, len(xs), batch_size)
            if progress:
                batches = _progress(batches, desc=f"{desc} {ep + 1}/{epochs}", leave=False)
            tot = 0.0
            for i in batches:
                idx = order[i:i + batch_size]
                out = student(xs[idx])
                if loss == "ce":
                    val = F.cross_entropy(out, target[idx])
                elif loss == "kl":
                    val = F.kl_div(F.log_softmax(out / temperature, -1), target[idx],
                                   reduction="batchmean") * temperature ** 2
                else:
                    val = F.mse_loss(out, target[idx])
                if not torch.isfinite(val.detach()):
                    raise FloatingPointError(f"distill: the {loss} loss is {float(val.detach())} at epoch {ep + 1}")
                opt.zero_grad(set_to_none=True)
                val.backward()
                if grad_clip is not None:
                    nn.utils.clip_grad_norm_(params, grad_clip)
                opt.step()
                if sched is not None:
                    sched.step()
                tot += float(val.detach()) * len(idx)
            hist.append(tot / len(xs))
    finally:
        student.train(was)
    return hist


def to_tensors(images, labels, mean=None, std=None, channels_last_input=False):
    """uint8 images -> normalized float32 tensor; labels -> int64 tensor (helper for the experiments)."""
    x = torch.from_numpy(np.asarray(images, dtype=np.float32) / 255.0)
    if channels_last_input:
        x = x.permute(0, 3, 1, 2).contiguous()
    if mean is not None:
        m = torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, *([1] * (x.ndim - 2)))
        s = torch.as_tensor(std, dtype=torch.float32).reshape(1, -1, *([1] * (x.ndim - 2)))
        x = (x - m) / s
    return x, torch.from_numpy(np.asarray(labels, dtype=np.int64))
