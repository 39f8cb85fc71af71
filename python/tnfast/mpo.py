"""The matrix product operator object held by users."""

from __future__ import annotations

import os

import numpy as np

from .tensortrain import _check_cores, _short

__all__ = ["MPO"]


class MPO:
    """A matrix product operator with cores of shape ``(r_{k-1}, i_k, j_k, r_k)``.

    It represents the matrix ``W[(i_1..i_n), (j_1..j_n)]`` of shape
    ``(prod i_k, prod j_k)``; row and column multi-indices are C-ordered (i_1 slowest).
    An MPO maps a vector indexed by ``j`` (input) to one indexed by ``i`` (output).

    Parameters
    ----------
    cores : sequence of array_like, each of shape (r_{k-1}, i_k, j_k, r_k)
    """

    __array_priority__ = 100

    def __init__(self, cores, copy: bool = True):
        arrays = _check_cores(cores, "cores", 4)
        self.cores = [a.copy() if copy else a for a in arrays]

    @property
    def ndim(self) -> int:
        return len(self.cores)

    def __len__(self) -> int:
        return len(self.cores)

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
        """Matrix shape ``(prod i_k, prod j_k)``."""
        return (int(np.prod(self.row_dims)), int(np.prod(self.col_dims)))

    @property
    def ranks(self) -> tuple:
        return (1,) + tuple(int(c.shape[3]) for c in self.cores)

    @property
    def bond_dims(self) -> tuple:
        return self.ranks[1:-1]

    @property
    def dtype(self) -> np.dtype:
        return self.cores[0].dtype

    @property
    def num_params(self) -> int:
        return int(sum(c.size for c in self.cores))

    def copy(self) -> "MPO":
        return MPO([c.copy() for c in self.cores])

    def astype(self, dtype) -> "MPO":
        return MPO([c.astype(dtype) for c in self.cores])

    def __repr__(self) -> str:
        return (f"MPO(n={self.ndim}, rows={_short(self.row_dims)}, cols={_short(self.col_dims)}, "
                f"ranks={_short(self.ranks)}, dtype={self.dtype})")

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

    def save(self, path) -> None:
        """Write the cores to an ``.npz`` file (no pickle)."""
        arrays = {f"core_{k}": c for k, c in enumerate(self.cores)}
        np.savez(path, kind=np.array("MPO"), n=np.array(self.ndim), **arrays)

    @classmethod
    def load(cls, path) -> "MPO":
        path = os.fspath(path)
        with np.load(path, allow_pickle=False) as f:
            if "kind" not in f or str(f["kind"]) != "MPO":
                raise ValueError(f"{path}: not a tnfast MPO file")
            n = int(f["n"])
            cores = [f[f"core_{k}"] for k in range(n)]
        return cls(cores, copy=False)
