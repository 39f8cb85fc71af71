"""Grids that turn functions of real variables into functions of multi-indices, for ``tt_cross``.

* ``uniform_grid``, ``chebyshev_grid``, ``gauss_legendre_grid``: 1-d grids (points, and
  quadrature weights).
* ``GridFunction`` / ``grid_function``: ``f(x)`` with ``x`` of shape (batch, n) evaluated on a
  tensor-product grid, seen as a function of the (batch, n) grid indices.
* ``quantics``: a function of ``n_vars`` real variables on ``2**bits`` points per variable,
  seen as a function of binary digits (``layout="interleaved"`` or ``"serial"``) or of
  ``2**n_vars``-ary digits (``layout="fused"``); ``quantics_to_points`` and
  ``points_to_quantics`` convert between digits and points.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float, as_int, require_memory

__all__ = ["uniform_grid", "chebyshev_grid", "gauss_legendre_grid", "GridFunction", "grid_function", "QuanticsFunction",
           "quantics", "quantics_to_points", "points_to_quantics", "quantics_shape"]

_LAYOUTS = ("interleaved", "fused", "serial")
MAX_SITES = 1 << 16  # digits of one quantics tensor
MAX_GAUSS_POINTS = 1000  # numpy's Gauss-Legendre rule costs O(n^3) (seconds at 1000 points)


def uniform_grid(a: float, b: float, n: int, endpoint: bool = True) -> np.ndarray:
    """``n`` equally spaced points on ``[a, b]`` (or ``[a, b)`` when ``endpoint=False``).

    Returns
    -------
    points : ndarray, shape (n,)
    """
    a = as_float(a, "a")
    b = as_float(b, "b")
    n = as_int(n, "n", minimum=1)
    if not b > a:
        raise ValueError(f"b: expected b > a, got a={a}, b={b}")
    require_memory(8.0 * n, f"uniform_grid: {n} points")
    return np.linspace(a, b, n, endpoint=bool(endpoint))


def chebyshev_grid(a: float, b: float, n: int) -> np.ndarray:
    """The ``n`` Chebyshev points of the first kind on ``[a, b]``, in increasing order.

    ``x_j = (a + b) / 2 - (b - a) / 2 * cos(pi * (j + 1/2) / n)``, ``j = 0 .. n - 1``: the
    nodes of degree ``n - 1`` polynomial interpolation with the smallest Lebesgue constant.

    Returns
    -------
    points : ndarray, shape (n,)
    """
    a = as_float(a, "a")
    b = as_float(b, "b")
    n = as_int(n, "n", minimum=1)
    if not b > a:
        raise ValueError(f"b: expected b > a, got a={a}, b={b}")
    t = -np.cos(np.pi * (np.arange(n) + 0.5) / n)
    return 0.5 * (a + b) + 0.5 * (b - a) * t


def gauss_legendre_grid(a: float, b: float, n: int):
    """Gauss-Legendre nodes and weights on ``[a, b]``.

    ``sum(w * g(x))`` integrates polynomials ``g`` of degree ``<= 2n - 1`` exactly.

    Returns
    -------
    points : ndarray, shape (n,)
    weights : ndarray, shape (n,)
    """
    a = as_float(a, "a")
    b = as_float(b, "b")
    n = as_int(n, "n", minimum=1, maximum=MAX_GAUSS_POINTS)
    if not b > a:
        raise ValueError(f"b: expected b > a, got a={a}, b={b}")
    t, w = np.polynomial.legendre.leggauss(n)
    half = 0.5 * (b - a)
    return a + half * (t + 1.0), half * w


class GridFunction:
    """``f`` on a tensor-product grid, as a function of grid indices.

    Parameters
    ----------
    f : callable
        ``f(x)`` with ``x`` of shape (batch, n) (float64) returns ``batch`` values.
    grids : sequence of 1-d arrays, length n
        The points of each variable.

    Calling the object with an int array ``idx`` of shape (batch, n) returns
    ``f(points(idx))``.  ``shape`` is the tuple of grid sizes (pass it to ``tt_cross``).
    """

    def __init__(self, f, grids):
        if not callable(f):
            raise TypeError(f"f: expected a callable, got {type(f).__name__}")
        if isinstance(grids, np.ndarray) and grids.ndim == 1:
            raise TypeError("grids: expected a sequence of 1-d arrays (one per variable)")
        self.grids = []
        for k, g in enumerate(grids):
            try:
                arr = np.asarray(g, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"grids[{k}]: expected a 1-d array of real numbers") from None
            if arr.ndim != 1 or arr.size < 1:
                raise ValueError(f"grids[{k}]: expected a non-empty 1-d array, got shape {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"grids[{k}]: holds NaN or Inf")
            self.grids.append(arr)
        if not self.grids:
            raise ValueError("grids: expected at least one grid")
        self.f = f

    @property
    def shape(self) -> tuple:
        return tuple(len(g) for g in self.grids)

    def points(self, idx) -> np.ndarray:
        """Points of shape (batch, n) for grid indices of shape (batch, n)."""
        idx = np.asarray(idx)
        if idx.ndim != 2 or idx.shape[1] != len(self.grids):
            raise ValueError(f"idx: expected shape (batch, {len(self.grids)}), got {idx.shape}")
        if idx.dtype == np.bool_ or idx.dtype.kind not in "iu":
            raise TypeError(f"idx: expected integer grid indices, got dtype {idx.dtype}")
        for k, g in enumerate(self.grids):
            col = idx[:, k]
            if col.size and (col.min() < 0 or col.max() >= len(g)):
                bad = col[(col < 0) | (col >= len(g))][0]
                raise ValueError(f"idx: index {bad} in column {k} is out of range for a grid of {len(g)} points")
        return np.stack([g[idx[:, k]] for k, g in enumerate(self.grids)], axis=1)

    def __call__(self, idx):
        return self.f(self.points(idx))


def grid_function(f, grids) -> GridFunction:
    """Shorthand for ``GridFunction(f, grids)``."""
    return GridFunction(f, grids)


def _check_quantics(n_vars, bits, a, b, layout):
    n_vars = as_int(n_vars, "n_vars", minimum=1)
    bits = as_int(bits, "bits", minimum=1)
    if layout not in _LAYOUTS:
        raise ValueError(f"layout: expected one of {_LAYOUTS}, got {layout!r}")
    if layout == "fused" and n_vars > 20:
        raise ValueError("n_vars: the fused layout supports at most 20 variables")
    if bits > 62:
        raise ValueError(f"bits: expected at most 62, got {bits}")
    if n_vars * bits > MAX_SITES:
        raise ValueError(f"n_vars, bits: {n_vars} variables of {bits} bits would need {n_vars * bits} sites; "
                         f"expected at most {MAX_SITES}")
    try:
        a = np.broadcast_to(np.asarray(a, dtype=np.float64), (n_vars,)).copy()
        b = np.broadcast_to(np.asarray(b, dtype=np.float64), (n_vars,)).copy()
    except (TypeError, ValueError):
        raise ValueError(f"a, b: expected real numbers or arrays of shape ({n_vars},)") from None
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.all(b > a)):
        raise ValueError(f"a, b: expected finite bounds with b > a, got a={a}, b={b}")
    return n_vars, bits, a, b


def quantics_shape(n_vars: int, bits: int, layout: str = "interleaved") -> tuple:
    """Shape of the quantics tensor: ``(2,) * (n_vars * bits)`` or ``(2**n_vars,) * bits``."""
    n_vars, bits, _, _ = _check_quantics(n_vars, bits, 0.0, 1.0, layout)
    if layout == "fused":
        return (2 ** n_vars,) * bits
    return (2,) * (n_vars * bits)


def _digits_to_integers(idx, n_vars, bits, layout) -> np.ndarray:
    """(batch, sites) digits -> (batch, n_vars) integers in [0, 2**bits)."""
    idx = np.asarray(idx, dtype=np.int64)
    batch = idx.shape[0]
    if layout == "fused":
        # site l holds bit l (most significant first) of every variable; variable 0 is the
        # most significant bit of the digit.
        shifts = np.arange(n_vars - 1, -1, -1, dtype=np.int64)
        bitsarr = (idx[:, :, None] >> shifts[None, None, :]) & 1           # (batch, bits, n_vars)
    elif layout == "interleaved":
        bitsarr = idx.reshape(batch, bits, n_vars)                         # site l * n_vars + v
    else:  # serial
        bitsarr = idx.reshape(batch, n_vars, bits).transpose(0, 2, 1)      # site v * bits + l
    weights = (np.int64(1) << np.arange(bits - 1, -1, -1, dtype=np.int64))
    return np.einsum("blv,l->bv", bitsarr, weights)


def _integers_to_digits(m, n_vars, bits, layout) -> np.ndarray:
    m = np.asarray(m, dtype=np.int64)
    batch = m.shape[0]
    shifts = np.arange(bits - 1, -1, -1, dtype=np.int64)
    bitsarr = (m[:, None, :] >> shifts[None, :, None]) & 1                   # (batch, bits, n_vars)
    if layout == "fused":
        w = (np.int64(1) << np.arange(n_vars - 1, -1, -1, dtype=np.int64))
        return np.einsum("blv,v->bl", bitsarr, w)
    if layout == "interleaved":
        return bitsarr.reshape(batch, bits * n_vars)
    return np.ascontiguousarray(bitsarr.transpose(0, 2, 1)).reshape(batch, n_vars * bits)


def quantics_to_points(idx, n_vars: int, bits: int, a=0.0, b=1.0, layout: str = "interleaved") -> np.ndarray:
    """Points of shape (batch, n_vars) for quantics digits of shape (batch, sites).

    Variable ``v`` takes the values ``a_v + (b_v - a_v) * m / 2**bits``, ``m = 0 .. 2**bits - 1``
    (the uniform grid on ``[a_v, b_v)``); ``m``'s binary digits, most significant first, are
    spread over the sites according to ``layout``:

    * ``"interleaved"``: site ``l * n_vars + v`` holds bit ``l`` of variable ``v``;
    * ``"serial"``: site ``v * bits + l`` holds bit ``l`` of variable ``v``;
    * ``"fused"``: site ``l`` holds ``sum_v bit_l(v) * 2**(n_vars - 1 - v)``.
    """
    n_vars, bits, a, b = _check_quantics(n_vars, bits, a, b, layout)
    idx = np.asarray(idx)
    sites = bits if layout == "fused" else n_vars * bits
    if idx.ndim != 2 or idx.shape[1] != sites or idx.dtype.kind not in "iu":
        raise ValueError(f"idx: expected integers of shape (batch, {sites}), got dtype {idx.dtype}, shape {idx.shape}")
    base = 2 ** n_vars if layout == "fused" else 2
    if idx.size and (idx.min() < 0 or idx.max() >= base):
        bad = idx[(idx < 0) | (idx >= base)][0]
        raise ValueError(f"idx: digit {bad} is out of range; expected digits in [0, {base}) for the {layout} layout")
    m = _digits_to_integers(idx, n_vars, bits, layout)
    return a[None, :] + (b - a)[None, :] * (m.astype(np.float64) / float(2 ** bits))


def points_to_quantics(x, n_vars: int, bits: int, a=0.0, b=1.0, layout: str = "interleaved") -> np.ndarray:
    """Quantics digits of the grid points nearest below ``x`` (shape (batch, n_vars)).

    The inverse of ``quantics_to_points`` on grid points; other points are rounded down to the
    grid and clipped into ``[a, b)``.
    """
    n_vars, bits, a, b = _check_quantics(n_vars, bits, a, b, layout)
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("x: expected an array of real numbers") from None
    if x.ndim == 1 and n_vars == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != n_vars:
        raise ValueError(f"x: expected shape (batch, {n_vars}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x: holds NaN or Inf (no grid point corresponds to it)")
    scale = float(2 ** bits)
    t = (x - a[None, :]) / (b - a)[None, :] * scale
    r = np.round(t)
    m = np.where(np.abs(t - r) <= 1e-6 + 1e-14 * np.abs(t), r, np.floor(t)).astype(np.int64)
    m = np.clip(m, 0, 2 ** bits - 1)
    return _integers_to_digits(m, n_vars, bits, layout)


class QuanticsFunction:
    """A function of ``n_vars`` real variables seen as a function of quantics digits.

    Calling the object with digits of shape (batch, sites) returns ``f(x)`` with ``x`` of
    shape (batch, n_vars) from ``quantics_to_points``.  ``shape`` is the tensor shape to
    pass to ``tt_cross``.
    """

    def __init__(self, f, n_vars, bits, a=0.0, b=1.0, layout="interleaved"):
        if not callable(f):
            raise TypeError(f"f: expected a callable, got {type(f).__name__}")
        self.n_vars, self.bits, self.a, self.b = _check_quantics(n_vars, bits, a, b, layout)
        self.layout = layout
        self.f = f

    @property
    def shape(self) -> tuple:
        return quantics_shape(self.n_vars, self.bits, self.layout)

    def points(self, idx) -> np.ndarray:
        return quantics_to_points(idx, self.n_vars, self.bits, self.a, self.b, self.layout)

    def indices(self, x) -> np.ndarray:
        return points_to_quantics(x, self.n_vars, self.bits, self.a, self.b, self.layout)

    def __call__(self, idx):
        return self.f(self.points(idx))


def quantics(f, n_vars: int, bits: int, a=0.0, b=1.0, layout: str = "interleaved") -> QuanticsFunction:
    """Wrap ``f(x)``, ``x`` of shape (batch, n_vars), as a function of quantics digits.

    Parameters
    ----------
    f : callable
        Vectorized function of a (batch, n_vars) float64 array returning ``batch`` values.
    n_vars : int
        Number of real variables.
    bits : int
        ``2**bits`` grid points per variable (uniform on ``[a, b)``).
    a, b : float or array_like of shape (n_vars,)
        Bounds of each variable.
    layout : {"interleaved", "fused", "serial"}
        How the bits are laid out on the sites (see ``quantics_to_points``).

    Returns
    -------
    QuanticsFunction
        Callable on (batch, sites) digit arrays, with ``.shape`` for ``tt_cross``, and
        ``.points(idx)`` / ``.indices(x)`` conversions.
    """
    return QuanticsFunction(f, n_vars, bits, a, b, layout)
