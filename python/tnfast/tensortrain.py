"""The tensor train / matrix product state object held by users."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ._cores import check_dtype, check_shape, core_fn, is_scalar, short
from ._train import CoreChain
from ._truncation import truncation_args
from ._validate import INT32_MAX, as_array, as_int, finite_result, require_memory, result_dtype
from .decompositions import tt_svd_cores

__all__ = ["TensorTrain", "MPS", "TruncationInfo", "tt_svd"]


@dataclass(frozen=True)
class TruncationInfo:
    """What a truncation (:func:`tnfast.tt_svd`, :meth:`TensorTrain.round`) cut.

    Attributes
    ----------
    discarded_weight : float
        ``sum_bonds sum_cut s_i**2 / ||A||_F**2``: the squared singular values cut at every bond,
        summed over the bonds and divided by the squared Frobenius norm of the input ``A``.
        The cuts of a rounding sweep are mutually orthogonal, so this equals
        ``||A - result||_F**2 / ||A||_F**2`` (up to round-off); for TT-SVD it is the same ratio
        as well.  0 for a zero input.
    norm : float
        Frobenius norm of the input.
    ranks : tuple of int
        Bond dimensions ``(1, r_1, ..., r_{n-1}, 1)`` of the result.
    """

    discarded_weight: float
    norm: float
    ranks: tuple

    @property
    def rel_error(self) -> float:
        """Relative Frobenius error ``||A - result|| / ||A|| = sqrt(discarded_weight)``."""
        return float(np.sqrt(max(self.discarded_weight, 0.0)))

    @classmethod
    def _from_core(cls, d) -> "TruncationInfo":
        return cls(float(d.discarded_weight), float(d.norm), tuple(int(r) for r in d.ranks))


class TensorTrain(CoreChain):
    """A tensor train (matrix product state) with cores of shape ``(r_{k-1}, d_k, r_k)``.

    The represented tensor is
    ``T[i_1, ..., i_n] = G_1[:, i_1, :] @ G_2[:, i_2, :] @ ... @ G_n[:, i_n, :]``
    with ``r_0 = r_n = 1``.  Cores are numpy arrays of one common dtype (float32, float64,
    complex64 or complex128).

    Operations that change the cores (:meth:`round`, :meth:`canonicalize`, arithmetic) return a
    new train and leave this one untouched.  Binary operations between trains of different
    dtypes promote to the common dtype.

    Parameters
    ----------
    cores : sequence of array_like, each of shape (r_{k-1}, d_k, r_k)
    copy : bool
        Copy the arrays (default) or keep references when they are already contiguous
        and of the common dtype.
    """

    _KIND = "TensorTrain"
    _NDIM = 3

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def random(cls, shape, rank, dtype=np.float64, seed=None) -> "TensorTrain":
        """A train with independent Gaussian cores, scaled so that ``E ||T||_F^2 = 1``.

        Parameters
        ----------
        shape : sequence of int
            Physical dimensions ``(d_1, ..., d_n)``.
        rank : int or sequence of int
            One bond dimension for every internal bond, or the ``n - 1`` internal bonds,
            or all ``n + 1`` bonds (first and last must be 1).
        dtype : float32, float64, complex64 or complex128
        seed : int, numpy Generator or None
        """
        shape = check_shape(shape, "shape")
        ranks = _check_ranks(rank, len(shape), "rank")
        dtype = check_dtype(dtype, "dtype")
        size = sum(ranks[k] * d * ranks[k + 1] for k, d in enumerate(shape))
        require_memory(3 * 8.0 * size, f"TensorTrain.random: cores of {size} entries (ranks {short(ranks)})")
        rng = np.random.default_rng(seed)
        cores = []
        for k, d in enumerate(shape):
            rl, rr = ranks[k], ranks[k + 1]
            sigma = 1.0 / np.sqrt(d * np.sqrt(rl * rr))
            g = rng.standard_normal((rl, d, rr))
            if dtype.kind == "c":
                g = (g + 1j * rng.standard_normal((rl, d, rr))) / np.sqrt(2.0)
            cores.append((sigma * g).astype(dtype))
        return cls._wrap(cores)

    @classmethod
    def zeros(cls, shape, dtype=np.float64) -> "TensorTrain":
        """The zero tensor as a rank-1 train."""
        shape = check_shape(shape, "shape")
        dtype = check_dtype(dtype, "dtype")
        return cls._wrap([np.zeros((1, d, 1), dtype=dtype) for d in shape])

    @classmethod
    def ones(cls, shape, dtype=np.float64) -> "TensorTrain":
        """The all-ones tensor as a rank-1 train."""
        shape = check_shape(shape, "shape")
        dtype = check_dtype(dtype, "dtype")
        return cls._wrap([np.ones((1, d, 1), dtype=dtype) for d in shape])

    @classmethod
    def from_dense(cls, array, max_rank=None, rel_tol=None) -> "TensorTrain":
        """TT-SVD of a dense array; see :func:`tnfast.tt_svd`."""
        return tt_svd(array, max_rank=max_rank, rel_tol=rel_tol)

    # ---- basic properties --------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        """Physical dimensions ``(d_1, ..., d_n)``."""
        return tuple(int(c.shape[1]) for c in self.cores)

    @property
    def max_rank(self) -> int:
        return max(self.ranks)

    def astype(self, dtype) -> "TensorTrain":
        """A copy with cores of ``dtype`` (float32, float64, complex64 or complex128).  Complex to
        real keeps the real part only when every imaginary part is zero."""
        dtype = check_dtype(dtype, "dtype")
        if self.dtype.kind == "c" and dtype.kind != "c" and any(np.any(c.imag != 0) for c in self.cores):
            raise TypeError(f"dtype: cannot convert a complex train with nonzero imaginary parts to {dtype}")
        return type(self)([np.real(c).astype(dtype) if dtype.kind != "c" else c.astype(dtype)
                           for c in self.cores])

    def conj(self) -> "TensorTrain":
        """Elementwise complex conjugate."""
        return type(self)._wrap([np.conj(c) for c in self.cores])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n={self.ndim}, shape={short(self.shape)}, "
                f"ranks={short(self.ranks)}, dtype={self.dtype})")

    # ---- dense reference ---------------------------------------------------------------
    def full(self, max_elements: int = 2 ** 26) -> np.ndarray:
        """The dense tensor of shape ``self.shape`` (small cases only).

        Raises ValueError when the tensor would have more than ``max_elements`` entries.
        """
        size = math.prod(self.shape)
        if size > max_elements:
            raise ValueError(f"full(): the dense tensor would have {size} entries (> max_elements="
                             f"{max_elements}); evaluate at chosen indices instead")
        res = self.cores[0].reshape(self.cores[0].shape[1], -1)
        for c in self.cores[1:]:
            res = (res @ c.reshape(c.shape[0], -1)).reshape(-1, c.shape[2])
        return res.reshape(self.shape)

    # ---- evaluation --------------------------------------------------------------------
    def evaluate(self, indices, num_threads: int | None = None) -> np.ndarray:
        """Entries at a batch of index tuples.

        Parameters
        ----------
        indices : array_like of int, shape (batch, n) or (n,)
            Index tuples; ``0 <= indices[b, k] < d_k`` (checked: ValueError otherwise).
        num_threads : int, optional
            Threads for large batches (default: automatic, at most 2).

        Returns
        -------
        ndarray, shape (batch,) (a 0-d array for a single tuple), dtype of the train.
        """
        idx = _as_indices(indices, "indices", self.ndim)
        single = idx.ndim == 1
        idx2 = idx.reshape(1, -1) if single else idx
        nt = 0 if num_threads is None else as_int(num_threads, "num_threads", minimum=1, maximum=INT32_MAX)
        out = finite_result(core_fn("tt_evaluate", self.dtype)(self.cores, idx2, nt), "evaluate")
        return out.reshape(()) if single else out

    def evaluate_embedded(self, features, num_threads: int | None = None) -> np.ndarray:
        """Contract every site's physical index with a feature vector, for a batch of samples.

        ``out[b] = sum_{i_1..i_n} T[i_1..i_n] f_1[b, i_1] ... f_n[b, i_n]``.

        Parameters
        ----------
        features : array_like, shape (batch, n, d), or a list of n arrays of shape (batch, d_k)
            Feature vectors (an embedding of the inputs); finite values only.
        num_threads : int, optional

        Returns
        -------
        ndarray, shape (batch,), dtype promoted from the train's and the features'.
        """
        nt = 0 if num_threads is None else as_int(num_threads, "num_threads", minimum=1, maximum=INT32_MAX)
        n = self.ndim
        if isinstance(features, (list, tuple)):
            if len(features) != n:
                raise ValueError(f"features: expected {n} arrays (one per site), got {len(features)}")
            feats = [as_array(f, f"features[{k}]", ndim=2) for k, f in enumerate(features)]
            dtype = result_dtype(self.dtype, *[f.dtype for f in feats])
            for k, f in enumerate(feats):
                if f.shape[1] != self.shape[k]:
                    raise ValueError(f"features[{k}]: expected {self.shape[k]} columns, got {f.shape[1]}")
                if f.shape[0] != feats[0].shape[0]:
                    raise ValueError(f"features[{k}]: batch size {f.shape[0]} differs from {feats[0].shape[0]}")
            feats = [np.ascontiguousarray(f, dtype=dtype) for f in feats]
        else:
            f = as_array(features, "features", ndim=3)
            if f.shape[1] != n:
                raise ValueError(f"features: expected shape (batch, {n}, d), got {f.shape}")
            if len(set(self.shape)) != 1 or f.shape[2] != self.shape[0]:
                raise ValueError(f"features: feature size {f.shape[2]} does not match the train's dimensions "
                                 f"{short(self.shape)}; pass a list of per-site arrays for mixed sizes")
            dtype = result_dtype(self.dtype, f.dtype)
            feats = np.ascontiguousarray(f, dtype=dtype)
        return finite_result(core_fn("tt_evaluate_embedded", dtype)(self._cores_as(dtype), feats, nt),
                             "evaluate_embedded")

    def _cores_as(self, dtype) -> list:
        dtype = np.dtype(dtype)
        return self.cores if self.dtype == dtype else [c.astype(dtype) for c in self.cores]

    # ---- algebra -----------------------------------------------------------------------
    def _pair(self, other, what: str):
        if not isinstance(other, TensorTrain):
            raise TypeError(f"{what}: expected a TensorTrain, got {type(other).__name__}")
        if self.shape != other.shape:
            raise ValueError(f"{what}: shapes differ ({short(self.shape)} vs {short(other.shape)})")
        dtype = result_dtype(self.dtype, other.dtype)
        return self._cores_as(dtype), other._cores_as(dtype), dtype

    def dot(self, other: "TensorTrain"):
        """Inner product ``<self|other> = sum conj(self) * other`` (Python scalar)."""
        a, b, dtype = self._pair(other, "other")
        v = finite_result(core_fn("tt_dot", dtype)(a, b), "dot")
        return complex(v) if dtype.kind == "c" else float(v)

    def norm(self) -> float:
        """Frobenius norm (a rescaled sweep: no overflow in intermediate products)."""
        return float(finite_result(core_fn("tt_norm", self.dtype)(self.cores), "norm"))

    def __add__(self, other):
        if not isinstance(other, TensorTrain):
            return NotImplemented
        a, b, dtype = self._pair(other, "other")
        return type(self)._wrap(_finite_cores(core_fn("tt_add", dtype)(a, b), "+"))

    def __sub__(self, other):
        if not isinstance(other, TensorTrain):
            return NotImplemented
        return self + (-1.0) * other

    def __neg__(self):
        return (-1.0) * self

    def __mul__(self, alpha):
        """Scalar multiple (scales the first core).  A complex scalar promotes a real train to
        the complex dtype of the same precision; otherwise the dtype is kept."""
        if isinstance(alpha, TensorTrain):
            raise TypeError("TensorTrain * TensorTrain is ambiguous: use hadamard() for the elementwise product")
        if not is_scalar(alpha):
            return NotImplemented
        if not np.isfinite(alpha):
            raise ValueError(f"alpha: expected a finite scalar, got {alpha}")
        dtype = self.dtype
        if np.iscomplexobj(alpha) and dtype.kind != "c":
            dtype = np.dtype(np.complex64 if dtype == np.float32 else np.complex128)
        if dtype.kind != "c":
            alpha = float(np.real(alpha))
        else:
            alpha = complex(alpha)
        return type(self)._wrap(core_fn("tt_scale", dtype)(self._cores_as(dtype), alpha))

    __rmul__ = __mul__

    def __truediv__(self, alpha):
        if not is_scalar(alpha):
            return NotImplemented
        if not np.isfinite(alpha):
            raise ValueError(f"alpha: expected a finite scalar, got {alpha}")
        if alpha == 0:
            raise ZeroDivisionError("division of a TensorTrain by zero")
        inv = 1.0 / alpha
        if not np.isfinite(inv) or inv == 0:
            raise ValueError(f"alpha: 1 / {alpha} is not a finite nonzero number")
        return self * inv

    def hadamard(self, other: "TensorTrain") -> "TensorTrain":
        """Elementwise product; cores are Kronecker products of the slices (ranks multiply)."""
        a, b, dtype = self._pair(other, "other")
        return type(self)._wrap(_finite_cores(core_fn("tt_hadamard", dtype)(a, b), "hadamard"))

    # ---- canonical forms and rounding --------------------------------------------------
    def canonicalize(self, center: int) -> "TensorTrain":
        """Mixed-canonical form with orthogonality center at site ``center`` (QR sweeps).

        Cores left of ``center`` become left-orthogonal
        (``einsum('aib,aic->bc', G.conj(), G) = I``), cores right of it right-orthogonal
        (``einsum('aib,cib->ac', G, G.conj()) = I``); the tensor is unchanged and bonds may
        only shrink.  Negative ``center`` counts from the end.  Returns a new train.
        """
        c = as_int(center, "center")
        if c < 0:
            c += self.ndim
        if not 0 <= c < self.ndim:
            raise ValueError(f"center: expected -{self.ndim} <= center < {self.ndim}, got {center}")
        return type(self)._wrap(core_fn("tt_canonicalize", self.dtype)(self.cores, c))

    def left_canonicalize(self) -> "TensorTrain":
        """Left-canonical form: every core but the last left-orthogonal."""
        return self.canonicalize(self.ndim - 1)

    def right_canonicalize(self) -> "TensorTrain":
        """Right-canonical form: every core but the first right-orthogonal."""
        return self.canonicalize(0)

    def round(self, max_rank: int | None = None, rel_tol: float | None = None, return_info: bool = False):
        """TT-rounding: right-orthogonalize, then truncate every bond by SVD, left to right.

        Each of the ``n - 1`` bonds keeps at most ``max_rank`` singular values and cuts at
        most ``rel_tol**2 * ||T||**2 / (n - 1)`` of squared weight, so that
        ``||T - T.round(...)|| <= rel_tol * ||T||`` whenever the rank cap does not bind.
        With neither limit only exactly zero singular values are cut.  The result is
        left-canonical up to its last core.

        Parameters
        ----------
        max_rank : int >= 1, optional
        rel_tol : float >= 0, optional
        return_info : bool
            Also return a :class:`TruncationInfo`, whose ``discarded_weight`` is
            ``sum over bonds of the squared singular values cut / ||T||_F**2``, which equals
            ``||T - result||_F**2 / ||T||_F**2``.

        Returns
        -------
        TensorTrain, or (TensorTrain, TruncationInfo) when ``return_info``.
        """
        mr, tol = truncation_args(max_rank, rel_tol)
        cores, info = core_fn("tt_round", self.dtype)(self.cores, mr, tol)
        out = type(self)._wrap(cores)
        return (out, TruncationInfo._from_core(info)) if return_info else out

    compress = round

    def singular_values(self) -> list:
        """Schmidt spectra: a list of ``n - 1`` arrays, entry ``k`` holding the singular values
        (descending, real) of the unfolding ``T[(i_1..i_{k+1}), (i_{k+2}..i_n)]``."""
        return list(core_fn("tt_singular_values", self.dtype)(self.cores))

    def entropy(self) -> np.ndarray:
        """Von Neumann entanglement entropy at every bond, shape (n - 1,):
        ``S = -sum p ln p`` with ``p = s**2 / sum(s**2)`` from :meth:`singular_values`."""
        return core_fn("tt_entropy", self.dtype)(self.cores)

    # ---- other libraries (tnfast.interop; each imports its package on use) --------------
    @classmethod
    def from_quimb(cls, mps) -> "TensorTrain":
        """From a quimb ``MatrixProductState`` (open boundaries, any ``shape`` order)."""
        from .interop import tt_from_quimb
        return tt_from_quimb(mps)

    def to_quimb(self, **kwargs):
        """A quimb ``MatrixProductState`` (shape ``'lrp'``); ``kwargs`` go to its constructor."""
        from .interop import tt_to_quimb
        return tt_to_quimb(self, **kwargs)

    @classmethod
    def from_tensorkrowch(cls, mps) -> "TensorTrain":
        """From a ``tensorkrowch.models.MPS`` (open boundaries) or the list of cores its
        ``tt_rss`` returns (first ``(d, r)``, middle ``(r, d, r)``, last ``(r, d)``)."""
        from .interop import tt_from_tensorkrowch
        return tt_from_tensorkrowch(mps)

    def to_tensorkrowch(self, as_list: bool = False):
        """A ``tensorkrowch.models.MPS``, or (``as_list=True``) its list of torch cores."""
        from .interop import tt_to_tensorkrowch
        return tt_to_tensorkrowch(self, as_list=as_list)

    @classmethod
    def from_teneva(cls, cores) -> "TensorTrain":
        """From a teneva tensor train: a list of 3-d cores ``(r_{k-1}, n_k, r_k)``."""
        from .interop import tt_from_teneva
        return tt_from_teneva(cores)

    def to_teneva(self) -> list:
        """The cores as a teneva tensor train (a list of 3-d numpy arrays, copies)."""
        from .interop import tt_to_teneva
        return tt_to_teneva(self)


MPS = TensorTrain


def tt_svd(array, max_rank: int | None = None, rel_tol: float | None = None, return_info: bool = False):
    """TT-SVD (Oseledets 2011): a tensor train of a dense array by sequential truncated SVDs.

    At each of the ``n - 1`` unfoldings the fewest singular values are kept whose cut squared
    weight is at most ``delta**2 = rel_tol**2 * ||A||_F**2 / (n - 1)``, and at most
    ``max_rank``; hence ``||A - TT||_F <= rel_tol * ||A||_F`` whenever the rank cap does not
    bind.  With neither limit only exactly zero singular values are cut (a lossless
    decomposition).

    Parameters
    ----------
    array : array_like, shape (d_1, ..., d_n)
        Finite values; integers are converted to float64.  Non-contiguous input is copied.
    max_rank : int >= 1, optional
    rel_tol : float >= 0, optional
    return_info : bool
        Also return a :class:`~tnfast.tensortrain.TruncationInfo` (``discarded_weight`` =
        sum of the squared singular values cut over ``||A||_F**2``, equal to the squared
        relative error of the result).

    Returns
    -------
    TensorTrain with cores ``(r_{k-1}, d_k, r_k)`` of the array's dtype, or
    ``(TensorTrain, TruncationInfo)`` when ``return_info``.
    """
    cores, info = tt_svd_cores(array, max_rank=max_rank, rel_tol=rel_tol)
    tt = TensorTrain._wrap(cores)
    return (tt, TruncationInfo._from_core(info)) if return_info else tt


def _finite_cores(cores, what: str) -> list:
    for c in cores:
        finite_result(c, what)
    return cores


def _check_ranks(rank, n: int, name: str) -> tuple:
    if isinstance(rank, numbers.Integral) and not isinstance(rank, (bool, np.bool_)):
        r = as_int(rank, name, minimum=1)
        return (1,) + (r,) * (n - 1) + (1,)
    try:
        rs = tuple(rank)
    except TypeError:
        raise TypeError(f"{name}: expected an integer or a sequence of integers") from None
    rs = tuple(as_int(r, f"{name}[{k}]", minimum=1) for k, r in enumerate(rs))
    if len(rs) == n - 1:
        return (1,) + rs + (1,)
    if len(rs) == n + 1:
        if rs[0] != 1 or rs[-1] != 1:
            raise ValueError(f"{name}: the first and last bond dimensions must be 1")
        return rs
    raise ValueError(f"{name}: expected {n - 1} internal bond dimensions (or {n + 1} with the outer ones), "
                     f"got {len(rs)}")


def _as_indices(indices, name: str, n: int) -> np.ndarray:
    if hasattr(indices, "detach") and hasattr(indices, "cpu"):
        indices = indices.detach().cpu().numpy()
    a = np.asarray(indices)
    if a.dtype == np.bool_ or a.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected an integer array, got dtype {a.dtype}")
    if a.ndim not in (1, 2):
        raise ValueError(f"{name}: expected shape (batch, {n}) or ({n},), got {a.shape}")
    if a.shape[-1] != n:
        raise ValueError(f"{name}: expected {n} indices per tuple (one per site), got {a.shape[-1]}")
    if a.dtype.kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name}: index out of range")
    return np.ascontiguousarray(a, dtype=np.int64)
