"""tnfast: fast tensor-train / MPS methods for neural networks.

``import tnfast`` needs numpy only; ``import tnfast.nn`` adds the PyTorch side.
"""

from __future__ import annotations

from . import _backend, _core
from ._backend import info as backend_info
from .mpo import MPO
from .tensortrain import MPS, TensorTrain
from .tensortrain import TruncationInfo
from .decompositions import tt_svd

__version__ = "0.1.0"

_backend.load()

__all__ = ["TensorTrain", "MPS", "MPO", "backend_info", "__version__", "TruncationInfo", "tt_svd"]
