"""What the objects holding a chain of cores share: :class:`tnfast.TensorTrain` and :class:`tnfast.MPO`.

Cores are C-contiguous numpy arrays of one common dtype whose first axis is the left bond and
whose last axis is the right bond (``r_0 = r_n = 1``); the axes between are the site's modes.
"""

from __future__ import annotations

import numpy as np

from ._cores import check_cores
from ._io import load_cores, save_cores

__all__ = ["CoreChain"]


class CoreChain:
    """Base of :class:`~tnfast.TensorTrain` (3-d cores) and :class:`~tnfast.MPO` (4-d cores).

    Subclasses set ``_KIND`` (the name written into saved files) and ``_NDIM`` (axes per core).
    """

    _KIND = ""
    _NDIM = 0
    __array_priority__ = 100  # so that ``2.0 * x`` uses the subclass's __rmul__

    def __init__(self, cores, copy: bool = True):
        arrays = check_cores(cores, "cores", self._NDIM)
        self.cores = [a.copy() if copy else a for a in arrays]

    @classmethod
    def _wrap(cls, cores):
        """Adopt cores produced by the compiled core (already checked, contiguous)."""
        obj = cls.__new__(cls)
        obj.cores = list(cores)
        return obj

    @property
    def ndim(self) -> int:
        """Number of sites n."""
        return len(self.cores)

    def __len__(self) -> int:
        return len(self.cores)

    @property
    def ranks(self) -> tuple:
        """Bond dimensions ``(r_0=1, r_1, ..., r_n=1)``."""
        return (1,) + tuple(int(c.shape[-1]) for c in self.cores)

    @property
    def bond_dims(self) -> tuple:
        """Internal bond dimensions ``(r_1, ..., r_{n-1})``."""
        return self.ranks[1:-1]

    @property
    def dtype(self) -> np.dtype:
        return self.cores[0].dtype

    @property
    def num_params(self) -> int:
        """Number of scalars in the cores."""
        return int(sum(c.size for c in self.cores))

    def copy(self):
        """A copy with copied cores."""
        return type(self)([c.copy() for c in self.cores])

    # ---- save / load -------------------------------------------------------------------
    def save(self, path) -> str:
        """Write the cores to an ``.npz`` file (no pickle); ``.npz`` is appended to a path without
        it (as numpy does).  Returns the path written."""
        return save_cores(path, type(self)._KIND, self.cores)

    @classmethod
    def load(cls, path):
        """Read an object of this class written by :meth:`save` (``path`` with or without ``.npz``).

        Raises ValueError for a file that is not a tnfast file of this kind, of another format
        version, truncated or altered (inconsistent shapes, NaN/Inf, wrong dtype);
        FileNotFoundError when neither ``path`` nor ``path + ".npz"`` exists."""
        return cls(load_cores(path, cls._KIND, cls._NDIM), copy=False)
