"""Local feature maps (embeddings) ``phi: R -> R^d`` for tensorizing functions of real inputs.

Every embedding is an object with ``.name``, ``.dim`` and ``__call__(x) -> (..., dim)``.
``get_embedding(name, dim)`` builds one by name: ``"poly"``, ``"unit"``, ``"fourier"``,
``"legendre"``, ``"basis"``, ``"quantics"``.
"""

from __future__ import annotations

from math import comb

import numpy as np

from ._validate import as_float, as_int

__all__ = [
    "Embedding", "Poly", "Unit", "Fourier", "Legendre", "Basis", "Quantics", "FunctionEmbedding",
    "get_embedding", "EMBEDDINGS",
]


def _values(x) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise TypeError(f"x: expected a real numeric array, got dtype {a.dtype}")
    return a.astype(np.float64, copy=False)


class Embedding:
    """Base class: a feature map of one real variable into ``R^dim``.

    Subclasses implement ``_features(x)`` for a float64 array ``x`` of any shape and return an
    array of shape ``x.shape + (dim,)``.
    """

    name = "embedding"

    def __init__(self, dim: int):
        self.dim = as_int(dim, "dim", minimum=1)

    def __call__(self, x) -> np.ndarray:
        """Features of ``x``: array of shape ``np.shape(x) + (dim,)``, float64."""
        return self._features(_values(x))

    def _features(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    #: Interval on which the feature map is meant to be used (``(lo, hi)``); where a site's
    #: samples are too few to give a domain, points spread over it stand in.
    interval = (0.0, 1.0)

    def default_domain(self, size: int) -> np.ndarray:
        """``size`` distinct points spread evenly over :attr:`interval` (end points included)."""
        size = as_int(size, "size", minimum=1)
        lo, hi = self.interval
        return np.linspace(lo, hi, size) if size > 1 else np.array([lo], dtype=np.float64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


class Poly(Embedding):
    """Monomials ``(1, x, x^2, ..., x^{dim-1})``."""

    name = "poly"

    def _features(self, x):
        return x[..., None] ** np.arange(self.dim)


class Unit(Embedding):
    """Stoudenmire–Schwab map for ``x`` in [0, 1]:
    ``phi_s(x) = sqrt(C(dim-1, s-1)) cos(pi x / 2)^(dim-s) sin(pi x / 2)^(s-1)``, ``s = 1..dim``.

    Every feature vector has unit Euclidean norm (``sum_s phi_s^2 = 1``).
    """

    name = "unit"

    def _features(self, x):
        d = self.dim
        c, s = np.cos(0.5 * np.pi * x)[..., None], np.sin(0.5 * np.pi * x)[..., None]
        k = np.arange(d)  # k = s - 1
        coef = np.sqrt(np.array([comb(d - 1, int(j)) for j in k], dtype=np.float64))
        return coef * c ** (d - 1 - k) * s ** k


class Fourier(Embedding):
    """Trigonometric features of period ``period``:
    ``(1, cos(w x), sin(w x), cos(2 w x), sin(2 w x), ...)`` truncated to ``dim``, ``w = 2 pi / period``.
    """

    name = "fourier"

    def __init__(self, dim: int, period: float = 1.0):
        super().__init__(dim)
        self.period = as_float(period, "period", minimum=0.0, strict=True)
        self.interval = (0.0, self.period)

    def default_domain(self, size: int) -> np.ndarray:
        """``size`` points evenly spaced over one period (the right end excluded: it equals 0)."""
        size = as_int(size, "size", minimum=1)
        return np.arange(size) * (self.period / size)

    def _features(self, x):
        w = 2 * np.pi / self.period
        out = np.empty(x.shape + (self.dim,))
        out[..., 0] = 1.0
        for j in range(1, self.dim):
            h = (j + 1) // 2
            out[..., j] = np.cos(h * w * x) if j % 2 == 1 else np.sin(h * w * x)
        return out

    def __repr__(self) -> str:
        return f"Fourier(dim={self.dim}, period={self.period})"


class Legendre(Embedding):
    """Legendre polynomials ``(P_0(x), ..., P_{dim-1}(x))`` (natural on [-1, 1])."""

    name = "legendre"
    interval = (-1.0, 1.0)

    def _features(self, x):
        out = np.empty(x.shape + (self.dim,))
        out[..., 0] = 1.0
        if self.dim > 1:
            out[..., 1] = x
        for j in range(2, self.dim):  # j P_j = (2j - 1) x P_{j-1} - (j - 1) P_{j-2}
            out[..., j] = ((2 * j - 1) * x * out[..., j - 1] - (j - 1) * out[..., j - 2]) / j
        return out


class Basis(Embedding):
    """One-hot vectors for discrete inputs in ``{0, ..., dim-1}``: ``phi_s(x) = [x == s]``.

    Raises ValueError for inputs that are not integers in range.
    """

    name = "basis"

    @property
    def interval(self):
        return (0.0, float(self.dim - 1))

    def default_domain(self, size: int) -> np.ndarray:
        """The integers ``0 .. min(size, dim) - 1`` (a one-hot input takes no other values)."""
        size = as_int(size, "size", minimum=1)
        return np.arange(min(size, self.dim), dtype=np.float64)

    def _features(self, x):
        idx = np.rint(x)
        if x.size and (np.any(idx != x) or idx.min() < 0 or idx.max() > self.dim - 1):
            bad = x[(idx != x) | (idx < 0) | (idx > self.dim - 1)].ravel()[0]
            raise ValueError(f"x: the basis embedding needs integers in [0, {self.dim - 1}], got {bad}")
        return np.eye(self.dim)[idx.astype(np.int64)]


class Quantics(Basis):
    """Quantics (digit) representation: a real ``x`` in ``[lo, hi)`` becomes ``bits`` digits in
    base ``dim`` (most significant first), each embedded one-hot like :class:`Basis`.

    ``encode(x)`` maps an ``(N, n)`` array to ``(N, n * bits)`` digits and ``decode`` inverts it
    (to the left end of the cell ``lo + (hi - lo) * k / dim**bits``).  As a feature map, the
    object acts on digits (``__call__`` = one-hot of ``dim`` values).
    """

    name = "quantics"

    def __init__(self, dim: int = 2, bits: int = 10, lo: float = 0.0, hi: float = 1.0):
        super().__init__(dim)
        if self.dim < 2:
            raise ValueError(f"dim: quantics needs a base >= 2, got {self.dim}")
        self.bits = as_int(bits, "bits", minimum=1)
        self.lo = as_float(lo, "lo")
        self.hi = as_float(hi, "hi")
        if not self.hi > self.lo:
            raise ValueError(f"hi: must be larger than lo ({self.lo}), got {self.hi}")

    def encode(self, x) -> np.ndarray:
        """Digits of ``x`` (shape (N, n)) as a float array of shape (N, n * bits)."""
        x = _values(x)
        if x.ndim != 2:
            raise ValueError(f"x: expected a 2-d array (N, n), got shape {x.shape}")
        levels = self.dim ** self.bits
        k = np.floor((x - self.lo) / (self.hi - self.lo) * levels)
        k = np.clip(k, 0, levels - 1).astype(np.int64)
        powers = self.dim ** np.arange(self.bits - 1, -1, -1, dtype=np.int64)
        digits = (k[..., None] // powers) % self.dim
        return digits.reshape(x.shape[0], -1).astype(np.float64)

    def decode(self, digits) -> np.ndarray:
        """Inverse of :meth:`encode`: (N, n * bits) digits -> (N, n) cell left ends."""
        q = _values(digits)
        if q.ndim != 2 or q.shape[1] % self.bits:
            raise ValueError(f"digits: expected shape (N, n * {self.bits}), got {q.shape}")
        q = q.reshape(q.shape[0], -1, self.bits).astype(np.int64)
        powers = self.dim ** np.arange(self.bits - 1, -1, -1, dtype=np.int64)
        k = (q * powers).sum(-1)
        return self.lo + (self.hi - self.lo) * k / float(self.dim ** self.bits)

    def __repr__(self) -> str:
        return f"Quantics(dim={self.dim}, bits={self.bits}, lo={self.lo}, hi={self.hi})"


class FunctionEmbedding(Embedding):
    """Wraps a user callable ``fn(x) -> (..., dim)`` (numpy in, numpy out)."""

    def __init__(self, fn, dim: int, name: str = "custom"):
        super().__init__(dim)
        if not callable(fn):
            raise TypeError("fn: expected a callable")
        self.fn = fn
        self.name = name

    def _features(self, x):
        out = self.fn(x)
        if hasattr(out, "detach") and hasattr(out, "cpu"):
            out = out.detach().cpu().numpy()
        out = np.asarray(out, dtype=np.float64)
        if out.shape != x.shape + (self.dim,):
            raise ValueError(f"embedding: {self.name} returned shape {out.shape}, expected {x.shape + (self.dim,)}")
        return out


EMBEDDINGS = {"poly": Poly, "unit": Unit, "fourier": Fourier, "legendre": Legendre, "basis": Basis,
              "quantics": Quantics}


def get_embedding(name, dim: int = 2, **kwargs) -> Embedding:
    """Build an embedding by name (``poly``, ``unit``, ``fourier``, ``legendre``, ``basis``,
    ``quantics``) with ``dim`` features; an :class:`Embedding` instance is returned as is.

    Extra keyword arguments go to the class (``period`` for fourier; ``bits, lo, hi`` for quantics).
    """
    if isinstance(name, Embedding):
        return name
    if not isinstance(name, str):
        raise TypeError(f"embedding: expected a name or an Embedding, got {type(name).__name__}")
    key = name.lower()
    if key not in EMBEDDINGS:
        raise ValueError(f"embedding: unknown name {name!r}; expected one of {sorted(EMBEDDINGS)}")
    return EMBEDDINGS[key](dim, **kwargs)
