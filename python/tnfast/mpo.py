"""The matrix product operator object held by users."""

from __future__ import annotations

import math

import numpy as np

from ._cores import check_dtype, check_shape, core_fn, is_scalar, short
from ._train import CoreChain
from ._validate import as_array, result_dtype
from .tensortrain import TensorTrain, tt_svd

__all__ = ["MPO"]


class MPO(CoreChain):
    """A matrix product operator with cores of shape ``(r_{k-1}, i_k, j_k, r_k)``.

    It represents the matrix ``W[(i_1..i_n), (j_1..j_n)]`` of shape
    ``(prod i_k, prod j_k)``; row and column multi-indices are C-ordered (i_1 slowest).
    An MPO maps a vector indexed by ``j`` (input) to one indexed by ``i`` (output).

    Operations return new objects; binary operations promote to the common dtype.
    Canonical forms, rounding and spectra treat each core as an MPS core with the merged
    physical index ``(i_k, j_k)``, i.e. they act on the operator as a vector of its entries
    (Frobenius / Hilbert-Schmidt geometry).

    Parameters
    ----------
    cores : sequence of array_like, each of shape (r_{k-1}, i_k, j_k, r_k)
    """

    _KIND = "MPO"
    _NDIM = 4

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def from_matrix(cls, matrix, row_dims, col_dims, max_rank: int | None = None, rel_tol: float | None = None,
                    return_info: bool = False):
        """MPO of a dense matrix by TT-SVD of its entries regrouped per site.

        ``matrix`` (shape ``(prod row_dims, prod col_dims)``) is reshaped to
        ``(i_1..i_n, j_1..j_n)``, permuted to ``(i_1, j_1, ..., i_n, j_n)`` and decomposed by
        :func:`tnfast.tt_svd` with merged indices ``(i_k, j_k)``; ``max_rank``/``rel_tol`` are
        as there (``||W - MPO||_F <= rel_tol ||W||_F`` when the rank cap does not bind).

        Returns
        -------
        MPO, or (MPO, TruncationInfo) when ``return_info``.
        """
        rows = check_shape(row_dims, "row_dims")
        cols = check_shape(col_dims, "col_dims")
        if len(rows) != len(cols):
            raise ValueError(f"row_dims and col_dims: expected the same number of sites, got {len(rows)} and "
                             f"{len(cols)}")
        w = as_array(matrix, "matrix", ndim=2)
        if w.shape != (math.prod(rows), math.prod(cols)):
            raise ValueError(f"matrix: expected shape ({math.prod(rows)}, {math.prod(cols)}) for row_dims "
                             f"{rows} and col_dims {cols}, got {w.shape}")
        n = len(rows)
        t = w.reshape(rows + cols)
        perm = [ax for k in range(n) for ax in (k, n + k)]
        t = t.transpose(perm).reshape([rows[k] * cols[k] for k in range(n)])
        tt, info = tt_svd(t, max_rank=max_rank, rel_tol=rel_tol, return_info=True)
        out = cls._from_tt(tt, rows, cols)
        return (out, info) if return_info else out

    @classmethod
    def identity(cls, dims, dtype=np.float64) -> "MPO":
        """The identity on ``prod(dims)``-vectors as a rank-1 MPO (square cores)."""
        dims = check_shape(dims, "dims")
        dtype = check_dtype(dtype, "dtype")
        return cls._wrap([np.eye(d, dtype=dtype).reshape(1, d, d, 1) for d in dims])

    @classmethod
    def random(cls, row_dims, col_dims, rank, dtype=np.float64, seed=None) -> "MPO":
        """Gaussian cores scaled so that ``E ||W||_F^2 = 1`` (see :meth:`TensorTrain.random`)."""
        rows = check_shape(row_dims, "row_dims")
        cols = check_shape(col_dims, "col_dims")
        if len(rows) != len(cols):
            raise ValueError(f"row_dims and col_dims: expected the same number of sites, got {len(rows)} and "
                             f"{len(cols)}")
        tt = TensorTrain.random([i * j for i, j in zip(rows, cols)], rank, dtype=dtype, seed=seed)
        return cls._from_tt(tt, rows, cols)

    # ---- conversion to and from the merged-index train --------------------------------
    def as_tensor_train(self) -> TensorTrain:
        """The operator's entries as an MPS with merged physical indices ``(i_k, j_k)``
        (cores are reshaped views, no copy)."""
        return TensorTrain._wrap([c.reshape(c.shape[0], c.shape[1] * c.shape[2], c.shape[3]) for c in self.cores])

    @classmethod
    def _from_tt(cls, tt: TensorTrain, rows, cols) -> "MPO":
        return cls._wrap([c.reshape(c.shape[0], i, j, c.shape[2]) for c, i, j in zip(tt.cores, rows, cols)])

    # ---- properties --------------------------------------------------------------------
    @property
    def row_dims(self) -> tuple:
        """Output (row) mode sizes ``(i_1, ..., i_n)``."""
        return tuple(int(c.shape[1]) for c in self.cores)

    @property
    def col_dims(self) -> tuple:
        """Input (column) mode sizes ``(j_1, ..., j_n)``."""
        return tuple(int(c.shape[2]) for c in self.cores)

    @property
    def shape(self) -> tuple:
        """Matrix shape ``(prod i_k, prod j_k)`` (exact Python integers)."""
        return (math.prod(self.row_dims), math.prod(self.col_dims))

    def astype(self, dtype) -> "MPO":
        """A copy with cores of ``dtype``; see :meth:`TensorTrain.astype`."""
        tt = self.as_tensor_train().astype(dtype)
        return MPO._from_tt(tt, self.row_dims, self.col_dims)

    def __repr__(self) -> str:
        return (f"MPO(n={self.ndim}, rows={short(self.row_dims)}, cols={short(self.col_dims)}, "
                f"ranks={short(self.ranks)}, dtype={self.dtype})")

    # ---- dense reference ---------------------------------------------------------------
    def full(self, max_elements: int = 2 ** 26) -> np.ndarray:
        """The dense matrix of shape ``self.shape`` (small cases only)."""
        rows, cols = self.shape
        if rows * cols > max_elements:
            raise ValueError(f"full(): the dense matrix would have {rows * cols} entries (> max_elements="
                             f"{max_elements})")
        res = self.cores[0].reshape(-1, self.cores[0].shape[3])  # (i1 j1, r1)
        ri, cj = self.cores[0].shape[1], self.cores[0].shape[2]
        res = res.reshape(ri, cj, -1)
        for c in self.cores[1:]:
            r0, i, j, r1 = c.shape
            res = np.tensordot(res, c, axes=([2], [0]))  # (I, J, i, j, r1)
            res = res.transpose(0, 2, 1, 3, 4).reshape(res.shape[0] * i, res.shape[1] * j, r1)
        return res.reshape(rows, cols)

    to_matrix = full

    # ---- transposition -------------------------------------------------------------------
    def transpose(self) -> "MPO":
        """The transposed operator (rows and columns swapped at every site)."""
        return MPO._wrap([np.ascontiguousarray(c.transpose(0, 2, 1, 3)) for c in self.cores])

    @property
    def T(self) -> "MPO":
        return self.transpose()

    def conj(self) -> "MPO":
        return MPO._wrap([np.conj(c) for c in self.cores])

    def adjoint(self) -> "MPO":
        """Conjugate transpose."""
        return MPO._wrap([np.ascontiguousarray(np.conj(c).transpose(0, 2, 1, 3)) for c in self.cores])

    @property
    def H(self) -> "MPO":
        return self.adjoint()

    # ---- products ------------------------------------------------------------------------
    def apply(self, state: TensorTrain) -> TensorTrain:
        """``y = W x`` for an MPS ``x`` with ``x.shape == self.col_dims``; exact (bond
        dimensions multiply: ``r_y = r_W * r_x``).  Round the result to compress it."""
        if not isinstance(state, TensorTrain):
            raise TypeError(f"state: expected a TensorTrain, got {type(state).__name__}")
        if state.shape != self.col_dims:
            raise ValueError(f"state: its shape {short(state.shape)} differs from the operator's column dims "
                             f"{short(self.col_dims)}")
        dtype = result_dtype(self.dtype, state.dtype)
        a = self._merged_cores(dtype)
        x = state._cores_as(dtype)
        cores = core_fn("mpo_apply", dtype)(a, list(self.row_dims), list(self.col_dims), x)
        return TensorTrain._wrap(cores)

    def compose(self, other: "MPO") -> "MPO":
        """The product ``self @ other`` as an MPO (exact: bond dimensions multiply)."""
        if not isinstance(other, MPO):
            raise TypeError(f"other: expected an MPO, got {type(other).__name__}")
        if self.ndim != other.ndim:
            raise ValueError(f"other: expected {self.ndim} sites, got {other.ndim}")
        if self.col_dims != other.row_dims:
            raise ValueError(f"other: its row dims {short(other.row_dims)} differ from the column dims "
                             f"{short(self.col_dims)}")
        dtype = result_dtype(self.dtype, other.dtype)
        cores = core_fn("mpo_compose", dtype)(self._merged_cores(dtype), list(self.row_dims), list(self.col_dims),
                                          other._merged_cores(dtype), list(other.col_dims))
        return MPO._from_tt(TensorTrain._wrap(cores), self.row_dims, other.col_dims)

    def __matmul__(self, other):
        if isinstance(other, MPO):
            return self.compose(other)
        if isinstance(other, TensorTrain):
            return self.apply(other)
        return NotImplemented

    def _merged_cores(self, dtype) -> list:
        dtype = np.dtype(dtype)
        return [np.ascontiguousarray(c.reshape(c.shape[0], -1, c.shape[3]), dtype=dtype) for c in self.cores]

    # ---- linear combinations -------------------------------------------------------------
    def __add__(self, other):
        if not isinstance(other, MPO):
            return NotImplemented
        self._same_dims(other)
        tt = self.as_tensor_train() + other.as_tensor_train()
        return MPO._from_tt(tt, self.row_dims, self.col_dims)

    def __sub__(self, other):
        if not isinstance(other, MPO):
            return NotImplemented
        self._same_dims(other)
        tt = self.as_tensor_train() - other.as_tensor_train()
        return MPO._from_tt(tt, self.row_dims, self.col_dims)

    def __mul__(self, alpha):
        if not is_scalar(alpha):
            return NotImplemented
        return MPO._from_tt(self.as_tensor_train() * alpha, self.row_dims, self.col_dims)

    __rmul__ = __mul__

    def __neg__(self):
        return (-1.0) * self

    def _same_dims(self, other: "MPO") -> None:
        if self.row_dims != other.row_dims or self.col_dims != other.col_dims:
            raise ValueError(f"other: dims differ (rows {short(self.row_dims)} vs {short(other.row_dims)}, "
                             f"cols {short(self.col_dims)} vs {short(other.col_dims)})")

    def dot(self, other: "MPO"):
        """Frobenius inner product ``sum conj(self) * other``."""
        if not isinstance(other, MPO):
            raise TypeError(f"other: expected an MPO, got {type(other).__name__}")
        self._same_dims(other)
        return self.as_tensor_train().dot(other.as_tensor_train())

    def norm(self) -> float:
        """Frobenius norm."""
        return self.as_tensor_train().norm()

    # ---- canonical forms, rounding, spectra ------------------------------------------------
    def canonicalize(self, center: int) -> "MPO":
        """Mixed-canonical form (merged physical indices); see :meth:`TensorTrain.canonicalize`."""
        return MPO._from_tt(self.as_tensor_train().canonicalize(center), self.row_dims, self.col_dims)

    def round(self, max_rank: int | None = None, rel_tol: float | None = None, return_info: bool = False):
        """Rounding in the Frobenius norm: ``||W - W.round(...)||_F <= rel_tol ||W||_F`` when the
        rank cap does not bind; see :meth:`TensorTrain.round` for the arguments and the info."""
        tt, info = self.as_tensor_train().round(max_rank=max_rank, rel_tol=rel_tol, return_info=True)
        out = MPO._from_tt(tt, self.row_dims, self.col_dims)
        return (out, info) if return_info else out

    compress = round

    def singular_values(self) -> list:
        """Operator Schmidt spectra across each of the ``n - 1`` bonds (descending)."""
        return self.as_tensor_train().singular_values()

    def entropy(self) -> np.ndarray:
        """Von Neumann entropy of the operator Schmidt spectrum at every bond, shape (n - 1,)."""
        return self.as_tensor_train().entropy()

    # ---- other libraries (tnfast.interop) --------------------------------------------------
    @classmethod
    def from_quimb(cls, mpo) -> "MPO":
        """From a quimb ``MatrixProductOperator``: rows from its upper indices, columns from its
        lower ones (as quimb's ``to_dense``)."""
        from .interop import mpo_from_quimb
        return mpo_from_quimb(mpo)

    def to_quimb(self, **kwargs):
        """A quimb ``MatrixProductOperator`` (shape ``'lrud'``); ``kwargs`` go to its constructor."""
        from .interop import mpo_to_quimb
        return mpo_to_quimb(self, **kwargs)

