"""tnfast: fast tensor-train / MPS methods for neural networks.

``import tnfast`` needs numpy only; ``import tnfast.nn`` adds the PyTorch side.
"""

from __future__ import annotations

from . import _backend, _core
from ._backend import info as backend_info
from .decompositions import tt_svd
from .maxvol import maxvol, rect_maxvol
from .mpo import MPO
from .tensortrain import MPS, TensorTrain, TruncationInfo

__version__ = "0.1.0"

_backend.load()

__all__ = [
    "MPO",
    "MPS",
    "TensorTrain",
    "TruncationInfo",
    "__version__",
    "backend_info",
    "maxvol",
    "rect_maxvol",
    "tt_svd",
]
