"""Access to the compiled kernels from the torch side: which tensors they serve, under which names."""

from __future__ import annotations

from types import ModuleType

import torch

__all__ = ["SUFFIX", "native_core", "serves"]

SUFFIX = {torch.float32: "f32", torch.float64: "f64"}  # the kernels' name suffix per dtype


def native_core(symbol: str) -> ModuleType | None:
    """The compiled module when it has ``symbol`` (one of the kernels wanted), else None."""
    try:
        from .. import _core
    except ImportError:  # pragma: no cover - the extension is part of the package
        return None
    return _core if hasattr(_core, symbol) else None


def serves(t: torch.Tensor, symbol: str) -> bool:
    """Whether the compiled kernel ``symbol`` serves tensors like ``t`` (CPU, float32 or float64)."""
    return t.device.type == "cpu" and t.dtype in SUFFIX and native_core(symbol) is not None
