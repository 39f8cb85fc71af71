"""Tensorize a trained PyTorch classifier into a matrix product state with TT-RSS."""

from __future__ import annotations

import copy

import numpy as np
import torch

from ..rss import tt_rss
from .mps_model import MPSModel

__all__ = ["tensorize", "model_function", "argmax_disagreement"]


def _model_dtype(model: torch.nn.Module):
    for p in model.parameters():
        return p.dtype, p.device
    return torch.get_default_dtype(), torch.device("cpu")


class _ModelFunction:
    """The network as a numpy function of flat rows; a picklable object (not a closure), so that
    a process pool or a Dask cluster can ship it, the model inside, to its workers."""

    def __init__(self, model, softmax_sqrt, shape, dtype, device):
        self.model = model
        self.softmax_sqrt = softmax_sqrt
        self.shape = shape
        self.dtype = dtype
        self.device = device

    def __call__(self, x):
        t = torch.as_tensor(np.asarray(x), device=self.device).to(self.dtype)
        if self.shape is not None:
            t = t.reshape((t.shape[0],) + self.shape)
        with torch.no_grad():
            out = self.model(t)
            if out.ndim != 2:
                raise ValueError(f"model: expected logits of shape (batch, C), got {tuple(out.shape)}")
            if self.softmax_sqrt:
                out = torch.softmax(out, dim=-1).sqrt()
        return out.detach().to(torch.float64).cpu().numpy()


def model_function(model: torch.nn.Module, *, softmax_sqrt: bool = True, input_shape=None, dtype=None,
                   device=None):
    """Wrap ``model`` as a numpy function ``f(x) -> (batch, C)`` for :func:`tnfast.tt_rss`.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier returning logits of shape (batch, C).
    softmax_sqrt : bool
        Return ``sqrt(softmax(logits))`` (square roots of class probabilities) instead of the
        logits.
    input_shape : tuple, optional
        Shape of one input as the model expects it (e.g. ``(1, 12, 12)``); rows of ``x`` are
        reshaped to it.  Default: the model takes flat rows.
    dtype : torch.dtype, optional
        Compute in this dtype (float32 or float64); a copy of the model is cast when it
        differs.  Default: the dtype of the model's parameters.
    device : torch.device, optional
        Default: the device of the model's parameters.

    Returns
    -------
    callable
        Batched, ``torch.no_grad``, eval-mode; returns a float64 numpy array (batch, C).
        The caller is responsible for restoring the model's training flag (see
        :func:`tensorize`, which does).
    """
    mdt, mdev = _model_dtype(model)
    dtype = mdt if dtype is None else dtype
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype: expected torch.float32 or torch.float64, got {dtype}")
    device = mdev if device is None else torch.device(device)
    if dtype != mdt or device != mdev:
        model = copy.deepcopy(model).to(dtype=dtype, device=device)
    shape = None if input_shape is None else tuple(int(s) for s in input_shape)

    return _ModelFunction(model, softmax_sqrt, shape, dtype, device)


