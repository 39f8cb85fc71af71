"""The tensor train / matrix product state object held by users."""

from __future__ import annotations

import os

import numpy as np

from ._validate import as_array, result_dtype

__all__ = ["TensorTrain", "MPS"]


def _check_cores(cores, name: str, ndim: int) -> list:
    if isinstance(cores, np.ndarray) or not hasattr(cores, "__len__"):
        raise TypeError(f"{name}: expected a list of {ndim}-d arrays")
    if len(cores) == 0:
        raise ValueError(f"{name}: expected at least one core")
    arrays = [as_array(c, f"{name}[{k}]", ndim=ndim, finite=True) for k, c in enumerate(cores)]
    dtype = result_dtype(*[a.dtype for a in arrays])
    arrays = [np.ascontiguousarray(a, dtype=dtype) for a in arrays]
    if arrays[0].shape[0] != 1:
        raise ValueError(f"{name}[0]: the first core's left bond must be 1, got {arrays[0].shape[0]}")
    if arrays[-1].shape[-1] != 1:
        raise ValueError(f"{name}[{len(arrays) - 1}]: the last core's right bond must be 1, "
                         f"got {arrays[-1].shape[-1]}")
    for k in range(len(arrays) - 1):
        if arrays[k].shape[-1] != arrays[k + 1].shape[0]:
            raise ValueError(f"{name}[{k}] and {name}[{k + 1}]: bond dimensions do not match "
                             f"({arrays[k].shape[-1]} vs {arrays[k + 1].shape[0]})")
    for k, a in enumerate(arrays):
        if min(a.shape) < 1:
            raise ValueError(f"{name}[{k}]: every dimension must be >= 1, got shape {a.shape}")
    return arrays


class TensorTrain:
    """A tensor train (matrix product state) with cores of shape ``(r_{k-1}, d_k, r_k)``.

    The represented tensor is
    ``T[i_1, ..., i_n] = G_1[:, i_1, :] @ G_2[:, i_2, :] @ ... @ G_n[:, i_n, :]``
    with ``r_0 = r_n = 1``.  Cores are numpy arrays of one common dtype (float32, float64,
    complex64 or complex128).

    Parameters
    ----------
    cores : sequence of array_like, each of shape (r_{k-1}, d_k, r_k)
    copy : bool
        Copy the arrays (default) or keep references when they are already contiguous
        and of the common dtype.
    """

    __array_priority__ = 100  # so that ``2.0 * tt`` uses our __rmul__

    def __init__(self, cores, copy: bool = True):
        arrays = _check_cores(cores, "cores", 3)
        self.cores = [a.copy() if copy else a for a in arrays]

    # ---- basic properties --------------------------------------------------------------
    @property
    def ndim(self) -> int:
        """Number of sites n."""
        return len(self.cores)

    def __len__(self) -> int:
        return len(self.cores)

    @property
    def shape(self) -> tuple:
        """Physical dimensions ``(d_1, ..., d_n)``."""
        return tuple(int(c.shape[1]) for c in self.cores)

    @property
    def ranks(self) -> tuple:
        """Bond dimensions ``(r_0=1, r_1, ..., r_n=1)``."""
        return (1,) + tuple(int(c.shape[2]) for c in self.cores)

    @property
    def bond_dims(self) -> tuple:
        """Internal bond dimensions ``(r_1, ..., r_{n-1})``."""
        return self.ranks[1:-1]

    @property
    def max_rank(self) -> int:
        return max(self.ranks)

    @property
    def dtype(self) -> np.dtype:
        return self.cores[0].dtype

    @property
    def num_params(self) -> int:
        """Number of scalars in the cores."""
        return int(sum(c.size for c in self.cores))

    def copy(self) -> "TensorTrain":
        return type(self)([c.copy() for c in self.cores])

    def astype(self, dtype) -> "TensorTrain":
        return type(self)([c.astype(dtype) for c in self.cores])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n={self.ndim}, shape={_short(self.shape)}, "
                f"ranks={_short(self.ranks)}, dtype={self.dtype})")

    # ---- dense reference ---------------------------------------------------------------
    def full(self, max_elements: int = 2 ** 26) -> np.ndarray:
        """The dense tensor of shape ``self.shape`` (small cases only).

        Raises ValueError when the tensor would have more than ``max_elements`` entries.
        """
        size = int(np.prod([float(d) for d in self.shape]))
        if size > max_elements:
            raise ValueError(f"full(): the dense tensor would have {size} entries (> max_elements="
                             f"{max_elements}); evaluate at chosen indices instead")
        res = self.cores[0].reshape(self.cores[0].shape[1], -1)
        for c in self.cores[1:]:
            res = (res @ c.reshape(c.shape[0], -1)).reshape(-1, c.shape[2])
        return res.reshape(self.shape)

    # ---- save / load -------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the cores to an ``.npz`` file (no pickle)."""
        arrays = {f"core_{k}": c for k, c in enumerate(self.cores)}
        np.savez(path, kind=np.array(type(self)._KIND), n=np.array(self.ndim), **arrays)

    @classmethod
    def load(cls, path) -> "TensorTrain":
        """Read a tensor train written by :meth:`save`."""
        path = os.fspath(path)
        with np.load(path, allow_pickle=False) as f:
            if "kind" not in f or str(f["kind"]) != cls._KIND:
                raise ValueError(f"{path}: not a tnfast {cls._KIND} file")
            n = int(f["n"])
            cores = [f[f"core_{k}"] for k in range(n)]
        return cls(cores, copy=False)

    _KIND = "TensorTrain"


MPS = TensorTrain


def _short(t: tuple, limit: int = 8) -> str:
    if len(t) <= limit:
        return str(t)
    head = ", ".join(str(x) for x in t[:3])
    tail = ", ".join(str(x) for x in t[-2:])
    return f"({head}, ..., {tail})"
