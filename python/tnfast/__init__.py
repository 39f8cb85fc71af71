"""tnfast: fast tensor-train / MPS methods for neural networks.

``import tnfast`` needs numpy only; ``import tnfast.nn`` adds the PyTorch side.
"""

from __future__ import annotations

from . import _backend, _core
from ._backend import get_num_threads, set_num_threads
from ._backend import info as backend_info
from . import embeddings, grids
from .cross import CrossInfo, prrlu, tt_cross
from .embeddings import get_embedding
from .maxvol import maxvol, rect_maxvol
from .mpo import MPO
from .rss import RSSInfo, tt_density, tt_evaluate, tt_rs, tt_rss, tt_sample
from .tensortrain import MPS, TensorTrain, TruncationInfo, tt_svd

__version__ = "0.1.0"

_backend.load()

__all__ = [
    "CrossInfo",
    "MPO",
    "MPS",
    "RSSInfo",
    "TensorTrain",
    "TruncationInfo",
    "__version__",
    "backend_info",
    "embeddings",
    "get_embedding",
    "get_num_threads",
    "grids",
    "maxvol",
    "prrlu",
    "rect_maxvol",
    "set_num_threads",
    "tt_cross",
    "tt_density",
    "tt_evaluate",
    "tt_rs",
    "tt_rss",
    "tt_sample",
    "tt_svd",
]

from . import privacy  # noqa: E402  (gauge obfuscation and the property-inference attacker)

__all__.append("privacy")

# quantum states of spin chains (AKLT, sampling, SPT order, MPO Hamiltonians) and their DMRG solver
from . import phases  # noqa: E402
from .dmrg import DMRGInfo, dmrg  # noqa: E402

__all__ += ["DMRGInfo", "dmrg", "phases"]

# black boxes evaluated on an executor (thread/process pool, Dask cluster)
from . import executor  # noqa: E402
from .executor import ChunkError  # noqa: E402

__all__ += ["ChunkError", "executor"]

# conversions to and from quimb, TensorKrowch and teneva (each imported on use)
from . import interop  # noqa: E402

__all__ += ["interop"]