def tensorize(model: torch.nn.Module, samples, *, softmax_sqrt: bool = True, embedding="poly", rank=10,
              cutoff=None, domain=None, domain_multiplier: int = 1, labels=None, out_position=None,
              batch_size: int = 4096, seed=None, dtype=np.float64, model_dtype=None, input_shape=None,
              device=None, verbose: bool = False, dim=None, executor=None, chunk_size=None, retries: int = 2,
              sketch: str = "samples", oversample: int = 4, tail_tol: float = 1e-8, capture_tol: float = 0.1,
              all_outputs: bool | None = None):
    """Tensorize a classifier ``x -> sqrt(softmax(model(x)))`` into an MPS with TT-RSS.

    Parameters
    ----------
    model : torch.nn.Module
        Returns logits (batch, C).  Put in eval mode for the duration (restored after).
    samples : array_like or torch.Tensor, shape (N, ...)
        Pivots (e.g. training inputs); flattened to (N, n).
    softmax_sqrt : bool
        Tensorize square roots of probabilities (default) or the raw logits.
    embedding, rank, cutoff, domain, domain_multiplier, labels, out_position, batch_size, seed,
    dtype, verbose, dim, executor, chunk_size, retries
        As in :func:`tnfast.tt_rss` (``rank`` defaults to 10).  With an executor the model
        travels to the workers pickled with the function (once per run on a Dask cluster);
        it is evaluated there in eval mode on ``device`` (see the README on torch threads).
    dtype, verbose, dim, sketch, oversample, tail_tol, capture_tol, all_outputs
        As in :func:`tnfast.tt_rss` (``rank`` defaults to 10); ``sketch="adaptive"`` asks the
        network for far fewer evaluations.
    model_dtype : torch.dtype, optional
        Dtype in which the model is evaluated (default: its own).
    input_shape : tuple, optional
        Shape of one input as the model expects it; default ``samples.shape[1:]``.
    device : torch.device, optional

    Returns
    -------
    MPSModel
        The tensorized network: ``n + 1`` cores with the output site (dimension C) at
        ``info.out_position``, on the same embedding, the domains it was fitted on, and
        ``input_shape``; ``mps(x)`` approximates ``sqrt(softmax(model(x)))`` (or the logits),
        so ``mps(x).argmax(1)`` predicts like the network.  The TT-RSS record
        (:class:`tnfast.RSSInfo`: pivot error, evaluations, times, notes) is ``mps.info``.
        The cores are float64 unless ``dtype`` says otherwise.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError("model: expected a torch.nn.Module")
    if isinstance(samples, torch.Tensor):
        samples = samples.detach().cpu().numpy()
    samples = np.asarray(samples)
    if samples.ndim < 2:
        raise ValueError(f"samples: expected shape (N, ...) with at least 2 dimensions, got {samples.shape}")
    if input_shape is None:
        input_shape = samples.shape[1:]
    flat = samples.reshape(samples.shape[0], -1).astype(np.float64)
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    was_training = model.training
    model.eval()
    try:
        f = model_function(model, softmax_sqrt=softmax_sqrt, input_shape=input_shape, dtype=model_dtype,
                           device=device)
        tt, info = tt_rss(f, flat, embedding=embedding, domain=domain, domain_multiplier=domain_multiplier,
                          rank=rank, cutoff=cutoff, labels=labels, out_position=out_position,
                          batch_size=batch_size, seed=seed, dtype=dtype, verbose=verbose, dim=dim,
                          executor=executor, chunk_size=chunk_size, retries=retries,
                          sketch=sketch, oversample=oversample, tail_tol=tail_tol, capture_tol=capture_tol,
                          all_outputs=all_outputs)
    finally:
        model.train(was_training)
    mps = MPSModel.from_tensor_train(tt, info.embedding, info.out_position, domains=info.domains,
                                     input_shape=input_shape, device=device)
    mps.info = info
    return mps


def argmax_disagreement(mps: MPSModel, model: torch.nn.Module, x, *, batch_size: int = 4096,
                        model_dtype=None) -> float:
    """Percentage of inputs where the tensorized model's argmax class differs from the network's.

    Parameters
    ----------
    mps : MPSModel
        E.g. the result of :func:`tensorize`.
    model : torch.nn.Module
        The network (logits (B, C)); inputs are reshaped to ``mps.input_shape`` for it.
    x : array_like or torch.Tensor, shape (B, ...)
        Test inputs.

    Returns
    -------
    float
        100 * (number of disagreements) / B.
    """
    if not isinstance(mps, MPSModel):
        raise TypeError(f"mps: expected an MPSModel, got {type(mps).__name__}")
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    was_training = model.training
    model.eval()
    try:
        f = model_function(model, softmax_sqrt=False, input_shape=mps.input_shape, dtype=model_dtype)
        nn_cls = np.concatenate([f(flat[i:i + batch_size]).argmax(1) for i in range(0, len(flat), batch_size)])
    finally:
        model.train(was_training)
    with torch.no_grad():
        mps_cls = np.concatenate([mps(flat[i:i + batch_size]).argmax(1).cpu().numpy()
                                  for i in range(0, len(flat), batch_size)])
    return float(100.0 * np.mean(nn_cls != mps_cls))
