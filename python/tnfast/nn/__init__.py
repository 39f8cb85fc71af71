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
from .decompose import decompose_weight, merge_cores, mpo_bond_spectra, tt_svd
from .mpo_layers import MPOConv2d, MPOLinear
from .mps_model import MPSModel
from .tensorize import argmax_disagreement, model_function, tensorize
from .sweep_trainer import SweepTrainer
from .training import distill, evaluate, fine_tune, train

__all__ = ["MPOLinear", "MPOConv2d", "compress", "factorize", "choose_modes", "bond_caps", "mpo_num_params",
           "merge_cores", "mpo_bond_spectra", "decompose_weight", "tt_svd", "train", "evaluate", "fine_tune",
           "MPSModel", "tensorize", "model_function", "argmax_disagreement", "distill", "SweepTrainer"]
