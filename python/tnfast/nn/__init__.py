"""The PyTorch side of tnfast: MPO layers, model compression and training helpers.

Needs PyTorch (``pip install torch``); ``import tnfast`` alone does not.
"""

from __future__ import annotations

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError("tnfast.nn needs PyTorch, which is not installed: install it with `pip install torch` "
                      "(see https://pytorch.org for CPU/CUDA builds)") from exc

from .compress import compress
from .factorize import bond_caps, choose_modes, factorize, mpo_num_params
from .mpo_layers import MPOConv2d, MPOLinear, merge_cores, mpo_bond_spectra, tt_svd
from .mps_model import MPSModel
from .tensorize import argmax_disagreement, model_function, tensorize
from .training import evaluate, fine_tune, train
from .sweep_trainer import SweepTrainer

__all__ = ["MPOLinear", "MPOConv2d", "compress", "factorize", "choose_modes", "bond_caps", "mpo_num_params",
           "merge_cores", "mpo_bond_spectra", "tt_svd", "train", "evaluate", "fine_tune",
           "MPSModel", "tensorize", "model_function", "argmax_disagreement", "SweepTrainer"]
