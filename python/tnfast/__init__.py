"""tnfast: fast tensor-train / MPS methods for neural networks.

``import tnfast`` needs numpy only; ``import tnfast.nn`` adds the PyTorch side.
"""

from __future__ import annotations

from . import _backend, _core
from ._backend import info as backend_info
from .embeddings import get_embedding
from .mpo import MPO
from .rss import RSSInfo, tt_density, tt_evaluate, tt_rs, tt_rss, tt_sample
from .tensortrain import MPS, TensorTrain

__version__ = "0.1.0"

_backend.load()

__all__ = ["TensorTrain", "MPS", "MPO", "backend_info", "__version__",
           "get_embedding", "tt_rss", "RSSInfo", "tt_evaluate", "tt_rs", "tt_sample", "tt_density"]
