"""A matrix product state as a trainable PyTorch classifier / regressor: :class:`MPSModel`.

The model maps raw inputs ``x`` (``n`` real features) to ``C`` outputs through a local
embedding ``phi`` (see :mod:`tnfast.embeddings`) and a tensor train of ``n`` input sites
plus, for ``C`` outputs, one output site of dimension ``C`` at ``out_position``:

    out[b, y] = G_1[phi(x_b1)] ... G_c[:, y, :] ... G_{n+1}[phi(x_bn)],
    G_k[phi] = sum_p phi_p G_k[:, p, :].

It is what :func:`tnfast.nn.tensorize` returns (the TT-RSS image of a network), and it can be
built directly for training from scratch.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .._validate import as_float, as_int
from ..embeddings import Embedding, Fourier, FunctionEmbedding, Quantics, get_embedding
from ..rss import tt_evaluate
from ..tensortrain import TensorTrain, TruncationInfo
from ._embed import embed
from ._mps_contract import mps_contract

__all__ = ["MPSModel"]

_FORMAT = "tnfast.MPSModel"
_VERSION = 1
_INITS = ("random", "identity", "canonical")


def _resolve_embedding(embedding, dim) -> Embedding:
    if isinstance(embedding, Embedding):
        if dim is not None and as_int(dim, "dim", minimum=1) != embedding.dim:
            raise ValueError(f"dim: {dim} differs from the embedding's dimension {embedding.dim}")
        return embedding
    if not isinstance(embedding, str):
        raise TypeError(f"embedding: expected a name or an Embedding, got {type(embedding).__name__}")
    return get_embedding(embedding, 2 if dim is None else as_int(dim, "dim", minimum=1))


def _embedding_spec(emb: Embedding) -> dict:
    """JSON-able description of a built-in embedding (for save/load)."""
    if isinstance(emb, FunctionEmbedding) or emb.name not in ("poly", "unit", "fourier", "legendre", "basis",
                                                              "quantics"):
        raise TypeError(f"embedding: a user-defined embedding ({emb!r}) cannot be saved; save the cores with "
                        "to_tensor_train().save(path) and rebuild the model with from_tensor_train")
    spec = {"name": emb.name, "dim": emb.dim}
    if isinstance(emb, Fourier):
        spec["period"] = emb.period
    if isinstance(emb, Quantics):
        spec.update(bits=emb.bits, lo=emb.lo, hi=emb.hi)
    return spec


def _bond_caps(dims: Sequence[int], bond_dim: int) -> list:
    """r_0..r_m with r_k = min(bond_dim, prod dims[:k], prod dims[k:])."""
    m = len(dims)
    out = [1]
    for k in range(1, m):
        left = right = 1
        for d in dims[:k]:
            left = min(left * d, bond_dim)
        for d in dims[k:]:
            right = min(right * d, bond_dim)
        out.append(min(bond_dim, left, right))
    return out + [1]


class MPSModel(nn.Module):
    r"""Matrix product state classifier (or regressor) on embedded real inputs.

    Parameters
    ----------
    n_features : int
        Number of input variables ``n`` (e.g. pixels).
    n_classes : int or None
        Number of outputs ``C``: an output site of dimension ``C`` sits at ``out_position``.
        ``None``: a scalar model of ``n`` sites and no output site (output shape (B, 1)).
    embedding : str or Embedding
        Local feature map (``"poly"``, ``"unit"``, ``"legendre"``, ``"fourier"``, ``"basis"``, or
        an :class:`~tnfast.embeddings.Embedding`); a name takes ``dim`` features (default 2).
    dim : int, optional
    bond_dim : int
        Largest bond dimension; each bond is also capped by the dimension of the smaller side.
    out_position : int, optional
        Position of the output site, 0..n (default ``(n + 1) // 2``, as in :func:`tnfast.tt_rss`).
    init : {"random", "identity", "canonical"}
        ``"identity"``: every input core is ``w_p I`` with ``sum_p w_p phi_p(x) = 1`` on the
        embedding's interval (least squares), the output core ``I`` for every class, plus
        Gaussian noise of standard deviation ``std`` (default 1e-2): the model starts near the
        constant 1 for any length.  ``"random"``: i.i.d. Gaussian cores, then all scaled by one
        factor so that the root-mean-square output is 1 on 64 random inputs from the interval.  ``"canonical"``:
        ``"random"`` cores brought to mixed-canonical form about the output site (the others
        orthonormal), the output core scaled so that the RMS output is 1 as for ``"random"``.
    std : float, optional
        Noise of ``"identity"`` (default 1e-2); ignored otherwise.
    input_shape : tuple, optional
        Shape of one input (e.g. ``(1, 12, 12)``); inputs ``(B, *input_shape)`` are flattened.
        Default ``(n_features,)``.
    domains : list of arrays, optional
        Values each input was fitted on (recorded by :func:`tensorize`; kept and saved).
    dtype, device
        Of the cores (default: torch's default dtype, CPU).
    engine : {"auto", "native", "torch"}
        Who contracts the train: ``"native"``, the compiled kernel with its own backward pass
        (CPU float32/float64); ``"torch"``, torch matrix products (any device, double
        backward); ``"auto"`` (default), the compiled kernel wherever it applies.
    seed : int, optional
        Seed of the initialization (numpy generator).

    Input ``(B, n)`` or ``(B, *input_shape)`` (tensor or array), output ``(B, C)``.
    """

    def __init__(self, n_features: int, n_classes: int | None = 10, *, embedding="poly", dim: int | None = None,
                 bond_dim: int = 10, out_position: int | None = None, init: str = "random",
                 std: float | None = None, input_shape=None, domains=None, dtype=None, device=None,
                 engine: str = "auto", seed=None):
        super().__init__()
        n = as_int(n_features, "n_features", minimum=1)
        C = None if n_classes is None else as_int(n_classes, "n_classes", minimum=1)
        self.embedding = _resolve_embedding(embedding, dim)
        bond_dim = as_int(bond_dim, "bond_dim", minimum=1)
        if C is None:
            if out_position is not None:
                raise ValueError("out_position: a model without classes (n_classes=None) has no output site")
        else:
            out_position = (n + 1) // 2 if out_position is None else as_int(out_position, "out_position")
            if not 0 <= out_position <= n:
                raise ValueError(f"out_position: expected an integer in [0, {n}], got {out_position}")
        if init not in _INITS:
            raise ValueError(f"init: expected one of {_INITS}, got {init!r}")
        self._setup(n, C, out_position, input_shape, domains, engine)
        dims = self._site_dims()
        cores = self._init_cores(dims, _bond_caps(dims, bond_dim), init, std, np.random.default_rng(seed))
        dtype = torch.get_default_dtype() if dtype is None else dtype
        self.cores = nn.ParameterList([nn.Parameter(torch.as_tensor(c, dtype=dtype, device=device)) for c in cores])
        self.info = None

    # -- construction ---------------------------------------------------------------------------
    def _setup(self, n, C, out_position, input_shape, domains, engine):
        if engine not in ("auto", "native", "torch"):
            raise ValueError(f"engine: expected 'auto', 'native' or 'torch', got {engine!r}")
        self.engine = engine
        self.n_features, self.n_classes, self.out_position = n, C, out_position
        if input_shape is None:
            input_shape = (n,)
        input_shape = tuple(as_int(s, "input_shape", minimum=1) for s in input_shape)
        if int(np.prod(input_shape)) != n:
            raise ValueError(f"input_shape: {input_shape} holds {int(np.prod(input_shape))} values, "
                             f"not n_features={n}")
        self.input_shape = input_shape
        if domains is not None:
            if len(domains) != n:
                raise ValueError(f"domains: expected one array per input ({n}), got {len(domains)}")
            domains = [np.asarray(d, dtype=np.float64).ravel() for d in domains]
        self.domains = domains

    def _site_dims(self) -> list:
        dims = [self.embedding.dim] * self.n_features
        if self.n_classes is not None:
            dims.insert(self.out_position, self.n_classes)
        return dims

    def _init_cores(self, dims, ranks, init, std, rng) -> list:
        emb = self.embedding
        grid = emb.default_domain(max(4 * emb.dim, 16))
        phi = emb(grid)
        m2 = float(np.mean(np.sum(phi ** 2, axis=1)))
        cores = []
        if init == "identity":
            std = 1e-2 if std is None else as_float(std, "std", minimum=0.0)
            w = np.linalg.lstsq(phi, np.ones(len(grid)), rcond=None)[0]
            for k, d in enumerate(dims):
                r, rr = ranks[k], ranks[k + 1]
                eye = np.eye(r, rr)
                weights = np.ones(d) if k == self.out_position else w
                G = weights[None, :, None] * eye[:, None, :] + std * rng.standard_normal((r, d, rr))
                cores.append(G)
            return cores
        for k, d in enumerate(dims):
            r, rr = ranks[k], ranks[k + 1]
            scale = 1.0 if k == self.out_position else m2
            cores.append(rng.standard_normal((r, d, rr)) / np.sqrt(np.sqrt(r * rr) * scale))
        # Products of many random cores drift away from 1 (the typical value of a product is
        # below its mean): calibrate on inputs drawn from the interval so the RMS output is 1.
        probe = rng.choice(grid, size=(64, self.n_features))
        vals = tt_evaluate(TensorTrain(cores, copy=False), probe, emb, self.out_position)
        rms = float(np.sqrt(np.mean(vals ** 2)))
        if np.isfinite(rms) and rms > 0:
            cores = [c * rms ** (-1.0 / len(cores)) for c in cores]
        if init == "canonical":
            center = self.out_position if self.out_position is not None else len(dims) - 1
            tt = TensorTrain(cores, copy=False).canonicalize(center)
            cores = [np.array(c) for c in tt.cores]
            # Unit Frobenius norm would leave outputs of ~1e-14 on 144 inputs (a dead start):
            # the center alone carries the scale, calibrated like "random" to an RMS output of 1.
            vals = tt_evaluate(TensorTrain(cores, copy=False), probe, emb, self.out_position)
            rms = float(np.sqrt(np.mean(vals ** 2)))
            cores[center] /= rms if np.isfinite(rms) and rms > 0 else np.linalg.norm(cores[center])
        return cores

    @classmethod
    def from_tensor_train(cls, tt: TensorTrain, embedding="poly", out_position: int | None = None, *,
                          domains=None, input_shape=None, dtype=None, device=None, engine: str = "auto"):
        """A model whose cores are those of ``tt``.

        Parameters
        ----------
        tt : TensorTrain
            ``n + 1`` cores with the output site at ``out_position``, or ``n`` cores (scalar).
        embedding : str or Embedding
            The feature map the train was built on; a name takes the dimension of the first
            input site.
        out_position : int, optional
            Site of the output index (``info.out_position`` of :func:`tnfast.tt_rss`).
        domains, input_shape, dtype, device, engine
            As in the constructor; ``dtype`` defaults to the train's (float32/float64).
        """
        if not isinstance(tt, TensorTrain):
            raise TypeError(f"tt: expected a TensorTrain, got {type(tt).__name__}")
        m = tt.ndim
        if out_position is not None:
            out_position = as_int(out_position, "out_position")
            if not 0 <= out_position < m:
                raise ValueError(f"out_position: expected an integer in [0, {m - 1}], got {out_position}")
            if m < 2:
                raise ValueError("tt: a train with an output site needs at least one input site")
        in_sites = [k for k in range(m) if k != out_position]
        if isinstance(embedding, str):
            embedding = get_embedding(embedding, tt.shape[in_sites[0]])
        emb = _resolve_embedding(embedding, None)
        bad = [k for k in in_sites if tt.shape[k] != emb.dim]
        if bad:
            raise ValueError(f"tt: input site {bad[0]} has dimension {tt.shape[bad[0]]}, the embedding "
                             f"{emb!r} has {emb.dim}")
        if np.iscomplexobj(tt.cores[0]):
            raise TypeError("tt: complex trains are not supported by MPSModel")
        dtype = ({np.dtype(np.float32): torch.float32}.get(tt.dtype, torch.float64) if dtype is None else dtype)
        self = cls.__new__(cls)
        nn.Module.__init__(self)
        self.embedding = emb
        C = None if out_position is None else tt.shape[out_position]
        self._setup(len(in_sites), C, out_position, input_shape, domains, engine)
        self.cores = nn.ParameterList([nn.Parameter(torch.as_tensor(np.array(c), dtype=dtype, device=device))
                                       for c in tt.cores])
        self.info = None
        return self

    def to_tensor_train(self) -> TensorTrain:
        """The cores as a :class:`~tnfast.TensorTrain` (numpy, the parameters' float dtype)."""
        return TensorTrain([c.detach().cpu().numpy() for c in self.cores])

    # -- structure ------------------------------------------------------------------------------
    @property
    def bond_dims(self) -> tuple:
        """Inner bond dimensions (r_1, ..., r_{m-1})."""
        return tuple(int(c.shape[2]) for c in list(self.cores)[:-1])

    def num_parameters(self) -> int:
        """Number of scalars in the cores."""
        return int(sum(c.numel() for c in self.cores))

    def flops_per_input(self) -> int:
        """Floating-point operations to evaluate one input (multiply and add counted apart).

        Per input site ``(r, d, r')``: the environment times the core, ``2 r d r'``, then the
        contraction with ``phi``, ``2 d r'``; the output site ``(r, C, r')``: ``2 r C r'`` for
        the left environment and ``2 C r'`` for the right one.  The embedding itself is not
        counted (a few operations per input)."""
        total = 0
        for k, c in enumerate(self.cores):
            r, d, rr = c.shape
            total += 2 * r * d * rr + 2 * d * rr
        return int(total)

    def extra_repr(self) -> str:
        b = self.bond_dims
        bonds = str(b) if len(b) <= 8 else f"({b[0]}, {b[1]}, {b[2]}, ..., {b[-2]}, {b[-1]}; max {max(b)})"
        dtype = str(self.cores[0].dtype).replace("torch.", "")
        return (f"n_features={self.n_features}, n_classes={self.n_classes}, embedding={self.embedding!r}, "
                f"out_position={self.out_position}, bond_dims={bonds}, parameters={self.num_parameters():,}, "
                f"dtype={dtype}, engine={self.engine!r}")

    def __repr__(self) -> str:  # one line: the cores are summarized by extra_repr, not listed
        return f"{type(self).__name__}({self.extra_repr()})"

    # -- evaluation -----------------------------------------------------------------------------
    def _prepare(self, x) -> torch.Tensor:
        ref = self.cores[0]
        if not isinstance(x, torch.Tensor):
            a = np.asarray(x)
            if a.dtype == object or a.dtype.kind not in "biuf":
                raise TypeError(f"x: expected a real array or tensor, got dtype {a.dtype}")
            x = torch.as_tensor(a)
        if x.is_complex() or x.dtype == torch.bool:
            raise TypeError(f"x: expected real values, got dtype {x.dtype}")
        if x.ndim < 1:
            raise ValueError("x: expected a batch of inputs (B, n) or (B, *input_shape)")
        B = x.shape[0]
        flat = x.reshape(B, -1) if x.numel() or B else x.reshape(0, self.n_features)
        if flat.shape[1] != self.n_features:
            raise ValueError(f"x: expected {self.n_features} features per input (input_shape {self.input_shape}), "
                             f"got shape {tuple(x.shape)}")
        flat = flat.to(device=ref.device, dtype=ref.dtype)
        if flat.numel() and not bool(torch.isfinite(flat).all()):
            raise ValueError("x: holds NaN or Inf")
        return flat

    def features(self, x) -> torch.Tensor:
        """Embedded inputs, shape (B, n, d)."""
        return embed(self.embedding, self._prepare(x))

    def forward(self, x) -> torch.Tensor:
        return mps_contract(list(self.cores), self.features(x), self.out_position, self.engine)

    # -- gauge, canonical forms, compression --------------------------------------------------
    def _set_cores(self, cores) -> None:
        ref = self.cores[0]
        new = nn.ParameterList([nn.Parameter(torch.as_tensor(np.array(c), dtype=ref.dtype, device=ref.device),
                                             requires_grad=ref.requires_grad) for c in cores])
        self.cores = new

    def canonicalize(self, center: int | None = None) -> "MPSModel":
        """Mixed-canonical form about site ``center`` (default: the output site, else the last),
        in place; the function is unchanged, bonds may only shrink.  The core parameters are
        replaced: build optimizers after this call."""
        if center is None:
            center = self.out_position if self.out_position is not None else len(self.cores) - 1
        self._set_cores(self.to_tensor_train().canonicalize(center).cores)
        return self

    def compress(self, max_rank: int | None = None, cutoff: float | None = None, weights=None, *,
                 eps: float = 1e-4) -> TruncationInfo:
        """Round the train in place (SVD truncation of every bond, see :meth:`TensorTrain.round`).

        ``max_rank`` caps every bond; ``cutoff`` bounds the relative error of the whole
        coefficient tensor, ``||A - A'|| <= cutoff ||A||`` when the cap does not bind.  The core
        parameters are replaced: build optimizers after this call.

        ``weights=None`` (plain truncation): the error is the Frobenius norm of the coefficients.
        For any input, the output vector moves by at most ``||A - A'|| prod_k ||phi(x_k)||``
        (equal to ``||A - A'||`` for the unit embedding, whose features have norm 1).  That norm
        weighs every corner of the feature space alike; a tensorized network takes its largest
        values far from the data, where plain truncation spends its budget (on 12 px MNIST a
        bond 10 -> 5 truncation discarded 85 % of the norm and broke the classifier).

        ``weights=X`` (inputs ``(B, n)`` or ``(B, *input_shape)``): truncation in the norm of the
        data.  Every input site's core is multiplied, on its feature index, by ``G_j^(1/2)``
        with ``G_j = mean_b phi(X_bj) phi(X_bj)^T`` (eigenvalues floored at ``eps`` times the
        largest), the train is rounded, and ``G_j^(-1/2)`` is applied back.  The squared norm
        of the weighted train is then the mean squared output over inputs whose features are
        drawn independently site by site from the data's per-site distributions, and
        ``cutoff`` bounds the relative error in that norm.  With no truncation the function
        is unchanged.

        Returns
        -------
        TruncationInfo
            ``discarded_weight = ||A - A'||^2 / ||A||^2``, ``norm = ||A||``, the new ranks (in
            the data's norm when ``weights`` is given).
        """
        tt = self.to_tensor_train()
        if weights is None:
            tt, info = tt.round(max_rank=max_rank, rel_tol=cutoff, return_info=True)
            self._set_cores(tt.cores)
            return info
        if not (isinstance(eps, (int, float)) and np.isfinite(eps) and 0 < eps < 1):
            raise ValueError(f"eps: expected a number in (0, 1), got {eps!r}")
        up, down = self._feature_metric(weights, float(eps))
        cores = [np.asarray(c, dtype=np.float64) for c in tt.cores]
        cores = [np.einsum("ij,ajb->aib", up[k], c) if k in up else c for k, c in enumerate(cores)]
        tt, info = TensorTrain(cores, copy=False).round(max_rank=max_rank, rel_tol=cutoff, return_info=True)
        self._set_cores([np.einsum("ij,ajb->aib", down[k], c) if k in down else c for k, c in enumerate(tt.cores)])
        return info

    def _feature_metric(self, X, eps: float, batch_size: int = 4096):
        """``{site: G^(1/2)}, {site: G^(-1/2)}`` of the per-site feature second moments of ``X``."""
        try:
            x = self._prepare(X)
        except (TypeError, ValueError) as exc:
            msg = str(exc)
            raise type(exc)("weights: " + (msg[3:] if msg.startswith("x: ") else msg)) from None
        if x.shape[0] == 0:
            raise ValueError("weights: expected at least one input")
        gram = 0.0
        with torch.no_grad():
            for i in range(0, x.shape[0], batch_size):
                f = embed(self.embedding, x[i:i + batch_size]).double()
                gram = gram + torch.einsum("bnd,bne->nde", f, f).cpu().numpy()
        gram = gram / x.shape[0]
        sites = [k for k in range(len(self.cores)) if k != self.out_position]
        up, down = {}, {}
        for j, k in enumerate(sites):
            w, V = np.linalg.eigh(gram[j])
            w = np.maximum(w, eps * max(float(w.max()), 1e-300))
            up[k], down[k] = (V * np.sqrt(w)) @ V.T, (V / np.sqrt(w)) @ V.T
        return up, down

    def entropy(self) -> np.ndarray:
        """Entanglement entropy ``-sum p ln p`` (``p = s^2 / sum s^2``) at every bond of the train."""
        return self.to_tensor_train().entropy()

    # -- persistence ----------------------------------------------------------------------------
    def save(self, path) -> str:
        """Write the model to a ``.npz`` file (no pickle): cores, embedding, output site, input
        shape and domains.  ``.npz`` is appended when ``path`` has no suffix; returns the path
        written."""
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        meta = {"format": _FORMAT, "version": _VERSION, "n_features": self.n_features,
                "n_classes": self.n_classes, "out_position": self.out_position,
                "input_shape": list(self.input_shape), "embedding": _embedding_spec(self.embedding),
                "n_cores": len(self.cores), "dtype": str(self.cores[0].dtype).replace("torch.", ""),
                "has_domains": self.domains is not None, "engine": self.engine}
        arrays = {f"core_{k}": c.detach().cpu().numpy() for k, c in enumerate(self.cores)}
        if self.domains is not None:
            arrays.update({f"domain_{j}": d for j, d in enumerate(self.domains)})
        np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
        return path

    @classmethod
    def load(cls, path, device=None) -> "MPSModel":
        """Read a model written by :meth:`save` (``path`` with or without ``.npz``); shapes and
        the format are checked, and nothing is unpickled."""
        path = os.fspath(path)
        if not os.path.exists(path) and os.path.exists(path + ".npz"):
            path += ".npz"
        if not os.path.exists(path):
            raise FileNotFoundError(f"path: no such file {path!r}")
        try:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
                if "meta" not in f.files:
                    raise ValueError("no 'meta' record")
                meta = json.loads(str(f["meta"]))
                if meta.get("format") != _FORMAT:
                    raise ValueError(f"format {meta.get('format')!r} is not {_FORMAT!r}")
                if int(meta.get("version", -1)) > _VERSION:
                    raise ValueError(f"version {meta['version']} is newer than this tnfast reads ({_VERSION})")
                cores = [f[f"core_{k}"] for k in range(int(meta["n_cores"]))]
                n = int(meta["n_features"])
                domains = [f[f"domain_{j}"] for j in range(n)] if meta["has_domains"] else None
                spec = dict(meta["embedding"])
                emb = get_embedding(spec.pop("name"), spec.pop("dim"), **spec)
                tt = TensorTrain(cores, copy=False)
                out = meta["out_position"]
                if tt.ndim != n + (out is not None):
                    raise ValueError(f"{tt.ndim} cores for {n} features")
                if out is not None and tt.shape[out] != int(meta["n_classes"]):
                    raise ValueError(f"output site of dimension {tt.shape[out]}, expected {meta['n_classes']}")
                dtype = {"float32": torch.float32, "float64": torch.float64}[meta["dtype"]]
                model = cls.from_tensor_train(tt, emb, out, domains=domains, input_shape=meta["input_shape"],
                                              dtype=dtype, device=device, engine=meta.get("engine", "auto"))
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError, json.JSONDecodeError) as exc:
            raise ValueError(f"path: {path!r} is not a valid tnfast MPSModel file ({type(exc).__name__}: {exc})") \
                from None
        return model

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # A state dict of the same model after compress/canonicalize has other bond dimensions:
        # take its shapes when they form a valid train with the same sites.
        shapes = []
        for k in range(len(self.cores)):
            v = state_dict.get(f"{prefix}cores.{k}")
            if v is None or v.ndim != 3:
                shapes = None
                break
            shapes.append(tuple(v.shape))
        if shapes is not None and shapes != [tuple(c.shape) for c in self.cores]:
            dims_ok = [s[1] for s in shapes] == [c.shape[1] for c in self.cores]
            bonds_ok = shapes[0][0] == 1 and shapes[-1][2] == 1 and all(
                shapes[k][2] == shapes[k + 1][0] for k in range(len(shapes) - 1))
            if dims_ok and bonds_ok:
                self._set_cores([np.zeros(s) for s in shapes])
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
